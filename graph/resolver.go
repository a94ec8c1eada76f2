// Package graph is twostep's GraphQL layer: the schema's resolvers, the @auth
// directive, the error presenter that turns domain errors into stable
// extensions.code values, and the handler that serves the schema over HTTP
// behind httpedge. It holds no login rules; those live in auth.
package graph

import (
	"context"
	"time"

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

// roleModels maps roles to the schema's, never nil (nil on a User means
// "not read yet").
func roleModels(roles []string) []Role {
	out := make([]Role, len(roles))
	for i, role := range roles {
		out[i] = Role(role)
	}
	return out
}

func authPayload(res *auth.AuthResult) *AuthPayload {
	return &AuthPayload{
		AccessToken:      res.AccessToken,
		TokenType:        "Bearer",
		ExpiresIn:        int(res.ExpiresIn.Seconds()),
		RefreshToken:     res.RefreshToken,
		RefreshExpiresAt: res.RefreshExpiresAt,
		User:             userModel(res.User),
	}
}

func loginPayload(res *auth.LoginResult) *LoginPayload {
	ch := OtpChannelSms
	switch res.Channel {
	case auth.ChannelCall:
		ch = OtpChannelCall
	case auth.ChannelWhatsApp:
		ch = OtpChannelWhatsapp
	}
	return &LoginPayload{
		MfaToken: res.MFAToken, Channel: ch, SentTo: res.SentTo, ExpiresAt: res.ExpiresAt,
		ResendAfter: int((res.ResendAfter + time.Second - 1) / time.Second), // whole seconds, rounded up
	}
}

// channel maps the schema's OtpChannel (nil: the default, SMS).
func channel(c *OtpChannel) auth.Channel {
	switch {
	case c == nil || *c == OtpChannelSms:
		return auth.ChannelSMS
	case *c == OtpChannelCall:
		return auth.ChannelCall
	default:
		return auth.ChannelWhatsApp
	}
}

func eventConnection(p *auth.EventPage) *SecurityEventConnection {
	c := &SecurityEventConnection{Edges: make([]*SecurityEventEdge, len(p.Events)), PageInfo: &PageInfo{HasNextPage: p.HasNextPage}}
	for i, e := range p.Events {
		c.Edges[i] = &SecurityEventEdge{Cursor: p.Cursors[i], Node: &SecurityEvent{
			ID: e.ID, At: e.At, Type: e.Type, UserID: nonEmpty(e.UserID),
			IPAddress: nonEmpty(e.IPAddress), UserAgent: nonEmpty(e.UserAgent), Detail: nonEmpty(e.Detail),
		}}
	}
	if n := len(p.Cursors); n > 0 {
		c.PageInfo.EndCursor = &p.Cursors[n-1]
	}
	return c
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func sessionModel(s auth.SessionInfo) *Session {
	return &Session{
		ID:         s.ID,
		CreatedAt:  s.CreatedAt,
		LastUsedAt: s.LastUsedAt,
		ExpiresAt:  s.ExpiresAt,
		UserAgent:  nonEmpty(s.UserAgent),
		IPAddress:  nonEmpty(s.IPAddress),
		Current:    s.Current,
	}
}

func logoutScope(s *LogoutScope) auth.LogoutScope {
	switch {
	case s == nil || *s == LogoutScopeCurrent:
		return auth.LogoutCurrent
	case *s == LogoutScopeOthers:
		return auth.LogoutOthers
	default:
		return auth.LogoutAll
	}
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// clientIP is the address the edge saw for the request behind ctx.
func clientIP(ctx context.Context) string { return httpedge.FromContext(ctx).ClientIP }
