package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWithDotenv(t *testing.T) {
	env := func(string) string { return "" }
	missing := filepath.Join(t.TempDir(), ".env")
	if _, d, err := WithDotenv(env, missing, false); err != nil || d.Path != "" {
		t.Errorf("WithDotenv(missing default) = %+v, %v, want nothing read and no error", d, err)
	}
	if _, _, err := WithDotenv(env, missing, true); err == nil {
		t.Errorf("WithDotenv(missing, named on the command line) = nil error")
	}
	for _, tt := range []struct {
		name, body string
		line       int // 0: fine
	}{
		{"assignments and comments", "# a comment\n\nA=1\nexport B = two\nC: three\n", 0},
		{"a quoted value over lines", "A=\"one\ntwo\nthree\"\nB=4\n", 0},
		{"a word alone", "A=1\nB\n", 2},
		{"a space in a name", "A=1\n\nMY VAR=2\n", 3},
		{"after a multi-line value", "A='x\ny'\nnot an assignment\n", 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.env")
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			get, d, err := WithDotenv(env, path, true)
			switch {
			case tt.line == 0 && (err != nil || d.Vars == 0 || get("A") == ""):
				t.Errorf("WithDotenv() = %+v, %v, want the variables read", d, err)
			case tt.line != 0 && (err == nil || !strings.Contains(err.Error(), "line "+string(rune('0'+tt.line)))):
				t.Errorf("WithDotenv() = %v, want line %d named", err, tt.line)
			}
		})
	}
}

// TestDevelopmentLimits: the per-number send limits are relaxed only while
// codes are printed (no Twilio, not production); a LIMIT_* set wins.
func TestDevelopmentLimits(t *testing.T) {
	load := func(env map[string]string) *Config {
		t.Helper()
		c, err := Load(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := load(nil); c.Limits.PhonePerHour != 100 || c.Limits.PhoneCooldown != 2*time.Second {
		t.Errorf("development without Twilio: %+v, want the development limits", c.Limits)
	}
	twilio := map[string]string{"TWILIO_ACCOUNT_SID": "AC" + strings.Repeat("a", 32), "TWILIO_AUTH_TOKEN": "t", "TWILIO_VERIFY_SID": "VA" + strings.Repeat("a", 32)}
	if c := load(twilio); c.Limits.PhonePerHour != 5 {
		t.Errorf("development with Twilio: PhonePerHour %d, want 5", c.Limits.PhonePerHour)
	}
	if c := load(map[string]string{"LIMIT_PHONE_PER_HOUR": "7"}); c.Limits.PhonePerHour != 7 {
		t.Errorf("LIMIT_PHONE_PER_HOUR=7 in development: %d", c.Limits.PhonePerHour)
	}
}

// TestLoopbackWhilePrinting: a development server that prints codes
// answers only this machine unless HOST is set, and a HOST of spaces is
// not set.
func TestLoopbackWhilePrinting(t *testing.T) {
	for _, tt := range []struct{ host, want string }{{"", "127.0.0.1"}, {"  ", "127.0.0.1"}, {"0.0.0.0", "0.0.0.0"}} {
		c, err := Load(func(k string) string { return map[string]string{"HOST": tt.host}[k] })
		if err != nil || c.Host != tt.want || c.HostDefaulted != (tt.want == "127.0.0.1") {
			t.Errorf("HOST=%q: Host %q (defaulted %v), %v; want %q", tt.host, c.Host, c.HostDefaulted, err, tt.want)
		}
	}
}
