package input

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// NIST SP 800-63B section 5.1.1.2 asks for at least 8 characters and no
// composition rules. bcrypt reads at most 72 bytes; a longer password is
// refused rather than silently cut, since the cut tail would not count.
const (
	minPassword = 8
	maxPassword = 72
)

//go:embed common_passwords.txt
var commonPasswordsText string

// commonPasswords is the embedded list as a set, built on first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 10000)
	for line := range strings.Lines(commonPasswordsText) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[line] = struct{}{}
	}
	return set
})

// Password checks a new password (registration or change) against NIST SP
// 800-63B: at least 8 characters, counted as code points; at most 72 bytes,
// bcrypt's limit; valid UTF-8 without control characters, so the user can
// type it again; and not among the 10,000 most common passwords, compared
// case-insensitively. There are no rules about character classes. It returns
// an *Error for field "password" naming the first rule broken.
func Password(s string) error {
	if err := LoginPassword(s); err != nil {
		return err
	}
	if !utf8.ValidString(s) {
		return invalid(FieldPassword, "must be valid UTF-8 text")
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return invalid(FieldPassword, "must not contain control characters")
	}
	if utf8.RuneCountInString(s) < minPassword {
		return invalid(FieldPassword, "must be at least 8 characters long")
	}
	if _, ok := commonPasswords()[strings.ToLower(s)]; ok {
		return invalid(FieldPassword, "is too common; choose one that is harder to guess")
	}
	return nil
}

// LoginPassword checks a password offered at login: 1 to 72 bytes. Only the
// length is checked, so that users whose passwords predate a newer rule can
// still sign in; an over-long password is refused, as at registration,
// because bcrypt would compare only its first 72 bytes. It returns an *Error
// for field "password".
func LoginPassword(s string) error {
	if s == "" {
		return invalid(FieldPassword, "is required")
	}
	if len(s) > maxPassword {
		return invalid(FieldPassword, "must be at most 72 bytes long")
	}
	return nil
}
