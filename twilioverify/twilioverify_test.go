package twilioverify_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	verify "github.com/twilio/twilio-go/rest/verify/v2"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/twilioverify"
	"github.com/twostep/twostep/twilioverify/emulator"
)

const phone = "+14155550123"

// t0 is the emulator's clock; only Advance moves it, so expiry tests never
// sleep.
var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// newEmulator serves an emulator on loopback for the test.
func newEmulator(tb testing.TB) (*emulator.Emulator, *httptest.Server) {
	tb.Helper()
	em := emulator.New(emulator.Options{
		Now:    func() time.Time { return t0 },
		Logger: slog.New(slog.NewTextHandler(tb.Output(), nil)),
	})
	srv := httptest.NewServer(em)
	tb.Cleanup(srv.Close)
	return em, srv
}

// newClient returns a Client for the emulator at apiURL with its default
// credentials; edit changes the Config first.
func newClient(tb testing.TB, apiURL string, edit func(*twilioverify.Config)) *twilioverify.Client {
	tb.Helper()
	cfg := twilioverify.Config{
		AccountSID: emulator.DefaultAccountSID,
		AuthToken:  emulator.DefaultAuthToken,
		ServiceSID: emulator.DefaultServiceSID,
		APIURL:     apiURL,
		Timeout:    5 * time.Second,
		Logger:     slog.New(slog.NewTextHandler(tb.Output(), nil)),
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := twilioverify.New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return c
}

// start starts a verification for to and returns the code the emulator
// "sent".
func start(tb testing.TB, c *twilioverify.Client, em *emulator.Emulator, to string) (auth.Verification, string) {
	tb.Helper()
	v, err := c.StartVerification(tb.Context(), to, auth.ChannelSMS)
	if err != nil {
		tb.Fatalf("StartVerification(%q) = %v", to, err)
	}
	code, ok := em.Code(to)
	if !ok {
		tb.Fatalf("emulator sent no code to %q", to)
	}
	return v, code
}

// wantVerifyError fails unless err is an *auth.VerifyError of kind and code.
func wantVerifyError(tb testing.TB, err error, kind auth.VerifyErrorKind, code int) *auth.VerifyError {
	tb.Helper()
	var ve *auth.VerifyError
	if !errors.As(err, &ve) {
		tb.Fatalf("err = %v (%T), want *auth.VerifyError", err, err)
	}
	if ve.Kind != kind || ve.Code != code {
		tb.Fatalf("err = %v, want kind %v code %d", err, kind, code)
	}
	if ve.Err == nil {
		tb.Errorf("VerifyError.Err = nil, want the underlying error")
	}
	return ve
}

// unknownSID is a well-formed verification SID the emulator never issued.
const unknownSID = "VE00000000000000000000000000000000"

// wrongCode returns a well-formed code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestStartThenCheckApproved(t *testing.T) {
	em, srv := newEmulator(t)
	c := newClient(t, srv.URL, nil)

	v, code := start(t, c, em, phone)
	if !strings.HasPrefix(v.SID, "VE") {
		t.Errorf("StartVerification(%q) = %+v, want a VE… verification", phone, v)
	}
	approved, err := c.CheckVerification(t.Context(), v.SID, code)
	if err != nil || !approved {
		t.Fatalf("CheckVerification(right code) = %v, %v, want true, nil", approved, err)
	}
}

func TestCheckWrongCode(t *testing.T) {
	em, srv := newEmulator(t)
	c := newClient(t, srv.URL, nil)
	v, code := start(t, c, em, phone)

	approved, err := c.CheckVerification(t.Context(), v.SID, wrongCode(code))
	if err != nil || approved {
		t.Fatalf("CheckVerification(wrong code) = %v, %v, want false, nil", approved, err)
	}
	// A wrong guess leaves the verification pending.
	approved, err = c.CheckVerification(t.Context(), v.SID, code)
	if err != nil || !approved {
		t.Fatalf("CheckVerification(right code after wrong) = %v, %v, want true, nil", approved, err)
	}
}

