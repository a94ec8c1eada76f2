package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/introspection"

	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/internal/graphiql"
	"github.com/twostep/twostep/internal/httpedge"
)

// TestHTTPSurface checks what the server answers at the HTTP level: health,
// readiness, security headers on every route, the CSRF-safe transports and
// their coded refusals, GraphiQL in development, and CORS.
func TestHTTPSurface(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Options{})

	t.Run("healthz and readyz", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz"} {
			status, h, body := get(t, srv, p)
			if status != http.StatusOK || body != `{"status":"ok"}` || h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-store" {
				t.Errorf("GET %s = %d %s (%v), want 200 ok as uncached JSON", p, status, body, h)
			}
		}
	})
	t.Run("security headers on every route", func(t *testing.T) {
		want := map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "no-referrer",
			"X-Frame-Options":        "DENY",
		}
		for _, path := range []string{"/graphql?query=%7B__typename%7D", "/healthz", "/readyz", "/nope", "/"} {
			_, h, _ := get(t, srv, path)
			for k, v := range want {
				if got := h.Get(k); got != v {
					t.Errorf("GET %s: %s = %q, want %q", path, k, got, v)
				}
			}
			csp := httpedge.ContentSecurityPolicy()
			if path == "/" { // GraphiQL: its own files only, inline styles
				csp = graphiql.CSP
			}
			if got := h.Get("Content-Security-Policy"); got != csp {
				t.Errorf("GET %s: Content-Security-Policy = %q, want %q", path, got, csp)
			}
			if id := h.Get("X-Request-Id"); len(id) != 16 {
				t.Errorf("GET %s: X-Request-Id = %q, want 16 hex digits", path, id)
			}
		}
		if r := srv.Post(t, `{ __typename }`, nil); r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("POST /graphql headers = %v, want the security headers and no-store", r.Header)
		}
	})
	t.Run("GraphiQL in development", func(t *testing.T) {
		status, _, body := get(t, srv, "/")
		if status != http.StatusOK || !strings.Contains(body, graphiql.Prefix+"graphiql.min.js") || strings.Contains(body, "https://") {
			t.Errorf("GET / = %d %s, want the GraphiQL page with nothing from elsewhere", status, body)
		}
		if status, h, _ := get(t, srv, graphiql.Prefix+"graphiql.min.js"); status != http.StatusOK || !strings.Contains(h.Get("Cache-Control"), "immutable") {
			t.Errorf("GET GraphiQL's script = %d %v", status, h)
		}
	})
	t.Run("GET runs queries", func(t *testing.T) {
		r := srv.Client.Send(t, srv.Client.NewRequest(t, http.MethodGet, "/graphql?query="+url.QueryEscape("{ __typename }"), nil))
		if r.Status != http.StatusOK || string(r.Data["__typename"]) != `"Query"` {
			t.Errorf("GET query = %d %s", r.Status, r.Body)
		}
	})
	post := func(contentType, body string) *http.Request {
		req := srv.Client.NewRequest(t, http.MethodPost, "/graphql", []byte(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		return req
	}
	query := `{"query":"{ __typename }"}`
	refused := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"GET mutation", srv.Client.NewRequest(t, http.MethodGet, "/graphql?query="+url.QueryEscape(`mutation { login(input: {email: "a@example.com", password: "whatever1"}) { mfaToken } }`), nil), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"text/plain", post("text/plain", query), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"form", post("application/x-www-form-urlencoded", `query=%7B__typename%7D`), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"multipart", post("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--\r\n"), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"no content type", post("", query), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"array batch", post("application/json", "["+query+","+query+"]"), 400, "BAD_REQUEST"},
		{"malformed JSON", post("application/json", `{"query": {`), 400, "BAD_REQUEST"},
		{"oversized body", post("application/json", `{"query":"{ __typename }","variables":{"x":"`+strings.Repeat("a", 64<<10)+`"}}`), 413, "REQUEST_TOO_LARGE"},
		{"PUT", srv.Client.NewRequest(t, http.MethodPut, "/graphql", []byte(query)), 405, "BAD_REQUEST"},
		{"DELETE", srv.Client.NewRequest(t, http.MethodDelete, "/graphql", nil), 405, "BAD_REQUEST"},
	}
	for _, tt := range refused {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			srv.Emu.ResetRequests()
			r := srv.Client.Send(t, tt.req)
			if r.Status != tt.status || r.Code() != tt.code || len(r.Data) > 0 {
				t.Errorf("%s = %d %s, want %d %s and no data", tt.name, r.Status, r.Body, tt.status, tt.code)
			}
			if tt.status == http.StatusMethodNotAllowed && r.Header.Get("Allow") != "GET, POST, OPTIONS" {
				t.Errorf("%s: Allow = %q, want GET, POST, OPTIONS", tt.name, r.Header.Get("Allow"))
			}
			if n := len(srv.Emu.Requests()); n != 0 {
				t.Errorf("%s made %d Twilio requests, want 0", tt.name, n)
			}
		})
	}
	t.Run("GraphiQL's introspection query fits the limits", func(t *testing.T) {
		var schema struct {
			QueryType struct{ Name string } `json:"queryType"`
		}
		srv.Post(t, introspection.Query, nil).Decode(t, "__schema", &schema)
		if schema.QueryType.Name != "Query" {
			t.Fatalf("introspection queryType = %q, want Query", schema.QueryType.Name)
		}
	})
	t.Run("no suggestions", func(t *testing.T) {
		r := srv.Post(t, `{ mee { id } }`, nil)
		if r.Code() != "GRAPHQL_VALIDATION_FAILED" || strings.Contains(r.Errors[0].Message, "Did you mean") {
			t.Fatalf("typo = %s, want GRAPHQL_VALIDATION_FAILED without a suggestion", r.Body)
		}
	})
	t.Run("every error has a code", func(t *testing.T) {
		for _, q := range []string{`{`, `{ me { nope } }`, `query($x: Int!) { me { id } }`} {
			r := srv.Post(t, q, nil)
			for _, e := range r.Errors {
				if e.Code() == "" {
					t.Errorf("%q: error %q has no code", q, e.Message)
				}
			}
			if len(r.Errors) == 0 {
				t.Errorf("%q = %s, want errors", q, r.Body)
			}
		}
	})
}

