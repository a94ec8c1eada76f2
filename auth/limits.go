package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
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

	// AccountFreeFailures failed password or code attempts of one account
	// are free; each further one doubles a temporary block, from one
	// second up to AccountMaxBlock. A completed login clears them. At
	// least 1.
	AccountFreeFailures int
	AccountMaxBlock     time.Duration // more than 0, at most an hour
	// AccountPerHour caps failed attempts per account in any hour: 1–100.
	AccountPerHour int

	PhoneCooldown time.Duration // between sends to one number; 0: off
	PhonePerHour  int           // sends to one number per hour, at least 1
	PhonePerDay   int           // sends to one number per day, at least 1
	SMSPerHour    int           // sends to all numbers together, at least 1
}

// DefaultLimits returns the defaults.
func DefaultLimits() Limits {
	return Limits{
		RegisterPerIP:       Limit{Max: 20, Window: time.Hour},
		LoginPerIP:          Limit{Max: 60, Window: 15 * time.Minute},
		VerifyPerIP:         Limit{Max: 60, Window: 15 * time.Minute},
		AccountFreeFailures: 10,
		AccountMaxBlock:     15 * time.Minute,
		AccountPerHour:      100,
		PhoneCooldown:       30 * time.Second,
		PhonePerHour:        5,
		PhonePerDay:         10,
		SMSPerHour:          1000,
	}
}

// Validate reports the first field that is out of range: the per-IP limits
// may be off, the account and send limits may not (but for the cooldown),
// and anyone who knows an email can start the account block, so it stays
// short.
func (l Limits) Validate() error {
	for _, ip := range []struct {
		name string
		l    Limit
	}{{"RegisterPerIP", l.RegisterPerIP}, {"LoginPerIP", l.LoginPerIP}, {"VerifyPerIP", l.VerifyPerIP}} {
		if ip.l.Max < 0 || (ip.l.On() && ip.l.Window <= 0) {
			return fmt.Errorf("auth: limit %s: %d per %s: want a window for a positive maximum", ip.name, ip.l.Max, ip.l.Window)
		}
	}
	switch {
	case l.AccountFreeFailures < 1:
		return errors.New("auth: limit AccountFreeFailures must be at least 1")
	case l.AccountMaxBlock <= 0 || l.AccountMaxBlock > time.Hour:
		return errors.New("auth: limit AccountMaxBlock must be more than 0 and at most 1h")
	case l.AccountPerHour < 1 || l.AccountPerHour > 100:
		return errors.New("auth: limit AccountPerHour must be from 1 to 100")
	case l.PhoneCooldown < 0:
		return errors.New("auth: limit PhoneCooldown must not be negative")
	case l.PhonePerHour < 1 || l.PhonePerDay < 1 || l.SMSPerHour < 1:
		return errors.New("auth: limits PhonePerHour, PhonePerDay and SMSPerHour must be at least 1")
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
		return s.refuse(ctx, errRateLimited(name, c.ResetAt.Sub(now), fmt.Errorf("auth: limit %s: %d > %d", name, c.Count, l.Max)))
	}
	return nil
}

// limitIP applies the per-IP limit of action (register, login, verify).
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
	}
	return s.hit(ctx, action+"_per_ip", ipKey(action, ip), l)
}

// limitSend applies the per-number cooldown and caps and the global SMS
// ceiling, the brake on SMS pumping.
func (s *Service) limitSend(ctx context.Context, phone string) error {
	l := s.limits
	if err := s.hit(ctx, "phone_cooldown", phoneKey("cooldown", phone), Limit{Max: 1, Window: l.PhoneCooldown}); err != nil {
		return err
	}
	if err := s.hit(ctx, "phone_per_hour", phoneKey("hour", phone), Limit{Max: l.PhonePerHour, Window: time.Hour}); err != nil {
		return err
	}
	if err := s.hit(ctx, "phone_per_day", phoneKey("day", phone), Limit{Max: l.PhonePerDay, Window: 24 * time.Hour}); err != nil {
		return err
	}
	return s.hit(ctx, "sms_global", smsGlobalKey, Limit{Max: l.SMSPerHour, Window: time.Hour})
}
