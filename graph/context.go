package graph

import (
	"context"
	"strings"
	"sync"

	"github.com/twostep/twostep/auth"
)

type principalKey struct{}

// authOnce is an operation's authentication, done by the first @auth field
// and shared by the others: a hundred aliases of me cost one token check
// and one read of the session, not a hundred.
type authOnce struct {
	once sync.Once
	p    *auth.Principal
	err  error
}

type authOnceKey struct{}

func withAuthOnce(ctx context.Context) context.Context {
	return context.WithValue(ctx, authOnceKey{}, &authOnce{})
}

// authenticate runs svc.Authenticate once per operation (per call when ctx
// carries no authOnce).
func authenticate(ctx context.Context, svc *auth.Service, token string) (*auth.Principal, error) {
	a, ok := ctx.Value(authOnceKey{}).(*authOnce)
	if !ok {
		return svc.Authenticate(ctx, token)
	}
	a.once.Do(func() { a.p, a.err = svc.Authenticate(ctx, token) })
	return a.p, a.err
}

func newPrincipalContext(ctx context.Context, p *auth.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principal returns who the @auth directive authenticated. Fields without
// @auth never reach it, so a missing value is a wiring bug: it panics, and
// the recover func answers INTERNAL_SERVER_ERROR.
func principal(ctx context.Context) *auth.Principal {
	p, ok := ctx.Value(principalKey{}).(*auth.Principal)
	if !ok {
		panic("graph: principal read outside @auth")
	}
	return p
}

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header; any other scheme or shape yields "".
func bearerToken(header string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
