package auth_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
	"github.com/twostep/twostep/store"
)

func requestReset(t *testing.T, h *authtest.Env, email string) *auth.ResetRequest {
	t.Helper()
	r, err := h.Svc.RequestPasswordReset(context.Background(), email, "")
	if err != nil {
		t.Fatalf("RequestPasswordReset(%q) = %v", email, err)
	}
	return r
}

func deliver(t *testing.T, h *authtest.Env) int {
	t.Helper()
	n, err := h.Svc.DeliverQueued(context.Background())
	if err != nil {
		t.Fatalf("DeliverQueued() = %v", err)
	}
	return n
}

func resetPassword(h *authtest.Env, token, code, password string) error {
	return h.Svc.ResetPassword(context.Background(), auth.ResetInput{ResetToken: token, Code: code, NewPassword: password})
}

const newPassword = "a different long passphrase"

func TestPasswordReset(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	phone := authtest.NextPhone()
	first := h.SignIn(t, "ada@example.com", phone)
	h.Clock.Advance(time.Minute) // past the number's cooldown
	r := requestReset(t, h, "ada@example.com")
	if r.ResetToken == "" || !r.ExpiresAt.Equal(h.Clock.Now().Add(auth.DefaultChallengeTTL).Truncate(time.Millisecond)) {
		t.Fatalf("RequestPasswordReset() = %+v", r)
	}
	sends := h.OTP.Sends()
	if n := deliver(t, h); n != 1 || h.OTP.Sends() != sends+1 {
		t.Fatalf("DeliverQueued() handled %d items and sent %d codes, want 1 and 1", n, h.OTP.Sends()-sends)
	}
	code := h.Code(t, phone)
	err := resetPassword(h, r.ResetToken, authtest.WrongCode(code), newPassword)
	if e := wantCode(t, "ResetPassword(wrong code)", err, auth.CodeInvalidOTP); e != nil && e.AttemptsLeft != 4 {
		t.Errorf("attemptsLeft = %d, want 4", e.AttemptsLeft)
	}
	err = resetPassword(h, r.ResetToken, code, "short")
	if e := wantCode(t, "ResetPassword(short password)", err, auth.CodeBadUserInput); e != nil && e.Field != "newPassword" {
		t.Errorf("field = %q, want newPassword", e.Field)
	}
	if err := resetPassword(h, r.ResetToken, code, newPassword); err != nil {
		t.Fatalf("ResetPassword() = %v", err)
	}
	// Every session ends; the reset does not sign in.
	if authenticates(h, first.AccessToken) {
		t.Errorf("an access token survived the reset")
	}
	if _, err := refresh(h, first.RefreshToken); err == nil {
		t.Errorf("a refresh token survived the reset")
	}
	_, err = h.Svc.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: authtest.Password})
	wantCode(t, "Login(old password)", err, auth.CodeInvalidCredentials)
	h.Clock.Advance(time.Minute)
	if _, err := h.Svc.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: newPassword}); err != nil {
		t.Errorf("Login(new password) = %v", err)
	}
	err = resetPassword(h, r.ResetToken, code, newPassword)
	wantCode(t, "ResetPassword(used token)", err, auth.CodeMFATokenInvalid)
}

