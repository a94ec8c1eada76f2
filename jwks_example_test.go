package main

// This file is the README's example of a Go service verifying twostep's
// access tokens from the JWKS URL alone; TestJWKS runs it against a real
// server. Keep the two in step.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// twostepClaims are the claims a service reads.
type twostepClaims struct {
	jwt.RegisteredClaims
	SID string   `json:"sid"` // the session: logout and revocation end it
	AMR []string `json:"amr"` // ["pwd","sms","mfa"]: password and SMS code
}

// verifyWithJWKS checks an access token with the keys published at
// jwksURL. A real service fetches the set once and again only for an
// unknown kid (or every ten minutes, as Cache-Control says).
func verifyWithJWKS(jwksURL, token string) (*twostepClaims, error) {
	resp, err := http.Get(jwksURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, err
	}
	var claims twostepClaims
	_, err = jwt.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		if t.Header["typ"] != "at+jwt" {
			return nil, errors.New("not an access token")
		}
		kid, _ := t.Header["kid"].(string)
		keys := set.Key(kid) // only keys the server published; never jku, x5u or jwk
		if len(keys) != 1 || keys[0].Algorithm != t.Method.Alg() {
			return nil, fmt.Errorf("unknown key %q", kid)
		}
		return keys[0].Key, nil
	},
		jwt.WithValidMethods([]string{"EdDSA", "ES256"}), // never HS256 or none from a public key
		jwt.WithIssuer("twostep"), jwt.WithAudience("twostep"),
		jwt.WithExpirationRequired(), jwt.WithLeeway(30*time.Second))
	if err != nil {
		return nil, err
	}
	return &claims, nil
}
