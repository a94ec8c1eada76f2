// Package config reads twostep's configuration from the environment (and a
// .env file) once, validates all of it, and reports every problem by the
// name of its variable. Nothing else in the server reads the environment.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/internal/httpedge"
)

// Config is the server's configuration, parsed once from the environment
// (and a .env file) and validated before anything starts.
type Config struct {
	Port int
	// Host is the address to listen on: every interface when empty,
	// except in development without Twilio, where it is loopback unless
	// HOST is set (HostDefaulted then reports it).
	Host          string
	HostDefaulted bool
	Production    bool

	DatabaseURL      string
	DBMaxOpenConns   int
	DBMaxIdleConns   int
	DBConnMaxLife    time.Duration
	DBConnectTimeout time.Duration
	DBStmtTimeout    time.Duration
	DBStartupTimeout time.Duration

	// Keys of access tokens: a JWK Set (JWT_SIGNING_KEYS or the file
	// JWT_SIGNING_KEYS_FILE) and an HS256 secret (JWT_SECRET), either or
	// both; in development with neither, SigningKeysGenerated is set and
	// the app makes a key per process.
	SigningKeys          []byte
	JWTSecret            []byte
	SigningKeysGenerated bool
	// RefreshSecret (REFRESH_TOKEN_SECRET) keys refresh tokens; random per
	// process in development when unset (RefreshSecretGenerated).
	RefreshSecret          []byte
	RefreshSecretGenerated bool
	SessionIdleTimeout     time.Duration
	SessionMaxAge          time.Duration
	RefreshReuseInterval   time.Duration
	JWTIssuer              string
	JWTAudience            string
	AccessTokenTTL         time.Duration
	BcryptCost             int

	TwilioAccountSID string
	TwilioAuthToken  string
	TwilioVerifySID  string
	TwilioAPIURL     string
	TwilioTimeout    time.Duration

	CORSOrigins    []string
	PhoneRegion    string
	SMSCountries   []int
	TrustedProxies []netip.Prefix
	WebDir         string
	RequestTimeout time.Duration
	LogLevel       string

	HashMaxInFlight int
	HashMaxWait     time.Duration

	// MetricsAddr (METRICS_ADDR) is the host:port of the Prometheus
	// metrics listener, separate from the API's; empty: no metrics.
	MetricsAddr string

	// GCPercent is the garbage collector's target (GOGC), 0 when GOGC is
	// set in the environment, which the Go runtime then applies itself.
	GCPercent int

	Limits auth.Limits
	// AuditRetention is how long security events are kept.
	AuditRetention time.Duration
	// UnconfirmedTTL is how long an account registered through the API may
	// go without confirming its number before it is deleted; 0: never.
	UnconfirmedTTL time.Duration
	// TestNumbers (SMS_TEST_NUMBERS, SMS_TEST_NUMBERS_VALID_UNTIL) have
	// fixed codes and never reach Twilio.
	TestNumbers auth.TestNumbers
}

// DefaultGCPercent is the GOGC twostep runs with unless GOGC is set.
const DefaultGCPercent = 300

// TwilioConfigured reports whether codes go out through Twilio (or the
// emulator named by TWILIO_API_URL) rather than being printed.
func (c *Config) TwilioConfigured() bool { return c.TwilioAccountSID != "" }

// PrintsCodes reports whether codes are printed by the built-in emulator:
// development without Twilio (production requires Twilio). Only then are
// the send limits relaxed, the development secrets kept in a file, and the
// listener on loopback by default.
func (c *Config) PrintsCodes() bool { return !c.TwilioConfigured() }

// EnvName is "production" or "development".
func (c *Config) EnvName() string {
	if c.Production {
		return "production"
	}
	return "development"
}

