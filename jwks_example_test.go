package main

// This file is the README's example of a Go service verifying twostep's
// access tokens from the JWKS URL alone; TestJWKS runs it against a real
// server. Keep the two in step.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// twostepClaims are the claims a service reads.
type twostepClaims struct {
	jwt.RegisteredClaims          // sub: the user id; exp: when the token dies
	SID                  string   `json:"sid"` // the session: logout and revocation end it
	AMR                  []string `json:"amr"` // ["pwd","sms","mfa"]: password and SMS code
}

// twostepKeys holds twostep's published keys. It fetches them when it
// meets a kid it does not know (twostep rotated its key), at most once a
// minute, so forged kids cannot make it hammer the server.
type twostepKeys struct {
	url     string
	mu      sync.Mutex
	set     jose.JSONWebKeySet
	fetched time.Time
}

func (k *twostepKeys) key(kid string) (*jose.JSONWebKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if found := k.set.Key(kid); len(found) == 1 {
		return &found[0], nil
	}
	if time.Since(k.fetched) < time.Minute {
		return nil, fmt.Errorf("unknown key %q", kid)
	}
	k.fetched = time.Now()
	resp, err := http.Get(k.url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", k.url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&k.set); err != nil {
		return nil, err
	}
	if found := k.set.Key(kid); len(found) == 1 {
		return &found[0], nil
	}
	return nil, fmt.Errorf("unknown key %q", kid)
}

// verify checks an access token: signature by a published key with that
// key's own algorithm (never HS256 or none), typ, iss, aud and exp.
func (k *twostepKeys) verify(token string) (*twostepClaims, error) {
	var claims twostepClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		if t.Header["typ"] != "at+jwt" {
			return nil, fmt.Errorf("typ %v, want at+jwt", t.Header["typ"])
		}
		kid, _ := t.Header["kid"].(string) // only keys from the URL; never jku, x5u or jwk
		key, err := k.key(kid)
		if err != nil {
			return nil, err
		}
		if key.Algorithm != t.Method.Alg() {
			return nil, fmt.Errorf("key %q is for %s, token says %s", kid, key.Algorithm, t.Method.Alg())
		}
		return key.Key, nil
	},
		jwt.WithValidMethods([]string{"EdDSA", "ES256"}),
		jwt.WithIssuer("twostep"), jwt.WithAudience("twostep"),
		jwt.WithExpirationRequired(), jwt.WithLeeway(30*time.Second))
	if err != nil {
		return nil, err
	}
	return &claims, nil
}
