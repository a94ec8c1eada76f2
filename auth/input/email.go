package input

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits from RFC 5321 section 4.5.3.1, as errata 1690 reads them: a
// forward path holds at most 256 octets including the angle brackets.
const (
	maxEmail      = 254
	maxEmailLocal = 64
	maxLabel      = 63
)

const reasonEmail = "must be a valid email address"

// Email returns the canonical form of an email address: trimmed of
// surrounding white space, lower-cased and in Unicode NFC, so that one
// mailbox maps to one account however it is typed. It returns an *Error for
// field "email" if the address is empty, longer than 254 bytes (or 64 before
// the "@"), or not a plain addr-spec: display names, comments, quoted local
// parts, IP-literal domains, domains without a dot, and invisible, control or
// white-space characters inside are all refused.
func Email(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid(FieldEmail, "is required")
	}
	// Lower-casing may grow a string; this only bounds the work done on
	// absurd input before the exact check below.
	if len(s) > 4*maxEmail {
		return "", invalid(FieldEmail, "is too long")
	}
	if !utf8.ValidString(s) {
		return "", invalid(FieldEmail, reasonEmail)
	}
	// NFC so that "é" typed as one code point or as "e" plus an accent is
	// the same account.
	s = norm.NFC.String(strings.ToLower(s))
	// Refuse what a second pass would still change, so that Email of an
	// output is that output.
	if strings.ToLower(s) != s || !norm.NFC.IsNormalString(s) {
		return "", invalid(FieldEmail, reasonEmail)
	}
	if len(s) > maxEmail {
		return "", invalid(FieldEmail, "is too long")
	}
	for _, r := range s {
		// net/mail accepts any non-ASCII rune (RFC 6532), including
		// zero-width and bidi controls that would make two addresses look
		// alike; only visible characters are allowed.
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) {
			return "", invalid(FieldEmail, reasonEmail)
		}
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "", invalid(FieldEmail, reasonEmail)
	}
	if at > maxEmailLocal {
		return "", invalid(FieldEmail, "is too long")
	}
	// ParseAddress unquotes, drops comments and splits off a display name;
	// demanding its result equal the input keeps only the plain form.
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", invalid(FieldEmail, reasonEmail)
	}
	if !validDomain(s[at+1:]) {
		return "", invalid(FieldEmail, reasonEmail)
	}
	return s, nil
}

// validDomain reports whether d is a host name that mail can be delivered to:
// at least two dot-separated labels of letters, digits and inner hyphens
// (any script, for internationalised domains), and a top-level label that is
// not all digits, which would make it an IP address.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabel || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		if first, _ := utf8.DecodeRuneInString(l); unicode.IsMark(first) {
			return false
		}
		for _, r := range l {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.IndexFunc(tld, func(r rune) bool { return r < '0' || r > '9' }) >= 0
}
