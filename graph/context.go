package graph

import (
	"context"
	"strings"

	"github.com/twostep/twostep/auth"
)

type principalKey struct{}

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
