// Package authtest wires an auth.Service for unit tests: the in-memory
// store, a fake one-time-code provider that keeps Twilio Verify's rules, a
// clock that moves only when told, and a hash limiter that counts bcrypt
// operations. Tests of auth and of the layers above it (graph) use it, so
// none of them needs a database, the network or sleeps.
package authtest

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/store"
	"github.com/twostep/twostep/store/memstore"
)

// Password is a password every rule accepts.
const Password = "correct horse battery staple"

// Secret is the HS256 key of the tokens New makes.
const Secret = "authtest-secret-authtest-secret!!!"

// RefreshSecret is the key of the refresh tokens New makes.
const RefreshSecret = "authtest-refresh-secret-authtest-refresh!"

// Clock is a time source that moves only when told. It is safe for
// concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Hashes is an auth.HashLimiter that runs every hash and counts them. Busy
// reports what SetBusy said.
type Hashes struct {
	n    atomic.Int64
	busy atomic.Bool
}

// Do runs fn and counts it.
func (h *Hashes) Do(ctx context.Context, fn func()) error {
	h.n.Add(1)
	fn()
	return nil
}

// Busy reports what SetBusy last said.
func (h *Hashes) Busy() bool { return h.busy.Load() }

// SetBusy sets what Busy reports; Do runs fn either way.
func (h *Hashes) SetBusy(b bool) { h.busy.Store(b) }

// Count returns the bcrypt operations run so far.
func (h *Hashes) Count() int64 { return h.n.Load() }

// Options adjust New. The zero value gives default limits, bcrypt at its
// minimum cost and a fresh in-memory store.
type Options struct {
	Limits  *auth.Limits
	Cost    int         // default bcrypt.MinCost
	Store   store.Store // default memstore.New()
	Region  string      // default region for national numbers, default US
	Allowed []int       // SMS calling codes; nil: all
	Logger  *slog.Logger
	// Session lifetimes; zero fields take auth's defaults.
	SessionIdle, SessionMaxAge, ReuseInterval time.Duration
	TestNumbers                               auth.TestNumbers
	UnconfirmedTTL                            time.Duration // as auth.Options
}

// Env is an auth.Service and the fakes behind it.
type Env struct {
	Svc    *auth.Service
	Store  store.Store
	OTP    *OTP
	Clock  *Clock
	Hashes *Hashes
	Tokens *auth.Tokens
}

// Start is where every Env's clock starts.
var Start = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// LegacyTokensBefore is when sessions began for every Env: tokens without
// sid issued in the clock's first minute are from before sessions.
var LegacyTokensBefore = Start.Add(time.Minute)

// New returns an Env. It fails tb if the service cannot be built.
func New(tb testing.TB, o Options) *Env {
	tb.Helper()
	e := &Env{Store: o.Store, Clock: NewClock(Start), Hashes: &Hashes{}}
	if e.Store == nil {
		e.Store = memstore.New()
	}
	e.OTP = NewOTP(e.Clock.Now)
	e.Svc = e.Service(tb, e.Store, o)
	return e
}

// Service returns another auth.Service on e's fakes and clock over st: a
// replica when st is e.Store, or one with other options.
func (e *Env) Service(tb testing.TB, st store.Store, o Options) *auth.Service {
	tb.Helper()
	if o.Cost == 0 {
		o.Cost = bcrypt.MinCost
	}
	if o.Region == "" {
		o.Region = "US"
	}
	tokens, err := auth.HS256Tokens([]byte(Secret), "twostep", "twostep", time.Hour, e.Clock.Now)
	if err != nil {
		tb.Fatal(err)
	}
	e.Tokens = tokens
	phones, err := input.NewPhones(o.Region, o.Allowed)
	if err != nil {
		tb.Fatal(err)
	}
	svc, err := auth.New(auth.Options{
		Store:       st,
		OTP:         e.OTP,
		Tokens:      tokens,
		Phones:      phones,
		BcryptCost:  o.Cost,
		HashLimiter: e.Hashes,
		Limits:      o.Limits,
		Now:         e.Clock.Now,
		Logger:      o.Logger,
		Sessions: auth.SessionConfig{Secret: []byte(RefreshSecret), IdleTimeout: o.SessionIdle, MaxAge: o.SessionMaxAge, ReuseInterval: o.ReuseInterval,
			LegacyTokensBefore: LegacyTokensBefore},
		TestNumbers:    o.TestNumbers,
		UnconfirmedTTL: o.UnconfirmedTTL,
		Observer:       limitNames{tb},
		// The fake provider answers at once; so do checks nobody makes.
		ProviderCheckTime: time.Microsecond,
		SyncEvents:        true, // a test reads an event right after its request
		RequestInfo:       requestInfo,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}

var phoneSeq atomic.Int64

// NextPhone returns a valid US mobile-style number no other call returned.
func NextPhone() string { return fmt.Sprintf("+1415555%04d", phoneSeq.Add(1)%10000) }

// WrongCode returns a code of the same length that is not code.
func WrongCode(code string) string {
	return strings.Map(func(r rune) rune { return '0' + (r-'0'+1)%10 }, code)
}

// Register creates an account with Password.
func (e *Env) Register(tb testing.TB, email, phone string) *auth.User {
	tb.Helper()
	u, err := e.Svc.Register(tb.Context(), auth.RegisterInput{Email: email, Password: Password, Phone: phone})
	if err != nil {
		tb.Fatalf("Register(%q) = %v", email, err)
	}
	return u
}

// Login runs the password step with Password.
func (e *Env) Login(tb testing.TB, email string) *auth.LoginResult {
	tb.Helper()
	res, err := e.Svc.Login(tb.Context(), auth.LoginInput{Email: email, Password: Password})
	if err != nil {
		tb.Fatalf("Login(%q) = %v", email, err)
	}
	return res
}

// Code returns the last code sent to phone.
func (e *Env) Code(tb testing.TB, phone string) string {
	tb.Helper()
	c, ok := e.OTP.Code(phone)
	if !ok {
		tb.Fatalf("no code sent to %s", phone)
	}
	return c
}

// SignIn registers email with phone and completes a login.
func (e *Env) SignIn(tb testing.TB, email, phone string) *auth.AuthResult {
	tb.Helper()
	e.Register(tb, email, phone)
	l := e.Login(tb, email)
	res, err := e.Svc.VerifyOTP(tb.Context(), auth.VerifyInput{MFAToken: l.MFAToken, Code: e.Code(tb, phone)})
	if err != nil {
		tb.Fatalf("VerifyOTP() = %v", err)
	}
	return res
}

type requestKey struct{}

// WithRequest gives ctx a client address and user agent, as the HTTP edge
// gives a request's, for the service's security events.
func WithRequest(ctx context.Context, ip, userAgent string) context.Context {
	return context.WithValue(ctx, requestKey{}, [2]string{ip, userAgent})
}

func requestInfo(ctx context.Context) (string, string) {
	v, _ := ctx.Value(requestKey{}).([2]string)
	return v[0], v[1]
}

// limitNames fails the test when a refusal names a limit outside
// auth.LimitNames, which metrics would count as other.
type limitNames struct{ tb testing.TB }

func (l limitNames) LimitHit(limit string) {
	if !slices.Contains(auth.LimitNames, limit) {
		l.tb.Errorf("a refusal names the limit %q, which auth.LimitNames lacks", limit)
	}
}

func (limitNames) Login(string)              {}
func (limitNames) CodeCheck(string, string)  {}
func (limitNames) Send(auth.Channel, string) {}
func (limitNames) EventsDropped(int)         {}
