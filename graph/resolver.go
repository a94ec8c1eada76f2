// Package graph is twostep's GraphQL layer: the schema's resolvers, the @auth
// directive, the error presenter that turns domain errors into stable
// extensions.code values, and the handler that serves the schema over HTTP
// behind httpedge. It holds no login rules; those live in auth.
package graph

import (
	"context"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/internal/httpedge"
)

// Resolver is the root resolver. Resolvers are thin: input, one call into
// auth, model.
type Resolver struct {
	auth *auth.Service
}

func userModel(u *auth.User) *User {
	return &User{
		ID:            u.ID,
		Email:         u.Email,
		Phone:         u.Phone,
		PhoneVerified: u.PhoneVerified,
		CreatedAt:     u.CreatedAt,
	}
}

// clientIP is the address the edge saw for the request behind ctx.
func clientIP(ctx context.Context) string { return httpedge.FromContext(ctx).ClientIP }
