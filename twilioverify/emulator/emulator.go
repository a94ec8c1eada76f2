// Package emulator is a local Twilio Verify v2 service: an http.Handler that
// answers the official twilio-go client the way Twilio does (routes, Basic
// auth, form parameters, JSON bodies, error codes, the 10-minute lifetime,
// the send and check limits), so that twostep can be developed and tested
// end to end without Twilio.
//
// Tests drive it through methods (Code, Requests, Fail, Advance); humans and
// browser tests through /_emulator/ endpoints on the same handler. Those
// endpoints are unauthenticated: serve the emulator on loopback only.
package emulator

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Credentials that work out of the box. SIDs are 34 alphanumeric
// characters like Twilio's; twilio-go refuses anything not alphanumeric.
const (
	DefaultAccountSID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	DefaultAuthToken  = "emulatorauthtoken0000000000000000"
	DefaultServiceSID = "VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

// Twilio's limits, as documented for Verify v2.
const (
	verificationTTL = 10 * time.Minute // a verification's lifetime
	sendWindow      = 10 * time.Minute // window of the send limit
	maxSends        = 5                // sends per To in sendWindow
	maxChecks       = 5                // checks per verification
)

// Options configures an Emulator. The zero value is usable.
type Options struct {
	AccountSID string // default DefaultAccountSID
	AuthToken  string // default DefaultAuthToken
	ServiceSID string // default DefaultServiceSID; other VA… SIDs answer 404

	// Now is the emulator's clock; default time.Now. Advance moves it
	// forward either way.
	Now func() time.Time

	// CodeLength is the number of digits of generated codes, 4–10;
	// default 6.
	CodeLength int
	// NewCode returns the code for a new verification to to; default
	// CodeLength random digits. It runs under the emulator's lock and must
	// not call the Emulator's methods.
	NewCode func(to string) string
	// OnSend is called after each send, re-sends included, with the code
	// "delivered" and the channel it went through (sms, call, whatsapp,
	// email). It runs outside the emulator's lock.
	OnSend func(to, code, channel string)

	Logger *slog.Logger // default: discard

	// WhatsApp gives the service a WhatsApp sender. Without one, as on a
	// new Twilio service, Channel=whatsapp answers 60223.
	WhatsApp bool

	// MaxSends is how many sends one number gets in 10 minutes; default
	// Twilio's 5. twostep's development server raises it with its own
	// per-number limits.
	MaxSends int
}

// Request is one /v2 request as the emulator received it.
type Request struct {
	Method string     `json:"method"`
	Path   string     `json:"path"`
	Form   url.Values `json:"form"` // query and form body
	User   string     `json:"user"` // Basic-auth user, "" if none
}

// Failure makes the emulator answer requests about one number with an
// error instead of normally.
type Failure struct {
	// Code is a Twilio error code; the HTTP status and message come from
	// Twilio's table unless HTTPStatus is set. With Code 0 and HTML false,
	// a non-zero HTTPStatus answers Twilio's generic 20500 JSON error.
	Code       int
	HTTPStatus int
	// HTML answers with an HTML page (a proxy's 5xx), status HTTPStatus or
	// 503, which twilio-go cannot decode.
	HTML bool
	// Delay is waited before answering, or until the client gives up. A
	// Failure with only a Delay answers normally afterwards.
	Delay time.Duration
	// RetryAfter, if set, is sent as a Retry-After header in whole seconds.
	RetryAfter time.Duration
	// Times is how many requests fail; 0 means until ClearFailures.
	Times int
}

// Emulator is a Twilio Verify v2 service. It is an http.Handler; its methods
// are safe for concurrent use.
type Emulator struct {
	accountSID string
	authToken  string
	serviceSID string
	clock      func() time.Time
	codeLength int
	newCode    func(to string) string
	onSend     func(to, code, channel string)
	whatsApp   bool
	maxSends   int
	log        *slog.Logger
	mux        *http.ServeMux

	mu       sync.Mutex
	offset   time.Duration            // added by Advance
	pending  map[string]*verification // by To; approved, canceled and exhausted ones are deleted
	sends    map[string][]time.Time   // by To, within sendWindow
	lastSent map[string]sentCode      // by To
	failures map[string]*failure      // by To
	requests []Request
}

type verification struct {
	sid, to, channel, code string
	created, updated       time.Time
	checks                 int
	attempts               []attempt
}

type attempt struct {
	sid, channel string
	at           time.Time
}

type sentCode struct{ code, sid string }

type failure struct {
	Failure
	left int // requests still to fail; ignored when Times is 0
}

// New returns an Emulator. It panics if opts.CodeLength is set outside
// 4–10, a programming error.
func New(opts Options) *Emulator {
	e := &Emulator{
		accountSID: cmp.Or(opts.AccountSID, DefaultAccountSID),
		authToken:  cmp.Or(opts.AuthToken, DefaultAuthToken),
		serviceSID: cmp.Or(opts.ServiceSID, DefaultServiceSID),
		clock:      opts.Now,
		codeLength: opts.CodeLength,
		newCode:    opts.NewCode,
		log:        opts.Logger,
		pending:    make(map[string]*verification),
		sends:      make(map[string][]time.Time),
		lastSent:   make(map[string]sentCode),
		failures:   make(map[string]*failure),
	}
	if e.clock == nil {
		e.clock = time.Now
	}
	if e.codeLength == 0 {
		e.codeLength = 6
	}
	if e.codeLength < 4 || e.codeLength > 10 {
		panic("emulator: CodeLength must be between 4 and 10")
	}
	if e.newCode == nil {
		e.newCode = func(string) string { return randomDigits(e.codeLength) }
	}
	e.onSend = opts.OnSend
	e.whatsApp = opts.WhatsApp
	e.maxSends = cmp.Or(opts.MaxSends, maxSends)
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}

	v2 := http.NewServeMux()
	v2.HandleFunc("POST /v2/Services/{service}/Verifications", e.create)
	v2.HandleFunc("POST /v2/Services/{service}/VerificationCheck", e.check)
	v2.HandleFunc("GET /v2/Services/{service}/Verifications/{sid}", e.fetch)
	v2.HandleFunc("POST /v2/Services/{service}/Verifications/{sid}", e.update)
	v2.HandleFunc("/", notFound)

	e.mux = http.NewServeMux()
	e.mux.Handle("/v2/", e.authenticate(v2))
	e.mux.HandleFunc("GET /_emulator/code", e.inspectCode)
	e.mux.HandleFunc("GET /_emulator/requests", e.inspectRequests)
	e.mux.HandleFunc("POST /_emulator/advance", e.inspectAdvance)
	e.mux.HandleFunc("/", notFound)
	return e
}

