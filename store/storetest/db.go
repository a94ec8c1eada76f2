package storetest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// NewSQLite returns the DATABASE_URL of a SQLite file in a fresh temporary
// directory, removed when tb ends.
func NewSQLite(tb testing.TB) string {
	tb.Helper()
	return "sqlite:" + filepath.Join(tb.TempDir(), "twostep.db")
}

// NewPostgres returns the DATABASE_URL of a fresh, empty PostgreSQL database
// created on the server named by TEST_DATABASE_URL and dropped when tb ends,
// so tests never see each other's rows. It skips tb if TEST_DATABASE_URL is
// not set.
func NewPostgres(tb testing.TB) string {
	tb.Helper()
	SkipWithoutPostgres(tb)
	admin := os.Getenv("TEST_DATABASE_URL")
	u, err := url.Parse(admin)
	if err != nil {
		// Not %v: the URL may hold a password.
		tb.Fatal("TEST_DATABASE_URL is not a URL like postgres://user@host:5432/db")
	}

	// rand.Text is base32; lower-cased it needs no quoting.
	name := "twostep_test_" + strings.ToLower(rand.Text()[:16])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	exec(ctx, tb, admin, "CREATE DATABASE "+name)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE ends connections a failed test may have leaked.
		exec(ctx, tb, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})

	u.Path = "/" + name
	return u.String()
}

// SkipWithoutPostgres skips tb if TEST_DATABASE_URL is not set, so a test
// made of many NewPostgres subtests skips once, not once each.
func SkipWithoutPostgres(tb testing.TB) {
	tb.Helper()
	if os.Getenv("TEST_DATABASE_URL") == "" {
		tb.Skip("TEST_DATABASE_URL not set: skipping PostgreSQL tests")
	}
}

// exec runs one statement on its own connection to the admin database.
func exec(ctx context.Context, tb testing.TB, databaseURL, sql string) {
	tb.Helper()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		tb.Fatalf("connect to TEST_DATABASE_URL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// QueryPostgres returns the first column, an integer, of every row that
// query returns on databaseURL, for checks beyond the Store interface.
func QueryPostgres(tb testing.TB, databaseURL, query string) []int64 {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), databaseURL)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	defer conn.Close(tb.Context())
	rows, err := conn.Query(tb.Context(), query)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	vals, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return vals
}
