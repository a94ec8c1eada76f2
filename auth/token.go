package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// AccessTokenType is the JOSE "typ" header of every access token (RFC 9068).
// Verification requires it, so no other kind of token passes as an access
// token.
const AccessTokenType = "at+jwt"

// leeway absorbs clock skew between replicas and other services.
const leeway = 30 * time.Second

// Claims are the claims of an access token. See the README for the contract
// other services rely on.
type Claims struct {
	jwt.RegisteredClaims
	// AMR lists the authentication methods used (RFC 8176).
	AMR []string `json:"amr"`
	// SID is the session the token belongs to; empty in tokens issued
	// before sessions existed.
	SID string `json:"sid,omitempty"`
	// AuthTime is when the person signed in with password and code (OIDC's
	// auth_time): a refreshed token keeps it, so a service can tell how
	// old the second factor is.
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
	// Roles the user held when the token was issued, for other services'
	// information; twostep itself reads roles afresh on every check.
	Roles []string `json:"roles,omitempty"`

	hs256 bool // verified with JWT_SECRET (the only kind before sessions)
}

// MaxAccessTokenTTL is the longest ACCESS_TOKEN_TTL, and the longest
// lifetime (exp - iat) of any token Verify accepts.
const MaxAccessTokenTTL = 24 * time.Hour

// TokenConfig configures NewTokens.
type TokenConfig struct {
	Keys     *SigningKeys // required
	Issuer   string       // iss, required
	Audience string       // aud, required
	TTL      time.Duration
	Now      func() time.Time // default time.Now
}

// Tokens issues and verifies access tokens.
type Tokens struct {
	keys     *SigningKeys
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
	parser   *jwt.Parser
	verified *verifiedTokens
}

// NewTokens returns a Tokens. It returns an error if the keys, issuer or
// audience are missing or ttl is not positive.
func NewTokens(c TokenConfig) (*Tokens, error) {
	switch {
	case c.Keys == nil:
		return nil, errors.New("auth: token keys are required")
	case c.Issuer == "" || c.Audience == "":
		return nil, errors.New("auth: jwt issuer and audience must be set")
	case c.TTL <= 0:
		return nil, errors.New("auth: access token ttl must be positive")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Tokens{
		keys:     c.Keys,
		issuer:   c.Issuer,
		audience: c.Audience,
		ttl:      c.TTL,
		now:      c.Now,
		parser: jwt.NewParser(
			jwt.WithValidMethods(c.Keys.algs()),
			jwt.WithIssuer(c.Issuer),
			jwt.WithAudience(c.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithStrictDecoding(), // one spelling per token
			jwt.WithLeeway(leeway),
			jwt.WithTimeFunc(c.Now),
		),
		verified: newVerifiedTokens(tokenCacheSize),
	}, nil
}

// HS256Tokens returns Tokens that sign and verify with secret alone, for
// tests and tools.
func HS256Tokens(secret []byte, issuer, audience string, ttl time.Duration, now func() time.Time) (*Tokens, error) {
	keys, err := NewSigningKeys(nil, secret)
	if err != nil {
		return nil, err
	}
	return NewTokens(TokenConfig{Keys: keys, Issuer: issuer, Audience: audience, TTL: ttl, Now: now})
}

// TTL returns the lifetime of the tokens Issue makes.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// JWKS returns the public keys other services verify tokens with.
func (t *Tokens) JWKS() []byte { return t.keys.JWKS() }

// Issue signs an access token for userID in session sessionID, whose
// person signed in at authTime (zero: not said) and holds roles.
func (t *Tokens) Issue(userID, sessionID string, amr []string, authTime time.Time, roles ...string) (token string, expiresAt time.Time, err error) {
	now := t.now().Truncate(time.Second)
	expiresAt = now.Add(t.ttl)
	jti, err := randomToken(16)
	if err != nil {
		return "", time.Time{}, err
	}
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   userID,
			Issuer:    t.issuer,
			Audience:  jwt.ClaimStrings{t.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(expiresAt),
			ID:        jti,
		},
		AMR:   amr,
		SID:   sessionID,
		Roles: roles,
	}
	if !authTime.IsZero() {
		claims.AuthTime = jwt.NewNumericDate(authTime.Truncate(time.Second))
	}
	method := jwt.SigningMethod(jwt.SigningMethodHS256)
	if t.keys.signer != nil {
		method = t.keys.signer.method
	}
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["typ"] = AccessTokenType
	s, err := t.keys.sign(tok)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign token: %w", err)
	}
	return s, expiresAt, nil
}

// Verify parses and validates an access token: an algorithm pinned to a
// configured key, the "at+jwt" type, a valid signature, iss, aud, exp
// (required) and iat, with a small leeway. A kid selects only among the
// configured keys; jku, x5u and jwk are never followed. A token that
// verified before and has not expired is recognised by its hash (see
// verifiedTokens). The claims returned are shared: callers must not change
// them.
func (t *Tokens) Verify(token string) (*Claims, error) {
	key := sha256.Sum256([]byte(token))
	if c, ok := t.verified.get(key, t.now()); ok {
		return c, nil
	}
	c, err := t.verify(token)
	if err != nil {
		return nil, err
	}
	t.verified.add(key, c, c.ExpiresAt.Add(leeway))
	return c, nil
}

func (t *Tokens) verify(token string) (*Claims, error) {
	var claims Claims
	tok, err := t.parser.ParseWithClaims(token, &claims, func(tok *jwt.Token) (any, error) {
		if typ, _ := tok.Header["typ"].(string); typ != AccessTokenType {
			return nil, errors.New("auth: not an access token")
		}
		if _, ok := tok.Header["crit"]; ok {
			// RFC 7515 4.1.11: extensions we do not understand.
			return nil, errors.New("auth: crit header not supported")
		}
		return t.keys.verificationKey(tok)
	})
	if err != nil {
		return nil, fmt.Errorf("auth: verify token: %w", err)
	}
	if !tok.Valid || claims.Subject == "" {
		return nil, errors.New("auth: verify token: invalid")
	}
	// No token lives longer than ACCESS_TOKEN_TTL can be set to, whatever
	// its signer wrote.
	if claims.IssuedAt == nil || claims.ExpiresAt.Sub(claims.IssuedAt.Time) > MaxAccessTokenTTL {
		return nil, errors.New("auth: verify token: no iat, or a lifetime over the maximum")
	}
	claims.hs256 = tok.Method == jwt.SigningMethodHS256
	return &claims, nil
}

// randomToken returns n random bytes, base64url-encoded without padding.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
