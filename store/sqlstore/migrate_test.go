package sqlstore

import (
	"slices"
	"testing"
)

// TestMigrationsMatch wants every schema version for both dialects, so a
// per-dialect file is never added for one of them only.
func TestMigrationsMatch(t *testing.T) {
	versions := func(dialect string) []int {
		ms, err := migrations(dialect)
		if err != nil {
			t.Fatalf("migrations(%q) = %v", dialect, err)
		}
		var vs []int
		for i, m := range ms {
			if m.version != i+1 {
				t.Errorf("migrations(%q)[%d] = %s, want version %d", dialect, i, m.name, i+1)
			}
			vs = append(vs, m.version)
		}
		return vs
	}
	sqlite, postgres := versions("sqlite"), versions("postgres")
	if len(sqlite) == 0 || !slices.Equal(sqlite, postgres) {
		t.Errorf("migration versions: sqlite %v, postgres %v, want the same", sqlite, postgres)
	}
}

func TestSQLitePath(t *testing.T) {
	tests := []struct {
		url, path, query string
	}{
		{"", "twostep.db", ""},
		{"sqlite:data/twostep.db", "data/twostep.db", ""},
		{"sqlite:///var/lib/twostep.db", "/var/lib/twostep.db", ""},
		{"sqlite://twostep.db", "twostep.db", ""},
		{"file:/tmp/x.db", "/tmp/x.db", ""},
		{"file:///tmp/x.db", "/tmp/x.db", ""},
		{"sqlite:x.db?_pragma=cache_size(-20000)", "x.db", "_pragma=cache_size(-20000)"},
	}
	for _, tt := range tests {
		path, query, err := sqlitePath(tt.url)
		if err != nil || path != tt.path || query != tt.query {
			t.Errorf("sqlitePath(%q) = %q, %q, %v, want %q, %q, nil", tt.url, path, query, err, tt.path, tt.query)
		}
	}
}
