// Package twilioverify is the production auth.OTPVerifier: it sends and
// checks one-time codes through Twilio Verify v2 with the official twilio-go
// client. Twilio generates, delivers and checks the code; twostep never sees
// it except to pass the user's guess along.
//
// twilio-go v1.31.0 takes no context.Context, so every call builds a cheap
// client whose transport carries the call's context (and, for the emulator
// and tests, rewrites the host). All calls share one connection pool.
package twilioverify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	verify "github.com/twilio/twilio-go/rest/verify/v2"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/input"
)

// DefaultTimeout bounds one Twilio call when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config configures a Client. The setting names in error messages are the
// environment variables main reads them from.
type Config struct {
	AccountSID string // TWILIO_ACCOUNT_SID
	AuthToken  string // TWILIO_AUTH_TOKEN
	ServiceSID string // TWILIO_VERIFY_SID, VA…

	// APIURL, if set (scheme://host[:port], TWILIO_API_URL), receives every
	// request instead of https://verify.twilio.com: the emulator, tests.
	APIURL string

	// Timeout bounds each call, on top of the caller's context.
	// Zero means DefaultTimeout.
	Timeout time.Duration

	// Transport is the base RoundTripper shared by all calls. Nil means a
	// clone of http.DefaultTransport owned by this Client.
	Transport http.RoundTripper

	// Logger receives one record per call. Nil means slog.Default().
	Logger *slog.Logger

	// Observe, if set, is called after each request to Twilio (for
	// metrics) with its operation ("start", "check" or "cancel"), how long
	// it took, and its error: nil or an *auth.VerifyError. A cancel of a
	// verification already gone reports VerifyNotFound although
	// CancelVerification returns nil; a malformed code is not sent and not
	// reported. It must be cheap and safe for concurrent use.
	Observe func(op string, d time.Duration, err error)
}

// Client is an auth.OTPVerifier backed by Twilio Verify. It is safe for
// concurrent use.
type Client struct {
	accountSID string
	authToken  string
	serviceSID string
	apiURL     *url.URL // nil: talk to Twilio
	timeout    time.Duration
	base       http.RoundTripper
	log        *slog.Logger
	observe    func(op string, d time.Duration, err error)
}

var _ auth.OTPVerifier = (*Client)(nil)

