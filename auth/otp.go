package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// OTPVerifier sends one-time codes and checks them. Twilio Verify is the
// production implementation (package twilioverify); the code is
// generated, delivered and checked by the provider, never by twostep.
type OTPVerifier interface {
	// StartVerification sends a code to the E.164 number to through ch.
	// Sending again while a verification is pending re-sends the same
	// code, through whichever channel is asked this time.
	StartVerification(ctx context.Context, to string, ch Channel) (Verification, error)
	// CheckVerification checks code against the verification sid that
	// StartVerification returned. A wrong code is not an error: it returns
	// approved == false.
	CheckVerification(ctx context.Context, sid, code string) (approved bool, err error)
	// CancelVerification ends the pending verification sid, so that the
	// next send to its number starts a fresh one. A verification that is
	// gone already is not an error.
	CancelVerification(ctx context.Context, sid string) error
}

// Channel is how a code reaches the person: Twilio Verify's channel names.
type Channel string

// The channels twostep offers. WhatsApp needs a WhatsApp sender on the
// Verify service; without one the provider refuses it
// (VerifyChannelUnavailable).
const (
	ChannelSMS      Channel = "sms"
	ChannelCall     Channel = "call" // a voice call reads the code out
	ChannelWhatsApp Channel = "whatsapp"
)

// Verification describes a verification the provider has started.
type Verification struct {
	SID string // provider's id (Twilio: VE…)
}

// VerifyErrorKind classifies an OTPVerifier failure by what the client
// should be told.
type VerifyErrorKind int

const (
	// VerifyUnavailable: the provider failed, timed out, or refused the
	// destination; the code could not be sent or checked (OTP_DELIVERY_FAILED).
	VerifyUnavailable VerifyErrorKind = iota
	// VerifyNotFound: there is no pending verification (approved, expired,
	// too many checks, canceled); the login must start again
	// (MFA_TOKEN_INVALID).
	VerifyNotFound
	// VerifyRateLimited: the provider refuses more sends or checks for now
	// (RATE_LIMITED).
	VerifyRateLimited
	// VerifyChannelUnavailable: the provider does not offer the channel
	// asked for (WhatsApp without a sender); another channel may work
	// (OTP_DELIVERY_FAILED, saying so).
	VerifyChannelUnavailable
	// VerifyExhausted: the verification has had all the checks it allows
	// (Twilio's 5); for a login, RATE_LIMITED like VerifyRateLimited.
	VerifyExhausted
)

func (k VerifyErrorKind) String() string {
	switch k {
	case VerifyNotFound:
		return "not found"
	case VerifyRateLimited:
		return "rate limited"
	case VerifyChannelUnavailable:
		return "channel unavailable"
	case VerifyExhausted:
		return "exhausted"
	default:
		return "unavailable"
	}
}

// VerifyError is the error an OTPVerifier returns. Err carries the
// provider's detail for the log; it is never shown to a client.
type VerifyError struct {
	Kind       VerifyErrorKind
	Code       int           // provider's error code, 0 if none (timeout, bad body)
	RetryAfter time.Duration // for VerifyRateLimited, 0 if unknown
	Err        error
}

func (e *VerifyError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("auth: otp provider: %s (code %d): %v", e.Kind, e.Code, e.Err)
	}
	return fmt.Sprintf("auth: otp provider: %s: %v", e.Kind, e.Err)
}

func (e *VerifyError) Unwrap() error { return e.Err }

// verifyErrorKind returns the kind of an OTPVerifier error; errors that are
// not a *VerifyError count as VerifyUnavailable.
func verifyErrorKind(err error) (VerifyErrorKind, *VerifyError) {
	var ve *VerifyError
	if errors.As(err, &ve) {
		return ve.Kind, ve
	}
	return VerifyUnavailable, nil
}
