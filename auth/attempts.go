package auth

import (
	"context"
	"errors"
	"time"
)

// attemptHorizon is how long an attempt stays in an account's log: the
// longest window a rule below looks back over.
const attemptHorizon = 24 * time.Hour

// attempt is one password or code attempt taken from an account's budget
// before the password or code is checked. It is given back (release) unless
// it was spent: a check that failed. A right password gives it back, so
// only failures build up the block.
type attempt struct {
	s       *Service
	key, id string
	spent   bool
}

// takeAttempt takes an attempt of the account acct (of userID, "" for an
// unknown email), or refuses with RATE_LIMITED while the account is
// blocked. Taking is one atomic store step, so of any number of parallel
// attempts only as many pass as the rules allow: the block is taken, not
// just read.
func (s *Service) takeAttempt(ctx context.Context, acct, userID string) (*attempt, error) {
	now := s.now()
	key := attemptKey(acct)
	id, err := s.store.TakeAttempt(ctx, key, now, now.Add(attemptHorizon), func(taken []time.Time) error {
		return s.limits.allowAttempt(taken, now)
	})
	if err != nil {
		var r *attemptRefused
		if errors.As(err, &r) {
			// The event is keyed by the exact end, not by RetryAfter, which
			// is rounded up to a whole second for clients.
			s.limitEvent(ctx, r.limit, key, userID, r.until)
			return nil, s.refuse(ctx, errRateLimited(r.limit, r.until.Sub(now), r))
		}
		return nil, storeErr(err)
	}
	return &attempt{s: s, key: key, id: id}, nil
}

// allowAttempt decides whether one more attempt may be checked at now,
// given the account's logged attempts (oldest first): not while the daily
// or the hourly cap is reached (until the oldest failure counted is a day,
// or an hour, old: never for good), and, past the free failures, only once
// the doubling block since the last one has passed. A refusal is an
// *attemptRefused, with the exact time it ends.
func (l Limits) allowAttempt(taken []time.Time, now time.Time) error {
	for _, cap := range []struct {
		name   string
		max    int
		window time.Duration
	}{{"account_per_day", l.AccountPerDay, 24 * time.Hour}, {"account_per_hour", l.AccountPerHour, time.Hour}} {
		since := now.Add(-cap.window)
		n := 0
		var oldest time.Time
		for _, at := range taken {
			if at.After(since) {
				if n == 0 {
					oldest = at
				}
				n++
			}
		}
		if n >= cap.max {
			return &attemptRefused{cap.name, oldest.Add(cap.window)}
		}
	}
	if n := len(taken); n >= l.AccountFreeFailures {
		block := min(time.Second<<min(n-l.AccountFreeFailures, 20), l.AccountMaxBlock)
		if until := taken[n-1].Add(block); now.Before(until) {
			return &attemptRefused{"account_block", until}
		}
	}
	return nil
}

// attemptRefused is an account limit reached, and when it lets attempts
// through again.
type attemptRefused struct {
	limit string
	until time.Time
}

func (e *attemptRefused) Error() string { return "auth: limit " + e.limit }

// spend keeps the attempt in the log: its check failed.
func (a *attempt) spend() {
	if a != nil {
		a.spent = true
	}
}

// release gives an unspent attempt back. Failure is only logged: it can
// only make the account's budget stricter than it should be.
func (a *attempt) release(ctx context.Context) {
	if a.spent {
		return
	}
	if err := a.s.store.ReleaseAttempt(ctx, a.key, a.id); err != nil {
		a.s.log.WarnContext(ctx, "release attempt failed", "err", err)
	}
}

// clearAttempts empties an account's log after a completed login.
func (s *Service) clearAttempts(ctx context.Context, acct string) {
	if err := s.store.ClearAttempts(ctx, attemptKey(acct)); err != nil {
		s.log.WarnContext(ctx, "reset failures failed", "err", err)
	}
}
