package main

import (
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twostep/twostep/internal/hashlimit"
	"github.com/twostep/twostep/twilioverify/emulator"
)

// stack is the server run builds (newApp) behind an httptest server
// instead of run's listener, so that a test can read its hash limiter:
// every bcrypt hash and compare runs under it, and Stats().Completed counts
// them. That is how these tests show that a refused request computed no
// hash.
type stack struct {
	URL     string
	emu     *emulator.Emulator
	limiter *hashlimit.Limiter
	out     *lockedBuffer
}

// startStack starts a stack with env (see baseEnv) talking to a fresh
// Verify emulator. The log is shown if the test fails.
func startStack(tb testing.TB, env map[string]string) *stack {
	tb.Helper()
	emu, emuURL := newEmulator(tb, emulator.Options{})
	env = withEmulator(maps.Clone(env), emuURL)
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		tb.Fatalf("loadConfig: %v", err)
	}
	out := &lockedBuffer{}
	a, err := newApp(context.Background(), cfg, newLogger(cfg, out), out)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(a.close)
	srv := httptest.NewServer(a.handler)
	tb.Cleanup(srv.Close)
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("server log:\n%s", out.String())
		}
	})
	return &stack{URL: srv.URL, emu: emu, limiter: a.limiter, out: out}
}

// race sends n copies of query at once, the ith with vars(i), and counts
// the answers by code ("" for success).
func (s *stack) race(tb testing.TB, n int, query string, vars func(i int) map[string]any) map[string]int {
	tb.Helper()
	return codeCounts(across(tb, []*testServer{{URL: s.URL}}, n, query, vars))
}

// hashes returns how many bcrypt operations have run.
func (s *stack) hashes() int { return int(s.limiter.Stats().Completed) }

// step is one request of an abuse scenario and what must come of it.
type step struct {
	name   string
	query  string
	vars   map[string]any
	xff    string        // X-Forwarded-For, if any
	sleep  time.Duration // before the request
	code   string        // extensions.code wanted; "" for success
	hashes int           // bcrypt operations wanted
	twilio int           // requests to Twilio wanted (sends and checks)
	retry  bool          // RATE_LIMITED must carry retryAfter ≥ 1
}

// run performs steps in order and checks each one's code, hash count and
// Twilio requests. It returns the responses.
func (s *stack) run(t *testing.T, steps []step) []*gqlResponse {
	t.Helper()
	var out []*gqlResponse
	for i, st := range steps {
		time.Sleep(st.sleep)
		s.emu.ResetRequests()
		before := s.hashes()
		r := gqlFrom(t, s.URL, st.xff, "", st.query, st.vars)
		out = append(out, r)
		desc := fmt.Sprintf("step %d (%s)", i, st.name)
		if r.code() != st.code {
			t.Fatalf("%s = %+v, want code %q", desc, r.Errors, st.code)
		}
		if st.code == "RATE_LIMITED" || st.retry {
			if ra, _ := r.Errors[0].Extensions["retryAfter"].(float64); ra < 1 {
				t.Fatalf("%s: RATE_LIMITED without retryAfter: %+v", desc, r.Errors)
			}
		}
		if n := s.hashes() - before; n != st.hashes {
			t.Fatalf("%s computed %d hashes, want %d", desc, n, st.hashes)
		}
		if n := len(s.emu.Requests()); n != st.twilio {
			t.Fatalf("%s made %d Twilio requests, want %d", desc, n, st.twilio)
		}
	}
	return out
}

func registerVars(email, password, phone string) map[string]any {
	return map[string]any{"email": email, "password": password, "phone": phone}
}

func loginVars(email, password string) map[string]any {
	return map[string]any{"email": email, "password": password}
}

func verifyVars(mfaToken, code string) map[string]any {
	return map[string]any{"mfaToken": mfaToken, "code": code}
}

// Steps that recur in the scenarios.
func registerStep(name, email, phone string) step {
	return step{name: name, query: registerOp, vars: registerVars(email, testPassword, phone), hashes: 1}
}

func loginStep(name, email string) step {
	return step{name: name, query: loginOp, vars: loginVars(email, testPassword), hashes: 1, twilio: 1}
}

func wrongLoginStep(name, email string) step {
	return step{name: name, query: loginOp, vars: loginVars(email, "not the password"), code: "INVALID_CREDENTIALS", hashes: 1}
}

// refused returns st as refused by a limit before any hash or Twilio call.
func refused(st step) step {
	st.code, st.hashes, st.twilio = "RATE_LIMITED", 0, 0
	return st
}

// twilioSends counts the Twilio requests that send a code.
func twilioSends(emu *emulator.Emulator) int {
	n := 0
	for _, r := range emu.Requests() {
		if strings.HasSuffix(r.Path, "/Verifications") {
			n++
		}
	}
	return n
}
