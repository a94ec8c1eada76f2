package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/store/sqlstore"
	"github.com/twostep/twostep/store/storetest"
	"github.com/twostep/twostep/twilioverify/emulator"
)

// The tests in this file prove the rules of SECURITY.md end to end, through
// HTTP and GraphQL: each limit holds, is refused before any bcrypt or
// Twilio work where the rule says so, and cannot be raced or tricked.

func TestAbuseChallengeCap(t *testing.T) {
	s := startStack(t, baseEnv(t))
	phone := nextPhone()
	r := s.run(t, []step{
		registerStep("register", "ada@example.com", phone),
		loginStep("login", "ada@example.com"),
	})
	var l loginJSON
	r[1].field(t, "login", &l)
	code := codeFor(t, s.emu, phone)
	malformed := func(name, c string) step {
		return step{name: name, query: verifyOp, vars: verifyVars(l.MFAToken, c), code: "BAD_USER_INPUT"}
	}
	wrong := step{name: "wrong code", query: verifyOp, vars: verifyVars(l.MFAToken, wrongCode(code)), code: "INVALID_OTP", twilio: 1}
	steps := []step{
		malformed("letters", "12a456"),
		malformed("fullwidth digits", "１２３４５６"),
		malformed("Arabic-Indic digits", "١٢٣٤٥٦"),
		malformed("too short", "123"),
		malformed("too long", "12345678901"),
		malformed("empty", ""),
		malformed("huge", strings.Repeat("1", 4000)),
		wrong, wrong, wrong, wrong, wrong,
		{name: "right code after 5 wrong ones", query: verifyOp, vars: verifyVars(l.MFAToken, code), code: "MFA_TOKEN_INVALID"},
		{name: "wrong code after 5 wrong ones", query: verifyOp, vars: verifyVars(l.MFAToken, wrongCode(code)), code: "MFA_TOKEN_INVALID"},
	}
	r = s.run(t, steps)
	for i, want := 7, 4; want >= 0; i, want = i+1, want-1 {
		if got := r[i].Errors[0].Extensions["attemptsLeft"]; got != float64(want) {
			t.Errorf("wrong code %d: attemptsLeft %v, want %d (malformed codes must not use attempts up)", i-6, got, want)
		}
	}
}

func TestAbuseAccountLimits(t *testing.T) {
	t.Run("growing block, reset by a completed login", func(t *testing.T) {
		env := baseEnv(t)
		env["LIMIT_ACCOUNT_FREE_FAILURES"] = "2"
		env["LIMIT_ACCOUNT_MAX_BLOCK"] = "1s"
		s := startStack(t, env)
		phone := nextPhone()
		right := loginStep("right password", "ada@example.com")
		s.run(t, []step{
			registerStep("register", "ada@example.com", phone),
			wrongLoginStep("1st failure", "ada@example.com"),
			wrongLoginStep("2nd failure: blocked for 1s", "ada@example.com"),
			refused(step{name: "right password while blocked", query: loginOp, vars: loginVars("ada@example.com", testPassword)}),
			refused(wrongLoginStep("wrong password while blocked", "ada@example.com")),
			wrongLoginStep("unknown email: 1st failure", "nobody@example.com"),
			wrongLoginStep("unknown email: 2nd failure", "nobody@example.com"),
			refused(wrongLoginStep("unknown email blocked alike", "nobody@example.com")),
		})
		right.sleep = 1100 * time.Millisecond
		r := s.run(t, []step{right})
		var l loginJSON
		r[0].field(t, "login", &l)
		s.run(t, []step{
			{name: "right code: the login completes", query: verifyOp, vars: verifyVars(l.MFAToken, codeFor(t, s.emu, phone)), twilio: 1},
			wrongLoginStep("after the reset, 1st failure is free", "ada@example.com"),
			wrongLoginStep("2nd failure blocks again", "ada@example.com"),
			refused(wrongLoginStep("blocked again", "ada@example.com")),
		})
	})
	t.Run("at most 100 failures per hour", func(t *testing.T) {
		env := baseEnv(t)
		env["LIMIT_ACCOUNT_FREE_FAILURES"] = "1000" // only the hourly cap
		env["LIMIT_LOGIN_PER_IP"] = "0"
		s := startStack(t, env)
		var steps []step
		steps = append(steps, registerStep("register", "ada@example.com", nextPhone()))
		for i := range 100 {
			steps = append(steps, wrongLoginStep(fmt.Sprintf("failure %d", i+1), "ada@example.com"))
		}
		steps = append(steps, refused(step{name: "101st attempt, right password", query: loginOp, vars: loginVars("ada@example.com", testPassword)}))
		r := s.run(t, steps)
		if ra := r[len(r)-1].Errors[0].Extensions["retryAfter"].(float64); ra < 3000 || ra > 3600 {
			t.Errorf("retryAfter %v after the hourly cap, want the rest of the hour", ra)
		}
	})
}

