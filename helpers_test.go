package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/store/storetest"
)

// The tests of this package start the whole server with apptest.Start, as
// main does, and speak to it over HTTP with gqltest. Rules are proven in
// their packages on a fake clock (auth, graph, httpedge, store); here each
// setting is shown to reach its rule, and what only the assembled server
// can show is proven: the HTTP and GraphQL contract, Twilio end to end,
// restarts, races, replicas and outages.

const (
	password      = apptest.Password
	wrongPassword = "not the password"
	// unknownToken is a well-formed mfaToken no login issued.
	unknownToken = "bm90LWEtcmVhbC10b2tlbg"
)

// newClock returns a clock for Options.Clock: lifetimes and windows move
// only when the test says so.
func newClock() *authtest.Clock { return authtest.NewClock(authtest.Start) }

// step is one request of a scenario and what must come of it.
type step struct {
	name    string
	query   string
	vars    map[string]any
	xff     string        // X-Forwarded-For, if any
	advance time.Duration // the server's clock moves before the request
	code    string        // extensions.code wanted; "" for success
	field   string        // extensions.field wanted, if any
	retry   int           // retryAfter wanted (seconds) with RATE_LIMITED; 0: any ≥ 1
	hashes  int           // bcrypt operations wanted
	twilio  int           // requests to Twilio wanted (sends and checks)
}

// runSteps performs steps in order on srv and checks each one's code,
// retryAfter, bcrypt operations and Twilio requests. It returns the
// responses.
func runSteps(tb testing.TB, srv *apptest.Server, steps []step) []*gqltest.Response {
	tb.Helper()
	var out []*gqltest.Response
	for i, st := range steps {
		if st.advance != 0 {
			if srv.Clock == nil {
				tb.Fatalf("step %d (%s) moves the clock: start the server with Options.Clock", i, st.name)
			}
			srv.Clock.Advance(st.advance)
		}
		srv.Emu.ResetRequests()
		before := srv.Hashes()
		op := gqltest.Op{Query: st.query, Variables: st.vars}
		if st.xff != "" {
			op.Header = map[string]string{"X-Forwarded-For": st.xff}
		}
		r := srv.Do(tb, op)
		out = append(out, r)
		desc := fmt.Sprintf("step %d (%s)", i, st.name)
		if r.Code() != st.code {
			tb.Fatalf("%s = %s, want code %q", desc, r.Body, st.code)
		}
		if st.field != "" && r.Errors[0].Extensions["field"] != st.field {
			tb.Fatalf("%s = %s, want field %q", desc, r.Body, st.field)
		}
		if st.code == "RATE_LIMITED" {
			ra := retryAfter(r)
			if st.retry == 0 && ra < 1 || st.retry != 0 && ra != float64(st.retry) {
				tb.Fatalf("%s: retryAfter %v, want %d (0: any ≥ 1)", desc, ra, st.retry)
			}
			if reason, _ := r.Errors[0].Extensions["reason"].(string); !slices.Contains(auth.Reasons, reason) {
				tb.Fatalf("%s: RATE_LIMITED with reason %q, want one of %v", desc, reason, auth.Reasons)
			}
		}
		if n := srv.Hashes() - before; n != st.hashes {
			tb.Fatalf("%s computed %d hashes, want %d", desc, n, st.hashes)
		}
		if n := len(srv.Emu.Requests()); n != st.twilio {
			tb.Fatalf("%s made %d Twilio requests, want %d", desc, n, st.twilio)
		}
	}
	return out
}

// Steps that recur in the scenarios.
func registerStep(name, email, phone string) step {
	return step{name: name, query: gqltest.RegisterOp, vars: gqltest.RegisterVars(email, password, phone), hashes: 1}
}

func loginStep(name, email string) step {
	return step{name: name, query: gqltest.LoginOp, vars: gqltest.LoginVars(email, password), hashes: 1, twilio: 1}
}

func wrongLoginStep(name, email string) step {
	return step{name: name, query: gqltest.LoginOp, vars: gqltest.LoginVars(email, wrongPassword), code: "INVALID_CREDENTIALS", hashes: 1}
}

// refused returns st refused by a limit before any hash or Twilio request,
// with retryAfter retry (0: any).
func refused(st step, retry int) step {
	st.code, st.retry, st.hashes, st.twilio = "RATE_LIMITED", retry, 0, 0
	return st
}

