package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/twostep/twostep/twilioverify/emulator"
)

func TestEndToEndHappyPath(t *testing.T) {
	emu, emuURL := newEmulator(t, emulator.Options{})
	srv := startServer(t, withEmulator(baseEnv(t), emuURL))

	phone := nextPhone()
	u := register(t, srv.URL, "  Alice@Example.COM ", phone)
	if u.Email != "alice@example.com" || u.Phone != phone || u.PhoneVerified {
		t.Fatalf("register = %+v, want normalised email, phone %s, unverified", u, phone)
	}

	l := login(t, srv.URL, "alice@example.com")
	if l.Channel != "SMS" || l.SentTo != "+1******"+phone[len(phone)-4:] || len(l.MFAToken) < 22 {
		t.Fatalf("login = %+v, want SMS to masked phone and a long mfaToken", l)
	}
	if d := time.Until(l.ExpiresAt); d < 9*time.Minute || d > 10*time.Minute+time.Second {
		t.Fatalf("login expiresAt in %v, want about 10m", d)
	}
	reqs := emu.Requests()
	if len(reqs) != 1 || reqs[0].Form.Get("To") != phone || reqs[0].Form.Get("Channel") != "sms" || reqs[0].User != emulator.DefaultAccountSID {
		t.Fatalf("emulator requests = %+v, want one sms verification to %s", reqs, phone)
	}

	var a authJSON
	gql(t, srv.URL, "", verifyOp, map[string]any{"mfaToken": l.MFAToken, "code": codeFor(t, emu, phone)}).field(t, "verifyOtp", &a)
	if a.TokenType != "Bearer" || a.ExpiresIn != 3600 || a.User.ID != u.ID || !a.User.PhoneVerified {
		t.Fatalf("verifyOtp = %+v, want Bearer, 3600s, verified user %s", a, u.ID)
	}
	claims := decodeClaims(t, a.AccessToken)
	for k, want := range map[string]any{"sub": u.ID, "iss": "twostep", "aud": []any{"twostep"}} {
		if got := claims[k]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("claim %s = %v, want %v", k, got, want)
		}
	}
	for _, k := range []string{"iat", "exp", "jti", "amr"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("claim %s missing", k)
		}
	}
	if raw, _ := json.Marshal(claims); strings.Contains(string(raw), phone[2:]) {
		t.Errorf("claims %s carry the phone number", raw)
	}

	var me userJSON
	gql(t, srv.URL, a.AccessToken, meOp, nil).field(t, "me", &me)
	if me.ID != u.ID || !me.PhoneVerified || me.Email != "alice@example.com" {
		t.Fatalf("me = %+v, want verified %s", me, u.ID)
	}

	// The code must never reach the server's log or output, only the
	// emulator. (The development banner is the one exception, and it is
	// off here because Twilio is configured.)
	if out := srv.out.String(); strings.Contains(out, codeFor(t, emu, phone)) || strings.Contains(out, testPassword) || strings.Contains(out, a.AccessToken) || strings.Contains(out, phone) {
		t.Errorf("server output leaks a secret or full phone number:\n%s", out)
	}
}

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

