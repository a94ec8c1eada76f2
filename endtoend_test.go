package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/store/storetest"
	"github.com/twostep/twostep/twilioverify/emulator"
)

func TestEndToEndHappyPath(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Options{Clock: newClock()})
	phone := apptest.NextPhone()
	u := srv.Register(t, "  Alice@Example.COM ", phone)
	if u.Email != "alice@example.com" || u.Phone != phone || u.PhoneVerified {
		t.Fatalf("register = %+v, want normalised email, phone %s, unverified", u, phone)
	}

	l := srv.Login(t, "alice@example.com")
	if l.Channel != "SMS" || l.SentTo != "+1******"+phone[len(phone)-4:] || len(l.MFAToken) < 22 {
		t.Fatalf("login = %+v, want SMS to masked phone and a long mfaToken", l)
	}
	if want := srv.Clock.Now().Add(10 * time.Minute); !l.ExpiresAt.Equal(want) {
		t.Fatalf("login expiresAt = %v, want %v (10 minutes)", l.ExpiresAt, want)
	}
	reqs := srv.Emu.Requests()
	if len(reqs) != 1 || reqs[0].Form.Get("To") != phone || reqs[0].Form.Get("Channel") != "sms" || reqs[0].User != emulator.DefaultAccountSID {
		t.Fatalf("emulator requests = %+v, want one sms verification to %s", reqs, phone)
	}

	a := srv.Verify(t, l.MFAToken, phone)
	// ACCESS_TOKEN_TTL defaults to 15 minutes; the session behind it lasts
	// (SESSION_IDLE_TIMEOUT, SESSION_MAX_AGE) as long as it is refreshed.
	if a.TokenType != "Bearer" || a.ExpiresIn != 900 || a.User.ID != u.ID || !a.User.PhoneVerified || a.RefreshToken == "" {
		t.Fatalf("verifyOtp = %+v, want Bearer, 900s, a refresh token, verified user %s", a, u.ID)
	}
	if want := srv.Clock.Now().Add(14 * 24 * time.Hour); !a.RefreshExpiresAt.Equal(want) {
		t.Errorf("refreshExpiresAt = %v, want %v (14 days idle)", a.RefreshExpiresAt, want)
	}
	now := srv.Clock.Now().Unix()
	claims := decodeClaims(t, a.AccessToken)
	for k, want := range map[string]any{"sub": u.ID, "iss": "twostep", "aud": []any{"twostep"}, "iat": float64(now), "exp": float64(now + 900), "amr": []any{"pwd", "sms", "mfa"}} {
		if got := claims[k]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("claim %s = %v, want %v", k, got, want)
		}
	}
	if _, ok := claims["jti"]; !ok {
		t.Errorf("claim jti missing")
	}
	if raw, _ := json.Marshal(claims); strings.Contains(string(raw), phone[2:]) {
		t.Errorf("claims %s carry the phone number", raw)
	}

	var me gqltest.User
	srv.Do(t, gqltest.Op{Query: gqltest.MeOp, Bearer: a.AccessToken}).Decode(t, "me", &me)
	if me.ID != u.ID || !me.PhoneVerified || me.Email != "alice@example.com" {
		t.Fatalf("me = %+v, want verified %s", me, u.ID)
	}

	// The code must never reach the server's log or output, only the
	// emulator. (The development banner is the one exception, and it is
	// off here because Twilio is configured.)
	if out := srv.Logs(); strings.Contains(out, srv.Code(t, phone)) || strings.Contains(out, password) || strings.Contains(out, a.AccessToken) || strings.Contains(out, phone) {
		t.Errorf("server output leaks a secret or full phone number:\n%s", out)
	}
}

