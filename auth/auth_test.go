package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/store/sqlstore"
	"github.com/twostep/twostep/store/storetest"
	"github.com/twostep/twostep/twilioverify"
	"github.com/twostep/twostep/twilioverify/emulator"
)

// clock is a settable time source shared by the service and the emulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingLimiter is an auth.HashLimiter that counts bcrypt operations.
type countingLimiter struct {
	n    atomic.Int64
	busy atomic.Bool // what Busy reports; Do still runs fn
}

func (c *countingLimiter) Do(ctx context.Context, fn func()) error {
	c.n.Add(1)
	fn()
	return nil
}

func (c *countingLimiter) Busy() bool { return c.busy.Load() }

// TestBusyHashLimiter: when the hash limiter says it would refuse, register
// and login are refused before any counter, hash or SMS.
func TestBusyHashLimiter(t *testing.T) {
	h := newHarness(t, auth.Limits{})
	phone := nextPhone()
	h.register(t, "busy@example.com", phone)
	hashes, sends := h.hashes.n.Load(), h.sends()
	h.hashes.busy.Store(true)
	ctx := context.Background()
	_, err := h.svc.Register(ctx, auth.RegisterInput{Email: "busy2@example.com", Password: password, Phone: nextPhone(), ClientIP: "203.0.113.9"})
	wantCode(t, "Register(busy)", err, auth.CodeRateLimited)
	_, err = h.svc.Login(ctx, auth.LoginInput{Email: "busy@example.com", Password: password, ClientIP: "203.0.113.9"})
	wantCode(t, "Login(busy)", err, auth.CodeRateLimited)
	if n := h.hashes.n.Load(); n != hashes {
		t.Errorf("busy limiter: %d hashes ran, want 0", n-hashes)
	}
	if n := h.sends(); n != sends {
		t.Errorf("busy limiter: %d SMS sent, want 0", n-sends)
	}
	for _, key := range []string{"ip:register:203.0.113.9", "ip:login:203.0.113.9"} {
		if c, err := h.db.Peek(ctx, key, h.clock.Now()); err != nil || c.Count != 0 {
			t.Errorf("busy limiter: counter %s = %+v, %v; want untouched", key, c, err)
		}
	}
	h.hashes.busy.Store(false)
	h.login(t, "busy@example.com")
}

const (
	secret   = "unit-test-secret-unit-test-secret!!"
	password = "correct horse battery staple"
)

// harness is an auth.Service over a fresh SQLite store and the Verify
// emulator, on a fake clock, with bcrypt at cost 4.
type harness struct {
	svc    *auth.Service
	db     *sqlstore.DB
	dbURL  string
	emu    *emulator.Emulator
	otp    *twilioverify.Client
	clock  *clock
	hashes *countingLimiter
}