func TestEndToEndErrors(t *testing.T) {
	emu, emuURL := newEmulator(t, emulator.Options{})
	srv := startServer(t, withEmulator(baseEnv(t), emuURL))
	phone := nextPhone()
	register(t, srv.URL, "bob@example.com", phone)

	t.Run("BAD_USER_INPUT", func(t *testing.T) {
		tests := []struct {
			name, email, password, phone, field string
		}{
			{"bad email", "not-an-email", testPassword, nextPhone(), "email"},
			{"bad phone", "x1@example.com", testPassword, "12345", "phone"},
			{"short password", "x2@example.com", "short", nextPhone(), "password"},
			{"long password", "x3@example.com", strings.Repeat("p", 73), nextPhone(), "password"},
			{"common password", "x4@example.com", "password123", nextPhone(), "password"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := gql(t, srv.URL, "", registerOp, map[string]any{"email": tt.email, "password": tt.password, "phone": tt.phone})
				if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != tt.field {
					t.Fatalf("register(%q, %q) errors = %+v, want BAD_USER_INPUT at %s", tt.email, tt.phone, r.Errors, tt.field)
				}
			})
		}
	})
	t.Run("BAD_USER_INPUT for every field at once", func(t *testing.T) {
		r := gql(t, srv.URL, "", registerOp, map[string]any{"email": "nope", "password": "short", "phone": "12"})
		var fields []string
		for _, e := range r.Errors {
			if e.code() != "BAD_USER_INPUT" {
				t.Fatalf("register(all bad) error %+v, want BAD_USER_INPUT", e)
			}
			fields = append(fields, e.Extensions["field"].(string))
		}
		if strings.Join(fields, ",") != "email,password,phone" {
			t.Fatalf("register(all bad) fields = %v, want email,password,phone", fields)
		}
	})
	t.Run("EMAIL_TAKEN", func(t *testing.T) {
		r := gql(t, srv.URL, "", registerOp, map[string]any{"email": "BOB@example.com", "password": testPassword, "phone": nextPhone()})
		if r.code() != "EMAIL_TAKEN" {
			t.Fatalf("register(duplicate) errors = %+v, want EMAIL_TAKEN", r.Errors)
		}
	})
	t.Run("INVALID_CREDENTIALS", func(t *testing.T) {
		emu.ResetRequests()
		wrong := gql(t, srv.URL, "", loginOp, map[string]any{"email": "bob@example.com", "password": "not the password"})
		unknown := gql(t, srv.URL, "", loginOp, map[string]any{"email": "nobody@example.com", "password": "not the password"})
		if wrong.code() != "INVALID_CREDENTIALS" || unknown.code() != "INVALID_CREDENTIALS" || wrong.Errors[0].Message != unknown.Errors[0].Message {
			t.Fatalf("login(wrong) = %+v, login(unknown) = %+v, want the same INVALID_CREDENTIALS", wrong.Errors, unknown.Errors)
		}
		if n := len(emu.Requests()); n != 0 {
			t.Fatalf("failed logins sent %d Twilio requests, want 0", n)
		}
	})
	t.Run("INVALID_OTP then MFA_TOKEN_INVALID when exhausted", func(t *testing.T) {
		l := login(t, srv.URL, "bob@example.com")
		bad := wrongCode(codeFor(t, emu, phone))
		for want := 4; want >= 0; want-- {
			r := gql(t, srv.URL, "", verifyOp, map[string]any{"mfaToken": l.MFAToken, "code": bad})
			if r.code() != "INVALID_OTP" || r.Errors[0].Extensions["attemptsLeft"] != float64(want) {
				t.Fatalf("verifyOtp(wrong) = %+v, want INVALID_OTP with attemptsLeft %d", r.Errors, want)
			}
		}
		r := gql(t, srv.URL, "", verifyOp, map[string]any{"mfaToken": l.MFAToken, "code": codeFor(t, emu, phone)})
		if r.code() != "MFA_TOKEN_INVALID" {
			t.Fatalf("verifyOtp(right, after 5 wrong) = %+v, want MFA_TOKEN_INVALID", r.Errors)
		}
	})
	t.Run("MFA_TOKEN_INVALID", func(t *testing.T) {
		r := gql(t, srv.URL, "", verifyOp, map[string]any{"mfaToken": "bm90LWEtcmVhbC10b2tlbi1hdC1hbGwtbm8", "code": "123456"})
		if r.code() != "MFA_TOKEN_INVALID" {
			t.Fatalf("verifyOtp(unknown token) = %+v, want MFA_TOKEN_INVALID", r.Errors)
		}
		l := login(t, srv.URL, "bob@example.com")
		code := codeFor(t, emu, phone)
		if r := gql(t, srv.URL, "", verifyOp, map[string]any{"mfaToken": l.MFAToken, "code": code}); r.code() != "" {
			t.Fatalf("verifyOtp(right) = %+v", r.Errors)
		}
		if r := gql(t, srv.URL, "", verifyOp, map[string]any{"mfaToken": l.MFAToken, "code": code}); r.code() != "MFA_TOKEN_INVALID" {
			t.Fatalf("verifyOtp(used token) = %+v, want MFA_TOKEN_INVALID", r.Errors)
		}
	})
	t.Run("UNAUTHENTICATED", func(t *testing.T) {
		l := login(t, srv.URL, "bob@example.com")
		forged := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "x", "iss": "twostep", "aud": "twostep", "exp": time.Now().Add(time.Hour).Unix()})
		none, _ := forged.SignedString(jwt.UnsafeAllowNoneSignatureType)
		for name, bearer := range map[string]string{
			"no token":  "",
			"garbage":   "not.a.token",
			"mfaToken":  l.MFAToken,
			"alg none":  none,
			"other key": signWith(t, "another-secret-another-secret-another!", time.Hour),
			"expired":   signWith(t, "test-secret-test-secret-test-secret!", -time.Hour),
		} {
			t.Run(name, func(t *testing.T) {
				r := gql(t, srv.URL, bearer, meOp, nil)
				if r.code() != "UNAUTHENTICATED" {
					t.Fatalf("me with %s = %+v, want UNAUTHENTICATED", name, r.Errors)
				}
			})
		}
	})
	t.Run("RATE_LIMITED", func(t *testing.T) {
		env := withEmulator(baseEnv(t), emuURL)
		env["LIMIT_PHONE_COOLDOWN"] = "1m"
		srv2 := startServer(t, env)
		p := nextPhone()
		register(t, srv2.URL, "carol@example.com", p)
		login(t, srv2.URL, "carol@example.com")
		r := gql(t, srv2.URL, "", loginOp, map[string]any{"email": "carol@example.com", "password": testPassword})
		if r.code() != "RATE_LIMITED" || r.Errors[0].Extensions["retryAfter"].(float64) < 1 {
			t.Fatalf("second login within the cooldown = %+v, want RATE_LIMITED with retryAfter", r.Errors)
		}
	})
}

