package auth

import (
	"context"
	"errors"
)

// Observer is told what happens, for metrics. Its methods must be cheap
// and safe for concurrent use; every argument comes from a fixed set (never
// an email, number, address or id).
type Observer interface {
	// Login: a password step's outcome: "succeeded" (right password, code
	// sent), "failed" (wrong password or unknown email), "refused" (a limit,
	// or the code could not be sent).
	Login(outcome string)
	// CodeCheck: a code step's outcome (verifyOtp, resetPassword,
	// confirmPhoneChange): "approved", "wrong", "error".
	CodeCheck(purpose, outcome string)
	// Send: a code sent ("sent"), refused by a limit ("refused") or failed
	// at the provider ("failed"), by channel.
	Send(channel Channel, outcome string)
	// LimitHit: a limit refused a request.
	LimitHit(limit string)
	// EventsDropped: security events lost (the buffer was full, or the
	// store failed).
	EventsDropped(n int)
}

// loginOutcome is the Observer's name for how a password step ended.
func loginOutcome(err error) string {
	var e *Error
	switch {
	case err == nil:
		return "succeeded"
	case !errors.As(err, &e):
		return "error"
	case e.Code == CodeInvalidCredentials:
		return "failed"
	case e.Code == CodeBadUserInput:
		return "invalid"
	case e.Code == CodeRateLimited || e.Code == CodeOTPDeliveryFailed || e.Code == CodePhoneTaken:
		return "refused"
	}
	return "error"
}

type nopObserver struct{}

func (nopObserver) Login(string)             {}
func (nopObserver) CodeCheck(string, string) {}
func (nopObserver) Send(Channel, string)     {}
func (nopObserver) LimitHit(string)          {}
func (nopObserver) EventsDropped(int)        {}

// RequestInfo returns a request's client address and user agent, for
// security events; auth knows nothing of HTTP.
type RequestInfo func(ctx context.Context) (ip, userAgent string)