func newHarness(tb testing.TB, limits auth.Limits) *harness {
	tb.Helper()
	dbURL := storetest.NewSQLite(tb)
	db, err := sqlstore.Open(context.Background(), dbURL, sqlstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	emu := emulator.New(emulator.Options{Now: clk.Now})
	srv := httptest.NewServer(emu)
	tb.Cleanup(srv.Close)
	otp, err := twilioverify.New(twilioverify.Config{
		AccountSID: emulator.DefaultAccountSID,
		AuthToken:  emulator.DefaultAuthToken,
		ServiceSID: emulator.DefaultServiceSID,
		APIURL:     srv.URL,
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatal(err)
	}
	h := &harness{db: db, dbURL: dbURL, emu: emu, otp: otp, clock: clk, hashes: &countingLimiter{}}
	h.svc = h.service(tb, db, 4, limits)
	return h
}

// service returns another Service on h's emulator and clock: a replica
// when st is h's store, or one with another bcrypt cost.
func (h *harness) service(tb testing.TB, st *sqlstore.DB, cost int, limits auth.Limits) *auth.Service {
	tb.Helper()
	tokens, err := auth.NewTokens([]byte(secret), "twostep", "twostep", time.Hour, h.clock.Now)
	if err != nil {
		tb.Fatal(err)
	}
	phones, err := input.NewPhones("US", nil)
	if err != nil {
		tb.Fatal(err)
	}
	svc, err := auth.New(auth.Options{
		Store:       st,
		OTP:         h.otp,
		Tokens:      tokens,
		Phones:      phones,
		BcryptCost:  cost,
		HashLimiter: h.hashes,
		Limits:      limits,
		Now:         h.clock.Now,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}

var phoneSeq atomic.Int64

func nextPhone() string {
	return fmt.Sprintf("+1415555%04d", phoneSeq.Add(1))
}

func (h *harness) register(tb testing.TB, email, phone string) {
	tb.Helper()
	if _, err := h.svc.Register(context.Background(), auth.RegisterInput{Email: email, Password: password, Phone: phone}); err != nil {
		tb.Fatalf("Register(%q) = %v", email, err)
	}
}

func (h *harness) login(tb testing.TB, email string) *auth.LoginResult {
	tb.Helper()
	res, err := h.svc.Login(context.Background(), auth.LoginInput{Email: email, Password: password})
	if err != nil {
		tb.Fatalf("Login(%q) = %v", email, err)
	}
	return res
}

func (h *harness) code(tb testing.TB, phone string) string {
	tb.Helper()
	c, ok := h.emu.Code(phone)
	if !ok {
		tb.Fatalf("no code sent to %s", phone)
	}
	return c
}

// sends counts the emulator's send requests (a new or re-sent code).
func (h *harness) sends() int {
	n := 0
	for _, r := range h.emu.Requests() {
		if strings.HasSuffix(r.Path, "/Verifications") {
			n++
		}
	}
	return n
}

// checks counts the emulator's code checks.
func (h *harness) checks() int {
	n := 0
	for _, r := range h.emu.Requests() {
		if strings.HasSuffix(r.Path, "/VerificationCheck") {
			n++
		}
	}
	return n
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

func wrongCode(code string) string {
	return strings.Map(func(r rune) rune { return '0' + (r-'0'+1)%10 }, code)
}

func TestRegister(t *testing.T) {
	h := newHarness(t, auth.Limits{})
	h.register(t, "taken@example.com", nextPhone())
	tests := []struct {
		name, email, password, phone string
		code                         auth.Code
		field                        string
	}{
		{"normalised", "  Ada@Example.COM ", password, "(415) 555-0199", "", ""},
		{"bad email", "ada@", password, nextPhone(), auth.CodeBadUserInput, "email"},
		{"long email", strings.Repeat("a", 250) + "@example.com", password, nextPhone(), auth.CodeBadUserInput, "email"},
		{"bad phone", "b@example.com", password, "555", auth.CodeBadUserInput, "phone"},
		{"long phone", "b@example.com", password, "+1" + strings.Repeat(" 4", 20), auth.CodeBadUserInput, "phone"},
		{"letters in phone", "b@example.com", password, "+1 415 FLOWERS", auth.CodeBadUserInput, "phone"},
		{"short password", "b@example.com", "seven77", nextPhone(), auth.CodeBadUserInput, "password"},
		{"73-byte password", "b@example.com", strings.Repeat("x", 73), nextPhone(), auth.CodeBadUserInput, "password"},
		{"common password", "b@example.com", "iloveyou", nextPhone(), auth.CodeBadUserInput, "password"},
		{"common password, other case", "b@example.com", "QWERTY123", nextPhone(), auth.CodeBadUserInput, "password"},
		{"control character", "b@example.com", "correct\x00horse battery", nextPhone(), auth.CodeBadUserInput, "password"},
		{"email taken", "TAKEN@example.com", password, nextPhone(), auth.CodeEmailTaken, "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.hashes.n.Load()
			u, err := h.svc.Register(context.Background(), auth.RegisterInput{Email: tt.email, Password: tt.password, Phone: tt.phone, ClientIP: "192.0.2.1"})
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
			if n := h.hashes.n.Load() - before; tt.code == auth.CodeBadUserInput && n != 0 {
				t.Errorf("Register(%s) computed %d hashes, want 0", tt.name, n)
			}
		})
	}
}

func TestRegisterCountryAllowlist(t *testing.T) {
	h := newHarness(t, auth.Limits{})
	phones, err := input.NewPhones("GB", []int{44})
	if err != nil {
		t.Fatal(err)
	}
	tokens, _ := auth.NewTokens([]byte(secret), "twostep", "twostep", time.Hour, nil)
	svc, err := auth.New(auth.Options{Store: h.db, OTP: h.otp, Tokens: tokens, Phones: phones, BcryptCost: 4, HashLimiter: h.hashes})
	if err != nil {
		t.Fatal(err)
	}
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
			u, err := svc.Register(context.Background(), auth.RegisterInput{Email: string(rune('a'+i)) + "@example.co.uk", Password: password, Phone: tt.phone})
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
	h := newHarness(t, auth.Limits{})
	h.register(t, "ada@example.com", nextPhone())
	var errs []*auth.Error
	for _, email := range []string{"ada@example.com", "nobody@example.com"} {
		before := h.hashes.n.Load()
		_, err := h.svc.Login(context.Background(), auth.LoginInput{Email: email, Password: "wrong password here"})
		errs = append(errs, wantCode(t, "Login("+email+")", err, auth.CodeInvalidCredentials))
		if n := h.hashes.n.Load() - before; n != 1 {
			t.Errorf("Login(%q) computed %d hashes, want 1", email, n)
		}
	}
	if a, b := errs[0], errs[1]; a.Message != b.Message || a.Field != b.Field || a.RetryAfter != b.RetryAfter {
		t.Errorf("wrong password %+v and unknown email %+v differ", a, b)
	}
	if n := h.sends(); n != 0 {
		t.Errorf("failed logins sent %d codes", n)
	}
}

// TestLoginPasswordLength checks that bcrypt's 72-byte limit is enforced,
// never silently applied: a password one byte longer than a registered
// 72-byte one is refused at login rather than matching it.
func TestLoginPasswordLength(t *testing.T) {
	h := newHarness(t, auth.Limits{})
	long := strings.Repeat("é", 35) + "ab" // 72 bytes
	if len(long) != 72 {
		t.Fatalf("test password is %d bytes", len(long))
	}
	if _, err := h.svc.Register(context.Background(), auth.RegisterInput{Email: "ada@example.com", Password: long, Phone: nextPhone()}); err != nil {
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
			h.clock.Advance(time.Minute) // past the phone cooldown
			before := h.hashes.n.Load()
			_, err := h.svc.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: tt.password})
			if tt.code == "" && err != nil {
				t.Fatalf("Login(%s) = %v", tt.name, err)
			}
			if tt.code != "" {
				if ae := wantCode(t, "Login("+tt.name+")", err, tt.code); ae.Field != "password" {
					t.Errorf("Login(%s) field %q, want password", tt.name, ae.Field)
				}
			}
			if n := h.hashes.n.Load() - before; n != tt.hashes {
				t.Errorf("Login(%s) computed %d hashes, want %d", tt.name, n, tt.hashes)
			}
		})
	}
}

