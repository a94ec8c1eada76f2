package graph

import (
	"fmt"
	"io"
	"strconv"

	"github.com/twostep/twostep/auth"
)

// Role is the schema's enum Role, written here rather than generated so
// that a value that is not a role can never be an internal error: the
// validator refuses one in the query or its variables
// (GRAPHQL_VALIDATION_FAILED), and one that got past it would be
// BAD_USER_INPUT at the field roles.
type Role string

// RoleAdmin is the one role.
const RoleAdmin Role = "ADMIN"

// IsValid reports whether e is a role.
func (e Role) IsValid() bool { return e == RoleAdmin }

func (e Role) String() string { return string(e) }

// UnmarshalGQL reads a role from a query or its variables.
func (e *Role) UnmarshalGQL(v any) error {
	str, ok := v.(string)
	if ok {
		*e = Role(str)
	}
	if !ok || !e.IsValid() {
		return &auth.Error{Code: auth.CodeBadUserInput, Field: "roles", Message: "Roles must be among ADMIN."}
	}
	return nil
}

// MarshalGQL writes a role.
func (e Role) MarshalGQL(w io.Writer) { _, _ = fmt.Fprint(w, strconv.Quote(e.String())) }
