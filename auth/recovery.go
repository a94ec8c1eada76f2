package auth

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/store"
)

// ResetRequest is requestPasswordReset's answer: the same for every email.
type ResetRequest struct {
	ResetToken string // opaque; only its hash is stored
	ExpiresAt  time.Time
}

// RequestPasswordReset starts a password reset for email. It answers the
// same, after the same work, whether or not the email has an account: a
// reset challenge is stored either way, and a send is queued either way,
// but only a challenge of an account with a verified number can ever be
// completed, and only its code is really sent (by DeliverQueued: the reply
// never waits for the provider). Limits: LIMIT_RESET_PER_IP and
// LIMIT_RESET_PER_EMAIL, both counted alike for every email. The account
// block does not apply: a locked-out owner must be able to recover.
func (s *Service) RequestPasswordReset(ctx context.Context, email, clientIP string) (*ResetRequest, error) {
	email, err := input.Email(email)
	if err != nil {
		return nil, badInput(err)
	}
	if err := s.limitIP(ctx, "reset", clientIP); err != nil {
		return nil, err
	}
	if err := s.hit(ctx, "reset_per_email", resetEmailKey(email), s.limits.ResetPerEmail); err != nil {
		return nil, err
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, storeErr(err)
	}
	token, err := stepToken(store.PurposeReset)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	c := &store.Challenge{
		ID:          uuid.Must(uuid.NewV7()).String(),
		TokenHash:   hashToken(token),
		Purpose:     store.PurposeReset,
		Channel:     string(ChannelSMS),
		MaxAttempts: s.maxAttempts,
		CreatedAt:   now,
		ExpiresAt:   now.Add(s.challengeTTL),
	}
	if u != nil && u.PhoneVerified {
		c.UserID, c.Phone = u.ID, u.Phone
	}
	if err := s.store.QueueChallenge(ctx, c, uuid.Must(uuid.NewV7()).String()); err != nil {
		return nil, storeErr(err)
	}
	s.wakeOutbox()
	// Recorded alike with or without an account (no user then), so the
	// work behind the answer is the same.
	userID := ""
	if u != nil {
		userID = u.ID
	}
	s.event(ctx, EventPasswordResetRequested, userID, "")
	if c.UserID != "" {
		s.log.InfoContext(ctx, "password reset requested", "user_id", c.UserID, "challenge_id", c.ID)
	} else {
		s.log.InfoContext(ctx, "password reset requested", "account", "none or no verified number", "challenge_id", c.ID)
	}
	return &ResetRequest{ResetToken: token, ExpiresAt: c.ExpiresAt}, nil
}

// ResetInput is the second step of a password reset.
type ResetInput struct {
	ResetToken  string
	Code        string
	NewPassword string
	ClientIP    string
}

// ResetPassword checks the code of a reset and, when it is right, sets the
// new password, revokes every session of the user and ends their logins in
// flight, and clears the account's failures. It does not sign in. Errors:
// BAD_USER_INPUT (resetToken, code, newPassword), MFA_TOKEN_INVALID,
// INVALID_OTP with attemptsLeft (also, alike, for a reset that can never
// succeed), RATE_LIMITED, OTP_DELIVERY_FAILED.
func (s *Service) ResetPassword(ctx context.Context, in ResetInput) error {
	var bad []error
	if err := input.MFAToken(in.ResetToken); err != nil {
		bad = append(bad, badInputAs(err, "resetToken"))
	}
	code, err := input.Code(in.Code)
	if err != nil {
		bad = append(bad, badInput(err))
	}
	if err := input.Password(in.NewPassword); err != nil {
		bad = append(bad, badInputAs(err, "newPassword"))
	}
	if len(bad) > 0 {
		return errors.Join(bad...)
	}
	if err := s.limitIP(ctx, "verify", in.ClientIP); err != nil {
		return err
	}
	c, err := s.challenge(ctx, in.ResetToken, store.PurposeReset)
	if err != nil {
		return err
	}
	if c, err = s.checkCode(ctx, c, code, nil); err != nil {
		return err
	}
	hash, err := s.hash(ctx, in.NewPassword)
	if err != nil {
		return err
	}
	if err := s.store.CompleteReset(ctx, c.ID, hash, s.now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errTokenInvalid(store.PurposeReset, err)
		}
		return storeErr(err)
	}
	s.clearAttempts(ctx, userAccountKey(c.UserID))
	s.log.InfoContext(ctx, "password reset", "user_id", c.UserID, "challenge_id", c.ID)
	s.event(ctx, EventPasswordResetCompleted, c.UserID, "every session ended")
	return nil
}