// TestLoginRehash checks that a hash of another cost is replaced at the
// configured cost on a successful login, and only then.
func TestLoginRehash(t *testing.T) {
	h := newHarness(t, auth.Limits{})
	h.register(t, "ada@example.com", nextPhone()) // cost 4
	svc5 := h.service(t, h.db, 5, auth.Limits{})
	cost := func() int {
		u, err := h.db.UserByEmail(context.Background(), "ada@example.com")
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
	if _, err := svc5.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: password}); err != nil {
		t.Fatalf("Login(right) at cost 5 = %v", err)
	}
	if c := cost(); c != 5 {
		t.Fatalf("after a login at cost 5 the stored cost is %d, want 5", c)
	}
	h.clock.Advance(time.Minute)
	if _, err := h.svc.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: password}); err != nil {
		t.Fatalf("Login(right) after the rehash = %v", err)
	}
}

func TestVerifyOTP(t *testing.T) {
	ctx := context.Background()
	t.Run("right code", func(t *testing.T) {
		h := newHarness(t, auth.Limits{})
		phone := nextPhone()
		h.register(t, "ada@example.com", phone)
		l := h.login(t, "ada@example.com")
		res, err := h.svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: h.code(t, phone)})
		if err != nil || !res.User.PhoneVerified || res.ExpiresIn != time.Hour {
			t.Fatalf("VerifyOTP(right) = %+v, %v", res, err)
		}
		c, err := h.svc.Authenticate(ctx, res.AccessToken)
		if err != nil || c.Subject != res.User.ID {
			t.Fatalf("Authenticate(issued) = %+v, %v; want sub %s", c, err, res.User.ID)
		}
		_, err = h.svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: h.code(t, phone)})
		wantCode(t, "VerifyOTP(used token)", err, auth.CodeMFATokenInvalid)
	})
	t.Run("five attempts per challenge", func(t *testing.T) {
		h := newHarness(t, auth.Limits{})
		phone := nextPhone()
		h.register(t, "ada@example.com", phone)
		l := h.login(t, "ada@example.com")
		bad := wrongCode(h.code(t, phone))
		for want := 4; want >= 0; want-- {
			_, err := h.svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: bad})
			if ae := wantCode(t, "VerifyOTP(wrong)", err, auth.CodeInvalidOTP); ae.AttemptsLeft != want {
				t.Fatalf("VerifyOTP(wrong) attemptsLeft %d, want %d", ae.AttemptsLeft, want)
			}
		}
		h.emu.ResetRequests()
		_, err := h.svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: h.code(t, phone)})
		wantCode(t, "VerifyOTP(right, 6th)", err, auth.CodeMFATokenInvalid)
		if n := h.checks(); n != 0 {
			t.Fatalf("6th attempt reached Twilio %d times, want 0", n)
		}
	})
	t.Run("malformed codes never reach Twilio", func(t *testing.T) {
		h := newHarness(t, auth.Limits{})
		phone := nextPhone()
		h.register(t, "ada@example.com", phone)
		l := h.login(t, "ada@example.com")
		h.emu.ResetRequests()
		for _, code := range []string{"", "123", "12345678901", "12a456", "１２３４５６", "١٢٣٤٥٦", "12 456", "123456\x00", "-12345", strings.Repeat("1", 1000)} {
			_, err := h.svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: code})
			if ae := wantCode(t, "VerifyOTP("+code+")", err, auth.CodeBadUserInput); ae.Field != "code" {
				t.Errorf("VerifyOTP(%q) field %q, want code", code, ae.Field)
			}
		}
		for _, tok := range []string{"", "not a token", strings.Repeat("A", 129), "a===", "abc/def"} {
			_, err := h.svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: tok, Code: "123456"})
			if ae := wantCode(t, "VerifyOTP(token "+tok+")", err, auth.CodeBadUserInput); ae.Field != "mfaToken" {
				t.Errorf("VerifyOTP(token %q) field %q, want mfaToken", tok, ae.Field)
			}
		}
		if n := len(h.emu.Requests()); n != 0 {
			t.Fatalf("malformed input made %d Twilio requests, want 0", n)
		}
		// No attempt was used up: the right code still works.
		if _, err := h.svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: " " + h.code(t, phone) + " "}); err != nil {
			t.Fatalf("VerifyOTP(right, padded) after malformed codes = %v", err)
		}
	})
	t.Run("expired challenge", func(t *testing.T) {
		h := newHarness(t, auth.Limits{})
		phone := nextPhone()
		h.register(t, "ada@example.com", phone)
		l := h.login(t, "ada@example.com")
		if want := h.clock.Now().Add(auth.DefaultChallengeTTL); !l.ExpiresAt.Equal(want) {
			t.Errorf("ExpiresAt = %v, want %v", l.ExpiresAt, want)
		}
		h.clock.Advance(auth.DefaultChallengeTTL + time.Second)
		h.emu.ResetRequests()
		_, err := h.svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: h.code(t, phone)})
		wantCode(t, "VerifyOTP(expired)", err, auth.CodeMFATokenInvalid)
		if n := h.checks(); n != 0 {
			t.Fatalf("expired challenge reached Twilio %d times", n)
		}
	})
}

