package input

import "strings"

const (
	minCode     = 4
	maxCode     = 10
	maxMFAToken = 128
)

// Code returns a one-time code without white space ("12 34 56" is how
// some phones show it, and how people type it). It returns an *Error for
// field "code" unless what remains is 4 to 10 ASCII digits; other Unicode
// digits (fullwidth, Arabic-Indic, …) are refused rather than translated,
// since the SMS provider compares bytes.
func Code(s string) (string, error) {
	if len(s) > 4*maxCode {
		return "", invalid(FieldCode, "must be 4 to 10 digits")
	}
	s = strings.Join(strings.Fields(s), "")
	if s == "" {
		return "", invalid(FieldCode, "is required")
	}
	if len(s) < minCode || len(s) > maxCode || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return "", invalid(FieldCode, "must be 4 to 10 digits")
	}
	return s, nil
}

// MFAToken checks the opaque token that links the two steps of a flow (an
// mfaToken, resetToken or changeToken): 1 to 128 bytes of the URL-safe
// base64 alphabet (RFC 4648 section 5), with or without "=" padding, after
// an optional "reset." or "change." (the step tokens of a password reset
// and a phone change, which releases from before them refuse outright). It
// is not trimmed: tokens are machine-made, so anything else is tampering.
// It returns an *Error for field "mfaToken".
func MFAToken(s string) error {
	if s == "" {
		return invalid(FieldMFAToken, "is required")
	}
	if len(s) > maxMFAToken {
		return invalid(FieldMFAToken, "is malformed")
	}
	for _, prefix := range []string{"reset.", "change."} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			s = rest
			break
		}
	}
	body := strings.TrimRight(s, "=")
	if body == "" || len(s)-len(body) > 2 {
		return invalid(FieldMFAToken, "is malformed")
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return invalid(FieldMFAToken, "is malformed")
		}
	}
	return nil
}
