package auth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/twostep/twostep/auth/input"
)

// TestNumbers are phone numbers with fixed codes (SMS_TEST_NUMBERS), for
// trying the whole flow against a real Twilio account without sending
// anything: sends and checks for them never reach the provider. They may be
// registered whatever their type or country; every other rule and limit
// applies to them. After ValidUntil (zero: no end) they are ordinary
// numbers again.
type TestNumbers struct {
	Codes      map[string]string // E.164 number → its code
	ValidUntil time.Time
}

// testNumbers is TestNumbers on the service's clock.
type testNumbers struct {
	TestNumbers
	now func() time.Time
}

// has reports whether phone is a test number now.
func (t *testNumbers) has(phone string) bool {
	return t != nil && t.Has(phone, t.now())
}

// Has reports whether phone is a test number at now.
func (t TestNumbers) Has(phone string, now time.Time) bool {
	if len(t.Codes) == 0 || !t.ValidUntil.IsZero() && !now.Before(t.ValidUntil) {
		return false
	}
	_, ok := t.Codes[phone]
	return ok
}

// testSIDPrefix marks the verifications of test numbers. Twilio's begin
// with VE, so the two never meet; the number is in the SID, so any replica
// can check a code without shared state.
const testSIDPrefix = "TN"

// testOTP answers for test numbers and passes everything else to the
// provider.
type testOTP struct {
	next    OTPVerifier
	numbers *testNumbers
	log     *slog.Logger
}

func (o *testOTP) StartVerification(ctx context.Context, to string, ch Channel) (Verification, error) {
	if !o.numbers.has(to) {
		return o.next.StartVerification(ctx, to, ch)
	}
	o.log.InfoContext(ctx, "test number used: nothing sent", "op", "start", "phone", input.MaskPhone(to), "channel", string(ch))
	return Verification{SID: testSIDPrefix + to}, nil
}

func (o *testOTP) CheckVerification(ctx context.Context, sid, code string) (bool, error) {
	to, ok := strings.CutPrefix(sid, testSIDPrefix)
	if !ok {
		return o.next.CheckVerification(ctx, sid, code)
	}
	if !o.numbers.has(to) {
		// Its validity ended while the verification was pending.
		return false, &VerifyError{Kind: VerifyNotFound, Err: fmt.Errorf("auth: %s is no longer a test number", input.MaskPhone(to))}
	}
	o.log.InfoContext(ctx, "test number used: nothing sent", "op", "check", "phone", input.MaskPhone(to))
	return subtle.ConstantTimeCompare([]byte(code), []byte(o.numbers.Codes[to])) == 1, nil
}

func (o *testOTP) CancelVerification(ctx context.Context, sid string) error {
	if strings.HasPrefix(sid, testSIDPrefix) {
		return nil
	}
	return o.next.CancelVerification(ctx, sid)
}

// normalizePhone is the phone rule of registration and phone changes:
// input.Phones's, but test numbers pass whatever their type or country.
func (s *Service) normalizePhone(raw string) (string, error) {
	if e164, ok := s.phones.Parse(raw); ok && s.testNumbers.has(e164) {
		return e164, nil
	}
	return s.phones.Normalize(raw)
}
