package emulator_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twostep/twostep/twilioverify/emulator"
)

func TestMainServesUntilCanceled(t *testing.T) {
	const (
		account = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		token   = "othertoken"
		service = "VAcccccccccccccccccccccccccccccccc"
	)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout, w := io.Pipe()
	getenv := func(k string) string {
		if k == "VERIFY_EMULATOR_ADDR" {
			return "127.0.0.1:0"
		}
		return ""
	}
	done := make(chan error, 1)
	go func() {
		args := []string{"-account-sid", account, "-auth-token", token, "-service-sid", service}
		done <- emulator.Main(ctx, args, getenv, w, io.Discard)
		w.Close()
	}()

	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stdout closed early; Main = %v", <-done)
			}
			return l
		case <-time.After(5 * time.Second):
			t.Fatal("no output from Main")
		}
		return ""
	}

	env := map[string]string{}
	for len(env) < 4 {
		if k, v, ok := strings.Cut(next(), "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = v
		}
	}
	apiURL := env["TWILIO_API_URL"]
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`).MatchString(apiURL) ||
		env["TWILIO_ACCOUNT_SID"] != account || env["TWILIO_AUTH_TOKEN"] != token || env["TWILIO_VERIFY_SID"] != service {
		t.Fatalf("printed env = %v", env)
	}

	req, _ := http.NewRequestWithContext(t.Context(), "POST", apiURL+"/v2/Services/"+service+"/Verifications",
		strings.NewReader(url.Values{"To": {phone}, "Channel": {"sms"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(account, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create = %d, want 201", resp.StatusCode)
	}
	line := next()
	if !regexp.MustCompile(`^emulator: code \d{6} sent to \+1\*{6}0123 \(sms\)$`).MatchString(line) {
		t.Errorf("code line = %q", line)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main = %v, want nil after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Main still running 5s after cancel")
	}
	if resp, err := http.Get(apiURL + "/_emulator/requests"); err == nil {
		resp.Body.Close()
		t.Errorf("emulator still answering after Main returned")
	}
}

func TestMainBadArguments(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"service SID not VA", []string{"-service-sid", "MGaaaa"}, "-service-sid must start with VA"},
		{"token not alphanumeric", []string{"-auth-token", "not-alnum"}, "-auth-token must be non-empty and alphanumeric"},
		{"empty account SID", []string{"-account-sid", ""}, "-account-sid must be non-empty"},
		{"extra argument", []string{"serve"}, `unexpected argument "serve"`},
		{"unknown flag", []string{"-port", "1"}, "flag provided but not defined"},
		{"bad address", []string{"-addr", "127.0.0.1:notaport"}, "emulator: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := emulator.Main(t.Context(), tt.args, func(string) string { return "" }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Main(%q) = %v, want error containing %q", tt.args, err, tt.wantErr)
			}
		})
	}
	if err := emulator.Main(t.Context(), []string{"-h"}, func(string) string { return "" }, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("Main(-h) = %v, want flag.ErrHelp", err)
	}
}