func TestAbusePhoneLimits(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		minRetry float64 // seconds the refusal's retryAfter is at least
	}{
		{"cooldown", map[string]string{"LIMIT_PHONE_COOLDOWN": "1m"}, 50},
		{"per hour", map[string]string{"LIMIT_PHONE_PER_HOUR": "2"}, 3000},
		{"per day", map[string]string{"LIMIT_PHONE_PER_HOUR": "100", "LIMIT_PHONE_PER_DAY": "2"}, 23 * 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := baseEnv(t)
			for k, v := range tt.env {
				env[k] = v
			}
			s := startStack(t, env)
			shared, other := nextPhone(), nextPhone()
			steps := []step{
				registerStep("register a", "a@example.com", shared),
				registerStep("register b, same phone", "b@example.com", shared),
				registerStep("register c, other phone", "c@example.com", other),
				loginStep("a: code sent", "a@example.com"),
			}
			if tt.name != "cooldown" {
				steps = append(steps, loginStep("b: code sent", "b@example.com"))
			}
			steps = append(steps,
				step{name: "a: refused, no SMS", query: loginOp, vars: loginVars("a@example.com", testPassword), code: "RATE_LIMITED", hashes: 1},
				step{name: "b: the number is limited, not the account", query: loginOp, vars: loginVars("b@example.com", testPassword), code: "RATE_LIMITED", hashes: 1},
				loginStep("c: another number is not affected", "c@example.com"),
			)
			r := s.run(t, steps)
			if ra := r[len(r)-2].Errors[0].Extensions["retryAfter"].(float64); ra < tt.minRetry {
				t.Errorf("retryAfter %v, want at least %v", ra, tt.minRetry)
			}
		})
	}
}

func TestAbuseGlobalSMSCeiling(t *testing.T) {
	env := baseEnv(t)
	env["LIMIT_SMS_PER_HOUR"] = "2"
	s := startStack(t, env)
	var steps []step
	for i := range 3 {
		steps = append(steps, registerStep("register", fmt.Sprintf("u%d@example.com", i), nextPhone()))
	}
	steps = append(steps,
		loginStep("1st number", "u0@example.com"),
		loginStep("2nd number", "u1@example.com"),
		step{name: "3rd number: over the ceiling, no SMS", query: loginOp, vars: loginVars("u2@example.com", testPassword), code: "RATE_LIMITED", hashes: 1},
	)
	s.run(t, steps)
}

func TestAbuseIPLimits(t *testing.T) {
	ops := []struct {
		name, env string
		pass      func(i int) step // a request that passes the limit
	}{
		{"register", "LIMIT_REGISTER_PER_IP", func(i int) step {
			return registerStep("register", fmt.Sprintf("r%d@example.com", i), nextPhone())
		}},
		{"login", "LIMIT_LOGIN_PER_IP", func(i int) step {
			return wrongLoginStep("login", fmt.Sprintf("l%d@example.com", i))
		}},
		{"verifyOtp", "LIMIT_VERIFY_PER_IP", func(i int) step {
			return step{name: "verifyOtp", query: verifyOp, vars: verifyVars("bm90LWEtcmVhbC10b2tlbg", "123456"), code: "MFA_TOKEN_INVALID"}
		}},
	}
	type call struct {
		xff  string
		pass bool
	}
	scenarios := []struct {
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
		{"X-Forwarded-For ignored without TRUSTED_PROXIES", "", []call{
			{"198.51.100.1", true},
			{"198.51.100.2", true},
			{"198.51.100.3", false},
			{"", false},
		}},
		{"X-Forwarded-For ignored from an untrusted peer", "10.0.0.0/8", []call{
			{"198.51.100.1", true},
			{"198.51.100.2", true},
			{"198.51.100.3", false},
		}},
	}
	for _, op := range ops {
		for _, sc := range scenarios {
			t.Run(op.name+"/"+sc.name, func(t *testing.T) {
				env := baseEnv(t)
				env[op.env] = "2"
				env["TRUSTED_PROXIES"] = sc.trusted
				s := startStack(t, env)
				var steps []step
				for i, c := range sc.calls {
					st := op.pass(i)
					st.name = fmt.Sprintf("%s from %q", st.name, c.xff)
					st.xff = c.xff
					if !c.pass {
						st = refused(st)
					}
					steps = append(steps, st)
				}
				s.run(t, steps)
			})
		}
	}
}