func TestMalformedCodeIsWrongAndNotSent(t *testing.T) {
	em, srv := newEmulator(t)
	c := newClient(t, srv.URL, nil)
	v, _ := start(t, c, em, phone)
	em.ResetRequests()

	for _, code := range []string{"", "123", "12345678901", "12a456", " 123456"} {
		approved, err := c.CheckVerification(t.Context(), v.SID, code)
		if err != nil || approved {
			t.Errorf("CheckVerification(%q) = %v, %v, want false, nil", code, approved, err)
		}
	}
	if reqs := em.Requests(); len(reqs) != 0 {
		t.Errorf("requests sent for malformed codes: %+v, want none", reqs)
	}
}

func TestResendReusesVerification(t *testing.T) {
	em, srv := newEmulator(t)
	c := newClient(t, srv.URL, nil)

	first, code1 := start(t, c, em, phone)
	em.Advance(2 * time.Minute)
	second, code2 := start(t, c, em, phone)
	if second.SID != first.SID || code2 != code1 {
		t.Errorf("re-send = %s/%s, want the same verification %s/%s", second.SID, code2, first.SID, code1)
	}
}

func TestSixthSendRateLimited(t *testing.T) {
	em, srv := newEmulator(t)
	c := newClient(t, srv.URL, nil)

	for range 5 {
		start(t, c, em, phone)
	}
	_, err := c.StartVerification(t.Context(), phone, auth.ChannelSMS)
	ve := wantVerifyError(t, err, auth.VerifyRateLimited, 60203)
	if ve.RetryAfter != 10*time.Minute {
		t.Errorf("RetryAfter = %v, want 10m (no header)", ve.RetryAfter)
	}

	// The window slides: ten minutes later sending works again.
	em.Advance(10 * time.Minute)
	start(t, c, em, phone)
}

func TestSixthCheckRateLimitedThenNotFound(t *testing.T) {
	em, srv := newEmulator(t)
	c := newClient(t, srv.URL, nil)
	v, code := start(t, c, em, phone)

	for i := range 5 {
		approved, err := c.CheckVerification(t.Context(), v.SID, wrongCode(code))
		if err != nil || approved {
			t.Fatalf("check %d = %v, %v, want false, nil", i+1, approved, err)
		}
	}
	_, err := c.CheckVerification(t.Context(), v.SID, code)
	ve := wantVerifyError(t, err, auth.VerifyExhausted, 60202)
	if ve.RetryAfter != 10*time.Minute {
		t.Errorf("RetryAfter = %v, want 10m", ve.RetryAfter)
	}
	// The verification is gone, even for the right code.
	_, err = c.CheckVerification(t.Context(), v.SID, code)
	wantVerifyError(t, err, auth.VerifyNotFound, 20404)
}

func TestExpiry(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration
		wantErr bool
	}{
		{"just before ten minutes", 10*time.Minute - time.Second, false},
		{"at ten minutes", 10 * time.Minute, true},
		{"after ten minutes", 11 * time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			em, srv := newEmulator(t)
			c := newClient(t, srv.URL, nil)
			v, code := start(t, c, em, phone)
			em.Advance(tt.advance)

			approved, err := c.CheckVerification(t.Context(), v.SID, code)
			if !tt.wantErr {
				if err != nil || !approved {
					t.Fatalf("CheckVerification = %v, %v, want true, nil", approved, err)
				}
				return
			}
			wantVerifyError(t, err, auth.VerifyNotFound, 20404)
		})
	}
}

// TestCancel checks that a canceled verification is gone (its code no
// longer checks), that the next send starts a fresh one, and that
// canceling one that is gone is not an error.
func TestCancel(t *testing.T) {
	em, srv := newEmulator(t)
	c := newClient(t, srv.URL, nil)
	v, code := start(t, c, em, phone)
	if err := c.CancelVerification(t.Context(), v.SID); err != nil {
		t.Fatalf("CancelVerification() = %v", err)
	}
	_, err := c.CheckVerification(t.Context(), v.SID, code)
	wantVerifyError(t, err, auth.VerifyNotFound, 20404)
	if err := c.CancelVerification(t.Context(), v.SID); err != nil {
		t.Errorf("CancelVerification(gone) = %v, want nil", err)
	}
	fresh, _ := start(t, c, em, phone)
	if fresh.SID == v.SID {
		t.Errorf("StartVerification() after cancel reused %s, want a fresh verification", v.SID)
	}
}

