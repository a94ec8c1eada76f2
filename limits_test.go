package main

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/store/storetest"
)

// The tests in this file show that each LIMIT_* setting reaches its rule
// through HTTP and GraphQL, refusing before any bcrypt or Twilio work where
// SECURITY.md says so. Every step of each rule is proven in package auth on
// a fake clock (auth/limits_test.go); here the clock is fake too, so
// retryAfter is exact and windows pass without sleeping.

func TestAccountLimitSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   map[string]string
		steps []step
	}{
		{"LIMIT_ACCOUNT_FREE_FAILURES and LIMIT_ACCOUNT_MAX_BLOCK", map[string]string{"LIMIT_ACCOUNT_FREE_FAILURES": "2", "LIMIT_ACCOUNT_MAX_BLOCK": "2s"}, []step{
			wrongLoginStep("1st failure is free", "ada@example.com"),
			wrongLoginStep("2nd failure blocks 1s", "ada@example.com"),
			refused(loginStep("right password while blocked", "ada@example.com"), 1),
			{name: "after 1s, 3rd failure blocks 2s", advance: time.Second, query: gqltest.LoginOp, vars: gqltest.LoginVars("ada@example.com", wrongPassword), code: "INVALID_CREDENTIALS", hashes: 1},
			{name: "after 2s, 4th failure", advance: 2 * time.Second, query: gqltest.LoginOp, vars: gqltest.LoginVars("ada@example.com", wrongPassword), code: "INVALID_CREDENTIALS", hashes: 1},
			refused(wrongLoginStep("blocked for LIMIT_ACCOUNT_MAX_BLOCK, not 4s", "ada@example.com"), 2),
			{name: "after the block, the right password", advance: 2 * time.Second, query: gqltest.LoginOp, vars: gqltest.LoginVars("ada@example.com", password), hashes: 1, twilio: 1},
		}},
		{"LIMIT_ACCOUNT_FAILURES_PER_DAY", map[string]string{"LIMIT_ACCOUNT_FREE_FAILURES": "1000", "LIMIT_ACCOUNT_FAILURES_PER_DAY": "2"}, []step{
			{name: "1st failure", advance: time.Hour, query: gqltest.LoginOp, vars: gqltest.LoginVars("ada@example.com", wrongPassword), code: "INVALID_CREDENTIALS", hashes: 1},
			{name: "2nd failure", advance: time.Hour, query: gqltest.LoginOp, vars: gqltest.LoginVars("ada@example.com", wrongPassword), code: "INVALID_CREDENTIALS", hashes: 1},
			refused(step{name: "capped until the 1st failure is a day old", advance: time.Hour, query: gqltest.LoginOp, vars: gqltest.LoginVars("ada@example.com", password)}, 22*3600),
			{name: "the day is over", advance: 22 * time.Hour, query: gqltest.LoginOp, vars: gqltest.LoginVars("ada@example.com", password), hashes: 1, twilio: 1},
		}},
		{"LIMIT_ACCOUNT_FAILURES_PER_HOUR", map[string]string{"LIMIT_ACCOUNT_FREE_FAILURES": "1000", "LIMIT_ACCOUNT_FAILURES_PER_HOUR": "3"}, []step{
			{name: "1st failure", advance: time.Minute, query: gqltest.LoginOp, vars: gqltest.LoginVars("ada@example.com", wrongPassword), code: "INVALID_CREDENTIALS", hashes: 1},
			{name: "2nd failure", advance: time.Minute, query: gqltest.LoginOp, vars: gqltest.LoginVars("ada@example.com", wrongPassword), code: "INVALID_CREDENTIALS", hashes: 1},
			{name: "3rd failure", advance: time.Minute, query: gqltest.LoginOp, vars: gqltest.LoginVars("ada@example.com", wrongPassword), code: "INVALID_CREDENTIALS", hashes: 1},
			refused(step{name: "right password, capped until the hour ends", advance: time.Minute, query: gqltest.LoginOp, vars: gqltest.LoginVars("ada@example.com", password)}, 57*60),
			{name: "the hour is over", advance: 57 * time.Minute, query: gqltest.LoginOp, vars: gqltest.LoginVars("ada@example.com", password), hashes: 1, twilio: 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := apptest.Start(t, apptest.Options{Env: tt.env, Clock: newClock()})
			srv.Register(t, "ada@example.com", apptest.NextPhone())
			runSteps(t, srv, tt.steps)
		})
	}
}

