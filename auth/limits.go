package auth

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/twostep/twostep/store"
)

// Limit is a budget of Max events per Window. A zero Max disables it.
type Limit struct {
	Max    int
	Window time.Duration
}

// Limits are the budgets checked before any expensive work (bcrypt, SMS).
// They are kept in the store, so they hold across all replicas together.
// Zero fields take the defaults documented in SECURITY.md.
type Limits struct {
	RegisterPerIP Limit // default 20 per hour
	LoginPerIP    Limit // default 60 per 15 minutes
	VerifyPerIP   Limit // default 60 per 15 minutes

	// AccountFreeFailures consecutive failed password or code attempts are
	// free; each further one doubles a temporary block, from one second up
	// to AccountMaxBlock. A success resets it. Default 10: two challenges'
	// worth of code attempts, so a person mistyping is never blocked.
	AccountFreeFailures int
	AccountMaxBlock     time.Duration // default 15 minutes
	// AccountPerHour caps password and code attempts per account per hour
	// until a successful login, and so its failures; default 100.
	AccountPerHour int

	PhoneCooldown time.Duration // between sends to one number, default 30s
	PhonePerHour  int           // default 5
	PhonePerDay   int           // default 10
	SMSPerHour    int           // all numbers together, default 1000
}

// DefaultLimits returns the defaults.
func DefaultLimits() Limits { return Limits{}.withDefaults() }

func (l Limits) withDefaults() Limits {
	def := func(v *Limit, d Limit) {
		if v.Max == 0 && v.Window == 0 {
			*v = d
		}
		if v.Window <= 0 {
			v.Window = d.Window
		}
	}
	def(&l.RegisterPerIP, Limit{Max: 20, Window: time.Hour})
	def(&l.LoginPerIP, Limit{Max: 60, Window: 15 * time.Minute})
	def(&l.VerifyPerIP, Limit{Max: 60, Window: 15 * time.Minute})
	if l.AccountFreeFailures <= 0 {
		l.AccountFreeFailures = 10
	}
	if l.AccountMaxBlock <= 0 {
		l.AccountMaxBlock = 15 * time.Minute
	}
	if l.AccountPerHour <= 0 {
		l.AccountPerHour = 100
	}
	if l.PhoneCooldown < 0 {
		l.PhoneCooldown = 0
	} else if l.PhoneCooldown == 0 {
		l.PhoneCooldown = 30 * time.Second
	}
	if l.PhonePerHour <= 0 {
		l.PhonePerHour = 5
	}
	if l.PhonePerDay <= 0 {
		l.PhonePerDay = 10
	}
	if l.SMSPerHour <= 0 {
		l.SMSPerHour = 1000
	}
	return l
}

// hit counts one event against key and returns a RATE_LIMITED error when
// the count passes max. Counting first and comparing after is what keeps
// parallel requests from slipping past the limit.
func (s *Service) hit(ctx context.Context, name, key string, max int, window time.Duration) error {
	if max <= 0 || window <= 0 {
		return nil
	}
	now := s.now()
	c, err := s.store.Hit(ctx, key, window, now)
	if err != nil {
		return storeErr(err)
	}
	if c.Count > max {
		s.log.WarnContext(ctx, "rate limit hit", "limit", name)
		return errRateLimited(c.ResetAt.Sub(now), fmt.Errorf("auth: limit %s: %d > %d", name, c.Count, max))
	}
	return nil
}

func (s *Service) limitRegister(ctx context.Context, ip string) error {
	if ip == "" {
		return nil
	}
	return s.hit(ctx, "register_per_ip", "ip:register:"+ipKey(ip), s.limits.RegisterPerIP.Max, s.limits.RegisterPerIP.Window)
}

func (s *Service) limitLogin(ctx context.Context, ip string) error {
	if ip == "" {
		return nil
	}
	return s.hit(ctx, "login_per_ip", "ip:login:"+ipKey(ip), s.limits.LoginPerIP.Max, s.limits.LoginPerIP.Window)
}

