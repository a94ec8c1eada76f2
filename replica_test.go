package main

import (
	"fmt"
	"slices"
	"testing"

	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/store/storetest"
)

// startReplicas starts n servers on one fresh PostgreSQL database, one
// Verify emulator and one JWT_SECRET (apptest's), as n replicas behind a
// load balancer run, and returns them with the database's URL. It skips tb
// without TEST_DATABASE_URL.
func startReplicas(tb testing.TB, n int, env map[string]string) ([]*apptest.Server, string) {
	tb.Helper()
	dbURL := storetest.NewPostgres(tb)
	emu := apptest.NewEmulator(tb, nil)
	replicas := make([]*apptest.Server, n)
	for i := range replicas {
		e := map[string]string{"DATABASE_URL": dbURL}
		for k, v := range env {
			e[k] = v
		}
		replicas[i] = apptest.Start(tb, apptest.Options{Env: e, Emulator: emu})
	}
	return replicas, dbURL
}

// TestReplicas runs two servers on one PostgreSQL database, one Twilio and
// one JWT_SECRET, and sends the steps of a login, and races on one account
// or challenge, to both: nothing may depend on which replica answers.
func TestReplicas(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	env := map[string]string{"LIMIT_PHONE_COOLDOWN": "1m"}
	// Every request comes from 127.0.0.1: keep the per-IP limits out of
	// the way of the races below.
	for _, k := range []string{"LIMIT_REGISTER_PER_IP", "LIMIT_LOGIN_PER_IP", "LIMIT_VERIFY_PER_IP"} {
		env[k] = "0"
	}
	replicas, dbURL := startReplicas(t, 2, env)
	a, b := replicas[0], replicas[1]
	emu := a.Emu

	t.Run("login steps on alternating replicas", func(t *testing.T) {
		phone := apptest.NextPhone()
		u := a.Register(t, "ada@example.com", phone)
		l := b.Login(t, "ada@example.com")
		signedIn := a.Verify(t, l.MFAToken, phone)
		if signedIn.User.ID != u.ID || !signedIn.User.PhoneVerified {
			t.Fatalf("verifyOtp on A of a login on B = %+v, want verified user %s", signedIn.User, u.ID)
		}
		var me gqltest.User
		b.Do(t, gqltest.Op{Query: gqltest.MeOp, Bearer: signedIn.AccessToken}).Decode(t, "me", &me)
		if me.ID != u.ID || !me.PhoneVerified {
			t.Fatalf("me on B with a token from A = %+v, want verified user %s", me, u.ID)
		}
	})

	t.Run("concurrent registrations of one email", func(t *testing.T) {
		const n = 10
		resps := across(t, replicas, n, gqltest.RegisterOp, func(i int) map[string]any {
			return gqltest.RegisterVars("race@example.com", password, apptest.NextPhone())
		})
		if got := codeCounts(resps); got[""] != 1 || got["EMAIL_TAKEN"] != n-1 {
			t.Fatalf("%d concurrent register(race@example.com) on 2 replicas = %v, want 1 success and %d EMAIL_TAKEN", n, got, n-1)
		}
		if got := storetest.QueryPostgres(t, dbURL, "SELECT count(*) FROM users WHERE email = 'race@example.com'"); !slices.Equal(got, []int64{1}) {
			t.Fatalf("users with race@example.com = %v, want [1]", got)
		}
	})

	t.Run("concurrent right answers on one challenge", func(t *testing.T) {
		phone := apptest.NextPhone()
		a.Register(t, "right@example.com", phone)
		l := a.Login(t, "right@example.com")
		const n = 10
		resps := across(t, replicas, n, gqltest.VerifyOp, sameVars(gqltest.VerifyVars(l.MFAToken, a.Code(t, phone))))
		if got := codeCounts(resps); got[""] != 1 || got["MFA_TOKEN_INVALID"] != n-1 {
			t.Fatalf("%d concurrent right verifyOtp on 2 replicas = %v, want exactly 1 token, %d MFA_TOKEN_INVALID", n, got, n-1)
		}
	})

	t.Run("concurrent wrong answers on one challenge", func(t *testing.T) {
		phone := apptest.NextPhone()
		u := b.Register(t, "wrong@example.com", phone)
		l := b.Login(t, "wrong@example.com")
		code := b.Code(t, phone)
		emu.ResetRequests()
		const n = 10
		resps := across(t, replicas, n, gqltest.VerifyOp, sameVars(gqltest.VerifyVars(l.MFAToken, wrongCode(code))))
		if got := codeCounts(resps); got["INVALID_OTP"] != 5 || got["MFA_TOKEN_INVALID"] != n-5 {
			t.Fatalf("%d concurrent wrong verifyOtp on 2 replicas = %v, want 5 INVALID_OTP (the attempts), %d MFA_TOKEN_INVALID", n, got, n-5)
		}
		var left []int
		for _, r := range resps {
			if r.Code() == "INVALID_OTP" {
				left = append(left, int(r.Errors[0].Extensions["attemptsLeft"].(float64)))
			}
		}
		if slices.Sort(left); !slices.Equal(left, []int{0, 1, 2, 3, 4}) {
			t.Errorf("attemptsLeft of the INVALID_OTP answers = %v, want 0..4 each once", left)
		}
		if got := storetest.QueryPostgres(t, dbURL, fmt.Sprintf("SELECT attempts FROM challenges WHERE user_id = '%s'", u.ID)); !slices.Equal(got, []int64{5}) {
			t.Errorf("challenge attempts = %v, want [5]", got)
		}
		if n := emu.Checks(); n != 5 {
			t.Errorf("Twilio received %d checks, want 5", n)
		}
		for name, srv := range map[string]*apptest.Server{"A": a, "B": b} {
			if r := srv.Post(t, gqltest.VerifyOp, gqltest.VerifyVars(l.MFAToken, code)); r.Code() != "MFA_TOKEN_INVALID" {
				t.Errorf("verifyOtp(right code) on %s after 5 wrong = %s, want MFA_TOKEN_INVALID", name, r.Body)
			}
		}
	})

	t.Run("rate limit across replicas", func(t *testing.T) {
		a.Register(t, "cooldown@example.com", apptest.NextPhone())
		a.Login(t, "cooldown@example.com")
		r := b.Post(t, gqltest.LoginOp, gqltest.LoginVars("cooldown@example.com", password))
		if r.Code() != "RATE_LIMITED" || retryAfter(r) < 1 {
			t.Fatalf("login on B within LIMIT_PHONE_COOLDOWN of a login on A = %s, want RATE_LIMITED with retryAfter", r.Body)
		}
	})
}
