package memstore

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twostep/twostep/store"
)

// CreateChallenge inserts c and ends the other live challenges on its
// number.
func (db *DB) CreateChallenge(ctx context.Context, c *store.Challenge) error {
	return db.insertChallenge(ctx, "create challenge", c, true, "")
}

// QueueChallenge inserts c and its outbox item.
func (db *DB) QueueChallenge(ctx context.Context, c *store.Challenge, itemID string) error {
	return db.insertChallenge(ctx, "queue challenge", c, false, itemID)
}

func (db *DB) insertChallenge(ctx context.Context, op string, c *store.Challenge, endOthers bool, itemID string) error {
	if err := db.lock(ctx, op); err != nil {
		return err
	}
	defer db.mu.Unlock()
	if _, ok := db.users[c.UserID]; !ok && c.UserID != "" {
		return wrap(op, fmt.Errorf("no user %q", c.UserID))
	}
	for _, o := range db.challenges {
		if o.ID == c.ID || bytes.Equal(o.TokenHash, c.TokenHash) {
			return wrap(op, fmt.Errorf("duplicate challenge %q", c.ID))
		}
	}
	if _, dup := db.outbox[itemID]; dup && itemID != "" {
		return wrap(op, fmt.Errorf("duplicate outbox item %q", itemID))
	}
	cc := *c
	cc.TokenHash = slices.Clone(c.TokenHash)
	cc.Purpose, cc.Channel = cmp.Or(cc.Purpose, store.PurposeLogin), cmp.Or(cc.Channel, "sms")
	cc.CreatedAt, cc.ExpiresAt, cc.ConsumedAt = ms(cc.CreatedAt), ms(cc.ExpiresAt), ms(cc.ConsumedAt)
	if endOthers && cc.Phone != "" {
		for _, o := range db.challenges {
			if o.Phone == cc.Phone && o.ConsumedAt.IsZero() && o.ExpiresAt.After(cc.CreatedAt) {
				o.ExpiresAt = cc.CreatedAt
			}
		}
	}
	db.challenges[cc.ID] = &cc
	if itemID != "" {
		db.outbox[itemID] = &store.OutboxItem{ID: itemID, ChallengeID: cc.ID, CreatedAt: cc.CreatedAt}
		db.available[itemID] = cc.CreatedAt
	}
	return nil
}

// deleteChallengeLocked deletes a challenge and its outbox items, as the
// SQL stores' foreign key does.
func (db *DB) deleteChallengeLocked(id string) {
	delete(db.challenges, id)
	for itemID, it := range db.outbox {
		if it.ChallengeID == id {
			delete(db.outbox, itemID)
			delete(db.available, itemID)
		}
	}
}

// ChallengeByID returns the challenge with id, or store.ErrNotFound.
func (db *DB) ChallengeByID(ctx context.Context, id string) (*store.Challenge, error) {
	if err := db.lock(ctx, "challenge by id"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	c, ok := db.challenges[id]
	if !ok {
		return nil, wrap("challenge by id", store.ErrNotFound)
	}
	return copyChallenge(c), nil
}

// SetChallengeSend records a live challenge's verification and channel.
func (db *DB) SetChallengeSend(ctx context.Context, id, sid, channel string, now time.Time) error {
	if err := db.lock(ctx, "set challenge send"); err != nil {
		return err
	}
	defer db.mu.Unlock()
	c, ok := db.challenges[id]
	if !ok || !c.ConsumedAt.IsZero() || !ms(now).Before(c.ExpiresAt) {
		return wrap("set challenge send", store.ErrNotFound)
	}
	c.VerificationSID, c.Channel = sid, channel
	return nil
}

// LiveChallenges returns the unconsumed, unexpired challenges on phone,
// oldest first.
func (db *DB) LiveChallenges(ctx context.Context, phone string, now time.Time) ([]*store.Challenge, error) {
	if err := db.lock(ctx, "live challenges"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	var out []*store.Challenge
	for _, c := range db.challenges {
		if c.Phone == phone && c.ConsumedAt.IsZero() && c.ExpiresAt.After(ms(now)) {
			out = append(out, copyChallenge(c))
		}
	}
	slices.SortFunc(out, func(a, b *store.Challenge) int {
		if n := a.CreatedAt.Compare(b.CreatedAt); n != 0 {
			return n
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func copyChallenge(c *store.Challenge) *store.Challenge {
	cc := *c
	cc.TokenHash = slices.Clone(c.TokenHash)
	return &cc
}

// ChallengeByTokenHash returns the challenge with tokenHash, or
// store.ErrNotFound.
func (db *DB) ChallengeByTokenHash(ctx context.Context, tokenHash []byte) (*store.Challenge, error) {
	if err := db.lock(ctx, "challenge by token hash"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	for _, c := range db.challenges {
		if bytes.Equal(c.TokenHash, tokenHash) {
			return copyChallenge(c), nil
		}
	}
	return nil, wrap("challenge by token hash", store.ErrNotFound)
}

// usable reports whether c can take an attempt at now.
func usable(c *store.Challenge, now time.Time) bool {
	return c.ConsumedAt.IsZero() && ms(now).Before(c.ExpiresAt) && c.Attempts < c.MaxAttempts
}

// CountChallengeAttempt adds one attempt to a usable challenge, or returns
// store.ErrNotFound.
func (db *DB) CountChallengeAttempt(ctx context.Context, id string, now time.Time) (*store.Challenge, error) {
	if err := db.lock(ctx, "count challenge attempt"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	c, ok := db.challenges[id]
	if !ok || !usable(c, now) {
		return nil, wrap("count challenge attempt", store.ErrNotFound)
	}
	c.Attempts++
	return copyChallenge(c), nil
}

// CompleteChallenge consumes an unconsumed, unexpired challenge and marks
// its user's phone verified, or returns store.ErrNotFound.
func (db *DB) CompleteChallenge(ctx context.Context, id string, now time.Time, sess *store.Session) error {
	if err := db.lock(ctx, "complete challenge"); err != nil {
		return err
	}
	defer db.mu.Unlock()
	c, ok := db.challenges[id]
	if !ok || c.Purpose != store.PurposeLogin || !c.ConsumedAt.IsZero() || !ms(now).Before(c.ExpiresAt) {
		return wrap("complete challenge", store.ErrNotFound)
	}
	u, ok := db.users[c.UserID]
	if !ok || u.Phone != c.Phone {
		return wrap("complete challenge", store.ErrNotFound)
	}
	owner, owned := db.owners[c.Phone]
	if owned && owner != c.UserID && !u.PhoneVerified {
		return wrap("complete challenge", store.ErrPhoneTaken)
	}
	if sess != nil {
		if sess.UserID != c.UserID {
			return wrap("complete challenge", fmt.Errorf("a session of user %q for a challenge of %q", sess.UserID, c.UserID))
		}
		if err := db.createSession(sess); err != nil { // first: it is the one step that can fail
			return wrap("complete challenge", err)
		}
	}
	if !owned {
		db.owners[c.Phone] = c.UserID
	}
	c.ConsumedAt = ms(now)
	u.PhoneVerified, u.UpdatedAt, u.UnconfirmedExpiresAt = true, ms(now), time.Time{}
	return nil
}
