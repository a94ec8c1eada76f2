// Package app is twostep's composition root: New builds the whole server
// from a validated configuration (store, OTP provider, hash limiter, login
// service, GraphQL handler, HTTP edge, and metrics when METRICS_ADDR is
// set), Handler serves it, Serve runs it on a listener (and the metrics on
// theirs) until its context ends, and Close releases it. main and the
// tests (internal/apptest) build the server the same way, through New;
// nothing is wired twice.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/internal/config"
	"github.com/twostep/twostep/internal/hashlimit"
	"github.com/twostep/twostep/internal/httpedge"
	"github.com/twostep/twostep/internal/metrics"
	"github.com/twostep/twostep/store"
	"github.com/twostep/twostep/store/sqlstore"
)

// Options are what New takes besides the configuration: where output goes
// and, for tests, the clock.
type Options struct {
	// Stdout receives the development banner with one-time codes when
	// Twilio is not configured. Default os.Stdout.
	Stdout io.Writer
	// Logger receives the server's log. Default: JSON (production) or
	// text (development) on os.Stderr at LOG_LEVEL.
	Logger *slog.Logger
	// Now is the clock of every rule with a lifetime or a window, and of
	// the development Verify emulator. Default time.Now.
	Now func() time.Time
}

// App is a wired server.
type App struct {
	cfg     *config.Config
	log     *slog.Logger
	now     func() time.Time
	db      *sqlstore.DB
	svc     *auth.Service
	tokens  *auth.Tokens
	limiter *hashlimit.Limiter
	handler http.Handler
	closers []func()
	// metrics and their listener; nil without METRICS_ADDR.
	metrics   *metrics.Metrics
	metricsLn net.Listener
}

