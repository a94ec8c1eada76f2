package auth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
)

// login runs the password step with the right password.
func login(h *authtest.Env, email string) (*auth.LoginResult, error) {
	return h.Svc.Login(context.Background(), auth.LoginInput{Email: email, Password: authtest.Password})
}

// verify runs the code step with code.
func verify(h *authtest.Env, l *auth.LoginResult, code string) (*auth.AuthResult, error) {
	return h.Svc.VerifyOTP(context.Background(), auth.VerifyInput{MFAToken: l.MFAToken, Code: code})
}

// TestSMSCeilings: sends to verified numbers count against
// LIMIT_SMS_PER_HOUR alone; sends to numbers nobody has verified against
// their own ceiling and, when set, one per country; exhausting those never
// blocks a verified owner.
func TestSMSCeilings(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) {
		l.SMSPerHour, l.SMSUnverifiedPerHour = 2, 3
	})})
	// Two owners who verified their numbers (one unverified send each).
	for i := range 2 {
		h.SignIn(t, fmt.Sprintf("owner%d@example.com", i), authtest.NextPhone())
	}
	h.Register(t, "new@example.com", authtest.NextPhone())
	h.Login(t, "new@example.com") // the third unverified send: its ceiling is full
	h.OTP.ResetCounts()
	_, err := login(h, "new2@example.com")
	wantCode(t, "Login(unknown)", err, auth.CodeInvalidCredentials)
	h.Register(t, "new2@example.com", authtest.NextPhone())
	_, err = login(h, "new2@example.com")
	if ae := wantCode(t, "Login(4th unverified send in the hour)", err, auth.CodeRateLimited); ae.Limit != "sms_unverified_ceiling" {
		t.Errorf("refused by %q, want sms_unverified_ceiling", ae.Limit)
	}
	// Verified owners are not affected, and have a ceiling of their own.
	h.Clock.Advance(time.Minute)
	h.Login(t, "owner0@example.com")
	h.Login(t, "owner1@example.com")
	h.Clock.Advance(time.Minute)
	_, err = login(h, "owner0@example.com")
	if ae := wantCode(t, "Login(3rd verified send in the hour)", err, auth.CodeRateLimited); ae.Limit != "sms_ceiling" || ae.RetryAfter != 59*time.Minute {
		t.Errorf("refused by %q after %v, want sms_ceiling after 59m", ae.Limit, ae.RetryAfter)
	}
	if n := h.OTP.Sends(); n != 2 {
		t.Errorf("%d codes sent, want the 2 the ceilings allowed", n)
	}

	t.Run("per country", func(t *testing.T) {
		h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.SMSPerCountryPerHour = 1 })})
		h.Register(t, "us1@example.com", authtest.NextPhone())
		h.Register(t, "us2@example.com", authtest.NextPhone())
		h.Register(t, "gb@example.com", "+447400123456")
		h.Login(t, "us1@example.com")
		_, err := login(h, "us2@example.com")
		if ae := wantCode(t, "Login(2nd unverified send to +1)", err, auth.CodeRateLimited); ae.Limit != "sms_country_ceiling" {
			t.Errorf("refused by %q, want sms_country_ceiling", ae.Limit)
		}
		h.Login(t, "gb@example.com") // another country has its own
	})
}

// TestSendBudgetsAllOrNone: a refused send is charged to none of its
// budgets, so refused sends cannot use up a number's hour or day.
func TestSendBudgetsAllOrNone(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) {
		l.PhoneCooldown, l.SMSUnverifiedPerHour, l.PhonePerHour, l.UnverifiedSendsPerDay = 0, 1, 2, 10
	})})
	phone := authtest.NextPhone()
	h.Register(t, "a@example.com", authtest.NextPhone())
	h.Register(t, "b@example.com", phone)
	h.Login(t, "a@example.com") // fills the unverified ceiling of 1
	for range 5 {
		_, err := login(h, "b@example.com")
		wantCode(t, "Login(over the ceiling)", err, auth.CodeRateLimited)
	}
	h.Clock.Advance(time.Hour) // the ceiling's window ends, the number's hour too
	// Had the refused sends counted against b's number, its hour (2)
	// would be used up by now.
	h.Login(t, "b@example.com")
	h.Clock.Advance(time.Minute)
	h.Clock.Advance(59 * time.Minute)
	h.Login(t, "b@example.com")
}

