package input

import (
	"errors"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/.

// checkFieldError fails unless err is nil or an *Error for field.
func checkFieldError(tb testing.TB, call string, err error, field string) {
	tb.Helper()
	var e *Error
	if err != nil && (!errors.As(err, &e) || e.Field != field || e.Reason == "") {
		tb.Fatalf("%s = %#v, want nil or *Error for %q", call, err, field)
	}
}

func FuzzEmail(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Email(s)
		checkFieldError(t, "Email", err, FieldEmail)
		if err != nil {
			if out != "" {
				t.Fatalf("Email(%q) = %q, %v; want no output with an error", s, out, err)
			}
			return
		}
		again, err := Email(out)
		if err != nil || again != out {
			t.Fatalf("Email(%q) = %q, %v; want %q, the same output (input %q)", out, again, err, out, s)
		}
		at := strings.LastIndexByte(out, '@')
		switch {
		case len(out) > maxEmail || at < 1 || at > maxEmailLocal:
			t.Fatalf("Email(%q) = %q, breaks the length limits", s, out)
		case !utf8.ValidString(out) || strings.ToLower(out) != out:
			t.Fatalf("Email(%q) = %q, not valid lower-case UTF-8", s, out)
		case strings.ContainsFunc(out, func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) }):
			t.Fatalf("Email(%q) = %q, contains an invisible or space character", s, out)
		case !strings.Contains(out[at:], "."):
			t.Fatalf("Email(%q) = %q, domain has no dot", s, out)
		}
		if a, err := mail.ParseAddress(out); err != nil || a.Address != out || a.Name != "" {
			t.Fatalf("Email(%q) = %q, which net/mail reads as %v, %v", s, out, a, err)
		}
	})
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

func FuzzPhone(f *testing.F) {
	us := newPhones(f, "US")
	gb := newPhones(f, "GB", 44, 353)
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range []*Phones{us, gb} {
			out, err := p.Normalize(s)
			checkFieldError(t, "Normalize", err, FieldPhone)
			if err != nil {
				if out != "" {
					t.Fatalf("Normalize(%q) = %q, %v; want no output with an error", s, out, err)
				}
				continue
			}
			if !e164.MatchString(out) {
				t.Fatalf("Normalize(%q) = %q, not E.164", s, out)
			}
			again, err := p.Normalize(out)
			if err != nil || again != out {
				t.Fatalf("Normalize(%q) = %q, %v; want %q, the same output (input %q)", out, again, err, out, s)
			}
			// The last digits kept and most of the rest hidden, or (a
			// national number under five digits) all of it hidden.
			if m := MaskPhone(out); len(m) != len(out) || strings.Count(m, "*") < (len(m)-4)/2 ||
				m[len(m)-2:] != out[len(out)-2:] && strings.Count(m, "*") != len(m)-1 {
				t.Fatalf("MaskPhone(%q) = %q, want same length, the last digits kept, most masked", out, m)
			}
		}
		// MaskPhone takes anything a log line might hold.
		if m := MaskPhone(s); utf8.RuneCountInString(m) != utf8.RuneCountInString(s) {
			t.Fatalf("MaskPhone(%q) = %q, want one character per input character", s, m)
		}
	})
}

func FuzzPassword(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		reg, login := Password(s), LoginPassword(s)
		checkFieldError(t, "Password", reg, FieldPassword)
		checkFieldError(t, "LoginPassword", login, FieldPassword)
		if (login == nil) != (len(s) >= 1 && len(s) <= maxPassword) {
			t.Fatalf("LoginPassword(%q) = %v, want an error exactly when not 1..72 bytes", s, login)
		}
		if reg != nil {
			return
		}
		if login != nil {
			t.Fatalf("Password(%q) accepted what LoginPassword refuses: %v", s, login)
		}
		if utf8.RuneCountInString(s) < minPassword || len(s) > maxPassword || !utf8.ValidString(s) {
			t.Fatalf("Password(%q) accepted a password outside 8 characters..72 bytes", s)
		}
		if _, ok := commonPasswords()[strings.ToLower(s)]; ok {
			t.Fatalf("Password(%q) accepted a common password", s)
		}
	})
}

func FuzzCode(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Code(s)
		checkFieldError(t, "Code", err, FieldCode)
		if err != nil {
			return
		}
		if len(out) < minCode || len(out) > maxCode || strings.Trim(out, "0123456789") != "" {
			t.Fatalf("Code(%q) = %q, not 4 to 10 ASCII digits", s, out)
		}
		if again, err := Code(out); err != nil || again != out {
			t.Fatalf("Code(%q) = %q, %v; want %q, the same output", out, again, err, out)
		}
	})
}