// Load reads the configuration. Every error names the variable at fault,
// so a bad value stops start-up with a message a person can act on.
func Load(getenv func(string) string) (*Config, error) {
	p := parser{getenv: getenv}
	c := &Config{}

	switch env := p.str("APP_ENV", "development"); env {
	case "development":
	case "production":
		c.Production = true
	default:
		p.fail("APP_ENV", "must be development or production, got %q", env)
	}
	c.Port = p.int("PORT", 8080, 0, 65535)
	c.Host = p.str("HOST", "")
	c.DatabaseURL = p.str("DATABASE_URL", "")
	// Unset, the store's defaults: 20 and 10 on PostgreSQL, 4 and 2
	// readers on SQLite, where each reader keeps a page cache of its own
	// and more of them than cores only cost memory.
	c.DBMaxOpenConns = p.int("DB_MAX_OPEN_CONNS", 0, 1, 1000)
	c.DBMaxIdleConns = p.int("DB_MAX_IDLE_CONNS", 0, 0, 1000)
	c.DBConnMaxLife = p.duration("DB_CONN_MAX_LIFETIME", 30*time.Minute)
	c.DBConnectTimeout = p.duration("DB_CONNECT_TIMEOUT", 5*time.Second)
	c.DBStmtTimeout = p.duration("DB_STATEMENT_TIMEOUT", 5*time.Second)
	c.DBStartupTimeout = p.duration("DB_STARTUP_TIMEOUT", time.Minute)

	c.readKeys(&p)
	c.JWTIssuer = p.str("JWT_ISSUER", "twostep")
	c.JWTAudience = p.str("JWT_AUDIENCE", "twostep")
	c.AccessTokenTTL = p.duration("ACCESS_TOKEN_TTL", 15*time.Minute)
	if c.AccessTokenTTL > 24*time.Hour {
		p.fail("ACCESS_TOKEN_TTL", "must be at most 24h, got %s", c.AccessTokenTTL)
	}
	c.BcryptCost = p.int("BCRYPT_COST", auth.DefaultBcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	if c.Production && c.BcryptCost < 10 {
		p.fail("BCRYPT_COST", "must be at least 10 in production, got %d", c.BcryptCost)
	}

	c.TwilioAccountSID = p.str("TWILIO_ACCOUNT_SID", "")
	c.TwilioAuthToken = p.str("TWILIO_AUTH_TOKEN", "")
	c.TwilioVerifySID = p.str("TWILIO_VERIFY_SID", "")
	c.TwilioAPIURL = p.str("TWILIO_API_URL", "")
	c.TwilioTimeout = p.duration("TWILIO_TIMEOUT", 10*time.Second)
	var missing []string
	for _, v := range []struct{ name, val string }{
		{"TWILIO_ACCOUNT_SID", c.TwilioAccountSID},
		{"TWILIO_AUTH_TOKEN", c.TwilioAuthToken},
		{"TWILIO_VERIFY_SID", c.TwilioVerifySID},
	} {
		if v.val == "" {
			missing = append(missing, v.name)
		}
	}
	switch {
	case len(missing) == 0:
	case c.Production:
		p.fail(strings.Join(missing, ", "), "required in production")
	case len(missing) < 3:
		p.fail(strings.Join(missing, ", "), "must be set too (set all three Twilio variables, or none to print codes in development)")
	}
	// Credentials go with every Twilio request: never in clear text in
	// production. Tests and the emulator run in development.
	if c.Production && c.TwilioAPIURL != "" && !strings.HasPrefix(c.TwilioAPIURL, "https://") {
		p.fail("TWILIO_API_URL", "must be an https:// URL in production")
	}
	// A development server that prints every code must not answer the
	// network unless asked to.
	if c.PrintsCodes() && c.Host == "" { // HOST unset, or only spaces
		c.Host, c.HostDefaulted = "127.0.0.1", true
	}

	// In development, Create React App's port, and Vite's: its dev server
	// (5173, or 5174 when that is taken) and its preview (4173). In
	// production, none unless listed: a deployment's web app has an origin
	// of its own, and one served at /app/ needs no CORS.
	var devOrigins []string
	if !c.Production {
		devOrigins = []string{
			"http://localhost:3000", "http://127.0.0.1:3000",
			"http://localhost:5173", "http://127.0.0.1:5173",
			"http://localhost:5174", "http://127.0.0.1:5174",
			"http://localhost:4173", "http://127.0.0.1:4173",
		}
	}
	c.CORSOrigins = p.list("CORS_ALLOWED_ORIGINS", devOrigins)
	for _, o := range c.CORSOrigins {
		if !httpedge.ValidOrigin(o) {
			// rs/cors reads a * anywhere as a wildcard: "https://*" or
			// "h*" would allow every origin.
			p.fail("CORS_ALLOWED_ORIGINS", "must list origins such as https://app.example.com (scheme://host[:port], no path, no *), got %q", o)
		}
	}
	c.PhoneRegion = p.str("PHONE_DEFAULT_REGION", "US")
	countries := p.list("SMS_ALLOWED_COUNTRY_CODES", nil)
	switch {
	case len(countries) == 1 && strings.EqualFold(countries[0], "all"):
		countries = nil
	case len(countries) == 0 && c.Production:
		// Every country by default is how SMS pumping pays: an operator
		// must choose, even if the choice is all.
		p.fail("SMS_ALLOWED_COUNTRY_CODES", "is required in production: the calling codes you send codes to, e.g. 1,44, or all")
	}
	for _, s := range countries {
		n, err := strconv.Atoi(strings.TrimPrefix(s, "+"))
		if err != nil || n < 1 || n > 999 {
			p.fail("SMS_ALLOWED_COUNTRY_CODES", "must be country calling codes like 1,44,49, got %q", s)
			continue
		}
		c.SMSCountries = append(c.SMSCountries, n)
	}
	for _, s := range p.list("TRUSTED_PROXIES", nil) {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				p.fail("TRUSTED_PROXIES", "must be IP addresses or CIDR prefixes, got %q", s)
				continue
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, pfx.Masked())
	}
	c.WebDir = p.str("WEB_DIR", "web/dist")
	c.RequestTimeout = p.duration("REQUEST_TIMEOUT", 15*time.Second)
	c.LogLevel = p.str("LOG_LEVEL", "info")
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p.fail("LOG_LEVEL", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
	c.HashMaxInFlight = p.int("HASH_MAX_IN_FLIGHT", 0, 0, 1024)
	c.HashMaxWait = p.duration("HASH_MAX_WAIT", 2*time.Second)
	c.readMetrics(&p)
	// The live heap of a replica is a few megabytes, so letting the heap
	// grow to four times it before collecting (Go's default is twice)
	// costs little memory and saves CPU on every request. An explicit
	// GOGC wins.
	if p.getenv("GOGC") == "" {
		c.GCPercent = DefaultGCPercent
	}

	c.Limits = limits(&p, c.PrintsCodes())
	c.AuditRetention = p.duration("AUDIT_RETENTION", 90*24*time.Hour)
	if c.AuditRetention < time.Hour {
		p.fail("AUDIT_RETENTION", "must be at least 1h, got %s", c.AuditRetention)
	}
	c.UnconfirmedTTL = p.duration("UNCONFIRMED_ACCOUNT_TTL", auth.DefaultUnconfirmedTTL)
	if c.UnconfirmedTTL > 0 && c.UnconfirmedTTL < time.Hour {
		// Shorter would delete people still waiting for their first code.
		p.fail("UNCONFIRMED_ACCOUNT_TTL", "must be 0 (never) or at least 1h, got %s", c.UnconfirmedTTL)
	}
	c.readTestNumbers(&p)
	return c, p.err()
}

// limits reads LIMIT_*: each starts from its default, and 0 turns off the
// limits that may be off (auth.Limits.Validate).
func limits(p *parser, printed bool) auth.Limits {
	l := auth.DefaultLimits()
	if printed {
		l = auth.DevelopmentLimits()
	}
	ip := func(name string, lim *auth.Limit) {
		lim.Max = p.int(name, lim.Max, 0, 1e9)
		lim.Window = p.duration(name+"_WINDOW", lim.Window)
		if lim.Max > 0 && lim.Window <= 0 {
			p.fail(name+"_WINDOW", "must be more than 0 while %s is on", name)
		}
	}
	ip("LIMIT_REGISTER_PER_IP", &l.RegisterPerIP)
	ip("LIMIT_LOGIN_PER_IP", &l.LoginPerIP)
	ip("LIMIT_VERIFY_PER_IP", &l.VerifyPerIP)
	ip("LIMIT_REFRESH_PER_IP", &l.RefreshPerIP)
	ip("LIMIT_RESET_PER_IP", &l.ResetPerIP)
	ip("LIMIT_RESET_PER_EMAIL", &l.ResetPerEmail)
	l.ResetSendsPerDay = p.int("LIMIT_RESET_SENDS_PER_DAY", l.ResetSendsPerDay, 0, 1e6)
	l.AccountFreeFailures = p.int("LIMIT_ACCOUNT_FREE_FAILURES", l.AccountFreeFailures, 1, 1000)
	l.AccountMaxBlock = p.duration("LIMIT_ACCOUNT_MAX_BLOCK", l.AccountMaxBlock)
	l.AccountPerHour = p.int("LIMIT_ACCOUNT_FAILURES_PER_HOUR", l.AccountPerHour, 1, 100)
	l.PhoneCooldown = p.duration("LIMIT_PHONE_COOLDOWN", l.PhoneCooldown)
	l.PhonePerHour = p.int("LIMIT_PHONE_PER_HOUR", l.PhonePerHour, 1, 1e6)
	l.PhonePerDay = p.int("LIMIT_PHONE_PER_DAY", l.PhonePerDay, 1, 1e6)
	l.SMSPerHour = p.int("LIMIT_SMS_PER_HOUR", l.SMSPerHour, 1, 1e9)
	l.SMSUnverifiedPerHour = p.int("LIMIT_SMS_UNVERIFIED_PER_HOUR", l.SMSUnverifiedPerHour, 1, 1e9)
	l.SMSPerCountryPerHour = p.int("LIMIT_SMS_PER_COUNTRY_PER_HOUR", l.SMSPerCountryPerHour, 0, 1e9)
	l.UnverifiedSendsPerDay = p.int("LIMIT_UNVERIFIED_SENDS_PER_DAY", l.UnverifiedSendsPerDay, 1, 1e6)
	l.AccountPerDay = p.int("LIMIT_ACCOUNT_FAILURES_PER_DAY", l.AccountPerDay, 1, 100)
	// Anyone who knows an email can start the block; it must stay short.
	if l.AccountMaxBlock <= 0 || l.AccountMaxBlock > time.Hour {
		p.fail("LIMIT_ACCOUNT_MAX_BLOCK", "must be more than 0 and at most 1h, got %s", l.AccountMaxBlock)
	}
	return l
}

// parser reads typed variables and collects every problem, so one start
// reports them all.
type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(name, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("config: %s: %s", name, fmt.Sprintf(format, args...)))
}

func (p *parser) err() error { return errors.Join(p.errs...) }

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) int(name string, def, lo, hi int) int {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, "must be a whole number from %d to %d, got %q", lo, hi, v)
		return def
	}
	return n
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		p.fail(name, "must be a duration such as 30s, 15m or 1h, got %q", v)
		return def
	}
	return d
}

func (p *parser) list(name string, def []string) []string {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
