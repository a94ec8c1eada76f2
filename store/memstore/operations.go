package memstore

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/twostep/twostep/store"
)

// UserRoles returns the roles of userID, sorted.
func (db *DB) UserRoles(ctx context.Context, userID string) ([]string, error) {
	if err := db.lock(ctx, "user roles"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	return append([]string{}, db.roles[userID]...), nil
}

// RolesOf returns the roles of each of userIDs that has any.
func (db *DB) RolesOf(ctx context.Context, userIDs []string) (map[string][]string, error) {
	if err := db.lock(ctx, "roles of"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	out := map[string][]string{}
	for _, id := range userIDs {
		if r := db.roles[id]; len(r) > 0 {
			out[id] = append([]string{}, r...)
		}
	}
	return out, nil
}

// SetUserRoles replaces the roles of userID.
func (db *DB) SetUserRoles(ctx context.Context, userID string, roles []string, now time.Time) error {
	if err := db.lock(ctx, "set user roles"); err != nil {
		return err
	}
	defer db.mu.Unlock()
	if _, ok := db.users[userID]; !ok {
		return wrap("set user roles", store.ErrNotFound)
	}
	r := slices.Compact(slices.Sorted(slices.Values(roles)))
	if len(r) == 0 {
		delete(db.roles, userID)
	} else {
		db.roles[userID] = r
	}
	return nil
}

func matches(u *store.User, q store.UserQuery) bool {
	if q.EmailPrefix == "" && q.PhonePrefix == "" {
		return true
	}
	return q.EmailPrefix != "" && strings.HasPrefix(u.Email, q.EmailPrefix) ||
		q.PhonePrefix != "" && strings.HasPrefix(u.Phone, q.PhonePrefix)
}

// ListUsers lists users after the cursor, by creation then id.
func (db *DB) ListUsers(ctx context.Context, q store.UserQuery, after store.Cursor, limit int) ([]*store.User, error) {
	if err := db.lock(ctx, "list users"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	var out []*store.User
	for _, u := range db.users {
		if !matches(u, q) {
			continue
		}
		if (after != store.Cursor{}) && (u.CreatedAt.Before(ms(after.At)) || u.CreatedAt.Equal(ms(after.At)) && u.ID <= after.ID) {
			continue
		}
		c := *u
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *store.User) int {
		if n := a.CreatedAt.Compare(b.CreatedAt); n != 0 {
			return n
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out[:min(limit, len(out))], nil
}

// CountUsers counts the users whose email or phone starts with prefix.
func (db *DB) CountUsers(ctx context.Context, q store.UserQuery) (int, error) {
	if err := db.lock(ctx, "count users"); err != nil {
		return 0, err
	}
	defer db.mu.Unlock()
	n := 0
	for _, u := range db.users {
		if matches(u, q) {
			n++
		}
	}
	return n, nil
}

// RecordEvents appends events, skipping duplicates of a DedupKey.
func (db *DB) RecordEvents(ctx context.Context, events []*store.Event) error {
	if err := db.lock(ctx, "record events"); err != nil {
		return err
	}
	defer db.mu.Unlock()
	for _, e := range events {
		if e.DedupKey != "" && slices.ContainsFunc(db.events, func(o *store.Event) bool { return o.DedupKey == e.DedupKey }) {
			continue
		}
		c := *e
		c.At = ms(c.At)
		db.events = append(db.events, &c)
	}
	return nil
}

// ListEvents lists events newest first, before the cursor.
func (db *DB) ListEvents(ctx context.Context, userID string, before store.Cursor, limit int) ([]*store.Event, error) {
	if err := db.lock(ctx, "list events"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	var out []*store.Event
	for _, e := range db.events {
		if userID != "" && e.UserID != userID {
			continue
		}
		if (before != store.Cursor{}) && (e.At.After(ms(before.At)) || e.At.Equal(ms(before.At)) && e.ID >= before.ID) {
			continue
		}
		c := *e
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *store.Event) int {
		if n := b.At.Compare(a.At); n != 0 {
			return n
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out[:min(limit, len(out))], nil
}

// DeleteEventsBefore removes events older than t.
func (db *DB) DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	if err := db.lock(ctx, "delete events"); err != nil {
		return 0, err
	}
	defer db.mu.Unlock()
	n := len(db.events)
	db.events = slices.DeleteFunc(db.events, func(e *store.Event) bool { return e.At.Before(ms(t)) })
	return int64(n - len(db.events)), nil
}
