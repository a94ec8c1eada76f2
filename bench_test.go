package main

import (
	"bytes"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/store/storetest"
)

// benchApp is the real application, started by apptest as main starts it,
// driven in process through its full HTTP handler, so the figures measure
// twostep and not a load generator sharing the same cores.
type benchApp struct {
	*apptest.Server
	c *gqltest.Client
}

// startBench starts the app on databaseURL at bcrypt cost with every limit
// out of the way: benchmarks measure the work, not the limits that would
// refuse it. The account limits cannot be turned off; a benchmark that
// fails one account many times moves clock (nil: real time) past them.
func startBench(b *testing.B, databaseURL string, cost int, clock *authtest.Clock) *benchApp {
	b.Helper()
	srv := apptest.Start(b, apptest.Options{Clock: clock, Env: map[string]string{
		"DATABASE_URL":                    databaseURL,
		"BCRYPT_COST":                     fmt.Sprint(cost),
		"LOG_LEVEL":                       "error",
		"TRUSTED_PROXIES":                 "192.0.2.1", // gqltest's in-process RemoteAddr: X-Forwarded-For names the client
		"LIMIT_REGISTER_PER_IP":           "0",
		"LIMIT_LOGIN_PER_IP":              "0",
		"LIMIT_VERIFY_PER_IP":             "0",
		"LIMIT_ACCOUNT_FREE_FAILURES":     "1000",
		"LIMIT_ACCOUNT_MAX_BLOCK":         "1s",
		"LIMIT_ACCOUNT_FAILURES_PER_HOUR": "100",
		"LIMIT_PHONE_COOLDOWN":            "0",
		"LIMIT_PHONE_PER_HOUR":            "1000000",
		"LIMIT_PHONE_PER_DAY":             "1000000",
		"LIMIT_SMS_PER_HOUR":              "1000000000",
		"LIMIT_SMS_UNVERIFIED_PER_HOUR":   "1000000000",
		"LIMIT_UNVERIFIED_SENDS_PER_DAY":  "1000000",
	}})
	return &benchApp{Server: srv, c: &gqltest.Client{Handler: srv.App.Handler()}}
}

// post sends a GraphQL body through the handler from ip and returns the
// raw answer: decoding a gqltest.Response on every iteration would be
// measured too.
func (ba *benchApp) post(tb testing.TB, body []byte, bearer, ip string) (int, []byte) {
	tb.Helper()
	req := ba.c.NewRequest(tb, http.MethodPost, "/graphql", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", ip)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	status, _, raw := ba.c.RoundTrip(tb, req)
	return status, raw
}

// signIn registers a user and completes a login through the handler,
// returning an access token.
func (ba *benchApp) signIn(b *testing.B, email, phone string) string {
	b.Helper()
	op := func(query string, vars map[string]any) gqltest.Op {
		return gqltest.Op{Query: query, Variables: vars, Header: map[string]string{"X-Forwarded-For": "198.51.100.1"}}
	}
	var reg struct{ User gqltest.User }
	ba.c.Do(b, op(gqltest.RegisterOp, gqltest.RegisterVars(email, password, phone))).Decode(b, "register", &reg)
	var l gqltest.Login
	ba.c.Do(b, op(gqltest.LoginOp, gqltest.LoginVars(email, password))).Decode(b, "login", &l)
	var a gqltest.Auth
	ba.c.Do(b, op(gqltest.VerifyOp, gqltest.VerifyVars(l.MFAToken, ba.Code(b, phone)))).Decode(b, "verifyOtp", &a)
	return a.AccessToken
}

// benchStores runs fn against SQLite and, when TEST_DATABASE_URL is set,
// PostgreSQL.
func benchStores(b *testing.B, fn func(b *testing.B, databaseURL string)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, storetest.NewSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, storetest.NewPostgres(b)) })
}

