package main

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/store/storetest"
)

// BenchmarkLoginEnumeration measures, through the full HTTP handler at the
// default bcrypt cost, a login for an unknown email and one with a wrong
// password, and one bare bcrypt compare in the same loop. The target is
// that the two logins cannot be told apart by time: their medians differ
// by well under 10% of one compare (the diff/bcrypt metric). Each
// iteration holds three compares, about a second; run it with
// -benchtime=30x for steady medians. Limits are off (newBenchApp), so
// every attempt reaches bcrypt.
func BenchmarkLoginEnumeration(b *testing.B) {
	ba := newBenchApp(b, storetest.NewSQLite(b), auth.DefaultBcryptCost)
	const ip = "198.51.100.7"
	if _, body := ba.post(opBody(registerOp, registerVars("ada@example.com", testPassword, "+14155550142")), "", ip); !bytes.Contains(body, []byte(`"register":{`)) {
		b.Fatalf("register: %s", body)
	}
	wrong := opBody(loginOp, loginVars("ada@example.com", "not the password"))
	unknown := opBody(loginOp, loginVars("nobody@example.com", "not the password"))
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), auth.DefaultBcryptCost)
	if err != nil {
		b.Fatal(err)
	}
	timed := func(body []byte) time.Duration {
		start := time.Now()
		_, resp := ba.post(body, "", ip)
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
		// Alternate the order, so neither kind always follows the other.
		if i%2 == 0 {
			tWrong = append(tWrong, timed(wrong))
			tUnknown = append(tUnknown, timed(unknown))
		} else {
			tUnknown = append(tUnknown, timed(unknown))
			tWrong = append(tWrong, timed(wrong))
		}
		start := time.Now()
		_ = bcrypt.CompareHashAndPassword(hash, []byte("not the password"))
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