func (s *Service) limitVerify(ctx context.Context, ip string) error {
	if ip == "" {
		return nil
	}
	return s.hit(ctx, "verify_per_ip", "ip:verify:"+ipKey(ip), s.limits.VerifyPerIP.Max, s.limits.VerifyPerIP.Window)
}

// ipKey names the budget of a client address: the address itself, or for
// IPv6 its /64. One subscriber is routinely given a whole /64, so counting
// single IPv6 addresses would hand an attacker a fresh budget per request.
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// limitSend applies the per-number cooldown and caps and the global SMS
// ceiling, the brake on SMS pumping.
func (s *Service) limitSend(ctx context.Context, phone string) error {
	l := s.limits
	if err := s.hit(ctx, "phone_cooldown", "phone:cooldown:"+phone, 1, l.PhoneCooldown); err != nil {
		return err
	}
	if err := s.hit(ctx, "phone_per_hour", "phone:hour:"+phone, l.PhonePerHour, time.Hour); err != nil {
		return err
	}
	if err := s.hit(ctx, "phone_per_day", "phone:day:"+phone, l.PhonePerDay, 24*time.Hour); err != nil {
		return err
	}
	return s.hit(ctx, "sms_global", "sms:global", l.SMSPerHour, time.Hour)
}

// accountKey names the failure counters of an account: the user id when
// the account exists, else the email, so unknown emails are throttled the
// same way as known ones and reveal nothing.
func accountKey(u *store.User, email string) string {
	if u != nil {
		return "u:" + u.ID
	}
	return "e:" + email
}

// limitAccount refuses while the account is blocked after repeated
// failures, then counts the attempt against the hourly cap. The block is
// only read (recordFailure sets it once an attempt has failed), so parallel
// attempts can all pass it; the cap is counted before the password or code
// is checked, so however attempts interleave, no more than AccountPerHour
// of them are checked per account between two successful logins.
func (s *Service) limitAccount(ctx context.Context, key string) error {
	now := s.now()
	blk, err := s.store.Peek(ctx, "acct:block:"+key, now)
	if err != nil {
		return storeErr(err)
	}
	if blk.Count > 0 {
		s.log.WarnContext(ctx, "rate limit hit", "limit", "account_block")
		return errRateLimited(blk.ResetAt.Sub(now), fmt.Errorf("auth: account blocked"))
	}
	return s.hit(ctx, "account_per_hour", "acct:try:"+key, s.limits.AccountPerHour, time.Hour)
}

// recordFailure counts a failed password or code attempt and, past the
// free ones, blocks the account for a doubling time. The hourly cap blocks
// until its window ends. Errors are logged: the attempt has failed anyway.
func (s *Service) recordFailure(ctx context.Context, key string) {
	now := s.now()
	l := s.limits
	c, err := s.store.Hit(ctx, "acct:fail:"+key, time.Hour, now)
	if err != nil {
		s.log.WarnContext(ctx, "count failure failed", "err", err)
		return
	}
	var block time.Duration
	switch {
	case c.Count >= l.AccountPerHour:
		block = c.ResetAt.Sub(now)
	case c.Count >= l.AccountFreeFailures:
		block = time.Second << min(c.Count-l.AccountFreeFailures, 20)
		block = min(block, l.AccountMaxBlock)
	default:
		return
	}
	// A fresh block replaces any running one.
	if err := s.store.ResetCounter(ctx, "acct:block:"+key); err != nil {
		s.log.WarnContext(ctx, "count failure failed", "err", err)
		return
	}
	if _, err := s.store.Hit(ctx, "acct:block:"+key, block, now); err != nil {
		s.log.WarnContext(ctx, "count failure failed", "err", err)
	}
}

// resetFailures clears an account's failure counters after a success.
func (s *Service) resetFailures(ctx context.Context, key string) {
	for _, k := range []string{"acct:fail:" + key, "acct:block:" + key, "acct:try:" + key} {
		if err := s.store.ResetCounter(ctx, k); err != nil {
			s.log.WarnContext(ctx, "reset failures failed", "err", err)
		}
	}
}
