package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/twostep/twostep/store"
)

// Defaults of SessionConfig.
const (
	DefaultSessionIdleTimeout   = 14 * 24 * time.Hour
	DefaultSessionMaxAge        = 30 * 24 * time.Hour
	DefaultRefreshReuseInterval = 10 * time.Second
)

// SessionConfig are the lifetimes of sessions and the key of their refresh
// tokens.
type SessionConfig struct {
	// Secret (REFRESH_TOKEN_SECRET, at least 32 bytes) is mixed into every
	// refresh token's key and kept out of the database, so a copy of the
	// database yields no usable refresh token.
	Secret        []byte
	IdleTimeout   time.Duration // a session ends unless refreshed within; default 14 days
	MaxAge        time.Duration // a session ends this long after it started; default 30 days
	ReuseInterval time.Duration // the previous refresh token is tolerated this long after a rotation; default 10s
	// LegacyTokensBefore is when sessions began on this database (the app
	// reads when its migration ran): HS256 access tokens without sid
	// issued before it still work until they expire. Zero: none do.
	LegacyTokensBefore time.Time
}

func (c SessionConfig) withDefaults() (SessionConfig, error) {
	if len(c.Secret) < MinSecretLen {
		return c, fmt.Errorf("auth: refresh token secret must be at least %d bytes", MinSecretLen)
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultSessionIdleTimeout
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultSessionMaxAge
	}
	if c.ReuseInterval < 0 {
		return c, errors.New("auth: refresh reuse interval must not be negative")
	}
	if c.ReuseInterval == 0 {
		c.ReuseInterval = DefaultRefreshReuseInterval
	}
	return c, nil
}

// AuthResult is a completed sign-in or refresh: a session's tokens.
type AuthResult struct {
	AccessToken      string
	ExpiresIn        time.Duration
	RefreshToken     string // opaque and single-use
	RefreshExpiresAt time.Time
	SessionID        string
	User             *User
}

// Principal is who an access token speaks for.
type Principal struct {
	User      *User
	SessionID string // "" for a token issued before sessions existed
}

// SessionInfo is a session as its user sees it.
type SessionInfo struct {
	ID         string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
	IPAddress  string
	Current    bool
}

// LogoutScope chooses the sessions Logout ends.
type LogoutScope int

// Scopes of Logout.
const (
	LogoutCurrent LogoutScope = iota // the session of the token
	LogoutOthers                     // every other session of the user
	LogoutAll                        // every session of the user
)

// String is the scope's name in the schema, for logs.
func (l LogoutScope) String() string {
	switch l {
	case LogoutCurrent:
		return "CURRENT"
	case LogoutOthers:
		return "OTHERS"
	default:
		return "ALL"
	}
}

// maxUserAgent bounds what is kept of a User-Agent header.
const maxUserAgent = 256

// cleanUserAgent is what is kept of a User-Agent header: at most
// maxUserAgent bytes of valid UTF-8 (PostgreSQL refuses anything else).
func cleanUserAgent(ua string) string {
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	return strings.ToValidUTF8(ua, "")
}

// newSession makes a session of userID starting now, not yet stored.
func (s *Service) newSession(userID string, amr []string, ip, userAgent string) (*store.Session, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("auth: random: %w", err)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	return &store.Session{
		ID:            uuid.Must(uuid.NewV7()).String(),
		UserID:        userID,
		Secret:        secret,
		RotatedAt:     now,
		AMR:           strings.Join(amr, ","),
		UserAgent:     cleanUserAgent(userAgent),
		IPAddress:     ip,
		CreatedAt:     now,
		LastUsedAt:    now,
		IdleExpiresAt: now.Add(s.sessions.IdleTimeout),
		ExpiresAt:     now.Add(s.sessions.MaxAge),
	}, nil
}

