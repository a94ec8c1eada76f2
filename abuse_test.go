package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/store/storetest"
)

// The tests in this file prove the rest of SECURITY.md end to end, through
// HTTP and GraphQL: tricks are refused whole before any bcrypt or Twilio
// work, the input rules and token settings reach the server, an unknown
// email looks like a wrong password, and the log keeps secrets.

func TestAbuseGraphQLTricks(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Options{})
	srv.Register(t, "ada@example.com", apptest.NextPhone())
	hashesAfterSetup := srv.Hashes()

	login := `login(input: {email: "ada@example.com", password: "` + password + `"}) { mfaToken }`
	verify := `verifyOtp(input: {mfaToken: "` + unknownToken + `", code: "123456"}) { accessToken }`
	reg := `register(input: {email: "eve@example.com", password: "` + password + `", phone: "+14155550100"}) { user { id } }`
	post := func(contentType, body string) *http.Request {
		req := srv.Client.NewRequest(t, http.MethodPost, "/graphql", []byte(body))
		req.Header.Set("Content-Type", contentType)
		return req
	}
	jsonBody := func(query string) string { return string(gqltest.Body(query, nil)) }
	big := `"variables":{"x":"` + strings.Repeat("a", 64<<10) + `"}`
	chunked := post("application/json", `{"query":"{ __typename }",`+big+`}`)
	chunked.ContentLength = -1 // sent chunked: only reading finds the size
	tests := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"aliases", post("application/json", jsonBody("mutation { a: "+login+" b: "+login+" }")), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"repeat", post("application/json", jsonBody("mutation { "+login+" "+login+" }")), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"register and login", post("application/json", jsonBody("mutation { "+reg+" "+login+" }")), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"login and verifyOtp", post("application/json", jsonBody("mutation { "+login+" "+verify+" }")), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"fragments", post("application/json", jsonBody("mutation { ...A ...B } fragment A on Mutation { "+login+" } fragment B on Mutation { x: "+login+" }")), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"inline fragments", post("application/json", jsonBody("mutation { ... on Mutation { "+login+" } ... { x: "+login+" } }")), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"fragment and field", post("application/json", jsonBody("mutation { "+login+" ...A } fragment A on Mutation { x: "+verify+" }")), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"array batch", post("application/json", "["+jsonBody("mutation { "+login+" }")+","+jsonBody("mutation { "+login+" }")+"]"), 400, "BAD_REQUEST"},
		{"text/plain", post("text/plain", jsonBody("mutation { "+login+" }")), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"form", post("application/x-www-form-urlencoded", "query="+url.QueryEscape("mutation { "+login+" }")), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"GET mutation", srv.Client.NewRequest(t, http.MethodGet, "/graphql?query="+url.QueryEscape("mutation { "+login+" }"), nil), 422, "GRAPHQL_VALIDATION_FAILED"},
		{"body over the cap", post("application/json", `{"query":"mutation { `+strings.ReplaceAll(login, `"`, `\"`)+` }",`+big+`}`), 413, "REQUEST_TOO_LARGE"},
		{"chunked body over the cap", chunked, 413, "REQUEST_TOO_LARGE"},
		{"token flood", post("application/json", jsonBody("mutation { "+login+" "+strings.Repeat("a ", 1000)+"}")), 422, "GRAPHQL_PARSE_FAILED"},
		{"complexity", post("application/json", jsonBody("{ me { id email phone } "+aliasN("me { id email phone phoneVerified createdAt }", 40)+" }")), 200, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"depth", post("application/json", jsonBody("{ __schema { types { fields { type "+strings.Repeat("{ ofType ", 20)+"{ name }"+strings.Repeat(" }", 20)+" } } } }")), 422, "GRAPHQL_VALIDATION_FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Emu.ResetRequests()
			before := srv.Hashes()
			r := srv.Client.Send(t, tt.req)
			if r.Status != tt.status || r.Code() != tt.code {
				t.Fatalf("%s = %d %s, want %d %s", tt.name, r.Status, r.Body, tt.status, tt.code)
			}
			if len(r.Data) > 0 {
				t.Fatalf("%s ran: %s", tt.name, r.Body)
			}
			if n := srv.Hashes() - before; n != 0 {
				t.Fatalf("%s computed %d hashes, want 0", tt.name, n)
			}
			if n := len(srv.Emu.Requests()); n != 0 {
				t.Fatalf("%s made %d Twilio requests, want 0", tt.name, n)
			}
		})
	}
	if n := srv.Hashes() - hashesAfterSetup; n != 0 {
		t.Errorf("refused operations computed %d hashes", n)
	}
}

// aliasN returns n aliased copies of field.
func aliasN(field string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s ", i, field)
	}
	return b.String()
}

