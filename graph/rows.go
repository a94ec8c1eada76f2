package graph

import (
	"encoding/json"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/twostep/twostep/auth"
)

// DefaultRowLimit is how many rows of lists one operation may ask for. The
// complexity limit counts fields, one each, whatever a list holds, so forty
// aliases of securityEvents(first: 100) are cheap to send and read 4,000
// rows; the row limit counts what the lists may hold. Three full pages fit
// (an administrator's users, auditEvents and sessions at once).
const DefaultRowLimit = 3 * auth.MaxPage

// listFields are the root fields that read a list from the store. A
// connection may read its first (capped at auth.MaxPage; the schema's
// default when not given); sessions, which has no pages, counts as a full
// page.
var listFields = map[string]bool{"securityEvents": true, "auditEvents": true, "users": true, "sessions": true}

// checkRows refuses an operation whose lists may hold more than limit rows
// with these variables. It runs for every request of an operation that
// reads lists (first may be a variable); the others skip it.
func checkRows(oc *graphql.OperationContext, lists []*ast.Field, limit int) *gqlerror.Error {
	rows := 0
	for _, f := range lists {
		rows += pageRows(f, oc.Variables)
	}
	if rows <= limit {
		return nil
	}
	return guardError(errComplexityCode, fmt.Sprintf("The operation's lists may hold %d rows, more than the limit of %d (each list counts its first, at most %d; sessions counts %d).",
		rows, limit, auth.MaxPage, auth.MaxPage))
}

// pageRows is how many rows list field f may read.
func pageRows(f *ast.Field, vars map[string]any) int {
	if f.Definition == nil {
		return auth.MaxPage
	}
	def := f.Definition.Arguments.ForName("first")
	if def == nil {
		return auth.MaxPage
	}
	var v any
	if a := f.Arguments.ForName("first"); a != nil {
		v, _ = a.Value.Value(vars)
	}
	if v == nil && def.DefaultValue != nil { // not given, or null: the resolver uses the schema's default
		v, _ = def.DefaultValue.Value(nil)
	}
	n, ok := intValue(v)
	if !ok {
		return auth.MaxPage
	}
	return int(min(max(n, 0), auth.MaxPage))
}

// intValue reads an Int argument, which gqlparser gives as int64 from a
// literal and variables may carry as a JSON number.
func intValue(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}
