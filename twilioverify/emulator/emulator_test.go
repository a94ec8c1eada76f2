package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twostep/twostep/twilioverify/emulator"
)

const phone = "+14155550123"

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

var base = "/v2/Services/" + emulator.DefaultServiceSID

// newServer serves an emulator with a fixed clock on loopback.
func newServer(tb testing.TB, opts emulator.Options) (*emulator.Emulator, *httptest.Server) {
	tb.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return t0 }
	}
	opts.Logger = slog.New(slog.NewTextHandler(tb.Output(), nil))
	em := emulator.New(opts)
	srv := httptest.NewServer(em)
	tb.Cleanup(srv.Close)
	return em, srv
}

type response struct {
	status int
	header http.Header
	body   map[string]any
}

// do sends a request with the default credentials (unless auth is false)
// and decodes the JSON object it answers.
func do(tb testing.TB, srv *httptest.Server, method, path string, form url.Values, auth bool) response {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), method, srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth {
		req.SetBasicAuth(emulator.DefaultAccountSID, emulator.DefaultAuthToken)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		tb.Fatalf("%s %s: decode body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

func post(tb testing.TB, srv *httptest.Server, path string, form url.Values) response {
	tb.Helper()
	return do(tb, srv, http.MethodPost, path, form, true)
}

func create(tb testing.TB, srv *httptest.Server, to string) response {
	tb.Helper()
	r := post(tb, srv, base+"/Verifications", url.Values{"To": {to}, "Channel": {"sms"}})
	if r.status != http.StatusCreated {
		tb.Fatalf("create(%q) = %d %v, want 201", to, r.status, r.body)
	}
	return r
}

func keys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// wantError fails unless r is Twilio's error body for code at status.
func wantError(tb testing.TB, r response, status, code int, message string) {
	tb.Helper()
	want := map[string]any{
		"code":      float64(code),
		"status":    float64(status),
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
	}
	if message != "" {
		want["message"] = message
	} else if m, ok := r.body["message"].(string); ok && m != "" {
		want["message"] = m
	}
	if r.status != status || !maps.Equal(r.body, want) {
		tb.Errorf("response = %d %v, want %d %v", r.status, r.body, status, want)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Content-Type = %q, want JSON", ct)
	}
}

func TestVerificationResource(t *testing.T) {
	em, srv := newServer(t, emulator.Options{})
	first := create(t, srv, phone)

	wantKeys := []string{"account_sid", "amount", "channel", "date_created", "date_updated", "lookup", "payee",
		"send_code_attempts", "service_sid", "sid", "sna", "status", "to", "url", "valid"}
	if got := keys(first.body); !slices.Equal(got, wantKeys) {
		t.Errorf("verification keys = %v, want %v", got, wantKeys)
	}
	sid, _ := first.body["sid"].(string)
	if !regexp.MustCompile(`^VE[0-9a-f]{32}$`).MatchString(sid) {
		t.Errorf("sid = %q, want VE + 32 hex digits", sid)
	}
	for k, want := range map[string]any{
		"account_sid":  emulator.DefaultAccountSID,
		"service_sid":  emulator.DefaultServiceSID,
		"to":           phone,
		"channel":      "sms",
		"status":       "pending",
		"valid":        false,
		"date_created": "2026-11-25T10:00:00Z",
		"date_updated": "2026-11-25T10:00:00Z",
		"url":          "https://verify.twilio.com" + base + "/Verifications/" + sid,
	} {
		if got := first.body[k]; got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}

	em.Advance(time.Minute)
	second := create(t, srv, phone)
	if second.body["sid"] != sid || second.body["date_created"] != "2026-11-25T10:00:00Z" ||
		second.body["date_updated"] != "2026-11-25T10:01:00Z" {
		t.Errorf("re-send = %v, want same sid, created 10:00, updated 10:01", second.body)
	}
	if attempts, _ := second.body["send_code_attempts"].([]any); len(attempts) != 2 {
		t.Errorf("send_code_attempts = %v, want 2", second.body["send_code_attempts"])
	}

	fetched := do(t, srv, http.MethodGet, base+"/Verifications/"+sid, nil, true)
	if fetched.status != http.StatusOK || fetched.body["sid"] != sid || fetched.body["status"] != "pending" {
		t.Errorf("fetch = %d %v, want 200 pending %s", fetched.status, fetched.body, sid)
	}
}

func TestVerificationCheckResource(t *testing.T) {
	em, srv := newServer(t, emulator.Options{NewCode: func(string) string { return "424242" }})
	sid := create(t, srv, phone).body["sid"]

	wrong := post(t, srv, base+"/VerificationCheck", url.Values{"To": {phone}, "Code": {"000000"}})
	wantKeys := []string{"account_sid", "amount", "channel", "date_created", "date_updated", "payee",
		"service_sid", "sid", "sna", "sna_attempts_error_codes", "status", "to", "valid"}
	if got := keys(wrong.body); !slices.Equal(got, wantKeys) {
		t.Errorf("check keys = %v, want %v", got, wantKeys)
	}
	if wrong.status != http.StatusOK || wrong.body["status"] != "pending" || wrong.body["valid"] != false {
		t.Errorf("wrong code = %d %v, want 200 pending, valid false", wrong.status, wrong.body)
	}

	em.Advance(time.Minute)
	right := post(t, srv, base+"/VerificationCheck", url.Values{"VerificationSid": {sid.(string)}, "Code": {"424242"}})
	if right.status != http.StatusOK || right.body["status"] != "approved" || right.body["valid"] != true ||
		right.body["sid"] != sid || right.body["date_updated"] != "2026-11-25T10:01:00Z" {
		t.Errorf("right code by VerificationSid = %d %v, want 200 approved", right.status, right.body)
	}

	again := post(t, srv, base+"/VerificationCheck", url.Values{"To": {phone}, "Code": {"424242"}})
	wantError(t, again, http.StatusNotFound, 20404, "")
	gone := do(t, srv, http.MethodGet, base+"/Verifications/"+sid.(string), nil, true)
	wantError(t, gone, http.StatusNotFound, 20404, "")
}

func TestErrors(t *testing.T) {
	verifications := base + "/Verifications"
	check := base + "/VerificationCheck"
	tests := []struct {
		name       string
		method     string
		path       string
		form       url.Values
		noAuth     bool
		wantStatus int
		wantCode   int
		wantMsg    string
	}{
		{"no credentials", "POST", verifications, url.Values{"To": {phone}, "Channel": {"sms"}}, true, 401, 20003, "Authenticate"},
		{"no credentials on unknown path", "GET", "/v2/Nothing", nil, true, 401, 20003, "Authenticate"},
		{"unknown service", "POST", "/v2/Services/VAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/Verifications", url.Values{"To": {phone}, "Channel": {"sms"}}, false, 404, 20404, ""},
		{"unknown path", "GET", "/v2/Services", nil, false, 404, 20404, ""},
		{"missing To", "POST", verifications, url.Values{"Channel": {"sms"}}, false, 400, 60200, "Invalid parameter: To"},
		{"To without plus", "POST", verifications, url.Values{"To": {"14155550123"}, "Channel": {"sms"}}, false, 400, 60200, "Invalid parameter: To"},
		{"To with leading zero", "POST", verifications, url.Values{"To": {"+04155550123"}, "Channel": {"sms"}}, false, 400, 60200, "Invalid parameter: To"},
		{"To too long", "POST", verifications, url.Values{"To": {"+1234567890123456"}, "Channel": {"sms"}}, false, 400, 60200, "Invalid parameter: To"},
		{"phone To for email", "POST", verifications, url.Values{"To": {phone}, "Channel": {"email"}}, false, 400, 60200, "Invalid parameter: To"},
		{"missing Channel", "POST", verifications, url.Values{"To": {phone}}, false, 400, 60200, "Invalid parameter: Channel"},
		{"unknown Channel", "POST", verifications, url.Values{"To": {phone}, "Channel": {"fax"}}, false, 400, 60200, "Invalid parameter: Channel"},
		{"check without To or VerificationSid", "POST", check, url.Values{"Code": {"123456"}}, false, 400, 60221, ""},
		{"check code too short", "POST", check, url.Values{"To": {phone}, "Code": {"123"}}, false, 400, 60200, "Invalid parameter: Code"},
		{"check code too long", "POST", check, url.Values{"To": {phone}, "Code": {"12345678901"}}, false, 400, 60200, "Invalid parameter: Code"},
		{"check code not digits", "POST", check, url.Values{"To": {phone}, "Code": {"12ab56"}}, false, 400, 60200, "Invalid parameter: Code"},
		{"check nothing pending", "POST", check, url.Values{"To": {phone}, "Code": {"123456"}}, false, 404, 20404, ""},
		{"check unknown VerificationSid", "POST", check, url.Values{"VerificationSid": {"VE00000000000000000000000000000000"}, "Code": {"123456"}}, false, 404, 20404, ""},
		{"fetch unknown", "GET", verifications + "/VE00000000000000000000000000000000", nil, false, 404, 20404, ""},
		{"update unknown", "POST", verifications + "/VE00000000000000000000000000000000", url.Values{"Status": {"canceled"}}, false, 404, 20404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newServer(t, emulator.Options{})
			r := do(t, srv, tt.method, tt.path, tt.form, !tt.noAuth)
			wantError(t, r, tt.wantStatus, tt.wantCode, tt.wantMsg)
			if tt.wantCode == 20003 && r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
}

func TestWrongPassword(t *testing.T) {
	_, srv := newServer(t, emulator.Options{})
	req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL+base+"/Verifications",
		strings.NewReader(url.Values{"To": {phone}, "Channel": {"sms"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(emulator.DefaultAccountSID, "wrong")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", resp.StatusCode)
	}
}

func TestLimits(t *testing.T) {
	t.Run("sixth send", func(t *testing.T) {
		_, srv := newServer(t, emulator.Options{})
		for range 5 {
			create(t, srv, phone)
		}
		r := post(t, srv, base+"/Verifications", url.Values{"To": {phone}, "Channel": {"sms"}})
		wantError(t, r, http.StatusTooManyRequests, 60203, "")
	})
	t.Run("sixth check", func(t *testing.T) {
		_, srv := newServer(t, emulator.Options{NewCode: func(string) string { return "424242" }})
		create(t, srv, phone)
		form := url.Values{"To": {phone}, "Code": {"000000"}}
		for range 5 {
			if r := post(t, srv, base+"/VerificationCheck", form); r.status != http.StatusOK {
				t.Fatalf("check = %d %v, want 200", r.status, r.body)
			}
		}
		wantError(t, post(t, srv, base+"/VerificationCheck", form), http.StatusTooManyRequests, 60202, "")
		form.Set("Code", "424242")
		wantError(t, post(t, srv, base+"/VerificationCheck", form), http.StatusNotFound, 20404, "")
	})
	t.Run("send after five checks starts a new verification", func(t *testing.T) {
		_, srv := newServer(t, emulator.Options{})
		sid := create(t, srv, phone).body["sid"]
		for range 5 {
			post(t, srv, base+"/VerificationCheck", url.Values{"To": {phone}, "Code": {"0000"}})
		}
		if again := create(t, srv, phone).body["sid"]; again == sid {
			t.Errorf("send after max checks reused %v", sid)
		}
		if r := post(t, srv, base+"/VerificationCheck", url.Values{"To": {phone}, "Code": {"0000"}}); r.status != http.StatusOK {
			t.Errorf("check of the new verification = %d %v, want 200", r.status, r.body)
		}
	})
	t.Run("expiry starts a new verification", func(t *testing.T) {
		em, srv := newServer(t, emulator.Options{})
		sid := create(t, srv, phone).body["sid"]
		em.Advance(10 * time.Minute)
		if again := create(t, srv, phone).body["sid"]; again == sid {
			t.Errorf("send after expiry reused %v", sid)
		}
	})
}

func TestUpdate(t *testing.T) {
	tests := []struct {
		status string
		want   int
	}{
		{"canceled", http.StatusOK},
		{"approved", http.StatusOK},
		{"pending", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			_, srv := newServer(t, emulator.Options{})
			sid := create(t, srv, phone).body["sid"].(string)
			r := post(t, srv, base+"/Verifications/"+sid, url.Values{"Status": {tt.status}})
			if tt.want != http.StatusOK {
				wantError(t, r, tt.want, 60200, "Invalid parameter: Status")
				return
			}
			if r.status != tt.want || r.body["status"] != tt.status {
				t.Errorf("update(%s) = %d %v", tt.status, r.status, r.body)
			}
			check := post(t, srv, base+"/VerificationCheck", url.Values{"To": {phone}, "Code": {"123456"}})
			wantError(t, check, http.StatusNotFound, 20404, "")
		})
	}
}

func TestEmailChannel(t *testing.T) {
	_, srv := newServer(t, emulator.Options{})
	r := post(t, srv, base+"/Verifications", url.Values{"To": {"ada@example.com"}, "Channel": {"email"}})
	if r.status != http.StatusCreated || r.body["channel"] != "email" {
		t.Errorf("email verification = %d %v, want 201", r.status, r.body)
	}
}

func TestCodes(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	em, srv := newServer(t, emulator.Options{
		CodeLength: 8,
		OnSend: func(to, code, _ string) {
			mu.Lock()
			defer mu.Unlock()
			sent = append(sent, to+" "+code)
		},
	})
	create(t, srv, phone)
	create(t, srv, phone)

	code, ok := em.Code(phone)
	if !ok || !regexp.MustCompile(`^\d{8}$`).MatchString(code) {
		t.Fatalf("Code(%q) = %q, %v, want 8 digits", phone, code, ok)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{phone + " " + code, phone + " " + code}; !slices.Equal(sent, want) {
		t.Errorf("OnSend calls = %v, want %v", sent, want)
	}
	if _, ok := em.Code("+14155550199"); ok {
		t.Errorf("Code(unknown number) found a code")
	}
}

func TestFailures(t *testing.T) {
	em, srv := newServer(t, emulator.Options{})
	em.Fail(phone, emulator.Failure{Code: 60410, Times: 2})
	em.Fail("+14155550199", emulator.Failure{Code: 60605})

	for range 2 {
		r := post(t, srv, base+"/Verifications", url.Values{"To": {phone}, "Channel": {"sms"}})
		wantError(t, r, http.StatusForbidden, 60410, "")
	}
	create(t, srv, phone) // used up

	r := post(t, srv, base+"/Verifications", url.Values{"To": {"+14155550199"}, "Channel": {"sms"}})
	wantError(t, r, http.StatusForbidden, 60605, "")
	em.ClearFailures()
	create(t, srv, "+14155550199")
}

func TestFailureHTML(t *testing.T) {
	em, srv := newServer(t, emulator.Options{})
	em.Fail(phone, emulator.Failure{HTML: true})
	req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL+base+"/Verifications",
		strings.NewReader(url.Values{"To": {phone}, "Channel": {"sms"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(emulator.DefaultAccountSID, emulator.DefaultAuthToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(string(body), "<html>") {
		t.Errorf("HTML failure = %d %q, want 503 and an HTML page", resp.StatusCode, body)
	}
}

func TestFailureDelayHonorsClient(t *testing.T) {
	em, srv := newServer(t, emulator.Options{})
	em.Fail(phone, emulator.Failure{Delay: 10 * time.Second, Code: 20429})

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+base+"/Verifications",
		strings.NewReader(url.Values{"To": {phone}, "Channel": {"sms"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(emulator.DefaultAccountSID, emulator.DefaultAuthToken)
	if resp, err := srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("request answered %d before the client's deadline", resp.StatusCode)
	}
	// Close waits for handlers: it returns quickly only if the delay
	// stopped when the client left.
	begin := time.Now()
	srv.Close()
	if elapsed := time.Since(begin); elapsed > 2*time.Second {
		t.Errorf("handler kept waiting %v after the client left", elapsed)
	}
}

func TestInspection(t *testing.T) {
	em, srv := newServer(t, emulator.Options{NewCode: func(string) string { return "424242" }})
	sid := create(t, srv, phone).body["sid"]
	em.ResetRequests()

	get := func(path string) response {
		t.Helper()
		return do(t, srv, http.MethodGet, path, nil, false)
	}
	t.Run("code", func(t *testing.T) {
		for _, q := range []string{"%2B14155550123", "+14155550123"} {
			r := get("/_emulator/code?to=" + q)
			want := map[string]any{"to": phone, "code": "424242", "sid": sid}
			if r.status != http.StatusOK || !maps.Equal(r.body, want) {
				t.Errorf("GET /_emulator/code?to=%s = %d %v, want 200 %v", q, r.status, r.body, want)
			}
		}
		if r := get("/_emulator/code?to=%2B14155550199"); r.status != http.StatusNotFound || r.body["error"] == nil {
			t.Errorf("code for unknown number = %d %v, want 404 with an error", r.status, r.body)
		}
	})
	t.Run("requests", func(t *testing.T) {
		post(t, srv, base+"/VerificationCheck", url.Values{"To": {phone}, "Code": {"000000"}})
		resp, err := srv.Client().Get(srv.URL + "/_emulator/requests")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got []emulator.Request
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		want := emulator.Request{Method: "POST", Path: base + "/VerificationCheck",
			Form: url.Values{"To": {phone}, "Code": {"000000"}}, User: emulator.DefaultAccountSID}
		if len(got) != 1 || got[0].Method != want.Method || got[0].Path != want.Path || got[0].User != want.User ||
			got[0].Form.Encode() != want.Form.Encode() {
			t.Errorf("GET /_emulator/requests = %+v, want [%+v] (inspection requests not logged)", got, want)
		}
	})
	t.Run("advance", func(t *testing.T) {
		if r := do(t, srv, http.MethodPost, "/_emulator/advance?d=nonsense", nil, false); r.status != http.StatusBadRequest {
			t.Errorf("advance by nonsense = %d, want 400", r.status)
		}
		r := do(t, srv, http.MethodPost, "/_emulator/advance?d=11m", nil, false)
		if r.status != http.StatusOK || r.body["now"] != "2026-11-25T10:11:00Z" {
			t.Errorf("advance = %d %v, want 200 now 10:11", r.status, r.body)
		}
		check := post(t, srv, base+"/VerificationCheck", url.Values{"To": {phone}, "Code": {"424242"}})
		wantError(t, check, http.StatusNotFound, 20404, "")
	})
}

// TestConcurrentUse is for the race detector.
func TestConcurrentUse(t *testing.T) {
	em, srv := newServer(t, emulator.Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		to := fmt.Sprintf("+1415555%04d", i)
		wg.Go(func() {
			create(t, srv, to)
			code, _ := em.Code(to)
			post(t, srv, base+"/VerificationCheck", url.Values{"To": {to}, "Code": {code}})
		})
		wg.Go(func() { em.Requests(); em.Advance(time.Second); em.Fail(to, emulator.Failure{Times: 1}) })
	}
	wg.Wait()
}

// TestState: a pending verification and the number's sends survive
// MarshalState and RestoreState into a new emulator: the same code still
// works there.
func TestState(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := emulator.New(emulator.Options{Now: clock})
	srvA := httptest.NewServer(a)
	defer srvA.Close()
	const to = "+14155550123"
	create(t, srvA, to)
	code, _ := a.Code(to)
	b, err := a.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	z := emulator.New(emulator.Options{Now: clock})
	if err := z.RestoreState(b); err != nil {
		t.Fatal(err)
	}
	srvZ := httptest.NewServer(z)
	defer srvZ.Close()
	if got, ok := z.Code(to); !ok || got != code {
		t.Fatalf("Code() after restore = %q, %v, want %q", got, ok, code)
	}
	r := post(t, srvZ, base+"/VerificationCheck", url.Values{"To": {to}, "Code": {code}})
	if r.status != http.StatusOK || r.body["status"] != "approved" {
		t.Errorf("check after restore = %d %v, want approved", r.status, r.body)
	}
	if err := z.RestoreState([]byte("not json")); err == nil {
		t.Errorf("RestoreState(garbage) = nil error")
	}
}
