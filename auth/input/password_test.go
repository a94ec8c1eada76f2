package input

import (
	"fmt"
	"strings"
	"testing"
)

func TestPassword(t *testing.T) {
	const (
		short  = "must be at least 8 characters long"
		long   = "must be at most 72 bytes long"
		common = "is too common; choose one that is harder to guess"
	)
	tests := []struct {
		name string
		in   string
		why  string
	}{
		{name: "eight ASCII", in: "tq8#vz!p"},
		{name: "passphrase with spaces", in: "correct horse battery staple"},
		{name: "no composition rules", in: "zzqxwvjkpyrt"},
		{name: "eight multi-byte runes", in: "ñøπ∂ƒ©˙∆"},
		{name: "emoji", in: "🔑🔒🗝️🚪🏠🌍🌙⭐"},
		{name: "72 bytes", in: strings.Repeat("k7", 36)},
		{name: "72 bytes of 2-byte runes", in: strings.Repeat("é", 36)},
		{name: "zero-width space is just a character", in: "kite\u200bfloor"},
		{name: "just past the list", in: "frenchie"},

		{name: "empty", in: "", why: "is required"},
		{name: "seven", in: "tq8#vz!", why: short},
		{name: "seven runes in 14 bytes", in: strings.Repeat("é", 7), why: short},
		{name: "73 bytes", in: strings.Repeat("k", 73), why: long},
		{name: "73 bytes of multi-byte runes", in: strings.Repeat("é", 36) + "k", why: long},
		{name: "73 bytes, 4-byte runes", in: strings.Repeat("🔑", 18) + "k", why: long},
		{name: "common", in: "password", why: common},
		{name: "common, upper case", in: "PASSWORD", why: common},
		{name: "common, mixed case", in: "Iloveyou1", why: common},
		{name: "common digits", in: "12345678", why: common},
		{name: "common, last in the list", in: "159753456", why: common},
		{name: "NUL", in: "tq8#vz!p\x00", why: "must not contain control characters"},
		{name: "newline", in: "tq8#vz!p\n", why: "must not contain control characters"},
		{name: "invalid UTF-8", in: "tq8#vz!p\xff", why: "must be valid UTF-8 text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, fmt.Sprintf("Password(%q)", tt.in), Password(tt.in), FieldPassword, tt.why)
		})
	}
}

func TestLoginPassword(t *testing.T) {
	tests := []struct {
		name string
		in   string
		why  string
	}{
		{name: "one byte", in: "x"},
		{name: "common is fine at login", in: "password"},
		{name: "short is fine at login", in: "abc"},
		{name: "control characters are not checked", in: "a\x00b"},
		{name: "72 bytes", in: strings.Repeat("é", 36)},
		{name: "empty", in: "", why: "is required"},
		{name: "73 bytes", in: strings.Repeat("k", 73), why: "must be at most 72 bytes long"},
		{name: "73 bytes of multi-byte runes", in: strings.Repeat("é", 36) + "k", why: "must be at most 72 bytes long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, fmt.Sprintf("LoginPassword(%q)", tt.in), LoginPassword(tt.in), FieldPassword, tt.why)
		})
	}
}

// TestCommonPasswordList guards the embedded file: the generator's output
// must parse into exactly the 10,000 entries it promises, lower-cased.
func TestCommonPasswordList(t *testing.T) {
	set := commonPasswords()
	if len(set) != 10000 {
		t.Errorf("common password list has %d entries, want 10000", len(set))
	}
	for w := range set {
		if w != strings.ToLower(w) || strings.TrimSpace(w) != w {
			t.Errorf("common password %q is not lower-case and trimmed", w)
		}
	}
}
