package input

import (
	"fmt"
	"strings"
	"testing"
)

func TestEmail(t *testing.T) {
	local64 := strings.Repeat("a", 64)
	// addrLen returns an address of exactly n bytes with a 64-byte local part.
	addrLen := func(n int) string {
		d := local64 + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "."
		return d + strings.Repeat("d", n-len(d)-4) + ".com"
	}
	tests := []struct {
		name string
		in   string
		want string // normalised output when reason is ""
		why  string // expected Error.Reason
	}{
		{name: "plain", in: "alice@example.com", want: "alice@example.com"},
		{name: "mixed case", in: "Alice.Smith@Example.COM", want: "alice.smith@example.com"},
		{name: "surrounding spaces", in: "  bob@example.org\t\n", want: "bob@example.org"},
		{name: "surrounding no-break space", in: "\u00a0bob@example.org\u3000", want: "bob@example.org"},
		{name: "plus tag", in: "bob+tag@mail.example.co.uk", want: "bob+tag@mail.example.co.uk"},
		{name: "atext specials", in: "o'brien!#$%&*=?^_`{|}~@example.com", want: "o'brien!#$%&*=?^_`{|}~@example.com"},
		{name: "hyphen in domain", in: "x@my-host.example", want: "x@my-host.example"},
		{name: "internationalised", in: "JOSÉ@EXAMPLE.ES", want: "josé@example.es"},
		{name: "decomposed accent is composed", in: "jose\u0301@example.es", want: "jos\u00e9@example.es"},
		{name: "unicode domain", in: "user@例え.jp", want: "user@例え.jp"},
		{name: "local part at 64", in: local64 + "@example.com", want: local64 + "@example.com"},
		{name: "total at 254", in: addrLen(254), want: addrLen(254)},

		{name: "empty", in: "", why: "is required"},
		{name: "only spaces", in: " \t ", why: "is required"},
		{name: "local part at 65", in: local64 + "a@example.com", why: "is too long"},
		{name: "total at 255", in: addrLen(255), why: "is too long"},
		{name: "huge", in: strings.Repeat("a", 10000) + "@example.com", why: "is too long"},
		{name: "no at", in: "alice.example.com", why: reasonEmail},
		{name: "two ats", in: "a@b@example.com", why: reasonEmail},
		{name: "no dot in domain", in: "root@localhost", why: reasonEmail},
		{name: "display name", in: "Alice <alice@example.com>", why: reasonEmail},
		{name: "angle brackets", in: "<alice@example.com>", why: reasonEmail},
		{name: "comment", in: "alice(work)@example.com", why: reasonEmail},
		{name: "quoted local part", in: `"alice"@example.com`, why: reasonEmail},
		{name: "quoted space", in: `"al ice"@example.com`, why: reasonEmail},
		{name: "inner space", in: "al ice@example.com", why: reasonEmail},
		{name: "zero-width space", in: "al\u200bice@example.com", why: reasonEmail},
		{name: "right-to-left mark", in: "alice@example.com\u200f", why: reasonEmail},
		{name: "right-to-left override", in: "\u202ealice@example.com", why: reasonEmail},
		{name: "byte order mark", in: "\ufeffalice@example.com", why: reasonEmail},
		{name: "NUL", in: "alice\x00@example.com", why: reasonEmail},
		{name: "newline inside", in: "alice@exa\nmple.com", why: reasonEmail},
		{name: "invalid UTF-8", in: "alice\xff@example.com", why: reasonEmail},
		{name: "leading dot", in: ".alice@example.com", why: reasonEmail},
		{name: "double dot", in: "al..ice@example.com", why: reasonEmail},
		{name: "trailing dot in domain", in: "alice@example.com.", why: reasonEmail},
		{name: "empty label", in: "alice@example..com", why: reasonEmail},
		{name: "hyphen starts label", in: "alice@-example.com", why: reasonEmail},
		{name: "hyphen ends label", in: "alice@example-.com", why: reasonEmail},
		{name: "underscore in domain", in: "alice@ex_ample.com", why: reasonEmail},
		{name: "IP literal", in: "alice@[192.0.2.1]", why: reasonEmail},
		{name: "numeric top-level label", in: "alice@192.0.2.1", why: reasonEmail},
		{name: "label too long", in: "alice@" + strings.Repeat("b", 64) + ".com", why: reasonEmail},
		{name: "empty local part", in: "@example.com", why: reasonEmail},
		{name: "label starts with a mark", in: "alice@\u0301x.com", why: reasonEmail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Email(tt.in)
			checkError(t, fmt.Sprintf("Email(%q)", tt.in), err, FieldEmail, tt.why)
			if got != tt.want {
				t.Errorf("Email(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
