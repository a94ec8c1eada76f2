package graph

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/internal/httpedge"
)

// Defaults of HandlerConfig. A legitimate twostep operation is a few dozen
// tokens and three levels deep; the largest thing a tool sends, the
// introspection query behind GraphiQL, is about 180 tokens and 15 levels
// deep (its TypeRef fragment). The limits leave room for that and not much
// more, because what a refusal costs grows with what is let in
// (BenchmarkRefuse).
const (
	DefaultTokenLimit      = 500
	DefaultComplexityLimit = 200
	DefaultDepthLimit      = 20
)

// HandlerConfig configures NewHandler.
type HandlerConfig struct {
	Auth   *auth.Service // required
	Logger *slog.Logger

	// Introspection enables schema introspection (development only); "did
	// you mean" suggestions stay off regardless.
	Introspection bool

	TokenLimit      int // parser token limit
	ComplexityLimit int
	DepthLimit      int
	RowLimit        int // rows the lists of one operation may hold (DefaultRowLimit)

	// Observer, if set, is told of every operation answered (metrics).
	Observer OperationObserver
}

// NewHandler returns the GraphQL endpoint: POST with a JSON body (which
// httpedge has already read and capped) and GET for queries only, a
// parsed-query cache, parser token, depth and complexity limits, one
// sensitive mutation per operation, no suggestions, introspection only when
// enabled, and the error presenter. Mount it at /graphql behind httpedge.
func NewHandler(cfg HandlerConfig) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
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
	if cfg.RowLimit <= 0 {
		cfg.RowLimit = DefaultRowLimit
	}
	log := cfg.Logger
	exec := executor.New(NewExecutableSchema(Config{
		Resolvers:  &Resolver{auth: cfg.Auth},
		Directives: DirectiveRoot{Auth: authDirective(cfg.Auth), HasRole: hasRoleDirective(cfg.Auth)},
	}))
	exec.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	exec.SetParserTokenLimit(cfg.TokenLimit)
	exec.SetDisableSuggestion(true)
	if cfg.Introspection {
		exec.Use(extension.Introspection{})
	}
	guard := newOperationGuard(cfg.DepthLimit, cfg.ComplexityLimit, cfg.RowLimit, cfg.Introspection)
	exec.Use(guard)
	// gqlgen runs sibling fields on goroutines of their own, where the
	// edge's recoverer cannot reach: a panic there is recovered here, logged
	// with its stack, and answered INTERNAL_SERVER_ERROR.
	exec.SetRecoverFunc(recoverFunc(log))
	exec.SetErrorPresenter(errorPresenter(log))
	return &server{exec: exec, guard: guard, observer: cfg.Observer, invalid: []string{InvalidField}}
}

// server serves GraphQL over HTTP itself rather than through gqlgen's
// transports: the body is decoded once (httpedge has read it), every
// refusal carries extensions.code, and nothing echoes the request back.
type server struct {
	exec     *executor.Executor
	guard    *operationGuard
	observer OperationObserver // nil: none
	invalid  []string          // the fields of an invalid operation
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()["Cache-Control"] = noStore
	var params graphql.RawParams
	switch r.Method {
	case http.MethodPost:
		if !decodeBody(httpedge.Body(r), &params) {
			httpedge.WriteError(w, http.StatusBadRequest, httpedge.CodeBadRequest, "The request body must be one JSON object with a query.")
			s.observe(s.invalid, httpedge.CodeBadRequest)
			return
		}
	case http.MethodGet, http.MethodHead:
		if !s.fromQueryString(w, r, &params) {
			s.observe(s.invalid, httpedge.CodeBadRequest)
			return
		}
	case http.MethodOptions:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		w.WriteHeader(http.StatusOK)
		return
	} // other methods: the edge has answered 405 already
	params.Headers = r.Header
	graphQLResponse := wantsGraphQLResponse(r.Header.Get("Accept"))
	if graphQLResponse {
		w.Header()["Content-Type"] = contentGraphQLResponse
	} else {
		w.Header()["Content-Type"] = contentJSON
	}

	ctx := graphql.StartOperationTrace(r.Context())
	oc, errs := s.exec.CreateOperationContext(ctx, &params)
	if errs == nil && r.Method != http.MethodPost && oc.Operation.Operation != ast.Query {
		errs = gqlerror.List{guardError(errGuardCode, "Only queries may be sent with GET; send mutations with POST.")}
	}
	if errs != nil {
		status := http.StatusOK
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			status = http.StatusUnprocessableEntity
			if graphQLResponse {
				status = http.StatusBadRequest
			}
		}
		w.WriteHeader(status)
		resp := s.exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs)
		writeResponse(w, resp)
		s.observeOperation(oc, resp)
		return
	}
	responses, ctx := s.exec.DispatchOperation(withAuthOnce(ctx), oc)
	resp := responses(ctx)
	writeResponse(w, resp)
	s.observeOperation(oc, resp)
}

