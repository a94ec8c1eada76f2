package sqlstore_test

import (
	"testing"
	"time"

	"github.com/twostep/twostep/store"
	"github.com/twostep/twostep/store/sqlstore"
	"github.com/twostep/twostep/store/storetest"
)

// benchDBs runs bench once per dialect, on a fresh database; PostgreSQL
// skips without TEST_DATABASE_URL. bench must time only its b.Loop, as the
// setup before it creates a database.
func benchDBs(b *testing.B, bench func(b *testing.B, db *sqlstore.DB)) {
	for _, d := range []struct {
		name string
		url  func(testing.TB) string
	}{
		{"sqlite", storetest.NewSQLite},
		{"postgres", storetest.NewPostgres},
	} {
		b.Run(d.name, func(b *testing.B) { bench(b, mustOpen(b, d.url(b), sqlstore.Options{})) })
	}
}

func BenchmarkUserByID(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *sqlstore.DB) {
		now := time.Now()
		u := &store.User{ID: "u1", Email: "a@example.com", PasswordHash: "h", Phone: "+15550000001",
			CreatedAt: now, UpdatedAt: now}
		if err := db.CreateUser(b.Context(), u); err != nil {
			b.Fatalf("CreateUser() = %v", err)
		}
		for b.Loop() {
			if _, err := db.UserByID(b.Context(), u.ID); err != nil {
				b.Fatalf("UserByID() = %v", err)
			}
		}
	})
}

func BenchmarkHit(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *sqlstore.DB) {
		now := time.Now()
		for b.Loop() {
			if _, err := db.Hit(b.Context(), "login:a@example.com", time.Minute, now); err != nil {
				b.Fatalf("Hit() = %v", err)
			}
		}
	})
}
