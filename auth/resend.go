package auth

import (
	"cmp"
	"context"
	"errors"

	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/store"
)

// ResendInput asks for a login's code again.
type ResendInput struct {
	MFAToken string
	Channel  Channel // "" for SMS
	ClientIP string
}

// ResendOTP sends the code of a live login challenge again, through the
// channel asked for (the provider re-sends the same code while its
// verification is pending). It does not extend the challenge or give back
// attempts. Every send is charged to the same budgets as a login's, the
// per-number cooldown included (RATE_LIMITED with retryAfter). It returns
// MFA_TOKEN_INVALID for a token that is not a live login's.
func (s *Service) ResendOTP(ctx context.Context, in ResendInput) (*LoginResult, error) {
	if err := input.MFAToken(in.MFAToken); err != nil {
		return nil, badInput(err)
	}
	if err := s.limitIP(ctx, "login", in.ClientIP); err != nil {
		return nil, err
	}
	c, err := s.challenge(ctx, in.MFAToken, store.PurposeLogin)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !c.ConsumedAt.IsZero() || !now.Before(c.ExpiresAt) || c.Attempts >= c.MaxAttempts {
		return nil, errMFATokenInvalid(errors.New("auth: resend for a challenge that is no longer live"))
	}
	u, err := s.store.UserByID(ctx, c.UserID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errMFATokenInvalid(err)
		}
		return nil, storeErr(err)
	}
	if u.Phone != c.Phone {
		return nil, errMFATokenInvalid(errors.New("auth: the account's number changed since the login began"))
	}
	ch := cmp.Or(in.Channel, ChannelSMS)
	v, err := s.sendCode(ctx, send{user: u, channel: ch, purpose: store.PurposeLogin})
	if err != nil {
		return nil, err
	}
	if err := s.store.SetChallengeSend(ctx, c.ID, v.SID, string(ch), s.now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errMFATokenInvalid(err)
		}
		return nil, storeErr(err)
	}
	s.log.InfoContext(ctx, "code sent", "user_id", u.ID, "phone", input.MaskPhone(u.Phone), "channel", string(ch), "challenge_id", c.ID, "resend", true)
	return &LoginResult{MFAToken: in.MFAToken, Channel: ch, SentTo: input.MaskPhone(u.Phone), ExpiresAt: c.ExpiresAt, ResendAfter: s.resendAfter(v)}, nil
}
