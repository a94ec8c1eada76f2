// Package httpedge is the one owner of twostep's HTTP surface. New wraps
// every route of the server in the same defaults, so a reader who asks
// "what protects this endpoint?" reads this package:
//
//   - a request id and the client IP (from X-Forwarded-For only behind a
//     trusted proxy) for every request, in the X-Request-Id header and in
//     every log record made with the request's context (LogHandler);
//   - one panic recoverer, which logs the stack and answers a coded 500;
//   - one Content-Security-Policy (content-security-policy.txt, which the
//     web client's build also puts into its index.html; a route may set a
//     stricter one of its own, as GraphiQL does) and the other security
//     headers;
//   - CORS for the configured origins only;
//   - request bodies: only application/json, at most MaxBodyBytes, read
//     whole within BodyTimeout before any handler runs (Body), so a slow
//     body never holds a handler, a database connection or a hash slot;
//   - a deadline on the request's context (RequestTimeout), which every
//     store and Twilio call honours, and the server's own timeouts
//     (NewServer).
//
// Errors the edge answers itself have the shape of every GraphQL error
// (WriteError): clients handle one format, with extensions.code.
package httpedge

import (
	"context"
	_ "embed"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/cors"
)

// Defaults of Options.
const (
	// A twostep operation is a few hundred bytes; GraphiQL's introspection
	// query, the largest legitimate one, about 1.7 KB.
	DefaultMaxBodyBytes   = 8 << 10
	DefaultBodyTimeout    = 5 * time.Second
	DefaultRequestTimeout = 15 * time.Second
)

// ContentSecurityPolicy is the policy every response starts with (a route
// may replace it with a stricter one: GraphiQL's page).
//
//go:embed content-security-policy.txt
var contentSecurityPolicy string

// ContentSecurityPolicy returns the one policy, as sent.
func ContentSecurityPolicy() string { return strings.TrimSpace(contentSecurityPolicy) }

// Options configure New. Zero fields take the defaults above.
type Options struct {
	Logger         *slog.Logger
	CORSOrigins    []string       // browser origins allowed to call the API (none: none)
	TrustedProxies []netip.Prefix // whose X-Forwarded-For is believed
	MaxBodyBytes   int64
	BodyTimeout    time.Duration
	RequestTimeout time.Duration
	// RefusedOrigin, if set, is told once of each browser origin that CORS
	// refuses (not the server's own): in development, the log says which
	// variable to set.
	RefusedOrigin func(origin string)
}

type edge struct {
	routes         http.Handler
	log            *slog.Logger
	cors           *cors.Cors
	trusted        []netip.Prefix
	maxBody        int64
	bodyTimeout    time.Duration
	requestTimeout time.Duration
	headers        http.Header // set on every response
	refusedOrigin  func(string)
	refused        sync.Map     // origins already reported
	nRefused       atomic.Int32 // how many: at most maxReportedOrigins
}

// maxReportedOrigins bounds the memory a stream of made-up origins takes.
const maxReportedOrigins = 100

// New returns routes wrapped in every default of the HTTP surface.
func New(o Options, routes http.Handler) http.Handler {
	e := &edge{
		routes:         routes,
		log:            o.Logger,
		trusted:        o.TrustedProxies,
		maxBody:        o.MaxBodyBytes,
		bodyTimeout:    o.BodyTimeout,
		requestTimeout: o.RequestTimeout,
		refusedOrigin:  o.RefusedOrigin,
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.maxBody <= 0 {
		e.maxBody = DefaultMaxBodyBytes
	}
	if e.bodyTimeout <= 0 {
		e.bodyTimeout = DefaultBodyTimeout
	}
	if e.requestTimeout <= 0 {
		e.requestTimeout = DefaultRequestTimeout
	}
	co := cors.Options{
		AllowedOrigins: o.CORSOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Apollo-Require-Preflight", "X-Apollo-Operation-Name"},
		ExposedHeaders: []string{"X-Request-Id"},
		MaxAge:         600,
	}
	if len(o.CORSOrigins) == 0 {
		// rs/cors reads no origins as every origin ("*"); here it is none.
		co.AllowOriginFunc = func(string) bool { return false }
	}
	e.cors = cors.New(co)
	e.headers = http.Header{
		"Content-Security-Policy": {ContentSecurityPolicy()},
		"X-Content-Type-Options":  {"nosniff"},
		"Referrer-Policy":         {"no-referrer"},
		"X-Frame-Options":         {"DENY"},
	}
	return e
}

func (e *edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info := &Info{ID: newRequestID(), ClientIP: clientIP(r, e.trusted), UserAgent: r.UserAgent()}
	h := w.Header()
	for k, v := range e.headers {
		h[k] = v // shared, read-only slices: nothing appends to them
	}
	h["X-Request-Id"] = []string{info.ID}
	ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), infoKey{}, info), e.requestTimeout)
	defer cancel()
	r = r.WithContext(ctx)
	defer e.recover(w, r)
	if _, cross := r.Header["Origin"]; !cross {
		// Not a browser's cross-origin request: CORS has nothing to
		// add but the Vary that tells caches the answer depends on it.
		h["Vary"] = varyOrigin
		e.serveBody(w, r)
		return
	}
	if e.refusedOrigin != nil && !e.cors.OriginAllowed(r) {
		e.reportOrigin(r)
	}
	e.cors.ServeHTTP(w, r, e.serveBody)
}

