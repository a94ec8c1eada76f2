package graph

import (
	"context"
	"log/slog"
	"strings"

	"github.com/twostep/twostep/auth"
)

// requestInfo is what the HTTP layer learns about a request before GraphQL
// runs: who is calling from where, and with which bearer token.
type requestInfo struct {
	id       string
	clientIP string
	bearer   string
}

type requestKey struct{}

// LogAttrs returns the request id and client IP of the GraphQL request
// behind ctx, or nothing outside one. A slog handler adds them to every
// record logged with the request's context, so each auth event can be
// traced to its request and client.
func LogAttrs(ctx context.Context) []slog.Attr {
	ri, ok := ctx.Value(requestKey{}).(requestInfo)
	if !ok {
		return nil
	}
	return []slog.Attr{slog.String("request_id", ri.id), slog.String("client_ip", ri.clientIP)}
}

type claimsKey struct{}

func newRequestContext(ctx context.Context, ri requestInfo) context.Context {
	return context.WithValue(ctx, requestKey{}, ri)
}

func requestFromContext(ctx context.Context) requestInfo {
	ri, _ := ctx.Value(requestKey{}).(requestInfo)
	return ri
}

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
