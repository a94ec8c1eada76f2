package auth_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
)

// TestDefaultLimits pins the defaults that SECURITY.md documents.
func TestDefaultLimits(t *testing.T) {
	d := auth.DefaultLimits()
	tests := []struct {
		name      string
		got, want any
	}{
		{"RegisterPerIP", d.RegisterPerIP, auth.Limit{Max: 20, Window: time.Hour}},
		{"LoginPerIP", d.LoginPerIP, auth.Limit{Max: 60, Window: 15 * time.Minute}},
		{"VerifyPerIP", d.VerifyPerIP, auth.Limit{Max: 60, Window: 15 * time.Minute}},
		{"RefreshPerIP", d.RefreshPerIP, auth.Limit{Max: 300, Window: 15 * time.Minute}},
		{"ResetPerIP", d.ResetPerIP, auth.Limit{Max: 20, Window: time.Hour}},
		{"ResetPerEmail", d.ResetPerEmail, auth.Limit{Max: 10, Window: time.Hour}},
		{"ResetSendsPerDay", d.ResetSendsPerDay, 3},
		{"unconfirmed accounts' lifetime", auth.DefaultUnconfirmedTTL, 7 * 24 * time.Hour},
		{"AccountFreeFailures", d.AccountFreeFailures, 10},
		{"AccountMaxBlock", d.AccountMaxBlock, 15 * time.Minute},
		{"AccountPerHour", d.AccountPerHour, 100},
		{"AccountPerDay", d.AccountPerDay, 100},
		{"SMSUnverifiedPerHour", d.SMSUnverifiedPerHour, 200},
		{"SMSPerCountryPerHour", d.SMSPerCountryPerHour, 0},
		{"UnverifiedSendsPerDay", d.UnverifiedSendsPerDay, 3},
		{"PhoneCooldown", d.PhoneCooldown, 30 * time.Second},
		{"PhonePerHour", d.PhonePerHour, 5},
		{"PhonePerDay", d.PhonePerDay, 10},
		{"SMSPerHour", d.SMSPerHour, 1000},
		{"challenge attempts", auth.DefaultMaxAttempts, 5},
		{"challenge lifetime", auth.DefaultChallengeTTL, 10 * time.Minute},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("default %s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

// attempt is one step of a limits scenario.
type attempt struct {
	name    string
	advance time.Duration // clock moves before the step
	right   bool          // the right password (else a wrong one)
	noCode  bool          // after the right password, the code is not entered
	code    auth.Code     // "" for success
	retry   time.Duration // RetryAfter wanted with CodeRateLimited, 0: any
	hashes  int64         // bcrypt operations wanted
}

// run logs in as email for each step and checks the outcome; a successful
// password step is completed with the right code, which resets the
// account, unless the step says noCode.
func run(t *testing.T, h *authtest.Env, email, phone string, steps []attempt) {
	t.Helper()
	for i, st := range steps {
		h.Clock.Advance(st.advance)
		before := h.Hashes.Count()
		pw := "wrong password here"
		if st.right {
			pw = authtest.Password
		}
		res, err := h.Svc.Login(context.Background(), auth.LoginInput{Email: email, Password: pw})
		desc := fmt.Sprintf("step %d (%s): Login(%s)", i, st.name, email)
		switch {
		case st.code != "":
			ae := wantCode(t, desc, err, st.code)
			if st.retry != 0 && ae.RetryAfter != st.retry {
				t.Fatalf("%s: RetryAfter %v, want %v", desc, ae.RetryAfter, st.retry)
			}
		case err != nil:
			t.Fatalf("%s = %v, want success", desc, err)
		case !st.noCode:
			if _, err := h.Svc.VerifyOTP(context.Background(), auth.VerifyInput{MFAToken: res.MFAToken, Code: h.Code(t, phone)}); err != nil {
				t.Fatalf("%s: VerifyOTP = %v", desc, err)
			}
		}
		if n := h.Hashes.Count() - before; n != st.hashes {
			t.Fatalf("%s computed %d hashes, want %d", desc, n, st.hashes)
		}
	}
}

func TestAccountBlock(t *testing.T) {
	lim := limits(func(l *auth.Limits) { l.AccountFreeFailures, l.AccountMaxBlock, l.PhoneCooldown = 3, 8*time.Second, 0 })
	wrong := func(name string, advance time.Duration) attempt {
		return attempt{name: name, advance: advance, code: auth.CodeInvalidCredentials, hashes: 1}
	}
	blocked := func(name string, advance, retry time.Duration, right bool) attempt {
		return attempt{name: name, advance: advance, right: right, code: auth.CodeRateLimited, retry: retry}
	}
	tests := []struct {
		name  string
		steps []attempt
	}{
		{"grows, caps and is never permanent", []attempt{
			wrong("1st failure is free", 0),
			wrong("2nd failure is free", 0),
			wrong("3rd failure blocks 1s", 0),
			blocked("even the right password is refused unhashed", 0, time.Second, true),
			wrong("after 1s: 4th failure blocks 2s", time.Second),
			blocked("still blocked", time.Second, time.Second, false),
			wrong("5th failure blocks 4s", time.Second),
			wrong("6th failure blocks 8s", 4*time.Second),
			wrong("7th failure: capped at 8s", 8*time.Second),
			blocked("blocked at the cap", 7*time.Second, time.Second, true),
			{name: "the block ends: the right password works", advance: time.Second, right: true, hashes: 1},
			wrong("reset: 1st failure is free again", 0),
			wrong("reset: 2nd failure is free again", 0),
			wrong("reset: 3rd failure blocks 1s again", 0),
			blocked("blocked again", 0, time.Second, false),
		}},
		{"a correct password alone does not reset", []attempt{
			wrong("1st", 0),
			wrong("2nd", 0),
			{name: "right password, code never entered", right: true, noCode: true, hashes: 1},
			wrong("3rd failure still blocks", 0),
			blocked("blocked", 0, time.Second, false),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := authtest.New(t, authtest.Options{Limits: lim})
			phone := authtest.NextPhone()
			h.Register(t, "ada@example.com", phone)
			run(t, h, "ada@example.com", phone, tt.steps)
		})
	}
}

// TestAccountBlockByCodes checks that wrong codes count against the account
// as wrong passwords do, and that the block refuses before Twilio is asked.
func TestAccountBlockByCodes(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.AccountFreeFailures, l.PhoneCooldown = 3, 0 })})
	phone := authtest.NextPhone()
	h.Register(t, "ada@example.com", phone)
	l := h.Login(t, "ada@example.com")
	bad := authtest.WrongCode(h.Code(t, phone))
	for range 3 {
		_, err := h.Svc.VerifyOTP(context.Background(), auth.VerifyInput{MFAToken: l.MFAToken, Code: bad})
		wantCode(t, "VerifyOTP(wrong)", err, auth.CodeInvalidOTP)
	}
	h.OTP.ResetCounts()
	_, err := h.Svc.VerifyOTP(context.Background(), auth.VerifyInput{MFAToken: l.MFAToken, Code: h.Code(t, phone)})
	if ae := wantCode(t, "VerifyOTP(right, blocked)", err, auth.CodeRateLimited); ae.RetryAfter != time.Second {
		t.Errorf("RetryAfter %v, want 1s", ae.RetryAfter)
	}
	before := h.Hashes.Count()
	_, err = h.Svc.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: authtest.Password})
	wantCode(t, "Login(right, blocked by codes)", err, auth.CodeRateLimited)
	if n := h.OTP.Sends() + h.OTP.Checks(); n != 0 || h.Hashes.Count() != before {
		t.Fatalf("blocked attempts made %d Twilio requests and %d hashes, want none", n, h.Hashes.Count()-before)
	}
	h.Clock.Advance(time.Second)
	if _, err := h.Svc.VerifyOTP(context.Background(), auth.VerifyInput{MFAToken: l.MFAToken, Code: h.Code(t, phone)}); err != nil {
		t.Fatalf("VerifyOTP(right) after the block = %v", err)
	}
}