// signWith makes an otherwise valid access token signed with secret.
func signWith(tb testing.TB, secret string, ttl time.Duration) string {
	tb.Helper()
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "someone", "iss": "twostep", "aud": "twostep",
		"iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(ttl).Unix(),
	})
	tok.Header["typ"] = "at+jwt"
	s, err := tok.SignedString([]byte(secret))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestEndToEndTwilioFailures(t *testing.T) {
	emu, emuURL := newEmulator(t, emulator.Options{})
	env := withEmulator(baseEnv(t), emuURL)
	env["TWILIO_TIMEOUT"] = "300ms"
	srv := startServer(t, env)

	tests := []struct {
		name    string
		failure emulator.Failure
		atLogin string // code when the send fails
		atCheck string // code when the check fails
	}{
		{"20404 not found", emulator.Failure{Code: 20404}, "MFA_TOKEN_INVALID", "MFA_TOKEN_INVALID"},
		{"60202 max checks", emulator.Failure{Code: 60202}, "RATE_LIMITED", "RATE_LIMITED"},
		{"60203 max sends", emulator.Failure{Code: 60203}, "RATE_LIMITED", "RATE_LIMITED"},
		{"60212 concurrent", emulator.Failure{Code: 60212}, "RATE_LIMITED", "RATE_LIMITED"},
		{"20429 too many requests", emulator.Failure{Code: 20429, RetryAfter: 7 * time.Second}, "RATE_LIMITED", "RATE_LIMITED"},
		{"60200 invalid parameter", emulator.Failure{Code: 60200}, "OTP_DELIVERY_FAILED", "OTP_DELIVERY_FAILED"},
		{"60205 landline", emulator.Failure{Code: 60205}, "OTP_DELIVERY_FAILED", "OTP_DELIVERY_FAILED"},
		{"60410 fraud guard", emulator.Failure{Code: 60410}, "OTP_DELIVERY_FAILED", "OTP_DELIVERY_FAILED"},
		{"60605 geo permissions", emulator.Failure{Code: 60605}, "OTP_DELIVERY_FAILED", "OTP_DELIVERY_FAILED"},
		{"500 json", emulator.Failure{HTTPStatus: 500}, "OTP_DELIVERY_FAILED", "OTP_DELIVERY_FAILED"},
		{"503 html", emulator.Failure{HTML: true, HTTPStatus: 503}, "OTP_DELIVERY_FAILED", "OTP_DELIVERY_FAILED"},
		{"hang past timeout", emulator.Failure{Delay: 5 * time.Second}, "OTP_DELIVERY_FAILED", "OTP_DELIVERY_FAILED"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phone := nextPhone()
			email := fmt.Sprintf("fail%d@example.com", i)
			register(t, srv.URL, email, phone)

			// The send fails: no challenge comes back, and none is usable.
			f := tt.failure
			f.Times = 1
			emu.Fail(phone, f)
			start := time.Now()
			r := gql(t, srv.URL, "", loginOp, map[string]any{"email": email, "password": testPassword})
			if r.code() != tt.atLogin || r.Data["login"] != nil && string(r.Data["login"]) != "null" {
				t.Fatalf("login with Twilio failing = %+v (data %s), want %s and no challenge", r.Errors, r.Data["login"], tt.atLogin)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("login took %v with TWILIO_TIMEOUT=300ms", d)
			}
			if tt.atLogin == "RATE_LIMITED" {
				if ra, _ := r.Errors[0].Extensions["retryAfter"].(float64); ra < 1 {
					t.Fatalf("RATE_LIMITED without retryAfter: %+v", r.Errors)
				}
			}
			assertNoInternals(t, r)

			// The check fails.
			l := login(t, srv.URL, email)
			f.Times = 1
			emu.Fail(phone, f)
			r = gql(t, srv.URL, "", verifyOp, map[string]any{"mfaToken": l.MFAToken, "code": codeFor(t, emu, phone)})
			if r.code() != tt.atCheck {
				t.Fatalf("verifyOtp with Twilio failing = %+v, want %s", r.Errors, tt.atCheck)
			}
			assertNoInternals(t, r)
		})
	}
}