// reportOrigin tells of a refused origin once, unless it is this server's
// own (a browser sends Origin on same-origin POSTs too).
func (e *edge) reportOrigin(r *http.Request) {
	origin := r.Header.Get("Origin")
	if u, err := url.Parse(origin); err == nil && u.Host == r.Host {
		return
	}
	if e.nRefused.Load() >= maxReportedOrigins {
		return
	}
	if _, seen := e.refused.LoadOrStore(origin, true); !seen {
		e.nRefused.Add(1)
		e.refusedOrigin(origin)
	}
}

var varyOrigin = []string{"Origin"}

// serveBody reads a request's body whole, within its own deadline, and
// then hands the request to the routes.
func (e *edge) serveBody(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
		e.routes.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		WriteError(w, http.StatusMethodNotAllowed, CodeBadRequest, "Use POST, or GET for queries.")
		return
	}
	// A form, text/plain or multipart body is how a cross-site request
	// would look: JSON needs a CORS preflight, which only listed origins
	// pass.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		WriteError(w, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "Requests must be application/json.")
		return
	}
	if r.ContentLength > e.maxBody {
		WriteError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, "The request body is too large.")
		return
	}
	body, err := e.readBody(w, r)
	if err != nil {
		// What is left of the body is not worth reading: net/http would
		// otherwise wait for it before answering.
		w.Header().Set("Connection", "close")
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		WriteError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, "The request body is too large.")
		return
	case err != nil:
		e.log.InfoContext(r.Context(), "request body not read", "err", err)
		WriteError(w, http.StatusBadRequest, CodeBadRequest, "The request body could not be read in time.")
		return
	}
	FromContext(r.Context()).body = body
	e.routes.ServeHTTP(w, r)
}

// readDeadliner is what http.ResponseController uses to set a read
// deadline; net/http's ResponseWriter has it.
type readDeadliner interface{ SetReadDeadline(time.Time) error }

// readBody reads at most maxBody bytes, all of them within bodyTimeout.
func (e *edge) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	rc, ok := w.(readDeadliner)
	if !ok {
		rc = noDeadline{} // a test's recorder, or a wrapper without it
	}
	if err := rc.SetReadDeadline(time.Now().Add(e.bodyTimeout)); err != nil {
		return nil, err
	}
	size := e.maxBody + 1
	if r.ContentLength >= 0 {
		size = r.ContentLength
	}
	buf := make([]byte, 0, size)
	body := http.MaxBytesReader(w, r.Body, e.maxBody)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow (a chunked body)
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			// Lifted again at once: net/http's background read of an
			// idle connection would otherwise cancel a request that runs
			// past it.
			if err := rc.SetReadDeadline(time.Time{}); err != nil {
				return nil, err
			}
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

type noDeadline struct{}

func (noDeadline) SetReadDeadline(time.Time) error { return nil }

// recover answers a panic with a coded 500 and logs it with its stack.
func (e *edge) recover(w http.ResponseWriter, r *http.Request) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	e.log.ErrorContext(r.Context(), "panic", "panic", p, "path", r.URL.Path, "stack", string(debug.Stack()))
	writeError(w, http.StatusInternalServerError, CodeInternal, "Internal server error.", FromContext(r.Context()).ID)
}

// NewServer returns an http.Server for h with the surface's timeouts: a
// short one for headers (bodies have their own, in the edge), and writes
// bounded a little past the request deadline.
func NewServer(h http.Handler, requestTimeout time.Duration, log *slog.Logger) *http.Server {
	if requestTimeout <= 0 {
		requestTimeout = DefaultRequestTimeout
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      requestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func newRequestID() string {
	// Unique, not secret: the runtime's per-thread generator is enough.
	return strconv.FormatUint(rand.Uint64()|1<<63, 16)
}

// ValidOrigin reports whether o is a browser origin as an Origin header
// carries it: http or https, a host, an optional port, nothing else. rs/cors
// reads a * anywhere in an allowed origin as a wildcard ("https://*" allows
// every origin), so Options.CORSOrigins must hold only valid origins.
func ValidOrigin(o string) bool {
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Hostname() != "" &&
		!strings.Contains(o, "*") && u.User == nil && u.Path == "" && u.RawQuery == "" && u.Fragment == "" &&
		u.Scheme+"://"+u.Host == o
}