// New validates cfg and returns a Client. It makes no network call. The
// error names the offending setting, never its value.
func New(cfg Config) (*Client, error) {
	for _, s := range []struct{ name, value string }{
		{"TWILIO_ACCOUNT_SID", cfg.AccountSID},
		{"TWILIO_AUTH_TOKEN", cfg.AuthToken},
		{"TWILIO_VERIFY_SID", cfg.ServiceSID},
	} {
		if s.value == "" {
			return nil, fmt.Errorf("twilioverify: %s is required", s.name)
		}
		// twilio-go refuses anything else before sending (21222/21224):
		// better a startup failure than a login-time one.
		if !alphanumeric(s.value) {
			return nil, fmt.Errorf("twilioverify: %s must be alphanumeric", s.name)
		}
	}
	if !strings.HasPrefix(cfg.ServiceSID, "VA") {
		return nil, errors.New("twilioverify: TWILIO_VERIFY_SID must start with VA")
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("twilioverify: timeout must not be negative")
	}

	c := &Client{
		accountSID: cfg.AccountSID,
		authToken:  cfg.AuthToken,
		serviceSID: cfg.ServiceSID,
		timeout:    cfg.Timeout,
		base:       cfg.Transport,
		log:        cfg.Logger,
		observe:    cfg.Observe,
	}
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("twilioverify: TWILIO_API_URL must be an http or https URL with a host")
		}
		// The SDK builds the path; a prefix here would be silently dropped.
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return nil, errors.New("twilioverify: TWILIO_API_URL must be scheme://host[:port] only")
		}
		c.apiURL = &url.URL{Scheme: u.Scheme, Host: u.Host}
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.base == nil {
		c.base = http.DefaultTransport.(*http.Transport).Clone()
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

// StartVerification asks Twilio to send a code to the E.164 number to
// through ch (sms, call or whatsapp). While a verification is pending
// Twilio re-sends the same code, so retrying after a timeout is harmless to
// the user.
//
// Errors are *auth.VerifyError: VerifyRateLimited for 60203 (too many
// sends), 60212 and 20429; VerifyChannelUnavailable for 60223 (no sender
// for the channel); VerifyUnavailable for everything else.
func (c *Client) StartVerification(ctx context.Context, to string, ch auth.Channel) (auth.Verification, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	api, rt := c.api(ctx)

	params := &verify.CreateVerificationParams{}
	params.SetTo(to).SetChannel(string(ch))
	began := time.Now()
	v, err := api.CreateVerification(c.serviceSID, params)
	if err != nil {
		err = c.fail(ctx, "start", to, err, rt.retryAfter())
	}
	c.called("start", began, err)
	if err != nil {
		return auth.Verification{}, err
	}
	out := auth.Verification{SID: deref(v.Sid)}
	c.log.InfoContext(ctx, "twilioverify: verification started",
		"to", input.MaskPhone(to), "sid", out.SID, "channel", string(ch), "status", deref(v.Status))
	return out, nil
}

// CheckVerification checks code against the verification sid, the one
// StartVerification started: never whatever else is pending for the same
// number. It returns true only when Twilio answers status "approved"; a
// wrong code (Twilio: 200, "pending") returns false and a nil error, and so
// does a code that is not 4–10 digits, without calling Twilio.
//
// Errors are *auth.VerifyError: VerifyNotFound for 20404 (nothing pending:
// approved, expired, too many checks, canceled), VerifyExhausted for 60202
// (too many checks), VerifyRateLimited for 60212 and 20429,
// VerifyUnavailable for everything else.
func (c *Client) CheckVerification(ctx context.Context, sid, code string) (bool, error) {
	if norm, err := input.Code(code); err != nil || norm != code {
		// Twilio would answer 60200, which reads as an outage; a malformed
		// code is just a wrong one, and not sending it saves an attempt.
		c.log.InfoContext(ctx, "twilioverify: malformed code not sent", "sid", sid)
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	api, rt := c.api(ctx)

	params := &verify.CreateVerificationCheckParams{}
	params.SetVerificationSid(sid).SetCode(code)
	began := time.Now()
	v, err := api.CreateVerificationCheck(c.serviceSID, params)
	if err != nil {
		err = c.fail(ctx, "check", "", err, rt.retryAfter())
	}
	c.called("check", began, err)
	if err != nil {
		return false, err
	}
	// valid is deprecated upstream; approved is the only success.
	status := deref(v.Status)
	approved := status == "approved"
	c.log.InfoContext(ctx, "twilioverify: verification checked",
		"to", input.MaskPhone(deref(v.To)), "sid", sid, "status", status, "approved", approved)
	return approved, nil
}

// CancelVerification cancels the pending verification sid, so that the
// next send to its number starts a fresh one (new code, five new checks).
// A verification that is already gone is not an error.
func (c *Client) CancelVerification(ctx context.Context, sid string) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	api, rt := c.api(ctx)
	params := &verify.UpdateVerificationParams{}
	params.SetStatus("canceled")
	began := time.Now()
	_, err := api.UpdateVerification(c.serviceSID, sid, params)
	if err != nil {
		err = c.fail(ctx, "cancel", "", err, rt.retryAfter())
	}
	c.called("cancel", began, err)
	if err != nil {
		if verr, ok := err.(*auth.VerifyError); ok && verr.Kind == auth.VerifyNotFound {
			return nil
		}
		return err
	}
	c.log.InfoContext(ctx, "twilioverify: verification canceled", "sid", sid)
	return nil
}

// api returns a Verify service bound to ctx for one call, and its transport
// so the caller can read what twilio-go does not expose (Retry-After).
func (c *Client) api(ctx context.Context) (*verify.ApiService, *callTransport) {
	rt := &callTransport{ctx: ctx, base: c.base, apiURL: c.apiURL}
	rc := &client.Client{
		Credentials: client.NewCredentials(c.accountSID, c.authToken),
		HTTPClient: &http.Client{
			Transport: rt,
			Timeout:   c.timeout,
			// As twilio-go's own default client: a redirect is an answer.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	rc.SetAccountSid(c.accountSID)
	// Built by hand rather than with client.NewRequestHandler, which reads
	// TWILIO_EDGE and TWILIO_REGION from the process environment: config is
	// parsed once in main, not behind its back.
	return verify.NewApiService(&client.RequestHandler{Client: rc}), rt
}

// called reports a request that began at began to Config.Observe.
func (c *Client) called(op string, began time.Time, err error) {
	if c.observe != nil {
		c.observe(op, time.Since(began), err)
	}
}

// fail turns a twilio-go error into an *auth.VerifyError and logs it.
func (c *Client) fail(ctx context.Context, op, to string, err error, retryAfter time.Duration) error {
	ve := classify(err, retryAfter)
	ve.Err = fmt.Errorf("twilioverify: %s verification: %w", op, redacted{err: err, to: to})
	// Not found is routine (a stale login), and so is a caller who went
	// away; an outage is not.
	level := slog.LevelError
	switch {
	case ve.Kind == auth.VerifyNotFound, errors.Is(err, context.Canceled):
		level = slog.LevelInfo
	case ve.Kind == auth.VerifyRateLimited, ve.Kind == auth.VerifyExhausted:
		level = slog.LevelWarn // a person's limit (five wrong codes), not an outage
	}
	c.log.Log(ctx, level, "twilioverify: request failed",
		"op", op, "to", input.MaskPhone(to), "kind", ve.Kind.String(), "twilio_code", ve.Code,
		"retry_after", ve.RetryAfter, "err", ve.Err)
	return ve
}

// alphanumeric reports whether s is only ASCII letters and digits.
func alphanumeric(s string) bool {
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