// assertNoInternals fails if an error message carries provider or database
// detail.
func assertNoInternals(tb testing.TB, r *gqlResponse) {
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

func TestEndToEndPersistsAcrossRestart(t *testing.T) {
	emu, emuURL := newEmulator(t, emulator.Options{})
	env := withEmulator(baseEnv(t), emuURL)
	srv := startServer(t, env)
	phone := nextPhone()
	u := register(t, srv.URL, "dave@example.com", phone)
	l := login(t, srv.URL, "dave@example.com")
	srv.stop()

	// Same file, new process: the user and the pending challenge survive.
	srv = startServer(t, env)
	var a authJSON
	gql(t, srv.URL, "", verifyOp, map[string]any{"mfaToken": l.MFAToken, "code": codeFor(t, emu, phone)}).field(t, "verifyOtp", &a)
	if a.User.ID != u.ID {
		t.Fatalf("verifyOtp after restart: user %s, want %s", a.User.ID, u.ID)
	}
	var me userJSON
	gql(t, srv.URL, a.AccessToken, meOp, nil).field(t, "me", &me)
	if me.ID != u.ID || !me.PhoneVerified {
		t.Fatalf("me after restart = %+v", me)
	}
}

func TestEndToEndConcurrentRightAnswers(t *testing.T) {
	emu, emuURL := newEmulator(t, emulator.Options{})
	srv := startServer(t, withEmulator(baseEnv(t), emuURL))
	phone := nextPhone()
	register(t, srv.URL, "erin@example.com", phone)
	l := login(t, srv.URL, "erin@example.com")
	code := codeFor(t, emu, phone)

	const n = 10
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		tokens int
		codes  = map[string]int{}
	)
	for range n {
		wg.Go(func() {
			r := gql(t, srv.URL, "", verifyOp, map[string]any{"mfaToken": l.MFAToken, "code": code})
			mu.Lock()
			defer mu.Unlock()
			if r.code() == "" {
				tokens++
			} else {
				codes[r.code()]++
			}
		})
	}
	wg.Wait()
	if tokens != 1 || codes["MFA_TOKEN_INVALID"] != n-1 {
		t.Fatalf("%d concurrent right answers: %d tokens, errors %v; want exactly 1 token, the rest MFA_TOKEN_INVALID", n, tokens, codes)
	}
}

