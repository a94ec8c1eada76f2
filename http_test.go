package main

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/introspection"

	"github.com/twostep/twostep/twilioverify/emulator"
)

// TestHTTPSurface checks what the server answers at the HTTP level: health,
// readiness, CSRF-safe transports, batching and the operation guard.
func TestHTTPSurface(t *testing.T) {
	emu, emuURL := newEmulator(t, emulator.Options{})
	srv := startServer(t, withEmulator(baseEnv(t), emuURL))

	get := func(t *testing.T, path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	post := func(t *testing.T, contentType, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/graphql", contentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	t.Run("healthz and readyz", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz"} {
			if code, body := get(t, p); code != http.StatusOK || !strings.Contains(body, `"ok"`) {
				t.Errorf("GET %s = %d %s, want 200 ok", p, code, body)
			}
		}
	})
	t.Run("playground in development", func(t *testing.T) {
		if code, body := get(t, "/"); code != http.StatusOK || !strings.Contains(strings.ToLower(body), "graphiql") {
			t.Errorf("GET / = %d, want the GraphiQL page", code)
		}
	})
	t.Run("GET runs queries", func(t *testing.T) {
		code, body := get(t, "/graphql?query="+url.QueryEscape("{ __typename }"))
		if code != http.StatusOK || !strings.Contains(body, `"Query"`) {
			t.Errorf("GET query = %d %s", code, body)
		}
	})
	t.Run("GET never runs a mutation", func(t *testing.T) {
		emu.ResetRequests()
		q := `mutation { login(input: {email: "a@example.com", password: "whatever1"}) { mfaToken } }`
		code, body := get(t, "/graphql?query="+url.QueryEscape(q))
		if code == http.StatusOK && !strings.Contains(body, "errors") {
			t.Errorf("GET mutation = %d %s, want refused", code, body)
		}
		if strings.Contains(body, "mfaToken\":\"") {
			t.Errorf("GET mutation ran: %s", body)
		}
	})
	refused := []struct {
		name, contentType, body string
	}{
		{"text/plain", "text/plain", `{"query":"{ __typename }"}`},
		{"form", "application/x-www-form-urlencoded", `query=%7B__typename%7D`},
		{"multipart", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--\r\n"},
		{"array batch", "application/json", `[{"query":"{ __typename }"},{"query":"{ __typename }"}]`},
		{"oversized body", "application/json", `{"query":"{ __typename }","variables":{"x":"` + strings.Repeat("a", 64<<10) + `"}}`}, // 413
	}
	for _, tt := range refused {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			code, body := post(t, tt.contentType, tt.body)
			if code == http.StatusOK || !strings.Contains(body, "errors") || strings.Contains(body, `"__typename":"Query"`) {
				t.Errorf("POST %s = %d %s, want refused", tt.name, code, body)
			}
		})
	}
	guarded := []struct{ name, query string }{
		{"aliases", `mutation { a: login(input: {email: "a@example.com", password: "whatever1"}) { mfaToken } b: login(input: {email: "b@example.com", password: "whatever1"}) { mfaToken } }`},
		{"mixed", `mutation { register(input: {email: "a@example.com", password: "whatever1", phone: "+14155550100"}) { user { id } } login(input: {email: "a@example.com", password: "whatever1"}) { mfaToken } }`},
		{"fragments", `mutation { ...A ...B } fragment A on Mutation { login(input: {email: "a@example.com", password: "whatever1"}) { mfaToken } } fragment B on Mutation { verifyOtp(input: {mfaToken: "x", code: "123456"}) { accessToken } }`},
	}
	for _, tt := range guarded {
		t.Run("one sensitive mutation: "+tt.name, func(t *testing.T) {
			emu.ResetRequests()
			r := gql(t, srv.URL, "", tt.query, nil)
			if r.code() != "GRAPHQL_VALIDATION_FAILED" || len(r.Data) > 0 && string(r.Data["login"]) != "" {
				t.Fatalf("%s = %+v, want refused whole", tt.name, r.Errors)
			}
			if n := len(emu.Requests()); n != 0 {
				t.Fatalf("%s sent %d Twilio requests, want 0", tt.name, n)
			}
		})
	}
	t.Run("GraphiQL's introspection query fits the limits", func(t *testing.T) {
		var schema struct {
			QueryType struct{ Name string } `json:"queryType"`
		}
		gql(t, srv.URL, "", introspection.Query, nil).field(t, "__schema", &schema)
		if schema.QueryType.Name != "Query" {
			t.Fatalf("introspection queryType = %q, want Query", schema.QueryType.Name)
		}
	})
	t.Run("no suggestions", func(t *testing.T) {
		r := gql(t, srv.URL, "", `{ mee { id } }`, nil)
		if len(r.Errors) == 0 || strings.Contains(r.Errors[0].Message, "Did you mean") {
			t.Fatalf("typo errors = %+v, want no suggestion", r.Errors)
		}
	})
	t.Run("every error has a code", func(t *testing.T) {
		for _, q := range []string{`{`, `{ me { nope } }`, `query($x: Int!) { me { id } }`} {
			r := gql(t, srv.URL, "", q, nil)
			if len(r.Errors) == 0 || r.code() == "" {
				t.Errorf("%q errors = %+v, want a code", q, r.Errors)
			}
		}
	})
	t.Run("CORS allows the dev origin only", func(t *testing.T) {
		for origin, want := range map[string]string{"http://localhost:5173": "http://localhost:5173", "https://evil.example": ""} {
			req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/graphql", nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
				t.Errorf("preflight from %s: allow-origin %q, want %q", origin, got, want)
			}
		}
	})
}

func TestWebApp(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"index.html":       "<!doctype html><title>twostep</title>",
		"assets/app-1.js":  "console.log(1)",
		"assets/app-1.css": "body{}",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := baseEnv(t)
	env["WEB_DIR"] = dir
	srv := startServer(t, env)
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
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(b), tt.wantBody) || !strings.Contains(resp.Header.Get("Cache-Control"), tt.wantCache) {
				t.Errorf("GET %s = %d %q (Cache-Control %q), want %d with %q and %q", tt.path, resp.StatusCode, b, resp.Header.Get("Cache-Control"), tt.wantStatus, tt.wantBody, tt.wantCache)
			}
		})
	}
}