// TestPasswordResetLooksAlike: for an email without an account, and for an
// account without a verified number, the answer is the same, nothing is
// sent, and the code step behaves exactly like a real one with wrong
// codes: INVALID_OTP with falling attemptsLeft, then MFA_TOKEN_INVALID.
func TestPasswordResetLooksAlike(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	phone := authtest.NextPhone()
	h.SignIn(t, "real@example.com", phone)
	h.Register(t, "unverified@example.com", authtest.NextPhone())
	h.Clock.Advance(time.Minute)
	sends := h.OTP.Sends()
	tokens := map[string]*auth.ResetRequest{}
	for _, email := range []string{"real@example.com", "nobody@example.com", "unverified@example.com"} {
		tokens[email] = requestReset(t, h, email)
	}
	if n := deliver(t, h); n != 3 || h.OTP.Sends() != sends+1 {
		t.Fatalf("DeliverQueued() handled %d and sent %d, want 3 handled and 1 sent (the real account's)", n, h.OTP.Sends()-sends)
	}
	wrong := authtest.WrongCode(h.Code(t, phone))
	for email, r := range tokens {
		if !r.ExpiresAt.Equal(tokens["real@example.com"].ExpiresAt) || len(r.ResetToken) != len(tokens["real@example.com"].ResetToken) {
			t.Errorf("%s: %+v differs in shape from a real account's", email, r)
		}
		for left := 4; left >= 0; left-- {
			err := resetPassword(h, r.ResetToken, wrong, newPassword)
			if e := wantCode(t, email+": ResetPassword(wrong code)", err, auth.CodeInvalidOTP); e != nil && e.AttemptsLeft != left {
				t.Errorf("%s: attemptsLeft = %d, want %d", email, e.AttemptsLeft, left)
			}
		}
		wantCode(t, email+": ResetPassword(sixth)", resetPassword(h, r.ResetToken, wrong, newPassword), auth.CodeMFATokenInvalid)
	}
}

func TestPasswordResetLimits(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) {
		l.ResetPerEmail = auth.Limit{Max: 3, Window: time.Hour}
		l.ResetSendsPerDay = 2
		l.PhoneCooldown = 0
	})})
	phone := authtest.NextPhone()
	h.SignIn(t, "ada@example.com", phone)
	// The account block does not stop a reset: the owner must recover.
	for range 12 {
		_, _ = h.Svc.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: "wrong password here"})
	}
	_, err := h.Svc.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: authtest.Password})
	wantCode(t, "Login(blocked)", err, auth.CodeRateLimited)
	sends := h.OTP.Sends()
	for i := range 3 {
		requestReset(t, h, "ada@example.com")
		requestReset(t, h, "nobody@example.com")
		deliver(t, h)
		if want := sends + min(i+1, 2); h.OTP.Sends() != want {
			t.Errorf("after %d resets %d codes went out, want %d (LIMIT_RESET_SENDS_PER_DAY 2)", i+1, h.OTP.Sends()-sends, want-sends)
		}
	}
	// The fourth in the hour is refused alike, with or without an account.
	for _, email := range []string{"ada@example.com", "nobody@example.com"} {
		_, err := h.Svc.RequestPasswordReset(context.Background(), email, "")
		if e := wantCode(t, "RequestPasswordReset(4th, "+email+")", err, auth.CodeRateLimited); e != nil && e.Limit != "reset_per_email" {
			t.Errorf("limit = %q, want reset_per_email", e.Limit)
		}
	}
	// Once recovered, the block is gone.
	h.Clock.Advance(time.Hour)
	r := requestReset(t, h, "ada@example.com")
	h.Clock.Advance(24 * time.Hour) // the daily reset budget
	r = requestReset(t, h, "ada@example.com")
	deliver(t, h)
	if err := resetPassword(h, r.ResetToken, h.Code(t, phone), newPassword); err != nil {
		t.Fatalf("ResetPassword() = %v", err)
	}
	if _, err := h.Svc.Login(context.Background(), auth.LoginInput{Email: "ada@example.com", Password: newPassword}); err != nil {
		t.Errorf("Login() after a reset of a blocked account = %v, want the block cleared", err)
	}
}

