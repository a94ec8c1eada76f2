package graph

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/twostep/twostep/auth"
)

// Defaults of HandlerConfig. A legitimate twostep operation is a few hundred
// bytes, a few dozen tokens and three levels deep; the largest thing a tool
// sends, the introspection query behind GraphiQL, is about 1.7 KB, 180
// tokens and 15 levels deep (its TypeRef fragment). The limits leave room
// for that and not much more, because what a refusal costs grows with what
// is let in (BenchmarkRefuse).
const (
	DefaultMaxBodyBytes    = 8 << 10
	DefaultTokenLimit      = 500
	DefaultComplexityLimit = 200
	DefaultDepthLimit      = 20
)

// HandlerConfig configures NewHandler.
type HandlerConfig struct {
	Auth   *auth.Service // required
	Logger *slog.Logger

	// Introspection enables schema introspection and "did you mean"
	// suggestions stay off regardless. Development only.
	Introspection bool

	MaxBodyBytes    int64 // request body cap
	TokenLimit      int   // parser token limit
	ComplexityLimit int
	DepthLimit      int

	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	// Empty: the client IP is the connection's.
	TrustedProxies []netip.Prefix
}

// NewHandler returns the GraphQL endpoint with every security default
// applied: JSON POST (and GET for queries only), a body cap, parser token,
// depth and complexity limits, one sensitive mutation per operation, no
// suggestions, introspection only when enabled, panics recovered, and the
// error presenter. Mount it at /graphql.
func NewHandler(cfg HandlerConfig) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.TokenLimit <= 0 {
		cfg.TokenLimit = DefaultTokenLimit
	}
	if cfg.ComplexityLimit <= 0 {
		cfg.ComplexityLimit = DefaultComplexityLimit
	}
	if cfg.DepthLimit <= 0 {
		cfg.DepthLimit = DefaultDepthLimit
	}
	log := cfg.Logger

	schema := NewExecutableSchema(Config{
		Resolvers:  &Resolver{auth: cfg.Auth, log: log},
		Directives: DirectiveRoot{Auth: authDirective(cfg.Auth)},
	})
	srv := handler.New(schema)
	srv.AddTransport(transport.Options{AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions}})
	srv.AddTransport(getTransport{}) // runs queries only, never mutations
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(cfg.TokenLimit)
	srv.SetDisableSuggestion(true)
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(operationGuard{depthLimit: cfg.DepthLimit, introspection: cfg.Introspection})
	srv.Use(extension.FixedComplexityLimit(cfg.ComplexityLimit))
	srv.SetErrorPresenter(errorPresenter(log))
	srv.SetRecoverFunc(recoverFunc(log))

	return requestMiddleware(log, cfg.TrustedProxies, cfg.MaxBodyBytes, srv)
}

// requestMiddleware caps the body, refuses POSTs that are not JSON (a form,
// text/plain or multipart body is how a cross-site request would look) or
// not one GraphQL request object (an array batch), refuses other methods,
// and records the request's id, client IP and bearer token for the
// resolvers. Its refusals carry extensions.code like every other error;
// gqlgen's own would not, and would echo the body back.
func requestMiddleware(log *slog.Logger, trusted []netip.Prefix, maxBody int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := requestInfo{
			id:       newRequestID(),
			clientIP: clientIP(r, trusted),
			bearer:   bearerToken(r.Header.Get("Authorization")),
		}
		w.Header().Set("X-Request-Id", ri.id)
		w.Header().Set("Cache-Control", "no-store")
		switch r.Method {
		case http.MethodGet, http.MethodOptions:
		case http.MethodPost:
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, "Requests must be application/json.", "UNSUPPORTED_MEDIA_TYPE")
				return
			}
			if r.ContentLength > maxBody {
				writeError(w, http.StatusRequestEntityTooLarge, "The request body is too large.", "REQUEST_TOO_LARGE")
				return
			}
			// Read here, not in gqlgen, so that a chunked body over the cap
			// is a 413 and a body gqlgen could not decode a coded 400.
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
			var tooLarge *http.MaxBytesError
			switch {
			case errors.As(err, &tooLarge):
				writeError(w, http.StatusRequestEntityTooLarge, "The request body is too large.", "REQUEST_TOO_LARGE")
				return
			case err != nil:
				writeError(w, http.StatusBadRequest, "The request body could not be read.", errBadRequestCode)
				return
			case !decodesAs[graphql.RawParams](body):
				writeError(w, http.StatusBadRequest, "The request body must be one JSON object with a query.", errBadRequestCode)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeError(w, http.StatusMethodNotAllowed, "Use POST, or GET for queries.", errBadRequestCode)
			return
		}
		if r.Header.Get("Upgrade") != "" {
			// Nothing here upgrades (no WebSocket transport); gqlgen would
			// refuse the request outright, so serve it as plain HTTP.
			r = r.Clone(r.Context())
			r.Header.Del("Upgrade")
		}
		start := time.Now()
		ctx := newRequestContext(r.Context(), ri)
		next.ServeHTTP(w, r.WithContext(ctx))
		log.DebugContext(ctx, "graphql request", "method", r.Method, "duration", time.Since(start))
	})
}