// sessionTokens issues an access token for sess and returns its current
// refresh token.
func (s *Service) sessionTokens(ctx context.Context, sess *store.Session, u *store.User) (*AuthResult, error) {
	roles, err := s.store.UserRoles(ctx, sess.UserID)
	if err != nil {
		return nil, storeErr(err)
	}
	access, _, err := s.tokens.Issue(sess.UserID, sess.ID, strings.Split(sess.AMR, ","), sess.CreatedAt, roles...)
	if err != nil {
		return nil, err
	}
	res := &AuthResult{
		AccessToken:      access,
		ExpiresIn:        s.tokens.TTL(),
		RefreshToken:     s.refreshToken(sess, sess.Counter),
		RefreshExpiresAt: minTime(sess.IdleExpiresAt, sess.ExpiresAt),
		SessionID:        sess.ID,
		User:             userOf(u),
	}
	return res, nil
}

// RefreshInput is a refreshSession request.
type RefreshInput struct {
	RefreshToken string
	ClientIP     string
}

// Refresh trades a session's current refresh token for a new access token
// and the next refresh token, retiring the one presented. The token just
// before the current one, presented within ReuseInterval of its rotation
// (two tabs refreshing at once, a response lost on the way), answers with a
// new access token and the current refresh token and revokes nothing; any
// older token, or that one later, is taken as stolen and revokes the
// session. It returns an *Error with CodeRefreshTokenInvalid for a token
// that is unknown, expired, revoked or reused, or CodeRateLimited.
func (s *Service) Refresh(ctx context.Context, in RefreshInput) (res *AuthResult, err error) {
	if err := s.limitIP(ctx, "refresh", in.ClientIP); err != nil {
		return nil, err
	}
	sid, n, mac, ok := parseRefreshToken(in.RefreshToken)
	defer func() {
		// Every refusal is logged, so probing (a known session id with
		// forged MACs) or a replica with another REFRESH_TOKEN_SECRET
		// shows; reuse is logged above as a warning.
		var e *Error
		if errors.As(err, &e) && e.Code == CodeRefreshTokenInvalid {
			if !ok {
				sid = ""
			}
			s.log.InfoContext(ctx, "refresh refused", "session_id", sid, "reason", e.Err)
		}
	}()
	if !ok {
		return nil, errRefreshInvalid(errors.New("auth: refresh token malformed"))
	}
	sess, err := s.store.SessionByID(ctx, sid)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errRefreshInvalid(err)
		}
		return nil, storeErr(err)
	}
	if !hmac.Equal(mac, s.refreshMAC(sess, n)) {
		return nil, errRefreshInvalid(errors.New("auth: refresh token forged"))
	}
	now := s.now()
	if !sess.Live(now) {
		return nil, errRefreshInvalid(errors.New("auth: session ended"))
	}
	switch {
	case n == sess.Counter:
		rotated, err := s.store.RotateSession(ctx, sid, n, now, minTime(now.Add(s.sessions.IdleTimeout), sess.ExpiresAt), in.ClientIP)
		if err == nil {
			s.log.InfoContext(ctx, "session refreshed", "user_id", sess.UserID, "session_id", sid)
			s.event(ctx, EventSessionRefreshed, sess.UserID, "session "+sid)
			return s.refreshed(ctx, rotated)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, storeErr(err)
		}
		// A concurrent refresh with the same token won: answer as it did.
		if sess, err = s.store.SessionByID(ctx, sid); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, errRefreshInvalid(err)
			}
			return nil, storeErr(err)
		}
		if sess.Live(now) && sess.Counter == n+1 {
			return s.refreshed(ctx, sess)
		}
		return nil, errRefreshInvalid(errors.New("auth: session changed during refresh"))
	case n == sess.Counter-1 && now.Sub(sess.RotatedAt) <= s.sessions.ReuseInterval:
		s.log.InfoContext(ctx, "session refreshed", "user_id", sess.UserID, "session_id", sid, "reuse", "within interval")
		return s.refreshed(ctx, sess)
	default:
		// A token the client no longer has: someone else does.
		if _, err := s.store.RevokeSessions(ctx, sess.UserID, store.SessionMatch{ID: sid}, now); err != nil {
			return nil, storeErr(err)
		}
		s.event(ctx, EventRefreshReuseDetected, sess.UserID, "session "+sid+" ended: an old refresh token came back")
		s.log.WarnContext(ctx, "refresh token reused: session revoked", "user_id", sess.UserID, "session_id", sid,
			"presented", n, "current", sess.Counter)
		return nil, errRefreshInvalid(errors.New("auth: refresh token reused"))
	}
}

