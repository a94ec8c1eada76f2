// Package memstore is a store.Store in process memory. It passes the same
// conformance suite (storetest) as SQLite and PostgreSQL, so unit tests of
// auth and graph run on it at memory speed with the same semantics: times
// kept to the millisecond in UTC, atomic writes, the same errors, and a
// context that has ended reads as store.ErrUnavailable.
//
// It is for tests and experiments: its state dies with the process, and it
// cannot be shared between replicas.
package memstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twostep/twostep/store"
)

// DB is an in-memory store.Store. The zero value is not usable; call New.
type DB struct {
	mu         sync.Mutex
	users      map[string]*store.User // by id
	emails     map[string]string      // email -> user id
	challenges map[string]*store.Challenge
	counters   map[string]store.Counter
	attempts   map[string][]attempt // by key, oldest first
	owners     map[string]string    // verified phone -> user id
	sessions   map[string]*store.Session
	outbox     map[string]*store.OutboxItem
	available  map[string]time.Time // outbox item id -> claimable from
	roles      map[string][]string  // user id -> sorted roles
	events     []*store.Event
}

type attempt struct {
	id          string
	at, expires time.Time
}

var _ store.Store = (*DB)(nil)

// New returns an empty store.
func New() *DB {
	return &DB{
		users:      map[string]*store.User{},
		emails:     map[string]string{},
		challenges: map[string]*store.Challenge{},
		counters:   map[string]store.Counter{},
		attempts:   map[string][]attempt{},
		owners:     map[string]string{},
		sessions:   map[string]*store.Session{},
		outbox:     map[string]*store.OutboxItem{},
		available:  map[string]time.Time{},
		roles:      map[string][]string{},
	}
}

// lock takes the store's lock unless ctx has ended, which a database would
// report as unavailable.
func (db *DB) lock(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	db.mu.Lock()
	return nil
}

func wrap(op string, err error) error { return fmt.Errorf("memstore: %s: %w", op, err) }

// ms is how the SQL stores keep times.
func ms(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(time.Millisecond).UTC()
}

// Ping reports whether ctx is still live.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.lock(ctx, "ping"); err != nil {
		return err
	}
	db.mu.Unlock()
	return nil
}

// Close does nothing.
func (db *DB) Close() error { return nil }

// CreateUser inserts u, or returns store.ErrEmailTaken.
func (db *DB) CreateUser(ctx context.Context, u *store.User) error {
	if err := db.lock(ctx, "create user"); err != nil {
		return err
	}
	defer db.mu.Unlock()
	if _, ok := db.emails[u.Email]; ok {
		return wrap("create user", store.ErrEmailTaken)
	}
	if _, ok := db.users[u.ID]; ok {
		return wrap("create user", fmt.Errorf("duplicate id %q", u.ID))
	}
	c := *u
	c.CreatedAt, c.UpdatedAt, c.UnconfirmedExpiresAt = ms(c.CreatedAt), ms(c.UpdatedAt), ms(c.UnconfirmedExpiresAt)
	db.users[c.ID] = &c
	db.emails[c.Email] = c.ID
	return nil
}