// TestAbuseInput checks that the input rules reach every argument of
// every operation with its field named, before any bcrypt or Twilio work,
// and that PHONE_DEFAULT_REGION and SMS_ALLOWED_COUNTRY_CODES reach the
// phone rules. The rules themselves are proven in auth/input.
func TestAbuseInput(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Options{Env: map[string]string{"SMS_ALLOWED_COUNTRY_CODES": "1"}})
	pw72 := strings.Repeat("€", 23) + "abc" // 72 bytes, 26 characters
	if len(pw72) != 72 {
		t.Fatalf("pw72 is %d bytes", len(pw72))
	}
	bad := func(name, query string, vars map[string]any, field string) step {
		return step{name: name, query: query, vars: vars, code: "BAD_USER_INPUT", field: field}
	}
	reg, login, verify := gqltest.RegisterOp, gqltest.LoginOp, gqltest.VerifyOp
	r := runSteps(t, srv, []step{
		bad("register: display name", reg, gqltest.RegisterVars("Eve <eve@example.com>", password, apptest.NextPhone()), "email"),
		bad("register: common password", reg, gqltest.RegisterVars("a@example.com", "password1", apptest.NextPhone()), "password"),
		bad("register: 73-byte password", reg, gqltest.RegisterVars("a@example.com", pw72+"x", apptest.NextPhone()), "password"),
		bad("register: country not in SMS_ALLOWED_COUNTRY_CODES", reg, gqltest.RegisterVars("a@example.com", password, "+44 7400 123456"), "phone"),
		{name: "register: 72 bytes with no composition", query: reg, vars: gqltest.RegisterVars("a@example.com", pw72, apptest.NextPhone()), hashes: 1},
		// One byte more than the registered 72 is refused, not cut to 72
		// and accepted.
		bad("login: 73 bytes", login, gqltest.LoginVars("a@example.com", pw72+"x"), "password"),
		bad("login: email of 300 bytes", login, gqltest.LoginVars(strings.Repeat("e", 288)+"@example.com", password), "email"),
		{name: "login: the 72 bytes", query: login, vars: gqltest.LoginVars("a@example.com", pw72), hashes: 1, twilio: 1},
		bad("verifyOtp: mfaToken of 200 bytes", verify, gqltest.VerifyVars(strings.Repeat("A", 200), "123456"), "mfaToken"),
		bad("verifyOtp: code of 11 digits", verify, gqltest.VerifyVars(unknownToken, "12345678901"), "code"),
		{name: "register: national format and case", query: reg, vars: gqltest.RegisterVars("  Carol@Example.COM ", password, "(415) 555-0187"), hashes: 1},
	})
	var u struct{ User gqltest.User }
	r[len(r)-1].Decode(t, "register", &u)
	if u.User.Email != "carol@example.com" || u.User.Phone != "+14155550187" {
		t.Errorf("register normalised to %+v, want carol@example.com, +14155550187", u.User)
	}
	for _, resp := range r {
		if strings.Contains(resp.Body, pw72) || strings.Contains(resp.Body, "Eve <") {
			t.Errorf("answer %s repeats the input", resp.Body)
		}
	}

	gb := apptest.Start(t, apptest.Options{Env: map[string]string{"PHONE_DEFAULT_REGION": "GB", "SMS_ALLOWED_COUNTRY_CODES": "44"}})
	if u := gb.Register(t, "gb@example.com", "07400 123456"); u.Phone != "+447400123456" {
		t.Errorf("register(07400 123456) with PHONE_DEFAULT_REGION=GB: phone %s, want +447400123456", u.Phone)
	}
	if r := gb.Post(t, reg, gqltest.RegisterVars("us@example.com", password, "+1 415 555 0187")); r.Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "phone" {
		t.Errorf("register(+1 415 555 0187) with SMS_ALLOWED_COUNTRY_CODES=44 = %s, want BAD_USER_INPUT at phone", r.Body)
	}
}

// TestAbuseEnumeration checks that an unknown email and a wrong password
// answer the same, with one hash each, and are blocked alike;
// BenchmarkLoginEnumeration measures that they also take the same time.
func TestAbuseEnumeration(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Options{Env: map[string]string{"LIMIT_ACCOUNT_FREE_FAILURES": "1"}, Clock: newClock()})
	srv.Register(t, "ada@example.com", apptest.NextPhone())
	r := runSteps(t, srv, []step{
		wrongLoginStep("wrong password", "ada@example.com"),
		wrongLoginStep("unknown email", "nobody@example.com"),
		refused(wrongLoginStep("wrong password, blocked", "ada@example.com"), 1),
		refused(wrongLoginStep("unknown email, blocked", "nobody@example.com"), 1),
	})
	for _, pair := range [][2]int{{0, 1}, {2, 3}} {
		a, b := r[pair[0]], r[pair[1]]
		if a.Status != b.Status || a.ErrorsJSON() != b.ErrorsJSON() {
			t.Errorf("known and unknown email answer differently:\n%d %s\n%d %s", a.Status, a.ErrorsJSON(), b.Status, b.ErrorsJSON())
		}
	}
}

