package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twostep/twostep/twilioverify/emulator"
)

// testServer is a twostep process started through run, as main does, on a
// free loopback port.
type testServer struct {
	URL    string
	cancel context.CancelFunc
	done   chan error
	out    *lockedBuffer
}

// lockedBuffer collects a server's output for assertions.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listeningRE = regexp.MustCompile(`listening on (http://localhost:\d+)/`)

// baseEnv is the environment every test server gets unless overridden:
// fast bcrypt, no .env, and the SQLite file in a temp dir.
func baseEnv(tb testing.TB) map[string]string {
	tb.Helper()
	return map[string]string{
		"PORT":                 "0",
		"BCRYPT_COST":          "4",
		"DATABASE_URL":         "sqlite:" + filepath.Join(tb.TempDir(), "twostep.db"),
		"JWT_SECRET":           "test-secret-test-secret-test-secret!",
		"LIMIT_PHONE_COOLDOWN": "0",
		"LOG_LEVEL":            "debug",
	}
}

// withEmulator points env at emu.
func withEmulator(env map[string]string, emuURL string) map[string]string {
	env["TWILIO_API_URL"] = emuURL
	env["TWILIO_ACCOUNT_SID"] = emulator.DefaultAccountSID
	env["TWILIO_AUTH_TOKEN"] = emulator.DefaultAuthToken
	env["TWILIO_VERIFY_SID"] = emulator.DefaultServiceSID
	return env
}

// newEmulator starts a Verify emulator on loopback.
func newEmulator(tb testing.TB, opts emulator.Options) (*emulator.Emulator, string) {
	tb.Helper()
	emu := emulator.New(opts)
	srv := httptest.NewServer(emu)
	tb.Cleanup(srv.Close)
	return emu, srv.URL
}

// startServer runs the server with env and waits until it listens.
func startServer(tb testing.TB, env map[string]string) *testServer {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	pr, pw := io.Pipe()
	ts := &testServer{cancel: cancel, done: make(chan error, 1), out: out}
	go func() {
		err := run(ctx, []string{"twostep", "-env-file="}, func(k string) string { return env[k] }, io.MultiWriter(out, pw), out)
		pw.Close()
		ts.done <- err
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case ts.URL = <-urlc:
	case err := <-ts.done:
		cancel()
		tb.Fatalf("server exited: %v\n%s", err, out.String())
	case <-time.After(30 * time.Second):
		cancel()
		tb.Fatalf("server did not start\n%s", out.String())
	}
	tb.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() {
	if ts.cancel == nil {
		return
	}
	ts.cancel()
	ts.cancel = nil
	select {
	case <-ts.done:
	case <-time.After(20 * time.Second):
	}
}

// gqlError is one GraphQL error as a client sees it.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (e gqlError) code() string {
	c, _ := e.Extensions["code"].(string)
	return c
}

type gqlResponse struct {
	Status int
	Data   map[string]json.RawMessage `json:"data"`
	Errors []gqlError                 `json:"errors"`
}

// code returns the first error's code, or "" with no errors.
func (r *gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].code()
}

// gql posts one operation and decodes the answer.
func gql(tb testing.TB, baseURL, bearer, query string, vars map[string]any) *gqlResponse {
	tb.Helper()
	return gqlFrom(tb, baseURL, "", bearer, query, vars)
}

// gqlFrom posts one operation, with an X-Forwarded-For header when xff is
// set, and decodes the answer.
func gqlFrom(tb testing.TB, baseURL, xff, bearer, query string, vars map[string]any) *gqlResponse {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, baseURL+"/graphql", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return doGQL(tb, req)
}

func doGQL(tb testing.TB, req *http.Request) *gqlResponse {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r gqlResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		tb.Fatalf("decode %q: %v", raw, err)
	}
	r.Status = resp.StatusCode
	return &r
}

func (r *gqlResponse) field(tb testing.TB, name string, v any) {
	tb.Helper()
	if len(r.Errors) > 0 {
		tb.Fatalf("%s: unexpected errors: %+v", name, r.Errors)
	}
	if err := json.Unmarshal(r.Data[name], v); err != nil {
		tb.Fatalf("%s: decode %s: %v", name, r.Data[name], err)
	}
}

const (
	registerOp = `mutation($email: String!, $password: String!, $phone: String!) {
  register(input: {email: $email, password: $password, phone: $phone}) { user { id email phone phoneVerified createdAt } }
}`
	loginOp = `mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { mfaToken channel sentTo expiresAt }
}`
	verifyOp = `mutation($mfaToken: String!, $code: String!) {
  verifyOtp(input: {mfaToken: $mfaToken, code: $code}) { accessToken tokenType expiresIn user { id email phoneVerified } }
}`
	meOp = `{ me { id email phone phoneVerified createdAt } }`
)

const testPassword = "correct horse battery staple 7"

type userJSON struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	Phone         string    `json:"phone"`
	PhoneVerified bool      `json:"phoneVerified"`
	CreatedAt     time.Time `json:"createdAt"`
}

type loginJSON struct {
	MFAToken  string    `json:"mfaToken"`
	Channel   string    `json:"channel"`
	SentTo    string    `json:"sentTo"`
	ExpiresAt time.Time `json:"expiresAt"`
}

type authJSON struct {
	AccessToken string   `json:"accessToken"`
	TokenType   string   `json:"tokenType"`
	ExpiresIn   int      `json:"expiresIn"`
	User        userJSON `json:"user"`
}

// phoneSeq hands out distinct valid US mobile-style numbers.
var phoneSeq struct {
	sync.Mutex
	n int
}

func nextPhone() string {
	phoneSeq.Lock()
	defer phoneSeq.Unlock()
	phoneSeq.n++
	return fmt.Sprintf("+1415555%04d", phoneSeq.n)
}

func register(tb testing.TB, url, email, phone string) userJSON {
	tb.Helper()
	var p struct {
		User userJSON `json:"user"`
	}
	gql(tb, url, "", registerOp, map[string]any{"email": email, "password": testPassword, "phone": phone}).field(tb, "register", &p)
	return p.User
}

func login(tb testing.TB, url, email string) loginJSON {
	tb.Helper()
	var l loginJSON
	gql(tb, url, "", loginOp, map[string]any{"email": email, "password": testPassword}).field(tb, "login", &l)
	return l
}

func codeFor(tb testing.TB, emu *emulator.Emulator, phone string) string {
	tb.Helper()
	code, ok := emu.Code(phone)
	if !ok {
		tb.Fatalf("emulator sent no code to %s", phone)
	}
	return code
}

// wrongCode returns a code of the same length that is not code.
func wrongCode(code string) string {
	return strings.Map(func(r rune) rune { return '0' + (r-'0'+1)%10 }, code)
}
