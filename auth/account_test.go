package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
)

func principal(t *testing.T, h *authtest.Env, r *auth.AuthResult) *auth.Principal {
	t.Helper()
	p, err := h.Svc.Authenticate(context.Background(), r.AccessToken)
	if err != nil {
		t.Fatalf("Authenticate() = %v", err)
	}
	return p
}

func TestResendOTP(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	phone := authtest.NextPhone()
	h.Register(t, "ada@example.com", phone)
	l := h.Login(t, "ada@example.com")
	if l.ResendAfter != 30*time.Second {
		t.Errorf("Login().ResendAfter = %v, want the 30s cooldown", l.ResendAfter)
	}
	code := h.Code(t, phone)
	ctx := context.Background()
	resend := func(ch auth.Channel) (*auth.LoginResult, error) {
		return h.Svc.ResendOTP(ctx, auth.ResendInput{MFAToken: l.MFAToken, Channel: ch})
	}
	_, err := resend(auth.ChannelSMS)
	if e := wantCode(t, "ResendOTP(within the cooldown)", err, auth.CodeRateLimited); e != nil && (e.RetryAfter <= 0 || e.RetryAfter > 30*time.Second) {
		t.Errorf("retryAfter = %v, want the rest of the 30s cooldown", e.RetryAfter)
	}
	_, err = h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: authtest.WrongCode(code)})
	wantCode(t, "VerifyOTP(wrong)", err, auth.CodeInvalidOTP)
	h.Clock.Advance(31 * time.Second)
	r, err := resend(auth.ChannelCall)
	if err != nil || r.MFAToken != l.MFAToken || r.Channel != auth.ChannelCall || !r.ExpiresAt.Equal(l.ExpiresAt) || r.SentTo != l.SentTo {
		t.Fatalf("ResendOTP(call) = %+v, %v, want the same token and expiry, by call", r, err)
	}
	if r.ResendAfter != 30*time.Second {
		t.Errorf("ResendOTP().ResendAfter = %v, want the 30s cooldown it started", r.ResendAfter)
	}
	if h.OTP.Channel(phone) != auth.ChannelCall || h.Code(t, phone) != code {
		t.Errorf("the resend went by %q with code %q, want a call with the same code", h.OTP.Channel(phone), h.Code(t, phone))
	}
	h.Clock.Advance(31 * time.Second)
	_, err = resend(auth.ChannelWhatsApp) // the fake service has no WhatsApp sender
	wantCode(t, "ResendOTP(whatsapp)", err, auth.CodeOTPDeliveryFailed)
	// Attempts are not given back: 4 left before, 3 after one more wrong.
	_, err = h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: authtest.WrongCode(code)})
	if e := wantCode(t, "VerifyOTP(wrong, after resends)", err, auth.CodeInvalidOTP); e != nil && e.AttemptsLeft != 3 {
		t.Errorf("attemptsLeft = %d, want 3", e.AttemptsLeft)
	}
	if _, err := h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: code}); err != nil {
		t.Fatalf("VerifyOTP(right) after resends = %v", err)
	}
	h.Clock.Advance(31 * time.Second)
	_, err = resend(auth.ChannelSMS)
	wantCode(t, "ResendOTP(after the login completed)", err, auth.CodeMFATokenInvalid)
}

