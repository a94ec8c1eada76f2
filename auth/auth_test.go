package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
)

// TestBusyHashLimiter: when the hash limiter says it would refuse, register
// and login are refused before any counter, hash or SMS.
func TestBusyHashLimiter(t *testing.T) {
	one := auth.Limit{Max: 1, Window: time.Hour}
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.RegisterPerIP, l.LoginPerIP = one, one })})
	phone := authtest.NextPhone()
	h.Register(t, "busy@example.com", phone)
	hashes, sends := h.Hashes.Count(), h.OTP.Sends()
	h.Hashes.SetBusy(true)
	ctx := context.Background()
	const ip = "203.0.113.9"
	_, err := h.Svc.Register(ctx, auth.RegisterInput{Email: "busy2@example.com", Password: authtest.Password, Phone: authtest.NextPhone(), ClientIP: ip})
	wantCode(t, "Register(busy)", err, auth.CodeRateLimited)
	_, err = h.Svc.Login(ctx, auth.LoginInput{Email: "busy@example.com", Password: authtest.Password, ClientIP: ip})
	wantCode(t, "Login(busy)", err, auth.CodeRateLimited)
	if n := h.Hashes.Count(); n != hashes {
		t.Errorf("busy limiter: %d hashes ran, want 0", n-hashes)
	}
	if n := h.OTP.Sends(); n != sends {
		t.Errorf("busy limiter: %d SMS sent, want 0", n-sends)
	}
	// The per-IP budgets of one were not touched: both calls now pass them.
	h.Hashes.SetBusy(false)
	if _, err := h.Svc.Register(ctx, auth.RegisterInput{Email: "busy2@example.com", Password: authtest.Password, Phone: authtest.NextPhone(), ClientIP: ip}); err != nil {
		t.Errorf("Register() after busy = %v, want nil", err)
	}
	if _, err := h.Svc.Login(ctx, auth.LoginInput{Email: "busy@example.com", Password: authtest.Password, ClientIP: ip}); err != nil {
		t.Errorf("Login() after busy = %v, want nil", err)
	}
}

// limits returns the default limits changed by edit.
func limits(edit func(*auth.Limits)) *auth.Limits {
	l := auth.DefaultLimits()
	edit(&l)
	return &l
}

// wantCode fails unless err is an *auth.Error with code, and returns it.
func wantCode(tb testing.TB, call string, err error, code auth.Code) *auth.Error {
	tb.Helper()
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Code != code {
		tb.Fatalf("%s = %v, want %s", call, err, code)
	}
	return ae
}

func TestRegister(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	h.Register(t, "taken@example.com", authtest.NextPhone())
	tests := []struct {
		name, email, pw, phone string
		code                   auth.Code
		field                  string
	}{
		{"normalised", "  Ada@Example.COM ", authtest.Password, "(415) 555-0199", "", ""},
		{"bad email", "ada@", authtest.Password, authtest.NextPhone(), auth.CodeBadUserInput, "email"},
		{"long email", strings.Repeat("a", 250) + "@example.com", authtest.Password, authtest.NextPhone(), auth.CodeBadUserInput, "email"},
		{"bad phone", "b@example.com", authtest.Password, "555", auth.CodeBadUserInput, "phone"},
		{"long phone", "b@example.com", authtest.Password, "+1" + strings.Repeat(" 4", 20), auth.CodeBadUserInput, "phone"},
		{"letters in phone", "b@example.com", authtest.Password, "+1 415 FLOWERS", auth.CodeBadUserInput, "phone"},
		{"short password", "b@example.com", "seven77", authtest.NextPhone(), auth.CodeBadUserInput, "password"},
		{"73-byte password", "b@example.com", strings.Repeat("x", 73), authtest.NextPhone(), auth.CodeBadUserInput, "password"},
		{"common password", "b@example.com", "iloveyou", authtest.NextPhone(), auth.CodeBadUserInput, "password"},
		{"common password, other case", "b@example.com", "QWERTY123", authtest.NextPhone(), auth.CodeBadUserInput, "password"},
		{"control character", "b@example.com", "correct\x00horse battery", authtest.NextPhone(), auth.CodeBadUserInput, "password"},
		{"email taken", "TAKEN@example.com", authtest.Password, authtest.NextPhone(), auth.CodeEmailTaken, "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.Hashes.Count()
			u, err := h.Svc.Register(context.Background(), auth.RegisterInput{Email: tt.email, Password: tt.pw, Phone: tt.phone, ClientIP: "192.0.2.1"})
			if tt.code == "" {
				if err != nil || u.Email != "ada@example.com" || u.Phone != "+14155550199" {
					t.Fatalf("Register(%q, %q) = %+v, %v; want ada@example.com, +14155550199", tt.email, tt.phone, u, err)
				}
				return
			}
			ae := wantCode(t, "Register("+tt.name+")", err, tt.code)
			if ae.Field != tt.field {
				t.Errorf("Register(%s) field %q, want %q", tt.name, ae.Field, tt.field)
			}
			if n := h.Hashes.Count() - before; tt.code == auth.CodeBadUserInput && n != 0 {
				t.Errorf("Register(%s) computed %d hashes, want 0", tt.name, n)
			}
		})
	}
}

