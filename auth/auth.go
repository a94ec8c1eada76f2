// Package auth holds twostep's login rules: registration, the password step,
// the one-time-code step, access tokens, and the limits that keep scripted
// attacks out. It talks to persistence through store.Store and to the SMS
// provider through OTPVerifier; it knows nothing of GraphQL or HTTP.
package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
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
	Limits       Limits        // zero fields take their defaults
	ChallengeTTL time.Duration // default DefaultChallengeTTL
	MaxAttempts  int           // default DefaultMaxAttempts
	Now          func() time.Time
	Logger       *slog.Logger
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
	challengeTTL time.Duration
	maxAttempts  int
	now          func() time.Time
	log          *slog.Logger
	// dummyHash is compared against when the email is unknown, so that an
	// unknown email costs the same time as a wrong password.
	dummyHash []byte
}

// New returns a Service. It returns an error if a required option is
// missing or the bcrypt cost is out of range.
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
	if o.ChallengeTTL <= 0 {
		o.ChallengeTTL = DefaultChallengeTTL
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
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
	return &Service{
		store:        o.Store,
		otp:          o.OTP,
		tokens:       o.Tokens,
		phones:       o.Phones,
		cost:         o.BcryptCost,
		hashLimiter:  o.HashLimiter,
		limits:       o.Limits.withDefaults(),
		challengeTTL: o.ChallengeTTL,
		maxAttempts:  o.MaxAttempts,
		now:          o.Now,
		log:          o.Logger,
		dummyHash:    dummy,
	}, nil
}

// RegisterInput is what a person gives to create an account.
type RegisterInput struct {
	Email    string
	Password string
	Phone    string
	ClientIP string
}

// Register creates an account. It returns an *Error with CodeBadUserInput
// for invalid input (one per invalid field, joined with errors.Join), CodeEmailTaken if the email is in use, or
// CodeRateLimited; nothing is stored on any failure.
func (s *Service) Register(ctx context.Context, in RegisterInput) (*store.User, error) {
	// Every field is checked, so a form can show all its problems at once.
	email, emailErr := input.Email(in.Email)
	phone, phoneErr := s.phones.Normalize(in.Phone)
	var bad []error
	for _, err := range []error{emailErr, input.Password(in.Password), phoneErr} {
		if err != nil {
			bad = append(bad, badInput(err))
		}
	}
	if len(bad) > 0 {
		return nil, errors.Join(bad...)
	}
	if err := s.hashCapacity(ctx); err != nil {
		return nil, err
	}
	if err := s.limitRegister(ctx, in.ClientIP); err != nil {
		return nil, err
	}
	hash, err := s.hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	u := &store.User{
		ID:           uuid.Must(uuid.NewV7()).String(),
		Email:        email,
		PasswordHash: hash,
		Phone:        phone,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrEmailTaken) {
			return nil, &Error{Code: CodeEmailTaken, Field: "email", Message: "An account with this email already exists."}
		}
		return nil, storeErr(err)
	}
	s.log.InfoContext(ctx, "user registered", "user_id", u.ID, "phone", input.MaskPhone(phone))
	return u, nil
}

// LoginInput is the password step.
type LoginInput struct {
	Email    string
	Password string
	ClientIP string
}

// LoginResult is what the password step hands to the client.
type LoginResult struct {
	MFAToken  string // opaque; only its hash is stored
	SentTo    string // masked phone
	ExpiresAt time.Time
}

