package graph

import (
	"github.com/99designs/gqlgen/graphql"

	"github.com/twostep/twostep/auth"
)

// OperationObserver is told of each operation the handler answers, once,
// after it ran: its root fields and its result code.
type OperationObserver interface {
	// Operation reports one operation. fields are the names (never the
	// aliases) of its root fields, each once, so every name is one of the
	// schema's; an operation that was not valid GraphQL, or a request
	// without one, has the single field InvalidField. code is the first
	// error's extensions.code, or CodeOK. Operation must not keep or
	// modify fields, and must be cheap and safe for concurrent use.
	Operation(fields []string, code string)
}

// The fixed values an OperationObserver is given besides the schema's
// field names and the error codes.
const (
	InvalidField = "invalid"
	CodeOK       = "OK"
)

// observeOperation reports an answered operation to the observer.
func (s *server) observeOperation(oc *graphql.OperationContext, resp *graphql.Response) {
	if s.observer == nil {
		return
	}
	fields := s.invalid
	// gqlgen sets the operation only once the document is valid, so its
	// root fields are the schema's, whatever the client sent.
	if oc != nil && oc.Operation != nil {
		fields = s.guard.rootFields(oc)
	}
	code := CodeOK
	if len(resp.Errors) > 0 {
		code, _ = resp.Errors[0].Extensions["code"].(string)
		if code == "" {
			code = string(auth.CodeInternal) // the error presenter always sets one
		}
	}
	s.observer.Operation(fields, code)
}

func (s *server) observe(fields []string, code string) {
	if s.observer != nil {
		s.observer.Operation(fields, code)
	}
}
