package graphiql

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestPage: the page names only this server's assets, each of which is
// served, with the policy that forbids anything else.
func TestPage(t *testing.T) {
	h := Handler("twostep", "/graphql")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	body := rec.Body.String()
	if rec.Header().Get("Content-Security-Policy") != CSP || !strings.Contains(body, `name="viewport"`) || !strings.Contains(body, `data-endpoint="/graphql"`) {
		t.Fatalf("GET / = %v\n%s", rec.Header(), body)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(refs) != 6 {
		t.Fatalf("the page loads %d files, want 6 (the icon is empty): %v", len(refs), refs)
	}
	for _, m := range refs {
		if m[1] == "data:," {
			continue
		}
		if !strings.HasPrefix(m[1], Prefix) {
			t.Errorf("the page loads %s, not from %s", m[1], Prefix)
			continue
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, m[1], nil)
		req.Header.Set("Accept-Encoding", "gzip")
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s = %d %v", m[1], rec.Code, rec.Header())
			continue
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(zr)
		if len(plain) == 0 || strings.Contains(string(plain), "sourceMappingURL") {
			t.Errorf("GET %s: %d bytes, or a source map reference", m[1], len(plain))
		}
	}
	for _, bad := range []string{Prefix + "missing.js", Prefix + "../graphiql.go"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, bad, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", bad, rec.Code)
		}
	}
}
