package sqlstore

import (
	"net/url"
	"testing"
	"time"

	"github.com/twostep/twostep/store/storetest"
)

// TestSQLiteSettings checks the pragmas each pool runs with: they are what
// keeps concurrent writers from failing with "database is locked".
func TestSQLiteSettings(t *testing.T) {
	db, err := Open(t.Context(), storetest.NewSQLite(t), Options{StatementTimeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	defer db.Close()
	tests := []struct {
		pool  string
		query string
		want  string
	}{
		{"writer", "PRAGMA journal_mode", "wal"},
		{"writer", "PRAGMA busy_timeout", "2000"},
		{"writer", "PRAGMA foreign_keys", "1"},
		{"writer", "PRAGMA synchronous", "1"}, // NORMAL
		{"writer", "PRAGMA query_only", "0"},
		{"reader", "PRAGMA busy_timeout", "2000"},
		{"reader", "PRAGMA query_only", "1"},
	}
	for _, tt := range tests {
		pool := db.w
		if tt.pool == "reader" {
			pool = db.r
		}
		var got string
		if err := pool.QueryRowContext(t.Context(), tt.query).Scan(&got); err != nil || got != tt.want {
			t.Errorf("%s: %s = %q, %v, want %q", tt.pool, tt.query, got, err, tt.want)
		}
	}
}

// TestPostgresSettings checks which timeout wins: Options over
// DATABASE_URL over the default.
func TestPostgresSettings(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	dbURL := storetest.NewPostgres(t)
	tests := []struct {
		name  string
		param string // statement_timeout in DATABASE_URL
		opts  Options
		want  string
	}{
		{"default", "", Options{}, "5s"},
		{"from DATABASE_URL", "3000", Options{}, "3s"},
		{"Options over DATABASE_URL", "3000", Options{StatementTimeout: 1500 * time.Millisecond}, "1500ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(dbURL)
			if err != nil {
				t.Fatal(err)
			}
			if tt.param != "" {
				q := u.Query()
				q.Set("statement_timeout", tt.param)
				u.RawQuery = q.Encode()
			}
			db, err := Open(t.Context(), u.String(), tt.opts)
			if err != nil {
				t.Fatalf("Open() = %v", err)
			}
			defer db.Close()
			var got, app string
			err = db.w.QueryRowContext(t.Context(), "SELECT current_setting('statement_timeout'), current_setting('application_name')").Scan(&got, &app)
			if err != nil || got != tt.want || app != "twostep" {
				t.Errorf("statement_timeout, application_name = %q, %q, %v, want %q, twostep", got, app, err, tt.want)
			}
		})
	}
}
