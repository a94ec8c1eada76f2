package main

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
)

// waitCode waits for the emulator to have sent phone a code other than
// old: queued sends (password resets) go out from the outbox worker.
func waitCode(t *testing.T, srv *apptest.Server, phone, old string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if code, ok := srv.Emu.Code(phone); ok && code != old {
			return code
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no new code reached %s within 10s", phone)
	return ""
}

// TestResendOverHTTP: resendOtp on another replica re-sends the same code
// by call, as Twilio's Channel parameter; the code still works.
func TestResendOverHTTP(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, dialect string) {
		srvs := servers(t, dialect, nil)
		a, b := srvs[0], srvs[len(srvs)-1]
		phone := apptest.NextPhone()
		a.Register(t, "ada@example.com", phone)
		l := a.Login(t, "ada@example.com")
		code := a.Code(t, phone)
		var again gqltest.Login
		b.Post(t, gqltest.ResendOp, map[string]any{"mfaToken": l.MFAToken, "channel": "CALL"}).Decode(t, "resendOtp", &again)
		if l.ResendAfter != 0 || again.ResendAfter != 0 {
			t.Errorf("resendAfter = %d and %d with LIMIT_PHONE_COOLDOWN=0, want 0", l.ResendAfter, again.ResendAfter)
		}
		if again.MFAToken != l.MFAToken || again.Channel != "CALL" || !again.ExpiresAt.Equal(l.ExpiresAt) {
			t.Fatalf("resendOtp = %+v, want the same token and expiry, by CALL", again)
		}
		reqs := a.Emu.Requests()
		if last := reqs[len(reqs)-1]; last.Form.Get("Channel") != "call" || a.Code(t, phone) != code {
			t.Errorf("the resend asked Twilio for %q and sent %q, want a call with the same code", last.Form.Get("Channel"), a.Code(t, phone))
		}
		if r := b.Post(t, gqltest.ResendOp, map[string]any{"mfaToken": l.MFAToken, "channel": "WHATSAPP"}); r.Code() != "OTP_DELIVERY_FAILED" {
			t.Errorf("resendOtp(WHATSAPP) without a WhatsApp sender = %s, want OTP_DELIVERY_FAILED", r.Body)
		}
		if r := a.Post(t, gqltest.VerifyOp, gqltest.VerifyVars(l.MFAToken, code)); r.Code() != "" {
			t.Fatalf("verifyOtp after the resend = %s", r.Body)
		}
	})
}

// TestPasswordResetOverHTTP: the code of a reset goes out from the outbox
// (the request did not wait for it), the reset works on another replica,
// ends every session and does not sign in; a reset for an email without an
// account answers alike and sends nothing.
func TestPasswordResetOverHTTP(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, dialect string) {
		srvs := servers(t, dialect, nil)
		a, b := srvs[0], srvs[len(srvs)-1]
		phone := apptest.NextPhone()
		token := a.SignIn(t, "ada@example.com", phone)
		old := a.Code(t, phone)
		a.Emu.Advance(10 * time.Minute) // a fresh verification, a fresh code
		a.Emu.ResetRequests()

		var decoy, real struct{ ResetToken string }
		a.Post(t, gqltest.RequestResetOp, map[string]any{"email": "nobody@example.com"}).Decode(t, "requestPasswordReset", &decoy)
		a.Post(t, gqltest.RequestResetOp, map[string]any{"email": "ada@example.com"}).Decode(t, "requestPasswordReset", &real)
		code := waitCode(t, a, phone, old)
		if n := a.Emu.Sends(); n != 1 {
			t.Errorf("%d codes went out for two resets, want 1 (the account's)", n)
		}
		if len(decoy.ResetToken) != len(real.ResetToken) {
			t.Errorf("reset tokens differ in length: %d and %d", len(decoy.ResetToken), len(real.ResetToken))
		}
		r := b.Post(t, gqltest.ResetPasswordOp, map[string]any{"resetToken": decoy.ResetToken, "code": code, "newPassword": "another long passphrase"})
		if r.Code() != "INVALID_OTP" || r.Errors[0].Extensions["attemptsLeft"] != float64(4) {
			t.Errorf("resetPassword(no account) = %s, want INVALID_OTP with 4 attempts left", r.Body)
		}
		r = b.Post(t, gqltest.ResetPasswordOp, map[string]any{"resetToken": real.ResetToken, "code": code, "newPassword": "short"})
		if r.Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "newPassword" {
			t.Errorf("resetPassword(short) = %s, want BAD_USER_INPUT at newPassword", r.Body)
		}
		r = b.Post(t, gqltest.ResetPasswordOp, map[string]any{"resetToken": real.ResetToken, "code": code, "newPassword": "another long passphrase"})
		if r.Code() != "" || !r.Has(`"ok":true`) {
			t.Fatalf("resetPassword = %s", r.Body)
		}
		if r := a.Do(t, gqltest.Op{Query: gqltest.MeOp, Bearer: token}); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("me after the reset = %s, want UNAUTHENTICATED", r.Body)
		}
		if r := a.Post(t, gqltest.LoginOp, gqltest.LoginVars("ada@example.com", password)); r.Code() != "INVALID_CREDENTIALS" {
			t.Errorf("login(old password) = %s", r.Body)
		}
		if r := a.Post(t, gqltest.LoginOp, gqltest.LoginVars("ada@example.com", "another long passphrase")); r.Code() != "" {
			t.Errorf("login(new password) = %s", r.Body)
		}
	})
}