func TestResendOTPBudgets(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.PhoneCooldown = 0; l.PhonePerHour = 3 })})
	phone := authtest.NextPhone()
	h.SignIn(t, "ada@example.com", phone) // to the number unverified: budgets apart
	l := h.Login(t, "ada@example.com")    // the verified number's first send of the hour
	resend := func() (*auth.LoginResult, error) {
		return h.Svc.ResendOTP(context.Background(), auth.ResendInput{MFAToken: l.MFAToken})
	}
	if r, err := resend(); err != nil || l.ResendAfter != 0 || r.ResendAfter != 0 {
		t.Fatalf("Login(), ResendOTP() = %v, %+v, %v; want ResendAfter 0 with room left and no cooldown", l.ResendAfter, r, err)
	}
	// The third send of the hour fills it: resendAfter says when the next
	// can go, the hour's end, not the (absent) cooldown.
	h.Clock.Advance(5 * time.Minute)
	if r, err := resend(); err != nil || r.ResendAfter != 55*time.Minute {
		t.Fatalf("ResendOTP() filling the hour = %+v, %v, want ResendAfter 55m", r, err)
	}
	_, err := resend()
	if e := wantCode(t, "ResendOTP() past the number's hour", err, auth.CodeRateLimited); e != nil && e.Limit != "phone_per_hour" {
		t.Errorf("limit = %q, want phone_per_hour", e.Limit)
	}
}

func TestChangePassword(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.PhoneCooldown = 0; l.AccountFreeFailures = 2 })})
	phone := authtest.NextPhone()
	here := h.SignIn(t, "ada@example.com", phone)
	l := h.Login(t, "ada@example.com")
	there, err := h.Svc.VerifyOTP(context.Background(), auth.VerifyInput{MFAToken: l.MFAToken, Code: h.Code(t, phone)})
	if err != nil {
		t.Fatal(err)
	}
	p := principal(t, h, here)
	change := func(current, next string) (*auth.User, error) {
		return h.Svc.ChangePassword(context.Background(), p, auth.ChangePasswordInput{CurrentPassword: current, NewPassword: next})
	}
	_, err = change(authtest.Password, "short")
	if e := wantCode(t, "ChangePassword(short)", err, auth.CodeBadUserInput); e != nil && e.Field != "newPassword" {
		t.Errorf("field = %q, want newPassword", e.Field)
	}
	for range 2 {
		_, err = change("not the password at all", newPassword)
		if e := wantCode(t, "ChangePassword(wrong current)", err, auth.CodeInvalidCredentials); e != nil && e.Field != "currentPassword" {
			t.Errorf("field = %q, want currentPassword", e.Field)
		}
	}
	// Wrong current passwords count like failed logins: the block applies.
	_, err = change(authtest.Password, newPassword)
	wantCode(t, "ChangePassword() while blocked", err, auth.CodeRateLimited)
	h.Clock.Advance(time.Minute)
	u, err := change(authtest.Password, newPassword)
	if err != nil || u.Email != "ada@example.com" {
		t.Fatalf("ChangePassword() = %+v, %v", u, err)
	}
	if !authenticates(h, here.AccessToken) || authenticates(h, there.AccessToken) {
		t.Errorf("after ChangePassword the current session must stay and the other end")
	}
	if _, err := h.Svc.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: newPassword}); err != nil {
		t.Errorf("Login(new password) = %v", err)
	}
}