// TestTokenSettings checks that JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE and
// ACCESS_TOKEN_TTL reach the tokens issued and the check of every token
// received. Every other rule of the check (algorithms, typ, key lookups,
// leeway) is proven in auth (TestTokensVerify).
func TestTokenSettings(t *testing.T) {
	t.Parallel()
	const secret = "token-settings-secret-token-settings!"
	srv := apptest.Start(t, apptest.Options{Clock: newClock(), Env: map[string]string{
		"JWT_SECRET": secret, "JWT_ISSUER": "login.example", "JWT_AUDIENCE": "api.example", "ACCESS_TOKEN_TTL": "10m",
	}})
	phone := apptest.NextPhone()
	u := srv.Register(t, "ada@example.com", phone)
	a := srv.Verify(t, srv.Login(t, "ada@example.com").MFAToken, phone)
	claims := decodeClaims(t, a.AccessToken)
	if a.ExpiresIn != 600 || claims["iss"] != "login.example" || fmt.Sprint(claims["aud"]) != "[api.example]" || claims["exp"].(float64)-claims["iat"].(float64) != 600 {
		t.Fatalf("verifyOtp = expiresIn %d, claims %v; want 600s, iss login.example, aud api.example", a.ExpiresIn, claims)
	}
	now := srv.Clock.Now()
	ours := jwt.MapClaims{"sub": u.ID, "sid": claims["sid"], "iss": "login.example", "aud": "api.example", "exp": now.Add(time.Hour).Unix()}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{k: v}
		for ck, cv := range ours {
			if ck != k {
				c[ck] = cv
			}
		}
		return c
	}
	me := func(t *testing.T, token string) string {
		t.Helper()
		return srv.Do(t, gqltest.Op{Query: gqltest.MeOp, Bearer: token}).Code()
	}
	tests := []struct {
		name, token, code string
	}{
		{"issued", a.AccessToken, ""},
		{"signed with JWT_SECRET", signToken(t, secret, now, ours), ""},
		{"signed with JWT_SECRET, without sid", signToken(t, secret, now, with("sid", "")), "UNAUTHENTICATED"},
		{"signed with another secret", signToken(t, apptest.Defaults()["JWT_SECRET"], now, ours), "UNAUTHENTICATED"},
		{"the default issuer", signToken(t, secret, now, with("iss", "twostep")), "UNAUTHENTICATED"},
		{"the default audience", signToken(t, secret, now, with("aud", "twostep")), "UNAUTHENTICATED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := me(t, tt.token); got != tt.code {
				t.Fatalf("me with a token %s = %q, want %q", tt.name, got, tt.code)
			}
		})
	}
	srv.Clock.Advance(10*time.Minute - time.Second)
	if got := me(t, a.AccessToken); got != "" {
		t.Fatalf("me with a token issued ACCESS_TOKEN_TTL (10m) less 1s ago = %q, want accepted", got)
	}
	srv.Clock.Advance(time.Second + 31*time.Second)
	if got := me(t, a.AccessToken); got != "UNAUTHENTICATED" {
		t.Fatalf("me with a token issued ACCESS_TOKEN_TTL and 31s (the leeway is 30s) ago = %q, want UNAUTHENTICATED", got)
	}
}

