package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twostep/twostep/store"
)

// Limit is a budget of Max events per Window. The zero Limit is off.
type Limit struct {
	Max    int
	Window time.Duration
}

// On reports whether the limit is enforced.
func (l Limit) On() bool { return l.Max > 0 }

// Limits are the budgets checked before any expensive work (bcrypt, SMS).
// They are kept in the store, so they hold across all replicas together.
// DefaultLimits returns the defaults SECURITY.md documents; a Limits is
// used exactly as given, and Validate says which fields may be off.
type Limits struct {
	// Per client IP (IPv6: per /64). Each may be off.
	RegisterPerIP Limit
	LoginPerIP    Limit
	VerifyPerIP   Limit
	RefreshPerIP  Limit
	ResetPerIP    Limit // requestPasswordReset

	// ResetPerEmail bounds requestPasswordReset per email, with an account
	// or not (the same answer either way); ResetSendsPerDay the reset codes
	// sent to one account a day, so that strangers who know an email cannot
	// use up its number's budgets (0: off).
	ResetPerEmail    Limit
	ResetSendsPerDay int

	// AccountFreeFailures failed password or code attempts of one account
	// are free; each further one doubles a temporary block, from one
	// second up to AccountMaxBlock. A completed login clears them. At
	// least 1.
	AccountFreeFailures int
	AccountMaxBlock     time.Duration // more than 0, at most an hour
	// AccountPerHour caps failed attempts per account in any hour (the
	// short window) and AccountPerDay in any 24 hours (NIST SP 800-63B's
	// cap): 1–100 each.
	AccountPerHour int
	AccountPerDay  int

	// Sends to one number, counted apart for its verified owner and for
	// accounts that have not verified it.
	PhoneCooldown time.Duration // between sends; 0: off
	PhonePerHour  int           // at least 1
	PhonePerDay   int           // at least 1
	// SMSPerHour is the ceiling of sends to verified numbers, all
	// together; SMSUnverifiedPerHour that of sends to numbers nobody has
	// verified, and SMSPerCountryPerHour (0: off) that of those per
	// country calling code.
	SMSPerHour           int
	SMSUnverifiedPerHour int
	SMSPerCountryPerHour int
	// UnverifiedSendsPerDay caps the sends of one account whose number is
	// not verified.
	UnverifiedSendsPerDay int
}

// DefaultLimits returns the defaults.
func DefaultLimits() Limits {
	return Limits{
		RegisterPerIP:         Limit{Max: 20, Window: time.Hour},
		LoginPerIP:            Limit{Max: 60, Window: 15 * time.Minute},
		VerifyPerIP:           Limit{Max: 60, Window: 15 * time.Minute},
		RefreshPerIP:          Limit{Max: 300, Window: 15 * time.Minute},
		ResetPerIP:            Limit{Max: 20, Window: time.Hour},
		ResetPerEmail:         Limit{Max: 10, Window: time.Hour},
		ResetSendsPerDay:      3,
		AccountFreeFailures:   10,
		AccountMaxBlock:       15 * time.Minute,
		AccountPerHour:        100,
		AccountPerDay:         100,
		PhoneCooldown:         30 * time.Second,
		PhonePerHour:          5,
		PhonePerDay:           10,
		SMSPerHour:            1000,
		SMSUnverifiedPerHour:  200,
		UnverifiedSendsPerDay: 3,
	}
}

// DevelopmentLimits are the defaults while codes are printed instead of
// sent (no Twilio configured, never in production): a developer logging
// in again and again must not be locked out for the hour. Only the
// per-number send budgets differ: nothing is billed, nobody is texted.
func DevelopmentLimits() Limits {
	l := DefaultLimits()
	l.PhoneCooldown = 2 * time.Second
	l.PhonePerHour = 100
	l.PhonePerDay = 1000
	l.UnverifiedSendsPerDay = 100
	return l
}

// Validate reports the first field that is out of range: the per-IP limits
// may be off, the account and send limits may not (but for the cooldown),
// and anyone who knows an email can start the account block, so it stays
// short.
func (l Limits) Validate() error {
	for _, ip := range []struct {
		name string
		l    Limit
	}{{"RegisterPerIP", l.RegisterPerIP}, {"LoginPerIP", l.LoginPerIP}, {"VerifyPerIP", l.VerifyPerIP}, {"RefreshPerIP", l.RefreshPerIP}, {"ResetPerIP", l.ResetPerIP}, {"ResetPerEmail", l.ResetPerEmail}} {
		if ip.l.Max < 0 || (ip.l.On() && ip.l.Window <= 0) {
			return fmt.Errorf("auth: limit %s: %d per %s: want a window for a positive maximum", ip.name, ip.l.Max, ip.l.Window)
		}
	}
	switch {
	case l.AccountFreeFailures < 1:
		return errors.New("auth: limit AccountFreeFailures must be at least 1")
	case l.AccountMaxBlock <= 0 || l.AccountMaxBlock > time.Hour:
		return errors.New("auth: limit AccountMaxBlock must be more than 0 and at most 1h")
	case l.AccountPerHour < 1 || l.AccountPerHour > 100 || l.AccountPerDay < 1 || l.AccountPerDay > 100:
		return errors.New("auth: limits AccountPerHour and AccountPerDay must be from 1 to 100")
	case l.PhoneCooldown < 0:
		return errors.New("auth: limit PhoneCooldown must not be negative")
	case l.PhonePerHour < 1 || l.PhonePerDay < 1 || l.SMSPerHour < 1 || l.SMSUnverifiedPerHour < 1 || l.UnverifiedSendsPerDay < 1:
		return errors.New("auth: limits PhonePerHour, PhonePerDay, SMSPerHour, SMSUnverifiedPerHour and UnverifiedSendsPerDay must be at least 1")
	case l.SMSPerCountryPerHour < 0 || l.ResetSendsPerDay < 0:
		return errors.New("auth: limits SMSPerCountryPerHour and ResetSendsPerDay must not be negative")
	}
	return nil
}