var (
	noStore                = []string{"no-store"}
	contentJSON            = []string{"application/json"}
	contentGraphQLResponse = []string{"application/graphql-response+json"}
)

// fromQueryString reads a GET request's operation, or answers a coded 400.
func (s *server) fromQueryString(w http.ResponseWriter, r *http.Request, p *graphql.RawParams) bool {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		httpedge.WriteError(w, http.StatusBadRequest, httpedge.CodeBadRequest, "The query string is malformed.")
		return false
	}
	p.Query, p.OperationName = q.Get("query"), q.Get("operationName")
	for name, dst := range map[string]*map[string]any{"variables": &p.Variables, "extensions": &p.Extensions} {
		if v := q.Get(name); v != "" && !decode([]byte(v), dst) {
			httpedge.WriteError(w, http.StatusBadRequest, httpedge.CodeBadRequest, "The "+name+" parameter must be a JSON object.")
			return false
		}
	}
	return true
}

// decodeBody decodes a POST body, one JSON object, into p, and reports
// whether it could. Variables and extensions are decoded as gqlgen's
// transports do (numbers kept as json.Number), and only when present.
func decodeBody(body []byte, p *graphql.RawParams) bool {
	var raw struct {
		Query         string          `json:"query"`
		OperationName string          `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		Extensions    json.RawMessage `json:"extensions"`
	}
	// null (or any JSON that is not an object) would decode as an empty
	// operation: it is a malformed body, not an invalid query.
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(body, &raw) != nil {
		return false
	}
	p.Query, p.OperationName = raw.Query, raw.OperationName
	for _, f := range []struct {
		raw json.RawMessage
		dst *map[string]any
	}{{raw.Variables, &p.Variables}, {raw.Extensions, &p.Extensions}} {
		if len(f.raw) > 0 && string(f.raw) != "null" && !decode(f.raw, f.dst) {
			return false
		}
	}
	return true
}

// decode decodes data into v as gqlgen's transports do (numbers kept as
// json.Number), and reports whether it could.
func decode(data []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v) == nil
}

// wantsGraphQLResponse reports whether the client asked for
// application/graphql-response+json before application/json, as gqlgen
// decides it: then a refused operation is a 400 rather than a 422.
func wantsGraphQLResponse(accept string) bool {
	if accept == "" {
		return false
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/json":
			return false
		case "application/graphql-response+json":
			return true
		}
	}
	return true
}

// writeResponse writes a GraphQL response. Without errors or extensions,
// the data gqlgen marshalled is written as it is instead of going through
// encoding/json again.
func writeResponse(w http.ResponseWriter, resp *graphql.Response) {
	if len(resp.Errors) == 0 && len(resp.Extensions) == 0 && resp.Label == "" && resp.Path == nil && resp.HasNext == nil && len(resp.Data) > 0 {
		buf := make([]byte, 0, len(resp.Data)+10)
		buf = append(buf, `{"data":`...)
		buf = append(buf, resp.Data...)
		buf = append(buf, '}')
		_, _ = w.Write(buf)
		return
	}
	b, err := json.Marshal(resp)
	if err != nil {
		httpedge.WriteError(w, http.StatusInternalServerError, httpedge.CodeInternal, "Internal server error.")
		return
	}
	_, _ = w.Write(b)
}
