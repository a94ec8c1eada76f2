package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twostep/twostep/store"
)

func copySession(s *store.Session) *store.Session {
	c := *s
	c.Secret = slices.Clone(s.Secret)
	return &c
}

// CreateSession inserts s.
func (db *DB) CreateSession(ctx context.Context, s *store.Session) error {
	if err := db.lock(ctx, "create session"); err != nil {
		return err
	}
	defer db.mu.Unlock()
	if err := db.createSession(s); err != nil {
		return wrap("create session", err)
	}
	return nil
}

// createSession is CreateSession with db.mu held.
func (db *DB) createSession(s *store.Session) error {
	if _, ok := db.users[s.UserID]; !ok {
		return fmt.Errorf("no user %q: %w", s.UserID, store.ErrNotFound)
	}
	if _, ok := db.sessions[s.ID]; ok {
		return fmt.Errorf("duplicate session %q", s.ID)
	}
	c := copySession(s)
	c.RotatedAt, c.CreatedAt, c.LastUsedAt = ms(c.RotatedAt), ms(c.CreatedAt), ms(c.LastUsedAt)
	c.IdleExpiresAt, c.ExpiresAt, c.RevokedAt = ms(c.IdleExpiresAt), ms(c.ExpiresAt), ms(c.RevokedAt)
	db.sessions[c.ID] = c
	return nil
}

// SessionByID returns the session with id, or store.ErrNotFound.
func (db *DB) SessionByID(ctx context.Context, id string) (*store.Session, error) {
	if err := db.lock(ctx, "session by id"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	s, ok := db.sessions[id]
	if !ok {
		return nil, wrap("session by id", store.ErrNotFound)
	}
	return copySession(s), nil
}

// RotateSession moves a live session's counter from from to from+1.
func (db *DB) RotateSession(ctx context.Context, id string, from int64, now, idleExpires time.Time, ip string) (*store.Session, error) {
	if err := db.lock(ctx, "rotate session"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	s, ok := db.sessions[id]
	if !ok || s.Counter != from || !s.Live(ms(now)) {
		return nil, wrap("rotate session", store.ErrNotFound)
	}
	s.Counter++
	s.RotatedAt, s.LastUsedAt, s.IdleExpiresAt = ms(now), ms(now), ms(idleExpires)
	if ip != "" {
		s.IPAddress = ip
	}
	return copySession(s), nil
}

// RevokeSessions revokes the live sessions of userID that match.
func (db *DB) RevokeSessions(ctx context.Context, userID string, m store.SessionMatch, now time.Time) (int, error) {
	if err := db.lock(ctx, "revoke sessions"); err != nil {
		return 0, err
	}
	defer db.mu.Unlock()
	n := 0
	for id, s := range db.sessions {
		if s.UserID != userID || !s.Live(ms(now)) || (m.ID != "" && id != m.ID) || (m.ID == "" && m.Except != "" && id == m.Except) {
			continue
		}
		s.RevokedAt = ms(now)
		n++
	}
	return n, nil
}

// UserSessions returns the live sessions of userID, newest first.
func (db *DB) UserSessions(ctx context.Context, userID string, now time.Time) ([]*store.Session, error) {
	if err := db.lock(ctx, "user sessions"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	var out []*store.Session
	for _, s := range db.sessions {
		if s.UserID == userID && s.Live(ms(now)) {
			out = append(out, copySession(s))
		}
	}
	slices.SortFunc(out, func(a, b *store.Session) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out, nil
}

// UserBySession returns the user of a live session, or store.ErrNotFound.
func (db *DB) UserBySession(ctx context.Context, userID, sessionID string, now time.Time) (*store.User, error) {
	if err := db.lock(ctx, "user by session"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	s, ok := db.sessions[sessionID]
	u, uok := db.users[userID]
	if !ok || !uok || s.UserID != userID || !s.Live(ms(now)) {
		return nil, wrap("user by session", store.ErrNotFound)
	}
	c := *u
	return &c, nil
}
