package auth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
)

// jwk returns a fresh private JWK for alg with key_ops.
func jwk(t *testing.T, alg string, sign bool) string {
	t.Helper()
	b, err := auth.GenerateJWK(alg, sign)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func set(keys ...string) []byte { return []byte(`{"keys":[` + strings.Join(keys, ",") + `]}`) }

func kidOf(t *testing.T, key string) string {
	t.Helper()
	var m struct{ Kid string }
	if err := json.Unmarshal([]byte(key), &m); err != nil {
		t.Fatal(err)
	}
	return m.Kid
}

func tokensWith(t *testing.T, keys []byte, secret []byte) *auth.Tokens {
	t.Helper()
	sk, err := auth.NewSigningKeys(keys, secret)
	if err != nil {
		t.Fatalf("NewSigningKeys() = %v", err)
	}
	tok, err := auth.NewTokens(auth.TokenConfig{Keys: sk, Issuer: "twostep", Audience: "twostep", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSigningKeysErrors(t *testing.T) {
	ed := jwk(t, auth.AlgEdDSA, true)
	edVerify := jwk(t, auth.AlgEdDSA, false)
	withOps := func(key, ops string) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(key), &m)
		if ops == "" {
			delete(m, "key_ops")
		} else {
			var v any
			_ = json.Unmarshal([]byte(ops), &v)
			m["key_ops"] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	without := func(key, member string) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(key), &m)
		delete(m, member)
		b, _ := json.Marshal(m)
		return string(b)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384JWK, _ := json.Marshal(jose.JSONWebKey{Key: p384, KeyID: "p384"})
	// A P-256 key whose private scalar is another key's, or zero: go-jose
	// takes both.
	es, other := jwk(t, auth.AlgES256, true), jwk(t, auth.AlgES256, true)
	member := func(key, name string) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(key), &m)
		return m[name].(string)
	}
	swapD := strings.Replace(es, member(es, "d"), member(other, "d"), 1)
	zeroD := strings.Replace(es, member(es, "d"), strings.Repeat("A", len(member(es, "d"))), 1)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaJWK, _ := json.Marshal(jose.JSONWebKey{Key: rsaKey, KeyID: "rsa"})
	tests := []struct {
		name   string
		keys   []byte
		secret []byte
		want   string
	}{
		{"nothing", nil, nil, "no signing key"},
		{"short secret", nil, []byte("short"), "at least 32"},
		{"not a set", []byte(`[` + ed + `]`), nil, "not a JWK Set"},
		{"no signing key", set(edVerify), nil, `no key has key_ops "sign"`},
		{"two signing keys", set(ed, jwk(t, auth.AlgES256, true)), nil, "more than one"},
		{"duplicate kid", set(ed, strings.Replace(edVerify, kidOf(t, edVerify), kidOf(t, ed), 1)), nil, "twice"},
		{"no kid", set(without(ed, "kid")), nil, "no kid"},
		{"no key_ops", set(withOps(ed, "")), nil, "no key_ops"},
		{"odd key_ops", set(withOps(ed, `["encrypt"]`)), nil, "key_ops"},
		{"sign without the private key", set(withOps(without(ed, "d"), `["sign"]`)), nil, "private key"},
		{"alg that does not fit", set(strings.Replace(ed, `"alg":"EdDSA"`, `"alg":"ES256"`, 1)), nil, "does not fit"},
		{"P-384", set(withOps(string(p384JWK), `["sign"]`)), nil, "P-256"},
		{"RSA", set(withOps(string(rsaJWK), `["sign"]`)), nil, "Ed25519"},
		{"P-256 private part of another key", set(swapD), nil, "does not match"},
		{"P-256 private part zero", set(zeroD), nil, "does not match"},
		{"verify-only key with a wrong private part", set(ed, withOps(swapD, `["verify"]`)), nil, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.NewSigningKeys(tt.keys, tt.secret)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewSigningKeys(%s) = %v, want an error saying %q", tt.name, err, tt.want)
			}
			for _, secret := range []string{`"d":"`, authtest.Secret} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows key material", err)
				}
			}
		})
	}
}

// TestJWKS: the published set holds the public part of every key, verify-
// only keys included, and no private member.
func TestJWKS(t *testing.T) {
	signer, old := jwk(t, auth.AlgEdDSA, true), jwk(t, auth.AlgES256, false)
	sk, err := auth.NewSigningKeys(set(signer, old), []byte(authtest.Secret))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(sk.JWKS(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Keys) != 2 {
		t.Fatalf("JWKS() = %s, want 2 keys (the secret is never published)", sk.JWKS())
	}
	for _, k := range got.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				t.Errorf("JWKS() key %v has private member %q", k["kid"], private)
			}
		}
		if k["use"] != "sig" || k["alg"] == nil || k["kid"] == nil {
			t.Errorf("JWKS() key %v, want use sig, alg and kid", k)
		}
	}
}

