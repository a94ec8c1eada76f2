package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
)

// Sessions over HTTP, on SQLite and PostgreSQL (two replicas there): every
// rule is proven in auth on a fake clock (auth/sessions_test.go); here the
// settings reach them and replicas share them.

func refreshOp(tb testing.TB, srv *apptest.Server, token string) *gqltest.Response {
	tb.Helper()
	return srv.Post(tb, gqltest.RefreshOp, map[string]any{"refreshToken": token})
}

func TestSessionsOverHTTP(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, dialect string) {
		srvs := servers(t, dialect, map[string]string{"LIMIT_PHONE_COOLDOWN": "0"})
		a, b := srvs[0], srvs[len(srvs)-1]
		phone := apptest.NextPhone()
		a.Register(t, "ada@example.com", phone)
		first := a.Verify(t, a.Login(t, "ada@example.com").MFAToken, phone)
		a.Emu.Advance(10 * time.Minute)
		second := b.Verify(t, b.Login(t, "ada@example.com").MFAToken, phone)

		// Refresh on the other replica.
		var next gqltest.Auth
		refreshOp(t, b, first.RefreshToken).Decode(t, "refreshSession", &next)
		if next.RefreshToken == first.RefreshToken || next.AccessToken == "" || next.User.Email != "ada@example.com" {
			t.Fatalf("refreshSession = %+v, want a new pair", next)
		}
		var list []struct {
			ID      string
			Current bool
		}
		a.Do(t, gqltest.Op{Query: gqltest.SessionsOp, Bearer: next.AccessToken}).Decode(t, "sessions", &list)
		if len(list) != 2 || list[0].Current || !list[1].Current {
			t.Fatalf("sessions = %+v, want 2, newest first, the first session current", list)
		}
		// The first session logs out the others: the second's tokens stop
		// working on every replica at once.
		r := b.Do(t, gqltest.Op{Query: gqltest.LogoutOp, Variables: map[string]any{"scope": "OTHERS"}, Bearer: next.AccessToken})
		if r.Code() != "" || !r.Has(`"revokedSessions":1`) {
			t.Fatalf("logout(OTHERS) = %s, want 1 revoked", r.Body)
		}
		for _, srv := range srvs {
			if r := srv.Do(t, gqltest.Op{Query: gqltest.MeOp, Bearer: second.AccessToken}); r.Code() != "UNAUTHENTICATED" {
				t.Errorf("me with a logged-out session = %s, want UNAUTHENTICATED", r.Body)
			}
			if r := refreshOp(t, srv, second.RefreshToken); r.Code() != "REFRESH_TOKEN_INVALID" {
				t.Errorf("refreshSession of a logged-out session = %s, want REFRESH_TOKEN_INVALID", r.Body)
			}
		}
		if r := a.Do(t, gqltest.Op{Query: gqltest.MeOp, Bearer: next.AccessToken}); r.Code() != "" {
			t.Fatalf("me = %s", r.Body)
		}
	})
}

// TestRefreshSettings: REFRESH_TOKEN_REUSE_INTERVAL, SESSION_IDLE_TIMEOUT
// and SESSION_MAX_AGE reach their rules, on a fake clock.
func TestRefreshSettings(t *testing.T) {
	t.Parallel()
	clock := newClock()
	srv := apptest.Start(t, apptest.Options{Clock: clock, Env: map[string]string{
		"REFRESH_TOKEN_REUSE_INTERVAL": "2s", "SESSION_IDLE_TIMEOUT": "1h", "SESSION_MAX_AGE": "2h", "ACCESS_TOKEN_TTL": "5m",
	}})
	phone := apptest.NextPhone()
	srv.Register(t, "ada@example.com", phone)
	s0 := srv.Verify(t, srv.Login(t, "ada@example.com").MFAToken, phone)
	if s0.ExpiresIn != 300 || !s0.RefreshExpiresAt.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("verifyOtp = %+v, want expiresIn 300 and refreshExpiresAt an hour away", s0)
	}
	var s1 gqltest.Auth
	refreshOp(t, srv, s0.RefreshToken).Decode(t, "refreshSession", &s1)
	clock.Advance(time.Second)
	if r := refreshOp(t, srv, s0.RefreshToken); r.Code() != "" || !r.Has(s1.RefreshToken) {
		t.Fatalf("refreshSession(previous) within 2s = %s, want the current refresh token", r.Body)
	}
	clock.Advance(2 * time.Second)
	if r := refreshOp(t, srv, s0.RefreshToken); r.Code() != "REFRESH_TOKEN_INVALID" {
		t.Fatalf("refreshSession(previous) after 3s = %s, want REFRESH_TOKEN_INVALID", r.Body)
	}
	if r := srv.Do(t, gqltest.Op{Query: gqltest.MeOp, Bearer: s1.AccessToken}); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("me after reuse was detected = %s, want UNAUTHENTICATED", r.Body)
	}

	srv.Emu.Advance(10 * time.Minute)
	s0 = srv.Verify(t, srv.Login(t, "ada@example.com").MFAToken, phone)
	clock.Advance(61 * time.Minute)
	if r := refreshOp(t, srv, s0.RefreshToken); r.Code() != "REFRESH_TOKEN_INVALID" {
		t.Fatalf("refreshSession after 61 idle minutes = %s, want REFRESH_TOKEN_INVALID", r.Body)
	}
	srv.Emu.Advance(10 * time.Minute)
	cur := srv.Verify(t, srv.Login(t, "ada@example.com").MFAToken, phone).RefreshToken
	for range 3 {
		clock.Advance(50 * time.Minute)
		var n gqltest.Auth
		r := refreshOp(t, srv, cur)
		if r.Code() != "" {
			if r.Code() != "REFRESH_TOKEN_INVALID" {
				t.Fatalf("refreshSession = %s", r.Body)
			}
			return // the 2 hours are over at the third
		}
		r.Decode(t, "refreshSession", &n)
		cur = n.RefreshToken
	}
	t.Fatalf("a session refreshed every 50 minutes outlived SESSION_MAX_AGE=2h")
}

