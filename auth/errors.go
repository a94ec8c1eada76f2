package auth

import (
	"fmt"
	"time"

	"github.com/twostep/twostep/store"
)

// Code is a stable, machine-readable error code. Clients switch on it (it
// reaches them as extensions.code), so a code is never renamed or removed.
type Code string

// The error codes of the API contract.
const (
	CodeBadUserInput        Code = "BAD_USER_INPUT"
	CodeEmailTaken          Code = "EMAIL_TAKEN"
	CodePhoneTaken          Code = "PHONE_TAKEN"
	CodeInvalidCredentials  Code = "INVALID_CREDENTIALS"
	CodeInvalidOTP          Code = "INVALID_OTP"
	CodeMFATokenInvalid     Code = "MFA_TOKEN_INVALID"
	CodeRateLimited         Code = "RATE_LIMITED"
	CodeOTPDeliveryFailed   Code = "OTP_DELIVERY_FAILED"
	CodeUnauthenticated     Code = "UNAUTHENTICATED"
	CodeRefreshTokenInvalid Code = "REFRESH_TOKEN_INVALID"
	CodeForbidden           Code = "FORBIDDEN"
	CodeUnavailable         Code = "SERVICE_UNAVAILABLE"
	CodeInternal            Code = "INTERNAL_SERVER_ERROR"
)

// Error is a failure a client may be told about. Message is written for
// people and never carries internals; Err holds the cause for the log only.
type Error struct {
	Code         Code
	Message      string
	Field        string        // input field at fault (CodeBadUserInput, CodeEmailTaken, CodePhoneTaken)
	AttemptsLeft int           // for CodeInvalidOTP
	RetryAfter   time.Duration // for CodeRateLimited
	Limit        string        // for CodeRateLimited: which limit (hash_capacity, login_per_ip, …)
	Reason       string        // for CodeRateLimited: Limit as clients see it (Reasons)
	Err          error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("auth: %s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("auth: %s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

func errPhoneTaken(cause error) error {
	return &Error{Code: CodePhoneTaken, Field: "phone", Message: "This phone number belongs to another account.", Err: cause}
}

func errInvalidCredentials() error {
	return &Error{Code: CodeInvalidCredentials, Message: "Email or password is incorrect."}
}

func errMFATokenInvalid(cause error) error {
	return errTokenInvalid(store.PurposeLogin, cause)
}

// errTokenInvalid is MFA_TOKEN_INVALID for a step token of purpose: the
// step's token is dead, and the flow starts again.
func errTokenInvalid(purpose string, cause error) error {
	msg := "This sign-in attempt has expired or was already used. Please sign in again."
	switch purpose {
	case store.PurposeReset:
		msg = "This password reset has expired or was already used. Please start again."
	case store.PurposePhone:
		msg = "This phone number change has expired or was already used. Please start again."
	}
	return &Error{Code: CodeMFATokenInvalid, Message: msg, Err: cause}
}

func errRefreshInvalid(cause error) error {
	return &Error{Code: CodeRefreshTokenInvalid, Message: "This session has ended. Please sign in again.", Err: cause}
}

func errUnauthenticated(cause error) error {
	return &Error{Code: CodeUnauthenticated, Message: "You must be signed in.", Err: cause}
}

func errRateLimited(limit string, retryAfter time.Duration, cause error) *Error {
	if retryAfter < time.Second {
		retryAfter = time.Second
	}
	reason := reasonOf(limit)
	return &Error{Code: CodeRateLimited, Message: limitMessage(reason, retryAfter), RetryAfter: retryAfter,
		Limit: limit, Reason: reason, Err: cause}
}

func errDelivery(cause error) error {
	return &Error{Code: CodeOTPDeliveryFailed, Message: "We could not send or check the code right now. Please try again later.", Err: cause}
}

func errUnavailable(cause error) error {
	return &Error{Code: CodeUnavailable, Message: "The service is temporarily unavailable. Please try again shortly.", Err: cause}
}
