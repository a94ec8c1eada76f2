package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/twostep/twostep/store/storetest"
)

// TestMigrateVerifiedPhones applies migration 5 to a database that already
// holds two accounts that verified the same number (allowed before it):
// the migration must not fail, the one that registered first owns the
// number, and both keep working.
// dialects opens raw connections to fresh databases of each kind, for
// tests that set up data as an older release left it.
var dialects = []struct {
	name string
	url  func(testing.TB) string
	open func(tb testing.TB, url string) *sql.DB
}{
	{"sqlite", storetest.NewSQLite, func(tb testing.TB, url string) *sql.DB {
		db, err := sql.Open("sqlite", url[len("sqlite:"):])
		if err != nil {
			tb.Fatal(err)
		}
		return db
	}},
	{"postgres", storetest.NewPostgres, func(tb testing.TB, url string) *sql.DB {
		db, err := sql.Open("pgx", url) // registered by sqlstore's pgx import
		if err != nil {
			tb.Fatal(err)
		}
		return db
	}},
}

// migrateBefore applies dialect's migrations older than version to raw, as
// the release before it would have.
func migrateBefore(t *testing.T, raw *sql.DB, dialect string, version int) {
	t.Helper()
	ctx := context.Background()
	ms, err := migrations(dialect)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.version >= version {
			break
		}
		if _, err := raw.ExecContext(ctx, m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations VALUES ($1, $2, 0)`, m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMigrateVerifiedPhones(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			url := d.url(t)
			raw := d.open(t, url)
			defer raw.Close()
			ctx := context.Background()
			migrateBefore(t, raw, d.name, 5)
			for i, u := range []struct {
				id       string
				verified bool
			}{{"first", true}, {"second", true}, {"third", false}} {
				if _, err := raw.ExecContext(ctx, `INSERT INTO users (id, email, password_hash, phone, phone_verified, created_at, updated_at)
					VALUES ($1, $2, 'h', '+14155550100', $3, $4, $4)`, u.id, u.id+"@example.com", u.verified, int64(1000+i)); err != nil {
					t.Fatal(err)
				}
			}
			db, err := Open(ctx, url, Options{})
			if err != nil {
				t.Fatalf("Open() over shared verified numbers = %v", err)
			}
			defer db.Close()
			if id, err := db.PhoneOwner(ctx, "+14155550100"); err != nil || id != "first" {
				t.Errorf("PhoneOwner() = %q, %v, want first", id, err)
			}
			for _, id := range []string{"first", "second"} {
				if u, err := db.UserByID(ctx, id); err != nil || !u.PhoneVerified {
					t.Errorf("UserByID(%s) = %+v, %v, want still verified", id, u, err)
				}
			}
		})
	}
}

// TestMigrateLifecycle applies migration 7 (challenge purposes, nullable
// user, the outbox; SQLite rebuilds the table) to a database holding a
// login in flight: the challenge comes through whole, as a login by SMS,
// and can still be completed.
func TestMigrateLifecycle(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			url := d.url(t)
			raw := d.open(t, url)
			defer raw.Close()
			ctx := context.Background()
			migrateBefore(t, raw, d.name, 7)
			for _, q := range []string{
				`INSERT INTO users (id, email, password_hash, phone, phone_verified, created_at, updated_at)
					VALUES ('u1', 'u1@example.com', 'h', '+14155550100', false, 1000, 1000)`,
				`INSERT INTO challenges (id, token_hash, user_id, phone, verification_sid, attempts, max_attempts, created_at, expires_at)
					VALUES ('c1', $1, 'u1', '+14155550100', 'VE1', 2, 5, 1000, 9999999999999)`,
			} {
				var args []any
				if strings.Contains(q, "$1") {
					args = append(args, []byte("hash-of-token"))
				}
				if _, err := raw.ExecContext(ctx, q, args...); err != nil {
					t.Fatal(err)
				}
			}
			db, err := Open(ctx, url, Options{})
			if err != nil {
				t.Fatalf("Open() = %v", err)
			}
			defer db.Close()
			c, err := db.ChallengeByTokenHash(ctx, []byte("hash-of-token"))
			if err != nil || c.ID != "c1" || c.UserID != "u1" || c.Purpose != "login" || c.Channel != "sms" ||
				c.VerificationSID != "VE1" || c.Attempts != 2 || c.MaxAttempts != 5 {
				t.Fatalf("the challenge after migration 7 = %+v, %v", c, err)
			}
			if err := db.CompleteChallenge(ctx, "c1", time.UnixMilli(2000), nil); err != nil {
				t.Errorf("CompleteChallenge() after migration 7 = %v", err)
			}
		})
	}
}