// TestCORSSetting checks preflights with the default origins and with
// CORS_ALLOWED_ORIGINS.
func TestCORSSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		allowed []string
		refused []string
	}{
		{"default: local development origins", nil, []string{"http://localhost:5173", "http://127.0.0.1:3000"}, []string{"https://evil.example", "https://app.example"}},
		{"CORS_ALLOWED_ORIGINS", map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example"}, []string{"https://app.example"}, []string{"http://localhost:5173", "https://evil.example"}},
		{"production default: none", apptest.Production(), nil, []string{"http://localhost:5173", "http://127.0.0.1:3000", "https://app.example"}},
		{"production, CORS_ALLOWED_ORIGINS", withEnv(apptest.Production(), "CORS_ALLOWED_ORIGINS", "https://app.example"), []string{"https://app.example"}, []string{"http://localhost:5173"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := apptest.Start(t, apptest.Options{Env: tt.env})
			if said := strings.Contains(srv.Logs(), "CORS_ALLOWED_ORIGINS unset"); said != (tt.name == "production default: none") {
				t.Errorf("start-up log says CORS_ALLOWED_ORIGINS is unset: %v, want it only in production without it", said)
			}
			preflight := func(origin string) string {
				req := srv.Client.NewRequest(t, http.MethodOptions, "/graphql", nil)
				req.Header.Set("Origin", origin)
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
				_, h, _ := srv.Client.RoundTrip(t, req)
				return h.Get("Access-Control-Allow-Origin")
			}
			for _, o := range tt.allowed {
				if got := preflight(o); got != o {
					t.Errorf("preflight from %s: Access-Control-Allow-Origin %q, want it allowed", o, got)
				}
			}
			for _, o := range tt.refused {
				if got := preflight(o); got != "" {
					t.Errorf("preflight from %s: Access-Control-Allow-Origin %q, want none", o, got)
				}
			}
		})
	}
}