// TestRefreshRaceAcrossReplicas: many refreshes with one token at once, on
// every replica: none revokes the session, each gets the one next pair.
func TestRefreshRaceAcrossReplicas(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, dialect string) {
		srvs := servers(t, dialect, map[string]string{"LIMIT_REFRESH_PER_IP": "0"})
		phone := apptest.NextPhone()
		srvs[0].Register(t, "ada@example.com", phone)
		s := srvs[0].Verify(t, srvs[0].Login(t, "ada@example.com").MFAToken, phone)
		const n = 12
		resps := across(t, srvs, n, gqltest.RefreshOp, sameVars(map[string]any{"refreshToken": s.RefreshToken}))
		var next string
		for i, r := range resps {
			var a gqltest.Auth
			if r.Code() != "" || json.Unmarshal(r.Data["refreshSession"], &a) != nil {
				t.Fatalf("concurrent refresh #%d = %s", i, r.Body)
			}
			if next == "" {
				next = a.RefreshToken
			}
			if a.RefreshToken != next {
				t.Fatalf("concurrent refreshes returned %q and %q, want one next token", next, a.RefreshToken)
			}
		}
		for _, srv := range srvs {
			if r := refreshOp(t, srv, next); r.Code() != "" {
				t.Fatalf("refresh with the next token = %s", r.Body)
			}
			break
		}
	})
}

// TestJWKS: with JWT_SIGNING_KEYS, tokens are signed by the signing key
// and /.well-known/jwks.json serves the public keys, cacheable, with no
// private member; a service that knows only that URL verifies the tokens
// (twostepKeys, the README's Go example).
func TestJWKS(t *testing.T) {
	t.Parallel()
	var key, set strings.Builder
	if err := run(t.Context(), []string{"keygen", "-alg", "ES256"}, func(string) string { return "" }, &key, io.Discard); err != nil {
		t.Fatalf("twostep keygen = %v", err)
	}
	var jwk struct{ Kty, Crv, Alg, Kid, D string }
	if err := json.Unmarshal([]byte(key.String()), &jwk); err != nil || jwk.Kty != "EC" || jwk.Crv != "P-256" || jwk.Alg != "ES256" || jwk.Kid == "" || jwk.D == "" {
		t.Fatalf("twostep keygen -alg ES256 = %s, %v, want a private P-256 JWK with a kid", key.String(), err)
	}
	if err := run(t.Context(), []string{"keygen", "-set"}, func(string) string { return "" }, &set, io.Discard); err != nil {
		t.Fatalf("twostep keygen -set = %v", err)
	}
	if _, err := auth.NewSigningKeys([]byte(set.String()), nil); err != nil {
		t.Fatalf("twostep keygen -set = %s: not usable as JWT_SIGNING_KEYS: %v", set.String(), err)
	}
	srv := apptest.Start(t, apptest.Options{Env: map[string]string{"JWT_SECRET": "", "JWT_SIGNING_KEYS": `{"keys":[` + key.String() + `]}`}})
	_, h, body := get(t, srv, "/.well-known/jwks.json")
	if h.Get("Cache-Control") != "public, max-age=600" || strings.Contains(body, `"d"`) || !strings.Contains(body, `"ES256"`) {
		t.Fatalf("GET /.well-known/jwks.json = %s %v, want the public ES256 key, cacheable for 10 minutes", body, h)
	}
	tok := srv.SignIn(t, "ada@example.com", apptest.NextPhone())
	keys := &twostepKeys{url: srv.URL + "/.well-known/jwks.json"}
	claims, err := keys.verify(tok)
	if err != nil || claims.SID == "" || claims.Subject == "" || fmt.Sprint(claims.AMR) != "[pwd sms mfa]" {
		t.Fatalf("verify = %+v, %v, want sub, sid and amr", claims, err)
	}
	// Forgeries: a changed signature; the claims re-signed with HS256 keyed
	// by the public key (algorithm confusion); alg none; an unknown kid.
	parts := strings.Split(tok, ".")
	var header map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	_ = json.Unmarshal(raw, &header)
	pub, err := keys.key(header["kid"].(string))
	if err != nil {
		t.Fatal(err)
	}
	pubJSON, _ := pub.Public().MarshalJSON()
	forge := func(alg jwt.SigningMethod, key any, kid string) string {
		var mc jwt.MapClaims
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		_ = json.Unmarshal(payload, &mc)
		ft := jwt.NewWithClaims(alg, mc)
		ft.Header["typ"], ft.Header["kid"] = "at+jwt", kid
		s, err := ft.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for name, bad := range map[string]string{
		"tampered signature":            tok[:len(tok)-4] + "AAAA",
		"HS256 keyed by the public key": forge(jwt.SigningMethodHS256, pubJSON, header["kid"].(string)),
		"alg none":                      forge(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, header["kid"].(string)),
		"unknown kid":                   forge(jwt.SigningMethodHS256, []byte("0123456789abcdef0123456789abcdef"), "not-a-kid"),
	} {
		if _, err := keys.verify(bad); err == nil {
			t.Errorf("verify(%s) = nil error", name)
		}
	}
}
