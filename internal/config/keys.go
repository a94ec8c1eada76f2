package config

import (
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/twostep/twostep/auth"
)

// readKeys reads the keys of access and refresh tokens.
func (c *Config) readKeys(p *parser) {
	keys, file := p.str("JWT_SIGNING_KEYS", ""), p.str("JWT_SIGNING_KEYS_FILE", "")
	switch {
	case keys != "" && file != "":
		p.fail("JWT_SIGNING_KEYS, JWT_SIGNING_KEYS_FILE", "set one, not both")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			p.fail("JWT_SIGNING_KEYS_FILE", "cannot read %s: %v", file, errors.Unwrap(err))
		}
		c.SigningKeys = b
	case keys != "":
		c.SigningKeys = []byte(keys)
	}
	if secret := p.str("JWT_SECRET", ""); secret != "" {
		c.JWTSecret = []byte(secret)
	}
	switch {
	case c.SigningKeys == nil && c.JWTSecret == nil && c.Production:
		p.fail("JWT_SIGNING_KEYS", "or JWT_SECRET is required in production; JWT_SIGNING_KEYS is recommended (other services verify tokens with the public keys, and cannot mint them): make one with `twostep keygen`")
	case c.SigningKeys == nil && c.JWTSecret == nil:
		c.SigningKeysGenerated = true
	}
	if c.JWTSecret != nil && len(c.JWTSecret) < auth.MinSecretLen {
		p.fail("JWT_SECRET", "must be at least %d bytes, got %d", auth.MinSecretLen, len(c.JWTSecret))
	}
	if c.SigningKeys != nil {
		if _, err := auth.NewSigningKeys(c.SigningKeys, nil); err != nil {
			p.fail("JWT_SIGNING_KEYS", "%v", strings.TrimPrefix(err.Error(), "auth: "))
		}
	}
	switch secret := p.str("REFRESH_TOKEN_SECRET", ""); {
	case secret == "" && c.Production:
		p.fail("REFRESH_TOKEN_SECRET", "is required in production (at least %d bytes, e.g. `openssl rand -base64 48`)", auth.MinSecretLen)
	case secret == "":
		c.RefreshSecret = make([]byte, 32)
		_, _ = rand.Read(c.RefreshSecret)
		c.RefreshSecretGenerated = true
	case len(secret) < auth.MinSecretLen:
		p.fail("REFRESH_TOKEN_SECRET", "must be at least %d bytes, got %d", auth.MinSecretLen, len(secret))
	default:
		c.RefreshSecret = []byte(secret)
	}
	c.SessionIdleTimeout = p.duration("SESSION_IDLE_TIMEOUT", auth.DefaultSessionIdleTimeout)
	c.SessionMaxAge = p.duration("SESSION_MAX_AGE", auth.DefaultSessionMaxAge)
	c.RefreshReuseInterval = p.duration("REFRESH_TOKEN_REUSE_INTERVAL", auth.DefaultRefreshReuseInterval)
	if c.SessionIdleTimeout <= 0 {
		p.fail("SESSION_IDLE_TIMEOUT", "must be more than 0")
	}
	if c.SessionMaxAge <= 0 {
		p.fail("SESSION_MAX_AGE", "must be more than 0")
	}
	if c.RefreshReuseInterval <= 0 || c.RefreshReuseInterval > time.Minute {
		p.fail("REFRESH_TOKEN_REUSE_INTERVAL", "must be more than 0 and at most 1m, got %s: it is how long a stolen token goes unnoticed", c.RefreshReuseInterval)
	}
}
