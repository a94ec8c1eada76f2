// Package auth holds twostep's login rules: registration, the password step,
// the one-time-code step, access tokens, and the limits that keep scripted
// attacks out. It talks to persistence through store.Store and to the SMS
// provider through OTPVerifier; it knows nothing of GraphQL or HTTP, and
// what it hands out (User, LoginResult, AuthResult) carries no password
// hash or other stored secret.
package auth

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/store"
)

// Defaults of the code step; Twilio Verify keeps a verification for 10
// minutes and allows 5 checks, so the challenge matches it.
const (
	DefaultChallengeTTL = 10 * time.Minute
	DefaultMaxAttempts  = 5
	DefaultBcryptCost   = 12
)

// Authentication methods (RFC 8176) recorded in the amr claim.
var amrPasswordAndSMS = []string{"pwd", "sms", "mfa"}

// User is an account as the rest of the server sees it.
type User struct {
	ID            string
	Email         string
	Phone         string // E.164
	PhoneVerified bool
	CreatedAt     time.Time
}

func userOf(u *store.User) *User {
	return &User{ID: u.ID, Email: u.Email, Phone: u.Phone, PhoneVerified: u.PhoneVerified, CreatedAt: u.CreatedAt}
}

// HashLimiter bounds concurrent password hashing. Do runs fn or returns an
// error without running it when the server is too busy.
type HashLimiter interface {
	Do(ctx context.Context, fn func()) error
}

// busyReporter is implemented by a HashLimiter that can tell ahead of time
// that it would refuse, so a flood is turned away before it costs database
// writes.
type busyReporter interface {
	Busy() bool
}

// Options configure a Service. Store, OTP, Tokens and Phones are required.
type Options struct {
	Store        store.Store
	OTP          OTPVerifier
	Tokens       *Tokens
	Phones       *input.Phones
	BcryptCost   int           // default DefaultBcryptCost
	HashLimiter  HashLimiter   // nil: unbounded
	Limits       *Limits       // nil: DefaultLimits(); otherwise used as given
	Sessions     SessionConfig // Secret is required
	ChallengeTTL time.Duration // default DefaultChallengeTTL
	MaxAttempts  int           // default DefaultMaxAttempts
	// UnconfirmedTTL is how long an account registered here may go
	// without confirming its number before ExpireUnconfirmed deletes it;
	// 0: DefaultUnconfirmedTTL, negative: never.
	UnconfirmedTTL time.Duration
	TestNumbers    TestNumbers // none by default
	// ProviderCheckTime is how long a code check is taken to last until
	// one has been measured (see checkCode); default 300ms.
	ProviderCheckTime time.Duration
	Observer          Observer    // nil: none
	RequestInfo       RequestInfo // nil: events carry no address or agent
	// SyncEvents writes each security event before the request goes on,
	// instead of through RunEvents: for tests.
	SyncEvents bool
	Now        func() time.Time
	Logger     *slog.Logger
}

// Service implements the login flow.
type Service struct {
	store        store.Store
	otp          OTPVerifier
	tokens       *Tokens
	phones       *input.Phones
	cost         int
	hashLimiter  HashLimiter
	limits       Limits
	sessions     SessionConfig
	challengeTTL time.Duration
	maxAttempts  int
	unconfirmed  time.Duration // 0: never
	testNumbers  *testNumbers
	now          func() time.Time
	log          *slog.Logger
	// checkTime follows how long the provider takes to check a code, so
	// that a reset token that can never succeed answers as slowly as one
	// that can (recovery.go).
	checkTime latency
	// queued wakes this replica's outbox worker when a request queues a
	// send; nil when nobody listens.
	queued chan struct{}

	observer    Observer
	requestInfo RequestInfo
	events      chan *store.Event
	syncEvents  bool
	limitSeen   seenLimits
	dropLog     oncePerSecond
	// dummyHash is compared against when the email is unknown, so that an
	// unknown email costs the same time as a wrong password.
	dummyHash []byte
}

