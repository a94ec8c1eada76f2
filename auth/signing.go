package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// Algorithms of access tokens. Each key is pinned to one.
const (
	AlgHS256 = "HS256" // JWT_SECRET, shared with whoever verifies
	AlgEdDSA = "EdDSA" // Ed25519 signing keys
	AlgES256 = "ES256" // P-256 signing keys
)

// SigningKeys are the keys of access tokens: the one that signs new tokens,
// and every key old or new tokens may carry. Asymmetric keys come from a
// JWK Set (JWT_SIGNING_KEYS) and their public parts are published (JWKS);
// a shared HS256 secret (JWT_SECRET) signs only when no signing key is
// configured, and verifies while it is configured (migration).
type SigningKeys struct {
	signer *signingKey            // nil: HS256 with secret signs
	secret []byte                 // nil when JWT_SECRET is not set
	byKID  map[string]*signingKey // every asymmetric key, by kid
	jwks   []byte                 // the public JWK Set, as served
}

type signingKey struct {
	kid    string
	alg    string
	method jwt.SigningMethod
	signer crypto.Signer // nil for a verify-only public key
	public crypto.PublicKey
}

// MinSecretLen is the shortest HS256 key accepted, in bytes.
const MinSecretLen = 32

// NewSigningKeys builds the keys from a JWK Set of private keys (jwks, may
// be empty) and an HS256 secret (may be nil); at least one is required.
// In the set, every key needs a kid, is Ed25519 (kty OKP, crv Ed25519,
// alg EdDSA) or P-256 (kty EC, crv P-256, alg ES256), and has key_ops:
// exactly one key's contain "sign", the others' are only "verify". Errors
// name the offending key by kid, never a key's material.
func NewSigningKeys(jwks []byte, secret []byte) (*SigningKeys, error) {
	k := &SigningKeys{byKID: map[string]*signingKey{}}
	if secret != nil {
		if len(secret) < MinSecretLen {
			return nil, fmt.Errorf("auth: jwt secret must be at least %d bytes", MinSecretLen)
		}
		k.secret = slices.Clone(secret)
	}
	var public []jose.JSONWebKey
	if len(jwks) > 0 {
		var set struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(jwks, &set); err != nil || set.Keys == nil {
			return nil, errors.New("auth: signing keys: not a JWK Set ({\"keys\": [...]})")
		}
		for i, raw := range set.Keys {
			key, pub, err := parseSigningKey(raw)
			if err != nil {
				return nil, fmt.Errorf("auth: signing keys: key %d: %w", i, err)
			}
			if _, dup := k.byKID[key.kid]; dup {
				return nil, fmt.Errorf("auth: signing keys: kid %q twice", key.kid)
			}
			k.byKID[key.kid] = key
			if key.signer != nil && k.signer == nil && isSigning(raw) {
				k.signer = key
			} else if isSigning(raw) {
				return nil, errors.New("auth: signing keys: more than one key has key_ops \"sign\"")
			}
			public = append(public, pub)
		}
		if k.signer == nil {
			return nil, errors.New("auth: signing keys: no key has key_ops \"sign\"")
		}
	}
	if k.signer == nil && k.secret == nil {
		return nil, errors.New("auth: no signing key and no jwt secret")
	}
	jwksOut, err := json.Marshal(struct {
		Keys []jose.JSONWebKey `json:"keys"`
	}{Keys: append([]jose.JSONWebKey{}, public...)})
	if err != nil {
		return nil, fmt.Errorf("auth: signing keys: %w", err)
	}
	k.jwks = jwksOut
	return k, nil
}

// GenerateSigningKeys returns keys with one fresh Ed25519 signing key, for
// development without configured keys.
func GenerateSigningKeys() (*SigningKeys, error) {
	jwk, err := GenerateJWK(AlgEdDSA, true)
	if err != nil {
		return nil, err
	}
	return NewSigningKeys([]byte(`{"keys":[`+string(jwk)+`]}`), nil)
}

// GenerateJWK returns a fresh private JWK for alg (EdDSA or ES256) with a
// random kid, marked for signing (key_ops ["sign","verify"]) or for
// verification only.
func GenerateJWK(alg string, sign bool) ([]byte, error) {
	var key any
	switch alg {
	case AlgEdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		key = priv
	case AlgES256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		key = priv
	default:
		return nil, fmt.Errorf("auth: algorithm %q: want EdDSA or ES256", alg)
	}
	kid, err := randomToken(12)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: "sig"})
	if err != nil {
		return nil, err
	}
	ops := []string{"verify"}
	if sign {
		ops = []string{"sign", "verify"}
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["key_ops"] = ops
	return json.Marshal(m)
}

// JWKS returns the public JWK Set of every configured asymmetric key.
func (k *SigningKeys) JWKS() []byte { return k.jwks }