// hit counts one event against key and returns a RATE_LIMITED error when
// the count passes max. Counting first and comparing after is what keeps
// parallel requests from slipping past the limit.
func (s *Service) hit(ctx context.Context, name, key string, l Limit) error {
	if !l.On() {
		return nil
	}
	now := s.now()
	c, err := s.store.Hit(ctx, key, l.Window, now)
	if err != nil {
		return storeErr(err)
	}
	if c.Count > l.Max {
		s.limitEvent(ctx, name, key, "", c.ResetAt)
		return s.refuse(ctx, errRateLimited(name, c.ResetAt.Sub(now), fmt.Errorf("auth: limit %s: %d > %d", name, c.Count, l.Max)))
	}
	return nil
}

// limitIP applies the per-IP limit of action (register, login, verify,
// refresh or reset).
// Without a client IP (a caller that is not HTTP) there is nothing to count.
func (s *Service) limitIP(ctx context.Context, action, ip string) error {
	if ip == "" {
		return nil
	}
	var l Limit
	switch action {
	case "register":
		l = s.limits.RegisterPerIP
	case "login":
		l = s.limits.LoginPerIP
	case "verify":
		l = s.limits.VerifyPerIP
	case "refresh":
		l = s.limits.RefreshPerIP
	case "reset":
		l = s.limits.ResetPerIP
	default: // a limit misnamed here would be off: refuse to run instead
		panic("auth: no per-IP limit for " + action)
	}
	if err := s.hit(ctx, action+"_per_ip", ipKey(action, ip), l); err != nil {
		return err
	}
	// An IPv6 site (a /48) holds 65,536 /64s: its own budget, four
	// subscribers' worth, keeps one site from cycling through them.
	if key, ok := ipv6SiteKey(action, ip); ok && l.On() {
		return s.hit(ctx, action+"_per_ip", key, Limit{Max: l.Max * ipv6SiteFactor, Window: l.Window})
	}
	return nil
}

// ipv6SiteFactor is how many times the per-IP budget an IPv6 /48 gets.
const ipv6SiteFactor = 4

// sendBudgets are the budgets one send to phone is charged to. The owner
// of a verified number has budgets of its own for it and shares only the
// ceiling of verified sends; accounts that have not verified their number
// share that number's other budgets, a daily budget each and the ceilings
// of unverified sends, so that nothing they do touches the owner's.
func (s *Service) sendBudgets(u *store.User, cc int) (names []string, budgets []store.Budget) {
	l := s.limits
	add := func(name, key string, max int, window time.Duration) {
		if max > 0 && window > 0 {
			names, budgets = append(names, name), append(budgets, store.Budget{Key: key, Max: max, Window: window})
		}
	}
	who := "verified"
	if !u.PhoneVerified {
		who = "unverified"
		add("unverified_account_per_day", unverifiedAccountKey(u.ID), l.UnverifiedSendsPerDay, 24*time.Hour)
	}
	add("phone_cooldown", phoneKey(who, "cooldown", u.Phone), 1, l.PhoneCooldown)
	add("phone_per_hour", phoneKey(who, "hour", u.Phone), l.PhonePerHour, time.Hour)
	add("phone_per_day", phoneKey(who, "day", u.Phone), l.PhonePerDay, 24*time.Hour)
	if u.PhoneVerified {
		add("sms_ceiling", smsCeilingKey("verified"), l.SMSPerHour, time.Hour)
	} else {
		add("sms_unverified_ceiling", smsCeilingKey("unverified"), l.SMSUnverifiedPerHour, time.Hour)
		add("sms_country_ceiling", smsCountryKey(cc), l.SMSPerCountryPerHour, time.Hour)
	}
	return names, budgets
}

// chargeSend charges one send to u's number to every budget it counts
// against (for a password reset, also the account's daily reset budget),
// or to none of them: a refused send costs no budget anything. It returns
// when the next send to the number can be charged (zero: at once).
func (s *Service) chargeSend(ctx context.Context, u *store.User, cc int, reset bool) (next time.Time, err error) {
	names, budgets := s.sendBudgets(u, cc)
	if l := s.limits.ResetSendsPerDay; reset && l > 0 {
		names, budgets = append(names, "reset_sends_per_day"), append(budgets, store.Budget{Key: resetSendsKey(u.ID), Max: l, Window: 24 * time.Hour})
	}
	now := s.now()
	refused, resetAt, err := s.store.Charge(ctx, budgets, now)
	if err != nil {
		return time.Time{}, storeErr(err)
	}
	if refused >= 0 {
		s.limitEvent(ctx, names[refused], budgets[refused].Key, u.ID, resetAt)
		return time.Time{}, s.refuse(ctx, errRateLimited(names[refused], resetAt.Sub(now), fmt.Errorf("auth: limit %s", names[refused])))
	}
	return resetAt, nil
}
