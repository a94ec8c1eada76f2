// Command twostep is a GraphQL API server for two-step login: password, then
// a one-time code by SMS through Twilio Verify, then a JWT.
//
//	twostep                    serve (configuration from the environment and .env)
//	twostep verify-emulator    run the local Twilio Verify emulator
package main

//go:generate go tool gqlgen generate

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/joho/godotenv"
	"github.com/rs/cors"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/graph"
	"github.com/twostep/twostep/internal/hashlimit"
	"github.com/twostep/twostep/store"
	"github.com/twostep/twostep/store/sqlstore"
	"github.com/twostep/twostep/twilioverify"
	"github.com/twostep/twostep/twilioverify/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "twostep:", err)
		os.Exit(1)
	}
}

// run starts the server (or a subcommand) and returns when ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 1 && args[1] == "verify-emulator" {
		return emulator.Main(ctx, args[2:], getenv, stdout, stderr)
	}
	fs := flag.NewFlagSet("twostep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envFile := fs.String("env-file", ".env", "read variables not set in the environment from this file (empty: none)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	getenv, err := withDotenv(getenv, *envFile)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, stdout, stderr)
}

// withDotenv returns a getenv that falls back to the variables of a .env
// file; the real environment always wins. A missing file is not an error.
func withDotenv(getenv func(string) string, path string) (func(string) string, error) {
	if path == "" {
		return getenv, nil
	}
	vars, err := godotenv.Read(path)
	if errors.Is(err, os.ErrNotExist) {
		return getenv, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return vars[k]
	}, nil
}

// app is a wired server: store, OTP verifier, login service and the HTTP
// handler. run serves it; benchmarks drive its handler directly.
type app struct {
	db      *sqlstore.DB
	svc     *auth.Service
	limiter *hashlimit.Limiter
	handler http.Handler
	log     *slog.Logger
	closers []func()
}

// newApp opens the store and wires everything from cfg.
func newApp(ctx context.Context, cfg *config, log *slog.Logger, stdout io.Writer) (_ *app, err error) {
	a := &app{log: log}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	a.db, err = openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() { _ = a.db.Close() })
	log.Info("store open", "dialect", a.db.Dialect())

	otp, stopOTP, err := newOTPVerifier(cfg, log, stdout)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, stopOTP)

	tokens, err := auth.NewTokens(cfg.JWTSecret, cfg.JWTIssuer, cfg.JWTAudience, cfg.AccessTokenTTL, nil)
	if err != nil {
		return nil, fmt.Errorf("config: JWT_SECRET: %w", err)
	}
	phones, err := input.NewPhones(cfg.PhoneRegion, cfg.SMSCountries)
	if err != nil {
		return nil, fmt.Errorf("config: PHONE_DEFAULT_REGION: %w", err)
	}
	a.limiter = hashlimit.New(hashlimit.Options{MaxInFlight: cfg.HashMaxInFlight, MaxWait: cfg.HashMaxWait})
	a.svc, err = auth.New(auth.Options{
		Store:       a.db,
		OTP:         otp,
		Tokens:      tokens,
		Phones:      phones,
		BcryptCost:  cfg.BcryptCost,
		HashLimiter: a.limiter,
		Limits:      cfg.Limits,
		Logger:      log,
	})
	if err != nil {
		return nil, err
	}
	a.handler = newRouter(cfg, a.svc, a.limiter, log)
	return a, nil
}

// openStore opens the database, waiting up to DB_STARTUP_TIMEOUT for it to
// become reachable: replicas often start before their database does, and
// should not need a restart for it. Any other error ends the wait at once.
func openStore(ctx context.Context, cfg *config, log *slog.Logger) (*sqlstore.DB, error) {
	opts := sqlstore.Options{
		MaxOpenConns:     cfg.DBMaxOpenConns,
		MaxIdleConns:     cfg.DBMaxIdleConns,
		ConnMaxLifetime:  cfg.DBConnMaxLife,
		ConnectTimeout:   cfg.DBConnectTimeout,
		StatementTimeout: cfg.DBStmtTimeout,
		Logger:           log,
	}
	deadline := time.Now().Add(cfg.DBStartupTimeout)
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		db, err := sqlstore.Open(ctx, cfg.DatabaseURL, opts)
		if err == nil || !errors.Is(err, store.ErrUnavailable) || time.Now().Add(wait).After(deadline) {
			return db, err
		}
		log.Warn("database unreachable, retrying", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
	}
}

// close releases what newApp opened, last first.
func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