// TestCheckIsBoundToTheVerification checks that a code is checked against
// the verification given, not another one pending for the same number.
func TestCheckIsBoundToTheVerification(t *testing.T) {
	em, srv := newEmulator(t)
	c := newClient(t, srv.URL, nil)
	old, _ := start(t, c, em, phone)
	if err := c.CancelVerification(t.Context(), old.SID); err != nil {
		t.Fatal(err)
	}
	_, code := start(t, c, em, phone) // a new verification for the same number
	_, err := c.CheckVerification(t.Context(), old.SID, code)
	wantVerifyError(t, err, auth.VerifyNotFound, 20404)
}

func TestApprovedThenNotFound(t *testing.T) {
	em, srv := newEmulator(t)
	c := newClient(t, srv.URL, nil)
	v, code := start(t, c, em, phone)

	if approved, err := c.CheckVerification(t.Context(), v.SID, code); err != nil || !approved {
		t.Fatalf("first CheckVerification = %v, %v, want true, nil", approved, err)
	}
	_, err := c.CheckVerification(t.Context(), v.SID, code)
	wantVerifyError(t, err, auth.VerifyNotFound, 20404)
}

func TestFailureKinds(t *testing.T) {
	tests := []struct {
		name           string
		failure        emulator.Failure
		wantKind       auth.VerifyErrorKind
		wantCode       int
		wantRetryAfter time.Duration
	}{
		{"20003 authentication", emulator.Failure{Code: 20003}, auth.VerifyUnavailable, 20003, 0},
		{"20404 not found", emulator.Failure{Code: 20404}, auth.VerifyNotFound, 20404, 0},
		{"20429 too many requests", emulator.Failure{Code: 20429}, auth.VerifyRateLimited, 20429, time.Minute},
		{"60200 invalid parameter", emulator.Failure{Code: 60200}, auth.VerifyUnavailable, 60200, 0},
		{"60202 max checks", emulator.Failure{Code: 60202}, auth.VerifyExhausted, 60202, 10 * time.Minute},
		{"60203 max sends", emulator.Failure{Code: 60203}, auth.VerifyRateLimited, 60203, 10 * time.Minute},
		{"60205 landline", emulator.Failure{Code: 60205}, auth.VerifyUnavailable, 60205, 0},
		{"60205 landline 403", emulator.Failure{Code: 60205, HTTPStatus: 403}, auth.VerifyUnavailable, 60205, 0},
		{"60212 concurrent", emulator.Failure{Code: 60212}, auth.VerifyRateLimited, 60212, time.Minute},
		{"60410 fraud guard", emulator.Failure{Code: 60410}, auth.VerifyUnavailable, 60410, 0},
		{"60605 geo permissions", emulator.Failure{Code: 60605}, auth.VerifyUnavailable, 60605, 0},
		{"500 JSON", emulator.Failure{HTTPStatus: 500}, auth.VerifyUnavailable, 20500, 0},
		{"500 HTML", emulator.Failure{HTML: true, HTTPStatus: 500}, auth.VerifyUnavailable, 0, 0},
		{"503 HTML", emulator.Failure{HTML: true, HTTPStatus: 503}, auth.VerifyUnavailable, 0, 0},
		{"502 HTML with a Code", emulator.Failure{HTML: true, HTTPStatus: 502, Code: 20404}, auth.VerifyUnavailable, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			em, srv := newEmulator(t)
			c := newClient(t, srv.URL, nil)
			v, code := start(t, c, em, phone)
			em.Fail(phone, tt.failure)

			_, err := c.StartVerification(t.Context(), phone, auth.ChannelSMS)
			ve := wantVerifyError(t, err, tt.wantKind, tt.wantCode)
			if ve.RetryAfter != tt.wantRetryAfter {
				t.Errorf("start: RetryAfter = %v, want %v", ve.RetryAfter, tt.wantRetryAfter)
			}

			_, err = c.CheckVerification(t.Context(), v.SID, code)
			wantVerifyError(t, err, tt.wantKind, tt.wantCode)
		})
	}
}

