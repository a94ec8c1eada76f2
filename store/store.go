// Package store defines twostep's persistent state: users and their roles,
// MFA challenges and the outbox of codes still to send, sessions, the
// counters behind rate limits, the attempt log behind account blocks and
// the security-event trail, with one interface that every implementation
// satisfies and one conformance suite (storetest) they all run.
//
// Every piece of state a login depends on lives here, never in process
// memory, so any number of server replicas can share one database. The
// types are the store's own rows; package auth turns them into the domain
// types it hands out.
package store

import (
	"context"
	"errors"
	"strconv"
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
	// ErrPhoneTaken means another user has verified the phone number.
	ErrPhoneTaken = errors.New("store: phone taken")
	// ErrUnavailable means the database could not be reached or did not
	// answer in time. The operation may be retried later.
	ErrUnavailable = errors.New("store: unavailable")
)

// Store is the persistence interface used by package auth. All methods are
// safe for concurrent use, and every write is atomic: it happens whole or
// not at all. Times are kept to the millisecond and come back in UTC. Any
// method returns an error wrapping ErrUnavailable if the database cannot be
// reached or ctx's deadline passes before it answers.
type Store interface {
	Users
	Challenges
	Outbox
	Sessions
	Limits
	Roles
	Events

	// Ping reports whether the database answers. It returns an error
	// wrapping ErrUnavailable if not.
	Ping(ctx context.Context) error
	// DeleteExpired removes challenges (and their queued sends), counters,
	// attempts and sessions that expired (or, for sessions, were revoked)
	// before now and returns how many rows went.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
	// Close releases the database. The Store must not be used after.
	Close() error
}

// Users are the accounts.
type Users interface {
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
	// PhoneOwner returns the id of the user who verified the E.164 number
	// phone, or ErrNotFound if nobody has.
	PhoneOwner(ctx context.Context, phone string) (userID string, err error)
	// SetPassword replaces a user's password hash and revokes, at now, every
	// live session of theirs but keepSession ("" for all), as one step. It
	// returns how many sessions it revoked, or ErrNotFound if the user does
	// not exist.
	SetPassword(ctx context.Context, userID, hash string, now time.Time, keepSession string) (revoked int, err error)
	// DeleteUser deletes a user and everything that belongs to it (its
	// sessions, challenges and their queued sends, its ownership of a
	// number) as one step, or returns ErrNotFound. Rate-limit counters and
	// attempt logs are left to expire.
	DeleteUser(ctx context.Context, id string) error
	// DeleteUnconfirmedUsers deletes, as DeleteUser does, up to limit users
	// whose number is not confirmed and whose UnconfirmedExpiresAt is before
	// now, and returns their ids. A user who confirms meanwhile stays.
	DeleteUnconfirmedUsers(ctx context.Context, now time.Time, limit int) ([]string, error)
	// ImportUsers inserts a batch of users, already normalised, as one
	// atomic step, and returns what became of each, in order:
	//
	//   - ImportEmailExists: a user with its email exists, in the store or
	//     inserted earlier in the batch; nothing about it is written. This
	//     comes first, so importing a batch again writes nothing.
	//   - ImportPhoneTaken: another user, in the store or inserted earlier
	//     in the batch, owns its number (has verified it); it is not
	//     inserted, verified or not, as registration refuses such a number.
	//   - ImportInserted: inserted; if PhoneVerified, it owns its number
	//     from now on, as CompleteChallenge would make it.
	//
	// IDs and times must be set by the caller; UpdatedAt is also when the
	// number was verified. On an error (a duplicate id is a caller's bug,
	// not a skip) nothing of the batch is written. Callers pass batches of
	// about a thousand: one call is one transaction.
	ImportUsers(ctx context.Context, users []*User) ([]ImportResult, error)
}

// ImportResult is what ImportUsers did with one user.
type ImportResult int

// The results of ImportUsers.
const (
	ImportInserted    ImportResult = iota + 1 // inserted
	ImportEmailExists                         // skipped: the email has an account
	ImportPhoneTaken                          // refused: another account owns the number
)