// TestPhoneLimitSettings: the per-number settings reach the budgets of a
// verified owner (and, counted apart, of the accounts that have not
// verified their number: TestUnverifiedSettings).
func TestPhoneLimitSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   map[string]string
		sends int // codes the owner's number gets before the limit
		retry time.Duration
	}{
		{"LIMIT_PHONE_COOLDOWN", map[string]string{"LIMIT_PHONE_COOLDOWN": "1m"}, 1, time.Minute},
		{"LIMIT_PHONE_PER_HOUR", map[string]string{"LIMIT_PHONE_PER_HOUR": "2"}, 2, time.Hour},
		{"LIMIT_PHONE_PER_DAY", map[string]string{"LIMIT_PHONE_PER_HOUR": "100", "LIMIT_PHONE_PER_DAY": "2"}, 2, 24 * time.Hour},
		{"LIMIT_PHONE_COOLDOWN=0 turns it off", map[string]string{"LIMIT_PHONE_COOLDOWN": "0"}, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := apptest.Start(t, apptest.Options{Env: tt.env, Clock: newClock()})
			srv.SignIn(t, "a@example.com", apptest.NextPhone()) // verified: the owner's budgets from now on
			srv.Register(t, "c@example.com", apptest.NextPhone())
			var steps []step
			for i := range tt.sends {
				steps = append(steps, loginStep(fmt.Sprintf("code %d to the owner's number", i+1), "a@example.com"))
			}
			if tt.retry != 0 {
				after := loginStep("the window is over", "a@example.com")
				after.advance = tt.retry
				steps = append(steps,
					step{name: "password checked, no SMS", query: gqltest.LoginOp, vars: gqltest.LoginVars("a@example.com", password),
						code: "RATE_LIMITED", retry: int(tt.retry / time.Second), hashes: 1},
					loginStep("another number is not affected", "c@example.com"),
					after,
				)
			}
			runSteps(t, srv, steps)
		})
	}
}

// TestSMSCeilingSetting: LIMIT_SMS_PER_HOUR counts the sends to verified
// numbers; sends to unverified ones have their own ceiling.
func TestSMSCeilingSetting(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Options{Env: map[string]string{"LIMIT_SMS_PER_HOUR": "2"}, Clock: newClock()})
	for i := range 3 {
		srv.SignIn(t, fmt.Sprintf("u%d@example.com", i), apptest.NextPhone())
	}
	srv.Register(t, "new@example.com", apptest.NextPhone())
	last := loginStep("3rd verified number after the hour", "u2@example.com")
	last.advance = 50 * time.Minute
	runSteps(t, srv, []step{
		loginStep("1st verified number", "u0@example.com"),
		{name: "2nd verified number", advance: 10 * time.Minute, query: gqltest.LoginOp, vars: gqltest.LoginVars("u1@example.com", password), hashes: 1, twilio: 1},
		{name: "3rd verified number: over the ceiling, no SMS", query: gqltest.LoginOp, vars: gqltest.LoginVars("u2@example.com", password), code: "RATE_LIMITED", retry: 50 * 60, hashes: 1},
		loginStep("an unverified number: its own ceiling", "new@example.com"),
		last,
	})
}