// refreshed reads the session's user and issues its tokens. A user deleted
// since the session began has no session left to refresh.
func (s *Service) refreshed(ctx context.Context, sess *store.Session) (*AuthResult, error) {
	u, err := s.store.UserByID(ctx, sess.UserID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errRefreshInvalid(err)
		}
		return nil, storeErr(err)
	}
	return s.sessionTokens(ctx, sess, u)
}

// Authenticate verifies an access token and reads its user, checking in the
// same query that its session is the user's and live. It returns an *Error
// with CodeUnauthenticated for anything but a valid token of a live session
// of an existing user. Tokens issued before sessions existed (no sid:
// HS256, issued before SessionConfig.LegacyTokensBefore) are accepted until
// they expire, with the user read alone; a token without sid made since
// (by whoever holds JWT_SECRET) is not.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if token == "" {
		return nil, errUnauthenticated(errors.New("auth: no token"))
	}
	c, err := s.tokens.Verify(token)
	if err != nil {
		return nil, errUnauthenticated(err)
	}
	if c.SID == "" && (!c.hs256 || !c.IssuedAt.Before(s.sessions.LegacyTokensBefore)) {
		return nil, errUnauthenticated(errors.New("auth: a token without sid issued since sessions exist"))
	}
	var u *store.User
	if c.SID != "" {
		u, err = s.store.UserBySession(ctx, c.Subject, c.SID, s.now())
	} else {
		u, err = s.store.UserByID(ctx, c.Subject)
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errUnauthenticated(err)
		}
		return nil, storeErr(err)
	}
	return &Principal{User: userOf(u), SessionID: c.SID}, nil
}

// Logout revokes the sessions of scope and returns how many it revoked; a
// token without a session revokes nothing.
func (s *Service) Logout(ctx context.Context, p *Principal, scope LogoutScope) (int, error) {
	if p.SessionID == "" {
		return 0, nil
	}
	var m store.SessionMatch
	switch scope {
	case LogoutCurrent:
		m.ID = p.SessionID
	case LogoutOthers:
		m.Except = p.SessionID
	}
	n, err := s.store.RevokeSessions(ctx, p.User.ID, m, s.now())
	if err != nil {
		return 0, storeErr(err)
	}
	s.log.InfoContext(ctx, "logout", "user_id", p.User.ID, "session_id", p.SessionID, "scope", scope.String(), "revoked", n)
	if n > 0 { // a logout that ends nothing is nothing to record (and free to repeat)
		s.event(ctx, EventLogout, p.User.ID, fmt.Sprintf("%s: %d sessions ended", scope, n))
	}
	return n, nil
}

// RevokeSession revokes one session of p's user by id: 1 if it was theirs
// and live, else 0.
func (s *Service) RevokeSession(ctx context.Context, p *Principal, id string) (int, error) {
	id, ok := parseID(id) // the stored spelling, whatever the client sent
	if !ok {
		return 0, nil
	}
	n, err := s.store.RevokeSessions(ctx, p.User.ID, store.SessionMatch{ID: id}, s.now())
	if err != nil {
		return 0, storeErr(err)
	}
	if n > 0 {
		s.log.InfoContext(ctx, "session revoked", "user_id", p.User.ID, "session_id", id)
		s.event(ctx, EventSessionRevoked, p.User.ID, "session "+id)
	}
	return n, nil
}

// Sessions returns the live sessions of p's user, newest first.
func (s *Service) Sessions(ctx context.Context, p *Principal) ([]SessionInfo, error) {
	list, err := s.store.UserSessions(ctx, p.User.ID, s.now())
	if err != nil {
		return nil, storeErr(err)
	}
	out := make([]SessionInfo, len(list))
	for i, x := range list {
		out[i] = SessionInfo{ID: x.ID, CreatedAt: x.CreatedAt, LastUsedAt: x.LastUsedAt, ExpiresAt: x.ExpiresAt,
			UserAgent: x.UserAgent, IPAddress: x.IPAddress, Current: x.ID == p.SessionID}
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