func TestRegisterCountryAllowlist(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	svc := h.Service(t, h.Store, authtest.Options{Region: "GB", Allowed: []int{44}})
	tests := []struct {
		name, phone, want string
		code              auth.Code
	}{
		{"national form in the default region", "07400 123456", "+447400123456", ""},
		{"international form", "+44 7400 123457", "+447400123457", ""},
		{"country not allowed", "+1 415 555 0100", "", auth.CodeBadUserInput},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := svc.Register(context.Background(), auth.RegisterInput{Email: string(rune('a'+i)) + "@example.co.uk", Password: authtest.Password, Phone: tt.phone})
			if tt.code != "" {
				wantCode(t, "Register("+tt.phone+")", err, tt.code)
				return
			}
			if err != nil || u.Phone != tt.want {
				t.Fatalf("Register(%q) = %+v, %v; want phone %s", tt.phone, u, err, tt.want)
			}
		})
	}
}

// TestLoginEnumeration checks that an unknown email and a wrong password
// look the same: the same error, and one hash each. The timing is measured
// by BenchmarkLoginEnumeration at the top level.
func TestLoginEnumeration(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	h.Register(t, "ada@example.com", authtest.NextPhone())
	var errs []*auth.Error
	for _, email := range []string{"ada@example.com", "nobody@example.com"} {
		before := h.Hashes.Count()
		_, err := h.Svc.Login(context.Background(), auth.LoginInput{Email: email, Password: "wrong password here"})
		errs = append(errs, wantCode(t, "Login("+email+")", err, auth.CodeInvalidCredentials))
		if n := h.Hashes.Count() - before; n != 1 {
			t.Errorf("Login(%q) computed %d hashes, want 1", email, n)
		}
	}
	if a, b := errs[0], errs[1]; a.Message != b.Message || a.Field != b.Field || a.RetryAfter != b.RetryAfter {
		t.Errorf("wrong password %+v and unknown email %+v differ", a, b)
	}
	if n := h.OTP.Sends(); n != 0 {
		t.Errorf("failed logins sent %d codes", n)
	}
}

// TestLoginPasswordLength checks that bcrypt's 72-byte limit is enforced,
// never silently applied: a password one byte longer than a registered
// 72-byte one is refused at login rather than matching it.
func TestLoginPasswordLength(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	long := strings.Repeat("é", 35) + "ab" // 72 bytes
	if len(long) != 72 {
		t.Fatalf("test password is %d bytes", len(long))
	}
	if _, err := h.Svc.Register(context.Background(), auth.RegisterInput{Email: "ada@example.com", Password: long, Phone: authtest.NextPhone()}); err != nil {
		t.Fatalf("Register(72 bytes) = %v", err)
	}
	tests := []struct {
		name, password string
		code           auth.Code
		hashes         int64
	}{
		{"72 bytes", long, "", 1},
		{"73 bytes", long + "c", auth.CodeBadUserInput, 0},
		{"73 bytes, multi-byte end", long[:71] + "é", auth.CodeBadUserInput, 0},
		{"empty", "", auth.CodeBadUserInput, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.Clock.Advance(time.Minute) // past the phone cooldown
			before := h.Hashes.Count()
			_, err := h.Svc.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: tt.password})
			if tt.code == "" && err != nil {
				t.Fatalf("Login(%s) = %v", tt.name, err)
			}
			if tt.code != "" {
				if ae := wantCode(t, "Login("+tt.name+")", err, tt.code); ae.Field != "password" {
					t.Errorf("Login(%s) field %q, want password", tt.name, ae.Field)
				}
			}
			if n := h.Hashes.Count() - before; n != tt.hashes {
				t.Errorf("Login(%s) computed %d hashes, want %d", tt.name, n, tt.hashes)
			}
		})
	}
}

// TestLoginRehash checks that a hash of another cost is replaced at the
// configured cost on a successful login, and only then.
func TestLoginRehash(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	h.Register(t, "ada@example.com", authtest.NextPhone()) // cost 4
	svc5 := h.Service(t, h.Store, authtest.Options{Cost: 5})
	cost := func() int {
		u, err := h.Store.UserByEmail(context.Background(), "ada@example.com")
		if err != nil {
			t.Fatal(err)
		}
		c, err := bcrypt.Cost([]byte(u.PasswordHash))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := svc5.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: "wrong password here"}); err == nil {
		t.Fatal("Login(wrong) succeeded")
	}
	if c := cost(); c != 4 {
		t.Fatalf("after a failed login the cost is %d, want 4", c)
	}
	if _, err := svc5.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: authtest.Password}); err != nil {
		t.Fatalf("Login(right) at cost 5 = %v", err)
	}
	if c := cost(); c != 5 {
		t.Fatalf("after a login at cost 5 the stored cost is %d, want 5", c)
	}
	h.Clock.Advance(time.Minute)
	if _, err := h.Svc.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: authtest.Password}); err != nil {
		t.Fatalf("Login(right) after the rehash = %v", err)
	}
}

