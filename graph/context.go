package graph

import (
	"context"
	"strings"

	"github.com/twostep/twostep/auth"
)

type claimsKey struct{}

func newClaimsContext(ctx context.Context, c *auth.Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// claimsFromContext returns the claims the @auth directive verified. Fields
// without @auth never reach it, so a missing value is a wiring bug, and it
// yields empty claims, which find no user.
func claimsFromContext(ctx context.Context) *auth.Claims {
	if c, ok := ctx.Value(claimsKey{}).(*auth.Claims); ok {
		return c
	}
	return &auth.Claims{}
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