func TestAsymmetricTokens(t *testing.T) {
	for _, alg := range []string{auth.AlgEdDSA, auth.AlgES256} {
		t.Run(alg, func(t *testing.T) {
			key := jwk(t, alg, true)
			tokens := tokensWith(t, set(key), nil)
			tok, _, err := tokens.Issue("u1", "s1", []string{"pwd"}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			parsed, _, _ := jwt.NewParser().ParseUnverified(tok, &jwt.RegisteredClaims{})
			if parsed.Header["alg"] != alg || parsed.Header["kid"] != kidOf(t, key) || parsed.Header["typ"] != "at+jwt" {
				t.Fatalf("header %v, want alg %s, its kid, typ at+jwt", parsed.Header, alg)
			}
			c, err := tokens.Verify(tok)
			if err != nil || c.Subject != "u1" || c.SID != "s1" {
				t.Fatalf("Verify() = %+v, %v", c, err)
			}
		})
	}
}

// TestKeyRotation walks the README's steps: tokens of a retired signing key
// verify while it stays as verify-only, and HS256 tokens while JWT_SECRET
// is kept during a migration.
func TestKeyRotation(t *testing.T) {
	oldKey := jwk(t, auth.AlgEdDSA, true)
	oldTokens := tokensWith(t, set(oldKey), nil)
	oldTok, _, _ := oldTokens.Issue("u1", "s1", []string{"pwd"}, time.Time{})
	hsTokens := tokensWith(t, nil, []byte(authtest.Secret))
	hsTok, _, _ := hsTokens.Issue("u1", "s1", []string{"pwd"}, time.Time{})

	retired := strings.Replace(oldKey, `"key_ops":["sign","verify"]`, `"key_ops":["verify"]`, 1)
	newKey := jwk(t, auth.AlgES256, true)
	during := tokensWith(t, set(newKey, retired), []byte(authtest.Secret))
	for name, tok := range map[string]string{"old key's": oldTok, "HS256": hsTok} {
		if _, err := during.Verify(tok); err != nil {
			t.Errorf("Verify(%s token) during the rotation = %v, want nil", name, err)
		}
	}
	fresh, _, _ := during.Issue("u1", "s1", []string{"pwd"}, time.Time{})
	if p, _, _ := jwt.NewParser().ParseUnverified(fresh, &jwt.RegisteredClaims{}); p.Header["alg"] != auth.AlgES256 {
		t.Errorf("new tokens signed with %v, want the signing key's ES256", p.Header["alg"])
	}
	after := tokensWith(t, set(newKey), nil)
	for name, tok := range map[string]string{"old key's": oldTok, "HS256": hsTok} {
		if _, err := after.Verify(tok); err == nil {
			t.Errorf("Verify(%s token) once its key is gone = nil error", name)
		}
	}
}

// TestAsymmetricAttacks: the algorithm is pinned per key, a kid selects
// only among configured keys, and no header brings in a key.
func TestAsymmetricAttacks(t *testing.T) {
	edKey := jwk(t, auth.AlgEdDSA, true)
	tokens := tokensWith(t, set(edKey), nil)
	_, attackerPriv, _ := ed25519.GenerateKey(rand.Reader)
	claims := jwt.MapClaims{"sub": "u1", "iss": "twostep", "aud": "twostep", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	sign := func(method jwt.SigningMethod, key any, headers map[string]any) string {
		tok := jwt.NewWithClaims(method, claims)
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
	pubJWK, _ := json.Marshal(jose.JSONWebKey{Key: attackerPriv.Public(), KeyID: kidOf(t, edKey)})
	tests := map[string]string{
		"attacker key under our kid":      sign(jwt.SigningMethodEdDSA, attackerPriv, map[string]any{"kid": kidOf(t, edKey)}),
		"attacker key in a jwk header":    sign(jwt.SigningMethodEdDSA, attackerPriv, map[string]any{"kid": kidOf(t, edKey), "jwk": json.RawMessage(pubJWK)}),
		"attacker key behind jku":         sign(jwt.SigningMethodEdDSA, attackerPriv, map[string]any{"kid": "x", "jku": "http://127.0.0.1:1/jwks.json"}),
		"HS256 keyed with the public key": sign(jwt.SigningMethodHS256, []byte(kidOf(t, edKey)), map[string]any{"kid": kidOf(t, edKey)}),
		"HS256 when only keys are set":    sign(jwt.SigningMethodHS256, []byte(authtest.Secret), nil),
		"unsigned":                        sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": kidOf(t, edKey)}),
		"no kid":                          sign(jwt.SigningMethodEdDSA, attackerPriv, nil),
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := tokens.Verify(tok); err == nil {
				t.Fatalf("Verify(%s) = nil error", name)
			}
		})
	}
}
