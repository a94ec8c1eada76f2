package graph

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// recorder is an OperationObserver that keeps the last operation, without
// allocating (so allocation counts are the handler's).
type recorder struct {
	mu     sync.Mutex
	calls  int
	fields [4]string
	n      int
	code   string
}

func (r *recorder) Operation(fields []string, code string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.n = copy(r.fields[:], fields)
	r.code = code
}

// take returns the calls since the last take and the last operation.
func (r *recorder) take() (calls int, fields []string, code string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	calls, fields, code = r.calls, slices.Clone(r.fields[:r.n]), r.code
	r.calls, r.n, r.code = 0, 0, ""
	return calls, fields, code
}

func TestOperationObserver(t *testing.T) {
	rec := &recorder{}
	env := newTestEnv(t, HandlerConfig{Observer: rec}, nil)
	ada := env.SignIn(t, "ada@example.com", "+14155550100")
	rec.take()

	login := `login(input: {email: "nobody@example.com", password: "correct horse battery"}) { mfaToken }`
	authed := func(req *http.Request) *http.Request {
		req.Header.Set("Authorization", "Bearer "+ada.AccessToken)
		return req
	}
	rawPost := func(body string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	tests := []struct {
		name   string
		req    *http.Request
		fields []string // nil: the observer is not called
		code   string
	}{
		{"me", authed(post("{ me { id } }", nil)), []string{"me"}, CodeOK},
		{"me without a token", post("{ me { id } }", nil), []string{"me"}, "UNAUTHENTICATED"},
		{"aliases count once, by name", authed(post("query SecretName { a: me { id } b: me { email } }", nil)), []string{"me"}, CodeOK},
		{"several root fields, through fragments", post("{ ...F ... on Query { __typename } } fragment F on Query { me { id } __typename }", nil), []string{"me", "__typename"}, "UNAUTHENTICATED"},
		{"a failed mutation", post("mutation { "+login+" }", nil), []string{"login"}, "INVALID_CREDENTIALS"},
		{"refused by the guard", post("mutation { a: "+login+" b: "+login+" }", nil), []string{"login"}, "GRAPHQL_VALIDATION_FAILED"},
		{"variables refused", post("query($b: Boolean!) { __typename @include(if: $b) }", map[string]any{"b": "x"}), []string{"__typename"}, "GRAPHQL_VALIDATION_FAILED"},
		{"GET mutation", httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape("mutation { "+login+" }"), nil), []string{"login"}, "GRAPHQL_VALIDATION_FAILED"},
		{"unknown field", post("{ attackerChosenName }", nil), []string{InvalidField}, "GRAPHQL_VALIDATION_FAILED"},
		{"unknown operation name", rawPost(`{"query":"query A { __typename }","operationName":"attackerChosenName"}`), []string{InvalidField}, "GRAPHQL_VALIDATION_FAILED"},
		{"parse error", rawPost(`{"query":"{ attackerChosenName"}`), []string{InvalidField}, "GRAPHQL_PARSE_FAILED"},
		{"not JSON", rawPost(`{"query": attackerChosenName`), []string{InvalidField}, "BAD_REQUEST"},
		{"GET malformed query string", httptest.NewRequest(http.MethodGet, "/graphql?query=%zz", nil), []string{InvalidField}, "BAD_REQUEST"},
		{"OPTIONS is not an operation", httptest.NewRequest(http.MethodOptions, "/graphql", nil), nil, ""},
		// What the edge refuses never reaches GraphQL.
		{"PUT", httptest.NewRequest(http.MethodPut, "/graphql", strings.NewReader(`{"query":"{ __typename }"}`)), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.take()
			rr := httptest.NewRecorder()
			env.c.Handler.ServeHTTP(rr, tt.req)
			calls, fields, code := rec.take()
			want := 1
			if tt.fields == nil {
				want = 0
			}
			if calls != want {
				t.Fatalf("%s: observer called %d times, want %d (response %d %s)", tt.name, calls, want, rr.Code, rr.Body)
			}
			if want == 1 && (!slices.Equal(fields, tt.fields) || code != tt.code) {
				t.Errorf("%s: Operation(%q, %q), want Operation(%q, %q) (response %s)", tt.name, fields, code, tt.fields, tt.code, rr.Body)
			}
		})
	}
}

// TestOperationObserverAllocates checks that observing costs an operation
// no allocation: its root fields are worked out once per parsed operation.
func TestOperationObserverAllocates(t *testing.T) {
	if testing.Short() {
		t.Skip("counts allocations")
	}
	allocs := func(cfg HandlerConfig) float64 {
		env := newTestEnv(t, cfg, nil)
		ada := env.SignIn(t, "ada@example.com", "+14155550100")
		body := `{"query":"{ me { id email phone phoneVerified createdAt } }"}`
		serve := func() {
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+ada.AccessToken)
			rr := httptest.NewRecorder()
			env.c.Handler.ServeHTTP(rr, req)
			if rr.Code != http.StatusOK || !strings.Contains(rr.Body.String(), `"me":{`) {
				t.Fatalf("me = %d %s, want 200 with me", rr.Code, rr.Body)
			}
		}
		serve() // parse and judge the operation once
		return testing.AllocsPerRun(200, serve)
	}
	without := allocs(HandlerConfig{})
	with := allocs(HandlerConfig{Observer: &recorder{}})
	if with > without {
		t.Errorf("me allocates %v times with an observer, %v without: want no more", with, without)
	}
}

// BenchmarkServeMe serves me in process, with and without an observer:
// what observing costs the cheapest authenticated operation.
func BenchmarkServeMe(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  HandlerConfig
	}{{"without observer", HandlerConfig{}}, {"with observer", HandlerConfig{Observer: &recorder{}}}} {
		b.Run(bc.name, func(b *testing.B) {
			env := newTestEnv(b, bc.cfg, nil)
			ada := env.SignIn(b, "ada@example.com", "+14155550100")
			body := `{"query":"{ me { id email phone phoneVerified createdAt } }"}`
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+ada.AccessToken)
				rr := httptest.NewRecorder()
				env.c.Handler.ServeHTTP(rr, req)
				if rr.Code != http.StatusOK {
					b.Fatalf("me = %d %s", rr.Code, rr.Body)
				}
			}
		})
	}
}
