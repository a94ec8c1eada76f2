package config

import (
	"regexp"
	"strings"
	"time"

	"github.com/twostep/twostep/auth/input"
)

// maxTestNumbersAhead is how far ahead production lets test numbers run:
// they are for trying a deployment, not for living in it.
const maxTestNumbersAhead = 30 * 24 * time.Hour

var (
	e164      = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	fixedCode = regexp.MustCompile(`^[0-9]{4,10}$`)
)

// readTestNumbers reads SMS_TEST_NUMBERS ("+15005550006=123456,…") and
// SMS_TEST_NUMBERS_VALID_UNTIL (RFC 3339). Production requires the date,
// at most 30 days ahead.
func (c *Config) readTestNumbers(p *parser) {
	raw := p.str("SMS_TEST_NUMBERS", "")
	until := p.str("SMS_TEST_NUMBERS_VALID_UNTIL", "")
	if until != "" {
		t, err := time.Parse(time.RFC3339, until)
		if err != nil {
			p.fail("SMS_TEST_NUMBERS_VALID_UNTIL", "must be an RFC 3339 time such as 2026-12-31T00:00:00Z, got %q", until)
		}
		c.TestNumbers.ValidUntil = t
	}
	if raw == "" {
		return
	}
	c.TestNumbers.Codes = map[string]string{}
	for _, pair := range strings.Split(raw, ",") {
		number, code, ok := strings.Cut(strings.TrimSpace(pair), "=")
		number, code = strings.TrimSpace(number), strings.TrimSpace(code)
		switch {
		case !ok || !e164.MatchString(number):
			p.fail("SMS_TEST_NUMBERS", "must be E.164 numbers with codes, +15005550006=123456,…; got %q", input.MaskPhone(number))
			continue
		case !fixedCode.MatchString(code):
			p.fail("SMS_TEST_NUMBERS", "the code of %s must be 4 to 10 digits", input.MaskPhone(number))
			continue
		}
		c.TestNumbers.Codes[number] = code
	}
	if !c.Production {
		return
	}
	switch {
	case until == "":
		p.fail("SMS_TEST_NUMBERS_VALID_UNTIL", "is required in production while SMS_TEST_NUMBERS is set (at most 30 days ahead)")
	case c.TestNumbers.ValidUntil.After(time.Now().Add(maxTestNumbersAhead)):
		p.fail("SMS_TEST_NUMBERS_VALID_UNTIL", "must be at most 30 days ahead in production, got %s", until)
	}
}
