package auth

import (
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/store"
)

// RegisterInput is what a person gives to create an account.
type RegisterInput struct {
	Email    string
	Password string
	Phone    string
	ClientIP string
}

// Register creates an account. It returns an *Error with CodeBadUserInput
// for invalid input (one per invalid field, joined with errors.Join),
// CodeEmailTaken if the email is in use, or CodeRateLimited; nothing is
// stored on any failure.
func (s *Service) Register(ctx context.Context, in RegisterInput) (*User, error) {
	// Every field is checked, so a form can show all its problems at once.
	email, emailErr := input.Email(in.Email)
	phone, phoneErr := s.normalizePhone(in.Phone)
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
	if err := s.limitIP(ctx, "register", in.ClientIP); err != nil {
		return nil, err
	}
	// A verified number belongs to one account. Telling so reveals that
	// the number has an account, as EMAIL_TAKEN does for emails; the
	// per-IP limit above bounds how fast that can be asked.
	if _, err := s.store.PhoneOwner(ctx, phone); err == nil {
		return nil, errPhoneTaken(nil)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, storeErr(err)
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
	if s.unconfirmed > 0 {
		u.UnconfirmedExpiresAt = now.Add(s.unconfirmed)
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrEmailTaken) {
			return nil, &Error{Code: CodeEmailTaken, Field: "email", Message: "An account with this email already exists."}
		}
		return nil, storeErr(err)
	}
	s.log.InfoContext(ctx, "user registered", "user_id", u.ID, "phone", input.MaskPhone(phone))
	s.event(ctx, EventUserRegistered, u.ID, "")
	return userOf(u), nil
}

// LoginInput is the password step.
type LoginInput struct {
	Email    string
	Password string
	Channel  Channel // "" for SMS
	ClientIP string
}

// LoginResult is what the password step hands to the client.
type LoginResult struct {
	MFAToken  string // opaque; only its hash is stored
	Channel   Channel
	SentTo    string // masked phone
	ExpiresAt time.Time
	// ResendAfter is how long until another send to the number is allowed:
	// the cooldown this send started, or longer when it filled one of the
	// number's budgets (the hour's, the day's).
	ResendAfter time.Duration
}

// Login checks the password and sends a one-time code to the account's
// phone. It returns an *Error with CodeInvalidCredentials for an unknown
// email or a wrong password alike, CodeRateLimited, CodeOTPDeliveryFailed,
// or CodeBadUserInput. No access token is issued here.
func (s *Service) Login(ctx context.Context, in LoginInput) (_ *LoginResult, err error) {
	defer func() { s.observer.Login(loginOutcome(err)) }()
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
	if err := s.limitIP(ctx, "login", in.ClientIP); err != nil {
		return nil, err
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, storeErr(err)
	}
	hash, userID := s.dummyHash, "" // an unknown email: no user
	if u != nil {
		hash, userID = []byte(u.PasswordHash), u.ID
	}
	acct := accountKey(u, email)
	att, err := s.takeAttempt(ctx, acct, userID)
	if err != nil {
		return nil, err
	}
	defer att.release(ctx) // unless spent below

	var cmpErr error
	if err := s.runHash(ctx, func() { cmpErr = bcrypt.CompareHashAndPassword(hash, []byte(in.Password)) }); err != nil {
		return nil, err
	}
	if u == nil || cmpErr != nil {
		att.spend()
		s.log.InfoContext(ctx, "login failed", "reason", "invalid credentials")
		s.event(ctx, EventLoginFailed, userID, "wrong password")
		return nil, errInvalidCredentials()
	}
	s.upgradeHash(ctx, u, in.Password)

	ch := cmp.Or(in.Channel, ChannelSMS)
	v, err := s.sendCode(ctx, send{user: u, channel: ch, purpose: store.PurposeLogin, att: att})
	if err != nil {
		return nil, err
	}
	token, err := randomToken(32)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	c := &store.Challenge{
		ID:              uuid.Must(uuid.NewV7()).String(),
		TokenHash:       hashToken(token),
		Purpose:         store.PurposeLogin,
		UserID:          u.ID,
		Phone:           u.Phone,
		Channel:         string(ch),
		VerificationSID: v.SID,
		MaxAttempts:     s.maxAttempts,
		CreatedAt:       now,
		ExpiresAt:       now.Add(s.challengeTTL),
	}
	if err := s.store.CreateChallenge(ctx, c); err != nil {
		return nil, storeErr(err)
	}
	s.log.InfoContext(ctx, "code sent", "user_id", u.ID, "phone", input.MaskPhone(u.Phone), "channel", string(ch), "challenge_id", c.ID)
	s.event(ctx, EventLoginSucceeded, u.ID, "password accepted")
	return &LoginResult{MFAToken: token, Channel: ch, SentTo: input.MaskPhone(u.Phone), ExpiresAt: c.ExpiresAt, ResendAfter: s.resendAfter(v)}, nil
}

// VerifyInput is the code step.
type VerifyInput struct {
	MFAToken  string
	Code      string
	ClientIP  string
	UserAgent string // kept with the session it starts
}

// VerifyOTP checks the code for the challenge behind mfaToken and, when the
// provider approves it, consumes the challenge and starts a session: an
// access token and a refresh token.
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
	if err := s.limitIP(ctx, "verify", in.ClientIP); err != nil {
		return nil, err
	}
	c, err := s.challenge(ctx, in.MFAToken, store.PurposeLogin)
	if err != nil {
		return nil, err
	}
	acct := userAccountKey(c.UserID)
	att, err := s.takeAttempt(ctx, acct, c.UserID)
	if err != nil {
		return nil, err
	}
	defer att.release(ctx) // unless spent below

	if c, err = s.checkCode(ctx, c, code, att); err != nil {
		return nil, err
	}
	// The session is created with the challenge's completion, in one
	// step: a reset or a new number that ends the user's sessions comes
	// before both or after both.
	sess, err := s.newSession(c.UserID, amrPasswordAndSMS, in.ClientIP, in.UserAgent)
	if err != nil {
		return nil, err
	}
	if err := s.store.CompleteChallenge(ctx, c.ID, s.now(), sess); err != nil {
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, errMFATokenInvalid(err)
		case errors.Is(err, store.ErrPhoneTaken):
			// The code was right, but another account verified this
			// number first: it stays that account's.
			s.log.WarnContext(ctx, "code refused", "reason", "phone verified by another account", "user_id", c.UserID, "phone", input.MaskPhone(c.Phone))
			return nil, errPhoneTaken(err)
		}
		return nil, storeErr(err)
	}
	u, err := s.store.UserByID(ctx, c.UserID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) { // deleted since
			return nil, errMFATokenInvalid(err)
		}
		return nil, storeErr(err)
	}
	res, err := s.sessionTokens(ctx, sess, u)
	if err != nil {
		return nil, err
	}
	s.clearAttempts(ctx, acct)
	s.log.InfoContext(ctx, "login succeeded", "user_id", u.ID, "challenge_id", c.ID, "session_id", res.SessionID)
	s.event(ctx, EventSignInCompleted, u.ID, "session "+res.SessionID)
	return res, nil
}