func serve(ctx context.Context, cfg *config, stdout, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	if cfg.JWTSecretGenerated {
		log.Warn("JWT_SECRET not set: using a random secret for this process; tokens die with it (development only)")
	}
	a, err := newApp(ctx, cfg, log, stdout)
	if err != nil {
		return err
	}
	defer a.close()

	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("config: PORT: listen: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	log.Info("listening", "addr", ln.Addr().String(), "env", envName(cfg))
	fmt.Fprintf(stdout, "twostep listening on http://localhost:%d/ (GraphQL at /graphql)\n", port)

	go janitor(ctx, a.db, log)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newOTPVerifier returns the Twilio Verify client. Without Twilio settings
// (development only) it starts the Verify emulator on a loopback port and
// prints each code it "sends", so the whole flow works with no account.
func newOTPVerifier(cfg *config, log *slog.Logger, stdout io.Writer) (auth.OTPVerifier, func(), error) {
	tc := twilioverify.Config{
		AccountSID: cfg.TwilioAccountSID,
		AuthToken:  cfg.TwilioAuthToken,
		ServiceSID: cfg.TwilioVerifySID,
		APIURL:     cfg.TwilioAPIURL,
		Timeout:    cfg.TwilioTimeout,
		Logger:     log,
	}
	stop := func() {}
	if !cfg.twilioConfigured() {
		emu := emulator.New(emulator.Options{
			OnSend: func(to, code string) {
				fmt.Fprintf(stdout, "\n"+
					"  ************************************************************\n"+
					"  *  DEVELOPMENT ONLY: Twilio is not configured.             *\n"+
					"  *  One-time code for %-16s %-20s *\n"+
					"  ************************************************************\n\n",
					input.MaskPhone(to)+":", code)
			},
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, fmt.Errorf("development verify emulator: %w", err)
		}
		hs := &http.Server{Handler: emu, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = hs.Serve(ln) }()
		stop = func() { _ = hs.Close() }
		tc.AccountSID, tc.AuthToken, tc.ServiceSID = emulator.DefaultAccountSID, emulator.DefaultAuthToken, emulator.DefaultServiceSID
		tc.APIURL = "http://" + ln.Addr().String()
		log.Warn("Twilio not configured: one-time codes are printed on standard output (development only)")
	} else if cfg.TwilioAPIURL != "" {
		log.Warn("TWILIO_API_URL set: Twilio requests go to it instead of Twilio", "url", cfg.TwilioAPIURL)
	}
	c, err := twilioverify.New(tc)
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	return c, stop, nil
}

// newRouter mounts every endpoint and wraps them in the middleware every
// request gets: panic recovery, hash-limiter accounting, request timeout,
// and CORS.
func newRouter(cfg *config, svc *auth.Service, limiter *hashlimit.Limiter, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/graphql", graph.NewHandler(graph.HandlerConfig{
		Auth:           svc,
		Logger:         log,
		Introspection:  !cfg.Production,
		TrustedProxies: cfg.TrustedProxies,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := svc.Ready(ctx); err != nil {
			log.Warn("not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, `{"status":"unavailable"}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"status":"ok"}`)
	})
	web := webHandler(cfg.WebDir)
	if web != nil {
		mux.Handle("/app/", http.StripPrefix("/app", web))
	}
	switch {
	case !cfg.Production:
		mux.Handle("GET /{$}", playground.Handler("twostep", "/graphql"))
	case web != nil:
		mux.Handle("GET /{$}", http.RedirectHandler("/app/", http.StatusFound))
	}

	var h http.Handler = mux
	h = http.TimeoutHandler(h, cfg.RequestTimeout, `{"errors":[{"message":"The request took too long.","extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}`)
	h = limiter.Middleware(h)
	h = recoverMiddleware(log, h)
	h = securityHeaders(h)
	return cors.New(cors.Options{
		AllowedOrigins: cfg.CORSOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Apollo-Require-Preflight", "X-Apollo-Operation-Name"},
		ExposedHeaders: []string{"X-Request-Id"},
		MaxAge:         600,
	}).Handler(h)
}

// webHandler serves the built web app from dir. Client-side routes (paths
// without a file extension) get index.html; a missing asset is a 404, so a
// stale tab after a deploy fails plainly instead of loading HTML as script.
// It returns nil when the app has not been built.
func webHandler(dir string) http.Handler {
	if dir == "" {
		return nil
	}
	index := filepath.Join(dir, "index.html")
	if _, err := os.Stat(index); err != nil {
		return nil
	}
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		clean := path.Clean("/" + r.URL.Path)
		if clean != "/" && clean != "/index.html" {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(clean))); err == nil {
				if strings.HasPrefix(clean, "/assets/") {
					// Vite puts a content hash in every asset name.
					h.Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				files.ServeHTTP(w, r)
				return
			}
			if path.Ext(clean) != "" {
				http.NotFound(w, r)
				return
			}
		}
		h.Set("Cache-Control", "no-cache")
		http.ServeFile(w, r, index)
	})
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

func recoverMiddleware(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic", "panic", p, "path", r.URL.Path)
				writeJSON(w, http.StatusInternalServerError, `{"errors":[{"message":"Internal server error.","extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}`)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// janitor deletes expired challenges and counters once a minute. Any
// replica may run it; the deletes are idempotent.
func janitor(ctx context.Context, db *sqlstore.DB, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := db.DeleteExpired(ctx, time.Now())
			if err != nil {
				log.Warn("cleanup failed", "err", err)
			} else if n > 0 {
				log.Debug("cleanup", "deleted", n)
			}
		}
	}
}

func newLogger(cfg *config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Production {
		return slog.New(requestHandler{slog.NewJSONHandler(w, opts)})
	}
	return slog.New(requestHandler{slog.NewTextHandler(w, opts)})
}

// requestHandler adds the request id and client IP to every record logged
// with a request's context (graph.LogAttrs).
type requestHandler struct{ slog.Handler }

func (h requestHandler) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(graph.LogAttrs(ctx)...)
	return h.Handler.Handle(ctx, r)
}

func (h requestHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestHandler) WithGroup(name string) slog.Handler {
	return requestHandler{h.Handler.WithGroup(name)}
}

func envName(cfg *config) string {
	if cfg.Production {
		return "production"
	}
	return "development"
}