// TestAbuseParallel fires requests at once: counting before comparing means
// exactly the budget passes, whatever the interleaving.
func TestAbuseParallel(t *testing.T) {
	const n = 20
	type race struct {
		query string
		vars  func(i int) map[string]any
	}
	tests := []struct {
		name   string
		env    map[string]string
		setup  func(t *testing.T, s *stack) race
		passed string // the code of a request that passed the limit
		over   string // the code of one that did not
		budget int
		hashes int // bcrypt operations wanted in all, setup included
		sends  int // codes sent wanted in all, setup included
	}{
		{"login per IP", map[string]string{"LIMIT_LOGIN_PER_IP": "5"}, func(t *testing.T, s *stack) race {
			return race{loginOp, func(i int) map[string]any { return loginVars(fmt.Sprintf("p%d@example.com", i), "not the password") }}
		}, "INVALID_CREDENTIALS", "RATE_LIMITED", 5, 5, 0},
		{"register per IP", map[string]string{"LIMIT_REGISTER_PER_IP": "5"}, func(t *testing.T, s *stack) race {
			phones := make([]string, n)
			for i := range phones {
				phones[i] = nextPhone()
			}
			return race{registerOp, func(i int) map[string]any {
				return registerVars(fmt.Sprintf("p%d@example.com", i), testPassword, phones[i])
			}}
		}, "", "RATE_LIMITED", 5, 5, 0},
		{"verifyOtp per IP", map[string]string{"LIMIT_VERIFY_PER_IP": "5"}, func(t *testing.T, s *stack) race {
			return race{verifyOp, sameVars(verifyVars("bm90LWEtcmVhbC10b2tlbg", "123456"))}
		}, "MFA_TOKEN_INVALID", "RATE_LIMITED", 5, 0, 0},
		{"failures per account", map[string]string{"LIMIT_ACCOUNT_FAILURES_PER_HOUR": "5", "LIMIT_ACCOUNT_FREE_FAILURES": "1000"}, func(t *testing.T, s *stack) race {
			register(t, s.URL, "ada@example.com", nextPhone())
			return race{loginOp, sameVars(loginVars("ada@example.com", "not the password"))}
		}, "INVALID_CREDENTIALS", "RATE_LIMITED", 5, 1 + 5, 0},
		{"sends per phone", map[string]string{"LIMIT_PHONE_PER_HOUR": "3"}, func(t *testing.T, s *stack) race {
			register(t, s.URL, "ada@example.com", nextPhone())
			return race{loginOp, sameVars(loginVars("ada@example.com", testPassword))}
		}, "", "RATE_LIMITED", 3, 1 + n, 3},
		{"global SMS ceiling", map[string]string{"LIMIT_SMS_PER_HOUR": "3", "LIMIT_REGISTER_PER_IP": "0"}, func(t *testing.T, s *stack) race {
			for i := range n {
				register(t, s.URL, fmt.Sprintf("p%d@example.com", i), nextPhone())
			}
			return race{loginOp, func(i int) map[string]any { return loginVars(fmt.Sprintf("p%d@example.com", i), testPassword) }}
		}, "", "RATE_LIMITED", 3, 2 * n, 3},
		{"code attempts per challenge", map[string]string{"LIMIT_ACCOUNT_FREE_FAILURES": "1000"}, func(t *testing.T, s *stack) race {
			phone := nextPhone()
			register(t, s.URL, "ada@example.com", phone)
			l := login(t, s.URL, "ada@example.com")
			return race{verifyOp, sameVars(verifyVars(l.MFAToken, wrongCode(codeFor(t, s.emu, phone))))}
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
				env := baseEnv(t)
				env["DATABASE_URL"] = db.url(t)
				// Room for every hash at once: the hash limiter has its own
				// tests, and here it must refuse nothing.
				env["HASH_MAX_IN_FLIGHT"] = "64"
				for k, v := range tt.env {
					env[k] = v
				}
				s := startStack(t, env)
				r := tt.setup(t, s)
				codes := s.race(t, n, r.query, r.vars)
				if codes[tt.passed] != tt.budget || codes[tt.over] != n-tt.budget {
					t.Fatalf("%d parallel requests, budget %d: %v; want %d %q and %d %q", n, tt.budget, codes, tt.budget, tt.passed, n-tt.budget, tt.over)
				}
				if got := s.hashes(); got != tt.hashes {
					t.Errorf("%d hashes in all, want %d", got, tt.hashes)
				}
				if got := twilioSends(s.emu); got != tt.sends {
					t.Errorf("%d codes sent in all, want %d", got, tt.sends)
				}
			})
		}
	}
}

