package memstore

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/twostep/twostep/store"
)

// SetPassword replaces a user's hash, ends their live challenges and
// revokes their sessions but keepSession.
func (db *DB) SetPassword(ctx context.Context, userID, hash string, now time.Time, keepSession string) (int, error) {
	if err := db.lock(ctx, "set password"); err != nil {
		return 0, err
	}
	defer db.mu.Unlock()
	n, ok := db.resetPasswordLocked(userID, hash, now, keepSession)
	if !ok {
		return 0, wrap("set password", store.ErrNotFound)
	}
	return n, nil
}

func (db *DB) resetPasswordLocked(userID, hash string, now time.Time, keepSession string) (int, bool) {
	u, ok := db.users[userID]
	if !ok {
		return 0, false
	}
	now = ms(now)
	u.PasswordHash, u.UpdatedAt = hash, now
	db.endUserChallengesLocked(userID, now)
	n := 0
	for id, s := range db.sessions {
		if s.UserID == userID && id != keepSession && s.Live(now) {
			s.RevokedAt = now
			n++
		}
	}
	return n, true
}

// endUserChallengesLocked ends, at now, the live challenges of userID,
// with db.mu held.
func (db *DB) endUserChallengesLocked(userID string, now time.Time) {
	now = ms(now)
	for _, c := range db.challenges {
		if c.UserID == userID && c.ConsumedAt.IsZero() && c.ExpiresAt.After(now) {
			c.ExpiresAt = now
		}
	}
}

// completable returns the challenge id of purpose if it has a user and can
// be completed at now.
func (db *DB) completable(id, purpose string, now time.Time) (*store.Challenge, bool) {
	c, ok := db.challenges[id]
	if !ok || c.Purpose != purpose || c.UserID == "" || !c.ConsumedAt.IsZero() || !ms(now).Before(c.ExpiresAt) {
		return nil, false
	}
	return c, true
}

// CompleteReset consumes a reset challenge and sets its user's password,
// revoking every session.
func (db *DB) CompleteReset(ctx context.Context, id, hash string, now time.Time) error {
	if err := db.lock(ctx, "complete reset"); err != nil {
		return err
	}
	defer db.mu.Unlock()
	c, ok := db.completable(id, store.PurposeReset, now)
	if !ok || db.users[c.UserID] == nil || db.users[c.UserID].Phone != c.Phone {
		return wrap("complete reset", store.ErrNotFound)
	}
	if _, ok := db.resetPasswordLocked(c.UserID, hash, now, ""); !ok {
		return wrap("complete reset", store.ErrNotFound)
	}
	c.ConsumedAt = ms(now)
	return nil
}

// CompletePhoneChange consumes a phone-change challenge and moves its user
// to the new number.
func (db *DB) CompletePhoneChange(ctx context.Context, id string, now time.Time) error {
	if err := db.lock(ctx, "complete phone change"); err != nil {
		return err
	}
	defer db.mu.Unlock()
	c, ok := db.completable(id, store.PurposePhone, now)
	if !ok {
		return wrap("complete phone change", store.ErrNotFound)
	}
	if owner, owned := db.owners[c.Phone]; owned && owner != c.UserID {
		return wrap("complete phone change", store.ErrPhoneTaken)
	}
	u := db.users[c.UserID]
	for phone, owner := range db.owners {
		if owner == c.UserID && phone != c.Phone {
			delete(db.owners, phone)
		}
	}
	db.owners[c.Phone] = c.UserID
	u.Phone, u.PhoneVerified, u.UpdatedAt, u.UnconfirmedExpiresAt = c.Phone, true, ms(now), time.Time{}
	c.ConsumedAt = ms(now)
	// Codes sent to the old number (a login, a reset) are no good now.
	db.endUserChallengesLocked(c.UserID, now)
	return nil
}

// DeleteUser deletes a user and what is theirs.
func (db *DB) DeleteUser(ctx context.Context, id string) error {
	if err := db.lock(ctx, "delete user"); err != nil {
		return err
	}
	defer db.mu.Unlock()
	if _, ok := db.users[id]; !ok {
		return wrap("delete user", store.ErrNotFound)
	}
	db.deleteUserLocked(id)
	return nil
}

// DeleteUnconfirmedUsers deletes up to limit users whose number is not
// confirmed and whose time is up, the earliest first.
func (db *DB) DeleteUnconfirmedUsers(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if err := db.lock(ctx, "delete unconfirmed users"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	var due []*store.User
	for _, u := range db.users {
		if !u.PhoneVerified && !u.UnconfirmedExpiresAt.IsZero() && u.UnconfirmedExpiresAt.Before(ms(now)) {
			due = append(due, u)
		}
	}
	slices.SortFunc(due, func(a, b *store.User) int { return a.UnconfirmedExpiresAt.Compare(b.UnconfirmedExpiresAt) })
	var ids []string
	for _, u := range due[:min(limit, len(due))] {
		db.deleteUserLocked(u.ID)
		ids = append(ids, u.ID)
	}
	return ids, nil
}

// deleteUserLocked deletes user id and what is theirs, with db.mu held.
func (db *DB) deleteUserLocked(id string) {
	u := db.users[id]
	for sid, s := range db.sessions {
		if s.UserID == id {
			delete(db.sessions, sid)
		}
	}
	for cid, c := range db.challenges {
		if c.UserID == id {
			db.deleteChallengeLocked(cid)
		}
	}
	for phone, owner := range db.owners {
		if owner == id {
			delete(db.owners, phone)
		}
	}
	delete(db.emails, u.Email)
	delete(db.users, id)
	delete(db.roles, id)
}

// ClaimOutbox claims the oldest claimable items.
func (db *DB) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxItem, error) {
	if err := db.lock(ctx, "claim outbox"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	now = ms(now)
	var ready []*store.OutboxItem
	for id, it := range db.outbox {
		if !db.available[id].After(now) {
			ready = append(ready, it)
		}
	}
	slices.SortFunc(ready, func(a, b *store.OutboxItem) int {
		if n := db.available[a.ID].Compare(db.available[b.ID]); n != 0 {
			return n
		}
		return strings.Compare(a.ID, b.ID)
	})
	var out []store.OutboxItem
	for _, it := range ready[:min(limit, len(ready))] {
		it.Tries++
		db.available[it.ID] = ms(now.Add(lease))
		out = append(out, *it)
	}
	return out, nil
}

// DeleteOutbox removes an item.
func (db *DB) DeleteOutbox(ctx context.Context, id string) error {
	if err := db.lock(ctx, "delete outbox"); err != nil {
		return err
	}
	defer db.mu.Unlock()
	delete(db.outbox, id)
	delete(db.available, id)
	return nil
}
