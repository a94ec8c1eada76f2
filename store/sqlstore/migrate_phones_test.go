package sqlstore

import (
	"context"
	"database/sql"
	"testing"

	"github.com/twostep/twostep/store/storetest"
)

// TestMigrateVerifiedPhones applies migration 5 to a database that already
// holds two accounts that verified the same number (allowed before it):
// the migration must not fail, the one that registered first owns the
// number, and both keep working.
func TestMigrateVerifiedPhones(t *testing.T) {
	for _, d := range []struct {
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
	} {
		t.Run(d.name, func(t *testing.T) {
			url := d.url(t)
			raw := d.open(t, url)
			defer raw.Close()
			ctx := context.Background()
			ms, err := migrations(d.name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := raw.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if m.version >= 5 {
					break
				}
				if _, err := raw.ExecContext(ctx, m.sql); err != nil {
					t.Fatalf("%s: %v", m.name, err)
				}
				if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations VALUES ($1, $2, 0)`, m.version, m.name); err != nil {
					t.Fatal(err)
				}
			}
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