// TestAccountChangesOverHTTP: change password, change phone and delete,
// through GraphQL on two replicas.
func TestAccountChangesOverHTTP(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, dialect string) {
		srvs := servers(t, dialect, nil)
		a, b := srvs[0], srvs[len(srvs)-1]
		phone, next := apptest.NextPhone(), apptest.NextPhone()
		token := a.SignIn(t, "ada@example.com", phone)
		op := func(srv *apptest.Server, query string, vars map[string]any) *gqltest.Response {
			return srv.Do(t, gqltest.Op{Query: query, Variables: vars, Bearer: token})
		}
		r := op(b, gqltest.ChangePasswordOp, map[string]any{"currentPassword": wrongPassword, "newPassword": "another long passphrase"})
		if r.Code() != "INVALID_CREDENTIALS" || r.Errors[0].Extensions["field"] != "currentPassword" {
			t.Errorf("changePassword(wrong) = %s, want INVALID_CREDENTIALS at currentPassword", r.Body)
		}
		if r := op(b, gqltest.ChangePasswordOp, map[string]any{"currentPassword": password, "newPassword": "another long passphrase"}); r.Code() != "" {
			t.Fatalf("changePassword = %s", r.Body)
		}
		var change struct{ ChangeToken, SentTo string }
		op(a, gqltest.StartPhoneChangeOp, map[string]any{"newPhone": next, "password": "another long passphrase"}).Decode(t, "startPhoneChange", &change)
		if r := op(b, gqltest.MeOp, nil); !r.Has(phone) {
			t.Errorf("me before the code = %s, want the old number", r.Body)
		}
		r = op(b, gqltest.ConfirmPhoneChangeOp, map[string]any{"changeToken": change.ChangeToken, "code": a.Code(t, next)})
		if r.Code() != "" || !r.Has(next) || !r.Has(`"phoneVerified":true`) {
			t.Fatalf("confirmPhoneChange = %s", r.Body)
		}
		if r := op(a, gqltest.DeleteAccountOp, map[string]any{"password": "another long passphrase"}); r.Code() != "" {
			t.Fatalf("deleteAccount = %s", r.Body)
		}
		if r := op(b, gqltest.MeOp, nil); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("me after deleteAccount = %s, want UNAUTHENTICATED", r.Body)
		}
		a.Emu.Advance(10 * time.Minute)
		b.SignIn(t, "ada@example.com", next) // email and number are free again
	})
}

// TestTestNumbersOverHTTP: a test number goes through the whole flow,
// though Twilio is configured, without one request reaching it.
func TestTestNumbersOverHTTP(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Options{Env: map[string]string{"SMS_TEST_NUMBERS": "+15005550006=246810"}})
	srv.Register(t, "test@example.com", "+15005550006")
	l := srv.Login(t, "test@example.com")
	if r := srv.Post(t, gqltest.VerifyOp, gqltest.VerifyVars(l.MFAToken, "246810")); r.Code() != "" {
		t.Fatalf("verifyOtp(the fixed code) = %s", r.Body)
	}
	if reqs := srv.Emu.Requests(); len(reqs) != 0 {
		t.Errorf("Twilio received %d requests for a test number, want none: %+v", len(reqs), reqs)
	}
	if !strings.Contains(srv.Logs(), "test number used") {
		t.Errorf("the log does not say a test number was used")
	}
}

// TestPasswordResetTiming: requestPasswordReset takes the same time for an
// email with an account as for one without (medians of interleaved
// requests within 10%), on SQLite through HTTP. Not in parallel with the
// other tests: it measures time.
func TestPasswordResetTiming(t *testing.T) {
	srv := apptest.Start(t, apptest.Options{Env: map[string]string{"LIMIT_RESET_PER_EMAIL": "0", "LIMIT_RESET_PER_IP": "0"}})
	srv.SignIn(t, "ada@example.com", apptest.NextPhone())
	median := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	var ratio float64
	for try := range 3 {
		var known, unknown []time.Duration
		for i := range 101 {
			for _, email := range []string{"ada@example.com", "nobody@example.com"} {
				if i%2 == 1 { // alternate which goes first
					email = map[string]string{"ada@example.com": "nobody@example.com", "nobody@example.com": "ada@example.com"}[email]
				}
				start := time.Now()
				if r := srv.Post(t, gqltest.RequestResetOp, map[string]any{"email": email}); r.Code() != "" {
					t.Fatalf("requestPasswordReset = %s", r.Body)
				}
				if email == "ada@example.com" {
					known = append(known, time.Since(start))
				} else {
					unknown = append(unknown, time.Since(start))
				}
			}
		}
		k, u := median(known), median(unknown)
		ratio = float64(k) / float64(u)
		t.Logf("try %d: median %v with an account, %v without (ratio %.2f)", try+1, k, u, ratio)
		if ratio > 0.9 && ratio < 1.1 {
			return
		}
	}
	t.Errorf("requestPasswordReset medians differ by more than 10%% (ratio %.2f) in three tries", ratio)
}
