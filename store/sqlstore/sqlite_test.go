package sqlstore_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twostep/twostep/store"
	"github.com/twostep/twostep/store/sqlstore"
	"github.com/twostep/twostep/store/storetest"
)

// mustOpen opens databaseURL and closes it when tb ends.
func mustOpen(tb testing.TB, databaseURL string, opts sqlstore.Options) *sqlstore.DB {
	tb.Helper()
	db, err := sqlstore.Open(tb.Context(), databaseURL, opts)
	if err != nil {
		tb.Fatalf("Open() = %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close() = %v", err)
		}
	})
	return db
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) store.Store {
		db := mustOpen(tb, storetest.NewSQLite(tb), sqlstore.Options{})
		if got := db.Dialect(); got != "sqlite" {
			tb.Fatalf("Dialect() = %q, want sqlite", got)
		}
		return db
	})
}

func TestSQLiteReopen(t *testing.T) {
	url := storetest.NewSQLite(t)
	now := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	u := &store.User{ID: "u1", Email: "a@example.com", PasswordHash: "h", Phone: "+15550000001",
		CreatedAt: now, UpdatedAt: now}

	db, err := sqlstore.Open(t.Context(), url, sqlstore.Options{})
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	if err := db.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser() = %v", err)
	}
	if _, err := db.Hit(t.Context(), "k", time.Hour, now); err != nil {
		t.Fatalf("Hit() = %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	// Reopening runs the migrations again: they must see they are applied.
	db = mustOpen(t, url, sqlstore.Options{})
	got, err := db.UserByEmail(t.Context(), u.Email)
	if err != nil || got.ID != u.ID || !got.CreatedAt.Equal(now) {
		t.Errorf("UserByEmail(%q) after reopen = %+v, %v, want %+v", u.Email, got, err, u)
	}
	if c, err := db.Hit(t.Context(), "k", time.Hour, now); err != nil || c.Count != 2 {
		t.Errorf("Hit(k) after reopen = %+v, %v, want Count 2", c, err)
	}
}

// TestSQLiteConcurrentWriters hammers one file from two handles, as two
// processes would, and wants no "database is locked": writes within a
// handle queue on its one connection, and across handles on busy_timeout.
func TestSQLiteConcurrentWriters(t *testing.T) {
	url := storetest.NewSQLite(t)
	dbs := []*sqlstore.DB{mustOpen(t, url, sqlstore.Options{}), mustOpen(t, url, sqlstore.Options{})}
	ctx := t.Context()
	now := time.Now()
	owner := &store.User{ID: "owner", Email: "owner@example.com", CreatedAt: now, UpdatedAt: now}
	if err := dbs[0].CreateUser(ctx, owner); err != nil {
		t.Fatalf("CreateUser() = %v", err)
	}
	ch := &store.Challenge{ID: "c", TokenHash: []byte("c"), UserID: owner.ID, MaxAttempts: 1 << 20,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := dbs[0].CreateChallenge(ctx, ch); err != nil {
		t.Fatalf("CreateChallenge() = %v", err)
	}

	const goroutines, rounds = 16, 20
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*rounds*3)
	for g := range goroutines {
		db := dbs[g%len(dbs)]
		wg.Go(func() {
			for i := range rounds {
				id := fmt.Sprintf("u-%d-%d", g, i)
				u := &store.User{ID: id, Email: id + "@example.com", CreatedAt: now, UpdatedAt: now}
				errs <- db.CreateUser(ctx, u)
				_, err := db.Hit(ctx, "k", time.Hour, now)
				errs <- err
				_, err = db.CountChallengeAttempt(ctx, ch.ID, now)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent write = %v, want nil", err)
		}
	}
	if c, err := dbs[1].Hit(ctx, "k", time.Hour, now); err != nil || c.Count != goroutines*rounds+1 {
		t.Errorf("Hit(k) = %+v, %v, want Count %d", c, err, goroutines*rounds+1)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name, url string
	}{
		{"unknown scheme", "mysql://root:s3cret@localhost/db"},
		{"no scheme", "root:s3cret@localhost/db"},
		{"empty sqlite path", "sqlite:"},
		{"in-memory sqlite", "sqlite::memory:"},
		{"bad postgres option", "postgres://u:s3cret@127.0.0.1:5432/db?sslmode=bogus"},
		{"password in query", "postgres://u@127.0.0.1:5432/db?password=s3cret&sslmode=bogus"},
		{"postgres unreachable", "postgres://u:s3cret@127.0.0.1:1/db?sslmode=disable"},
		{"sqlite directory missing", "sqlite:" + t.TempDir() + "/missing/dir/twostep.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sqlstore.Open(t.Context(), tt.url, sqlstore.Options{ConnectTimeout: time.Second})
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) = nil error, want one", tt.url)
			}
			msg := err.Error()
			if !strings.Contains(msg, "DATABASE_URL") {
				t.Errorf("Open(%q) = %q, want it to name DATABASE_URL", tt.url, msg)
			}
			if strings.Contains(msg, "s3cret") {
				t.Errorf("Open(%q) = %q: shows the password", tt.url, msg)
			}
		})
	}
	t.Run("unreachable is ErrUnavailable", func(t *testing.T) {
		_, err := sqlstore.Open(t.Context(), "postgres://u@127.0.0.1:1/db?sslmode=disable", sqlstore.Options{})
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Open(unreachable) = %v, want %v", err, store.ErrUnavailable)
		}
	})
}

// TestSQLitePools checks what metrics read: two pools, the writer's of one
// connection and the readers' of MaxOpenConns.
func TestSQLitePools(t *testing.T) {
	db := mustOpen(t, storetest.NewSQLite(t), sqlstore.Options{MaxOpenConns: 3})
	w, r := db.Pools()
	if w == r {
		t.Fatal("Pools() = the same pool twice, want a writer and a reader pool")
	}
	if got := w.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer pool MaxOpenConnections = %d, want 1", got)
	}
	if got := r.Stats().MaxOpenConnections; got != 3 {
		t.Errorf("reader pool MaxOpenConnections = %d, want 3", got)
	}
}
