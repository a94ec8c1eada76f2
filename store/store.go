// Package store defines twostep's persistent state: users, MFA challenges and
// the counters behind rate limits, with one interface that every database
// implementation satisfies and one conformance suite (storetest) they all run.
//
// Every piece of state a login depends on lives here, never in process
// memory, so any number of server replicas can share one database.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors returned by every Store implementation. Callers match them with
// errors.Is; implementations wrap them with the failing operation.
var (
	// ErrNotFound means the requested record does not exist, or no longer
	// satisfies the condition the operation requires (for challenges:
	// expired, consumed or out of attempts).
	ErrNotFound = errors.New("store: not found")
	// ErrEmailTaken means a user with the same normalised email exists.
	ErrEmailTaken = errors.New("store: email taken")
	// ErrUnavailable means the database could not be reached or did not
	// answer in time. The operation may be retried later.
	ErrUnavailable = errors.New("store: unavailable")
)

// User is a registered account.
type User struct {
	ID            string
	Email         string // trimmed and lower-cased
	PasswordHash  string // bcrypt
	Phone         string // E.164
	PhoneVerified bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Challenge is the state between the password step and the code step of a
// login. Only a hash of the opaque mfaToken handed to the client is kept.
type Challenge struct {
	ID              string
	TokenHash       []byte // SHA-256 of the mfaToken
	UserID          string
	Phone           string // E.164 number the code was sent to
	VerificationSID string // Twilio Verify verification (VE…), may be empty
	Attempts        int    // code attempts counted so far
	MaxAttempts     int
	CreatedAt       time.Time
	ExpiresAt       time.Time
	ConsumedAt      time.Time // zero until the challenge is completed
}

// Usable reports whether the challenge can still take a code attempt at now.
func (c *Challenge) Usable(now time.Time) bool {
	return c.ConsumedAt.IsZero() && now.Before(c.ExpiresAt) && c.Attempts < c.MaxAttempts
}

// Counter is the state of one fixed-window counter after a Hit.
type Counter struct {
	Count   int       // hits in the current window, including this one
	ResetAt time.Time // when the current window ends
}

// Store is the persistence interface used by package auth. All methods are
// safe for concurrent use, and every write is atomic: it happens whole or
// not at all. Times are kept to the millisecond and come back in UTC. Any
// method returns an error wrapping ErrUnavailable if the database cannot be
// reached or ctx's deadline passes before it answers.
type Store interface {
	// CreateUser inserts u. It returns ErrEmailTaken if the email is in use.
	// u.ID, u.CreatedAt and u.UpdatedAt must be set by the caller.
	CreateUser(ctx context.Context, u *User) error
	// UserByID returns the user with id, or ErrNotFound.
	UserByID(ctx context.Context, id string) (*User, error)
	// UserByEmail returns the user with the normalised email, or ErrNotFound.
	UserByEmail(ctx context.Context, email string) (*User, error)
	// UpdatePasswordHash replaces a user's password hash (re-hash at a new
	// cost). It returns ErrNotFound if the user does not exist.
	UpdatePasswordHash(ctx context.Context, userID, hash string, now time.Time) error

	// CreateChallenge inserts c. c.ID and the times must be set by the caller.
	CreateChallenge(ctx context.Context, c *Challenge) error
	// ChallengeByTokenHash returns the challenge with that token hash, in
	// whatever state it is, or ErrNotFound.
	ChallengeByTokenHash(ctx context.Context, tokenHash []byte) (*Challenge, error)
	// CountChallengeAttempt atomically adds one attempt to a usable challenge
	// and returns it as updated. It returns ErrNotFound, counting nothing, if
	// the challenge is unknown, expired at now, consumed, or already has
	// MaxAttempts attempts: however calls interleave, Attempts never exceeds
	// MaxAttempts.
	CountChallengeAttempt(ctx context.Context, id string, now time.Time) (*Challenge, error)
	// CompleteChallenge atomically marks an unconsumed, unexpired challenge
	// consumed and its user's phone verified. Exactly one of any number of
	// concurrent calls succeeds; the others get ErrNotFound.
	CompleteChallenge(ctx context.Context, id string, now time.Time) error
	// DeleteChallenge removes a challenge. Deleting a missing one is not an
	// error.
	DeleteChallenge(ctx context.Context, id string) error
	// DeleteExpired removes challenges and counters that expired before now
	// and returns how many rows went.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)

	// Hit atomically adds one to the fixed-window counter key and returns its
	// state. A window starts at the first hit after the previous one ended
	// and lasts window.
	Hit(ctx context.Context, key string, window time.Duration, now time.Time) (Counter, error)
	// Peek returns a counter's state without adding to it; a counter that
	// does not exist or whose window ended reads as zero.
	Peek(ctx context.Context, key string, now time.Time) (Counter, error)
	// ResetCounter deletes the counter key. Resetting a missing one is not
	// an error.
	ResetCounter(ctx context.Context, key string) error

	// Ping reports whether the database answers. It returns an error
	// wrapping ErrUnavailable if not.
	Ping(ctx context.Context) error
	// Close releases the database. The Store must not be used after.
	Close() error
}
