package graph

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Codes of operations refused by operationGuard.
const (
	errGuardCode      = "GRAPHQL_VALIDATION_FAILED"
	errComplexityCode = "COMPLEXITY_LIMIT_EXCEEDED"
)

// sensitiveFields are the mutations that do expensive or abusable work
// (bcrypt, SMS, code checks). An operation may hold one of them, once.
var sensitiveFields = map[string]bool{
	"register": true, "login": true, "verifyOtp": true, "refreshSession": true,
	"resendOtp": true, "requestPasswordReset": true, "resetPassword": true, "changePassword": true,
	"startPhoneChange": true, "confirmPhoneChange": true, "deleteAccount": true,
}

// sensitiveMessage names them, so the refusal follows the map.
var sensitiveMessage = "An operation may contain at most one sensitive mutation (" +
	strings.Join(slices.Sorted(maps.Keys(sensitiveFields)), ", ") + "), once."

// operationGuard refuses, before any resolver runs, operations that nest
// deeper than depthLimit, cost more than complexityLimit, carry more than
// one sensitive mutation (through aliases, repeats or fragments), so no
// batching trick multiplies attempts, or, unless introspection is enabled,
// introspect (gqlgen would only fail them while executing, as an internal
// error).
//
// None of this depends on variables (no field of the schema has a
// complexity function), so the verdict is worked out once per parsed
// operation and kept beside gqlgen's query cache. The row limit does (a
// list's first may be a variable): the verdict keeps the operation's list
// fields, and their rows are counted for each request (checkRows).
type operationGuard struct {
	depthLimit, complexityLimit int
	rowLimit                    int
	introspection               bool
	es                          graphql.ExecutableSchema
	verdicts                    *lru.Cache[*ast.OperationDefinition, verdict]
}

// verdict is a refusal's message and code (the zero code lets the
// operation through), and the operation's root fields for the handler's
// observer.
type verdict struct {
	msg, code string
	fields    []string
	lists     []*ast.Field // root fields that read lists, checked against the row limit per request
}

func newOperationGuard(depthLimit, complexityLimit, rowLimit int, introspection bool) *operationGuard {
	// As many as the query cache holds.
	verdicts, _ := lru.New[*ast.OperationDefinition, verdict](1000)
	return &operationGuard{depthLimit: depthLimit, complexityLimit: complexityLimit, rowLimit: rowLimit, introspection: introspection, verdicts: verdicts}
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*operationGuard)(nil)

func (*operationGuard) ExtensionName() string { return "OperationGuard" }

func (g *operationGuard) Validate(schema graphql.ExecutableSchema) error {
	g.es = schema
	return nil
}

func (g *operationGuard) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	v, ok := g.verdicts.Get(oc.Operation)
	if !ok {
		v = g.judge(ctx, oc)
		g.verdicts.Add(oc.Operation, v)
	}
	if v.code == "" {
		if len(v.lists) > 0 {
			return checkRows(oc, v.lists, g.rowLimit)
		}
		return nil
	}
	return guardError(v.code, v.msg)
}

func (g *operationGuard) judge(ctx context.Context, oc *graphql.OperationContext) verdict {
	w := walker{fragments: oc.Doc.Fragments}
	set := oc.Operation.SelectionSet
	v := verdict{fields: w.rootFields(set, nil), lists: w.lists(set)}
	switch {
	case w.depth(set, 1) > g.depthLimit:
		v.msg, v.code = "The operation is nested too deeply.", errGuardCode
	case w.countSensitive(set) > 1:
		v.msg, v.code = sensitiveMessage, errGuardCode
	case !g.introspection && w.introspects(set):
		v.msg, v.code = "Introspection is disabled.", errGuardCode
	default:
		if c := complexity.Calculate(ctx, g.es, oc.Operation, nil); c > g.complexityLimit {
			v.msg, v.code = fmt.Sprintf("operation has complexity %d, which exceeds the limit of %d", c, g.complexityLimit), errComplexityCode
		}
	}
	return v
}

// rootFields returns the root fields of oc's operation, which must be
// valid: from the verdict kept for it, or, for an operation the guard did
// not judge (its variables were refused first), worked out again.
func (g *operationGuard) rootFields(oc *graphql.OperationContext) []string {
	if v, ok := g.verdicts.Peek(oc.Operation); ok {
		return v.fields
	}
	return walker{fragments: oc.Doc.Fragments}.rootFields(oc.Operation.SelectionSet, nil)
}

// guardError is a refusal of the guard's, with its code.
func guardError(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}
