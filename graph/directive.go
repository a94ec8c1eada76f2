package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/twostep/twostep/auth"
)

// authDirective implements @auth: the field runs only for a valid access
// token of a live session, and finds who it is for in the context. The
// operation is authenticated once, by its first @auth field (authOnce):
// the fields of one operation act for who it was when it began.
func authDirective(svc *auth.Service) func(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
	return func(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
		token := bearerToken(graphql.GetOperationContext(ctx).Headers.Get("Authorization"))
		p, err := authenticate(ctx, svc, token)
		if err != nil {
			return nil, err
		}
		return next(newPrincipalContext(ctx, p))
	}
}

// hasRoleDirective implements @hasRole: @auth, then the role, read afresh
// from the store (FORBIDDEN without it).
func hasRoleDirective(svc *auth.Service) func(ctx context.Context, obj any, next graphql.Resolver, role Role) (any, error) {
	authenticate := authDirective(svc)
	return func(ctx context.Context, obj any, next graphql.Resolver, role Role) (any, error) {
		return authenticate(ctx, obj, func(ctx context.Context) (any, error) {
			if err := svc.HasRole(ctx, principal(ctx), string(role)); err != nil {
				return nil, err
			}
			return next(ctx)
		})
	}
}
