// Package graph is twostep's GraphQL layer: the schema's resolvers, the @auth
// directive, the error presenter that turns domain errors into stable
// extensions.code values, and the HTTP handler that serves it all with every
// security default applied. It holds no login rules; those live in auth.
package graph

import (
	"log/slog"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/store"
)

// Resolver is the root resolver. Resolvers are thin: input, one call into
// auth, model.
type Resolver struct {
	auth *auth.Service
	log  *slog.Logger
}

func userModel(u *store.User) *User {
	return &User{
		ID:            u.ID,
		Email:         u.Email,
		Phone:         u.Phone,
		PhoneVerified: u.PhoneVerified,
		CreatedAt:     u.CreatedAt,
	}
}