func (r ImportResult) String() string {
	switch r {
	case ImportInserted:
		return "inserted"
	case ImportEmailExists:
		return "email exists"
	case ImportPhoneTaken:
		return "phone taken"
	}
	return "ImportResult(" + strconv.Itoa(int(r)) + ")"
}

// Challenges are one-time code steps waiting for their code: logins,
// password resets and phone changes.
type Challenges interface {
	// CreateChallenge inserts c and, in the same step, ends (expires at
	// c.CreatedAt) every other live challenge on c.Phone: the provider
	// keeps one pending verification per number, so two challenges on one
	// number would share it. c.ID and the times must be set by the caller.
	CreateChallenge(ctx context.Context, c *Challenge) error
	// QueueChallenge inserts c, ending no other challenge, and in the same
	// step queues the send of its code: an OutboxItem with itemID,
	// claimable from c.CreatedAt.
	QueueChallenge(ctx context.Context, c *Challenge, itemID string) error
	// ChallengeByID returns the challenge with id in whatever state it is,
	// or ErrNotFound.
	ChallengeByID(ctx context.Context, id string) (*Challenge, error)
	// SetChallengeSend records that a live challenge's code went out: the
	// provider's verification sid and the channel. It returns ErrNotFound,
	// changing nothing, if the challenge is consumed or expired at now.
	SetChallengeSend(ctx context.Context, id, sid, channel string, now time.Time) error
	// LiveChallenges returns the challenges on phone that are unconsumed
	// and unexpired at now, oldest (by CreatedAt, then ID) first.
	LiveChallenges(ctx context.Context, phone string, now time.Time) ([]*Challenge, error)
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
	// consumed and its user's phone verified, making the user the number's
	// owner, and, if sess is not nil, creates sess (a session of the
	// challenge's user) with it: a sign-in completes with its session or
	// not at all, so nothing that ends the user's sessions (a reset, a new
	// password or number, deletion) can fall between the two. Exactly one
	// of any number of concurrent calls succeeds; the others get
	// ErrNotFound. If the user's phone was not verified yet and another user
	// owns the number, it changes nothing and returns ErrPhoneTaken: of two
	// users confirming one number, one wins.
	CompleteChallenge(ctx context.Context, id string, now time.Time, sess *Session) error
	// CompleteReset atomically consumes an unconsumed, unexpired reset
	// challenge, sets its user's password hash to hash and revokes every
	// live session of the user. Of concurrent calls exactly one succeeds;
	// the others, and a challenge without a user, get ErrNotFound.
	CompleteReset(ctx context.Context, id, hash string, now time.Time) error
	// CompletePhoneChange atomically consumes an unconsumed, unexpired
	// phone-change challenge and moves its user to the challenge's number:
	// the user's phone becomes it, verified and owned by the user, and the
	// old number is no longer theirs. In the same step it ends (expires at
	// now) every other live challenge of the user: codes sent to the old
	// number are no good. If another user owns the new number it changes
	// nothing and returns ErrPhoneTaken; ErrNotFound as CompleteChallenge.
	CompletePhoneChange(ctx context.Context, id string, now time.Time) error
}

// Roles are the users' roles, and the administrators' view of the users.
type Roles interface {
	// UserRoles returns the roles of userID, sorted; none is an empty
	// list, also for an unknown user.
	UserRoles(ctx context.Context, userID string) ([]string, error)
	// RolesOf returns the roles of each of userIDs (at most 100) that has
	// any, sorted, in one read: a list of users needs no read per user.
	RolesOf(ctx context.Context, userIDs []string) (map[string][]string, error)
	// SetUserRoles replaces the roles of userID, or returns ErrNotFound.
	SetUserRoles(ctx context.Context, userID string, roles []string, now time.Time) error
	// ListUsers returns up to limit users after the cursor (by creation,
	// then id) that q matches.
	ListUsers(ctx context.Context, q UserQuery, after Cursor, limit int) ([]*User, error)
	// CountUsers counts the users ListUsers would list from the start.
	CountUsers(ctx context.Context, q UserQuery) (int, error)
}