// UserByID returns the user with id, or store.ErrNotFound.
func (db *DB) UserByID(ctx context.Context, id string) (*store.User, error) {
	if err := db.lock(ctx, "user by id"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	u, ok := db.users[id]
	if !ok {
		return nil, wrap("user by id", store.ErrNotFound)
	}
	c := *u
	return &c, nil
}

// UserByEmail returns the user with email, or store.ErrNotFound.
func (db *DB) UserByEmail(ctx context.Context, email string) (*store.User, error) {
	if err := db.lock(ctx, "user by email"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	u, ok := db.users[db.emails[email]]
	if !ok {
		return nil, wrap("user by email", store.ErrNotFound)
	}
	c := *u
	return &c, nil
}

// UpdatePasswordHash replaces a user's hash, or returns store.ErrNotFound.
func (db *DB) UpdatePasswordHash(ctx context.Context, userID, hash string, now time.Time) error {
	if err := db.lock(ctx, "update password hash"); err != nil {
		return err
	}
	defer db.mu.Unlock()
	u, ok := db.users[userID]
	if !ok {
		return wrap("update password hash", store.ErrNotFound)
	}
	u.PasswordHash, u.UpdatedAt = hash, ms(now)
	return nil
}

// PhoneOwner returns the user who verified phone, or store.ErrNotFound.
func (db *DB) PhoneOwner(ctx context.Context, phone string) (string, error) {
	if err := db.lock(ctx, "phone owner"); err != nil {
		return "", err
	}
	defer db.mu.Unlock()
	id, ok := db.owners[phone]
	if !ok {
		return "", wrap("phone owner", store.ErrNotFound)
	}
	return id, nil
}

// DeleteExpired removes what expired before now.
func (db *DB) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	if err := db.lock(ctx, "delete expired"); err != nil {
		return 0, err
	}
	defer db.mu.Unlock()
	now = ms(now)
	var n int64
	for id, c := range db.challenges {
		if c.ExpiresAt.Before(now) {
			db.deleteChallengeLocked(id)
			n++
		}
	}
	for k, c := range db.counters {
		if c.ResetAt.Before(now) {
			delete(db.counters, k)
			n++
		}
	}
	for id, s := range db.sessions {
		if s.ExpiresAt.Before(now) || s.IdleExpiresAt.Before(now) || (!s.RevokedAt.IsZero() && s.RevokedAt.Before(now)) {
			delete(db.sessions, id)
			n++
		}
	}
	for k, as := range db.attempts {
		kept := slices.DeleteFunc(as, func(a attempt) bool { return a.expires.Before(now) })
		n += int64(len(as) - len(kept))
		db.attempts[k] = kept
	}
	return n, nil
}

// Hit adds one to the fixed-window counter key.
func (db *DB) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (store.Counter, error) {
	if err := db.lock(ctx, "hit"); err != nil {
		return store.Counter{}, err
	}
	defer db.mu.Unlock()
	c, ok := db.counters[key]
	if !ok || !c.ResetAt.After(ms(now)) {
		c = store.Counter{ResetAt: ms(now.Add(window))}
	}
	c.Count++
	db.counters[key] = c
	return c, nil
}

// Charge adds one to every budget's counter if all have room.
func (db *DB) Charge(ctx context.Context, budgets []store.Budget, now time.Time) (int, time.Time, error) {
	if err := db.lock(ctx, "charge"); err != nil {
		return 0, time.Time{}, err
	}
	defer db.mu.Unlock()
	for i, b := range budgets {
		if c, ok := db.counters[b.Key]; ok && c.ResetAt.After(ms(now)) && c.Count >= b.Max {
			return i, c.ResetAt, nil
		}
	}
	var full time.Time // the latest window end among the budgets this fills
	for _, b := range budgets {
		c, ok := db.counters[b.Key]
		if !ok || !c.ResetAt.After(ms(now)) {
			c = store.Counter{ResetAt: ms(now.Add(b.Window))}
		}
		c.Count++
		db.counters[b.Key] = c
		if c.Count >= b.Max && c.ResetAt.After(full) {
			full = c.ResetAt
		}
	}
	return -1, full, nil
}

// TakeAttempt decides and logs one attempt against key under the store's
// lock.
func (db *DB) TakeAttempt(ctx context.Context, key string, now, expires time.Time, allow func([]time.Time) error) (string, error) {
	if err := db.lock(ctx, "take attempt"); err != nil {
		return "", err
	}
	defer db.mu.Unlock()
	var taken []time.Time
	for _, a := range db.attempts[key] {
		if a.expires.After(ms(now)) {
			taken = append(taken, a.at)
		}
	}
	if err := allow(taken); err != nil {
		return "", wrap("take attempt", err)
	}
	a := attempt{id: rand.Text(), at: ms(now), expires: ms(expires)}
	as := append(db.attempts[key], a)
	slices.SortStableFunc(as, func(x, y attempt) int { return x.at.Compare(y.at) })
	db.attempts[key] = as
	return a.id, nil
}

// ReleaseAttempt removes one attempt of key.
func (db *DB) ReleaseAttempt(ctx context.Context, key, id string) error {
	if err := db.lock(ctx, "release attempt"); err != nil {
		return err
	}
	defer db.mu.Unlock()
	db.attempts[key] = slices.DeleteFunc(db.attempts[key], func(a attempt) bool { return a.id == id })
	return nil
}

// ClearAttempts removes every attempt of key.
func (db *DB) ClearAttempts(ctx context.Context, key string) error {
	if err := db.lock(ctx, "clear attempts"); err != nil {
		return err
	}
	defer db.mu.Unlock()
	delete(db.attempts, key)
	return nil
}

// ImportUsers inserts a batch of users under the store's lock: it decides
// every user first, then writes, so an error writes nothing.
func (db *DB) ImportUsers(ctx context.Context, users []*store.User) ([]store.ImportResult, error) {
	if err := db.lock(ctx, "import users"); err != nil {
		return nil, err
	}
	defer db.mu.Unlock()
	res := make([]store.ImportResult, len(users))
	emails, owners, ids := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, u := range users {
		_, email := db.emails[u.Email]
		_, owned := db.owners[u.Phone]
		_, id := db.users[u.ID]
		switch {
		case email || emails[u.Email]:
			res[i] = store.ImportEmailExists
		case owned || owners[u.Phone]:
			res[i] = store.ImportPhoneTaken
		case id || ids[u.ID]:
			return nil, wrap("import users", fmt.Errorf("duplicate id %q", u.ID))
		default:
			res[i] = store.ImportInserted
			emails[u.Email], ids[u.ID] = true, true
			if u.PhoneVerified {
				owners[u.Phone] = true
			}
		}
	}
	for i, u := range users {
		if res[i] != store.ImportInserted {
			continue
		}
		c := *u
		c.CreatedAt, c.UpdatedAt, c.UnconfirmedExpiresAt = ms(c.CreatedAt), ms(c.UpdatedAt), ms(c.UnconfirmedExpiresAt)
		db.users[c.ID] = &c
		db.emails[c.Email] = c.ID
		if c.PhoneVerified {
			db.owners[c.Phone] = c.ID
		}
	}
	return res, nil
}