// across sends n copies of one operation at once, the i-th to server
// i%len(servers) with vars(i), and returns the answers in that order. The
// requests are released together, so they really race.
func across(tb testing.TB, servers []*apptest.Server, n int, query string, vars func(i int) map[string]any) []*gqltest.Response {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	resps := make([]*gqltest.Response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			resps[i], errs[i] = servers[i%len(servers)].Client.Try(ctx, gqltest.Op{Query: query, Variables: vars(i)})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			tb.Fatalf("request %d to server %d: %v", i, i%len(servers), err)
		}
	}
	return resps
}

// codeCounts counts answers by their first error code, "" for success.
func codeCounts(resps []*gqltest.Response) map[string]int {
	counts := map[string]int{}
	for _, r := range resps {
		counts[r.Code()]++
	}
	return counts
}

// sameVars returns vars for every request.
func sameVars(vars map[string]any) func(int) map[string]any {
	return func(int) map[string]any { return vars }
}

// wrongCode returns a code of the same length that is not code.
func wrongCode(code string) string {
	return strings.Map(func(r rune) rune { return '0' + (r-'0'+1)%10 }, code)
}

// retryAfter returns the first error's extensions.retryAfter.
func retryAfter(r *gqltest.Response) float64 {
	if len(r.Errors) == 0 {
		return 0
	}
	ra, _ := r.Errors[0].Extensions["retryAfter"].(float64)
	return ra
}

// assertNoInternals fails if an error message carries provider or
// database detail.
func assertNoInternals(tb testing.TB, r *gqltest.Response) {
	tb.Helper()
	for _, e := range r.Errors {
		low := strings.ToLower(e.Message)
		for _, bad := range []string{"twilio", "status", "sql", "http", "html", "goroutine", "code 6", "code 2", "more_info"} {
			if strings.Contains(low, bad) {
				tb.Errorf("error message %q leaks internals (%q)", e.Message, bad)
			}
		}
	}
}

// decodeClaims returns the claims of a JWS without checking it.
func decodeClaims(tb testing.TB, token string) map[string]any {
	tb.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		tb.Fatalf("token %q is not a JWS", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		tb.Fatal(err)
	}
	return c
}

// get sends GET path to srv and returns the raw answer.
func get(tb testing.TB, srv *apptest.Server, path string) (int, http.Header, string) {
	tb.Helper()
	status, h, body := srv.Client.RoundTrip(tb, srv.Client.NewRequest(tb, http.MethodGet, path, nil))
	return status, h, string(body)
}

// readyz returns the status of GET /readyz, waiting at most 10 seconds.
func readyz(tb testing.TB, srv *apptest.Server) int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	defer cancel()
	status, _, _, err := srv.Client.TryRoundTrip(srv.Client.NewRequest(tb, http.MethodGet, "/readyz", nil).WithContext(ctx))
	if err != nil {
		tb.Fatalf("GET /readyz: %v", err)
	}
	return status
}

// servers starts one SQLite server, or two replicas on one fresh
// PostgreSQL database, with env.
func servers(t *testing.T, dialect string, env map[string]string) []*apptest.Server {
	t.Helper()
	if dialect == "sqlite" {
		return []*apptest.Server{apptest.Start(t, apptest.Options{Env: env})}
	}
	replicas, _ := startReplicas(t, 2, env)
	return replicas
}

func forEachStore(t *testing.T, test func(t *testing.T, dialect string)) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			if d == "postgres" {
				storetest.SkipWithoutPostgres(t)
			}
			test(t, d)
		})
	}
}

// adminCommand runs `twostep admin VERB EMAIL` against the server's database.
func adminCommand(t *testing.T, srv *apptest.Server, verb, email string) string {
	t.Helper()
	out, err := runWith(t.Context(), []string{"admin", "-env-file=", verb, email}, map[string]string{"DATABASE_URL": srv.Env["DATABASE_URL"]})
	if err != nil {
		t.Fatalf("twostep admin %s %s = %v: %s", verb, email, err, out)
	}
	return out
}

// doAs sends query with vars to srv with token as its bearer ("" for none).
func doAs(tb testing.TB, srv *apptest.Server, token, query string, vars map[string]any) *gqltest.Response {
	tb.Helper()
	return srv.Do(tb, gqltest.Op{Query: query, Variables: vars, Bearer: token})
}