func TestPhoneChange(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.PhoneCooldown = 0 })})
	oldPhone, newPhone, taken := authtest.NextPhone(), authtest.NextPhone(), authtest.NextPhone()
	ada := h.SignIn(t, "ada@example.com", oldPhone)
	bob := h.SignIn(t, "bob@example.com", taken)
	p := principal(t, h, ada)
	ctx := context.Background()
	start := func(phone, password string) (*auth.PhoneChange, error) {
		return h.Svc.StartPhoneChange(ctx, p, auth.PhoneChangeInput{NewPhone: phone, Password: password})
	}
	for _, tt := range []struct {
		name, phone, password string
		code                  auth.Code
		field                 string
	}{
		{"another account's number", taken, authtest.Password, auth.CodePhoneTaken, "newPhone"},
		{"not a number", "12", authtest.Password, auth.CodeBadUserInput, "newPhone"},
		{"the same number", oldPhone, authtest.Password, auth.CodeBadUserInput, "newPhone"},
		{"a wrong password", newPhone, "not the password at all", auth.CodeInvalidCredentials, "password"},
	} {
		_, err := start(tt.phone, tt.password)
		if e := wantCode(t, "StartPhoneChange("+tt.name+")", err, tt.code); e != nil && e.Field != tt.field {
			t.Errorf("StartPhoneChange(%s): field = %q, want %q", tt.name, e.Field, tt.field)
		}
	}
	c, err := start(newPhone, authtest.Password)
	if err != nil || c.SentTo != "+1******"+newPhone[len(newPhone)-4:] {
		t.Fatalf("StartPhoneChange() = %+v, %v", c, err)
	}
	code := h.Code(t, newPhone)
	if me, _ := h.Svc.Authenticate(ctx, ada.AccessToken); me.User.Phone != oldPhone {
		t.Errorf("the number changed before the code was confirmed")
	}
	confirm := func(p *auth.Principal, code string) (*auth.User, error) {
		return h.Svc.ConfirmPhoneChange(ctx, p, auth.ConfirmPhoneInput{ChangeToken: c.ChangeToken, Code: code})
	}
	_, err = confirm(principal(t, h, bob), code)
	wantCode(t, "ConfirmPhoneChange(another user)", err, auth.CodeMFATokenInvalid)
	_, err = confirm(p, authtest.WrongCode(code))
	if e := wantCode(t, "ConfirmPhoneChange(wrong code)", err, auth.CodeInvalidOTP); e != nil && e.AttemptsLeft != 4 {
		t.Errorf("attemptsLeft = %d, want 4 (another user's try counts nothing)", e.AttemptsLeft)
	}
	u, err := confirm(p, code)
	if err != nil || u.Phone != newPhone || !u.PhoneVerified {
		t.Fatalf("ConfirmPhoneChange() = %+v, %v, want the new number, verified", u, err)
	}
	// The next login texts the new number; the old one is free.
	h.Login(t, "ada@example.com")
	if h.OTP.Channel(newPhone) == "" {
		t.Errorf("no code went to the new number")
	}
	h.SignIn(t, "carol@example.com", oldPhone)
}

// TestPhoneChangeRace: a number another account confirms between start and
// confirmation is PHONE_TAKEN at confirmation, and nothing changes.
func TestPhoneChangeRace(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.PhoneCooldown = 0 })})
	contested := authtest.NextPhone()
	ada := h.SignIn(t, "ada@example.com", authtest.NextPhone())
	p := principal(t, h, ada)
	c, err := h.Svc.StartPhoneChange(context.Background(), p, auth.PhoneChangeInput{NewPhone: contested, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	code := h.Code(t, contested)
	h.SignIn(t, "bob@example.com", contested) // ends ada's challenge on the number, too
	_, err = h.Svc.ConfirmPhoneChange(context.Background(), p, auth.ConfirmPhoneInput{ChangeToken: c.ChangeToken, Code: code})
	if err == nil {
		t.Fatalf("ConfirmPhoneChange() of a number bob confirmed meanwhile succeeded")
	}
	if me, _ := h.Svc.Authenticate(context.Background(), ada.AccessToken); me.User.Phone == contested {
		t.Errorf("ada got bob's number")
	}
}

func TestDeleteAccount(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	phone := authtest.NextPhone()
	ada := h.SignIn(t, "ada@example.com", phone)
	p := principal(t, h, ada)
	err := h.Svc.DeleteAccount(context.Background(), p, "not the password at all")
	if e := wantCode(t, "DeleteAccount(wrong password)", err, auth.CodeInvalidCredentials); e != nil && e.Field != "password" {
		t.Errorf("field = %q, want password", e.Field)
	}
	if err := h.Svc.DeleteAccount(context.Background(), p, authtest.Password); err != nil {
		t.Fatalf("DeleteAccount() = %v", err)
	}
	if authenticates(h, ada.AccessToken) {
		t.Errorf("a deleted user's access token still works")
	}
	if _, err := refresh(h, ada.RefreshToken); err == nil {
		t.Errorf("a deleted user's refresh token still works")
	}
	h.Clock.Advance(time.Minute)
	h.SignIn(t, "ada@example.com", phone) // email and number are free again
}

func TestTestNumbers(t *testing.T) {
	const magic = "+15005550006" // Twilio's test number: not a mobile number
	until := authtest.Start.Add(time.Hour)
	h := authtest.New(t, authtest.Options{
		Allowed:     []int{44}, // and not in an allowed country
		Region:      "GB",
		TestNumbers: auth.TestNumbers{Codes: map[string]string{magic: "123456"}, ValidUntil: until},
	})
	ctx := context.Background()
	if _, err := h.Svc.Register(ctx, auth.RegisterInput{Email: "test@example.com", Password: authtest.Password, Phone: "+1 500 555 0006"}); err != nil {
		t.Fatalf("Register(a test number) = %v", err)
	}
	l := h.Login(t, "test@example.com")
	_, err := h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: "654321"})
	wantCode(t, "VerifyOTP(wrong fixed code)", err, auth.CodeInvalidOTP)
	if _, err := h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: "123456"}); err != nil {
		t.Fatalf("VerifyOTP(the fixed code) = %v", err)
	}
	if h.OTP.Sends() != 0 || h.OTP.Checks() != 0 {
		t.Errorf("the provider saw %d sends and %d checks for a test number, want none", h.OTP.Sends(), h.OTP.Checks())
	}
	h.Clock.Advance(time.Hour)
	_, err = h.Svc.Register(ctx, auth.RegisterInput{Email: "late@example.com", Password: authtest.Password, Phone: "+15005550006"})
	wantCode(t, "Register(a test number after SMS_TEST_NUMBERS_VALID_UNTIL)", err, auth.CodeBadUserInput)
}