func TestFailureTimes(t *testing.T) {
	em, srv := newEmulator(t)
	c := newClient(t, srv.URL, nil)
	em.Fail(phone, emulator.Failure{Code: 60212, Times: 1})

	_, err := c.StartVerification(t.Context(), phone, auth.ChannelSMS)
	wantVerifyError(t, err, auth.VerifyRateLimited, 60212)
	start(t, c, em, phone) // the failure was used up
}

func TestRetryAfterHeader(t *testing.T) {
	tests := []struct {
		name    string
		failure emulator.Failure
		want    time.Duration
	}{
		{"20429", emulator.Failure{Code: 20429, RetryAfter: 7 * time.Second}, 7 * time.Second},
		{"60203 overrides default", emulator.Failure{Code: 60203, RetryAfter: 30 * time.Second}, 30 * time.Second},
		{"60212", emulator.Failure{Code: 60212, RetryAfter: 2 * time.Second}, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			em, srv := newEmulator(t)
			c := newClient(t, srv.URL, nil)
			em.Fail(phone, tt.failure)

			_, err := c.StartVerification(t.Context(), phone, auth.ChannelSMS)
			ve := wantVerifyError(t, err, auth.VerifyRateLimited, tt.failure.Code)
			if ve.RetryAfter != tt.want {
				t.Errorf("RetryAfter = %v, want %v", ve.RetryAfter, tt.want)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	em, srv := newEmulator(t)
	c := newClient(t, srv.URL, func(cfg *twilioverify.Config) { cfg.Timeout = 100 * time.Millisecond })
	em.Fail(phone, emulator.Failure{Delay: 10 * time.Second})

	begin := time.Now()
	_, err := c.StartVerification(t.Context(), phone, auth.ChannelSMS)
	elapsed := time.Since(begin)

	wantVerifyError(t, err, auth.VerifyUnavailable, 0)
	var netErr net.Error
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &netErr) && netErr.Timeout()) {
		t.Errorf("err = %v, want a deadline or timeout error", err)
	}
	if elapsed > 2*time.Second {
		t.Errorf("StartVerification took %v with a 100ms timeout", elapsed)
	}
}

func TestContextDeadline(t *testing.T) {
	em, srv := newEmulator(t)
	c := newClient(t, srv.URL, nil) // 5s client timeout: the ctx must win
	v, _ := start(t, c, em, phone)
	em.Fail(phone, emulator.Failure{Delay: 10 * time.Second})

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err := c.CheckVerification(ctx, v.SID, "123456")
	if elapsed := time.Since(begin); elapsed > 2*time.Second {
		t.Errorf("CheckVerification took %v with a 100ms deadline", elapsed)
	}
	wantVerifyError(t, err, auth.VerifyUnavailable, 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestCanceledContext(t *testing.T) {
	t.Run("during the call", func(t *testing.T) {
		em, srv := newEmulator(t)
		c := newClient(t, srv.URL, nil)
		em.Fail(phone, emulator.Failure{Delay: 10 * time.Second})

		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		begin := time.Now()
		_, err := c.StartVerification(ctx, phone, auth.ChannelSMS)
		if elapsed := time.Since(begin); elapsed > 2*time.Second {
			t.Errorf("StartVerification took %v after cancel", elapsed)
		}
		wantVerifyError(t, err, auth.VerifyUnavailable, 0)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("before the call", func(t *testing.T) {
		em, srv := newEmulator(t)
		c := newClient(t, srv.URL, nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		_, err := c.StartVerification(ctx, phone, auth.ChannelSMS)
		wantVerifyError(t, err, auth.VerifyUnavailable, 0)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if reqs := em.Requests(); len(reqs) != 0 {
			t.Errorf("requests = %+v, want none", reqs)
		}
	})
}

func TestBadCredentials(t *testing.T) {
	tests := []struct {
		name string
		edit func(*twilioverify.Config)
	}{
		{"wrong token", func(cfg *twilioverify.Config) { cfg.AuthToken = "wrongtoken" }},
		{"wrong account", func(cfg *twilioverify.Config) { cfg.AccountSID = "AC0000000000000000000000000000000b" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newEmulator(t)
			c := newClient(t, srv.URL, tt.edit)
			_, err := c.StartVerification(t.Context(), phone, auth.ChannelSMS)
			wantVerifyError(t, err, auth.VerifyUnavailable, 20003)
			_, err = c.CheckVerification(t.Context(), unknownSID, "123456")
			wantVerifyError(t, err, auth.VerifyUnavailable, 20003)
		})
	}
}

func TestUnknownService(t *testing.T) {
	_, srv := newEmulator(t)
	c := newClient(t, srv.URL, func(cfg *twilioverify.Config) { cfg.ServiceSID = "VAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" })
	// Twilio answers 20404 for a service it does not know too; on start
	// that is a misconfiguration, still reported as its code.
	_, err := c.StartVerification(t.Context(), phone, auth.ChannelSMS)
	wantVerifyError(t, err, auth.VerifyNotFound, 20404)
}

// TestSDKErrorType pins what twilio-go returns for error responses; the
// error mapping depends on it, and v1.30.1 briefly returned another type
// (twilio/twilio-go#320).
func TestSDKErrorType(t *testing.T) {
	em, srv := newEmulator(t)
	u := strings.TrimPrefix(srv.URL, "http://")
	rc := &client.Client{
		Credentials: client.NewCredentials(emulator.DefaultAccountSID, emulator.DefaultAuthToken),
		HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.URL.Scheme, r.URL.Host, r.Host = "http", u, ""
			return http.DefaultTransport.RoundTrip(r)
		})},
	}
	api := verify.NewApiServiceWithClient(rc)
	params := &verify.CreateVerificationCheckParams{}
	params.SetTo(phone).SetCode("123456")

	_, err := api.CreateVerificationCheck(emulator.DefaultServiceSID, params)
	rest, ok := err.(*client.TwilioRestError) // the concrete type, deliberately not errors.As
	if !ok {
		t.Fatalf("CreateVerificationCheck error = %v (%T), want *client.TwilioRestError", err, err)
	}
	if rest.Code != 20404 || rest.Status != 404 || rest.MoreInfo != "https://www.twilio.com/docs/errors/20404" {
		t.Errorf("TwilioRestError = %+v, want code 20404, status 404", rest)
	}

	// An HTML page is a plain error: no code to switch on.
	em.Fail(phone, emulator.Failure{HTML: true, HTTPStatus: 503})
	_, err = api.CreateVerificationCheck(emulator.DefaultServiceSID, params)
	if err == nil || errors.As(err, &rest) {
		t.Errorf("HTML 503 error = %v (%T), want a non-TwilioRestError", err, err)
	}
}

func TestRequestsSent(t *testing.T) {
	em, srv := newEmulator(t)
	c := newClient(t, srv.URL, nil)
	v, code := start(t, c, em, phone)
	if _, err := c.CheckVerification(t.Context(), v.SID, code); err != nil {
		t.Fatalf("CheckVerification: %v", err)
	}
	other, _ := start(t, c, em, "+14155550124")
	if err := c.CancelVerification(t.Context(), other.SID); err != nil {
		t.Fatalf("CancelVerification: %v", err)
	}

	reqs := em.Requests()
	if len(reqs) != 4 {
		t.Fatalf("requests = %+v, want 4", reqs)
	}
	base := "/v2/Services/" + emulator.DefaultServiceSID
	tests := []struct {
		name     string
		got      emulator.Request
		path     string
		wantForm map[string]string
	}{
		{"start", reqs[0], base + "/Verifications", map[string]string{"To": phone, "Channel": "sms"}},
		// By the verification's SID, never by number: the code of this
		// verification, not of whatever else is pending for the number.
		{"check", reqs[1], base + "/VerificationCheck", map[string]string{"VerificationSid": v.SID, "Code": code}},
		{"cancel", reqs[3], base + "/Verifications/" + other.SID, map[string]string{"Status": "canceled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got.Method != http.MethodPost || tt.got.Path != tt.path {
				t.Errorf("request = %s %s, want POST %s", tt.got.Method, tt.got.Path, tt.path)
			}
			if tt.got.User != emulator.DefaultAccountSID {
				t.Errorf("Basic-auth user = %q, want %q", tt.got.User, emulator.DefaultAccountSID)
			}
			if len(tt.got.Form) != len(tt.wantForm) {
				t.Errorf("form = %v, want exactly %v", tt.got.Form, tt.wantForm)
			}
			for k, want := range tt.wantForm {
				if got := tt.got.Form.Get(k); got != want {
					t.Errorf("form %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestConnectionsPooled checks that per-call clients share one transport
// and give their connection back after every kind of answer, even though
// twilio-go leaves error bodies open and stops reading JSON before EOF.
func TestConnectionsPooled(t *testing.T) {
	em := emulator.New(emulator.Options{Now: func() time.Time { return t0 }})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A chunked body with a trailing newline, as a proxy or
		// json.Encoder may send: the SDK's decoder stops before EOF.
		em.ServeHTTP(w, r)
		w.(http.Flusher).Flush()
		w.Write([]byte("\n"))
	}))
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, nil)

	v, code := start(t, c, em, phone)                                                   // 201
	if _, err := c.CheckVerification(t.Context(), v.SID, wrongCode(code)); err != nil { // 200
		t.Fatal(err)
	}
	if _, err := c.CheckVerification(t.Context(), unknownSID, code); err == nil { // 404 JSON
		t.Fatal("check of an unknown verification succeeded")
	}
	em.Fail(phone, emulator.Failure{HTML: true, Times: 1})
	if _, err := c.StartVerification(t.Context(), phone, auth.ChannelSMS); err == nil { // 503 HTML
		t.Fatal("injected 503 succeeded")
	}
	start(t, c, em, phone)
	if n := conns.Load(); n != 1 {
		t.Errorf("connections opened = %d, want 1", n)
	}
}

// TestDefaultHost checks that without APIURL requests go to Twilio, with
// the call's context attached.
func TestDefaultHost(t *testing.T) {
	type ctxKey struct{}
	var got *http.Request
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		body := `{"sid":"VE00000000000000000000000000000000","status":"pending","date_created":"2026-11-25T10:00:00Z"}`
		return &http.Response{
			StatusCode: http.StatusCreated,
			Header:     http.Header{"Content-Type": {"application/json"}},
			Body:       io.NopCloser(strings.NewReader(body)),
			Request:    r,
		}, nil
	})
	c := newClient(t, "", func(cfg *twilioverify.Config) { cfg.Transport = rt })

	ctx := context.WithValue(t.Context(), ctxKey{}, "mark")
	v, err := c.StartVerification(ctx, phone, auth.ChannelSMS)
	if err != nil || v.SID != "VE00000000000000000000000000000000" {
		t.Fatalf("StartVerification = %+v, %v", v, err)
	}
	want := "https://verify.twilio.com/v2/Services/" + emulator.DefaultServiceSID + "/Verifications"
	if got.URL.String() != want {
		t.Errorf("URL = %s, want %s", got.URL, want)
	}
	if got.Context().Value(ctxKey{}) != "mark" {
		t.Errorf("request context does not carry the call's context")
	}
	if user, pass, ok := got.BasicAuth(); !ok || user != emulator.DefaultAccountSID || pass != emulator.DefaultAuthToken {
		t.Errorf("Basic auth = %q, %q, %v", user, pass, ok)
	}
}

// TestLogsKeepSecrets checks the log never carries a code, the auth token
// or a full phone number, on success and on failure.
func TestLogsKeepSecrets(t *testing.T) {
	em, srv := newEmulator(t)
	var buf bytes.Buffer
	c := newClient(t, srv.URL, func(cfg *twilioverify.Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{
			Level: slog.LevelDebug,
			// Timestamps could contain a code's digits by chance.
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey && len(groups) == 0 {
					return slog.Attr{}
				}
				return a
			},
		}))
	})
	v, code := start(t, c, em, phone)
	c.CheckVerification(t.Context(), v.SID, wrongCode(code))
	c.CheckVerification(t.Context(), v.SID, code)
	c.CheckVerification(t.Context(), v.SID, code) // 20404
	em.Fail(phone, emulator.Failure{Code: 60200})
	c.StartVerification(t.Context(), phone, auth.ChannelSMS)

	log := buf.String()
	for _, secret := range []string{code, wrongCode(code), emulator.DefaultAuthToken, phone, strings.TrimPrefix(phone, "+")} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains %q:\n%s", secret, log)
		}
	}
	if !strings.Contains(log, "+1******0123") {
		t.Errorf("log lacks the masked number:\n%s", log)
	}
}