// TestWebApp checks WEB_DIR: the built client at /app/, client-side routes,
// cache headers, and / sending production visitors there.
func TestWebApp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"index.html":       "<!doctype html><title>twostep</title>",
		"assets/app-1.js":  "console.log(1)",
		"assets/app-1.css": "body{}",
		".env":             "SECRET=1",
		".git/config":      "[core]",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Links: to a dotfile, and out of the folder, are not served; one to
	// a file of the app is.
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("SECRET=2"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"envlink.txt":     filepath.Join(dir, ".env"),
		"assets/link.js":  filepath.Join(outside, "secret.txt"),
		"assets/dirlink":  outside,
		"assets/alias.js": filepath.Join(dir, "assets", "app-1.js"),
	} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	srv := apptest.Start(t, apptest.Options{Env: map[string]string{"WEB_DIR": dir}})
	if !strings.Contains(srv.Logs(), "web client served at /app/") {
		t.Errorf("the start-up log does not say the web client is served at /app/:\n%s", srv.Logs())
	}
	tests := []struct {
		path, wantBody, wantCache string
		wantStatus                int
	}{
		{"/app/", "<title>twostep", "no-cache", 200},
		{"/app/login", "<title>twostep", "no-cache", 200},
		{"/app/verify/deep", "<title>twostep", "no-cache", 200},
		{"/app/assets/app-1.js", "console.log", "immutable", 200},
		{"/app/assets/old-hash.js", "", "", 404},
		{"/app/../server.go", "", "", 404},
		// Files only: no listing of a folder (a client route's page
		// instead), no dotfiles.
		{"/app/assets/", "<title>twostep", "no-cache", 200},
		{"/app/assets", "<title>twostep", "no-cache", 200},
		{"/app/.env", "", "", 404},
		{"/app/.git/config", "", "", 404},
		{"/app/envlink.txt", "", "", 404},
		{"/app/assets/link.js", "", "", 404},
		{"/app/assets/dirlink/secret.txt", "", "", 404},
		{"/app/assets/alias.js", "console.log", "immutable", 200},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			status, h, body := get(t, srv, tt.path)
			if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) || !strings.Contains(h.Get("Cache-Control"), tt.wantCache) ||
				strings.Contains(body, "app-1.js") || strings.Contains(body, "SECRET") || strings.Contains(body, "[core]") {
				t.Errorf("GET %s = %d %q (Cache-Control %q), want %d with %q and %q", tt.path, status, body, h.Get("Cache-Control"), tt.wantStatus, tt.wantBody, tt.wantCache)
			}
			if got := h.Get("Content-Security-Policy"); got != httpedge.ContentSecurityPolicy() {
				t.Errorf("GET %s: Content-Security-Policy = %q, want the edge's", tt.path, got)
			}
		})
	}

	env := apptest.Production()
	env["WEB_DIR"] = dir
	prod := apptest.Start(t, apptest.Options{Env: env})
	noRedirect := &gqltest.Client{URL: prod.URL, HTTP: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	status, h, _ := noRedirect.RoundTrip(t, noRedirect.NewRequest(t, http.MethodGet, "/", nil))
	if status != http.StatusFound || h.Get("Location") != "/app/" {
		t.Errorf("GET / in production = %d to %q, want 302 to /app/", status, h.Get("Location"))
	}
}