func writeError(w http.ResponseWriter, status int, msg, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"errors":[{"message":"` + msg + `","extensions":{"code":"` + code + `"}}],"data":null}`))
}

// errBadRequestCode is the code of requests refused before GraphQL sees
// them because they are not GraphQL requests at all.
const errBadRequestCode = "BAD_REQUEST"

// decodesAs reports whether data decodes as a T the way gqlgen's transports
// decode it.
func decodesAs[T any](data []byte) bool {
	var v T
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(&v) == nil
}

// getTransport is gqlgen's GET transport with every refusal coded: a
// malformed query string, undecodable variables, and any operation other
// than a query, which is refused before it is dispatched.
type getTransport struct{ transport.GET }

func (t getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, "The query string is malformed.", errBadRequestCode)
		return
	}
	for _, k := range []string{"variables", "extensions"} {
		if v := q.Get(k); v != "" && !decodesAs[map[string]any]([]byte(v)) {
			writeError(w, http.StatusBadRequest, "The "+k+" parameter must be a JSON object.", errBadRequestCode)
			return
		}
	}
	t.GET.Do(w, r, queriesOnly{exec})
}

// queriesOnly refuses, as a validation error, operations that are not
// queries, so that a GET never runs a mutation.
type queriesOnly struct{ graphql.GraphExecutor }

func (e queriesOnly) CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	oc, errs := e.GraphExecutor.CreateOperationContext(ctx, params)
	if errs == nil && oc.Operation != nil && oc.Operation.Operation != ast.Query {
		return oc, gqlerror.List{guardError("Only queries may be sent with GET; send mutations with POST.")}
	}
	return oc, errs
}

// clientIP returns the address a request came from: the connection's, or,
// when the connection is from a trusted proxy, the right-most address in
// X-Forwarded-For that is not itself a trusted proxy.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	if !isTrusted(addr, trusted) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a.String()
		}
		addr = a
	}
	return addr.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// errGuard is the code of operations refused by operationGuard.
const errGuardCode = "GRAPHQL_VALIDATION_FAILED"

// sensitiveFields are the mutations that do expensive or abusable work
// (bcrypt, SMS, code checks). An operation may hold one of them, once.
var sensitiveFields = map[string]bool{"register": true, "login": true, "verifyOtp": true}

// operationGuard refuses, before any resolver runs, operations that nest
// deeper than depthLimit or carry more than one sensitive mutation (through
// aliases, repeats or fragments), so no batching trick multiplies attempts,
// and, unless introspection is enabled, operations that introspect: gqlgen
// would only fail them while executing, as an internal error.
type operationGuard struct {
	depthLimit    int
	introspection bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = operationGuard{}

func (operationGuard) ExtensionName() string                          { return "OperationGuard" }
func (operationGuard) Validate(schema graphql.ExecutableSchema) error { return nil }

func (g operationGuard) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := walker{fragments: oc.Doc.Fragments}
	depth := w.depth(oc.Operation.SelectionSet, 1)
	if depth > g.depthLimit {
		return guardError("The operation is nested too deeply.")
	}
	if n := w.countSensitive(oc.Operation.SelectionSet); n > 1 {
		return guardError("An operation may contain at most one of register, login and verifyOtp, once.")
	}
	if !g.introspection && w.introspects(oc.Operation.SelectionSet) {
		return guardError("Introspection is disabled.")
	}
	return nil
}

func guardError(msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": errGuardCode}}
}