// TestUnverifiedAccountSends: an account that has not verified its number
// sends at most LIMIT_UNVERIFIED_SENDS_PER_DAY codes a day, and shares the
// number's budget with everyone else who registered it.
func TestUnverifiedAccountSends(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) {
		l.PhoneCooldown, l.UnverifiedSendsPerDay, l.PhonePerHour, l.PhonePerDay = 0, 3, 100, 100
	})})
	phone := authtest.NextPhone()
	h.Register(t, "a@example.com", phone)
	for range 3 {
		h.Login(t, "a@example.com")
		h.Clock.Advance(11 * time.Minute) // Verify's own 5 sends in 10 minutes
	}
	_, err := login(h, "a@example.com")
	if ae := wantCode(t, "Login(4th send of an unverified account)", err, auth.CodeRateLimited); ae.Limit != "unverified_account_per_day" {
		t.Errorf("refused by %q, want unverified_account_per_day", ae.Limit)
	}
	// A second throwaway account on the number has a day of its own but
	// shares the number's budgets: a hundred accounts text it no more
	// than the per-number caps.
	h2 := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) {
		l.PhoneCooldown, l.UnverifiedSendsPerDay, l.PhonePerHour = 0, 3, 2
	})})
	for i := range 3 {
		h2.Register(t, fmt.Sprintf("t%d@example.com", i), phone)
	}
	h2.Login(t, "t0@example.com")
	h2.Login(t, "t1@example.com")
	_, err = login(h2, "t2@example.com")
	if ae := wantCode(t, "Login(3rd account, number's hour used)", err, auth.CodeRateLimited); ae.Limit != "phone_per_hour" {
		t.Errorf("refused by %q, want phone_per_hour", ae.Limit)
	}
}

// TestPhoneOwnership is the lever the review found: knowing a number must
// give no power over it.
func TestPhoneOwnership(t *testing.T) {
	lim := limits(func(l *auth.Limits) {
		l.PhoneCooldown, l.PhonePerHour, l.PhonePerDay, l.UnverifiedSendsPerDay = 30*time.Second, 5, 10, 100
	})
	h := authtest.New(t, authtest.Options{Limits: lim})
	phone := authtest.NextPhone()
	// The attacker registers the victim's number first, and uses all of
	// the number's unverified budget, with wrong codes on top.
	h.Register(t, "attacker@example.com", phone)
	for i := range 5 {
		l := h.Login(t, "attacker@example.com")
		for range 2 {
			_, err := verify(h, l, "000000")
			if i == 0 {
				wantCode(t, "VerifyOTP(attacker, wrong)", err, auth.CodeInvalidOTP)
			}
		}
		h.Clock.Advance(31 * time.Second)
	}
	_, err := login(h, "attacker@example.com")
	wantCode(t, "Login(attacker, number's hour used)", err, auth.CodeRateLimited)

	// The victim registers and confirms the number: none of that is charged
	// to them (unverified budgets are shared by everyone who has not
	// verified, and the victim has not yet: so this is their first hour)...
	h.Clock.Advance(time.Hour)
	victim := h.SignIn(t, "victim@example.com", phone)
	if !victim.User.PhoneVerified {
		t.Fatalf("victim's number not verified after sign-in")
	}
	// ...and from now on the attacker can send nothing to it.
	h.OTP.ResetCounts()
	_, err = login(h, "attacker@example.com")
	if ae := wantCode(t, "Login(attacker, number verified by another)", err, auth.CodePhoneTaken); ae.Field != "phone" {
		t.Errorf("PHONE_TAKEN field %q, want phone", ae.Field)
	}
	if n := h.OTP.Sends(); n != 0 {
		t.Errorf("attacker's login sent %d codes, want 0", n)
	}
	// Nobody can register the number again.
	_, err = h.Svc.Register(context.Background(), auth.RegisterInput{Email: "other@example.com", Password: authtest.Password, Phone: phone})
	if ae := wantCode(t, "Register(verified number)", err, auth.CodePhoneTaken); ae.Field != "phone" {
		t.Errorf("PHONE_TAKEN field %q, want phone", ae.Field)
	}
	// The victim's logins use the owner's budgets: five in an hour, as if
	// no other account had ever held the number (two minutes apart, for
	// Verify's own five sends per number in ten minutes).
	for i := range 5 {
		h.Clock.Advance(2 * time.Minute)
		l, err := login(h, "victim@example.com")
		if err != nil {
			t.Fatalf("victim's login %d = %v", i, err)
		}
		if i == 4 {
			if _, err := verify(h, l, h.Code(t, phone)); err != nil {
				t.Fatalf("victim's code = %v", err)
			}
		}
	}
}

