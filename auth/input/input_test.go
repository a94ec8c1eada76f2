package input

import (
	"errors"
	"testing"
)

// checkError fails unless err is an *Error for field with reason want, or
// nil when want is "".
func checkError(tb testing.TB, call string, err error, field, want string) {
	tb.Helper()
	if want == "" {
		if err != nil {
			tb.Errorf("%s = %v, want no error", call, err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		tb.Errorf("%s = %v, want *Error %q", call, err, want)
		return
	}
	if e.Field != field || e.Reason != want {
		tb.Errorf("%s = %q, want field %q reason %q", call, err, field, want)
	}
}

func TestErrorString(t *testing.T) {
	err := error(&Error{Field: FieldEmail, Reason: "must be a valid email address"})
	if got, want := err.Error(), "input: email: must be a valid email address"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