// Login checks the password and sends a one-time code to the account's
// phone. It returns an *Error with CodeInvalidCredentials for an unknown
// email or a wrong password alike, CodeRateLimited, CodeOTPDeliveryFailed,
// or CodeBadUserInput. No access token is issued here.
func (s *Service) Login(ctx context.Context, in LoginInput) (*LoginResult, error) {
	email, err := input.Email(in.Email)
	if err != nil {
		return nil, badInput(err)
	}
	if err := input.LoginPassword(in.Password); err != nil {
		return nil, badInput(err)
	}
	if err := s.hashCapacity(ctx); err != nil {
		return nil, err
	}
	if err := s.limitLogin(ctx, in.ClientIP); err != nil {
		return nil, err
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, storeErr(err)
	}
	acct := accountKey(u, email)
	if err := s.limitAccount(ctx, acct); err != nil {
		return nil, err
	}
	hash := s.dummyHash
	if u != nil {
		hash = []byte(u.PasswordHash)
	}
	var cmpErr error
	if err := s.runHash(ctx, func() { cmpErr = bcrypt.CompareHashAndPassword(hash, []byte(in.Password)) }); err != nil {
		return nil, err
	}
	if u == nil || cmpErr != nil {
		s.log.InfoContext(ctx, "login failed", "reason", "invalid credentials")
		s.recordFailure(ctx, acct)
		return nil, errInvalidCredentials()
	}
	s.upgradeHash(ctx, u, in.Password)

	// The number was valid at registration, but SMS_ALLOWED_COUNTRY_CODES
	// may have narrowed since: check again before anything is sent.
	if _, err := s.phones.Normalize(u.Phone); err != nil {
		s.log.WarnContext(ctx, "code not sent", "reason", "phone no longer allowed", "user_id", u.ID, "phone", input.MaskPhone(u.Phone))
		return nil, &Error{Code: CodeOTPDeliveryFailed, Message: "We cannot send codes to this account's phone number.", Err: err}
	}
	if err := s.limitSend(ctx, u.Phone); err != nil {
		return nil, err
	}
	v, err := s.otp.StartVerification(ctx, u.Phone)
	if err != nil {
		return nil, s.verifyErr(ctx, "start", u.Phone, err)
	}
	token, err := randomToken(32)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	c := &store.Challenge{
		ID:              uuid.Must(uuid.NewV7()).String(),
		TokenHash:       hashToken(token),
		UserID:          u.ID,
		Phone:           u.Phone,
		VerificationSID: v.SID,
		MaxAttempts:     s.maxAttempts,
		CreatedAt:       now,
		ExpiresAt:       now.Add(s.challengeTTL),
	}
	if err := s.store.CreateChallenge(ctx, c); err != nil {
		return nil, storeErr(err)
	}
	s.log.InfoContext(ctx, "code sent", "user_id", u.ID, "phone", input.MaskPhone(u.Phone), "challenge_id", c.ID)
	return &LoginResult{MFAToken: token, SentTo: input.MaskPhone(u.Phone), ExpiresAt: c.ExpiresAt}, nil
}

// VerifyInput is the code step.
type VerifyInput struct {
	MFAToken string
	Code     string
	ClientIP string
}

// AuthResult is a completed login.
type AuthResult struct {
	AccessToken string
	ExpiresIn   time.Duration
	User        *store.User
}