func TestEndToEndErrors(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Options{Clock: newClock()})
	phone := apptest.NextPhone()
	srv.Register(t, "bob@example.com", phone)
	verify := func(t *testing.T, mfaToken, code string) *gqltest.Response {
		t.Helper()
		return srv.Post(t, gqltest.VerifyOp, gqltest.VerifyVars(mfaToken, code))
	}

	t.Run("BAD_USER_INPUT", func(t *testing.T) {
		tests := []struct {
			name, email, password, phone, field string
		}{
			{"bad email", "not-an-email", password, apptest.NextPhone(), "email"},
			{"bad phone", "x1@example.com", password, "12345", "phone"},
			{"short password", "x2@example.com", "short", apptest.NextPhone(), "password"},
			{"long password", "x3@example.com", strings.Repeat("p", 73), apptest.NextPhone(), "password"},
			{"common password", "x4@example.com", "password123", apptest.NextPhone(), "password"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := srv.Post(t, gqltest.RegisterOp, gqltest.RegisterVars(tt.email, tt.password, tt.phone))
				if r.Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != tt.field {
					t.Fatalf("register(%q, %q) = %s, want BAD_USER_INPUT at %s", tt.email, tt.phone, r.Body, tt.field)
				}
			})
		}
	})
	t.Run("BAD_USER_INPUT for every field at once", func(t *testing.T) {
		r := srv.Post(t, gqltest.RegisterOp, gqltest.RegisterVars("nope", "short", "12"))
		var fields []string
		for _, e := range r.Errors {
			if e.Code() != "BAD_USER_INPUT" {
				t.Fatalf("register(all bad) error %+v, want BAD_USER_INPUT", e)
			}
			fields = append(fields, e.Extensions["field"].(string))
		}
		if strings.Join(fields, ",") != "email,password,phone" {
			t.Fatalf("register(all bad) fields = %v, want email,password,phone", fields)
		}
	})
	t.Run("EMAIL_TAKEN", func(t *testing.T) {
		r := srv.Post(t, gqltest.RegisterOp, gqltest.RegisterVars("BOB@example.com", password, apptest.NextPhone()))
		if r.Code() != "EMAIL_TAKEN" || r.Errors[0].Extensions["field"] != "email" {
			t.Fatalf("register(duplicate) = %s, want EMAIL_TAKEN at email", r.Body)
		}
	})
	t.Run("INVALID_CREDENTIALS", func(t *testing.T) {
		srv.Emu.ResetRequests()
		wrong := srv.Post(t, gqltest.LoginOp, gqltest.LoginVars("bob@example.com", wrongPassword))
		unknown := srv.Post(t, gqltest.LoginOp, gqltest.LoginVars("nobody@example.com", wrongPassword))
		if wrong.Code() != "INVALID_CREDENTIALS" || wrong.ErrorsJSON() != unknown.ErrorsJSON() {
			t.Fatalf("login(wrong) = %s, login(unknown) = %s, want the same INVALID_CREDENTIALS", wrong.Body, unknown.Body)
		}
		if n := len(srv.Emu.Requests()); n != 0 {
			t.Fatalf("failed logins sent %d Twilio requests, want 0", n)
		}
	})
	t.Run("INVALID_OTP then MFA_TOKEN_INVALID when exhausted", func(t *testing.T) {
		l := srv.Login(t, "bob@example.com")
		code := srv.Code(t, phone)
		srv.Emu.ResetRequests()
		// A malformed code is refused before Twilio and uses no attempt.
		if r := verify(t, l.MFAToken, "１２３４５６"); r.Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "code" {
			t.Fatalf("verifyOtp(fullwidth digits) = %s, want BAD_USER_INPUT at code", r.Body)
		}
		for want := 4; want >= 0; want-- {
			r := verify(t, l.MFAToken, wrongCode(code))
			if r.Code() != "INVALID_OTP" || r.Errors[0].Extensions["attemptsLeft"] != float64(want) || r.Errors[0].Extensions["field"] != "code" {
				t.Fatalf("verifyOtp(wrong) = %s, want INVALID_OTP at code with attemptsLeft %d", r.Body, want)
			}
		}
		if r := verify(t, l.MFAToken, code); r.Code() != "MFA_TOKEN_INVALID" {
			t.Fatalf("verifyOtp(right, after 5 wrong) = %s, want MFA_TOKEN_INVALID", r.Body)
		}
		if n := srv.Emu.Checks(); n != 5 {
			t.Fatalf("Twilio received %d checks, want 5 (the wrong codes)", n)
		}
	})
	t.Run("MFA_TOKEN_INVALID", func(t *testing.T) {
		if r := verify(t, unknownToken, "123456"); r.Code() != "MFA_TOKEN_INVALID" {
			t.Fatalf("verifyOtp(unknown token) = %s, want MFA_TOKEN_INVALID", r.Body)
		}
		l := srv.Login(t, "bob@example.com")
		if r := verify(t, l.MFAToken, srv.Code(t, phone)); r.Code() != "" {
			t.Fatalf("verifyOtp(right) = %s", r.Body)
		}
		if r := verify(t, l.MFAToken, srv.Code(t, phone)); r.Code() != "MFA_TOKEN_INVALID" {
			t.Fatalf("verifyOtp(used token) = %s, want MFA_TOKEN_INVALID", r.Body)
		}
		l = srv.Login(t, "bob@example.com")
		srv.Clock.Advance(10*time.Minute + time.Second)
		if r := verify(t, l.MFAToken, srv.Code(t, phone)); r.Code() != "MFA_TOKEN_INVALID" {
			t.Fatalf("verifyOtp(right, 10 minutes later) = %s, want MFA_TOKEN_INVALID", r.Body)
		}
	})
	t.Run("UNAUTHENTICATED", func(t *testing.T) {
		l := srv.Login(t, "bob@example.com")
		now := srv.Clock.Now()
		none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "x", "iss": "twostep", "aud": "twostep", "exp": now.Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
		tests := []struct{ name, bearer string }{
			{"no token", ""},
			{"garbage", "not.a.token"},
			{"mfaToken", l.MFAToken},
			{"alg none", none},
			{"other key", signToken(t, "another-secret-another-secret-another!", now, jwt.MapClaims{"exp": now.Add(time.Hour).Unix()})},
			{"expired", signToken(t, srv.Env["JWT_SECRET"], now, jwt.MapClaims{"exp": now.Add(-time.Hour).Unix()})},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if r := srv.Do(t, gqltest.Op{Query: gqltest.MeOp, Bearer: tt.bearer}); r.Code() != "UNAUTHENTICATED" {
					t.Fatalf("me with %s = %s, want UNAUTHENTICATED", tt.name, r.Body)
				}
			})
		}
	})
}