// TestUnverifiedSettings: the budgets of sends to numbers nobody has
// verified: their ceiling, per country, and per account per day.
func TestUnverifiedSettings(t *testing.T) {
	t.Parallel()
	over := func(name, email string, retry int) step {
		return step{name: name, query: gqltest.LoginOp, vars: gqltest.LoginVars(email, password), code: "RATE_LIMITED", retry: retry, hashes: 1}
	}
	tests := []struct {
		name  string
		env   map[string]string
		steps []step
	}{
		{"LIMIT_SMS_UNVERIFIED_PER_HOUR", map[string]string{"LIMIT_SMS_UNVERIFIED_PER_HOUR": "1"}, []step{
			loginStep("1st unverified send", "u0@example.com"),
			over("2nd unverified send in the hour", "u1@example.com", 3600),
		}},
		{"LIMIT_SMS_PER_COUNTRY_PER_HOUR", map[string]string{"LIMIT_SMS_PER_COUNTRY_PER_HOUR": "1"}, []step{
			loginStep("1st unverified send to +1", "u0@example.com"),
			over("2nd unverified send to +1 in the hour", "u1@example.com", 3600),
		}},
		{"LIMIT_UNVERIFIED_SENDS_PER_DAY", map[string]string{"LIMIT_UNVERIFIED_SENDS_PER_DAY": "1"}, []step{
			loginStep("the account's one send of the day", "u0@example.com"),
			over("its second", "u0@example.com", 24*3600),
			loginStep("another account's", "u1@example.com"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := apptest.Start(t, apptest.Options{Env: tt.env, Clock: newClock()})
			for i := range 2 {
				srv.Register(t, fmt.Sprintf("u%d@example.com", i), apptest.NextPhone())
			}
			runSteps(t, srv, tt.steps)
		})
	}
}

// ipOps are the operations with a per-IP limit, each with a request that
// passes the limit.
var ipOps = []struct {
	name, env string
	def       int // the default maximum
	pass      func(i int) step
}{
	{"register", "LIMIT_REGISTER_PER_IP", 20, func(i int) step {
		return registerStep("register", fmt.Sprintf("r%d@example.com", i), apptest.NextPhone())
	}},
	{"login", "LIMIT_LOGIN_PER_IP", 60, func(i int) step {
		return wrongLoginStep("login", fmt.Sprintf("l%d@example.com", i))
	}},
	{"verifyOtp", "LIMIT_VERIFY_PER_IP", 60, func(i int) step {
		return step{name: "verifyOtp", query: gqltest.VerifyOp, vars: gqltest.VerifyVars(unknownToken, "123456"), code: "MFA_TOKEN_INVALID"}
	}},
}

// TestIPLimitSettings checks LIMIT_*_PER_IP and its window for each
// operation, with the client's address taken from X-Forwarded-For behind
// a trusted proxy, and that 0 turns the limit off.
func TestIPLimitSettings(t *testing.T) {
	t.Parallel()
	for _, op := range ipOps {
		t.Run(op.name, func(t *testing.T) {
			srv := apptest.Start(t, apptest.Options{Clock: newClock(), Env: map[string]string{
				op.env: "2", op.env + "_WINDOW": "10m", "TRUSTED_PROXIES": "127.0.0.1",
			}})
			calls := []struct {
				xff     string
				advance time.Duration
				retry   int // 0: passes
			}{
				{"198.51.100.1", 0, 0},
				{"198.51.100.1", time.Minute, 0},
				{"198.51.100.1", time.Minute, 8 * 60},
				{"198.51.100.2", 0, 0},
				{"198.51.100.1", 8 * time.Minute, 0},
			}
			var steps []step
			for i, c := range calls {
				st := op.pass(i)
				st.name, st.xff, st.advance = fmt.Sprintf("%s from %s", st.name, c.xff), c.xff, c.advance
				if c.retry != 0 {
					st = refused(st, c.retry)
				}
				steps = append(steps, st)
			}
			runSteps(t, srv, steps)
		})
		t.Run(op.name+"/off", func(t *testing.T) {
			srv := apptest.Start(t, apptest.Options{Env: map[string]string{op.env: "0"}})
			var steps []step
			for i := range op.def + 1 {
				steps = append(steps, op.pass(i))
			}
			runSteps(t, srv, steps)
		})
	}
}

// TestTrustedProxiesSetting checks that X-Forwarded-For names the client
// only when the connection comes from a proxy TRUSTED_PROXIES lists, and
// then only its right-most untrusted entry.
func TestTrustedProxiesSetting(t *testing.T) {
	t.Parallel()
	type call struct {
		xff  string
		pass bool
	}
	tests := []struct {
		name    string
		trusted string
		calls   []call
	}{
		{"behind a trusted proxy", "127.0.0.1", []call{
			{"198.51.100.1", true},
			{"198.51.100.1", true},
			{"198.51.100.1", false},
			{"198.51.100.2", true},
			{"203.0.113.9, 198.51.100.1", false}, // the client's own entry is ignored
			{"198.51.100.1, 198.51.100.2", true},
		}},
		{"ignored without TRUSTED_PROXIES", "", []call{
			{"198.51.100.1", true},
			{"198.51.100.2", true},
			{"198.51.100.3", false},
			{"", false},
		}},
		{"ignored from an untrusted peer", "10.0.0.0/8", []call{
			{"198.51.100.1", true},
			{"198.51.100.2", true},
			{"198.51.100.3", false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := apptest.Start(t, apptest.Options{Env: map[string]string{"LIMIT_LOGIN_PER_IP": "2", "TRUSTED_PROXIES": tt.trusted}})
			var steps []step
			for i, c := range tt.calls {
				st := wrongLoginStep(fmt.Sprintf("login from %q", c.xff), fmt.Sprintf("l%d@example.com", i))
				st.xff = c.xff
				if !c.pass {
					st = refused(st, 0)
				}
				steps = append(steps, st)
			}
			runSteps(t, srv, steps)
		})
	}
}

// TestLimitRaces fires requests at once on SQLite and PostgreSQL: counting
// before comparing means exactly the budget passes, whatever the
// interleaving, and no request fails for the database's sake.
func TestLimitRaces(t *testing.T) {
	t.Parallel()
	const n = 20
	type race struct {
		query string
		vars  func(i int) map[string]any
	}
	tests := []struct {
		name   string
		env    map[string]string
		setup  func(t *testing.T, srv *apptest.Server) race
		passed string // the code of a request that passed the limit
		over   string // the code of one that did not
		budget int
		hashes int // bcrypt operations wanted in all, setup included
		sends  int // codes sent wanted in all, setup included
	}{
		{"login per IP", map[string]string{"LIMIT_LOGIN_PER_IP": "5"}, func(t *testing.T, srv *apptest.Server) race {
			return race{gqltest.LoginOp, func(i int) map[string]any { return gqltest.LoginVars(fmt.Sprintf("p%d@example.com", i), wrongPassword) }}
		}, "INVALID_CREDENTIALS", "RATE_LIMITED", 5, 5, 0},
		{"register per IP", map[string]string{"LIMIT_REGISTER_PER_IP": "5"}, func(t *testing.T, srv *apptest.Server) race {
			phones := make([]string, n)
			for i := range phones {
				phones[i] = apptest.NextPhone()
			}
			return race{gqltest.RegisterOp, func(i int) map[string]any {
				return gqltest.RegisterVars(fmt.Sprintf("p%d@example.com", i), password, phones[i])
			}}
		}, "", "RATE_LIMITED", 5, 5, 0},
		{"verifyOtp per IP", map[string]string{"LIMIT_VERIFY_PER_IP": "5"}, func(t *testing.T, srv *apptest.Server) race {
			return race{gqltest.VerifyOp, sameVars(gqltest.VerifyVars(unknownToken, "123456"))}
		}, "MFA_TOKEN_INVALID", "RATE_LIMITED", 5, 0, 0},
		{"failures per account", map[string]string{"LIMIT_ACCOUNT_FAILURES_PER_HOUR": "5", "LIMIT_ACCOUNT_FREE_FAILURES": "1000"}, func(t *testing.T, srv *apptest.Server) race {
			srv.Register(t, "ada@example.com", apptest.NextPhone())
			return race{gqltest.LoginOp, sameVars(gqltest.LoginVars("ada@example.com", wrongPassword))}
		}, "INVALID_CREDENTIALS", "RATE_LIMITED", 5, 1 + 5, 0},
		// Free failures out of the way: attempts in flight count towards
		// the account block, and the race is about the phone.
		{"sends per phone", map[string]string{"LIMIT_PHONE_PER_HOUR": "3", "LIMIT_ACCOUNT_FREE_FAILURES": "1000"}, func(t *testing.T, srv *apptest.Server) race {
			srv.Register(t, "ada@example.com", apptest.NextPhone())
			return race{gqltest.LoginOp, sameVars(gqltest.LoginVars("ada@example.com", password))}
		}, "", "RATE_LIMITED", 3, 1 + n, 3},
		{"SMS ceiling, all budgets or none", map[string]string{"LIMIT_SMS_UNVERIFIED_PER_HOUR": "3", "LIMIT_REGISTER_PER_IP": "0"}, func(t *testing.T, srv *apptest.Server) race {
			for i := range n {
				srv.Register(t, fmt.Sprintf("p%d@example.com", i), apptest.NextPhone())
			}
			return race{gqltest.LoginOp, func(i int) map[string]any { return gqltest.LoginVars(fmt.Sprintf("p%d@example.com", i), password) }}
		}, "", "RATE_LIMITED", 3, 2 * n, 3},
		{"code attempts per challenge", map[string]string{"LIMIT_ACCOUNT_FREE_FAILURES": "1000"}, func(t *testing.T, srv *apptest.Server) race {
			phone := apptest.NextPhone()
			srv.Register(t, "ada@example.com", phone)
			l := srv.Login(t, "ada@example.com")
			return race{gqltest.VerifyOp, sameVars(gqltest.VerifyVars(l.MFAToken, wrongCode(srv.Code(t, phone))))}
		}, "INVALID_OTP", "MFA_TOKEN_INVALID", 5, 2, 1},
	}
	databases := []struct {
		name string
		url  func(testing.TB) string
	}{
		{"sqlite", storetest.NewSQLite},
		{"postgres", storetest.NewPostgres}, // skips without TEST_DATABASE_URL
	}
	for _, db := range databases {
		for _, tt := range tests {
			t.Run(db.name+"/"+tt.name, func(t *testing.T) {
				// Room for every hash at once: the hash limiter has its
				// own tests, and here it must refuse nothing.
				env := map[string]string{"DATABASE_URL": db.url(t), "HASH_MAX_IN_FLIGHT": "64"}
				maps.Copy(env, tt.env)
				srv := apptest.Start(t, apptest.Options{Env: env})
				r := tt.setup(t, srv)
				codes := codeCounts(across(t, []*apptest.Server{srv}, n, r.query, r.vars))
				if codes[tt.passed] != tt.budget || codes[tt.over] != n-tt.budget {
					t.Fatalf("%d parallel requests, budget %d: %v; want %d %q and %d %q", n, tt.budget, codes, tt.budget, tt.passed, n-tt.budget, tt.over)
				}
				if got := srv.Hashes(); got != tt.hashes {
					t.Errorf("%d hashes in all, want %d", got, tt.hashes)
				}
				if got := srv.Emu.Sends(); got != tt.sends {
					t.Errorf("%d codes sent in all, want %d", got, tt.sends)
				}
			})
		}
	}
}