func TestDevelopmentPrintsCode(t *testing.T) {
	env := baseEnv(t) // no Twilio: the built-in emulator prints codes
	srv := startServer(t, env)
	phone := nextPhone()
	register(t, srv.URL, "frank@example.com", phone)
	l := login(t, srv.URL, "frank@example.com")
	code := ""
	for _, line := range strings.Split(srv.out.String(), "\n") {
		if i := strings.Index(line, "+1******"+phone[len(phone)-4:]+":"); i >= 0 {
			code = strings.Fields(line[i:])[1]
		}
	}
	if !strings.Contains(srv.out.String(), "DEVELOPMENT ONLY") || code == "" {
		t.Fatalf("no development code banner in output:\n%s", srv.out.String())
	}
	var a authJSON
	gql(t, srv.URL, "", verifyOp, map[string]any{"mfaToken": l.MFAToken, "code": code}).field(t, "verifyOtp", &a)
	if strings.Contains(srv.out.String(), phone) {
		t.Errorf("output carries the full phone number")
	}
}

func TestProductionRefusesToStart(t *testing.T) {
	prod := func(over map[string]string) map[string]string {
		env := withEmulator(baseEnv(t), "http://127.0.0.1:1")
		env["APP_ENV"] = "production"
		env["BCRYPT_COST"] = "10"
		for k, v := range over {
			env[k] = v
		}
		return env
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no JWT secret", prod(map[string]string{"JWT_SECRET": ""}), "JWT_SECRET"},
		{"short JWT secret", prod(map[string]string{"JWT_SECRET": "short"}), "JWT_SECRET"},
		{"low bcrypt cost", prod(map[string]string{"BCRYPT_COST": "8"}), "BCRYPT_COST"},
		{"no Twilio", prod(map[string]string{"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "TWILIO_VERIFY_SID": ""}), "TWILIO_ACCOUNT_SID"},
		{"one Twilio missing", prod(map[string]string{"TWILIO_VERIFY_SID": ""}), "TWILIO_VERIFY_SID"},
		{"bad Verify SID", prod(map[string]string{"TWILIO_VERIFY_SID": "XX123"}), "TWILIO_VERIFY_SID"},
		{"bad APP_ENV", prod(map[string]string{"APP_ENV": "prod"}), "APP_ENV"},
		{"bad PORT", prod(map[string]string{"PORT": "http"}), "PORT"},
		{"bad TTL", prod(map[string]string{"ACCESS_TOKEN_TTL": "soon"}), "ACCESS_TOKEN_TTL"},
		{"bad DATABASE_URL", prod(map[string]string{"DATABASE_URL": "mysql://x"}), "DATABASE_URL"},
		{"wildcard CORS", prod(map[string]string{"CORS_ALLOWED_ORIGINS": "*"}), "CORS_ALLOWED_ORIGINS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out := &lockedBuffer{}
			err := run(ctx, []string{"twostep", "-env-file="}, func(k string) string { return tt.env[k] }, out, out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run(%s) = %v, want an error naming %s", tt.name, err, tt.want)
			}
			if s := tt.env["JWT_SECRET"]; s != "" && strings.Contains(err.Error()+out.String(), s) {
				t.Fatalf("error or output reveals JWT_SECRET: %v", err)
			}
		})
	}
}

func TestProductionHidesPlaygroundAndIntrospection(t *testing.T) {
	_, emuURL := newEmulator(t, emulator.Options{})
	env := withEmulator(baseEnv(t), emuURL)
	env["APP_ENV"] = "production"
	env["BCRYPT_COST"] = "10"
	env["WEB_DIR"] = t.TempDir() // no built app
	srv := startServer(t, env)
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET / in production = %d, want 404", resp.StatusCode)
	}
	r := gql(t, srv.URL, "", `{ __schema { types { name } } }`, nil)
	if len(r.Errors) == 0 {
		t.Errorf("introspection in production succeeded")
	}
}