// signToken makes an access token signed with secret: sub someone, iss and
// aud twostep, issued two hours before now, changed by edit (a nil value
// deletes a claim).
func signToken(tb testing.TB, secret string, now time.Time, edit jwt.MapClaims) string {
	tb.Helper()
	claims := jwt.MapClaims{"sub": "someone", "iss": "twostep", "aud": "twostep", "iat": now.Add(-2 * time.Hour).Unix()}
	for k, v := range edit {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["typ"] = "at+jwt"
	s, err := tok.SignedString([]byte(secret))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestEndToEndTwilioFailures checks how each failure of Twilio reaches the
// client, at the send and at the check, through the real twilio-go client.
func TestEndToEndTwilioFailures(t *testing.T) {
	t.Parallel()
	// Real time: the last case is a network timeout.
	srv := apptest.Start(t, apptest.Options{Env: map[string]string{"TWILIO_TIMEOUT": "300ms"}})
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
		{"20003 authentication", emulator.Failure{Code: 20003}, "OTP_DELIVERY_FAILED", "OTP_DELIVERY_FAILED"},
		{"500 json", emulator.Failure{HTTPStatus: 500}, "OTP_DELIVERY_FAILED", "OTP_DELIVERY_FAILED"},
		{"503 html", emulator.Failure{HTML: true, HTTPStatus: 503}, "OTP_DELIVERY_FAILED", "OTP_DELIVERY_FAILED"},
		{"hang past timeout", emulator.Failure{Delay: 5 * time.Second}, "OTP_DELIVERY_FAILED", "OTP_DELIVERY_FAILED"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phone := apptest.NextPhone()
			email := fmt.Sprintf("fail%d@example.com", i)
			srv.Register(t, email, phone)

			// The send fails: no challenge comes back.
			f := tt.failure
			f.Times = 1
			srv.Emu.Fail(phone, f)
			start := time.Now()
			r := srv.Post(t, gqltest.LoginOp, gqltest.LoginVars(email, password))
			if r.Code() != tt.atLogin || r.Data["login"] != nil && string(r.Data["login"]) != "null" {
				t.Fatalf("login with Twilio failing = %s, want %s and no challenge", r.Body, tt.atLogin)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("login took %v with TWILIO_TIMEOUT=300ms", d)
			}
			if tt.atLogin == "RATE_LIMITED" && retryAfter(r) < 1 {
				t.Fatalf("RATE_LIMITED without retryAfter: %s", r.Body)
			}
			assertNoInternals(t, r)

			// The check fails.
			l := srv.Login(t, email)
			srv.Emu.Fail(phone, f)
			r = srv.Post(t, gqltest.VerifyOp, gqltest.VerifyVars(l.MFAToken, srv.Code(t, phone)))
			if r.Code() != tt.atCheck {
				t.Fatalf("verifyOtp with Twilio failing = %s, want %s", r.Body, tt.atCheck)
			}
			assertNoInternals(t, r)
		})
	}
}