// TestAccountHourlyCap checks the cap of failures per account per hour: it
// blocks until the hour's window ends, and no longer.
func TestAccountHourlyCap(t *testing.T) {
	for _, email := range []string{"ada@example.com", "nobody@example.com"} {
		t.Run(email, func(t *testing.T) {
			h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.AccountFreeFailures, l.AccountPerHour, l.PhoneCooldown = 1000, 5, 0 })})
			h.Register(t, "ada@example.com", authtest.NextPhone())
			var steps []attempt
			for i := range 5 {
				steps = append(steps, attempt{name: fmt.Sprintf("failure %d", i+1), advance: time.Minute, code: auth.CodeInvalidCredentials, hashes: 1})
			}
			steps = append(steps,
				attempt{name: "capped until the hour ends", advance: time.Minute, code: auth.CodeRateLimited, retry: 55 * time.Minute},
				attempt{name: "still capped", advance: 54 * time.Minute, code: auth.CodeRateLimited, retry: time.Minute},
				attempt{name: "the hour is over", advance: time.Minute, code: auth.CodeInvalidCredentials, hashes: 1},
			)
			run(t, h, email, "", steps)
		})
	}
}

// TestAccountCapParallel checks that the hourly cap is counted before the
// password is checked: however many attempts race, no more than the cap
// are checked.
func TestAccountCapParallel(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.AccountFreeFailures, l.AccountPerHour = 1000, 5 })})
	h.Register(t, "ada@example.com", authtest.NextPhone())
	before := h.Hashes.Count()
	codes := parallel(30, func(i int) error {
		_, err := h.Svc.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: "wrong password here", ClientIP: fmt.Sprintf("192.0.2.%d", i)})
		return err
	})
	if codes[auth.CodeInvalidCredentials] != 5 || codes[auth.CodeRateLimited] != 25 || h.Hashes.Count()-before != 5 {
		t.Fatalf("30 parallel failures with a cap of 5: %v and %d hashes, want 5 checked and 25 refused", codes, h.Hashes.Count()-before)
	}
}

