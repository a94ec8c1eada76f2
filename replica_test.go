package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/twostep/twostep/store/storetest"
	"github.com/twostep/twostep/twilioverify/emulator"
)

// TestReplicas runs two servers on one PostgreSQL database, one Twilio and
// one JWT_SECRET, and sends the steps of a login, and races on one account
// or challenge, to both: nothing may depend on which replica answers.
func TestReplicas(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	emu, emuURL := newEmulator(t, emulator.Options{})
	env := withEmulator(baseEnv(t), emuURL)
	env["LIMIT_PHONE_COOLDOWN"] = "1m"
	// Every request comes from 127.0.0.1: keep the per-IP budgets out of
	// the way of the races below.
	for _, k := range []string{"LIMIT_REGISTER_PER_IP", "LIMIT_LOGIN_PER_IP", "LIMIT_VERIFY_PER_IP"} {
		env[k] = "10000"
	}
	replicas, dbURL := startReplicas(t, 2, env)
	a, b := replicas[0].URL, replicas[1].URL

	t.Run("login steps on alternating replicas", func(t *testing.T) {
		phone := nextPhone()
		u := register(t, a, "ada@example.com", phone)
		l := login(t, b, "ada@example.com")
		var signedIn authJSON
		gql(t, a, "", verifyOp, map[string]any{"mfaToken": l.MFAToken, "code": codeFor(t, emu, phone)}).field(t, "verifyOtp", &signedIn)
		if signedIn.User.ID != u.ID || !signedIn.User.PhoneVerified {
			t.Fatalf("verifyOtp on A of a login on B = %+v, want verified user %s", signedIn.User, u.ID)
		}
		var me userJSON
		gql(t, b, signedIn.AccessToken, meOp, nil).field(t, "me", &me)
		if me.ID != u.ID || !me.PhoneVerified {
			t.Fatalf("me on B with a token from A = %+v, want verified user %s", me, u.ID)
		}
	})

	t.Run("concurrent registrations of one email", func(t *testing.T) {
		const n = 10
		resps := across(t, replicas, n, registerOp, func(i int) map[string]any {
			return map[string]any{"email": "race@example.com", "password": testPassword, "phone": nextPhone()}
		})
		if got := codeCounts(resps); got[""] != 1 || got["EMAIL_TAKEN"] != n-1 {
			t.Fatalf("%d concurrent register(race@example.com) on 2 replicas = %v, want 1 success and %d EMAIL_TAKEN", n, got, n-1)
		}
		if got := storetest.QueryPostgres(t, dbURL, "SELECT count(*) FROM users WHERE email = 'race@example.com'"); !slices.Equal(got, []int64{1}) {
			t.Fatalf("users with race@example.com = %v, want [1]", got)
		}
	})

	t.Run("concurrent right answers on one challenge", func(t *testing.T) {
		phone := nextPhone()
		register(t, a, "right@example.com", phone)
		l := login(t, a, "right@example.com")
		const n = 10
		resps := across(t, replicas, n, verifyOp, sameVars(map[string]any{"mfaToken": l.MFAToken, "code": codeFor(t, emu, phone)}))
		if got := codeCounts(resps); got[""] != 1 || got["MFA_TOKEN_INVALID"] != n-1 {
			t.Fatalf("%d concurrent right verifyOtp on 2 replicas = %v, want exactly 1 token, %d MFA_TOKEN_INVALID", n, got, n-1)
		}
	})

	t.Run("concurrent wrong answers on one challenge", func(t *testing.T) {
		phone := nextPhone()
		u := register(t, b, "wrong@example.com", phone)
		l := login(t, b, "wrong@example.com")
		code := codeFor(t, emu, phone)
		emu.ResetRequests()
		const n = 10
		resps := across(t, replicas, n, verifyOp, sameVars(map[string]any{"mfaToken": l.MFAToken, "code": wrongCode(code)}))
		if got := codeCounts(resps); got["INVALID_OTP"] != 5 || got["MFA_TOKEN_INVALID"] != n-5 {
			t.Fatalf("%d concurrent wrong verifyOtp on 2 replicas = %v, want 5 INVALID_OTP (the attempts), %d MFA_TOKEN_INVALID", n, got, n-5)
		}
		var left []int
		for _, r := range resps {
			if r.code() == "INVALID_OTP" {
				left = append(left, int(r.Errors[0].Extensions["attemptsLeft"].(float64)))
			}
		}
		if slices.Sort(left); !slices.Equal(left, []int{0, 1, 2, 3, 4}) {
			t.Errorf("attemptsLeft of the INVALID_OTP answers = %v, want 0..4 each once", left)
		}
		if got := storetest.QueryPostgres(t, dbURL, fmt.Sprintf("SELECT attempts FROM challenges WHERE user_id = '%s'", u.ID)); !slices.Equal(got, []int64{5}) {
			t.Errorf("challenge attempts = %v, want [5]", got)
		}
		checks := 0
		for _, r := range emu.Requests() {
			if strings.HasSuffix(r.Path, "/VerificationCheck") {
				checks++
			}
		}
		if checks != 5 {
			t.Errorf("Twilio received %d checks, want 5", checks)
		}
		for name, url := range map[string]string{"A": a, "B": b} {
			if r := gql(t, url, "", verifyOp, map[string]any{"mfaToken": l.MFAToken, "code": code}); r.code() != "MFA_TOKEN_INVALID" {
				t.Errorf("verifyOtp(right code) on %s after 5 wrong = %+v, want MFA_TOKEN_INVALID", name, r.Errors)
			}
		}
	})

	t.Run("rate limit across replicas", func(t *testing.T) {
		register(t, a, "cooldown@example.com", nextPhone())
		login(t, a, "cooldown@example.com")
		r := gql(t, b, "", loginOp, map[string]any{"email": "cooldown@example.com", "password": testPassword})
		if r.code() != "RATE_LIMITED" || r.Errors[0].Extensions["retryAfter"].(float64) < 1 {
			t.Fatalf("login on B within LIMIT_PHONE_COOLDOWN of a login on A = %+v, want RATE_LIMITED with retryAfter", r.Errors)
		}
	})
}
