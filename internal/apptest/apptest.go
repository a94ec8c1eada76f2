// Package apptest starts the whole twostep server for a test, the way main
// does (config.Load, app.New, app.Serve), on a loopback port, with the
// real twilio-go client talking to a Verify emulator: the spirit of
// httptest.NewServer for the entire application. Tests speak to it with
// gqltest's client.
package apptest

import (
	"bytes"
	"context"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twostep/twostep/auth/authtest"
	"github.com/twostep/twostep/internal/app"
	"github.com/twostep/twostep/internal/config"
	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/twilioverify/emulator"
)

// Password is a password every rule accepts.
const Password = "correct horse battery staple 7"

// Options adjust Start.
type Options struct {
	// Env is the environment, over Defaults; a value of "" removes a
	// default (for example TWILIO_API_URL, to run without Twilio).
	Env map[string]string
	// Clock, if set, is the clock of the server and of the emulator, so a
	// test moves lifetimes and windows along without sleeping.
	Clock *authtest.Clock
	// Emulator, if set, is the Verify emulator to use (replicas share
	// one); otherwise Start makes one on Clock.
	Emulator *Emulator
	// Dev leaves Twilio unconfigured: the server runs its built-in
	// emulator and prints codes, as in development.
	Dev bool
}

// Defaults is the environment every server gets unless Options.Env says
// otherwise: fast bcrypt, a fixed JWT secret, no phone cooldown, debug
// logs. DATABASE_URL defaults to a fresh SQLite file.
func Defaults() map[string]string {
	return map[string]string{
		"BCRYPT_COST":          "4",
		"JWT_SECRET":           "apptest-secret-apptest-secret-apptest!",
		"REFRESH_TOKEN_SECRET": "apptest-refresh-secret-apptest-refresh!",
		"LIMIT_PHONE_COOLDOWN": "0",
		"LOG_LEVEL":            "debug",
	}
}

// Server is a running twostep.
type Server struct {
	URL    string
	Client *gqltest.Client
	App    *app.App
	Emu    *Emulator         // nil with Options.Dev
	Clock  *authtest.Clock   // nil: real time
	Env    map[string]string // the environment it was started with
	logs   *syncBuffer
	stop   func()
}

// Start starts a server and stops it when tb ends; on failure, the test
// shows the server's log.
func Start(tb testing.TB, o Options) *Server {
	tb.Helper()
	s := &Server{Clock: o.Clock, Emu: o.Emulator, logs: &syncBuffer{}}
	env := Defaults()
	env["DATABASE_URL"] = "sqlite:" + filepath.Join(tb.TempDir(), "twostep.db")
	if !o.Dev {
		if s.Emu == nil {
			s.Emu = NewEmulator(tb, o.Clock)
		}
		maps.Copy(env, s.Emu.Env())
	}
	maps.Copy(env, o.Env)
	maps.DeleteFunc(env, func(_, v string) bool { return v == "" })
	s.Env = env

	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		tb.Fatalf("apptest: config: %v", err)
	}
	opts := app.Options{Stdout: s.logs, Logger: app.NewLogger(cfg, s.logs)}
	if o.Clock != nil {
		opts.Now = o.Clock.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, opts)
	if err != nil {
		cancel()
		tb.Fatalf("apptest: app.New: %v\n%s", err, s.logs)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		a.Close()
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	s.App = a
	s.URL = "http://" + ln.Addr().String()
	// A connection pool of its own, closed before the server stops: a
	// connection the client dialled but never sent a request on would
	// otherwise hold the graceful shutdown for net/http's 5 seconds.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	s.Client = &gqltest.Client{URL: s.URL, HTTP: &http.Client{Transport: tr}}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			tr.CloseIdleConnections()
			cancel()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				tb.Errorf("apptest: server did not stop")
			}
			a.Close()
		})
	}
	tb.Cleanup(func() {
		s.stop()
		if tb.Failed() {
			tb.Logf("server log:\n%s", s.logs)
		}
	})
	return s
}

// Stop shuts the server down gracefully, as SIGTERM does.
func (s *Server) Stop() { s.stop() }

// Logs returns what the server has logged and printed so far.
func (s *Server) Logs() string { return s.logs.String() }

// Hashes returns how many bcrypt operations the server has run.
func (s *Server) Hashes() int { return int(s.App.HashStats().Completed) }

// Emulator is a Verify emulator on loopback.
type Emulator struct {
	*emulator.Emulator
	URL string
}

// NewEmulator starts a Verify emulator on clock (nil: real time), stopped
// when tb ends.
func NewEmulator(tb testing.TB, clock *authtest.Clock) *Emulator {
	tb.Helper()
	opts := emulator.Options{}
	if clock != nil {
		opts.Now = clock.Now
	}
	emu := emulator.New(opts)
	srv := httptest.NewServer(emu)
	tb.Cleanup(srv.Close)
	return &Emulator{Emulator: emu, URL: srv.URL}
}

// Env is the environment that points a server at e.
func (e *Emulator) Env() map[string]string {
	return map[string]string{
		"TWILIO_API_URL":     e.URL,
		"TWILIO_ACCOUNT_SID": emulator.DefaultAccountSID,
		"TWILIO_AUTH_TOKEN":  emulator.DefaultAuthToken,
		"TWILIO_VERIFY_SID":  emulator.DefaultServiceSID,
	}
}

// Sends counts the requests that sent (or re-sent) a code; Checks those
// that checked one.
func (e *Emulator) Sends() int { return e.count("/Verifications") }

// Checks: see Sends.
func (e *Emulator) Checks() int { return e.count("/VerificationCheck") }

func (e *Emulator) count(suffix string) int {
	n := 0
	for _, r := range e.Requests() {
		if strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

// syncBuffer collects a server's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Production is the environment of a valid production configuration, to
// put into Options.Env. Twilio is pointed at an https URL that refuses
// connections: production takes nothing else, and the tests that use it
// send no codes.
func Production() map[string]string {
	return map[string]string{
		"APP_ENV":                   "production",
		"BCRYPT_COST":               "10",
		"SMS_ALLOWED_COUNTRY_CODES": "all",
		"TWILIO_API_URL":            "https://127.0.0.1:1",
		"REFRESH_TOKEN_SECRET":      "apptest-refresh-secret-apptest-refresh!",
	}
}
