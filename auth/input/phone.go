package input

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// maxPhoneInput bounds what reaches the parser: the longest E.164 number is
// 16 bytes, and a formatted one with spaces and parentheses stays well
// under 32.
const maxPhoneInput = 32

const reasonPhone = "must be a valid mobile number in international form, e.g. +14155550123"

// Phones normalises phone numbers for one deployment: a default region for
// numbers typed in national format, and the countries it sends SMS to.
// A Phones is read-only after NewPhones and safe for concurrent use.
type Phones struct {
	region  string
	allowed map[int]bool // nil: every country
}

// NewPhones returns a Phones that reads national-format numbers as numbers
// of defaultRegion (an ISO 3166-1 alpha-2 code such as "US") and accepts only
// numbers whose country calling code is in allowedCountryCodes (such as 1 or
// 44); an empty list accepts every country. It returns an error if the
// region or a calling code is unknown, or if the default region's own
// calling code is not allowed, which would refuse every national number.
func NewPhones(defaultRegion string, allowedCountryCodes []int) (*Phones, error) {
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))
	if !phonenumbers.GetSupportedRegions()[region] {
		return nil, fmt.Errorf("input: unknown phone region %q", defaultRegion)
	}
	p := &Phones{region: region}
	if len(allowedCountryCodes) == 0 {
		return p, nil
	}
	p.allowed = make(map[int]bool, len(allowedCountryCodes))
	for _, cc := range allowedCountryCodes {
		if !phonenumbers.GetSupportedCallingCodes()[cc] {
			return nil, fmt.Errorf("input: unknown country calling code %d", cc)
		}
		p.allowed[cc] = true
	}
	if cc := phonenumbers.GetCountryCodeForRegion(region); !p.allowed[cc] {
		return nil, fmt.Errorf("input: calling code %d of default region %s is not allowed", cc, region)
	}
	return p, nil
}

// Normalize returns the E.164 form ("+14155554567") of a phone number typed
// in international form or in the default region's national form. Only ASCII
// digits, spaces and the separators + - ( ) . / are accepted. It returns an
// *Error for field "phone" if the number is empty, longer than 32 bytes, not
// a valid number, from a country that is not allowed, carries an extension,
// or is of a type that cannot receive SMS (fixed line, toll free, premium
// rate, shared cost, VoIP, pager, …).
func (p *Phones) Normalize(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid(FieldPhone, "is required")
	}
	if len(s) > maxPhoneInput {
		return "", invalid(FieldPhone, reasonPhone)
	}
	// The parser would also read letters ("1-800-FLOWERS"), "ext" and
	// non-ASCII digits; none of them belong in a number that gets an SMS,
	// and refusing them keeps what is accepted easy to explain.
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789 +-()./", rune(s[i])) {
			return "", invalid(FieldPhone, reasonPhone)
		}
	}
	num, err := phonenumbers.Parse(s, p.region)
	if err != nil || !phonenumbers.IsValidNumber(num) || num.GetExtension() != "" {
		return "", invalid(FieldPhone, reasonPhone)
	}
	if p.allowed != nil && !p.allowed[int(num.GetCountryCode())] {
		return "", invalid(FieldPhone, "must be from a supported country")
	}
	// Only types that are known to be, or may be, mobile. VoIP and personal
	// numbers often cannot receive SMS from short codes, and a code that
	// never arrives locks the user out.
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
	default:
		return "", invalid(FieldPhone, "must be a mobile number that can receive SMS, e.g. +14155550123")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// Parse returns the E.164 form of s if it parses as a phone number at all,
// whatever its type or country: for recognising numbers that are exempt
// from Normalize's rules (test numbers). Normalize decides what may
// register.
func (p *Phones) Parse(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxPhoneInput {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789 +-()./", rune(s[i])) {
			return "", false
		}
	}
	num, err := phonenumbers.Parse(s, p.region)
	if err != nil || num.GetExtension() != "" {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// MaskPhone hides an E.164 number for logs and for "we sent a code to …"
// messages: it keeps the "+", the country calling code and the last four
// digits ("+14155554567" becomes "+1******4567"), or, of a national number
// shorter than eight digits (some small countries' are five), the last half
// at most, so that most of it stays hidden ("+29012345" becomes
// "+290***45"). Anything shorter than five digits after the calling code,
// or not of the form "+digits", comes back with every character but "+"
// replaced by "*".
func MaskPhone(e164 string) string {
	digits, ok := strings.CutPrefix(e164, "+")
	if !ok || strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return maskAll(e164)
	}
	cc := callingCodeLen(digits)
	national := len(digits) - cc
	if national < 5 {
		return maskAll(e164)
	}
	keep := min(4, national/2)
	return "+" + digits[:cc] + strings.Repeat("*", national-keep) + digits[len(digits)-keep:]
}

// callingCodeLen returns the length of the country calling code that digits
// start with. Calling codes are prefix-free, so the first known prefix is
// the one; 1 is the fallback for an unknown code.
func callingCodeLen(digits string) int {
	for n := 1; n <= 3 && n < len(digits); n++ {
		cc, err := strconv.Atoi(digits[:n])
		if err == nil && phonenumbers.GetSupportedCallingCodes()[cc] {
			return n
		}
	}
	return 1
}

func maskAll(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '+' {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// CallingCode returns the country calling code of an E.164 number (1 for
// +14155554567, 44 for +447400123456), or 0 if it has none.
func CallingCode(e164 string) int {
	digits, ok := strings.CutPrefix(e164, "+")
	if !ok {
		return 0
	}
	n := callingCodeLen(digits)
	cc, err := strconv.Atoi(digits[:min(n, len(digits))])
	if err != nil || !phonenumbers.GetSupportedCallingCodes()[cc] {
		return 0
	}
	return cc
}