// TestBcryptCostSetting checks that BCRYPT_COST is the cost of new hashes,
// and that a login upgrades a hash made at another cost. (Only a
// successful login does: auth's TestLoginRehash.)
func TestBcryptCostSetting(t *testing.T) {
	t.Parallel()
	opts := apptest.Options{
		Env:      map[string]string{"DATABASE_URL": storetest.NewSQLite(t)},
		Emulator: apptest.NewEmulator(t, nil),
	}
	storedCost := func(t *testing.T, srv *apptest.Server) int {
		t.Helper()
		u, err := srv.App.Store().UserByEmail(context.Background(), "ada@example.com")
		if err != nil {
			t.Fatal(err)
		}
		c, err := bcrypt.Cost([]byte(u.PasswordHash))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	srv := apptest.Start(t, opts)
	srv.Register(t, "ada@example.com", apptest.NextPhone())
	if c := storedCost(t, srv); c != 4 {
		t.Fatalf("registered at BCRYPT_COST=4, stored cost %d", c)
	}
	srv.Stop()

	opts.Env["BCRYPT_COST"] = "5"
	srv = apptest.Start(t, opts)
	if r := srv.Post(t, gqltest.LoginOp, gqltest.LoginVars("ada@example.com", wrongPassword)); r.Code() != "INVALID_CREDENTIALS" {
		t.Fatalf("login(wrong password) = %s", r.Body)
	}
	if c := storedCost(t, srv); c != 4 {
		t.Fatalf("a failed login changed the stored cost to %d", c)
	}
	srv.Login(t, "ada@example.com")
	if c := storedCost(t, srv); c != 5 {
		t.Fatalf("after a login at BCRYPT_COST=5 the stored cost is %d, want 5", c)
	}
	srv.Login(t, "ada@example.com") // the new hash verifies
}

// TestAbuseAuthEventsLogged checks that every auth event SECURITY.md lists
// is logged with its request and client, and that no secret is.
func TestAbuseAuthEventsLogged(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Options{Env: map[string]string{"LIMIT_PHONE_COOLDOWN": "1m"}})
	phone := apptest.NextPhone()
	srv.Register(t, "ada@example.com", phone)
	srv.Post(t, gqltest.LoginOp, gqltest.LoginVars("ada@example.com", wrongPassword))
	l := srv.Login(t, "ada@example.com")
	if l.ResendAfter != 60 {
		t.Errorf("login's resendAfter = %d, want 60 (LIMIT_PHONE_COOLDOWN)", l.ResendAfter)
	}
	srv.Post(t, gqltest.LoginOp, gqltest.LoginVars("ada@example.com", password)) // cooldown
	code := srv.Code(t, phone)
	srv.Post(t, gqltest.VerifyOp, gqltest.VerifyVars(l.MFAToken, wrongCode(code)))
	var a gqltest.Auth
	srv.Post(t, gqltest.VerifyOp, gqltest.VerifyVars(l.MFAToken, code)).Decode(t, "verifyOtp", &a)
	srv.Stop()

	out := srv.Logs()
	requestID := regexp.MustCompile(`request_id=[0-9a-f]{16}`)
	for _, event := range []string{"user registered", "login failed", "code sent", "rate limit hit", "code failed", "login succeeded"} {
		if !strings.Contains(out, `msg="`+event+`"`) {
			t.Errorf("log lacks %q", event)
		}
		for line := range strings.SplitSeq(out, "\n") {
			if strings.Contains(line, `msg="`+event+`"`) && (!requestID.MatchString(line) || !strings.Contains(line, "client_ip=127.0.0.1")) {
				t.Errorf("log line %q lacks request_id or client_ip", line)
			}
		}
	}
	for name, secret := range map[string]string{
		"password": password, "wrong password": wrongPassword, "code": code,
		"mfaToken": l.MFAToken, "access token": a.AccessToken, "phone number": phone,
		"JWT secret": srv.Env["JWT_SECRET"],
	} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains the %s", name)
		}
	}
}

// TestLogLevelSetting checks that LOG_LEVEL reaches the logger: at warn,
// the info events are not logged and the warnings are.
func TestLogLevelSetting(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Options{Env: map[string]string{"LOG_LEVEL": "warn", "LIMIT_PHONE_COOLDOWN": "1m"}})
	srv.Register(t, "ada@example.com", apptest.NextPhone())
	srv.Login(t, "ada@example.com")
	srv.Post(t, gqltest.LoginOp, gqltest.LoginVars("ada@example.com", password)) // cooldown
	if logs := srv.Logs(); strings.Contains(logs, "user registered") || strings.Contains(logs, "code sent") || !strings.Contains(logs, "rate limit hit") {
		t.Errorf("log at LOG_LEVEL=warn = %s, want the rate limit hit and no info events", logs)
	}
}

// TestAbuseAllowlistNarrowed: an account registered while its country was
// allowed gets no SMS once SMS_ALLOWED_COUNTRY_CODES no longer lists it.
func TestAbuseAllowlistNarrowed(t *testing.T) {
	t.Parallel()
	opts := apptest.Options{
		Env:      map[string]string{"DATABASE_URL": storetest.NewSQLite(t)},
		Emulator: apptest.NewEmulator(t, nil),
	}
	srv := apptest.Start(t, opts)
	srv.Register(t, "uk@example.com", "+447911123456")
	srv.Stop()

	opts.Env["SMS_ALLOWED_COUNTRY_CODES"] = "1"
	srv = apptest.Start(t, opts)
	srv.Emu.ResetRequests()
	if r := srv.Post(t, gqltest.LoginOp, gqltest.LoginVars("uk@example.com", password)); r.Code() != "OTP_DELIVERY_FAILED" {
		t.Fatalf("login with a phone outside the allowlist = %s, want OTP_DELIVERY_FAILED", r.Body)
	}
	if n := srv.Emu.Sends(); n != 0 {
		t.Fatalf("login with a phone outside the allowlist sent %d SMS, want 0", n)
	}
}
