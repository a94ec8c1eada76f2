package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/store/storetest"
	"github.com/twostep/twostep/twilioverify/emulator"
)

// benchApp is the real application (as run wires it) driven in-process
// through its full HTTP handler, so the figures measure twostep and not a
// load generator sharing the same two cores.
type benchApp struct {
	*app
	emu *emulator.Emulator
	cfg *config
}

func newBenchApp(b *testing.B, databaseURL string, cost int) *benchApp {
	b.Helper()
	emu, emuURL := newEmulator(b, emulator.Options{})
	env := withEmulator(map[string]string{
		"DATABASE_URL":    databaseURL,
		"BCRYPT_COST":     fmt.Sprint(cost),
		"JWT_SECRET":      "bench-secret-bench-secret-bench-secret",
		"TRUSTED_PROXIES": "192.0.2.1",
		"LOG_LEVEL":       "error",
	}, emuURL)
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	// Benchmarks measure the work, not the limits that would refuse it.
	cfg.Limits = auth.Limits{
		RegisterPerIP:       auth.Limit{Max: 1 << 30, Window: time.Hour},
		LoginPerIP:          auth.Limit{Max: 1 << 30, Window: time.Hour},
		VerifyPerIP:         auth.Limit{Max: 1 << 30, Window: time.Hour},
		AccountFreeFailures: 1 << 30,
		AccountPerHour:      1 << 30,
		PhoneCooldown:       -1,
		PhonePerHour:        1 << 30,
		PhonePerDay:         1 << 30,
		SMSPerHour:          1 << 30,
	}
	a, err := newApp(context.Background(), cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.close)
	return &benchApp{app: a, emu: emu, cfg: cfg}
}

// post sends one GraphQL operation through the handler from ip.
func (ba *benchApp) post(body []byte, bearer, ip string) (int, []byte) {
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.RemoteAddr = "192.0.2.1:40000"
	req.Header.Set("X-Forwarded-For", ip)
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := httptest.NewRecorder()
	ba.handler.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func opBody(query string, vars map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

// signIn registers a user and completes a login, returning an access token.
func (ba *benchApp) signIn(b *testing.B, email, phone string) string {
	b.Helper()
	if _, body := ba.post(opBody(registerOp, map[string]any{"email": email, "password": testPassword, "phone": phone}), "", "198.51.100.1"); !bytes.Contains(body, []byte(`"register":{`)) {
		b.Fatalf("register: %s", body)
	}
	var l struct {
		Data struct{ Login loginJSON } `json:"data"`
	}
	_, body := ba.post(opBody(loginOp, map[string]any{"email": email, "password": testPassword}), "", "198.51.100.1")
	if err := json.Unmarshal(body, &l); err != nil || l.Data.Login.MFAToken == "" {
		b.Fatalf("login: %s", body)
	}
	code, _ := ba.emu.Code(phone)
	var v struct {
		Data struct{ VerifyOtp authJSON } `json:"data"`
	}
	_, body = ba.post(opBody(verifyOp, map[string]any{"mfaToken": l.Data.Login.MFAToken, "code": code}), "", "198.51.100.1")
	if err := json.Unmarshal(body, &v); err != nil || v.Data.VerifyOtp.AccessToken == "" {
		b.Fatalf("verifyOtp: %s", body)
	}
	return v.Data.VerifyOtp.AccessToken
}

// benchStores runs fn against SQLite and, when TEST_DATABASE_URL is set,
// PostgreSQL.
func benchStores(b *testing.B, fn func(b *testing.B, databaseURL string)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, storetest.NewSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, storetest.NewPostgres(b)) })
}

// BenchmarkMe compares the me query through twostep's full HTTP handler
// (CORS, limiter accounting, GraphQL parsing, @auth, presenter) with a plain
// net/http handler doing the same token check and user lookup.
func BenchmarkMe(b *testing.B) {
	benchStores(b, func(b *testing.B, databaseURL string) {
		ba := newBenchApp(b, databaseURL, 4)
		token := ba.signIn(b, "bench-me@example.com", "+14155550199")
		tokens, err := auth.NewTokens(ba.cfg.JWTSecret, ba.cfg.JWTIssuer, ba.cfg.JWTAudience, ba.cfg.AccessTokenTTL, nil)
		if err != nil {
			b.Fatal(err)
		}
		plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			claims, err := tokens.Verify(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			if err != nil {
				http.Error(w, "unauthenticated", http.StatusUnauthorized)
				return
			}
			u, err := ba.db.UserByID(r.Context(), claims.Subject)
			if err != nil {
				http.Error(w, "internal", http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"me": map[string]any{
				"id": u.ID, "email": u.Email, "phone": u.Phone, "phoneVerified": u.PhoneVerified, "createdAt": u.CreatedAt,
			}}})
		})
		body := opBody(meOp, nil)
		b.Run("twostep", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if code, out := ba.post(body, token, "198.51.100.2"); code != http.StatusOK || !bytes.Contains(out, []byte(`"me":{`)) {
						b.Fatalf("me = %d %s", code, out)
					}
				}
			})
		})
		b.Run("plain", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, "/me", bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+token)
					rec := httptest.NewRecorder()
					plain.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("plain me = %d", rec.Code)
					}
				}
			})
		})
	})
}

