package auth

import (
	"context"
	"errors"

	"time"

	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/store"
)

// Outbox settings: a claimed send is retried after outboxLease if its
// sender died, at most outboxTries times in all.
const (
	outboxLease = 30 * time.Second
	outboxTries = 5
	outboxBatch = 10
	// outboxWakeDelay is how long after a request queues a send the worker
	// looks: longer than any answer takes to go out, short beside an SMS.
	outboxWakeDelay = 250 * time.Millisecond
)

// Queued signals that a request has queued a send, so the worker need not
// wait for its next tick.
func (s *Service) Queued() <-chan struct{} { return s.queued }

// wakeOutbox wakes the worker outboxWakeDelay from now: after the
// request's answer is out, so the work of a real send (which an email
// without an account does not have) does not slow the answer and tell
// the two apart.
func (s *Service) wakeOutbox() {
	time.AfterFunc(outboxWakeDelay, func() {
		select {
		case s.queued <- struct{}{}:
		default:
		}
	})
}

// DeliverQueued claims queued sends and delivers them: the codes of
// password resets. Any replica may run it; a claimed send is not claimed
// again within its lease. It returns how many items it handled. A send
// that the limits refuse, or that has nothing to send to (a reset without
// an account or verified number, an expired challenge, a number changed
// since), is dropped and logged; one the provider could not take is tried
// again, up to outboxTries times.
func (s *Service) DeliverQueued(ctx context.Context) (int, error) {
	items, err := s.store.ClaimOutbox(ctx, s.now(), outboxLease, outboxBatch)
	if err != nil {
		return 0, storeErr(err)
	}
	for _, it := range items {
		if s.deliver(ctx, it) {
			if err := s.store.DeleteOutbox(ctx, it.ID); err != nil {
				s.log.WarnContext(ctx, "outbox delete failed", "item_id", it.ID, "err", err)
			}
		}
	}
	return len(items), nil
}

// pendingVerification returns the verification of another live challenge
// of u on its number, "" if none.
func (s *Service) pendingVerification(ctx context.Context, u *store.User, except string) string {
	live, err := s.store.LiveChallenges(ctx, u.Phone, s.now())
	if err != nil {
		return ""
	}
	for i := len(live) - 1; i >= 0; i-- { // the newest first
		if c := live[i]; c.UserID == u.ID && c.ID != except && c.VerificationSID != "" {
			return c.VerificationSID
		}
	}
	return ""
}

// deliver sends one item's code and reports whether the item is done with
// (sent or dropped) rather than to be tried again.
func (s *Service) deliver(ctx context.Context, it store.OutboxItem) (done bool) {
	c, err := s.store.ChallengeByID(ctx, it.ChallengeID)
	if err != nil {
		return errors.Is(err, store.ErrNotFound) || it.Tries >= outboxTries
	}
	if c.UserID == "" || c.Phone == "" {
		return true // nothing to send: it answers like a real one, never succeeds
	}
	if !c.ConsumedAt.IsZero() || !s.now().Before(c.ExpiresAt) {
		s.log.InfoContext(ctx, "queued code dropped", "reason", "challenge ended", "challenge_id", c.ID)
		return true
	}
	u, err := s.store.UserByID(ctx, c.UserID)
	if err != nil {
		return errors.Is(err, store.ErrNotFound) || it.Tries >= outboxTries
	}
	if u.Phone != c.Phone || !u.PhoneVerified {
		s.log.InfoContext(ctx, "queued code dropped", "reason", "number changed", "user_id", u.ID, "challenge_id", c.ID)
		return true
	}
	v, err := s.sendCode(ctx, send{user: u, channel: Channel(c.Channel), purpose: c.Purpose, retry: it.Tries > 1})
	if e := (*Error)(nil); errors.As(err, &e) && e.Code == CodeRateLimited {
		// Not sent (the cooldown, the day's reset codes): if a code of
		// this account is pending on the number (an earlier reset, a
		// login), this reset shares it, as Verify would have, so asking
		// twice, or after a stranger's reset, does not leave a token no
		// code can complete.
		if sid := s.pendingVerification(ctx, u, c.ID); sid != "" {
			if err := s.store.SetChallengeSend(ctx, c.ID, sid, c.Channel, s.now()); err == nil {
				s.log.InfoContext(ctx, "queued code not sent: shares the code pending on the number", "user_id", u.ID, "challenge_id", c.ID, "limit", e.Limit)
				return true
			}
		}
	}
	if err != nil {
		var e *Error
		retry := errors.As(err, &e) && (e.Code == CodeOTPDeliveryFailed || e.Code == CodeUnavailable) || !errors.As(err, &e)
		if retry && it.Tries < outboxTries {
			s.log.WarnContext(ctx, "queued code not sent: will retry", "user_id", u.ID, "challenge_id", c.ID, "try", it.Tries, "err", err)
			return false
		}
		s.log.WarnContext(ctx, "queued code dropped", "reason", "not sent", "user_id", u.ID, "challenge_id", c.ID, "err", err)
		return true
	}
	if err := s.store.SetChallengeSend(ctx, c.ID, v.SID, c.Channel, s.now()); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.WarnContext(ctx, "queued code sent, not recorded: will retry", "challenge_id", c.ID, "err", err)
		return it.Tries >= outboxTries
	}
	s.log.InfoContext(ctx, "code sent", "user_id", u.ID, "phone", input.MaskPhone(u.Phone), "purpose", c.Purpose, "channel", c.Channel, "challenge_id", c.ID)
	return true
}