// BenchmarkLogin compares the login mutation (input rules, limits, user
// lookup, bcrypt compare, Twilio Verify send through twilio-go to the
// emulator, challenge insert) with a bare bcrypt compare at the same cost.
func BenchmarkLogin(b *testing.B) {
	const cost = auth.DefaultBcryptCost
	benchStores(b, func(b *testing.B, databaseURL string) {
		clock := authtest.NewClock(time.Now())
		ba := startBench(b, databaseURL, cost, clock)
		ba.signIn(b, "bench-login@example.com", "+14155550198")
		body := gqltest.Body(gqltest.LoginOp, gqltest.LoginVars("bench-login@example.com", password))
		b.Run("twostep", func(b *testing.B) {
			for b.Loop() {
				// Past Twilio's 5 sends per number per 10 minutes and
				// the account's 100 attempts per hour.
				clock.Advance(time.Hour + time.Minute)
				if code, out := ba.post(b, body, "", "198.51.100.3"); code != http.StatusOK || !bytes.Contains(out, []byte(`"mfaToken"`)) {
					b.Fatalf("login = %d %s", code, out)
				}
			}
		})
		b.Run("bcrypt", func(b *testing.B) {
			hash, _ := bcrypt.GenerateFromPassword([]byte(password), cost)
			for b.Loop() {
				if err := bcrypt.CompareHashAndPassword(hash, []byte(password)); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkHashUnderLoad checks the two goals of the hash limiter at the
// default cost, in one run on this machine:
//
//   - logins alone reach at least 90% of the machine's parallel bcrypt
//     capacity (login/capacity ≥ 0.90);
//   - while logins arrive at five times that capacity, each from a new
//     address, me keeps at least half of its unloaded throughput
//     (me-flood/me-alone ≥ 0.5) with p99 under 50 ms.
//
// Run it alone: go test -run '^$' -bench HashUnderLoad -benchtime 1x .
func BenchmarkHashUnderLoad(b *testing.B) {
	const (
		cost  = auth.DefaultBcryptCost
		phase = 4 * time.Second
	)
	ba := startBench(b, storetest.NewSQLite(b), cost, nil)
	token := ba.signIn(b, "bench-load@example.com", "+14155550197")
	meBody := gqltest.Body(gqltest.MeOp, nil)
	hash, _ := bcrypt.GenerateFromPassword([]byte("x"), cost)
	procs := runtime.GOMAXPROCS(0)
	var ipSeq atomic.Int64
	login := func() int {
		n := ipSeq.Add(1)
		ip := fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
		body := gqltest.Body(gqltest.LoginOp, gqltest.LoginVars(fmt.Sprintf("nobody%d@example.com", n), "wrong password"))
		_, out := ba.post(b, body, "", ip)
		if bytes.Contains(out, []byte("INVALID_CREDENTIALS")) {
			return 1 // a bcrypt compare ran
		}
		return 0
	}
	me := func() time.Duration {
		start := time.Now()
		if code, out := ba.post(b, meBody, token, "198.51.100.4"); code != http.StatusOK || !bytes.Contains(out, []byte(`"me":{`)) {
			b.Errorf("me = %d %s", code, out)
		}
		return time.Since(start)
	}
	// closedLoop runs workers that each call fn back to back for d and
	// returns the summed results per second and every latency seen.
	closedLoop := func(workers int, d time.Duration, fn func() (int, time.Duration)) (float64, []time.Duration) {
		var (
			mu    sync.Mutex
			total int
			lats  []time.Duration
			wg    sync.WaitGroup
		)
		deadline := time.Now().Add(d)
		for range workers {
			wg.Go(func() {
				n, ls := 0, []time.Duration{}
				for time.Now().Before(deadline) {
					k, l := fn()
					n += k
					ls = append(ls, l)
				}
				mu.Lock()
				total += n
				lats = append(lats, ls...)
				mu.Unlock()
			})
		}
		wg.Wait()
		return float64(total) / d.Seconds(), lats
	}
	meOnce := func() (int, time.Duration) { return 1, me() }
	p99 := func(lats []time.Duration) time.Duration {
		slices.Sort(lats)
		return lats[len(lats)*99/100]
	}

	var capacity, logins, meAlone, meFlood float64
	var p99Alone, p99Flood time.Duration
	for b.Loop() {
		capacity, _ = closedLoop(procs, phase, func() (int, time.Duration) {
			_ = bcrypt.CompareHashAndPassword(hash, []byte("x"))
			return 1, 0
		})
		logins, _ = closedLoop(2*procs, phase, func() (int, time.Duration) { return login(), 0 })
		var lats []time.Duration
		meAlone, lats = closedLoop(procs, phase, meOnce)
		p99Alone = p99(lats)

		// The flood: logins arrive at five times the capacity, whatever
		// happens to them, while me runs as before.
		stop := make(chan struct{})
		var flood sync.WaitGroup
		flood.Go(func() {
			t := time.NewTicker(time.Duration(float64(time.Second) / (5 * capacity)))
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					flood.Go(func() { login() })
				}
			}
		})
		time.Sleep(500 * time.Millisecond) // let the flood build up
		meFlood, lats = closedLoop(procs, phase, meOnce)
		p99Flood = p99(lats)
		close(stop)
		flood.Wait()
	}
	b.ReportMetric(capacity, "hash/s")
	b.ReportMetric(logins/capacity, "login/capacity")
	b.ReportMetric(meAlone, "me/s")
	b.ReportMetric(meFlood/meAlone, "me-flood/me-alone")
	b.ReportMetric(float64(p99Alone.Microseconds())/1000, "me-p99-alone-ms")
	b.ReportMetric(float64(p99Flood.Microseconds())/1000, "me-p99-flood-ms")
}

// BenchmarkRefuse measures what refusing a hostile operation costs next to
// refusing an ordinary bad one: the body cap, the parser token limit and
// the depth and complexity limits keep the first close to the second.
func BenchmarkRefuse(b *testing.B) {
	ba := startBench(b, storetest.NewSQLite(b), 4, nil)
	deep := "{ __schema { types { fields { type " + strings.Repeat("{ ofType ", 40) + "{ name }" + strings.Repeat(" }", 40) + " } } } }"
	tests := []struct{ name, query, code string }{
		{"ordinary: unknown field", "{ nope }", "GRAPHQL_VALIDATION_FAILED"},
		{"tokens: 8 KiB of fields", "{ " + strings.Repeat("__typename ", 700) + "}", "GRAPHQL_PARSE_FAILED"},
		{"depth: 40 levels", deep, "GRAPHQL_VALIDATION_FAILED"},
		{"complexity: 100 aliases", "{ " + aliasN("me { id email phone phoneVerified createdAt }", 100) + "}", "GRAPHQL_PARSE_FAILED"},
		{"batching: 20 logins", "mutation { " + strings.Repeat(`login(input: {email: "a@example.com", password: "whatever1"}) { mfaToken } `, 20) + "}", "GRAPHQL_VALIDATION_FAILED"},
	}
	for _, tt := range tests {
		body := gqltest.Body(tt.query, nil)
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, out := ba.post(b, body, "", "198.51.100.5"); !bytes.Contains(out, []byte(tt.code)) {
					b.Fatalf("%s: %.300s, want %s", tt.name, out, tt.code)
				}
			}
		})
	}
}
