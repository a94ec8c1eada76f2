package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// AccessTokenType is the JOSE "typ" header of every access token (RFC 9068).
// Verification requires it, so no other kind of token passes as an access
// token.
const AccessTokenType = "at+jwt"

// MinSecretLen is the shortest HS256 key accepted, in bytes.
const MinSecretLen = 32

// leeway absorbs clock skew between replicas and other services.
const leeway = 30 * time.Second

// Claims are the claims of an access token. See the README for the contract
// other services rely on.
type Claims struct {
	jwt.RegisteredClaims
	// AMR lists the authentication methods used (RFC 8176).
	AMR []string `json:"amr"`
}

// Tokens issues and verifies HS256 access tokens.
type Tokens struct {
	secret   []byte
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
	parser   *jwt.Parser
	verified *verifiedTokens
}

// NewTokens returns a Tokens that signs with secret. It returns an error if
// the secret is shorter than MinSecretLen, issuer or audience is empty, or
// ttl is not positive.
func NewTokens(secret []byte, issuer, audience string, ttl time.Duration, now func() time.Time) (*Tokens, error) {
	switch {
	case len(secret) < MinSecretLen:
		return nil, fmt.Errorf("auth: jwt secret must be at least %d bytes", MinSecretLen)
	case issuer == "" || audience == "":
		return nil, errors.New("auth: jwt issuer and audience must be set")
	case ttl <= 0:
		return nil, errors.New("auth: access token ttl must be positive")
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{
		secret:   slices.Clone(secret),
		issuer:   issuer,
		audience: audience,
		ttl:      ttl,
		now:      now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
			jwt.WithTimeFunc(now),
		),
		verified: newVerifiedTokens(tokenCacheSize),
	}, nil
}

// TTL returns the lifetime of the tokens Issue makes.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue signs an access token for userID.
func (t *Tokens) Issue(userID string, amr []string) (token string, expiresAt time.Time, err error) {
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
		AMR: amr,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["typ"] = AccessTokenType
	s, err := tok.SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign token: %w", err)
	}
	return s, expiresAt, nil
}

// Verify parses and validates an access token: HS256 only, the "at+jwt"
// type, a valid signature, iss, aud, exp (required) and iat, with a small
// leeway. Headers such as kid, jku and jwk are ignored: the key is fixed.
// A token that verified before and has not expired is recognised by its
// hash (see verifiedTokens). The claims returned are shared: callers must
// not change them.
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
		return t.secret, nil
	})
	if err != nil {
		return nil, fmt.Errorf("auth: verify token: %w", err)
	}
	if !tok.Valid || claims.Subject == "" {
		return nil, errors.New("auth: verify token: invalid")
	}
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