// parallel runs n calls at once and counts their error codes ("" for nil).
func parallel(n int, call func(i int) error) map[auth.Code]int {
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		codes = map[auth.Code]int{}
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			err := call(i)
			var code auth.Code
			if ae, ok := err.(*auth.Error); ok {
				code = ae.Code
			} else if err != nil {
				code = "other: " + auth.Code(err.Error())
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return codes
}

func TestPhoneLimits(t *testing.T) {
	type send struct {
		advance time.Duration
		email   string // which account logs in; both share one phone
		retry   time.Duration
	}
	tests := []struct {
		name   string
		limits *auth.Limits
		sends  []send // retry 0: the code is sent
	}{
		{"cooldown", limits(func(l *auth.Limits) { l.PhoneCooldown = 30 * time.Second }), []send{
			{0, "a", 0},
			{10 * time.Second, "a", 20 * time.Second},
			{10 * time.Second, "b", 10 * time.Second},
			{10 * time.Second, "a", 0},
		}},
		{"per hour", limits(func(l *auth.Limits) { l.PhoneCooldown, l.PhonePerHour = 0, 2 }), []send{
			{0, "a", 0},
			{time.Minute, "b", 0},
			{time.Minute, "a", 58 * time.Minute},
			{57 * time.Minute, "b", time.Minute},
			{time.Minute, "a", 0},
		}},
		{"per day", limits(func(l *auth.Limits) { l.PhoneCooldown, l.PhonePerHour, l.PhonePerDay = 0, 100, 3 }), []send{
			{0, "a", 0},
			{time.Hour, "a", 0},
			{time.Hour, "b", 0},
			{time.Hour, "a", 21 * time.Hour},
			{20 * time.Hour, "b", time.Hour},
			{time.Hour, "a", 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := authtest.New(t, authtest.Options{Limits: tt.limits})
			phone := authtest.NextPhone()
			h.Register(t, "a@example.com", phone)
			h.Register(t, "b@example.com", phone)
			for i, s := range tt.sends {
				h.Clock.Advance(s.advance)
				h.OTP.ResetCounts()
				_, err := h.Svc.Login(context.Background(), auth.LoginInput{Email: s.email + "@example.com", Password: authtest.Password})
				if s.retry == 0 {
					if err != nil || h.OTP.Sends() != 1 {
						t.Fatalf("send %d: Login = %v with %d sends, want a code sent", i, err, h.OTP.Sends())
					}
					continue
				}
				if ae := wantCode(t, fmt.Sprintf("send %d: Login", i), err, auth.CodeRateLimited); ae.RetryAfter != s.retry {
					t.Errorf("send %d: RetryAfter %v, want %v", i, ae.RetryAfter, s.retry)
				}
				if n := h.OTP.Sends(); n != 0 {
					t.Fatalf("send %d: refused login sent %d codes", i, n)
				}
			}
		})
	}
}

func TestIPLimits(t *testing.T) {
	two := auth.Limit{Max: 2, Window: 15 * time.Minute}
	ops := []struct {
		name   string
		limits *auth.Limits
		call   func(h *authtest.Env, ip string, i int) error
	}{
		{"register", limits(func(l *auth.Limits) { l.RegisterPerIP = two }), func(h *authtest.Env, ip string, i int) error {
			_, err := h.Svc.Register(context.Background(), auth.RegisterInput{Email: fmt.Sprintf("r%d@example.com", i), Password: authtest.Password, Phone: authtest.NextPhone(), ClientIP: ip})
			return err
		}},
		{"login", limits(func(l *auth.Limits) { l.LoginPerIP = two }), func(h *authtest.Env, ip string, i int) error {
			_, err := h.Svc.Login(context.Background(), auth.LoginInput{Email: fmt.Sprintf("l%d@example.com", i), Password: "wrong password here", ClientIP: ip})
			if ae, ok := err.(*auth.Error); ok && ae.Code == auth.CodeInvalidCredentials {
				return nil
			}
			return err
		}},
		{"verifyOtp", limits(func(l *auth.Limits) { l.VerifyPerIP = two }), func(h *authtest.Env, ip string, i int) error {
			_, err := h.Svc.VerifyOTP(context.Background(), auth.VerifyInput{MFAToken: "bm90LWEtcmVhbC10b2tlbg", Code: "123456", ClientIP: ip})
			if ae, ok := err.(*auth.Error); ok && ae.Code == auth.CodeMFATokenInvalid {
				return nil
			}
			return err
		}},
		{"requestPasswordReset", limits(func(l *auth.Limits) { l.ResetPerIP = two }), func(h *authtest.Env, ip string, i int) error {
			_, err := h.Svc.RequestPasswordReset(context.Background(), fmt.Sprintf("p%d@example.com", i), ip)
			return err
		}},
	}
	type call struct {
		advance time.Duration
		ip      string
		retry   time.Duration // 0: passes the limit
	}
	scenarios := []struct {
		name  string
		calls []call
	}{
		{"IPv4", []call{
			{0, "192.0.2.1", 0},
			{time.Minute, "192.0.2.1", 0},
			{time.Minute, "192.0.2.1", 13 * time.Minute},
			{0, "192.0.2.2", 0},
			{14 * time.Minute, "192.0.2.1", 0},
		}},
		{"IPv6 counts per /64", []call{
			{0, "2001:db8:1:2::1", 0},
			{0, "2001:db8:1:2:ffff::9", 0},
			{0, "2001:db8:1:2:abcd::3", 15 * time.Minute},
			{0, "2001:db8:1:3::1", 0},
		}},
		{"IPv6 counts per /48 too, four /64s' worth", []call{
			{0, "2001:db8:7:1::1", 0}, {0, "2001:db8:7:1::2", 0},
			{0, "2001:db8:7:2::1", 0}, {0, "2001:db8:7:2::2", 0},
			{0, "2001:db8:7:3::1", 0}, {0, "2001:db8:7:3::2", 0},
			{0, "2001:db8:7:4::1", 0}, {0, "2001:db8:7:4::2", 0},
			{0, "2001:db8:7:5::1", 15 * time.Minute}, // a fresh /64, but the /48 is used up
			{0, "2001:db8:8:1::1", 0},                // another /48
		}},
	}
	for _, op := range ops {
		for _, sc := range scenarios {
			t.Run(op.name+"/"+sc.name, func(t *testing.T) {
				h := authtest.New(t, authtest.Options{Limits: op.limits})
				for i, c := range sc.calls {
					h.Clock.Advance(c.advance)
					h.OTP.ResetCounts()
					before := h.Hashes.Count()
					err := op.call(h, c.ip, i)
					if c.retry == 0 {
						if err != nil {
							t.Fatalf("call %d from %s = %v, want it past the limit", i, c.ip, err)
						}
						continue
					}
					if ae := wantCode(t, fmt.Sprintf("call %d from %s", i, c.ip), err, auth.CodeRateLimited); ae.RetryAfter != c.retry {
						t.Errorf("call %d: RetryAfter %v, want %v", i, ae.RetryAfter, c.retry)
					}
					if n := h.Hashes.Count() - before; n != 0 || h.OTP.Sends()+h.OTP.Checks() != 0 {
						t.Fatalf("call %d refused by the IP limit still made %d hashes and %d Twilio requests", i, n, h.OTP.Sends()+h.OTP.Checks())
					}
				}
			})
		}
	}
}

// TestLimitsParallel checks that counting comes before comparing: of many
// simultaneous requests, exactly the budget passes.
func TestLimitsParallel(t *testing.T) {
	t.Run("login per IP", func(t *testing.T) {
		h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.LoginPerIP = auth.Limit{Max: 5, Window: time.Hour} })})
		codes := parallel(20, func(i int) error {
			_, err := h.Svc.Login(context.Background(), auth.LoginInput{Email: fmt.Sprintf("p%d@example.com", i), Password: "wrong password here", ClientIP: "192.0.2.9"})
			return err
		})
		if codes[auth.CodeInvalidCredentials] != 5 || codes[auth.CodeRateLimited] != 15 || h.Hashes.Count() != 5 {
			t.Fatalf("20 parallel logins, 5 allowed: %v, %d hashes", codes, h.Hashes.Count())
		}
	})
	t.Run("sends per phone", func(t *testing.T) {
		h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.PhoneCooldown, l.PhonePerHour = 0, 3 })})
		phone := authtest.NextPhone()
		h.Register(t, "ada@example.com", phone)
		h.OTP.ResetCounts()
		codes := parallel(12, func(i int) error {
			_, err := h.Svc.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: authtest.Password})
			return err
		})
		if codes[""] != 3 || codes[auth.CodeRateLimited] != 9 || h.OTP.Sends() != 3 {
			t.Fatalf("12 parallel logins, 3 sends allowed: %v, %d sends", codes, h.OTP.Sends())
		}
	})
	t.Run("code attempts per challenge", func(t *testing.T) {
		h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.AccountFreeFailures = 1000 })})
		phone := authtest.NextPhone()
		h.Register(t, "ada@example.com", phone)
		l := h.Login(t, "ada@example.com")
		bad := authtest.WrongCode(h.Code(t, phone))
		h.OTP.ResetCounts()
		codes := parallel(20, func(i int) error {
			_, err := h.Svc.VerifyOTP(context.Background(), auth.VerifyInput{MFAToken: l.MFAToken, Code: bad})
			return err
		})
		if codes[auth.CodeInvalidOTP] != 5 || codes[auth.CodeMFATokenInvalid] != 15 || h.OTP.Checks() != 5 {
			t.Fatalf("20 parallel wrong codes: %v, %d Twilio checks; want 5 checked, 15 refused", codes, h.OTP.Checks())
		}
	})
}