func TestNew(t *testing.T) {
	valid := twilioverify.Config{
		AccountSID: emulator.DefaultAccountSID,
		AuthToken:  "secrettoken123",
		ServiceSID: emulator.DefaultServiceSID,
	}
	tests := []struct {
		name    string
		edit    func(*twilioverify.Config)
		wantErr string // substring; "" means success
	}{
		{"valid", func(*twilioverify.Config) {}, ""},
		{"valid with API URL", func(c *twilioverify.Config) { c.APIURL = "http://127.0.0.1:4010" }, ""},
		{"valid with trailing slash", func(c *twilioverify.Config) { c.APIURL = "https://example.test/" }, ""},
		{"no account SID", func(c *twilioverify.Config) { c.AccountSID = "" }, "TWILIO_ACCOUNT_SID is required"},
		{"no auth token", func(c *twilioverify.Config) { c.AuthToken = "" }, "TWILIO_AUTH_TOKEN is required"},
		{"no service SID", func(c *twilioverify.Config) { c.ServiceSID = "" }, "TWILIO_VERIFY_SID is required"},
		{"account SID not alphanumeric", func(c *twilioverify.Config) { c.AccountSID = "AC-1" }, "TWILIO_ACCOUNT_SID must be alphanumeric"},
		{"auth token not alphanumeric", func(c *twilioverify.Config) { c.AuthToken = "secret token!" }, "TWILIO_AUTH_TOKEN must be alphanumeric"},
		{"service SID not VA", func(c *twilioverify.Config) { c.ServiceSID = "MGaaaa" }, "TWILIO_VERIFY_SID must start with VA"},
		{"API URL not http", func(c *twilioverify.Config) { c.APIURL = "ftp://127.0.0.1" }, "TWILIO_API_URL"},
		{"API URL without host", func(c *twilioverify.Config) { c.APIURL = "http://" }, "TWILIO_API_URL"},
		{"API URL without scheme", func(c *twilioverify.Config) { c.APIURL = "127.0.0.1:4010" }, "TWILIO_API_URL"},
		{"API URL with path", func(c *twilioverify.Config) { c.APIURL = "http://127.0.0.1:4010/twilio" }, "TWILIO_API_URL"},
		{"negative timeout", func(c *twilioverify.Config) { c.Timeout = -time.Second }, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			c, err := twilioverify.New(cfg)
			if tt.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("New = %v, %v, want a client", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New = %v, want error containing %q", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "twilioverify: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if cfg.AuthToken != "" && strings.Contains(err.Error(), cfg.AuthToken) {
				t.Errorf("error %q contains the auth token", err)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestChannels: the channel asked for reaches Twilio as its Channel
// parameter; a re-send through another channel keeps the verification and
// its code; WhatsApp on a service without a WhatsApp sender is Twilio's
// 60223, VerifyChannelUnavailable.
func TestChannels(t *testing.T) {
	em, srv := newEmulator(t)
	c := newClient(t, srv.URL, nil)
	v, code := start(t, c, em, phone)
	again, err := c.StartVerification(t.Context(), phone, auth.ChannelCall)
	if err != nil || again.SID != v.SID {
		t.Fatalf("StartVerification(call) = %+v, %v, want the pending verification %s", again, err, v.SID)
	}
	if got, _ := em.Code(phone); got != code {
		t.Errorf("a call re-send read out %q, want the same code %q", got, code)
	}
	reqs := em.Requests()
	if last := reqs[len(reqs)-1]; last.Form.Get("Channel") != "call" {
		t.Errorf("Channel sent = %q, want call", last.Form.Get("Channel"))
	}
	_, err = c.StartVerification(t.Context(), "+14155550199", auth.ChannelWhatsApp)
	var ve *auth.VerifyError
	if !errors.As(err, &ve) || ve.Kind != auth.VerifyChannelUnavailable || ve.Code != 60223 {
		t.Fatalf("StartVerification(whatsapp, no sender) = %v, want VerifyChannelUnavailable 60223", err)
	}

	withSender := emulator.New(emulator.Options{WhatsApp: true})
	srv2 := httptest.NewServer(withSender)
	defer srv2.Close()
	if _, err := newClient(t, srv2.URL, nil).StartVerification(t.Context(), phone, auth.ChannelWhatsApp); err != nil {
		t.Errorf("StartVerification(whatsapp, with a sender) = %v", err)
	}
}

// TestObserve checks what metrics are told of each request: its operation
// and its error, classified; a malformed code is neither sent nor told.
func TestObserve(t *testing.T) {
	type call struct {
		op   string
		kind string // "" for no error
	}
	var (
		mu    sync.Mutex
		calls []call
	)
	em, srv := newEmulator(t)
	c := newClient(t, srv.URL, func(cfg *twilioverify.Config) {
		cfg.Observe = func(op string, d time.Duration, err error) {
			if d < 0 {
				t.Errorf("Observe(%s) with duration %v, want it not negative", op, d)
			}
			k := ""
			if err != nil {
				var ve *auth.VerifyError
				if !errors.As(err, &ve) {
					t.Errorf("Observe(%s) with %T, want *auth.VerifyError", op, err)
				}
				k = ve.Kind.String()
			}
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, call{op, k})
		}
	})
	v, code := start(t, c, em, phone)
	_, _ = c.CheckVerification(t.Context(), v.SID, wrongCode(code))
	_, _ = c.CheckVerification(t.Context(), v.SID, "12") // malformed: not sent
	_ = c.CancelVerification(t.Context(), v.SID)
	if err := c.CancelVerification(t.Context(), v.SID); err != nil {
		t.Fatalf("CancelVerification(gone) = %v, want nil", err)
	}
	em.Fail(phone, emulator.Failure{HTTPStatus: 500})
	_, _ = c.StartVerification(t.Context(), phone, auth.ChannelSMS)

	want := []call{{"start", ""}, {"check", ""}, {"cancel", ""}, {"cancel", "not found"}, {"start", "unavailable"}}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != len(want) {
		t.Fatalf("Observe calls = %v, want %v", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Errorf("Observe call %d = %v, want %v", i, calls[i], want[i])
		}
	}
}

// TestFailureLogLevel: a person's limit (five wrong codes, too many sends)
// is a warning; an outage or a refused credential is an error.
func TestFailureLogLevel(t *testing.T) {
	for _, tt := range []struct {
		code int
		want string
	}{{60202, "level=WARN"}, {60203, "level=WARN"}, {20003, "level=ERROR"}} {
		var logs strings.Builder
		em, srv := newEmulator(t)
		c := newClient(t, srv.URL, func(cfg *twilioverify.Config) { cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
		start(t, c, em, phone)
		em.Fail(phone, emulator.Failure{Code: tt.code})
		_, _ = c.StartVerification(t.Context(), phone, auth.ChannelSMS)
		if line := logs.String(); !strings.Contains(line, "request failed") || !strings.Contains(line, tt.want) {
			t.Errorf("Twilio %d logged %q, want %s", tt.code, line, tt.want)
		}
	}
}
