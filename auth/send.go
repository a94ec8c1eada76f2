package auth

import (
	"context"
	"errors"
	"time"

	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/store"
)

// send is one code to send: to user's number (for a phone change, a user
// value carrying the new number, unverified), through channel.
type send struct {
	user    *store.User
	channel Channel
	purpose string   // store.PurposeLogin, PurposeReset or PurposePhone
	att     *attempt // spent if the send is refused; nil: none to spend
	retry   bool     // a queued send tried again: its budgets were charged the first time
}

// sent is a code sent: its verification, and when the number's budgets
// allow the next send (zero: at once; unknown for a queued send tried
// again).
type sent struct {
	Verification
	next time.Time
}

// resendAfter is how long from now until the next send is allowed.
func (s *Service) resendAfter(v sent) time.Duration {
	return max(v.next.Sub(s.now()), 0)
}

// sendCode sends a code and returns the verification. Before anything
// goes out:
//
//   - the number must still be allowed (SMS_ALLOWED_COUNTRY_CODES may have
//     narrowed since registration);
//   - an account that has not verified the number sends nothing to a
//     number another account has verified;
//   - the send is charged to its budgets, all or none (chargeSend);
//   - pending challenges of other accounts on the number end, and their
//     verifications are canceled, so this challenge gets a verification of
//     its own: a code, and five checks, nobody else has used.
//
// A login refused here has passed the password, so it spends its attempt
// (att): "right password, refused" must cost what a wrong one costs, and it
// is logged for the account's owner.
func (s *Service) sendCode(ctx context.Context, snd send) (sent, error) {
	u := snd.user
	if _, err := s.normalizePhone(u.Phone); err != nil {
		snd.att.spend()
		s.log.WarnContext(ctx, "code not sent", "reason", "phone no longer allowed", "user_id", u.ID, "phone", input.MaskPhone(u.Phone))
		return sent{}, &Error{Code: CodeOTPDeliveryFailed, Message: "We cannot send codes to this phone number.", Err: err}
	}
	if !u.PhoneVerified {
		owner, err := s.store.PhoneOwner(ctx, u.Phone)
		switch {
		case err == nil && owner != u.ID:
			snd.att.spend()
			s.log.WarnContext(ctx, "code not sent", "reason", "phone verified by another account", "user_id", u.ID, "phone", input.MaskPhone(u.Phone))
			return sent{}, errPhoneTaken(nil)
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return sent{}, storeErr(err)
		}
	}
	next, err := s.charge(ctx, snd)
	if err != nil {
		s.observer.Send(snd.channel, "refused")
		snd.att.spend()
		var ae *Error
		if errors.As(err, &ae) && ae.Code == CodeRateLimited {
			msg := "login blocked by a send limit"
			if snd.purpose != store.PurposeLogin {
				msg = "code not sent: send limit"
			}
			s.log.WarnContext(ctx, msg, "user_id", u.ID, "purpose", snd.purpose, "limit", ae.Limit, "phone", input.MaskPhone(u.Phone))
		}
		return sent{}, err
	}
	live, err := s.store.LiveChallenges(ctx, u.Phone, s.now())
	if err != nil {
		return sent{}, storeErr(err)
	}
	for _, c := range live {
		if c.UserID == u.ID || c.VerificationSID == "" {
			continue // our own may share it: the same person's code
		}
		if err := s.otp.CancelVerification(ctx, c.VerificationSID); err != nil {
			// The new challenge still ends the old one; only the
			// provider's count of checks may carry over.
			s.log.WarnContext(ctx, "cancel verification failed", "challenge_id", c.ID, "err", err)
		}
	}
	v, err := s.otp.StartVerification(ctx, u.Phone, snd.channel)
	if err != nil {
		s.observer.Send(snd.channel, "failed")
		s.event(ctx, EventCodeDeliveryFailed, u.ID, "by "+string(snd.channel)+" to "+input.MaskPhone(u.Phone)+" ("+snd.purpose+")")
		return sent{}, s.verifyErr(ctx, "start", u.Phone, err)
	}
	s.observer.Send(snd.channel, "sent")
	s.event(ctx, EventCodeSent, u.ID, "by "+string(snd.channel)+" to "+input.MaskPhone(u.Phone)+" ("+snd.purpose+")")
	return sent{Verification: v, next: next}, nil
}

// charge charges snd to its budgets, except a queued send tried again:
// that one was charged at its first try.
func (s *Service) charge(ctx context.Context, snd send) (time.Time, error) {
	if snd.retry {
		return time.Time{}, nil
	}
	return s.chargeSend(ctx, snd.user, input.CallingCode(snd.user.Phone), snd.purpose == store.PurposeReset)
}
