package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/store"
)

// The changes a signed-in person makes to their own account. Each asks
// for the password again (the phone change and deletion) or the current
// one (a new password), checked as a login's password step is: the attempt
// is taken from the account's budget first, so the block applies, and a
// wrong one counts like a failed login.

// storedUser reads the principal's user as stored.
func (s *Service) storedUser(ctx context.Context, p *Principal) (*store.User, error) {
	u, err := s.store.UserByID(ctx, p.User.ID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errUnauthenticated(err)
		}
		return nil, storeErr(err)
	}
	return u, nil
}

// checkPassword checks password, sent as field, against u's hash.
func (s *Service) checkPassword(ctx context.Context, u *store.User, password, field string) error {
	if err := input.LoginPassword(password); err != nil {
		return badInputAs(err, field)
	}
	if err := s.hashCapacity(ctx); err != nil {
		return err
	}
	att, err := s.takeAttempt(ctx, userAccountKey(u.ID), u.ID)
	if err != nil {
		return err
	}
	defer att.release(ctx) // unless spent below
	var cmpErr error
	if err := s.runHash(ctx, func() { cmpErr = bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) }); err != nil {
		return err
	}
	if cmpErr != nil {
		att.spend()
		s.log.InfoContext(ctx, "password check failed", "user_id", u.ID, "field", field)
		s.event(ctx, EventPasswordCheckFailed, u.ID, "wrong "+field)
		return &Error{Code: CodeInvalidCredentials, Field: field, Message: "The password is incorrect."}
	}
	return nil
}

// ChangePasswordInput changes the signed-in user's password.
type ChangePasswordInput struct {
	CurrentPassword string
	NewPassword     string
}

// ChangePassword checks the current password, sets the new one, and
// revokes the user's other sessions (the current one stays) and ends their
// logins in flight. Errors: BAD_USER_INPUT (newPassword),
// INVALID_CREDENTIALS (currentPassword), RATE_LIMITED.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, in ChangePasswordInput) (*User, error) {
	if err := input.Password(in.NewPassword); err != nil {
		return nil, badInputAs(err, "newPassword")
	}
	u, err := s.storedUser(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := s.checkPassword(ctx, u, in.CurrentPassword, "currentPassword"); err != nil {
		return nil, err
	}
	hash, err := s.hash(ctx, in.NewPassword)
	if err != nil {
		return nil, err
	}
	n, err := s.store.SetPassword(ctx, u.ID, hash, s.now(), p.SessionID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errUnauthenticated(err)
		}
		return nil, storeErr(err)
	}
	s.log.InfoContext(ctx, "password changed", "user_id", u.ID, "session_id", p.SessionID, "revoked", n)
	s.event(ctx, EventPasswordChanged, u.ID, fmt.Sprintf("%d other sessions ended", n))
	return userOf(u), nil
}

// PhoneChangeInput starts a change of phone number.
type PhoneChangeInput struct {
	NewPhone string
	Password string
	ClientIP string
}

// PhoneChange is startPhoneChange's answer.
type PhoneChange struct {
	ChangeToken string // opaque; only its hash is stored
	SentTo      string // the new number, masked
	ExpiresAt   time.Time
}

// StartPhoneChange checks the password and sends a code to the new number,
// which must pass the phone rules (field newPhone) and must not be
// verified by another account (PHONE_TAKEN, field newPhone). Nothing about
// the account changes until ConfirmPhoneChange. The send counts against
// the budgets of a number the account has not verified.
func (s *Service) StartPhoneChange(ctx context.Context, p *Principal, in PhoneChangeInput) (*PhoneChange, error) {
	phone, err := s.normalizePhone(in.NewPhone)
	if err != nil {
		return nil, badInputAs(err, "newPhone")
	}
	if err := s.limitIP(ctx, "login", in.ClientIP); err != nil {
		return nil, err
	}
	// Like register, this can tell whether a number has an account
	// (PHONE_TAKEN): it counts against register's per-IP limit too.
	if err := s.limitIP(ctx, "register", in.ClientIP); err != nil {
		return nil, err
	}
	u, err := s.storedUser(ctx, p)
	if err != nil {
		return nil, err
	}
	if phone == u.Phone && u.PhoneVerified {
		return nil, &Error{Code: CodeBadUserInput, Field: "newPhone", Message: "This is already your phone number."}
	}
	if err := s.checkPassword(ctx, u, in.Password, "password"); err != nil {
		return nil, err
	}
	next := &store.User{ID: u.ID, Phone: phone} // unverified: its budgets, and the owner check
	v, err := s.sendCode(ctx, send{user: next, channel: ChannelSMS, purpose: store.PurposePhone})
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == CodePhoneTaken {
			e.Field = "newPhone"
		}
		return nil, err
	}
	token, err := stepToken(store.PurposePhone)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	c := &store.Challenge{
		ID:              uuid.Must(uuid.NewV7()).String(),
		TokenHash:       hashToken(token),
		Purpose:         store.PurposePhone,
		UserID:          u.ID,
		Phone:           phone,
		Channel:         string(ChannelSMS),
		VerificationSID: v.SID,
		MaxAttempts:     s.maxAttempts,
		CreatedAt:       now,
		ExpiresAt:       now.Add(s.challengeTTL),
	}
	if err := s.store.CreateChallenge(ctx, c); err != nil {
		return nil, storeErr(err)
	}
	s.log.InfoContext(ctx, "code sent", "user_id", u.ID, "phone", input.MaskPhone(phone), "purpose", c.Purpose, "challenge_id", c.ID)
	s.event(ctx, EventPhoneChangeStarted, u.ID, "to "+input.MaskPhone(phone))
	return &PhoneChange{ChangeToken: token, SentTo: input.MaskPhone(phone), ExpiresAt: c.ExpiresAt}, nil
}

