package twilioverify

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/twostep/twostep/auth"
)

func TestParseRetryAfter(t *testing.T) {
	date := "Wed, 25 Nov 2026 10:00:00 GMT"
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
		wantOK bool
	}{
		{"absent", http.Header{}, 0, false},
		{"seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second, true},
		{"zero", http.Header{"Retry-After": {"0"}}, 0, true},
		{"negative", http.Header{"Retry-After": {"-3"}}, 0, false},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0, false},
		{"date", http.Header{"Retry-After": {"Wed, 25 Nov 2026 10:01:30 GMT"}, "Date": {date}}, 90 * time.Second, true},
		{"date in the past", http.Header{"Retry-After": {"Wed, 25 Nov 2026 09:00:00 GMT"}, "Date": {date}}, 0, true},
		{"date without Date", http.Header{"Retry-After": {"Wed, 25 Nov 2026 10:01:30 GMT"}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.header)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseRetryAfter(%v) = %v, %v, want %v, %v", tt.header, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name           string
		err            error
		retryAfter     time.Duration
		wantKind       auth.VerifyErrorKind
		wantCode       int
		wantRetryAfter time.Duration
	}{
		{"not found", &client.TwilioRestError{Code: 20404, Status: 404}, 0, auth.VerifyNotFound, 20404, 0},
		{"wrapped", fmt.Errorf("op: %w", &client.TwilioRestError{Code: 60203}), 0, auth.VerifyRateLimited, 60203, 10 * time.Minute},
		{"status missing from body", &client.TwilioRestError{Code: 60202}, 0, auth.VerifyExhausted, 60202, 10 * time.Minute},
		{"header wins", &client.TwilioRestError{Code: 20429, Status: 429}, 5 * time.Second, auth.VerifyRateLimited, 20429, 5 * time.Second},
		{"concurrency default", &client.TwilioRestError{Code: 60212, Status: 429}, 0, auth.VerifyRateLimited, 60212, time.Minute},
		{"rest error v1", &client.RestErrorV1{Code: 20404, HttpStatusCode: 404}, 0, auth.VerifyNotFound, 20404, 0},
		{"fraud guard", &client.TwilioRestError{Code: 60410, Status: 403}, 0, auth.VerifyUnavailable, 60410, 0},
		{"server error without code", &client.TwilioRestError{Status: 500}, 0, auth.VerifyUnavailable, 0, 0},
		{"header ignored when not rate limited", &client.TwilioRestError{Code: 20003}, time.Second, auth.VerifyUnavailable, 20003, 0},
		{"plain error", errors.New("error decoding the response for an HTTP error code: 503"), 0, auth.VerifyUnavailable, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.err, tt.retryAfter)
			if got.Kind != tt.wantKind || got.Code != tt.wantCode || got.RetryAfter != tt.wantRetryAfter {
				t.Errorf("classify(%v) = %v/%d/%v, want %v/%d/%v", tt.err,
					got.Kind, got.Code, got.RetryAfter, tt.wantKind, tt.wantCode, tt.wantRetryAfter)
			}
		})
	}
}

func TestRedacted(t *testing.T) {
	inner := &client.TwilioRestError{Code: 60200, Message: "Invalid parameter `To`: +14155554567"}
	err := redacted{err: inner, to: "+14155554567"}
	if got, want := err.Error(), "Status: 0 - ApiError 60200: Invalid parameter `To`: +1******4567 (null) More info: "; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var rest *client.TwilioRestError
	if !errors.As(err, &rest) || rest != inner {
		t.Errorf("errors.As through redacted failed")
	}
	if got := (redacted{err: inner}).Error(); got != inner.Error() {
		t.Errorf("Error() with no number = %q, want %q", got, inner.Error())
	}
}
