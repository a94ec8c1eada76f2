package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
)

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
	tokens, err := auth.HS256Tokens([]byte(authtest.Secret), "twostep", "twostep", time.Hour, func() time.Time { return now })
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
	hs := []byte(authtest.Secret)
	lookupHeaders := map[string]any{"kid": trap.URL + "/kid", "jku": trap.URL + "/jwks.json", "x5u": trap.URL + "/cert.pem", "jwk": jwk}
	issued, _, err := tokens.Issue("user-1", "", []string{"pwd", "sms", "mfa"}, time.Time{})
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
		{"a crit header", token(t, jwt.SigningMethodHS256, hs, claims(nil), map[string]any{"crit": []string{"exp2"}, "exp2": 1}), false},
		{"no iat", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { delete(c, "iat") }), nil), false},
		{"a lifetime over 24h", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(25 * time.Hour).Unix() }), nil), false},
		{"a 24h lifetime", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(24 * time.Hour).Unix() }), nil), true},
		{"exp as a string", token(t, jwt.SigningMethodHS256, hs, claims(func(c jwt.MapClaims) { c["exp"] = "9999999999" }), nil), false},
		{"the signature's spare bits changed", respell(valid), false},
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

// respell changes the unused low bits of a token's last base64 character:
// the same signature bytes to a lenient decoder, another string.
func respell(tok string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	return tok[:len(tok)-1] + string(alphabet[last^1])
}

func TestAuthenticate(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	for _, tok := range []string{"", "not.a.jwt", "bm90LWEtcmVhbC10b2tlbg"} {
		_, err := h.Svc.Authenticate(context.Background(), tok)
		wantCode(t, "Authenticate("+tok+")", err, auth.CodeUnauthenticated)
	}
	// A valid token of a user who does not exist.
	tok, _, err := h.Tokens.Issue("no-such-user", "", []string{"pwd"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Svc.Authenticate(context.Background(), tok)
	wantCode(t, "Authenticate(unknown user)", err, auth.CodeUnauthenticated)
}

func TestNewTokens(t *testing.T) {
	tests := []struct {
		name     string
		secret   string
		iss, aud string
		ttl      time.Duration
	}{
		{"short secret", strings.Repeat("k", auth.MinSecretLen-1), "twostep", "twostep", time.Hour},
		{"no issuer", authtest.Secret, "", "twostep", time.Hour},
		{"no audience", authtest.Secret, "twostep", "", time.Hour},
		{"zero ttl", authtest.Secret, "twostep", "twostep", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := auth.HS256Tokens([]byte(tt.secret), tt.iss, tt.aud, tt.ttl, nil); err == nil {
				t.Fatalf("NewTokens(%s) = nil error", tt.name)
			}
		})
	}
}

// TestTokensVerifyRemembers checks the cache of verified tokens: a token
// verified before is accepted again until it expires (with the leeway),
// and never after, and a token that differs by one character is verified
// on its own (and refused).
func TestTokensVerifyRemembers(t *testing.T) {
	clock := authtest.NewClock(authtest.Start)
	tokens, err := auth.HS256Tokens([]byte(authtest.Secret), "twostep", "twostep", time.Minute, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := tokens.Issue("u1", "", []string{"pwd"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if c, err := tokens.Verify(tok); err != nil || c.Subject != "u1" {
			t.Fatalf("Verify() #%d = %+v, %v, want sub u1", i, c, err)
		}
	}
	swap := byte('A')
	if tok[len(tok)-2] == 'A' {
		swap = 'B'
	}
	tampered := tok[:len(tok)-2] + string(swap) + tok[len(tok)-1:]
	if _, err := tokens.Verify(tampered); err == nil {
		t.Errorf("Verify(tampered) = nil error, want one")
	}
	clock.Advance(time.Minute + 29*time.Second) // within the 30 s leeway
	if _, err := tokens.Verify(tok); err != nil {
		t.Errorf("Verify() within the leeway = %v, want nil", err)
	}
	clock.Advance(time.Second)
	if _, err := tokens.Verify(tok); err == nil {
		t.Errorf("Verify() once expired = nil error, want one (a remembered token must expire too)")
	}
}
