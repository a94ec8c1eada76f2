package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/store/storetest"
	"github.com/twostep/twostep/twilioverify/emulator"
)

// These tests call run as main does, with the arguments after the program
// name; everything else starts the server with apptest.Start.

// runEnv is an environment run accepts: apptest's defaults, Twilio pointed
// at a port nothing listens on, and a fresh SQLite file.
func runEnv(tb testing.TB, over map[string]string) map[string]string {
	tb.Helper()
	env := apptest.Defaults()
	env["DATABASE_URL"] = storetest.NewSQLite(tb)
	env["TWILIO_API_URL"] = "http://127.0.0.1:1"
	env["TWILIO_ACCOUNT_SID"] = emulator.DefaultAccountSID
	env["TWILIO_AUTH_TOKEN"] = emulator.DefaultAuthToken
	env["TWILIO_VERIFY_SID"] = emulator.DefaultServiceSID
	maps.Copy(env, over)
	return env
}

// runWith calls run with args and env (as os.Getenv would see it) and
// returns what it wrote to stdout and stderr, and its error.
func runWith(ctx context.Context, args []string, env map[string]string) (string, error) {
	var out strings.Builder
	err := run(ctx, args, func(k string) string { return env[k] }, &out, &out)
	return out.String(), err
}

// TestRunCommands checks the command line: a mistake is an error; main
// answers errUsage with exit status 2 and flag.ErrHelp with 0.
func TestRunCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		usage bool     // main exits with status 2 (0 for -h)
		want  []string // in the error or the output
	}{
		{"unknown command", []string{"migrate"}, true, []string{`unknown command "migrate"`, "twostep verify-emulator"}},
		{"verify-emulator gets the flags after its name", []string{"verify-emulator", "-service-sid=XX1"}, false, []string{"-service-sid must start with VA"}},
		{"undefined flag", []string{"-nope"}, true, []string{"flag provided but not defined: -nope"}},
		{"help lists the commands", []string{"-h"}, true, []string{"-env-file", "twostep import-users", "twostep verify-emulator"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			out, err := runWith(ctx, tt.args, runEnv(t, nil))
			if err == nil {
				t.Fatalf("run(%q) = nil, want an error", tt.args)
			}
			if got := errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp); got != tt.usage {
				t.Errorf("run(%q) = %v: a usage error (exit status 2) is %v, want %v", tt.args, err, got, tt.usage)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error()+out, w) {
					t.Errorf("run(%q) = %v with output %q, want %q in either", tt.args, err, out, w)
				}
			}
		})
	}
}