// token signs claims with method and key, adding headers.
func token(tb testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims, headers map[string]any) string {
	tb.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["typ"] = auth.AccessTokenType
	for k, v := range headers {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestTokensVerify(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tokens, err := auth.NewTokens([]byte(secret), "twostep", "twostep", time.Hour, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
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
	pubDER, _ := x509.MarshalPKIXPublicKey(&attacker.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	jwk := map[string]any{
		"kty": "RSA",
		"n":   base64.RawURLEncoding.EncodeToString(attacker.N.Bytes()),
		"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(attacker.E)).Bytes()),
	}
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{
			"sub": "user-1", "iss": "twostep", "aud": []string{"twostep"}, "jti": "j",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}
		if edit != nil {
			edit(c)
		}
		return c
	}
	hs := []byte(secret)
	lookupHeaders := map[string]any{"kid": trap.URL + "/kid", "jku": trap.URL + "/jwks.json", "x5u": trap.URL + "/cert.pem", "jwk": jwk}
	issued, _, err := tokens.Issue("user-1", []string{"pwd", "sms", "mfa"})
	if err != nil {
		t.Fatal(err)
	}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	noneTyped := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil))
		tok.Header["typ"] = auth.AccessTokenType
		s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		return s
	}()
	valid := token(t, jwt.SigningMethodHS256, hs, claims(nil), nil)
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin","iss":"twostep","aud":"twostep","exp":9999999999}`)) + "." + parts[2]

	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"issued", issued, true},
		{"valid", valid, true},
		{"kid, jku, x5u and jwk are ignored", token(t, jwt.SigningMethodHS256, hs, claims(nil), lookupHeaders), true},
		{"aud as a string", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { c["aud"] = "twostep" }), nil), true},
		{"aud among others", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { c["aud"] = []string{"other", "twostep"} }), nil), true},
		{"expired within the leeway", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-20 * time.Second).Unix() }), nil), true},
		{"not yet valid within the leeway", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(20 * time.Second).Unix() }), nil), true},

		{"RS256 with the attacker's jwk and jku", token(t, jwt.SigningMethodRS256, attacker, claims(nil), lookupHeaders), false},
		{"HS256 keyed with a public key", token(t, jwt.SigningMethodHS256, pubPEM, claims(nil), map[string]any{"jwk": jwk}), false},
		{"alg none", none, false},
		{"alg none with typ", noneTyped, false},
		{"HS512 with the right secret", token(t, jwt.SigningMethodHS512, hs, claims(nil), nil), false},
		{"HS384 with the right secret", token(t, jwt.SigningMethodHS384, hs, claims(nil), nil), false},
		{"other secret", token(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-another"), claims(nil), nil), false},
		{"tampered payload", tampered, false},
		{"no typ", token(t, jwt.SigningMethodHS256, hs, claims(nil), map[string]any{"typ": nil}), false},
		{"typ JWT", token(t, jwt.SigningMethodHS256, hs, claims(nil), map[string]any{"typ": "JWT"}), false},
		{"no exp", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { delete(c, "exp") }), nil), false},
		{"expired past the leeway", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-45 * time.Second).Unix() }), nil), false},
		{"not yet valid past the leeway", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(45 * time.Second).Unix() }), nil), false},
		{"issued in the future", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { c["iat"] = now.Add(45 * time.Second).Unix() }), nil), false},
		{"wrong iss", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { c["iss"] = "evil" }), nil), false},
		{"no iss", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { delete(c, "iss") }), nil), false},
		{"wrong aud", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { c["aud"] = "other" }), nil), false},
		{"no aud", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { delete(c, "aud") }), nil), false},
		{"no sub", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { delete(c, "sub") }), nil), false},
		{"garbage", "a.b.c", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tokens.Verify(tt.token)
			if tt.ok && (err != nil || c.Subject != "user-1") {
				t.Fatalf("Verify(%s) = %+v, %v; want sub user-1", tt.name, c, err)
			}
			if !tt.ok && err == nil {
				t.Fatalf("Verify(%s) = %+v, want an error", tt.name, c)
			}
		})
	}
	if n := lookups.Load(); n != 0 {
		t.Fatalf("token headers caused %d key lookups, want 0", n)
	}
}

func TestAuthenticate(t *testing.T) {
	h := newHarness(t, auth.Limits{})
	for _, tok := range []string{"", "not.a.jwt", "bm90LWEtcmVhbC10b2tlbg"} {
		_, err := h.svc.Authenticate(context.Background(), tok)
		wantCode(t, "Authenticate("+tok+")", err, auth.CodeUnauthenticated)
	}
	_, err := h.svc.User(context.Background(), "no-such-user")
	wantCode(t, "User(unknown)", err, auth.CodeUnauthenticated)
}

func TestNewTokens(t *testing.T) {
	tests := []struct {
		name     string
		secret   string
		iss, aud string
		ttl      time.Duration
	}{
		{"short secret", strings.Repeat("k", auth.MinSecretLen-1), "twostep", "twostep", time.Hour},
		{"no issuer", secret, "", "twostep", time.Hour},
		{"no audience", secret, "twostep", "", time.Hour},
		{"zero ttl", secret, "twostep", "twostep", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := auth.NewTokens([]byte(tt.secret), tt.iss, tt.aud, tt.ttl, nil); err == nil {
				t.Fatalf("NewTokens(%s) = nil error", tt.name)
			}
		})
	}
}
