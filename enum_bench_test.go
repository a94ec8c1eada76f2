package main

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/store/storetest"
)

// BenchmarkLoginEnumeration measures, through the full HTTP handler at the
// default bcrypt cost, a login for an unknown email and one with a wrong
// password, and one bare bcrypt compare in the same loop. The target is
// that the two logins cannot be told apart by time: their medians differ
// by well under 10% of one compare (the diff/bcrypt metric). Each
// iteration holds three compares, about a second; run it with
// -benchtime=30x for steady medians. The limits are out of the way
// (startBench), and the clock moves past the account limits every
// iteration, so every attempt reaches bcrypt.
func BenchmarkLoginEnumeration(b *testing.B) {
	clock := authtest.NewClock(time.Now())
	ba := startBench(b, storetest.NewSQLite(b), auth.DefaultBcryptCost, clock)
	const ip = "198.51.100.7"
	ba.c.Do(b, gqltest.Op{Query: gqltest.RegisterOp, Variables: gqltest.RegisterVars("ada@example.com", password, "+14155550142")}).Decode(b, "register", new(struct{ User gqltest.User }))
	wrong := gqltest.Body(gqltest.LoginOp, gqltest.LoginVars("ada@example.com", wrongPassword))
	unknown := gqltest.Body(gqltest.LoginOp, gqltest.LoginVars("nobody@example.com", wrongPassword))
	hash, err := bcrypt.GenerateFromPassword([]byte(password), auth.DefaultBcryptCost)
	if err != nil {
		b.Fatal(err)
	}
	timed := func(body []byte) time.Duration {
		start := time.Now()
		_, resp := ba.post(b, body, "", ip)
		d := time.Since(start)
		if !bytes.Contains(resp, []byte(`"INVALID_CREDENTIALS"`)) {
			b.Fatalf("login: %s, want INVALID_CREDENTIALS", resp)
		}
		return d
	}
	timed(wrong) // warm up the store, the query cache and the limiter
	timed(unknown)

	var tWrong, tUnknown, tBcrypt []time.Duration
	for i := 0; b.Loop(); i++ {
		// Each account fails once per iteration: an hour later, neither
		// is blocked nor at its hourly cap.
		clock.Advance(time.Hour + time.Minute)
		// Alternate the order, so neither kind always follows the other.
		if i%2 == 0 {
			tWrong = append(tWrong, timed(wrong))
			tUnknown = append(tUnknown, timed(unknown))
		} else {
			tUnknown = append(tUnknown, timed(unknown))
			tWrong = append(tWrong, timed(wrong))
		}
		start := time.Now()
		_ = bcrypt.CompareHashAndPassword(hash, []byte(wrongPassword))
		tBcrypt = append(tBcrypt, time.Since(start))
	}
	mw, mu, mb := median(tWrong), median(tUnknown), median(tBcrypt)
	b.ReportMetric(float64(mw)/1e6, "wrong-ms")
	b.ReportMetric(float64(mu)/1e6, "unknown-ms")
	b.ReportMetric(float64(mb)/1e6, "bcrypt-ms")
	b.ReportMetric(float64((mu-mw).Abs())/float64(mb), "diff/bcrypt")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