// TestRunServes starts the server through run with PORT=0 and an env file:
// it says where it listens and which file it read (with how many
// variables), serves, and returns nil once its context ends.
func TestRunServes(t *testing.T) {
	t.Parallel()
	env := runEnv(t, map[string]string{"PORT": "0"})
	envFile := filepath.Join(t.TempDir(), "dev.env")
	if err := os.WriteFile(envFile, []byte("# two variables\nLOG_LEVEL=info\nAPP_NAME=twostep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	var logs lockedBuffer
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-env-file=" + envFile}, func(k string) string { return env[k] }, pw, &logs)
		pw.Close()
		done <- err
	}()
	urlc := make(chan string, 1)
	listening := regexp.MustCompile(`listening on (http://localhost:\d+)/`)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	var url string
	select {
	case url = <-urlc:
	case err := <-done:
		t.Fatalf("run = %v before it listened", err)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not say where it listens")
	}
	c := &gqltest.Client{URL: url}
	if status, _, body := c.RoundTrip(t, c.NewRequest(t, http.MethodGet, "/healthz", nil)); status != http.StatusOK {
		t.Errorf("GET /healthz = %d %s, want 200", status, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after its context ended = %v, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	if got := logs.String(); !strings.Contains(got, "environment file read") || !strings.Contains(got, "path="+envFile) || !strings.Contains(got, "variables=2") {
		t.Errorf("the start-up log does not say which env file was read with 2 variables:\n%s", got)
	}
}

// lockedBuffer is a log the server's goroutines may write at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRunRefusesBadConfig checks that a bad setting stops start-up with an
// error naming the variable, and never repeats the JWT secret.
func TestRunRefusesBadConfig(t *testing.T) {
	t.Parallel()
	prod := apptest.Production()
	tests := []struct {
		name    string
		prod    bool
		env     map[string]string
		varName string
	}{
		{"no JWT secret", true, map[string]string{"JWT_SECRET": ""}, "JWT_SECRET"},
		{"short JWT secret", true, map[string]string{"JWT_SECRET": "short"}, "JWT_SECRET"},
		{"low bcrypt cost", true, map[string]string{"BCRYPT_COST": "8"}, "BCRYPT_COST"},
		{"no Twilio", true, map[string]string{"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "TWILIO_VERIFY_SID": ""}, "TWILIO_ACCOUNT_SID"},
		{"one Twilio variable missing", true, map[string]string{"TWILIO_VERIFY_SID": ""}, "TWILIO_VERIFY_SID"},
		{"one Twilio variable missing in development", false, map[string]string{"TWILIO_AUTH_TOKEN": ""}, "TWILIO_AUTH_TOKEN"},
		{"bad Verify SID", true, map[string]string{"TWILIO_VERIFY_SID": "XX123"}, "TWILIO_VERIFY_SID"},
		{"bad APP_ENV", true, map[string]string{"APP_ENV": "prod"}, "APP_ENV"},
		{"bad PORT", true, map[string]string{"PORT": "http"}, "PORT"},
		{"bad TTL", true, map[string]string{"ACCESS_TOKEN_TTL": "soon"}, "ACCESS_TOKEN_TTL"},
		{"TTL over a day", true, map[string]string{"ACCESS_TOKEN_TTL": "25h"}, "ACCESS_TOKEN_TTL"},
		{"bad DATABASE_URL", true, map[string]string{"DATABASE_URL": "mysql://x"}, "DATABASE_URL"},
		{"wildcard CORS", true, map[string]string{"CORS_ALLOWED_ORIGINS": "*"}, "CORS_ALLOWED_ORIGINS"},
		{"wildcard in a CORS origin", true, map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example,https://*"}, "CORS_ALLOWED_ORIGINS"},
		{"prefix wildcard CORS", false, map[string]string{"CORS_ALLOWED_ORIGINS": "h*"}, "CORS_ALLOWED_ORIGINS"},
		{"CORS origin with a path", false, map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example/"}, "CORS_ALLOWED_ORIGINS"},
		{"unconfirmed accounts gone in minutes", false, map[string]string{"UNCONFIRMED_ACCOUNT_TTL": "10m"}, "UNCONFIRMED_ACCOUNT_TTL"},
		{"bad TRUSTED_PROXIES", false, map[string]string{"TRUSTED_PROXIES": "the load balancer"}, "TRUSTED_PROXIES"},
		{"bad SMS_ALLOWED_COUNTRY_CODES", false, map[string]string{"SMS_ALLOWED_COUNTRY_CODES": "UK"}, "SMS_ALLOWED_COUNTRY_CODES"},
		{"no SMS_ALLOWED_COUNTRY_CODES in production", true, map[string]string{"SMS_ALLOWED_COUNTRY_CODES": ""}, "SMS_ALLOWED_COUNTRY_CODES"},
		{"Twilio in clear text in production", true, map[string]string{"TWILIO_API_URL": "http://verify.example"}, "TWILIO_API_URL"},
		{"101 failures a day", false, map[string]string{"LIMIT_ACCOUNT_FAILURES_PER_DAY": "101"}, "LIMIT_ACCOUNT_FAILURES_PER_DAY"},
		{"no unverified ceiling", false, map[string]string{"LIMIT_SMS_UNVERIFIED_PER_HOUR": "0"}, "LIMIT_SMS_UNVERIFIED_PER_HOUR"},
		{"unlimited unverified sends", false, map[string]string{"LIMIT_UNVERIFIED_SENDS_PER_DAY": "0"}, "LIMIT_UNVERIFIED_SENDS_PER_DAY"},
		// The limits cannot be set to something a stranger could abuse.
		{"block of two days", false, map[string]string{"LIMIT_ACCOUNT_MAX_BLOCK": "48h"}, "LIMIT_ACCOUNT_MAX_BLOCK"},
		{"101 failures per hour", false, map[string]string{"LIMIT_ACCOUNT_FAILURES_PER_HOUR": "101"}, "LIMIT_ACCOUNT_FAILURES_PER_HOUR"},
		{"no free failures", false, map[string]string{"LIMIT_ACCOUNT_FREE_FAILURES": "0"}, "LIMIT_ACCOUNT_FREE_FAILURES"},
		{"unlimited sends per hour", false, map[string]string{"LIMIT_PHONE_PER_HOUR": "0"}, "LIMIT_PHONE_PER_HOUR"},
		{"unlimited sends per day", false, map[string]string{"LIMIT_PHONE_PER_DAY": "0"}, "LIMIT_PHONE_PER_DAY"},
		{"no SMS ceiling", false, map[string]string{"LIMIT_SMS_PER_HOUR": "0"}, "LIMIT_SMS_PER_HOUR"},
		{"negative per-IP limit", false, map[string]string{"LIMIT_LOGIN_PER_IP": "-1"}, "LIMIT_LOGIN_PER_IP"},
		{"window that is not a duration", false, map[string]string{"LIMIT_LOGIN_PER_IP_WINDOW": "soon"}, "LIMIT_LOGIN_PER_IP_WINDOW"},
		{"per-IP limit on without a window", false, map[string]string{"LIMIT_VERIFY_PER_IP_WINDOW": "0s"}, "LIMIT_VERIFY_PER_IP_WINDOW"},
		{"negative reset sends", false, map[string]string{"LIMIT_RESET_SENDS_PER_DAY": "-1"}, "LIMIT_RESET_SENDS_PER_DAY"},
		{"test number without a code", false, map[string]string{"SMS_TEST_NUMBERS": "+15005550006"}, "SMS_TEST_NUMBERS"},
		{"test number not E.164", false, map[string]string{"SMS_TEST_NUMBERS": "5005550006=123456"}, "SMS_TEST_NUMBERS"},
		{"test code of 3 digits", false, map[string]string{"SMS_TEST_NUMBERS": "+15005550006=123"}, "SMS_TEST_NUMBERS"},
		{"test numbers until a non-date", false, map[string]string{"SMS_TEST_NUMBERS_VALID_UNTIL": "tomorrow"}, "SMS_TEST_NUMBERS_VALID_UNTIL"},
		{"test numbers without an end in production", true, map[string]string{"SMS_TEST_NUMBERS": "+15005550006=123456"}, "SMS_TEST_NUMBERS_VALID_UNTIL"},
		{"test numbers for 60 days in production", true, map[string]string{"SMS_TEST_NUMBERS": "+15005550006=123456",
			"SMS_TEST_NUMBERS_VALID_UNTIL": time.Now().Add(60 * 24 * time.Hour).UTC().Format(time.RFC3339)}, "SMS_TEST_NUMBERS_VALID_UNTIL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			over := maps.Clone(tt.env)
			if tt.prod {
				over = maps.Clone(prod)
				maps.Copy(over, tt.env)
			}
			env := runEnv(t, over)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			out, err := runWith(ctx, []string{"-env-file="}, env)
			if err == nil || !strings.Contains(err.Error(), tt.varName) {
				t.Fatalf("run(%s) = %v, want an error naming %s", tt.name, err, tt.varName)
			}
			if s := env["JWT_SECRET"]; s != "" && strings.Contains(err.Error()+out, s) {
				t.Fatalf("run(%s): error or output reveals JWT_SECRET: %v", tt.name, err)
			}
		})
	}
}

// TestRunEnvFile checks -env-file: its variables are read, the environment
// wins over them, a file named on the command line must exist (the default
// .env need not), and a line that is not NAME=value is named.
func TestRunEnvFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "twostep.env")
	if err := os.WriteFile(path, []byte("LIMIT_SMS_PER_HOUR=0\nLIMIT_PHONE_PER_DAY=0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := runWith(ctx, []string{"-env-file=" + path}, runEnv(t, map[string]string{"LIMIT_PHONE_PER_DAY": "10"}))
	if err == nil || !strings.Contains(err.Error(), "LIMIT_SMS_PER_HOUR") || strings.Contains(err.Error(), "LIMIT_PHONE_PER_DAY") {
		t.Fatalf("run(-env-file=%s) = %v, want an error naming LIMIT_SMS_PER_HOUR (from the file) and not LIMIT_PHONE_PER_DAY (set in the environment)", path, err)
	}
	// A missing file named on the command line is a usage error.
	out, err := runWith(ctx, []string{"-env-file=" + path + ".missing"}, runEnv(t, nil))
	if !errors.Is(err, errUsage) || !strings.Contains(out, ".missing: no such file") {
		t.Fatalf("run(-env-file=missing) = %v, %q, want a usage error naming the file", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.env")
	if err := os.WriteFile(bad, []byte("# settings\nPORT=8080\nMULTI=\"one\ntwo\"\nthis line is wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = runWith(ctx, []string{"-env-file=" + bad}, runEnv(t, nil))
	if err == nil || !strings.Contains(err.Error(), "bad.env, line 5") {
		t.Fatalf("run(-env-file=bad.env) = %v, want the line of the mistake (5)", err)
	}
}

// devCode reads the last one-time code the development server printed.
func devCode(t *testing.T, srv *apptest.Server) string {
	t.Helper()
	m := regexp.MustCompile(`One-time code for \S+ +(\d{4,10})`).FindAllStringSubmatch(srv.Logs(), -1)
	if len(m) == 0 {
		t.Fatalf("no code printed:\n%s", srv.Logs())
	}
	return m[len(m)-1][1]
}

// TestDevelopmentSurvivesRestart: in development without Twilio, a
// restart (a hot reload) keeps the signing key, the refresh secret and the
// emulator's pending codes (in files beside the SQLite database), so
// tokens, sessions and a login half done survive it; and the per-number
// limits let a developer log in again and again.
func TestDevelopmentSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(dir, "twostep.db"), "JWT_SECRET": "", "REFRESH_TOKEN_SECRET": ""}
	first := apptest.Start(t, apptest.Options{Dev: true, Env: env})
	phone := apptest.NextPhone()
	first.Register(t, "dev@example.com", phone)
	var signedIn gqltest.Auth
	for i := range 7 { // more than the production default of 5 an hour (and Verify's 5 in 10 minutes)
		l := first.Login(t, "dev@example.com")
		if i == 0 {
			first.Post(t, gqltest.VerifyOp, gqltest.VerifyVars(l.MFAToken, devCode(t, first))).Decode(t, "verifyOtp", &signedIn)
		}
	}
	pending := first.Login(t, "dev@example.com") // answered after a restart
	if pending.MFAToken == "" {
		t.Fatal("no login")
	}
	code := devCode(t, first)
	first.Stop()
	for _, f := range []string{"twostep-dev-secrets.json", "twostep-dev-emulator.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s beside the database: %v", f, err)
		}
	}

	second := apptest.Start(t, apptest.Options{Dev: true, Env: env})
	if r := second.Do(t, gqltest.Op{Query: gqltest.MeOp, Bearer: signedIn.AccessToken}); r.Code() != "" {
		t.Errorf("me with a token from before the restart = %s", r.Body)
	}
	if r := refreshOp(t, second, signedIn.RefreshToken); r.Code() != "" {
		t.Errorf("refreshSession with a token from before the restart = %s", r.Body)
	}
	if r := second.Post(t, gqltest.VerifyOp, gqltest.VerifyVars(pending.MFAToken, code)); r.Code() != "" {
		t.Errorf("verifyOtp of a login begun before the restart = %s", r.Body)
	}
}