// TestProduction checks what APP_ENV=production turns off: GraphiQL,
// introspection (refused as invalid, like any unknown field) and
// suggestions; and that it logs JSON.
func TestProduction(t *testing.T) {
	t.Parallel()
	env := apptest.Production()
	env["WEB_DIR"] = t.TempDir()
	srv := apptest.Start(t, apptest.Options{Env: env})
	for _, path := range []string{"/", graphiql.Prefix + "graphiql.min.js"} {
		if status, _, _ := get(t, srv, path); status != http.StatusNotFound {
			t.Errorf("GET %s in production without a web app = %d, want 404 (no GraphiQL)", path, status)
		}
	}
	tests := []struct{ name, query string }{
		{"__schema", `{ __schema { types { name } } }`},
		{"__type", `{ __type(name: "User") { fields { name } } }`},
		{"__schema behind a fragment", `{ ...F } fragment F on Query { s: __schema { queryType { name } } }`},
		{"GraphiQL's introspection query", introspection.Query},
		{"typo in a field", `{ mee { id } }`},
		{"typo in an argument", `mutation { login(inptu: {email: "a@b.co", password: "x"}) { mfaToken } }`},
		{"typo in an input field", `mutation { login(input: {emial: "a@b.co", password: "x"}) { mfaToken } }`},
		{"typo in a type", `query($x: Strng) { me { id } }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := srv.Do(t, gqltest.Op{Query: tt.query})
			if r.Status != 422 || r.Code() != "GRAPHQL_VALIDATION_FAILED" || len(r.Data) > 0 {
				t.Fatalf("%s in production = %d %s, want 422 GRAPHQL_VALIDATION_FAILED without data", tt.name, r.Status, r.Body)
			}
			if strings.Contains(r.Body, "Did you mean") {
				t.Fatalf("%s: %s suggests", tt.name, r.Body)
			}
		})
	}
	logs := srv.Logs()
	if strings.Contains(logs, "internal error") {
		t.Errorf("introspection probes were logged as internal errors:\n%s", logs)
	}
	if !strings.Contains(logs, `"msg":"listening"`) {
		t.Errorf("production log is not JSON:\n%s", logs)
	}
}

// TestStartupLog: start-up says where the web client is (or how to build
// it), the store, how codes are sent and where it listens; in development
// a browser origin that CORS refuses is logged once, with the variable to
// set, and Vite's fallback ports are allowed by default.
func TestStartupLog(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Options{Dev: true, Env: map[string]string{"WEB_DIR": t.TempDir()}})
	for _, origin := range []string{"http://evil.example", "http://evil.example", "http://localhost:5174", "http://127.0.0.1:4173"} {
		req := srv.Client.NewRequest(t, http.MethodPost, "/graphql", gqltest.Body(`{ __typename }`, nil))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		_, h, _ := srv.Client.RoundTrip(t, req)
		if allowed := h.Get("Access-Control-Allow-Origin") == origin; allowed == (origin == "http://evil.example") {
			t.Errorf("origin %s allowed: %v", origin, allowed)
		}
	}
	logs := srv.Logs()
	for _, want := range []string{"web client not served", "cd web && npm ci && npm run build", "store open", "one-time codes are printed", "listening"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the start-up log lacks %q", want)
		}
	}
	if n := strings.Count(logs, "refused by CORS"); n != 1 || !strings.Contains(logs, "CORS_ALLOWED_ORIGINS") {
		t.Errorf("a refused origin was logged %d times, want once naming CORS_ALLOWED_ORIGINS", n)
	}
	// apptest's Twilio is the emulator, at TWILIO_API_URL.
	if twilio := apptest.Start(t, apptest.Options{}); !strings.Contains(twilio.Logs(), "Twilio requests go to it") || strings.Contains(twilio.Logs(), "one-time codes are printed") {
		t.Errorf("with Twilio configured at TWILIO_API_URL, the start-up log does not say where codes go:\n%s", twilio.Logs())
	}
}

// withEnv returns env with name set to value.
func withEnv(env map[string]string, name, value string) map[string]string {
	env[name] = value
	return env
}
