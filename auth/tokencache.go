package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// verifiedTokens remembers the claims of access tokens that passed Verify,
// by the SHA-256 of the token, until each expires. A client sends the same
// token with every request, so all but the first cost a hash and a map
// lookup instead of a JSON decode and a signature check. Only tokens that
// verified enter, under the hash of their exact bytes, so nothing can be
// planted in it; a full cache drops an arbitrary entry, which only costs a
// verification again. Revocation is not the cache's concern: the store is
// asked about every request's user.
type verifiedTokens struct {
	mu  sync.RWMutex
	m   map[[sha256.Size]byte]verified
	max int
}

type verified struct {
	claims *Claims
	until  time.Time // expiry plus leeway: the token is refused from then on
}

// tokenCacheSize bounds the cache: about 3 MB at most.
const tokenCacheSize = 10_000

func newVerifiedTokens(max int) *verifiedTokens {
	return &verifiedTokens{m: make(map[[sha256.Size]byte]verified), max: max}
}

func (c *verifiedTokens) get(key [sha256.Size]byte, now time.Time) (*Claims, bool) {
	c.mu.RLock()
	v, ok := c.m[key]
	c.mu.RUnlock()
	if !ok {
		return nil, false
	}
	if !now.Before(v.until) {
		c.mu.Lock()
		delete(c.m, key)
		c.mu.Unlock()
		return nil, false
	}
	return v.claims, true
}

func (c *verifiedTokens) add(key [sha256.Size]byte, claims *Claims, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k := range c.m { // map order is random: drop any one
			delete(c.m, k)
			break
		}
	}
	c.m[key] = verified{claims: claims, until: until}
}