// BenchmarkLogin compares the login mutation (input rules, limits, user
// lookup, bcrypt compare, Twilio Verify send through twilio-go to the
// emulator, challenge insert) with a bare bcrypt compare at the same cost.
func BenchmarkLogin(b *testing.B) {
	const cost = auth.DefaultBcryptCost
	benchStores(b, func(b *testing.B, databaseURL string) {
		ba := newBenchApp(b, databaseURL, cost)
		ba.signIn(b, "bench-login@example.com", "+14155550198")
		body := opBody(loginOp, map[string]any{"email": "bench-login@example.com", "password": testPassword})
		b.Run("twostep", func(b *testing.B) {
			for b.Loop() {
				// Twilio allows 5 sends per number per 10 minutes.
				ba.emu.Advance(10 * time.Minute)
				if code, out := ba.post(body, "", "198.51.100.3"); code != http.StatusOK || !bytes.Contains(out, []byte(`"mfaToken"`)) {
					b.Fatalf("login = %d %s", code, out)
				}
			}
		})
		b.Run("bcrypt", func(b *testing.B) {
			hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), cost)
			for b.Loop() {
				if err := bcrypt.CompareHashAndPassword(hash, []byte(testPassword)); err != nil {
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
	ba := newBenchApp(b, storetest.NewSQLite(b), cost)
	token := ba.signIn(b, "bench-load@example.com", "+14155550197")
	meBody := opBody(meOp, nil)
	hash, _ := bcrypt.GenerateFromPassword([]byte("x"), cost)
	procs := runtime.GOMAXPROCS(0)
	var ipSeq atomic.Int64
	login := func() int {
		n := ipSeq.Add(1)
		ip := fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
		body := opBody(loginOp, map[string]any{"email": fmt.Sprintf("nobody%d@example.com", n), "password": "wrong password"})
		_, out := ba.post(body, "", ip)
		if bytes.Contains(out, []byte("INVALID_CREDENTIALS")) {
			return 1 // a bcrypt compare ran
		}
		return 0
	}
	me := func() time.Duration {
		start := time.Now()
		if code, out := ba.post(meBody, token, "198.51.100.4"); code != http.StatusOK || !bytes.Contains(out, []byte(`"me":{`)) {
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
	ba := newBenchApp(b, storetest.NewSQLite(b), 4)
	deep := "{ __schema { types { fields { type " + strings.Repeat("{ ofType ", 40) + "{ name }" + strings.Repeat(" }", 40) + " } } } }"
	var aliases strings.Builder
	for i := range 100 {
		fmt.Fprintf(&aliases, "a%d: me { id email phone phoneVerified createdAt } ", i)
	}
	tests := []struct{ name, query, code string }{
		{"ordinary: unknown field", "{ nope }", "GRAPHQL_VALIDATION_FAILED"},
		{"tokens: 8 KiB of fields", "{ " + strings.Repeat("__typename ", 700) + "}", "GRAPHQL_PARSE_FAILED"},
		{"depth: 40 levels", deep, "GRAPHQL_VALIDATION_FAILED"},
		{"complexity: 100 aliases", "{ " + aliases.String() + "}", "GRAPHQL_PARSE_FAILED"},
		{"batching: 20 logins", "mutation { " + strings.Repeat(`login(input: {email: "a@example.com", password: "whatever1"}) { mfaToken } `, 20) + "}", "GRAPHQL_VALIDATION_FAILED"},
	}
	for _, tt := range tests {
		body := opBody(tt.query, nil)
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, out := ba.post(body, "", "198.51.100.5"); !bytes.Contains(out, []byte(tt.code)) {
					b.Fatalf("%s: %.300s, want %s", tt.name, out, tt.code)
				}
			}
		})
	}
}