// TestLimitsAcrossReplicas checks that two services on one store share
// their budgets, as replicas do (the root tests repeat this over HTTP on
// one database).
func TestLimitsAcrossReplicas(t *testing.T) {
	opts := authtest.Options{Limits: limits(func(l *auth.Limits) { l.LoginPerIP = auth.Limit{Max: 2, Window: time.Hour} })}
	h := authtest.New(t, opts)
	replica := h.Service(t, h.Store, opts)
	for i, svc := range []*auth.Service{h.Svc, replica, h.Svc, replica} {
		_, err := svc.Login(context.Background(), auth.LoginInput{Email: "x@example.com", Password: "wrong password here", ClientIP: "192.0.2.1"})
		want := auth.CodeInvalidCredentials
		if i >= 2 {
			want = auth.CodeRateLimited
		}
		wantCode(t, fmt.Sprintf("login %d", i), err, want)
	}
}

// TestRateLimitedReasons: every limit maps to a documented reason, and the
// message says what was limited and for how long.
func TestRateLimitedReasons(t *testing.T) {
	for _, limit := range []string{"register_per_ip", "login_per_ip", "verify_per_ip", "refresh_per_ip", "reset_per_ip",
		"account_block", "account_per_hour", "account_per_day", "phone_cooldown", "phone_per_hour", "phone_per_day",
		"unverified_account_per_day", "sms_ceiling", "sms_unverified_ceiling", "sms_country_ceiling", "reset_per_email",
		"provider", "hash_capacity"} {
		e := auth.ErrRateLimitedForTest(limit, 57*time.Minute)
		if !slices.Contains(auth.Reasons, e.Reason) {
			t.Errorf("limit %s: reason %q is not among the documented reasons", limit, e.Reason)
		}
		if limit != "hash_capacity" && !strings.Contains(e.Message, "57 minutes") {
			t.Errorf("limit %s: message %q does not say when", limit, e.Message)
		}
	}
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{time.Second, "1 second"}, {30 * time.Second, "30 seconds"}, {61 * time.Second, "2 minutes"},
		{time.Hour, "1 hour"}, {65 * time.Minute, "1 hour 5 minutes"}, {23 * time.Hour, "about 23 hours"}} {
		e := auth.ErrRateLimitedForTest("phone_per_hour", tt.d)
		if !strings.Contains(e.Message, "in "+tt.want+".") {
			t.Errorf("after %v: %q, want %q", tt.d, e.Message, tt.want)
		}
	}
	e := auth.ErrRateLimitedForTest("phone_per_hour", 57*time.Minute)
	if e.Message != "We have sent too many codes to this number. Try again in 57 minutes." {
		t.Errorf("phone_per_hour message = %q", e.Message)
	}
}