// TestOutbox: a send the provider refuses for now is tried again after its
// lease, and given up after five tries; two replicas never send one item
// twice.
func TestOutbox(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.PhoneCooldown = 0 })})
	phone := authtest.NextPhone()
	h.SignIn(t, "ada@example.com", phone)
	h.OTP.Fail(phone, &auth.VerifyError{Kind: auth.VerifyUnavailable, Err: errors.New("down")}, 2)
	requestReset(t, h, "ada@example.com")
	sends := h.OTP.Sends()
	deliver(t, h)
	if n := deliver(t, h); n != 0 {
		t.Errorf("a failed send was claimed again within its lease")
	}
	h.Clock.Advance(31 * time.Second)
	deliver(t, h)
	h.Clock.Advance(31 * time.Second)
	deliver(t, h)
	if got := h.OTP.Sends() - sends; got != 3 {
		t.Errorf("provider calls = %d, want 3 (two failures, then the send)", got)
	}
	if items, _ := h.Store.ClaimOutbox(context.Background(), h.Clock.Now().Add(time.Hour), time.Minute, 10); len(items) != 0 {
		t.Errorf("a delivered send is still queued: %+v", items)
	}

	h.OTP.Fail(phone, &auth.VerifyError{Kind: auth.VerifyUnavailable, Err: errors.New("down")}, 0)
	requestReset(t, h, "ada@example.com")
	for range 6 {
		deliver(t, h)
		h.Clock.Advance(31 * time.Second)
	}
	if items, _ := h.Store.ClaimOutbox(context.Background(), h.Clock.Now(), time.Minute, 10); len(items) != 0 {
		t.Errorf("a send that failed five times is still queued: %+v", items)
	}
	h.OTP.ClearFailures()

	replica := h.Service(t, h.Store, authtest.Options{Limits: limits(func(l *auth.Limits) { l.PhoneCooldown = 0 })})
	h.Clock.Advance(time.Minute)
	requestReset(t, h, "ada@example.com")
	sends = h.OTP.Sends()
	done := make(chan int)
	go func() { n, _ := replica.DeliverQueued(context.Background()); done <- n }()
	n := deliver(t, h) + <-done
	if n != 1 || h.OTP.Sends() != sends+1 {
		t.Errorf("two replicas handled %d items and sent %d codes, want 1 and 1", n, h.OTP.Sends()-sends)
	}
}

// TestTokenPurposes: a step token works only in its own step; elsewhere it
// is MFA_TOKEN_INVALID and counts nothing.
func TestTokenPurposes(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	phone := authtest.NextPhone()
	h.SignIn(t, "ada@example.com", phone)
	h.Clock.Advance(time.Minute)
	login := h.Login(t, "ada@example.com")
	code := h.Code(t, phone)
	h.Clock.Advance(time.Minute)
	reset := requestReset(t, h, "ada@example.com")
	ctx := context.Background()
	_, err := h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: reset.ResetToken, Code: code})
	wantCode(t, "VerifyOTP(a reset token)", err, auth.CodeMFATokenInvalid)
	_, err = h.Svc.ResendOTP(ctx, auth.ResendInput{MFAToken: reset.ResetToken})
	wantCode(t, "ResendOTP(a reset token)", err, auth.CodeMFATokenInvalid)
	wantCode(t, "ResetPassword(an mfaToken)", resetPassword(h, login.MFAToken, code, newPassword), auth.CodeMFATokenInvalid)
	for _, tok := range []string{login.MFAToken, reset.ResetToken} {
		c, err := h.Store.ChallengeByTokenHash(ctx, sha(tok))
		if err != nil || c.Attempts != 0 {
			t.Errorf("challenge %s after misuse = %+v, %v, want no attempt counted", tok, c, err)
		}
	}
	if c, _ := h.Store.ChallengeByTokenHash(ctx, sha(reset.ResetToken)); c.Purpose != store.PurposeReset {
		t.Errorf("reset challenge purpose = %q", c.Purpose)
	}
}

