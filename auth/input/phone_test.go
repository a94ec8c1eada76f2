package input

import (
	"fmt"
	"strings"
	"testing"
)

// newPhones returns a Phones for region and allowed, failing tb on error.
func newPhones(tb testing.TB, region string, allowed ...int) *Phones {
	tb.Helper()
	p, err := NewPhones(region, allowed)
	if err != nil {
		tb.Fatalf("NewPhones(%q, %v) = %v", region, allowed, err)
	}
	return p
}

func TestNewPhones(t *testing.T) {
	tests := []struct {
		name    string
		region  string
		allowed []int
		wantErr bool
	}{
		{name: "US, every country", region: "US"},
		{name: "lower-case region", region: "gb", allowed: []int{44}},
		{name: "allowlist with default's code", region: "US", allowed: []int{1, 44}},
		{name: "unknown region", region: "XX", wantErr: true},
		{name: "empty region", region: "", wantErr: true},
		{name: "world region", region: "001", wantErr: true},
		{name: "unknown calling code", region: "US", allowed: []int{1, 999}, wantErr: true},
		{name: "default region not allowed", region: "US", allowed: []int{44}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPhones(tt.region, tt.allowed)
			if (err != nil) != tt.wantErr {
				t.Errorf("NewPhones(%q, %v) = %v, want error %v", tt.region, tt.allowed, err, tt.wantErr)
			}
		})
	}
}

func TestPhonesNormalize(t *testing.T) {
	us := newPhones(t, "US")
	gb := newPhones(t, "GB")
	usgb := newPhones(t, "US", 1, 44)
	const sms = "must be a mobile number that can receive SMS, e.g. +14155550123"
	tests := []struct {
		name   string
		phones *Phones
		in     string
		want   string
		why    string
	}{
		{name: "E.164", phones: us, in: "+14155554567", want: "+14155554567"},
		{name: "US national", phones: us, in: "(415) 555-4567", want: "+14155554567"},
		{name: "US national with dots", phones: us, in: "415.555.4567", want: "+14155554567"},
		{name: "US with trunk 1", phones: us, in: "1 415 555 4567", want: "+14155554567"},
		{name: "spaces around", phones: us, in: "  +1 415 555 4567 \n", want: "+14155554567"},
		{name: "GB national mobile", phones: gb, in: "07400 123456", want: "+447400123456"},
		{name: "GB mobile from US region", phones: us, in: "+44 7400 123456", want: "+447400123456"},
		{name: "international prefix 00 in GB", phones: gb, in: "0049 151 12345678", want: "+4915112345678"},
		{name: "German mobile with slash", phones: us, in: "+49 151/12345678", want: "+4915112345678"},
		{name: "allowed country", phones: usgb, in: "+447400123456", want: "+447400123456"},

		{name: "empty", phones: us, in: "", why: "is required"},
		{name: "blank", phones: us, in: " \t", why: "is required"},
		{name: "GB national read as US", phones: us, in: "07400 123456", why: reasonPhone},
		{name: "too short", phones: us, in: "+1 415 555", why: reasonPhone},
		{name: "too long for E.164", phones: us, in: "+1 415 555 4567 1234 5678", why: reasonPhone},
		{name: "over 32 bytes", phones: us, in: "+1" + strings.Repeat(" ", 21) + "4155554567", why: reasonPhone},
		{name: "letters", phones: us, in: "1-800-FLOWERS", why: reasonPhone},
		{name: "extension", phones: us, in: "+1 415 555 4567 ext 12", why: reasonPhone},
		{name: "fullwidth digits", phones: us, in: "＋１４１５５５５４５６７", why: reasonPhone},
		{name: "fullwidth digits, short", phones: us, in: "+1415555456７", why: reasonPhone},
		{name: "Arabic-Indic digits", phones: us, in: "+١٤١٥٥٥٥٤٥٦٧", why: reasonPhone},
		{name: "zero-width space", phones: us, in: "+1415\u200b5554567", why: reasonPhone},
		{name: "right-to-left mark", phones: us, in: "\u200f+14155554567", why: reasonPhone},
		{name: "NUL", phones: us, in: "+1415555\x004567", why: reasonPhone},
		{name: "unassigned country code", phones: us, in: "+999 1234 5678", why: reasonPhone},
		{name: "disallowed country", phones: usgb, in: "+33 6 12 34 56 78", why: "must be from a supported country"},
		{name: "GB landline", phones: gb, in: "020 7946 0958", why: sms},
		{name: "US toll free", phones: us, in: "+1 800 555 1234", why: sms},
		{name: "US premium rate", phones: us, in: "+1 900 555 1234", why: sms},
		{name: "GB premium rate", phones: gb, in: "09098 790 000", why: sms},
		{name: "international freephone", phones: us, in: "+800 1234 5678", why: sms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.phones.Normalize(tt.in)
			checkError(t, fmt.Sprintf("Normalize(%q)", tt.in), err, FieldPhone, tt.why)
			if got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "NANP", in: "+14155554567", want: "+1******4567"},
		{name: "two-digit code", in: "+447400123456", want: "+44******3456"},
		{name: "three-digit code", in: "+353861234567", want: "+353*****4567"},
		{name: "unknown code falls back to one digit", in: "+99912345678", want: "+9******5678"},
		{name: "eight digits keep four", in: "+4412345678", want: "+44****5678"},
		{name: "seven digits keep three", in: "+3541234567", want: "+354****567"},
		{name: "five digits keep two", in: "+29012345", want: "+290***45"},
		{name: "too short to show any", in: "+441234", want: "+******"},
		{name: "short", in: "+12", want: "+**"},
		{name: "only plus", in: "+", want: "+"},
		{name: "empty", in: "", want: ""},
		{name: "no plus", in: "14155554567", want: "***********"},
		{name: "formatted", in: "+1 415 555 4567", want: "+**************"},
		{name: "fullwidth digit", in: "+1415555456７", want: "+***********"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskPhone(tt.in); got != tt.want {
				t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCallingCode(t *testing.T) {
	tests := []struct {
		e164 string
		want int
	}{
		{"+14155554567", 1},
		{"+447400123456", 44},
		{"+4915112345678", 49},
		{"+35312345678", 353},
		{"4155554567", 0},
		{"+", 0},
		{"", 0},
	}
	for _, tt := range tests {
		if got := CallingCode(tt.e164); got != tt.want {
			t.Errorf("CallingCode(%q) = %d, want %d", tt.e164, got, tt.want)
		}
	}
}