func TestAbuseGraphQLTricks(t *testing.T) {
	env := baseEnv(t)
	s := startStack(t, env)
	phone := nextPhone()
	register(t, s.URL, "ada@example.com", phone)
	hashesAfterSetup := s.hashes()

	creds := `input: {email: "ada@example.com", password: "` + testPassword + `"}`
	login := `login(` + creds + `) { mfaToken }`
	verify := `verifyOtp(input: {mfaToken: "bm90LWEtcmVhbC10b2tlbg", code: "123456"}) { accessToken }`
	reg := `register(input: {email: "eve@example.com", password: "` + testPassword + `", phone: "+14155550100"}) { user { id } }`
	post := func(contentType, body string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		return req
	}
	jsonBody := func(query string) string {
		b, _ := json.Marshal(map[string]any{"query": query})
		return string(b)
	}
	chunked := post("application/json", `{"query":"{ __typename }","variables":{"x":"`+strings.Repeat("a", 64<<10)+`"}}`)
	chunked.ContentLength = -1
	tests := []struct {
		name string
		req  *http.Request
		code string
	}{
		{"aliases", post("application/json", jsonBody("mutation { a: "+login+" b: "+login+" }")), "GRAPHQL_VALIDATION_FAILED"},
		{"repeat", post("application/json", jsonBody("mutation { "+login+" "+login+" }")), "GRAPHQL_VALIDATION_FAILED"},
		{"register and login", post("application/json", jsonBody("mutation { "+reg+" "+login+" }")), "GRAPHQL_VALIDATION_FAILED"},
		{"login and verifyOtp", post("application/json", jsonBody("mutation { "+login+" "+verify+" }")), "GRAPHQL_VALIDATION_FAILED"},
		{"fragments", post("application/json", jsonBody("mutation { ...A ...B } fragment A on Mutation { "+login+" } fragment B on Mutation { x: "+login+" }")), "GRAPHQL_VALIDATION_FAILED"},
		{"inline fragments", post("application/json", jsonBody("mutation { ... on Mutation { "+login+" } ... { x: "+login+" } }")), "GRAPHQL_VALIDATION_FAILED"},
		{"fragment and field", post("application/json", jsonBody("mutation { "+login+" ...A } fragment A on Mutation { x: "+verify+" }")), "GRAPHQL_VALIDATION_FAILED"},
		{"array batch", post("application/json", "["+jsonBody("mutation { "+login+" }")+","+jsonBody("mutation { "+login+" }")+"]"), "BAD_REQUEST"},
		{"text/plain", post("text/plain", jsonBody("mutation { "+login+" }")), "UNSUPPORTED_MEDIA_TYPE"},
		{"form", post("application/x-www-form-urlencoded", "query="+url.QueryEscape("mutation { "+login+" }")), "UNSUPPORTED_MEDIA_TYPE"},
		{"GET mutation", func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/graphql?query="+url.QueryEscape("mutation { "+login+" }"), nil)
			return req
		}(), "GRAPHQL_VALIDATION_FAILED"},
		{"body over the cap", post("application/json", `{"query":"mutation { `+strings.ReplaceAll(login, `"`, `\"`)+` }","variables":{"x":"`+strings.Repeat("a", 64<<10)+`"}}`), "REQUEST_TOO_LARGE"},
		{"chunked body over the cap", chunked, "REQUEST_TOO_LARGE"},
		{"token flood", post("application/json", jsonBody("mutation { "+login+" "+strings.Repeat("a ", 1000)+"}")), "GRAPHQL_PARSE_FAILED"},
		{"complexity", post("application/json", jsonBody("{ "+strings.Repeat("me { id email phone } ", 1)+aliasN("me { id email phone phoneVerified createdAt }", 40)+" }")), "COMPLEXITY_LIMIT_EXCEEDED"},
		{"depth", post("application/json", jsonBody("{ __schema { types { fields { type "+strings.Repeat("{ ofType ", 20)+"{ name }"+strings.Repeat(" }", 20)+" } } } }")), "GRAPHQL_VALIDATION_FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.emu.ResetRequests()
			before := s.hashes()
			r := doGQL(t, tt.req)
			if r.code() != tt.code || r.Status == http.StatusOK && tt.code != "COMPLEXITY_LIMIT_EXCEEDED" {
				t.Fatalf("%s = %d %+v, want refused with %s", tt.name, r.Status, r.Errors, tt.code)
			}
			if len(r.Data) > 0 {
				t.Fatalf("%s ran: data %v", tt.name, r.Data)
			}
			if n := s.hashes() - before; n != 0 {
				t.Fatalf("%s computed %d hashes, want 0", tt.name, n)
			}
			if n := len(s.emu.Requests()); n != 0 {
				t.Fatalf("%s made %d Twilio requests, want 0", tt.name, n)
			}
		})
	}
	if s.hashes() != hashesAfterSetup {
		t.Errorf("refused operations computed %d hashes", s.hashes()-hashesAfterSetup)
	}
}

