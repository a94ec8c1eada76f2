package sqlstore_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/twostep/twostep/store"
	"github.com/twostep/twostep/store/sqlstore"
	"github.com/twostep/twostep/store/storetest"
)

func TestPostgres(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	storetest.Run(t, func(tb testing.TB) store.Store {
		db := mustOpen(tb, storetest.NewPostgres(tb), sqlstore.Options{})
		if got := db.Dialect(); got != "postgres" {
			tb.Fatalf("Dialect() = %q, want postgres", got)
		}
		return db
	})
}

// TestPostgresPools checks that PostgreSQL reads and writes share one pool.
func TestPostgresPools(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	db := mustOpen(t, storetest.NewPostgres(t), sqlstore.Options{MaxOpenConns: 7})
	w, r := db.Pools()
	if w != r {
		t.Fatal("Pools() = two pools, want one shared by reads and writes")
	}
	if got := w.Stats().MaxOpenConnections; got != 7 {
		t.Errorf("pool MaxOpenConnections = %d, want 7", got)
	}
}

// TestPostgresConcurrentOpen starts replicas at once on an empty database:
// the advisory lock must let exactly one of them create the schema.
func TestPostgresConcurrentOpen(t *testing.T) {
	dbURL := storetest.NewPostgres(t)
	const replicas = 4
	dbs := make([]*sqlstore.DB, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { dbs[i], errs[i] = sqlstore.Open(t.Context(), dbURL, sqlstore.Options{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open() replica %d = %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	for i, db := range dbs {
		if err := db.Ping(t.Context()); err != nil {
			t.Errorf("Ping() replica %d = %v", i, err)
		}
	}

	// The migrations table is not part of the Store, so read it directly.
	rows := storetest.QueryPostgres(t, dbURL, "SELECT version FROM schema_migrations ORDER BY version")
	for i, v := range rows {
		if v != int64(i+1) {
			t.Fatalf("schema_migrations versions = %v, want 1..n each once", rows)
		}
	}
	if len(rows) == 0 {
		t.Fatalf("schema_migrations is empty")
	}
}

// TestPostgresOutage cuts the network between the store and PostgreSQL and
// restores it: while cut, calls must fail fast with ErrUnavailable; once
// restored, the same DB must work again without being reopened.
func TestPostgresOutage(t *testing.T) {
	dbURL := storetest.NewPostgres(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := storetest.NewProxy(t, u.Host)
	db := mustOpen(t, p.URL(dbURL), sqlstore.Options{ConnectTimeout: time.Second})
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping() before outage = %v", err)
	}

	check := func(phase string, timeout time.Duration) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		start := time.Now()
		err := db.Ping(ctx)
		took := time.Since(start)
		t.Logf("Ping() %s = %v after %v", phase, err, took)
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Ping() %s = %v, want %v", phase, err, store.ErrUnavailable)
		}
		// Fast: well before the context would have given up on its own,
		// except where the context is the only thing that can notice.
		if took > timeout+time.Second {
			t.Errorf("Ping() %s took %v, want at most %v", phase, took, timeout)
		}
	}

	p.Cut()
	check("with PostgreSQL refusing connections", 3*time.Second)
	if _, err := db.UserByID(t.Context(), "u1"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("UserByID() with PostgreSQL down = %v, want %v", err, store.ErrUnavailable)
	}
	p.Restore()
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping() after restore = %v, want nil", err)
	}

	p.Stall()
	check("with PostgreSQL not answering", 500*time.Millisecond)
	p.Restore()
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping() after second restore = %v, want nil", err)
	}

	p.Freeze()
	check("with the network dropping everything", 500*time.Millisecond)
	p.Restore()
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping() after third restore = %v, want nil", err)
	}
	if _, err := db.UserByID(t.Context(), "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByID() after restore = %v, want %v", err, store.ErrNotFound)
	}
}
