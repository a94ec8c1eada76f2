package input

import (
	"fmt"
	"strings"
	"testing"
)

func TestCode(t *testing.T) {
	const digits = "must be 4 to 10 digits"
	tests := []struct {
		name string
		in   string
		want string
		why  string
	}{
		{name: "six digits", in: "123456", want: "123456"},
		{name: "four digits", in: "0000", want: "0000"},
		{name: "ten digits", in: "0123456789", want: "0123456789"},
		{name: "spaces around", in: " 123456\t\n", want: "123456"},
		{name: "no-break space around", in: "\u00a0123456\u00a0", want: "123456"},

		{name: "empty", in: "", why: "is required"},
		{name: "blank", in: "   ", why: "is required"},
		{name: "three digits", in: "123", why: digits},
		{name: "eleven digits", in: "01234567890", why: digits},
		{name: "spaces inside, as phones show it", in: "12 34 56", want: "123456"},
		{name: "a tab and a newline", in: "123\t456\n", want: "123456"},
		{name: "spaces around too few digits", in: " 12 3 ", why: digits},
		{name: "hyphen", in: "123-456", why: digits},
		{name: "letters", in: "12345a", why: digits},
		{name: "fullwidth digits", in: "１２３４５６", why: digits},
		{name: "Arabic-Indic digits", in: "١٢٣٤٥٦", why: digits},
		{name: "Devanagari digits", in: "१२३४५६", why: digits},
		{name: "superscript digit", in: "12345²", why: digits},
		{name: "zero-width space", in: "123\u200b456", why: digits},
		{name: "right-to-left mark", in: "\u200f123456", why: digits},
		{name: "NUL", in: "123456\x00", why: digits},
		{name: "sign", in: "+123456", why: digits},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Code(tt.in)
			checkError(t, fmt.Sprintf("Code(%q)", tt.in), err, FieldCode, tt.why)
			if got != tt.want {
				t.Errorf("Code(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMFAToken(t *testing.T) {
	const bad = "is malformed"
	tests := []struct {
		name string
		in   string
		why  string
	}{
		{name: "raw URL base64", in: "q3Zx-_09AbCdEfGhIjKlMn"},
		{name: "padded", in: "q3Zx-_09AbCdEfGhIjKlMg=="},
		{name: "128 bytes", in: strings.Repeat("A", 128)},
		{name: "a reset token", in: "reset.q3Zx-_09AbCdEfGhIjKlMn"},
		{name: "a change token", in: "change.q3Zx-_09AbCdEfGhIjKlMn"},

		{name: "empty", in: "", why: "is required"},
		{name: "129 bytes", in: strings.Repeat("A", 129), why: bad},
		{name: "standard base64 plus", in: "q3Zx+09A", why: bad},
		{name: "standard base64 slash", in: "q3Zx/09A", why: bad},
		{name: "three pads", in: "q3Zx===", why: bad},
		{name: "only padding", in: "==", why: bad},
		{name: "inner padding", in: "q3=Zx", why: bad},
		{name: "space", in: " q3Zx", why: bad},
		{name: "dot (JWT)", in: "eyJh.eyJz", why: bad},
		{name: "another prefix", in: "login.q3Zx", why: bad},
		{name: "a prefix alone", in: "reset.", why: bad},
		{name: "two prefixes", in: "reset.change.q3Zx", why: bad},
		{name: "NUL", in: "q3Zx\x00", why: bad},
		{name: "fullwidth letter", in: "q3Ｚx", why: bad},
		{name: "zero-width space", in: "q3\u200bZx", why: bad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, fmt.Sprintf("MFAToken(%q)", tt.in), MFAToken(tt.in), FieldMFAToken, tt.why)
		})
	}
}