// ServeHTTP serves the Verify v2 API under /v2/ and the inspection
// endpoints under /_emulator/.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mux.ServeHTTP(w, r)
}

// Code returns the last code sent to the number to, and whether one was.
// It stays readable after the verification is approved or expires.
func (e *Emulator) Code(to string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.lastSent[to]
	return s.code, ok
}

// Requests returns a copy of the /v2 requests received so far, oldest
// first, including the ones refused.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Request, len(e.requests))
	for i, r := range e.requests {
		r.Form = cloneValues(r.Form)
		out[i] = r
	}
	return out
}

// ResetRequests forgets the requests received so far.
func (e *Emulator) ResetRequests() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests = nil
}

// Fail makes requests about the number to (create, check, fetch, update)
// answer f, after Basic auth and the service SID are checked. It replaces
// any previous Failure for to.
func (e *Emulator) Fail(to string, f Failure) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failures[to] = &failure{Failure: f, left: f.Times}
}

// ClearFailures removes every Failure.
func (e *Emulator) ClearFailures() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.failures)
}

// Advance moves the emulator's clock forward by d, whatever Options.Now is.
func (e *Emulator) Advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.offset += d
}

// Now returns the emulator's current time.
func (e *Emulator) Now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.nowLocked()
}

func (e *Emulator) nowLocked() time.Time { return e.clock().Add(e.offset) }

// takeFailure returns the Failure for to, counting one use.
func (e *Emulator) takeFailure(to string) (Failure, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, ok := e.failures[to]
	if !ok || to == "" {
		return Failure{}, false
	}
	if f.Times > 0 {
		f.left--
		if f.left <= 0 {
			delete(e.failures, to)
		}
	}
	return f.Failure, true
}

// pendingLocked returns the live verification for to, dropping it if it
// has expired.
func (e *Emulator) pendingLocked(to string, now time.Time) *verification {
	v := e.pending[to]
	if v != nil && !now.Before(v.created.Add(verificationTTL)) {
		delete(e.pending, to)
		return nil
	}
	return v
}

// bySIDLocked is pendingLocked by verification SID.
func (e *Emulator) bySIDLocked(sid string, now time.Time) *verification {
	for to, v := range e.pending {
		if v.sid == sid {
			return e.pendingLocked(to, now)
		}
	}
	return nil
}

func (e *Emulator) record(r Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests = append(e.requests, r)
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// newSID returns a Twilio-style SID: a two-letter prefix and 32 hex digits.
func newSID(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b) // never fails since Go 1.24
	return prefix + hex.EncodeToString(b)
}

func randomDigits(n int) string {
	var b strings.Builder
	ten := big.NewInt(10)
	for range n {
		d, _ := rand.Int(rand.Reader, ten) // cannot fail with crypto/rand's Reader
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

// maskPhone hides all but the first digit and the last four of an E.164
// number (+14155554567 → +1******4567). A copy of twilioverify's, so that
// the emulator stands alone.
func maskPhone(e164 string) string {
	digits, ok := strings.CutPrefix(e164, "+")
	if !ok || len(digits) < 6 || strings.Trim(digits, "0123456789") != "" {
		return strings.Repeat("*", len(e164))
	}
	return "+" + digits[:1] + strings.Repeat("*", len(digits)-5) + digits[len(digits)-4:]
}
