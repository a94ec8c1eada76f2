package graph

import (
	"strings"
	"testing"

	"github.com/twostep/twostep/auth/authtest"
)

// TestRowLimit: an operation's lists may hold at most DefaultRowLimit rows,
// counted from each list's first (a literal, a variable or the schema's
// default) whatever alias or fragment hides it; sessions counts a full page.
// The count follows the variables of each request, though the rest of the
// verdict is kept per operation.
func TestRowLimit(t *testing.T) {
	env := newTestEnv(t, HandlerConfig{}, nil)
	token := env.SignIn(t, "ada@example.com", authtest.NextPhone()).AccessToken
	events := func(alias, first string) string {
		if first != "" {
			first = "(first: " + first + ")"
		}
		return alias + ": securityEvents" + first + " { edges { node { id } } } "
	}
	repeat := func(n int, first string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(events("e"+strings.Repeat("x", i), first))
		}
		return b.String()
	}
	byVar := "query($n: Int) { " + repeat(4, "$n") + "}"
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		want  string // the code, "" for answered
	}{
		{"three full pages", "{ " + repeat(3, "100") + "}", nil, ""},
		{"four full pages", "{ " + repeat(4, "100") + "}", nil, errComplexityCode},
		{"first over the cap counts the cap", "{ " + repeat(3, "1000") + "}", nil, ""},
		{"by variable, small", byVar, map[string]any{"n": 20}, ""},
		{"the same operation, by variable, large", byVar, map[string]any{"n": 100}, errComplexityCode},
		{"the same operation, null: the default", byVar, map[string]any{"n": nil}, ""},
		{"a variable's default", "query($n: Int = 100) { " + repeat(4, "$n") + "}", nil, errComplexityCode},
		{"defaults, fifteen", "{ " + repeat(15, "") + "}", nil, ""},
		{"defaults, sixteen", "{ " + repeat(16, "") + "}", nil, errComplexityCode},
		{"sessions counts a page", "{ sessions { id } " + repeat(2, "100") + events("one", "1") + "}", nil, errComplexityCode},
		{"in fragments", "{ ...A ... on Query { " + events("x", "100") + events("y", "100") + "} } fragment A on Query { " + events("a", "100") + events("b", "100") + "}", nil, errComplexityCode},
		{"no lists", "{ me { id } }", nil, ""},
	}
	for _, tt := range tests {
		req := post(tt.query, tt.vars)
		req.Header.Set("Authorization", "Bearer "+token)
		r := env.serve(t, req)
		if r.Code() != tt.want {
			t.Errorf("%s: %s, want code %q", tt.name, r.Body, tt.want)
		}
		if tt.want != "" && len(r.Errors) > 0 && !strings.Contains(r.Errors[0].Message, "more than the limit of 300") {
			t.Errorf("%s: message %q does not name the limit", tt.name, r.Errors[0].Message)
		}
	}
}