// Events are the security-event trail.
type Events interface {
	// RecordEvents inserts events in one step; an event whose DedupKey is
	// already recorded is skipped.
	RecordEvents(ctx context.Context, events []*Event) error
	// ListEvents returns up to limit events of userID ("": everyone's),
	// newest first, before the cursor (the zero Cursor: from the newest).
	ListEvents(ctx context.Context, userID string, before Cursor, limit int) ([]*Event, error)
	// DeleteEventsBefore removes the events older than t and returns how
	// many went.
	DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error)
}

// Outbox is the queue of sends that requests did not wait for.
type Outbox interface {
	// ClaimOutbox claims up to limit items claimable at now, oldest first:
	// each becomes claimable again only after lease (if its sender dies)
	// and counts a try. Concurrent claims, on any replica, never return the
	// same item within its lease.
	ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxItem, error)
	// DeleteOutbox removes the item id (sent, or given up). A missing item
	// is not an error.
	DeleteOutbox(ctx context.Context, id string) error
}

// Sessions are the sign-ins.
type Sessions interface {
	// CreateSession inserts s. Its id, secret and times must be set. It
	// returns ErrNotFound if the user does not exist (deleted meanwhile).
	CreateSession(ctx context.Context, s *Session) error
	// SessionByID returns the session with id in whatever state it is, or
	// ErrNotFound.
	SessionByID(ctx context.Context, id string) (*Session, error)
	// RotateSession moves the refresh counter of a live session from from
	// to from+1 as one conditional step, setting RotatedAt and LastUsedAt
	// to now, IdleExpiresAt to idleExpires and IPAddress to ip (unless ip
	// is empty: the address the session was last used from), and returns
	// the session as updated. It returns ErrNotFound, changing nothing, if the session is
	// not live at now or its counter is no longer from: of concurrent
	// rotations from one counter, exactly one succeeds, on any replica.
	RotateSession(ctx context.Context, id string, from int64, now, idleExpires time.Time, ip string) (*Session, error)
	// RevokeSessions revokes, at now, the live sessions of userID that
	// match: the one with id only, or all but the one with except (except
	// "": all). It returns how many it revoked.
	RevokeSessions(ctx context.Context, userID string, match SessionMatch, now time.Time) (int, error)
	// UserSessions returns the live sessions of userID, newest first.
	UserSessions(ctx context.Context, userID string, now time.Time) ([]*Session, error)
	// UserBySession returns the user userID if sessionID is a live session
	// of theirs at now, in one query (the one every authenticated request
	// makes), or ErrNotFound.
	UserBySession(ctx context.Context, userID, sessionID string, now time.Time) (*User, error)
}

// SessionMatch chooses sessions for RevokeSessions: ID alone, or all but
// Except.
type SessionMatch struct {
	ID     string
	Except string
}

// Limits are the shared state of rate limits and account blocks.
type Limits interface {
	// Hit atomically adds one to the fixed-window counter key and returns its
	// state. A window starts at the first hit after the previous one ended
	// and lasts window.
	Hit(ctx context.Context, key string, window time.Duration, now time.Time) (Counter, error)
	// Charge adds one to the counter of every budget if all of them have
	// room at now (fewer than Max in the current window), as one atomic
	// step, and returns -1 and the latest window end among the budgets
	// this charge filled (zero if it filled none): the earliest time the
	// same budgets can be charged again. Otherwise it changes nothing and
	// returns the index of the first budget without room and when its
	// window ends: a refused charge costs no budget anything.
	Charge(ctx context.Context, budgets []Budget, now time.Time) (refused int, resetAt time.Time, err error)

	// TakeAttempt decides and records one attempt against key as a single
	// atomic step. It calls allow with the times of key's attempts that have
	// not expired at now, oldest first; if allow returns nil it logs a new
	// attempt at now, kept until expires, and returns its id. Otherwise it
	// logs nothing and returns allow's error (wrapped, for errors.Is/As).
	// Concurrent calls for one key are serialised, across replicas too, so
	// each allow sees every attempt taken before it.
	TakeAttempt(ctx context.Context, key string, now, expires time.Time, allow func(taken []time.Time) error) (id string, err error)
	// ReleaseAttempt removes the attempt id of key, as if it had never been
	// taken. Releasing a missing one is not an error.
	ReleaseAttempt(ctx context.Context, key, id string) error
	// ClearAttempts removes every attempt of key.
	ClearAttempts(ctx context.Context, key string) error
}
