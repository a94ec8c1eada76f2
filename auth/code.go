package auth

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twostep/twostep/store"
)

// stepToken returns a new step token of purpose: 32 random bytes, after
// "reset." or "change." for those steps. The prefix tells the kinds apart
// at a glance, and releases from before them refuse a prefixed token at
// the input check, so during a rolling upgrade an older replica's
// verifyOtp can never take a reset's or a phone change's code as a login's.
func stepToken(purpose string) (string, error) {
	tok, err := randomToken(32)
	switch purpose {
	case store.PurposeReset:
		tok = "reset." + tok
	case store.PurposePhone:
		tok = "change." + tok
	}
	return tok, err
}

// challenge returns the challenge behind a step token of purpose. A token
// that is unknown, or of another purpose (an mfaToken in resetPassword, a
// resetToken in verifyOtp), is MFA_TOKEN_INVALID, and nothing is counted.
func (s *Service) challenge(ctx context.Context, token, purpose string) (*store.Challenge, error) {
	c, err := s.store.ChallengeByTokenHash(ctx, hashToken(token))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errTokenInvalid(purpose, err)
		}
		return nil, storeErr(err)
	}
	if c.Purpose != purpose {
		return nil, errTokenInvalid(purpose, fmt.Errorf("auth: a %s token presented for %s", c.Purpose, purpose))
	}
	return c, nil
}

// checkCode counts an attempt on c, then asks the provider about code. The
// attempt is counted first, so no interleaving of requests gets more than
// MaxAttempts checks. It returns c as counted when the code is right, or an
// *Error: MFA_TOKEN_INVALID (out of attempts, expired, used), INVALID_OTP
// with attemptsLeft, or the provider's failure. att, if any, is spent once
// the provider has answered.
//
// A challenge that can never succeed (a password reset for an email
// without an account or verified number, or one whose code has not gone
// out yet) is checked by nobody, but answers like a wrong code, after as
// long as the provider takes: nothing tells the two kinds apart.
func (s *Service) checkCode(ctx context.Context, c *store.Challenge, code string, att *attempt) (*store.Challenge, error) {
	purpose := c.Purpose
	c, err := s.store.CountChallengeAttempt(ctx, c.ID, s.now())
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errTokenInvalid(purpose, err)
		}
		return nil, storeErr(err)
	}
	approved := false
	if c.UserID == "" || c.VerificationSID == "" {
		s.checkTime.wait(ctx)
	} else {
		start := time.Now()
		approved, err = s.otp.CheckVerification(ctx, c.VerificationSID, code)
		if kind, _ := verifyErrorKind(err); err != nil && c.Purpose == store.PurposeReset && (kind == VerifyNotFound || kind == VerifyExhausted) {
			// A reset shares Verify's pending verification with any other
			// code to the number (a login's, another reset's), and a
			// reset that cannot succeed has none: answering "gone" here
			// would tell the two apart. It is a wrong code until the
			// token's own attempts run out.
			s.log.InfoContext(ctx, "reset code check: the verification is gone or used up", "challenge_id", c.ID, "kind", kind.String())
			approved, err = false, nil
		}
		if err != nil {
			// The challenge is left alone even when the provider has
			// forgotten the verification: a concurrent request may have
			// just been approved and still be completing it.
			s.observer.CodeCheck(c.Purpose, "error")
			err = s.verifyErr(ctx, "check", c.Phone, err)
			var e *Error
			if errors.As(err, &e) && e.Code == CodeMFATokenInvalid {
				return nil, errTokenInvalid(c.Purpose, e.Err)
			}
			return nil, err
		}
		s.checkTime.observe(time.Since(start))
	}
	att.spend()
	if !approved {
		left := max(c.MaxAttempts-c.Attempts, 0)
		s.log.InfoContext(ctx, "code failed", "user_id", c.UserID, "purpose", c.Purpose, "challenge_id", c.ID, "attempts_left", left)
		s.observer.CodeCheck(c.Purpose, "wrong")
		s.event(ctx, EventCodeFailed, c.UserID, fmt.Sprintf("wrong code (%s), %d attempts left", c.Purpose, left))
		return nil, errInvalidOTP(left)
	}
	s.observer.CodeCheck(c.Purpose, "approved")
	return c, nil
}

func errInvalidOTP(left int) error {
	msg := fmt.Sprintf("That code is not correct. %d attempts left.", left)
	switch left {
	case 0:
		msg = "That code is not correct, and no attempts are left."
	case 1:
		msg = "That code is not correct. 1 attempt left."
	}
	return &Error{Code: CodeInvalidOTP, Field: "code", AttemptsLeft: left, Message: msg}
}

// latency follows a duration as a moving average, safe for concurrent use,
// and waits that long. A timer fires late (here by up to a millisecond:
// the kernel's tick), so it also follows how late, and asks for less.
type latency struct{ ns, late atomic.Int64 }

// defaultCheckTime is where the average starts, until checks have been
// measured (Twilio Verify answers in a few hundred milliseconds).
const defaultCheckTime = 300 * time.Millisecond

func (l *latency) observe(d time.Duration) {
	for {
		old := l.ns.Load()
		next := old + (int64(d)-old)/8
		if l.ns.CompareAndSwap(old, next) {
			return
		}
	}
}

// wait sleeps for the average, or until ctx ends.
func (l *latency) wait(ctx context.Context) {
	ask := max(time.Duration(l.ns.Load()-l.late.Load()), 0)
	start := time.Now()
	t := time.NewTimer(ask)
	defer t.Stop()
	select {
	case <-t.C:
		late := int64(max(time.Since(start)-ask, 0))
		old := l.late.Load()
		l.late.CompareAndSwap(old, old+(late-old)/4)
	case <-ctx.Done():
	}
}
