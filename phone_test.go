package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
)

// The phone-ownership rules over HTTP, on SQLite and PostgreSQL: every
// step of them is proven in auth (sends_test.go); here they meet the real
// store, the real Twilio client and, on PostgreSQL, two replicas.

// TestPhoneTaken: a verified number belongs to one account. Registering
// it again answers PHONE_TAKEN at the phone field, and an account that
// registered it before, unverified, can send nothing to it any more.
func TestPhoneTaken(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, dialect string) {
		srvs := servers(t, dialect, nil)
		a, b := srvs[0], srvs[len(srvs)-1]
		phone := apptest.NextPhone()
		a.Register(t, "squatter@example.com", phone)
		b.SignIn(t, "owner@example.com", phone)

		r := a.Post(t, gqltest.RegisterOp, gqltest.RegisterVars("late@example.com", password, phone))
		if r.Code() != "PHONE_TAKEN" || r.Errors[0].Extensions["field"] != "phone" {
			t.Fatalf("register(verified number) = %s, want PHONE_TAKEN at phone", r.Body)
		}
		a.Emu.ResetRequests()
		r = a.Post(t, gqltest.LoginOp, gqltest.LoginVars("squatter@example.com", password))
		if r.Code() != "PHONE_TAKEN" || a.Emu.Sends() != 0 {
			t.Fatalf("login of the squatter = %s with %d codes sent, want PHONE_TAKEN and none", r.Body, a.Emu.Sends())
		}
		a.Emu.Advance(10 * time.Minute) // Verify's own sends per number
		if l := b.Login(t, "owner@example.com"); l.SentTo == "" {
			t.Fatalf("owner's login = %+v", l)
		}
	})
}

// TestPhoneClaimRace: accounts that registered one number log in and enter
// their code at once, on every replica. Exactly one confirms the number;
// each of the others finds its login ended or the number taken, and from
// then on cannot send to it.
func TestPhoneClaimRace(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, dialect string) {
		env := map[string]string{"LIMIT_REGISTER_PER_IP": "0", "LIMIT_LOGIN_PER_IP": "0", "LIMIT_VERIFY_PER_IP": "0",
			"LIMIT_UNVERIFIED_SENDS_PER_DAY": "100", "LIMIT_PHONE_PER_HOUR": "100", "LIMIT_PHONE_PER_DAY": "100"}
		srvs := servers(t, dialect, env)
		const n = 4 // Verify sends a number at most 5 codes in 10 minutes
		phone := apptest.NextPhone()
		for i := range n {
			srvs[i%len(srvs)].Register(t, fmt.Sprintf("claim%d@example.com", i), phone)
		}
		var wg sync.WaitGroup
		codes := make([]string, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				srv := srvs[i%len(srvs)]
				ctx := context.Background()
				r, err := srv.Client.Try(ctx, gqltest.Op{Query: gqltest.LoginOp, Variables: gqltest.LoginVars(fmt.Sprintf("claim%d@example.com", i), password)})
				if err != nil || r.Code() != "" {
					codes[i] = "login: " + errText(r, err)
					return
				}
				var l gqltest.Login
				if err := decodeField(r, "login", &l); err != nil {
					codes[i] = err.Error()
					return
				}
				code, _ := srv.Emu.Code(phone)
				r, err = srv.Client.Try(ctx, gqltest.Op{Query: gqltest.VerifyOp, Variables: gqltest.VerifyVars(l.MFAToken, code)})
				if err != nil {
					codes[i] = err.Error()
					return
				}
				codes[i] = r.Code()
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for i, c := range codes {
			switch c {
			case "":
				winners++
			case "MFA_TOKEN_INVALID", "PHONE_TAKEN", "login: PHONE_TAKEN":
			default:
				t.Errorf("account %d: %s, want success, MFA_TOKEN_INVALID or PHONE_TAKEN", i, c)
			}
		}
		// Logins that race share Verify's pending verification, and each
		// cancels the others' (so nobody else's wrong codes use up a
		// person's checks): sometimes the last one standing is canceled
		// too, and nobody gets the number this time. Never two.
		if winners > 1 {
			t.Fatalf("%d accounts confirming one number at once: %v, want at most one success", n, codes)
		}
		if winners == 0 {
			t.Logf("no account got the number this time: %v", codes)
			return
		}
		srvs[0].Emu.Advance(10 * time.Minute)
		for i, c := range codes {
			if c == "" {
				continue
			}
			r := srvs[0].Post(t, gqltest.LoginOp, gqltest.LoginVars(fmt.Sprintf("claim%d@example.com", i), password))
			if r.Code() != "PHONE_TAKEN" {
				t.Errorf("login of loser %d after the race = %s, want PHONE_TAKEN", i, r.Body)
			}
		}
	})
}

// TestAccountBlockRace: of many parallel wrong passwords for one account,
// on every replica, no more than LIMIT_ACCOUNT_FREE_FAILURES + 1 reach
// bcrypt.
func TestAccountBlockRace(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, dialect string) {
		env := map[string]string{"LIMIT_ACCOUNT_FREE_FAILURES": "3", "LIMIT_LOGIN_PER_IP": "0", "HASH_MAX_IN_FLIGHT": "64"}
		srvs := servers(t, dialect, env)
		srvs[0].Register(t, "ada@example.com", apptest.NextPhone())
		before := 0
		for _, s := range srvs {
			before += s.Hashes()
		}
		const n = 30
		got := codeCounts(across(t, srvs, n, gqltest.LoginOp, sameVars(gqltest.LoginVars("ada@example.com", wrongPassword))))
		hashes := -before
		for _, s := range srvs {
			hashes += s.Hashes()
		}
		if hashes > 3+1 || got["INVALID_CREDENTIALS"] != hashes || got["RATE_LIMITED"] != n-hashes {
			t.Fatalf("%d parallel wrong passwords on %d servers: %v with %d bcrypt compares, want at most 4", n, len(srvs), got, hashes)
		}
	})
}

// errText says what went wrong with a request made in a goroutine.
func errText(r *gqltest.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return r.Code()
}

// decodeField is Response.Decode for goroutines: it returns the error.
func decodeField(r *gqltest.Response, field string, v any) error {
	if len(r.Errors) > 0 {
		return fmt.Errorf("%s: %s", field, r.Body)
	}
	return json.Unmarshal(r.Data[field], v)
}