// New returns a Service. It returns an error if a required option is
// missing, the bcrypt cost is out of range, or a limit is invalid.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.OTP == nil || o.Tokens == nil || o.Phones == nil {
		return nil, errors.New("auth: store, otp verifier, tokens and phones are required")
	}
	if o.BcryptCost == 0 {
		o.BcryptCost = DefaultBcryptCost
	}
	if o.BcryptCost < bcrypt.MinCost || o.BcryptCost > bcrypt.MaxCost {
		return nil, fmt.Errorf("auth: bcrypt cost %d out of range %d..%d", o.BcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	limits := DefaultLimits()
	if o.Limits != nil {
		limits = *o.Limits
	}
	if err := limits.Validate(); err != nil {
		return nil, err
	}
	sessions, err := o.Sessions.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.ChallengeTTL <= 0 {
		o.ChallengeTTL = DefaultChallengeTTL
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	switch {
	case o.UnconfirmedTTL == 0:
		o.UnconfirmedTTL = DefaultUnconfirmedTTL
	case o.UnconfirmedTTL < 0:
		o.UnconfirmedTTL = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("twostep dummy password for timing"), o.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("auth: dummy hash: %w", err)
	}
	numbers := &testNumbers{TestNumbers: o.TestNumbers, now: o.Now}
	if o.ProviderCheckTime <= 0 {
		o.ProviderCheckTime = defaultCheckTime
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.RequestInfo == nil {
		o.RequestInfo = func(context.Context) (string, string) { return "", "" }
	}
	s := &Service{
		store:        o.Store,
		otp:          &testOTP{next: o.OTP, numbers: numbers, log: o.Logger},
		testNumbers:  numbers,
		queued:       make(chan struct{}, 1),
		observer:     o.Observer,
		requestInfo:  o.RequestInfo,
		events:       make(chan *store.Event, eventBuffer),
		syncEvents:   o.SyncEvents,
		tokens:       o.Tokens,
		phones:       o.Phones,
		cost:         o.BcryptCost,
		hashLimiter:  o.HashLimiter,
		limits:       limits,
		sessions:     sessions,
		challengeTTL: o.ChallengeTTL,
		maxAttempts:  o.MaxAttempts,
		unconfirmed:  o.UnconfirmedTTL,
		now:          o.Now,
		log:          o.Logger,
		dummyHash:    dummy,
	}
	s.checkTime.ns.Store(int64(o.ProviderCheckTime))
	return s, nil
}

// Ready reports whether the store answers.
func (s *Service) Ready(ctx context.Context) error { return s.store.Ping(ctx) }

func (s *Service) hash(ctx context.Context, password string) (string, error) {
	var (
		h   []byte
		err error
	)
	if lerr := s.runHash(ctx, func() { h, err = bcrypt.GenerateFromPassword([]byte(password), s.cost) }); lerr != nil {
		return "", lerr
	}
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return string(h), nil
}

// hashCapacity refuses early when the hash limiter would refuse anyway.
func (s *Service) hashCapacity(ctx context.Context) error {
	if b, ok := s.hashLimiter.(busyReporter); ok && b.Busy() {
		return s.refuse(ctx, errRateLimited("hash_capacity", time.Second, errors.New("auth: hash capacity busy")))
	}
	return nil
}

// runHash runs a bcrypt operation under the hash limiter.
func (s *Service) runHash(ctx context.Context, fn func()) error {
	if s.hashLimiter == nil {
		fn()
		return nil
	}
	if err := s.hashLimiter.Do(ctx, fn); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.refuse(ctx, errRateLimited("hash_capacity", time.Second, err))
	}
	return nil
}

// upgradeHash re-hashes a password stored at another cost. Failure is only
// logged: the login itself has succeeded.
func (s *Service) upgradeHash(ctx context.Context, u *store.User, password string) {
	cost, err := bcrypt.Cost([]byte(u.PasswordHash))
	if err != nil || cost == s.cost {
		return
	}
	h, err := s.hash(ctx, password)
	if err != nil {
		s.log.WarnContext(ctx, "rehash failed", "user_id", u.ID, "err", err)
		return
	}
	if err := s.store.UpdatePasswordHash(ctx, u.ID, h, s.now()); err != nil {
		s.log.WarnContext(ctx, "rehash failed", "user_id", u.ID, "err", err)
		return
	}
	s.log.InfoContext(ctx, "password rehashed", "user_id", u.ID, "from_cost", cost, "to_cost", s.cost)
}

// refuse logs a limit's refusal and returns it.
func (s *Service) refuse(ctx context.Context, e *Error) error {
	s.log.WarnContext(ctx, "rate limit hit", "limit", e.Limit)
	s.observer.LimitHit(e.Limit)
	return e
}

// verifyErr maps an OTPVerifier failure to a client error and logs it.
func (s *Service) verifyErr(ctx context.Context, op, phone string, err error) error {
	kind, ve := verifyErrorKind(err)
	s.log.WarnContext(ctx, "otp provider error", "op", op, "kind", kind.String(), "phone", input.MaskPhone(phone), "err", err)
	switch kind {
	case VerifyNotFound:
		return errMFATokenInvalid(err)
	case VerifyChannelUnavailable:
		return &Error{Code: CodeOTPDeliveryFailed, Message: "Codes cannot be sent this way. Please choose another way, such as SMS.", Err: err}
	case VerifyRateLimited, VerifyExhausted:
		var d time.Duration
		if ve != nil {
			d = ve.RetryAfter
		}
		if d <= 0 {
			d = time.Minute
		}
		return errRateLimited("provider", d, err)
	default:
		return errDelivery(err)
	}
}

// badInput turns an input validation error into a BAD_USER_INPUT error.
func badInput(err error) error { return badInputAs(err, "") }

// badInputAs is badInput for an argument that input's rule knows by
// another name (newPassword is checked as a password).
func badInputAs(err error, field string) error {
	var ie *input.Error
	if errors.As(err, &ie) {
		f := cmp.Or(field, ie.Field)
		return &Error{Code: CodeBadUserInput, Field: f, Message: fieldLabel(f) + " " + ie.Reason + ".", Err: err}
	}
	return &Error{Code: CodeBadUserInput, Field: field, Message: "Invalid input.", Err: err}
}

// storeErr classifies a store failure: unreachable database or anything
// unexpected. The detail is only ever logged.
func storeErr(err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return errUnavailable(err)
	}
	return fmt.Errorf("auth: store: %w", err)
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// fieldLabel names an argument in a message for people.
func fieldLabel(field string) string {
	switch field {
	case "":
		return "Input"
	case "mfaToken":
		return "Sign-in token"
	case "resetToken":
		return "Reset token"
	case "changeToken":
		return "Change token"
	case "newPassword":
		return "New password"
	case "currentPassword":
		return "Current password"
	case "newPhone":
		return "New phone number"
	case "phone":
		return "Phone number"
	}
	return string(field[0]-'a'+'A') + field[1:]
}
