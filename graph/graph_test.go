package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/internal/httpedge"
)

// testEnv is the handler, behind the HTTP edge, over an auth.Service on
// authtest's fakes, spoken to in process by the tests' GraphQL client.
type testEnv struct {
	*authtest.Env
	c   *gqltest.Client
	log *bytes.Buffer
}

func newTestEnv(tb testing.TB, cfg HandlerConfig, limits *auth.Limits) *testEnv {
	tb.Helper()
	var logBuf bytes.Buffer
	log := slog.New(httpedge.LogHandler(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	a := authtest.New(tb, authtest.Options{Limits: limits, Logger: log})
	cfg.Auth = a.Svc
	cfg.Logger = log
	mux := http.NewServeMux()
	mux.Handle("/graphql", NewHandler(cfg))
	h := httpedge.New(httpedge.Options{Logger: log}, mux)
	return &testEnv{Env: a, c: &gqltest.Client{Handler: h}, log: &logBuf}
}

// serve runs req through the handler and decodes the answer, failing if
// it is not JSON.
func (e *testEnv) serve(tb testing.TB, req *http.Request) *gqltest.Response {
	tb.Helper()
	return e.c.Send(tb, req)
}

func post(query string, vars map[string]any) *http.Request {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func TestErrorPresenter(t *testing.T) {
	ctx := httpedge.NewContext(context.Background(), &httpedge.Info{ID: "req-1"})
	tests := []struct {
		name    string
		err     error
		message string
		ext     map[string]any
		logged  string // must be in the log, never in the message
	}{
		{"bad input", &auth.Error{Code: auth.CodeBadUserInput, Field: "email", Message: "Email is too long."},
			"Email is too long.", map[string]any{"code": "BAD_USER_INPUT", "field": "email"}, ""},
		{"bad input without field", &auth.Error{Code: auth.CodeBadUserInput, Message: "Invalid input."},
			"Invalid input.", map[string]any{"code": "BAD_USER_INPUT"}, ""},
		{"email taken", &auth.Error{Code: auth.CodeEmailTaken, Field: "email", Message: "Taken."},
			"Taken.", map[string]any{"code": "EMAIL_TAKEN", "field": "email"}, ""},
		{"phone taken", &auth.Error{Code: auth.CodePhoneTaken, Field: "phone", Message: "Taken."},
			"Taken.", map[string]any{"code": "PHONE_TAKEN", "field": "phone"}, ""},
		{"invalid credentials", &auth.Error{Code: auth.CodeInvalidCredentials, Message: "Email or password is incorrect."},
			"Email or password is incorrect.", map[string]any{"code": "INVALID_CREDENTIALS"}, ""},
		{"invalid otp", &auth.Error{Code: auth.CodeInvalidOTP, Field: "code", AttemptsLeft: 3, Message: "Wrong."},
			"Wrong.", map[string]any{"code": "INVALID_OTP", "field": "code", "attemptsLeft": 3}, ""},
		{"invalid otp, last", &auth.Error{Code: auth.CodeInvalidOTP, AttemptsLeft: 0, Message: "Wrong."},
			"Wrong.", map[string]any{"code": "INVALID_OTP", "field": "code", "attemptsLeft": 0}, ""},
		{"mfa token invalid", &auth.Error{Code: auth.CodeMFATokenInvalid, Message: "Sign in again.", Err: errors.New("store: not found")},
			"Sign in again.", map[string]any{"code": "MFA_TOKEN_INVALID"}, ""},
		{"rate limited rounds up", &auth.Error{Code: auth.CodeRateLimited, RetryAfter: 1500 * time.Millisecond, Message: "Wait."},
			"Wait.", map[string]any{"code": "RATE_LIMITED", "retryAfter": 2}, ""},
		{"rate limited, an hour", &auth.Error{Code: auth.CodeRateLimited, RetryAfter: time.Hour, Message: "Wait."},
			"Wait.", map[string]any{"code": "RATE_LIMITED", "retryAfter": 3600}, ""},
		{"delivery failed", &auth.Error{Code: auth.CodeOTPDeliveryFailed, Message: "Could not send.", Err: errors.New("twilio 60410 fraud")},
			"Could not send.", map[string]any{"code": "OTP_DELIVERY_FAILED"}, ""},
		{"unauthenticated", &auth.Error{Code: auth.CodeUnauthenticated, Message: "Sign in."},
			"Sign in.", map[string]any{"code": "UNAUTHENTICATED"}, ""},
		{"unavailable", &auth.Error{Code: auth.CodeUnavailable, Message: "Try again.", Err: errors.New("dial tcp 10.0.0.5:5432: connection refused")},
			"Try again.", map[string]any{"code": "SERVICE_UNAVAILABLE"}, "connection refused"},
		{"wrapped auth error", fmt.Errorf("resolver: %w", &auth.Error{Code: auth.CodeInvalidCredentials, Message: "No."}),
			"No.", map[string]any{"code": "INVALID_CREDENTIALS"}, ""},
		{"unknown error", errors.New("sqlstore: UNIQUE constraint failed: users.id"),
			"Internal server error.", map[string]any{"code": "INTERNAL_SERVER_ERROR", "requestId": "req-1"}, "UNIQUE constraint failed"},
		{"gqlerror wrapping an unknown error", gqlerror.WrapPath(ast.Path{ast.PathName("me")}, errors.New("pq: relation users does not exist")),
			"Internal server error.", map[string]any{"code": "INTERNAL_SERVER_ERROR", "requestId": "req-1"}, "relation users"},
		{"gqlgen error without code", &gqlerror.Error{Message: "Cannot query field \"x\" on type \"Query\"."},
			"Cannot query field \"x\" on type \"Query\".", map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}, ""},
		{"gqlgen error with code", &gqlerror.Error{Message: "operation has complexity 300, which exceeds the limit of 200", Extensions: map[string]any{"code": "COMPLEXITY_LIMIT_EXCEEDED"}},
			"operation has complexity 300, which exceeds the limit of 200", map[string]any{"code": "COMPLEXITY_LIMIT_EXCEEDED"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logBuf bytes.Buffer
			got := errorPresenter(slog.New(slog.NewTextHandler(&logBuf, nil)))(ctx, tt.err)
			if got.Message != tt.message {
				t.Errorf("present(%v).Message = %q, want %q", tt.err, got.Message, tt.message)
			}
			if !reflect.DeepEqual(got.Extensions, tt.ext) {
				t.Errorf("present(%v).Extensions = %v, want %v", tt.err, got.Extensions, tt.ext)
			}
			if tt.logged != "" {
				if !strings.Contains(logBuf.String(), tt.logged) {
					t.Errorf("log %q lacks the detail %q", logBuf.String(), tt.logged)
				}
				if strings.Contains(got.Message, tt.logged) {
					t.Errorf("message %q shows the detail %q", got.Message, tt.logged)
				}
			}
		})
	}
}

// TestErrorPresenterEveryCode checks that no auth code is lost on the way to
// extensions.code.
func TestErrorPresenterEveryCode(t *testing.T) {
	present := errorPresenter(slog.New(slog.DiscardHandler))
	for _, code := range []auth.Code{
		auth.CodeBadUserInput, auth.CodeEmailTaken, auth.CodePhoneTaken, auth.CodeInvalidCredentials, auth.CodeInvalidOTP,
		auth.CodeMFATokenInvalid, auth.CodeRateLimited, auth.CodeOTPDeliveryFailed,
		auth.CodeUnauthenticated, auth.CodeUnavailable, auth.CodeInternal,
	} {
		got := present(context.Background(), &auth.Error{Code: code, Message: "m"})
		if got.Extensions["code"] != string(code) {
			t.Errorf("present(%s).Extensions = %v, want code %s", code, got.Extensions, code)
		}
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct{ name, header, want string }{
		{"bearer", "Bearer abc.def.ghi", "abc.def.ghi"},
		{"lower-case scheme", "bearer abc", "abc"},
		{"extra spaces", "  Bearer   abc  ", "abc"},
		{"empty", "", ""},
		{"scheme only", "Bearer", ""},
		{"basic", "Basic dXNlcjpwYXNz", ""},
		{"no scheme", "abc.def.ghi", ""},
		{"token scheme", "Token abc", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bearerToken(tt.header); got != tt.want {
				t.Errorf("bearerToken(%q) = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}

func TestWalker(t *testing.T) {
	tests := []struct {
		name       string
		doc        string
		depth      int
		sensitive  int
		introspect bool
	}{
		{"me", `{ me { id } }`, 2, 0, false},
		{"typename", `{ __typename }`, 1, 0, false},
		{"schema", `{ __schema { types { name } } }`, 3, 0, true},
		{"type behind an alias", `{ t: __type(name: "User") { name } }`, 2, 0, true},
		{"schema behind fragments", `{ ... { ...S } } fragment S on Query { __schema { queryType { name } } }`, 3, 0, true},
		{"nested __type is not at the root", `{ me { __typename } }`, 2, 0, false},
		{"verifyOtp", `mutation { verifyOtp(input: {mfaToken: "t", code: "1234"}) { user { id } } }`, 3, 1, false},
		{"aliases", `mutation { a: login(input: {}) { mfaToken } b: login(input: {}) { mfaToken } }`, 2, 2, false},
		{"repeat", `mutation { login(input: {}) { mfaToken } login(input: {}) { mfaToken } }`, 2, 2, false},
		{"mixed", `mutation { register(input: {}) { user { id } } verifyOtp(input: {}) { accessToken } }`, 3, 2, false},
		{"inline fragment", `mutation { ... on Mutation { login(input: {}) { mfaToken } } register(input: {}) { user { id } } }`, 3, 2, false},
		{"nested inline fragments", `mutation { ... { ... on Mutation { login(input: {}) { mfaToken } } } ... { login(input: {}) { mfaToken } } }`, 2, 2, false},
		{"fragment spreads", `mutation { ...A ...B } fragment A on Mutation { login(input: {}) { mfaToken } } fragment B on Mutation { ...C } fragment C on Mutation { x: verifyOtp(input: {}) { user { id } } }`, 3, 2, false},
		{"fragment spread once", `mutation { ...A } fragment A on Mutation { login(input: {}) { mfaToken } }`, 2, 1, false},
		{"unknown fragment", `mutation { ...Missing }`, 0, 0, false},
		{"deep through fragments", `{ me { ...U } } fragment U on User { ... on User { a { b { c { d } } } } }`, 5, 0, false},
		{"nested field named login is not a root mutation", `{ me { login { id } } }`, 3, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: tt.doc})
			if err != nil {
				t.Fatalf("parse %q: %v", tt.doc, err)
			}
			w := walker{fragments: doc.Fragments}
			set := doc.Operations[0].SelectionSet
			if got := w.depth(set, 1); got != tt.depth {
				t.Errorf("depth(%s) = %d, want %d", tt.doc, got, tt.depth)
			}
			if got := w.countSensitive(set); got != tt.sensitive {
				t.Errorf("countSensitive(%s) = %d, want %d", tt.doc, got, tt.sensitive)
			}
			if got := w.introspects(set); got != tt.introspect {
				t.Errorf("introspects(%s) = %v, want %v", tt.doc, got, tt.introspect)
			}
		})
	}
}

const (
	loginQuery    = `mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { mfaToken } }`
	registerQuery = `mutation($e: String!, $p: String!, $ph: String!) { register(input: {email: $e, password: $p, phone: $ph}) { user { id } } }`
)

// TestHandlerRefusals checks the requests that are refused whole: each gets
// a JSON answer whose errors carry a code, and none computes a hash or
// reaches Twilio.
func TestHandlerRefusals(t *testing.T) {
	env := newTestEnv(t, HandlerConfig{}, nil)
	env.serve(t, post(registerQuery, map[string]any{"e": "ada@example.com", "p": "correct horse battery", "ph": "+14155550100"}))

	login := `login(input: {email: "ada@example.com", password: "correct horse battery"}) { mfaToken }`
	rawPost := func(contentType, body string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		return req
	}
	get := func(rawQuery string) *http.Request {
		return httptest.NewRequest(http.MethodGet, "/graphql?"+rawQuery, nil)
	}
	chunked := rawPost("application/json", `{"query":"{ __typename }","variables":{"x":"`+strings.Repeat("a", httpedge.DefaultMaxBodyBytes)+`"}}`)
	chunked.ContentLength = -1 // as a chunked upload: only reading finds the size
	tests := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"PUT", httptest.NewRequest(http.MethodPut, "/graphql", strings.NewReader(`{"query":"{ __typename }"}`)), 405, "BAD_REQUEST"},
		{"DELETE", httptest.NewRequest(http.MethodDelete, "/graphql", nil), 405, "BAD_REQUEST"},
		{"text/plain", rawPost("text/plain", `{"query":"mutation { `+login+` }"}`), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"form", rawPost("application/x-www-form-urlencoded", "query=mutation"), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"no content type", rawPost("", `{"query":"{ __typename }"}`), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"array batch", rawPost("application/json", `[{"query":"mutation { `+login+` }"},{"query":"mutation { `+login+` }"}]`), 400, "BAD_REQUEST"},
		{"not JSON", rawPost("application/json", `{"query": mutation`), 400, "BAD_REQUEST"},
		{"query not a string", rawPost("application/json", `{"query": 5}`), 400, "BAD_REQUEST"},
		{"variables not an object", rawPost("application/json", `{"query":"{ __typename }","variables":"x"}`), 400, "BAD_REQUEST"},
		{"empty body", rawPost("application/json", ``), 400, "BAD_REQUEST"},
		{"oversized, declared", rawPost("application/json", `{"query":"{ __typename }","variables":{"x":"`+strings.Repeat("a", httpedge.DefaultMaxBodyBytes)+`"}}`), 413, "REQUEST_TOO_LARGE"},
		{"oversized, chunked", chunked, 413, "REQUEST_TOO_LARGE"},
		{"GET mutation", get("query=" + url.QueryEscape("mutation { "+login+" }")), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"GET mutation by operation name", get("operationName=M&query=" + url.QueryEscape("query Q { __typename } mutation M { "+login+" }")), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"GET malformed query string", get("query=%zz"), 400, "BAD_REQUEST"},
		{"GET variables not an object", get("query=" + url.QueryEscape("{ __typename }") + "&variables=" + url.QueryEscape("[1]")), 400, "BAD_REQUEST"},
		{"no query", rawPost("application/json", `{}`), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"parse error", rawPost("application/json", `{"query":"mutation {"}`), 422, "GRAPHQL_PARSE_FAILED"},
		{"token flood", rawPost("application/json", `{"query":"{ `+strings.Repeat("__typename ", DefaultTokenLimit)+`}"}`), 422, "GRAPHQL_PARSE_FAILED"},
		{"complexity", post("{ "+aliases("me { id email phone }", 60)+" }", nil), 200, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"aliases", post("mutation { a: "+login+" b: "+login+" }", nil), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"repeat", post("mutation { "+login+" "+login+" }", nil), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"fragments", post("mutation { ...A ... on Mutation { x: "+login+" } } fragment A on Mutation { "+login+" }", nil), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"introspection off", post("{ __schema { types { name } } }", nil), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"introspection off, __type", post(`{ t: __type(name: "User") { name } }`, nil), 422, "GRAPHQL_VALIDATION_FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.OTP.ResetCounts()
			before := env.Hashes.Count()
			r := env.serve(t, tt.req)
			if r.Status != tt.status || r.Code() != tt.code {
				t.Fatalf("%s = %d %s, want %d %s", tt.name, r.Status, r.Body, tt.status, tt.code)
			}
			for _, e := range r.Errors {
				if c, _ := e.Extensions["code"].(string); c == "" {
					t.Errorf("%s: error %q has no code", tt.name, e.Message)
				}
			}
			if strings.Contains(r.Body, "mfaToken\":\"") {
				t.Errorf("%s ran the mutation: %s", tt.name, r.Body)
			}
			if n := env.Hashes.Count() - before; n != 0 {
				t.Errorf("%s computed %d hashes, want 0", tt.name, n)
			}
			if n := env.OTP.Sends() + env.OTP.Checks(); n != 0 {
				t.Errorf("%s sent %d Twilio requests, want 0", tt.name, n)
			}
		})
	}
}

// aliases returns n aliased copies of field.
func aliases(field string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s ", i, field)
	}
	return b.String()
}

func TestHandlerDoesNotEchoBody(t *testing.T) {
	env := newTestEnv(t, HandlerConfig{}, nil)
	const marker = "s3cr3t-password-marker"
	for _, body := range []string{
		`{"query": "{ __typename }", "variables": "` + marker + `"`,
		`[{"query": "` + marker + `"}]`,
		`{"query": ["` + marker + `"]}`,
	} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if r := env.serve(t, req); strings.Contains(r.Body, marker) || strings.Contains(r.Body, "json:") {
			t.Errorf("POST %s = %s, echoes the body or decoder detail", body, r.Body)
		}
	}
}

