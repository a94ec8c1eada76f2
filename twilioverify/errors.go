package twilioverify

import (
	"errors"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/input"
)

// Twilio error codes this package tells apart
// (https://www.twilio.com/docs/errors/N).
const (
	codeNotFound          = 20404 // no pending verification
	codeTooManyRequests   = 20429 // account concurrency; sends Retry-After
	codeMaxChecks         = 60202 // 5 checks on one verification
	codeMaxSends          = 60203 // 5 sends to one number in 10 minutes
	codeTooManyConcurrent = 60212 // concurrent requests for one number
	codeChannelDisabled   = 60223 // the service has no sender for the channel (WhatsApp)
)

// classify maps a twilio-go error to an *auth.VerifyError (without Err).
// retryAfter is the response's Retry-After header, 0 if absent.
//
// twilio-go returns *client.TwilioRestError for a JSON error body; an HTML
// error page, a timeout or a refused connection come back as other types
// and are all VerifyUnavailable.
func classify(err error, retryAfter time.Duration) *auth.VerifyError {
	code := 0
	var rest *client.TwilioRestError
	var restV1 *client.RestErrorV1 // twilio-go 1.30.1 sent this by mistake (issue #320)
	switch {
	case errors.As(err, &rest):
		code = rest.Code // rest.Status comes from the body and may be 0
	case errors.As(err, &restV1):
		code = restV1.Code
	}

	ve := &auth.VerifyError{Kind: auth.VerifyUnavailable, Code: code}
	switch code {
	case codeNotFound:
		ve.Kind = auth.VerifyNotFound
	case codeChannelDisabled:
		ve.Kind = auth.VerifyChannelUnavailable
	case codeMaxChecks, codeMaxSends, codeTooManyConcurrent, codeTooManyRequests:
		ve.Kind = auth.VerifyRateLimited
		if code == codeMaxChecks {
			ve.Kind = auth.VerifyExhausted
		}
		ve.RetryAfter = retryAfter
		if ve.RetryAfter == 0 {
			ve.RetryAfter = defaultRetryAfter(code)
		}
	}
	return ve
}

// defaultRetryAfter is how long to wait when Twilio sends no Retry-After:
// the send and check limits are tied to the 10-minute verification window,
// the concurrency limits clear quickly.
func defaultRetryAfter(code int) time.Duration {
	switch code {
	case codeMaxSends, codeMaxChecks:
		return 10 * time.Minute
	default:
		return time.Minute
	}
}

// redacted masks the phone number in an error's text. Twilio messages can
// echo the To parameter, and VerifyError.Err ends up in logs.
type redacted struct {
	err error
	to  string
}

func (r redacted) Error() string {
	if r.to == "" {
		return r.err.Error()
	}
	return strings.ReplaceAll(r.err.Error(), r.to, input.MaskPhone(r.to))
}

func (r redacted) Unwrap() error { return r.err }