// TestPhoneChangeEndsOldCodes: after a phone change, a login begun before
// it cannot be completed with the code sent to the old number, and the
// user's other sessions end; the current one stays.
func TestPhoneChangeEndsOldCodes(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.PhoneCooldown = 0 })})
	ctx := context.Background()
	oldPhone, newPhone := authtest.NextPhone(), authtest.NextPhone()
	here := h.SignIn(t, "ada@example.com", oldPhone)
	l0 := h.Login(t, "ada@example.com")
	there, err := h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l0.MFAToken, Code: h.Code(t, oldPhone)})
	if err != nil {
		t.Fatal(err)
	}
	l := h.Login(t, "ada@example.com")
	oldCode := h.Code(t, oldPhone)
	p := principal(t, h, here)
	c, err := h.Svc.StartPhoneChange(ctx, p, auth.PhoneChangeInput{NewPhone: newPhone, Password: authtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = h.Svc.ConfirmPhoneChange(ctx, p, auth.ConfirmPhoneInput{ChangeToken: c.ChangeToken, Code: h.Code(t, newPhone)}); err != nil {
		t.Fatal(err)
	}
	_, err = h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: oldCode})
	wantCode(t, "VerifyOTP(a login begun before the change, old number's code)", err, auth.CodeMFATokenInvalid)
	if !authenticates(h, here.AccessToken) || authenticates(h, there.AccessToken) {
		t.Errorf("after a phone change the session that made it must stay and the others end")
	}
	h.SignIn(t, "bob@example.com", oldPhone) // the old number is free
}

// TestTestNumbersHas: a test number counts until ValidUntil (not at it),
// for ever without one; another number never.
func TestTestNumbersHas(t *testing.T) {
	until := authtest.Start.Add(time.Hour)
	tn := auth.TestNumbers{Codes: map[string]string{"+15005550006": "123456"}}
	for _, tt := range []struct {
		name  string
		until time.Time
		phone string
		at    time.Time
		want  bool
	}{
		{"before", until, "+15005550006", until.Add(-time.Second), true},
		{"at the end", until, "+15005550006", until, false},
		{"no end", time.Time{}, "+15005550006", until.Add(24 * time.Hour), true},
		{"another number", time.Time{}, "+15005550007", until, false},
	} {
		tn.ValidUntil = tt.until
		if got := tn.Has(tt.phone, tt.at); got != tt.want {
			t.Errorf("Has(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
