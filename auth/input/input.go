// Package input normalises and validates everything a client sends to
// twostep: email addresses, phone numbers, passwords, one-time codes and MFA
// tokens. It runs before any business rule, so that auth and store only ever
// see canonical values (lower-case email, E.164 phone) and so that hostile
// input (invisible characters, look-alike digits, oversized strings) is
// refused with a reason that is safe to show the user.
package input

// Field names used in Error.Field; they match the GraphQL argument names.
const (
	FieldEmail    = "email"
	FieldPassword = "password"
	FieldPhone    = "phone"
	FieldCode     = "code"
	FieldMFAToken = "mfaToken"
)

// Error reports a value that a client sent and that cannot be used. Reason is
// a short sentence meant for the user (for example "must be a valid email
// address"); it never repeats the value, so it is safe to show and to log.
// Every function of this package returns its errors as *Error; match them
// with errors.As.
type Error struct {
	Field  string // argument the value came in, one of the Field constants
	Reason string
}

// Error returns "input: <field>: <reason>".
func (e *Error) Error() string {
	return "input: " + e.Field + ": " + e.Reason
}

func invalid(field, reason string) error {
	return &Error{Field: field, Reason: reason}
}