func TestHandlerServes(t *testing.T) {
	tests := []struct {
		name          string
		introspection bool
		req           func() *http.Request
		want          string // in the body
	}{
		{"GET query", false, func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape("{ __typename }"), nil)
		}, `"__typename":"Query"`},
		{"POST with charset", false, func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
			return req
		}, `"__typename":"Query"`},
		{"POST with an h2c upgrade header", false, func() *http.Request {
			req := post("{ __typename }", nil)
			req.Header.Set("Connection", "Upgrade, HTTP2-Settings")
			req.Header.Set("Upgrade", "h2c")
			return req
		}, `"__typename":"Query"`},
		{"introspection when enabled", true, func() *http.Request {
			return post("{ __schema { queryType { name } } }", nil)
		}, `"name":"Query"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, HandlerConfig{Introspection: tt.introspection}, nil)
			if r := env.serve(t, tt.req()); r.Status != http.StatusOK || !strings.Contains(r.Body, tt.want) {
				t.Fatalf("%s = %d %s, want 200 with %s", tt.name, r.Status, r.Body, tt.want)
			}
		})
	}
}

func TestHandlerDepthAndSuggestions(t *testing.T) {
	env := newTestEnv(t, HandlerConfig{Introspection: true}, nil)
	deep := "{ __schema { types { fields { type " + strings.Repeat("{ ofType ", 20) + "{ name }" + strings.Repeat(" }", 20) + " } } } }"
	tests := []struct {
		name, query, code, notInMessage string
	}{
		{"too deep", deep, "GRAPHQL_VALIDATION_FAILED", ""},
		{"no suggestion for a field", "{ mee { id } }", "GRAPHQL_VALIDATION_FAILED", "Did you mean"},
		{"no suggestion for a sub-field", "{ me { emal } }", "GRAPHQL_VALIDATION_FAILED", "Did you mean"},
		{"no suggestion for an argument", `mutation { login(inptu: {}) { mfaToken } }`, "GRAPHQL_VALIDATION_FAILED", "Did you mean"},
		{"no suggestion for an input field", `mutation { login(input: {emial: "a@b.co", password: "x"}) { mfaToken } }`, "GRAPHQL_VALIDATION_FAILED", "Did you mean"},
		{"no suggestion for a type", `query($x: Strin) { me { id } }`, "GRAPHQL_VALIDATION_FAILED", "Did you mean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.serve(t, post(tt.query, nil))
			if r.Code() != tt.code {
				t.Fatalf("%s = %s, want %s", tt.name, r.Body, tt.code)
			}
			if tt.notInMessage != "" && strings.Contains(r.Body, tt.notInMessage) {
				t.Fatalf("%s = %s, contains %q", tt.name, r.Body, tt.notInMessage)
			}
		})
	}
}

// TestHandlerLogsNoSecrets runs a login through the handler and checks the
// log carries neither the password nor the full phone number.
func TestHandlerLogsNoSecrets(t *testing.T) {
	env := newTestEnv(t, HandlerConfig{}, nil)
	const password, phone = "correct horse battery", "+14155550111"
	env.serve(t, post(registerQuery, map[string]any{"e": "ada@example.com", "p": password, "ph": phone}))
	r := env.serve(t, post(loginQuery, map[string]any{"e": "ada@example.com", "p": password}))
	if r.Code() != "" {
		t.Fatalf("login = %s", r.Body)
	}
	if s := env.log.String(); !strings.Contains(s, "code sent") || strings.Contains(s, password) || strings.Contains(s, phone) {
		t.Fatalf("log lacks the event or leaks a secret:\n%s", s)
	}
}