func sha(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// TestPasswordResetCheckTiming: a wrong code on a reset that can never
// succeed takes as long as one the provider checks (medians within 10%),
// once the provider's check time has been measured.
func TestPasswordResetCheckTiming(t *testing.T) {
	// Timing on a shared machine: three tries before calling it a failure.
	var ratio float64
	for range 3 {
		if ratio = resetCheckTimingRatio(t); ratio >= 0.9 && ratio <= 1.1 {
			return
		}
	}
	t.Errorf("median wrong-code time without an account / with one = %.2f in three tries, want within 10%%", ratio)
}

func resetCheckTimingRatio(t *testing.T) float64 {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) {
		l.ResetPerEmail, l.ResetSendsPerDay, l.PhoneCooldown, l.PhonePerHour, l.PhonePerDay = auth.Limit{}, 0, 0, 1000, 1000
	})})
	h.OTP.CheckDelay.Store(int64(3 * time.Millisecond))
	phone := authtest.NextPhone()
	h.SignIn(t, "ada@example.com", phone)
	var real, decoy []time.Duration
	for round := range 12 {
		h.Clock.Advance(11 * time.Minute) // a fresh verification each round
		tokens := []string{requestReset(t, h, "ada@example.com").ResetToken, requestReset(t, h, "nobody@example.com").ResetToken}
		deliver(t, h)
		wrong := authtest.WrongCode(h.Code(t, phone))
		for i := range 4 {
			for k := range 2 {
				j := (k + i) % 2 // which goes first alternates
				start := time.Now()
				wantCode(t, "ResetPassword(wrong)", resetPassword(h, tokens[j], wrong, newPassword), auth.CodeInvalidOTP)
				if round < 4 { // the first rounds teach the service the provider's time
					continue
				}
				if j == 0 {
					real = append(real, time.Since(start))
				} else {
					decoy = append(decoy, time.Since(start))
				}
			}
		}
	}
	median := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)/2]
	}
	r, d := median(real), median(decoy)
	t.Logf("median wrong-code time: %v with an account, %v without", r, d)
	return float64(d) / float64(r)
}

// TestResetSharesPendingCode: a reset whose send a limit refuses (here the
// number's cooldown) shares the code already pending on the number, so
// asking twice does not leave a token no code completes.
func TestResetSharesPendingCode(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	phone := authtest.NextPhone()
	h.SignIn(t, "ada@example.com", phone)
	h.Clock.Advance(time.Minute)
	first := requestReset(t, h, "ada@example.com")
	deliver(t, h)
	code := h.Code(t, phone)
	second := requestReset(t, h, "ada@example.com") // within the 30s cooldown
	sends := h.OTP.Sends()
	deliver(t, h)
	if h.OTP.Sends() != sends {
		t.Fatalf("the second reset was sent within the cooldown")
	}
	if err := resetPassword(h, second.ResetToken, code, newPassword); err != nil {
		t.Fatalf("ResetPassword(second token, the code sent for the first) = %v", err)
	}
	wantCode(t, "ResetPassword(first token, after the reset)", resetPassword(h, first.ResetToken, code, newPassword), auth.CodeMFATokenInvalid)
}

// TestResetExhaustedLooksWrong: a reset shares Verify's five checks with
// other codes to the number; when they run out, the reset's answer stays
// a wrong code (as for an email without an account), not a provider
// refusal that would tell the two apart.
func TestResetExhaustedLooksWrong(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	phone := authtest.NextPhone()
	h.SignIn(t, "ada@example.com", phone)
	h.Clock.Advance(11 * time.Minute)
	first := requestReset(t, h, "ada@example.com")
	deliver(t, h)
	wrong := authtest.WrongCode(h.Code(t, phone))
	for range 4 {
		wantCode(t, "ResetPassword(first, wrong)", resetPassword(h, first.ResetToken, wrong, newPassword), auth.CodeInvalidOTP)
	}
	h.Clock.Advance(31 * time.Second)
	second := requestReset(t, h, "ada@example.com") // the same pending verification, its fifth check left
	deliver(t, h)
	for left := 4; left >= 2; left-- {
		err := resetPassword(h, second.ResetToken, wrong, newPassword)
		if e := wantCode(t, "ResetPassword(second, wrong)", err, auth.CodeInvalidOTP); e != nil && e.AttemptsLeft != left {
			t.Errorf("attemptsLeft = %d, want %d", e.AttemptsLeft, left)
		}
	}
}