func TestEndToEndPersistsAcrossRestart(t *testing.T) {
	t.Parallel()
	opts := apptest.Options{
		Env:      map[string]string{"DATABASE_URL": storetest.NewSQLite(t)},
		Emulator: apptest.NewEmulator(t, nil),
	}
	srv := apptest.Start(t, opts)
	phone := apptest.NextPhone()
	u := srv.Register(t, "dave@example.com", phone)
	l := srv.Login(t, "dave@example.com")
	srv.Stop()

	// Same file, new process: the user and the pending challenge survive.
	srv = apptest.Start(t, opts)
	a := srv.Verify(t, l.MFAToken, phone)
	if a.User.ID != u.ID {
		t.Fatalf("verifyOtp after restart: user %s, want %s", a.User.ID, u.ID)
	}
	var me gqltest.User
	srv.Do(t, gqltest.Op{Query: gqltest.MeOp, Bearer: a.AccessToken}).Decode(t, "me", &me)
	if me.ID != u.ID || !me.PhoneVerified {
		t.Fatalf("me after restart = %+v", me)
	}
}

func TestEndToEndConcurrentRightAnswers(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Options{})
	phone := apptest.NextPhone()
	srv.Register(t, "erin@example.com", phone)
	l := srv.Login(t, "erin@example.com")
	const n = 10
	resps := across(t, []*apptest.Server{srv}, n, gqltest.VerifyOp, sameVars(gqltest.VerifyVars(l.MFAToken, srv.Code(t, phone))))
	if got := codeCounts(resps); got[""] != 1 || got["MFA_TOKEN_INVALID"] != n-1 {
		t.Fatalf("%d concurrent right answers = %v, want exactly 1 token, the rest MFA_TOKEN_INVALID", n, got)
	}
}

// TestDevelopmentPrintsCode: without Twilio, the server runs its own
// emulator and prints each code in a banner, with the number masked.
func TestDevelopmentPrintsCode(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Options{Dev: true})
	phone := apptest.NextPhone()
	srv.Register(t, "frank@example.com", phone)
	l := srv.Login(t, "frank@example.com")
	code := ""
	for line := range strings.SplitSeq(srv.Logs(), "\n") {
		if i := strings.Index(line, "+1******"+phone[len(phone)-4:]+":"); i >= 0 {
			code = strings.Fields(line[i:])[1]
		}
	}
	if !strings.Contains(srv.Logs(), "DEVELOPMENT ONLY") || code == "" {
		t.Fatalf("no development code banner in output:\n%s", srv.Logs())
	}
	var a gqltest.Auth
	srv.Post(t, gqltest.VerifyOp, gqltest.VerifyVars(l.MFAToken, code)).Decode(t, "verifyOtp", &a)
	if strings.Contains(srv.Logs(), phone) {
		t.Errorf("output carries the full phone number")
	}
}