// New builds the server from cfg. It opens (and migrates) the database,
// waiting up to DB_STARTUP_TIMEOUT for it to become reachable. Errors name
// the setting at fault.
func New(ctx context.Context, cfg *config.Config, o Options) (_ *App, err error) {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Logger == nil {
		o.Logger = NewLogger(cfg, os.Stderr)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	a := &App{cfg: cfg, log: o.Logger, now: o.Now}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	kept := "kept in " + devSecretsFile + " beside the database while codes are printed, else this process's (development only)"
	if cfg.SigningKeysGenerated {
		a.log.Warn("neither JWT_SIGNING_KEYS nor JWT_SECRET set: signing access tokens with a development Ed25519 key, " + kept)
	}
	if cfg.RefreshSecretGenerated {
		a.log.Warn("REFRESH_TOKEN_SECRET not set: using a development secret, " + kept)
	}
	if cfg.MetricsAddr != "" {
		a.metrics = metrics.New()
	}
	a.db, err = openStore(ctx, cfg, a.log)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() { _ = a.db.Close() })
	a.log.Info("store open", "dialect", a.db.Dialect())
	// Access tokens without a session id are accepted only if they were
	// issued before sessions began on this database.
	sessionsSince, err := a.db.MigratedAt(ctx, sessionsMigration)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}

	otp, stopOTP, err := newOTPVerifier(cfg, a.log, o.Stdout, o.Now, a.twilioObserver())
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, stopOTP)

	keys, err := signingKeys(cfg)
	if err != nil {
		return nil, err
	}
	refreshSecret := cfg.RefreshSecret
	// Kept across restarts only while codes are printed (no Twilio): the
	// same condition as the relaxed limits, and never production.
	if (cfg.SigningKeysGenerated || cfg.RefreshSecretGenerated) && cfg.PrintsCodes() {
		devKeys, devRefresh, err := developmentSecrets(cfg, a.log)
		if err != nil {
			return nil, err
		}
		if cfg.SigningKeysGenerated {
			keys = devKeys
		}
		if cfg.RefreshSecretGenerated {
			refreshSecret = devRefresh
		}
	}
	a.tokens, err = auth.NewTokens(auth.TokenConfig{Keys: keys, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: cfg.AccessTokenTTL, Now: o.Now})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	phones, err := input.NewPhones(cfg.PhoneRegion, cfg.SMSCountries)
	if err != nil {
		return nil, fmt.Errorf("config: PHONE_DEFAULT_REGION: %w", err)
	}
	a.limiter = hashlimit.New(hashlimit.Options{MaxInFlight: cfg.HashMaxInFlight, MaxWait: cfg.HashMaxWait, ObserveWait: a.hashWaitObserver()})
	limits := cfg.Limits
	a.svc, err = auth.New(auth.Options{
		Store:       a.db,
		OTP:         otp,
		Tokens:      a.tokens,
		Phones:      phones,
		BcryptCost:  cfg.BcryptCost,
		HashLimiter: a.limiter,
		Limits:      &limits,
		TestNumbers: cfg.TestNumbers,
		// 0 (never) in the configuration is negative here.
		UnconfirmedTTL: cmp.Or(cfg.UnconfirmedTTL, -1),
		Observer:       a.authObserver(),
		RequestInfo: func(ctx context.Context) (string, string) {
			i := httpedge.FromContext(ctx)
			return i.ClientIP, i.UserAgent
		},
		Now:    o.Now,
		Logger: a.log,
		Sessions: auth.SessionConfig{
			Secret:             refreshSecret,
			IdleTimeout:        cfg.SessionIdleTimeout,
			MaxAge:             cfg.SessionMaxAge,
			ReuseInterval:      cfg.RefreshReuseInterval,
			LegacyTokensBefore: sessionsSince,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	edge := httpedge.Options{
		Logger:         a.log,
		CORSOrigins:    cfg.CORSOrigins,
		TrustedProxies: cfg.TrustedProxies,
		RequestTimeout: cfg.RequestTimeout,
	}
	if cfg.Production && len(cfg.CORSOrigins) == 0 {
		a.log.Info("CORS_ALLOWED_ORIGINS unset: no other origin's browser page may call the API (the web client at /app/ and non-browser clients can)")
	}
	if !cfg.Production {
		edge.RefusedOrigin = func(origin string) {
			a.log.Warn("a browser origin was refused by CORS: add it to CORS_ALLOWED_ORIGINS (comma-separated) if it is yours",
				"origin", origin, "allowed", strings.Join(cfg.CORSOrigins, ","))
		}
	}
	a.handler = httpedge.New(edge, a.routes())
	if a.metrics != nil {
		if err := a.listenMetrics(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// sessionsMigration is the migration that brought sessions.
const sessionsMigration = 6

// signingKeys returns the access-token keys of cfg, or a fresh key for
// this process in development without any.
func signingKeys(cfg *config.Config) (*auth.SigningKeys, error) {
	if cfg.SigningKeysGenerated {
		// This process's; developmentSecrets replaces them with kept ones
		// while codes are printed.
		return auth.GenerateSigningKeys()
	}
	keys, err := auth.NewSigningKeys(cfg.SigningKeys, cfg.JWTSecret)
	if err != nil {
		return nil, fmt.Errorf("config: JWT_SIGNING_KEYS, JWT_SECRET: %w", err)
	}
	return keys, nil
}

// Handler returns the server's HTTP handler: every route behind the edge.
func (a *App) Handler() http.Handler { return a.handler }

// Logger returns the server's logger.
func (a *App) Logger() *slog.Logger { return a.log }

// Store returns the server's store, for tests that look past the API.
func (a *App) Store() store.Store { return a.db }

// HashStats returns the bcrypt limiter's counts.
func (a *App) HashStats() hashlimit.Stats { return a.limiter.Stats() }

// Serve serves HTTP on ln until ctx ends, runs the janitor and the metrics
// listener meanwhile, and then shuts down gracefully, giving requests in
// flight up to 15 seconds.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := httpedge.NewServer(a.handler, a.cfg.RequestTimeout, a.log)
	a.log.Info("listening", "addr", ln.Addr().String(), "env", a.cfg.EnvName())
	// Security events are written by a goroutine of their own; it stops
	// last, after the requests in flight and the outbox, and writes what
	// is left.
	eventsCtx, stopEvents := context.WithCancel(context.WithoutCancel(ctx))
	eventsDone := make(chan struct{})
	go func() { a.svc.RunEvents(eventsCtx); close(eventsDone) }()
	defer func() { stopEvents(); <-eventsDone }()
	janitorCtx, stopJanitor := context.WithCancel(ctx)
	outboxDone := make(chan struct{})
	go a.janitor(janitorCtx)
	go func() { a.outbox(janitorCtx); close(outboxDone) }()
	defer func() { stopJanitor(); <-outboxDone }() // its last send's events go in before the final write
	// Metrics stay up while requests drain.
	metricsCtx, stopMetrics := context.WithCancel(context.WithoutCancel(ctx))
	metricsDone := make(chan struct{})
	go func() { a.serveMetrics(metricsCtx); close(metricsDone) }()
	defer func() { stopMetrics(); <-metricsDone }()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Close releases what New opened, last first.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// openStore opens the database, waiting up to DB_STARTUP_TIMEOUT for it to
// become reachable: replicas often start before their database does, and
// should not need a restart for it. Any other error ends the wait at once.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*sqlstore.DB, error) {
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

// janitor deletes expired challenges, counters, attempts, old security
// events and accounts that did not confirm their number in time, once a
// minute.
// Any replica may run it; the deletes are idempotent.
func (a *App) janitor(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := a.db.DeleteExpired(ctx, a.now())
			if err != nil {
				a.log.Warn("cleanup failed", "err", err)
			} else if n > 0 {
				a.log.Debug("cleanup", "deleted", n)
			}
			if n, err := a.db.DeleteEventsBefore(ctx, a.now().Add(-a.cfg.AuditRetention)); err != nil {
				a.log.Warn("cleanup of security events failed", "err", err)
			} else if n > 0 {
				a.log.Debug("cleanup", "security_events_deleted", n)
			}
			if _, err := a.svc.ExpireUnconfirmed(ctx); err != nil {
				a.log.Warn("cleanup of unconfirmed accounts failed", "err", err)
			}
		}
	}
}

// outbox delivers queued sends (password reset codes): at once when this
// replica queued one, and every few seconds for those of other replicas
// or left by one that stopped. Any replica may run it; a claimed send is
// leased, so two replicas never send one twice.
func (a *App) outbox(ctx context.Context) {
	t := time.NewTicker(outboxInterval)
	defer t.Stop()
	for {
		for {
			n, err := a.svc.DeliverQueued(ctx)
			if err != nil {
				if ctx.Err() == nil {
					a.log.Warn("outbox failed", "err", err)
				}
				break
			}
			if n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.svc.Queued():
		}
	}
}

// outboxInterval is how often a replica looks for sends it was not told of.
const outboxInterval = 2 * time.Second

// SetRuntime applies cfg's process-wide settings: the garbage collector's
// target. main calls it once, before New; tests, which build many apps in
// one process, do not.
func SetRuntime(cfg *config.Config) {
	if cfg.GCPercent > 0 {
		debug.SetGCPercent(cfg.GCPercent)
	}
}

// NewLogger returns the server's logger: JSON in production, text in
// development, at LOG_LEVEL, with every record of a request carrying its
// request id and client IP.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Production {
		return slog.New(httpedge.LogHandler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(httpedge.LogHandler(slog.NewTextHandler(w, opts)))
}
