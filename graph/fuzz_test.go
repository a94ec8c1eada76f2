package graph

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twostep/twostep/auth"
)

// internals are words that only server internals would put in an error
// message: if one appears that the client did not send, something leaked.
var internals = []string{"sql", "twilio", "goroutine", "panic", "runtime", "json:", "http:", "dial tcp", "constraint", ".go:"}

// FuzzGraphQL posts arbitrary operations and variables to the real handler
// over a real auth.Service. Whatever comes in, the answer is a non-5xx JSON
// GraphQL response with data or errors, every error carries a code, and no
// message carries internals. The seed corpus is in
// testdata/fuzz/FuzzGraphQL/.
func FuzzGraphQL(f *testing.F) {
	// The per-IP limits are off so that the fuzzer reaches the rules behind
	// them; the account and phone limits stay on.
	limits := auth.DefaultLimits()
	limits.RegisterPerIP, limits.LoginPerIP, limits.VerifyPerIP = auth.Limit{}, auth.Limit{}, auth.Limit{}
	env := newTestEnv(f, HandlerConfig{}, &limits)
	f.Fuzz(func(t *testing.T, query, variables string) {
		body := requestBody(query, variables)
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		status, header, raw := env.c.RoundTrip(t, req)

		if status >= 500 {
			t.Fatalf("POST %s = %d %s, want no 5xx", body, status, raw)
		}
		if ct := header.Get("Content-Type"); !strings.Contains(ct, "json") {
			t.Fatalf("POST %s: Content-Type %q, want JSON", body, ct)
		}
		var r struct {
			Data   json.RawMessage `json:"data"`
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("POST %s = %q, not JSON: %v", body, raw, err)
		}
		if len(r.Errors) == 0 && (len(r.Data) == 0 || string(r.Data) == "null") {
			t.Fatalf("POST %s = %s, want data or errors", body, raw)
		}
		sent := strings.ToLower(string(body))
		for _, e := range r.Errors {
			if c, _ := e.Extensions["code"].(string); c == "" {
				t.Fatalf("POST %s: error %q has no extensions.code", body, e.Message)
			}
			msg := strings.ToLower(e.Message)
			for _, w := range internals {
				if strings.Contains(msg, w) && !strings.Contains(sent, w) {
					t.Fatalf("POST %s: error %q leaks internals (%q)", body, e.Message, w)
				}
			}
		}
	})
}

// requestBody builds a POST body: variables go in as JSON when they are
// JSON, and as a JSON string otherwise, which the handler must refuse.
func requestBody(query, variables string) []byte {
	vars, _ := json.Marshal(variables)
	if variables == "" {
		vars = json.RawMessage("null")
	} else if json.Valid([]byte(variables)) {
		vars = json.RawMessage(variables)
	}
	q, _ := json.Marshal(query)
	var b bytes.Buffer
	b.WriteString(`{"query":`)
	b.Write(q)
	b.WriteString(`,"variables":`)
	b.Write(vars)
	b.WriteString(`}`)
	return b.Bytes()
}