// VerifyOTP checks the code for the challenge behind mfaToken and, when the
// provider approves it, consumes the challenge and issues an access token.
// It returns an *Error with CodeMFATokenInvalid (unknown, expired, used or
// out of attempts), CodeInvalidOTP (with AttemptsLeft), CodeRateLimited,
// CodeOTPDeliveryFailed or CodeBadUserInput. Of concurrent right answers on
// one challenge exactly one gets a token.
func (s *Service) VerifyOTP(ctx context.Context, in VerifyInput) (*AuthResult, error) {
	if err := input.MFAToken(in.MFAToken); err != nil {
		return nil, badInput(err)
	}
	code, err := input.Code(in.Code)
	if err != nil {
		return nil, badInput(err)
	}
	if err := s.limitVerify(ctx, in.ClientIP); err != nil {
		return nil, err
	}
	c, err := s.store.ChallengeByTokenHash(ctx, hashToken(in.MFAToken))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errMFATokenInvalid(err)
		}
		return nil, storeErr(err)
	}
	acct := "u:" + c.UserID
	if err := s.limitAccount(ctx, acct); err != nil {
		return nil, err
	}
	// Count the attempt before asking the provider, so no interleaving of
	// requests gets more than MaxAttempts checks.
	c, err = s.store.CountChallengeAttempt(ctx, c.ID, s.now())
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errMFATokenInvalid(err)
		}
		return nil, storeErr(err)
	}
	approved, err := s.otp.CheckVerification(ctx, c.Phone, code)
	if err != nil {
		// The challenge is left alone even when the provider has forgotten
		// the verification: a concurrent request may have just been
		// approved and still be completing it.
		return nil, s.verifyErr(ctx, "check", c.Phone, err)
	}
	if !approved {
		left := max(c.MaxAttempts-c.Attempts, 0)
		s.log.InfoContext(ctx, "code failed", "user_id", c.UserID, "challenge_id", c.ID, "attempts_left", left)
		s.recordFailure(ctx, acct)
		return nil, &Error{Code: CodeInvalidOTP, Field: "code", AttemptsLeft: left,
			Message: fmt.Sprintf("That code is not correct. %d attempt(s) left.", left)}
	}
	if err := s.store.CompleteChallenge(ctx, c.ID, s.now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errMFATokenInvalid(err)
		}
		return nil, storeErr(err)
	}
	u, err := s.store.UserByID(ctx, c.UserID)
	if err != nil {
		return nil, storeErr(err)
	}
	token, _, err := s.tokens.Issue(u.ID, amrPasswordAndSMS)
	if err != nil {
		return nil, err
	}
	s.resetFailures(ctx, acct)
	s.log.InfoContext(ctx, "login succeeded", "user_id", u.ID, "challenge_id", c.ID)
	return &AuthResult{AccessToken: token, ExpiresIn: s.tokens.TTL(), User: u}, nil
}

// Authenticate verifies an access token and returns its claims. It returns
// an *Error with CodeUnauthenticated for anything but a valid access token.
func (s *Service) Authenticate(ctx context.Context, token string) (*Claims, error) {
	if token == "" {
		return nil, errUnauthenticated(errors.New("auth: no token"))
	}
	c, err := s.tokens.Verify(token)
	if err != nil {
		return nil, errUnauthenticated(err)
	}
	return c, nil
}

// User returns the user with id. It returns an *Error with
// CodeUnauthenticated if the user no longer exists.
func (s *Service) User(ctx context.Context, id string) (*store.User, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errUnauthenticated(err)
		}
		return nil, storeErr(err)
	}
	return u, nil
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
		s.log.WarnContext(ctx, "rate limit hit", "limit", "hash_capacity")
		return errRateLimited(time.Second, errors.New("auth: hash capacity busy"))
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
		s.log.WarnContext(ctx, "rate limit hit", "limit", "hash_capacity")
		return errRateLimited(time.Second, err)
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
	u.PasswordHash = h
	s.log.InfoContext(ctx, "password rehashed", "user_id", u.ID, "from_cost", cost, "to_cost", s.cost)
}

// verifyErr maps an OTPVerifier failure to a client error and logs it.
func (s *Service) verifyErr(ctx context.Context, op, phone string, err error) error {
	kind, ve := verifyErrorKind(err)
	s.log.WarnContext(ctx, "otp provider error", "op", op, "kind", kind.String(), "phone", input.MaskPhone(phone), "err", err)
	switch kind {
	case VerifyNotFound:
		return errMFATokenInvalid(err)
	case VerifyRateLimited:
		var d time.Duration
		if ve != nil {
			d = ve.RetryAfter
		}
		if d <= 0 {
			d = time.Minute
		}
		return errRateLimited(d, err)
	default:
		return errDelivery(err)
	}
}

// badInput turns an input validation error into a BAD_USER_INPUT error.
func badInput(err error) error {
	var ie *input.Error
	if errors.As(err, &ie) {
		return &Error{Code: CodeBadUserInput, Field: ie.Field, Message: capitalize(ie.Field) + " " + ie.Reason + ".", Err: err}
	}
	return &Error{Code: CodeBadUserInput, Message: "Invalid input.", Err: err}
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

func capitalize(s string) string {
	if s == "" {
		return s
	}
	if s == "mfaToken" {
		return "Sign-in token"
	}
	return string(s[0]-'a'+'A') + s[1:]
}