func TestVerifyOTP(t *testing.T) {
	ctx := context.Background()
	t.Run("right code", func(t *testing.T) {
		h := authtest.New(t, authtest.Options{})
		phone := authtest.NextPhone()
		h.Register(t, "ada@example.com", phone)
		l := h.Login(t, "ada@example.com")
		res, err := h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: h.Code(t, phone)})
		if err != nil || !res.User.PhoneVerified || res.ExpiresIn != time.Hour {
			t.Fatalf("VerifyOTP(right) = %+v, %v", res, err)
		}
		p, err := h.Svc.Authenticate(ctx, res.AccessToken)
		if err != nil || p.User.ID != res.User.ID || p.SessionID == "" || p.SessionID != res.SessionID {
			t.Fatalf("Authenticate(issued) = %+v, %v; want user %s in session %s", p, err, res.User.ID, res.SessionID)
		}
		_, err = h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: h.Code(t, phone)})
		wantCode(t, "VerifyOTP(used token)", err, auth.CodeMFATokenInvalid)
	})
	t.Run("five attempts per challenge", func(t *testing.T) {
		h := authtest.New(t, authtest.Options{})
		phone := authtest.NextPhone()
		h.Register(t, "ada@example.com", phone)
		l := h.Login(t, "ada@example.com")
		bad := authtest.WrongCode(h.Code(t, phone))
		for want := 4; want >= 0; want-- {
			_, err := h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: bad})
			if ae := wantCode(t, "VerifyOTP(wrong)", err, auth.CodeInvalidOTP); ae.AttemptsLeft != want {
				t.Fatalf("VerifyOTP(wrong) attemptsLeft %d, want %d", ae.AttemptsLeft, want)
			}
		}
		h.OTP.ResetCounts()
		_, err := h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: h.Code(t, phone)})
		wantCode(t, "VerifyOTP(right, 6th)", err, auth.CodeMFATokenInvalid)
		if n := h.OTP.Checks(); n != 0 {
			t.Fatalf("6th attempt reached Twilio %d times, want 0", n)
		}
	})
	t.Run("malformed codes never reach Twilio", func(t *testing.T) {
		h := authtest.New(t, authtest.Options{})
		phone := authtest.NextPhone()
		h.Register(t, "ada@example.com", phone)
		l := h.Login(t, "ada@example.com")
		h.OTP.ResetCounts()
		for _, code := range []string{"", "123", "12345678901", "12a456", "１２３４５６", "١٢٣٤٥٦", "12 4", "123456\x00", "-12345", strings.Repeat("1", 1000)} {
			_, err := h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: code})
			if ae := wantCode(t, "VerifyOTP("+code+")", err, auth.CodeBadUserInput); ae.Field != "code" {
				t.Errorf("VerifyOTP(%q) field %q, want code", code, ae.Field)
			}
		}
		for _, tok := range []string{"", "not a token", strings.Repeat("A", 129), "a===", "abc/def"} {
			_, err := h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: tok, Code: "123456"})
			if ae := wantCode(t, "VerifyOTP(token "+tok+")", err, auth.CodeBadUserInput); ae.Field != "mfaToken" {
				t.Errorf("VerifyOTP(token %q) field %q, want mfaToken", tok, ae.Field)
			}
		}
		if n := h.OTP.Sends() + h.OTP.Checks(); n != 0 {
			t.Fatalf("malformed input made %d Twilio requests, want 0", n)
		}
		// No attempt was used up: the right code still works.
		if _, err := h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: " " + h.Code(t, phone) + " "}); err != nil {
			t.Fatalf("VerifyOTP(right, padded) after malformed codes = %v", err)
		}
	})
	t.Run("expired challenge", func(t *testing.T) {
		h := authtest.New(t, authtest.Options{})
		phone := authtest.NextPhone()
		h.Register(t, "ada@example.com", phone)
		l := h.Login(t, "ada@example.com")
		if want := h.Clock.Now().Add(auth.DefaultChallengeTTL); !l.ExpiresAt.Equal(want) {
			t.Errorf("ExpiresAt = %v, want %v", l.ExpiresAt, want)
		}
		h.Clock.Advance(auth.DefaultChallengeTTL + time.Second)
		h.OTP.ResetCounts()
		_, err := h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: h.Code(t, phone)})
		wantCode(t, "VerifyOTP(expired)", err, auth.CodeMFATokenInvalid)
		if n := h.OTP.Checks(); n != 0 {
			t.Fatalf("expired challenge reached Twilio %d times", n)
		}
	})
}