// ConfirmPhoneInput is the code step of a phone change.
type ConfirmPhoneInput struct {
	ChangeToken string
	Code        string
	ClientIP    string
}

// ConfirmPhoneChange checks the code sent to the new number and, when it
// is right, makes it the account's number, verified. A changeToken works
// only for the user who started the change (MFA_TOKEN_INVALID otherwise,
// counting nothing). PHONE_TAKEN (field newPhone) if another account
// verified the number meanwhile.
func (s *Service) ConfirmPhoneChange(ctx context.Context, p *Principal, in ConfirmPhoneInput) (*User, error) {
	var bad []error
	if err := input.MFAToken(in.ChangeToken); err != nil {
		bad = append(bad, badInputAs(err, "changeToken"))
	}
	code, err := input.Code(in.Code)
	if err != nil {
		bad = append(bad, badInput(err))
	}
	if len(bad) > 0 {
		return nil, errors.Join(bad...)
	}
	if err := s.limitIP(ctx, "verify", in.ClientIP); err != nil {
		return nil, err
	}
	c, err := s.challenge(ctx, in.ChangeToken, store.PurposePhone)
	if err != nil {
		return nil, err
	}
	if c.UserID != p.User.ID {
		return nil, errTokenInvalid(store.PurposePhone, errors.New("auth: another user's change token"))
	}
	acct := userAccountKey(c.UserID)
	att, err := s.takeAttempt(ctx, acct, c.UserID)
	if err != nil {
		return nil, err
	}
	defer att.release(ctx)
	if c, err = s.checkCode(ctx, c, code, att); err != nil {
		return nil, err
	}
	if err := s.store.CompletePhoneChange(ctx, c.ID, s.now()); err != nil {
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, errTokenInvalid(store.PurposePhone, err)
		case errors.Is(err, store.ErrPhoneTaken):
			s.log.WarnContext(ctx, "code refused", "reason", "phone verified by another account", "user_id", c.UserID, "phone", input.MaskPhone(c.Phone))
			return nil, &Error{Code: CodePhoneTaken, Field: "newPhone", Message: "This phone number belongs to another account.", Err: err}
		}
		return nil, storeErr(err)
	}
	s.clearAttempts(ctx, acct)
	// The number is the account's second factor: like a new password, it
	// ends the other sessions (and the change ended codes to the old one).
	if n, err := s.store.RevokeSessions(ctx, c.UserID, store.SessionMatch{Except: p.SessionID}, s.now()); err != nil {
		s.log.WarnContext(ctx, "phone changed, other sessions not ended", "user_id", c.UserID, "err", err)
	} else if n > 0 {
		s.event(ctx, EventLogout, c.UserID, fmt.Sprintf("%d other sessions ended by a phone change", n))
	}
	u, err := s.store.UserByID(ctx, c.UserID)
	if err != nil {
		return nil, storeErr(err)
	}
	s.log.InfoContext(ctx, "phone changed", "user_id", u.ID, "phone", input.MaskPhone(u.Phone), "challenge_id", c.ID)
	s.event(ctx, EventPhoneChangeConfirmed, u.ID, "to "+input.MaskPhone(u.Phone))
	return userOf(u), nil
}

// DeleteAccount checks the password and deletes the user with everything
// that is theirs: sessions (their tokens stop working at once), challenges,
// queued sends, and their claim on the number; the email and number are
// free again.
func (s *Service) DeleteAccount(ctx context.Context, p *Principal, password string) error {
	u, err := s.storedUser(ctx, p)
	if err != nil {
		return err
	}
	if err := s.checkPassword(ctx, u, password, "password"); err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx, u.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errUnauthenticated(err)
		}
		return storeErr(err)
	}
	s.log.InfoContext(ctx, "account deleted", "user_id", u.ID)
	s.event(ctx, EventAccountDeleted, u.ID, "")
	return nil
}
