package store

import "time"

// User is a registered account as stored.
type User struct {
	ID            string
	Email         string // trimmed and lower-cased
	PasswordHash  string // bcrypt
	Phone         string // E.164
	PhoneVerified bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// UnconfirmedExpiresAt is when an account that has not confirmed its
	// number goes (DeleteUnconfirmedUsers); zero: never. Confirming the
	// number clears it.
	UnconfirmedExpiresAt time.Time
}

// Challenge is a one-time code step waiting for its code: a login's (between
// the password and the code), a password reset's, or a phone change's. Only
// a hash of the opaque token handed to the client is kept.
type Challenge struct {
	ID              string
	TokenHash       []byte // SHA-256 of the mfaToken, resetToken or changeToken
	Purpose         string // PurposeLogin ("" on create), PurposeReset or PurposePhone
	UserID          string // "" for a reset that can never succeed (no account, no verified number)
	Phone           string // E.164 number the code goes to ("" when there is none)
	Channel         string // how the code was last sent: "sms" ("" on create), "call", "whatsapp"
	VerificationSID string // the provider's verification (Twilio: VE…), "" until sent
	Attempts        int    // code attempts counted so far
	MaxAttempts     int
	CreatedAt       time.Time
	ExpiresAt       time.Time
	ConsumedAt      time.Time // zero until the challenge is completed
}

// The purposes of a challenge. A token works only for its own purpose.
const (
	PurposeLogin = "login" // the code step of a login
	PurposeReset = "reset" // a forgotten password
	PurposePhone = "phone" // a change of phone number; Phone is the new number
)

// OutboxItem is a send that a request queued instead of waiting for: the
// code of its challenge, delivered by whichever replica's worker claims it.
type OutboxItem struct {
	ID          string
	ChallengeID string
	Tries       int // claims so far, this one included
	CreatedAt   time.Time
}

// RoleAdmin is the administrators' role: the one role there is.
const RoleAdmin = "ADMIN"

// Event is one security event: something that happened to an account or
// to the service, for its owner and for administrators to read.
type Event struct {
	ID        string // UUIDv7
	At        time.Time
	Type      string // LOGIN_SUCCEEDED, CODE_SENT, … (auth's Event* constants)
	UserID    string // "" when no account is known
	IPAddress string
	UserAgent string
	Detail    string // for people; never a password, code, token or full number
	// DedupKey, if set, makes the event once-only: a second event with the
	// same key is not recorded.
	DedupKey string
}

// UserQuery picks users by the start of their email or of their phone
// number (each "" to match none of that kind; both "": every user).
type UserQuery struct {
	EmailPrefix string
	PhonePrefix string
}

// Cursor is a position in a list ordered by time and id: the zero Cursor
// is the start; a list continues after (or before) the row it names.
type Cursor struct {
	At time.Time
	ID string
}

// Session is one sign-in, from a completed login until it is revoked or
// expires. Its refresh tokens are derived from Secret and Counter (see
// package auth); the store keeps no token.
type Session struct {
	ID            string
	UserID        string
	Secret        []byte
	Counter       int64     // of the current refresh token
	RotatedAt     time.Time // when Counter last moved
	AMR           string    // authentication methods, comma-separated
	UserAgent     string
	IPAddress     string
	CreatedAt     time.Time
	LastUsedAt    time.Time
	IdleExpiresAt time.Time // ends unless refreshed before
	ExpiresAt     time.Time // ends at the latest
	RevokedAt     time.Time // zero while live
}

// Live reports whether the session can be used at now.
func (s *Session) Live(now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt) && now.Before(s.IdleExpiresAt)
}

// Budget is one fixed-window budget of Max events per Window under Key.
type Budget struct {
	Key    string
	Max    int
	Window time.Duration
}

// Counter is the state of one fixed-window counter after a Hit.
type Counter struct {
	Count   int       // hits in the current window, including this one
	ResetAt time.Time // when the current window ends
}