// aliasN returns n aliased copies of field.
func aliasN(field string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s ", i, field)
	}
	return b.String()
}

func TestAbuseProductionGraphQL(t *testing.T) {
	env := baseEnv(t)
	env["APP_ENV"] = "production"
	env["BCRYPT_COST"] = "10"
	s := startStack(t, env)
	tests := []struct{ name, query string }{
		{"__schema", `{ __schema { types { name } } }`},
		{"__type", `{ __type(name: "User") { fields { name } } }`},
		{"__schema behind a fragment", `{ ...F } fragment F on Query { s: __schema { queryType { name } } }`},
		{"typo in a field", `{ mee { id } }`},
		{"typo in an argument", `mutation { login(inptu: {email: "a@b.co", password: "x"}) { mfaToken } }`},
		{"typo in an input field", `mutation { login(input: {emial: "a@b.co", password: "x"}) { mfaToken } }`},
		{"typo in a type", `query($x: Strng) { me { id } }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gql(t, s.URL, "", tt.query, nil)
			if r.code() != "GRAPHQL_VALIDATION_FAILED" || len(r.Data) > 0 {
				t.Fatalf("%s in production = %+v, data %v; want refused as invalid", tt.name, r.Errors, r.Data)
			}
			for _, e := range r.Errors {
				if strings.Contains(e.Message, "Did you mean") {
					t.Fatalf("%s: error %q suggests", tt.name, e.Message)
				}
			}
		})
	}
	if strings.Contains(s.out.String(), "internal error") {
		t.Errorf("introspection probes were logged as internal errors:\n%s", s.out.String())
	}
}

func TestAbuseInput(t *testing.T) {
	env := baseEnv(t)
	env["SMS_ALLOWED_COUNTRY_CODES"] = "1"
	s := startStack(t, env)
	pw72 := strings.Repeat("€", 23) + "abc" // 72 bytes, 26 characters
	if len(pw72) != 72 {
		t.Fatalf("pw72 is %d bytes", len(pw72))
	}
	bad := func(name, query string, vars map[string]any, field string) step {
		return step{name: name + " (" + field + ")", query: query, vars: vars, code: "BAD_USER_INPUT"}
	}
	phone := nextPhone()
	r := s.run(t, []step{
		// Passwords at registration (NIST SP 800-63B).
		bad("73 bytes", registerOp, registerVars("a@example.com", pw72+"x", nextPhone()), "password"),
		bad("7 characters", registerOp, registerVars("a@example.com", "abcdefg", nextPhone()), "password"),
		bad("8 bytes but 4 characters", registerOp, registerVars("a@example.com", "éééé", nextPhone()), "password"),
		bad("common", registerOp, registerVars("a@example.com", "password1", nextPhone()), "password"),
		bad("common in capitals", registerOp, registerVars("a@example.com", "ILOVEYOU", nextPhone()), "password"),
		{name: "72 bytes with no composition", query: registerOp, vars: registerVars("a@example.com", pw72, phone), hashes: 1},
		{name: "8 lower-case letters", query: registerOp, vars: registerVars("b@example.com", "zqxwvbnt", nextPhone()), hashes: 1},
		// Passwords at login: one byte more than the registered 72 is
		// refused, not cut to 72 and accepted.
		bad("73 bytes at login", loginOp, loginVars("a@example.com", pw72+"x"), "password"),
		bad("empty at login", loginOp, loginVars("a@example.com", ""), "password"),
		{name: "the 72 bytes at login", query: loginOp, vars: loginVars("a@example.com", pw72), hashes: 1, twilio: 1},
		// Every string has a maximum length.
		bad("email of 300 bytes", registerOp, registerVars(strings.Repeat("e", 288)+"@example.com", testPassword, nextPhone()), "email"),
		bad("email of 300 bytes at login", loginOp, loginVars(strings.Repeat("e", 288)+"@example.com", testPassword), "email"),
		bad("local part of 65 bytes", registerOp, registerVars(strings.Repeat("e", 65)+"@example.com", testPassword, nextPhone()), "email"),
		bad("phone of 40 bytes", registerOp, registerVars("c@example.com", testPassword, "+1 "+strings.Repeat("4", 37)), "phone"),
		bad("mfaToken of 200 bytes", verifyOp, verifyVars(strings.Repeat("A", 200), "123456"), "mfaToken"),
		bad("code of 11 digits", verifyOp, verifyVars("bm90LWEtcmVhbC10b2tlbg", "12345678901"), "code"),
		// Email and phone are validated and normalised.
		bad("display name", registerOp, registerVars("Eve <eve@example.com>", testPassword, nextPhone()), "email"),
		bad("zero-width space", registerOp, registerVars("eve\u200b@example.com", testPassword, nextPhone()), "email"),
		bad("no dot in the domain", registerOp, registerVars("eve@localhost", testPassword, nextPhone()), "email"),
		bad("country not allowed", registerOp, registerVars("c@example.com", testPassword, "+44 7400 123456"), "phone"),
		bad("premium rate", registerOp, registerVars("c@example.com", testPassword, "+1 900 555 0100"), "phone"),
		bad("letters", registerOp, registerVars("c@example.com", testPassword, "+1 415 FLOWERS"), "phone"),
		{name: "national format and case", query: registerOp, vars: registerVars("  Carol@Example.COM ", testPassword, "(415) 555-0187"), hashes: 1},
	})
	var u struct{ User userJSON }
	r[len(r)-1].field(t, "register", &u)
	if u.User.Email != "carol@example.com" || u.User.Phone != "+14155550187" {
		t.Errorf("register normalised to %+v, want carol@example.com, +14155550187", u.User)
	}
	for _, resp := range r {
		if resp.code() == "BAD_USER_INPUT" && strings.Contains(resp.Errors[0].Message, pw72) {
			t.Errorf("error %q repeats the password", resp.Errors[0].Message)
		}
	}
}

// TestAbuseEnumeration checks that an unknown email and a wrong password
// answer the same, with one hash each; BenchmarkLoginEnumeration measures
// that they also take the same time.
func TestAbuseEnumeration(t *testing.T) {
	env := baseEnv(t)
	env["LIMIT_ACCOUNT_FREE_FAILURES"] = "1" // the first failure blocks for 1s
	s := startStack(t, env)
	register(t, s.URL, "ada@example.com", nextPhone())
	r := s.run(t, []step{
		wrongLoginStep("wrong password", "ada@example.com"),
		wrongLoginStep("unknown email", "nobody@example.com"),
		refused(wrongLoginStep("wrong password, blocked", "ada@example.com")),
		refused(wrongLoginStep("unknown email, blocked", "nobody@example.com")),
	})
	for _, pair := range [][2]int{{0, 1}, {2, 3}} {
		a, b := errorsJSON(r[pair[0]]), errorsJSON(r[pair[1]])
		if a != b {
			t.Errorf("known and unknown email answer differently:\n%s\n%s", a, b)
		}
	}
}

// errorsJSON returns r's status and errors as one string.
func errorsJSON(r *gqlResponse) string {
	b, _ := json.Marshal(r.Errors)
	return fmt.Sprintf("%d %s", r.Status, b)
}

func TestAbuseAccessTokens(t *testing.T) {
	_, emuURL := newEmulator(t, emulator.Options{})
	env := withEmulator(baseEnv(t), emuURL)
	srv := startServer(t, env)
	secret := []byte(env["JWT_SECRET"])
	u := register(t, srv.URL, "ada@example.com", nextPhone())

	var lookups atomic.Int64
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lookups.Add(1)
		http.Error(w, "no", http.StatusTeapot)
	}))
	defer trap.Close()
	attacker, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwk := map[string]any{
		"kty": "RSA",
		"n":   base64.RawURLEncoding.EncodeToString(attacker.N.Bytes()),
		"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(attacker.E)).Bytes()),
	}
	lookup := map[string]any{"kid": trap.URL + "/keys/1", "jku": trap.URL + "/jwks.json", "x5u": trap.URL + "/cert.pem", "jwk": jwk}
	now := time.Now()
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"sub": u.ID, "iss": "twostep", "aud": "twostep", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		if edit != nil {
			edit(c)
		}
		return c
	}
	sign := func(method jwt.SigningMethod, key any, c jwt.MapClaims, headers map[string]any) string {
		tok := jwt.NewWithClaims(method, c)
		tok.Header["typ"] = "at+jwt"
		for k, v := range headers {
			tok.Header[k] = v
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil))
		tok.Header["typ"] = "at+jwt"
		s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		return s
	}()
	pubDER, err := x509.MarshalPKIXPublicKey(&attacker.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"valid", sign(jwt.SigningMethodHS256, secret, claims(nil), nil), true},
		{"kid, jku, x5u, jwk ignored", sign(jwt.SigningMethodHS256, secret, claims(nil), lookup), true},
		{"expired 10s ago, within the leeway", sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Second).Unix() }), nil), true},
		{"RS256 by the attacker's key, with jwk and jku", sign(jwt.SigningMethodRS256, attacker, claims(nil), lookup), false},
		{"HS256 keyed with a public key", sign(jwt.SigningMethodHS256, pubPEM, claims(nil), map[string]any{"jwk": jwk}), false},
		{"alg none", none, false},
		{"HS512 with the right secret", sign(jwt.SigningMethodHS512, secret, claims(nil), nil), false},
		{"no exp", sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { delete(c, "exp") }), nil), false},
		{"expired 2m ago, past the leeway", sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() }), nil), false},
		{"not valid for 2m", sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(2 * time.Minute).Unix() }), nil), false},
		{"wrong iss", sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["iss"] = "someone-else" }), nil), false},
		{"wrong aud", sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["aud"] = "another-api" }), nil), false},
		{"typ JWT", sign(jwt.SigningMethodHS256, secret, claims(nil), map[string]any{"typ": "JWT"}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gql(t, srv.URL, tt.token, meOp, nil)
			if tt.ok && r.code() != "" {
				t.Fatalf("me with %s = %+v, want accepted", tt.name, r.Errors)
			}
			if !tt.ok && r.code() != "UNAUTHENTICATED" {
				t.Fatalf("me with %s = %+v, want UNAUTHENTICATED", tt.name, r.Errors)
			}
		})
	}
	if n := lookups.Load(); n != 0 {
		t.Fatalf("token headers caused %d key lookups, want 0", n)
	}
}

// TestAbuseRehash checks that a login upgrades a hash made at an older cost
// to the configured one.
func TestAbuseRehash(t *testing.T) {
	_, emuURL := newEmulator(t, emulator.Options{})
	env := withEmulator(baseEnv(t), emuURL)
	srv := startServer(t, env)
	register(t, srv.URL, "ada@example.com", nextPhone())
	srv.stop()

	storedCost := func() int {
		t.Helper()
		db, err := sqlstore.Open(context.Background(), env["DATABASE_URL"], sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		u, err := db.UserByEmail(context.Background(), "ada@example.com")
		if err != nil {
			t.Fatal(err)
		}
		c, err := bcrypt.Cost([]byte(u.PasswordHash))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := storedCost(); c != 4 {
		t.Fatalf("registered at BCRYPT_COST=4, stored cost %d", c)
	}
	env["BCRYPT_COST"] = "5"
	srv = startServer(t, env)
	if r := gql(t, srv.URL, "", loginOp, loginVars("ada@example.com", "not the password")); r.code() != "INVALID_CREDENTIALS" {
		t.Fatalf("wrong password = %+v", r.Errors)
	}
	srv.stop()
	if c := storedCost(); c != 4 {
		t.Fatalf("a failed login changed the stored cost to %d", c)
	}
	srv = startServer(t, env)
	login(t, srv.URL, "ada@example.com")
	srv.stop()
	if c := storedCost(); c != 5 {
		t.Fatalf("after a login at BCRYPT_COST=5 the stored cost is %d, want 5", c)
	}
	srv = startServer(t, env)
	login(t, srv.URL, "ada@example.com") // the new hash verifies
}

// TestAbuseAuthEventsLogged checks that every auth event SECURITY.md lists
// is logged, and that no secret is.
func TestAbuseAuthEventsLogged(t *testing.T) {
	emu, emuURL := newEmulator(t, emulator.Options{})
	env := withEmulator(baseEnv(t), emuURL)
	env["LIMIT_PHONE_COOLDOWN"] = "1m"
	srv := startServer(t, env)
	phone := nextPhone()
	register(t, srv.URL, "ada@example.com", phone)
	gql(t, srv.URL, "", loginOp, loginVars("ada@example.com", "not the password"))
	l := login(t, srv.URL, "ada@example.com")
	gql(t, srv.URL, "", loginOp, loginVars("ada@example.com", testPassword)) // cooldown
	code := codeFor(t, emu, phone)
	gql(t, srv.URL, "", verifyOp, verifyVars(l.MFAToken, wrongCode(code)))
	var a authJSON
	gql(t, srv.URL, "", verifyOp, verifyVars(l.MFAToken, code)).field(t, "verifyOtp", &a)
	srv.stop()

	out := srv.out.String()
	for _, event := range []string{"user registered", "login failed", "code sent", "rate limit hit", "code failed", "login succeeded"} {
		if !strings.Contains(out, event) {
			t.Errorf("log lacks %q", event)
		}
		// Each event names the request and client it came from.
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "msg=\""+event+"\"") && (!regexp.MustCompile(`request_id=[0-9a-f]{16}`).MatchString(line) || !strings.Contains(line, "client_ip=127.0.0.1")) {
				t.Errorf("log line %q lacks request_id or client_ip", line)
			}
		}
	}
	for name, secret := range map[string]string{
		"password": testPassword, "wrong password": "not the password", "code": code,
		"mfaToken": l.MFAToken, "access token": a.AccessToken, "phone number": phone,
		"JWT secret": env["JWT_SECRET"],
	} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains the %s", name)
		}
	}
}

// TestAbuseLimitConfig checks that the limits cannot be configured into
// something a stranger could abuse: no block longer than an hour, no more
// than 100 failures per account per hour, no send limit turned off.
func TestAbuseLimitConfig(t *testing.T) {
	tests := []struct {
		name, variable, value string
	}{
		{"block of two days", "LIMIT_ACCOUNT_MAX_BLOCK", "48h"},
		{"101 failures per hour", "LIMIT_ACCOUNT_FAILURES_PER_HOUR", "101"},
		{"no free failures", "LIMIT_ACCOUNT_FREE_FAILURES", "0"},
		{"unlimited sends per hour", "LIMIT_PHONE_PER_HOUR", "0"},
		{"unlimited sends per day", "LIMIT_PHONE_PER_DAY", "0"},
		{"no SMS ceiling", "LIMIT_SMS_PER_HOUR", "0"},
		{"negative per-IP limit", "LIMIT_LOGIN_PER_IP", "-1"},
		{"window that is not a duration", "LIMIT_LOGIN_PER_IP_WINDOW", "soon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := baseEnv(t)
			env[tt.variable] = tt.value
			_, err := loadConfig(func(k string) string { return env[k] })
			if err == nil || !strings.Contains(err.Error(), tt.variable) {
				t.Fatalf("loadConfig(%s=%s) = %v, want an error naming %s", tt.variable, tt.value, err, tt.variable)
			}
		})
	}
}

// TestAbuseAllowlistNarrowed: an account registered while its country was
// allowed gets no SMS once SMS_ALLOWED_COUNTRY_CODES no longer lists it.
func TestAbuseAllowlistNarrowed(t *testing.T) {
	emu, emuURL := newEmulator(t, emulator.Options{})
	env := withEmulator(baseEnv(t), emuURL)
	srv := startServer(t, env)
	register(t, srv.URL, "uk@example.com", "+447911123456")
	srv.stop()

	env["SMS_ALLOWED_COUNTRY_CODES"] = "1"
	srv = startServer(t, env)
	emu.ResetRequests()
	r := gql(t, srv.URL, "", loginOp, loginVars("uk@example.com", testPassword))
	if r.code() != "OTP_DELIVERY_FAILED" {
		t.Fatalf("login with a phone outside the allowlist = %+v, want OTP_DELIVERY_FAILED", r.Errors)
	}
	if n := twilioSends(emu); n != 0 {
		t.Fatalf("login with a phone outside the allowlist sent %d SMS, want 0", n)
	}
}