// algs returns every algorithm a token may be verified with.
func (k *SigningKeys) algs() []string {
	var out []string
	if k.secret != nil {
		out = append(out, AlgHS256)
	}
	for _, key := range k.byKID {
		if !slices.Contains(out, key.alg) {
			out = append(out, key.alg)
		}
	}
	return out
}

// sign signs claims with the signing key (kid in the header), or HS256.
func (k *SigningKeys) sign(tok *jwt.Token) (string, error) {
	if k.signer == nil {
		return tok.SignedString(k.secret)
	}
	tok.Header["kid"] = k.signer.kid
	return tok.SignedString(k.signer.signer)
}

// verificationKey returns the key a token's header selects: for HS256 the
// secret, for EdDSA and ES256 the configured key with that kid and that
// algorithm. Nothing in the header (jku, x5u, jwk) can bring in a key.
func (k *SigningKeys) verificationKey(tok *jwt.Token) (any, error) {
	alg := tok.Method.Alg()
	if alg == AlgHS256 {
		if k.secret == nil {
			return nil, errors.New("auth: HS256 not accepted")
		}
		return k.secret, nil
	}
	kid, _ := tok.Header["kid"].(string)
	key, ok := k.byKID[kid]
	if !ok || key.alg != alg {
		return nil, errors.New("auth: unknown key")
	}
	return key.public, nil
}

// parseSigningKey reads one JWK of the set.
func parseSigningKey(raw json.RawMessage) (*signingKey, jose.JSONWebKey, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return nil, jose.JSONWebKey{}, fmt.Errorf("not a valid JWK: %w", err)
	}
	if jwk.KeyID == "" {
		return nil, jose.JSONWebKey{}, errors.New("no kid")
	}
	var meta struct {
		KeyOps []string `json:"key_ops"`
	}
	_ = json.Unmarshal(raw, &meta)
	if len(meta.KeyOps) == 0 {
		return nil, jose.JSONWebKey{}, fmt.Errorf("kid %q: no key_ops: want [\"sign\",\"verify\"] or [\"verify\"]", jwk.KeyID)
	}
	for _, op := range meta.KeyOps {
		if op != "sign" && op != "verify" {
			return nil, jose.JSONWebKey{}, fmt.Errorf("kid %q: key_ops %q: want sign or verify", jwk.KeyID, op)
		}
	}
	key := &signingKey{kid: jwk.KeyID}
	switch priv := jwk.Key.(type) {
	case ed25519.PrivateKey:
		key.alg, key.method, key.signer, key.public = AlgEdDSA, jwt.SigningMethodEdDSA, priv, priv.Public()
	case ed25519.PublicKey:
		key.alg, key.method, key.public = AlgEdDSA, jwt.SigningMethodEdDSA, priv
	case *ecdsa.PrivateKey:
		if priv.Curve != elliptic.P256() {
			return nil, jose.JSONWebKey{}, fmt.Errorf("kid %q: EC keys must be P-256", jwk.KeyID)
		}
		key.alg, key.method, key.signer, key.public = AlgES256, jwt.SigningMethodES256, priv, &priv.PublicKey
	case *ecdsa.PublicKey:
		if priv.Curve != elliptic.P256() {
			return nil, jose.JSONWebKey{}, fmt.Errorf("kid %q: EC keys must be P-256", jwk.KeyID)
		}
		key.alg, key.method, key.public = AlgES256, jwt.SigningMethodES256, priv
	default:
		return nil, jose.JSONWebKey{}, fmt.Errorf("kid %q: want an Ed25519 (OKP) or P-256 (EC) key", jwk.KeyID)
	}
	if jwk.Algorithm != "" && jwk.Algorithm != key.alg {
		return nil, jose.JSONWebKey{}, fmt.Errorf("kid %q: alg %q does not fit the key: want %s", jwk.KeyID, jwk.Algorithm, key.alg)
	}
	if slices.Contains(meta.KeyOps, "sign") && key.signer == nil {
		return nil, jose.JSONWebKey{}, fmt.Errorf("kid %q: key_ops \"sign\" needs the private key", jwk.KeyID)
	}
	if key.signer != nil {
		// A private part that does not match the public one (or a zero
		// scalar) would sign tokens nobody can verify: find out now.
		const probe = "twostep key check"
		sig, err := key.method.Sign(probe, key.signer)
		if err != nil || key.method.Verify(probe, sig, key.public) != nil {
			return nil, jose.JSONWebKey{}, fmt.Errorf("kid %q: the private key does not match the public key", jwk.KeyID)
		}
	}
	pub := jose.JSONWebKey{Key: key.public, KeyID: key.kid, Algorithm: key.alg, Use: "sig"}
	return key, pub, nil
}

// isSigning reports whether a raw JWK's key_ops contain "sign".
func isSigning(raw json.RawMessage) bool {
	var meta struct {
		KeyOps []string `json:"key_ops"`
	}
	_ = json.Unmarshal(raw, &meta)
	return slices.Contains(meta.KeyOps, "sign")
}