// TestChallengeEndsOthers: Verify keeps one verification per number, so a
// challenge on a number ends the pending ones of other accounts and
// cancels their verification: the new one gets a code and five checks
// nobody else has used. The account's own earlier challenge is replaced.
func TestChallengeEndsOthers(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.PhoneCooldown = 0 })})
	phone := authtest.NextPhone()
	h.Register(t, "a@example.com", phone)
	h.Register(t, "b@example.com", phone)
	la := h.Login(t, "a@example.com")
	for range 4 { // a uses four of its verification's five checks
		_, err := verify(h, la, "000000")
		wantCode(t, "VerifyOTP(a, wrong)", err, auth.CodeInvalidOTP)
	}
	h.OTP.ResetCounts()
	lb := h.Login(t, "b@example.com")
	if n := h.OTP.Cancels(); n != 1 {
		t.Errorf("b's login canceled %d verifications, want a's 1", n)
	}
	_, err := verify(h, la, h.Code(t, phone))
	wantCode(t, "VerifyOTP(a, ended)", err, auth.CodeMFATokenInvalid)
	// b's verification is fresh: four wrong codes, then the right one.
	for range 4 {
		_, err := verify(h, lb, "000000")
		wantCode(t, "VerifyOTP(b, wrong)", err, auth.CodeInvalidOTP)
	}
	if _, err := verify(h, lb, h.Code(t, phone)); err != nil {
		t.Fatalf("VerifyOTP(b, right, 5th check) = %v", err)
	}

	t.Run("own second login replaces the first", func(t *testing.T) {
		h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.PhoneCooldown = 0 })})
		phone := authtest.NextPhone()
		h.Register(t, "a@example.com", phone)
		first := h.Login(t, "a@example.com")
		h.OTP.ResetCounts()
		second := h.Login(t, "a@example.com")
		if n := h.OTP.Cancels(); n != 0 {
			t.Errorf("own second login canceled %d verifications, want 0", n)
		}
		_, err := verify(h, first, h.Code(t, phone))
		wantCode(t, "VerifyOTP(first)", err, auth.CodeMFATokenInvalid)
		if _, err := verify(h, second, h.Code(t, phone)); err != nil {
			t.Fatalf("VerifyOTP(second) = %v", err)
		}
	})
}

// TestSendLimitedLoginCounts: once a number is send-limited, a right
// password answers RATE_LIMITED; such a login costs the account an attempt
// like a wrong password, so guessing cannot go on for free.
func TestSendLimitedLoginCounts(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) {
		l.PhoneCooldown, l.AccountFreeFailures = time.Hour, 3
	})})
	phone := authtest.NextPhone()
	h.Register(t, "a@example.com", phone)
	h.Login(t, "a@example.com")
	for i := range 3 {
		_, err := login(h, "a@example.com")
		if ae := wantCode(t, fmt.Sprintf("Login(right, cooldown) #%d", i), err, auth.CodeRateLimited); ae.Limit != "phone_cooldown" {
			t.Errorf("refused by %q, want phone_cooldown", ae.Limit)
		}
	}
	before := h.Hashes.Count()
	_, err := login(h, "a@example.com")
	if ae := wantCode(t, "Login(after 3 refused sends)", err, auth.CodeRateLimited); ae.Limit != "account_block" {
		t.Errorf("refused by %q, want account_block", ae.Limit)
	}
	if h.Hashes.Count() != before {
		t.Errorf("a blocked login computed a hash")
	}
}

// TestAccountDailyCap: at most LIMIT_ACCOUNT_FAILURES_PER_DAY failures in
// any 24 hours; reaching it blocks until the oldest is a day old, never
// for good.
func TestAccountDailyCap(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) {
		l.AccountFreeFailures, l.AccountPerHour, l.AccountPerDay = 100, 100, 6
	})})
	h.Register(t, "a@example.com", authtest.NextPhone())
	var steps []attempt
	for i := range 6 {
		steps = append(steps, attempt{name: fmt.Sprintf("failure %d", i+1), advance: 2 * time.Hour, code: auth.CodeInvalidCredentials, hashes: 1})
	}
	steps = append(steps,
		// The first failure was at 2h: the cap holds until 26h.
		attempt{name: "the day's cap", advance: time.Hour, code: auth.CodeRateLimited, retry: 13 * time.Hour},
		attempt{name: "still capped", advance: 12 * time.Hour, code: auth.CodeRateLimited, retry: time.Hour},
		attempt{name: "the oldest failure is a day old", advance: time.Hour, code: auth.CodeInvalidCredentials, hashes: 1},
	)
	run(t, h, "a@example.com", "", steps)
}

// TestAccountBlockParallel: the block is taken, not just read: of many
// parallel wrong passwords, no more than the free failures reach bcrypt.
func TestAccountBlockParallel(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.AccountFreeFailures = 5 })})
	h.Register(t, "a@example.com", authtest.NextPhone())
	codes := parallel(30, func(i int) error {
		_, err := h.Svc.Login(context.Background(), auth.LoginInput{Email: "a@example.com", Password: "wrong password here"})
		return err
	})
	if n := h.Hashes.Count() - 1; n > 5+1 || codes[auth.CodeInvalidCredentials] != int(n) {
		t.Fatalf("30 parallel wrong passwords, 5 free: %v and %d compares, want at most 6", codes, n)
	}
}
