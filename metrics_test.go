package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
)

// scrape fetches the metrics of srv and returns each series (name{labels}
// as Prometheus writes it) with its value, and the raw text.
func scrape(tb testing.TB, srv *apptest.Server) (map[string]float64, string) {
	tb.Helper()
	addr := srv.App.MetricsAddr()
	if addr == "" {
		tb.Fatal("no metrics listener: start the server with METRICS_ADDR")
	}
	c := &gqltest.Client{URL: "http://" + addr}
	status, _, body := c.RoundTrip(tb, c.NewRequest(tb, http.MethodGet, "/metrics", nil))
	if status != http.StatusOK {
		tb.Fatalf("GET /metrics = %d %s, want 200", status, body)
	}
	series := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			tb.Fatalf("metrics line %q: %v", line, err)
		}
		series[line[:i]] = v
	}
	return series, string(body)
}

// TestMetrics goes through a login flow with a known email, phone, client
// address, user agent and operation name, and checks that the counters
// moved by what happened, and that none of those values appears in a label.
func TestMetrics(t *testing.T) {
	t.Parallel()
	const (
		email     = "metrics-ada@example.com"
		clientIP  = "203.0.113.77"
		userAgent = "LeakyAgent/9.9"
	)
	srv := apptest.Start(t, apptest.Options{Env: map[string]string{
		"METRICS_ADDR":       "127.0.0.1:0",
		"TRUSTED_PROXIES":    "127.0.0.1", // X-Forwarded-For names the client
		"LIMIT_LOGIN_PER_IP": "3",
	}})
	phone := apptest.NextPhone()
	do := func(op gqltest.Op) *gqltest.Response {
		op.Header = map[string]string{"X-Forwarded-For": clientIP, "User-Agent": userAgent}
		return srv.Do(t, op)
	}
	var reg struct{ User gqltest.User }
	do(gqltest.Op{Query: gqltest.RegisterOp, Variables: gqltest.RegisterVars(email, password, phone)}).Decode(t, "register", &reg)
	var login gqltest.Login
	do(gqltest.Op{Query: gqltest.LoginOp, Variables: gqltest.LoginVars(email, password)}).Decode(t, "login", &login)
	var auth gqltest.Auth
	do(gqltest.Op{Query: gqltest.VerifyOp, Variables: gqltest.VerifyVars(login.MFAToken, srv.Code(t, phone))}).Decode(t, "verifyOtp", &auth)
	me := do(gqltest.Op{Query: `query LeakyOperationName { leakyAlias: me { id email phone } }`, Bearer: auth.AccessToken})
	if len(me.Errors) > 0 {
		t.Fatalf("me = %s", me.Body)
	}
	for i, want := range []string{"INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "RATE_LIMITED"} {
		if r := do(gqltest.Op{Query: gqltest.LoginOp, Variables: gqltest.LoginVars(email, wrongPassword)}); r.Code() != want {
			t.Fatalf("wrong password %d = %s, want %s", i+1, r.Body, want)
		}
	}
	if r := do(gqltest.Op{Query: `{ leakyField }`}); r.Code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("unknown field = %s, want GRAPHQL_VALIDATION_FAILED", r.Body)
	}

	series, text := scrape(t, srv)
	want := map[string]float64{
		`twostep_graphql_operations_total{code="OK",field="register"}`:                       1,
		`twostep_graphql_operations_total{code="OK",field="login"}`:                          1,
		`twostep_graphql_operations_total{code="INVALID_CREDENTIALS",field="login"}`:         2,
		`twostep_graphql_operations_total{code="RATE_LIMITED",field="login"}`:                1,
		`twostep_graphql_operations_total{code="OK",field="verifyOtp"}`:                      1,
		`twostep_graphql_operations_total{code="OK",field="me"}`:                             1,
		`twostep_graphql_operations_total{code="GRAPHQL_VALIDATION_FAILED",field="invalid"}`: 1,
		`twostep_logins_total{outcome="succeeded"}`:                                          1,
		`twostep_logins_total{outcome="failed"}`:                                             2,
		`twostep_logins_total{outcome="refused"}`:                                            1,
		`twostep_code_checks_total{outcome="approved",purpose="login"}`:                      1,
		`twostep_code_sends_total{channel="sms",outcome="sent"}`:                             float64(srv.Emu.Sends()),
		`twostep_limit_hits_total{limit="login_per_ip"}`:                                     1,
		`twostep_security_events_dropped_total`:                                              0,
		`twostep_twilio_request_duration_seconds_count{op="start",outcome="ok"}`:             float64(srv.Emu.Sends()),
		`twostep_twilio_request_duration_seconds_count{op="check",outcome="ok"}`:             1,
		`twostep_bcrypt_completed_total`:                                                     float64(srv.Hashes()),
		`twostep_bcrypt_queue_wait_seconds_count`:                                            float64(srv.Hashes()),
		`twostep_bcrypt_in_flight`:                                                           0,
	}
	for s, v := range want {
		if got, ok := series[s]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", s, got, ok, v)
		}
	}
	if srv.Emu.Sends() < 1 || srv.Hashes() < 3 {
		t.Errorf("%d sends and %d hashes, want the flow to have sent and hashed", srv.Emu.Sends(), srv.Hashes())
	}
	// The stock collectors: the pools (SQLite: a writer and a reader),
	// the Go runtime, the process.
	for _, s := range []string{`twostep_go_sql_max_open_connections{db_name="writer"}`, `twostep_go_sql_max_open_connections{db_name="reader"}`, "twostep_go_goroutines", "twostep_process_cpu_seconds_total"} {
		if _, ok := series[s]; !ok {
			t.Errorf("no series %s", s)
		}
	}
	for _, secret := range []string{
		email, "metrics-ada", phone, strings.TrimPrefix(phone, "+"), phone[len(phone)-4:] + `"`, clientIP, userAgent, "LeakyAgent",
		reg.User.ID, login.MFAToken, auth.AccessToken, auth.RefreshToken,
		"LeakyOperationName", "leakyAlias", "leakyField",
	} {
		if secret != "" && strings.Contains(text, secret) {
			t.Errorf("the metrics contain %q", secret)
		}
	}

	// The API's listener does not serve them.
	if status, _, body := srv.Client.RoundTrip(t, srv.Client.NewRequest(t, http.MethodGet, "/metrics", nil)); status == http.StatusOK || strings.Contains(string(body), "twostep_") {
		t.Errorf("GET /metrics on the API = %d %.200s, want no metrics", status, body)
	}
}

// TestMetricsOff checks that without METRICS_ADDR there is no metrics
// listener, and the API does not serve them either.
func TestMetricsOff(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Options{})
	if addr := srv.App.MetricsAddr(); addr != "" {
		t.Errorf("MetricsAddr() = %q without METRICS_ADDR, want none", addr)
	}
	if strings.Contains(srv.Logs(), "metrics listening") {
		t.Errorf("the server says it serves metrics without METRICS_ADDR:\n%s", srv.Logs())
	}
	if status, _, _ := srv.Client.RoundTrip(t, srv.Client.NewRequest(t, http.MethodGet, "/metrics", nil)); status == http.StatusOK {
		t.Errorf("GET /metrics on the API = %d, want no metrics", status)
	}
}

// TestMetricsAddr checks METRICS_ADDR's validation, and the warning when
// it may be reachable from beyond private networks.
func TestMetricsAddr(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tt := range []struct {
		name string
		env  map[string]string
	}{
		{"no port", map[string]string{"METRICS_ADDR": "127.0.0.1"}},
		{"port only, no colon", map[string]string{"METRICS_ADDR": "9090"}},
		{"named port", map[string]string{"METRICS_ADDR": "127.0.0.1:http"}},
		{"port out of range", map[string]string{"METRICS_ADDR": "127.0.0.1:70000"}},
		{"the API's port", map[string]string{"PORT": "9090", "METRICS_ADDR": "127.0.0.1:9090"}},
		{"a port in use", map[string]string{"METRICS_ADDR": taken.Addr().String()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if _, err := runWith(ctx, []string{"-env-file="}, runEnv(t, tt.env)); err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
				t.Fatalf("run(%s) = %v, want an error naming METRICS_ADDR", tt.name, err)
			}
		})
	}

	const warning = "METRICS_ADDR may be reachable"
	for _, tt := range []struct {
		addr string
		warn bool
	}{{"127.0.0.1:0", false}, {"localhost:0", false}, {"0.0.0.0:0", true}, {":0", true}} {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			srv := apptest.Start(t, apptest.Options{Env: map[string]string{"METRICS_ADDR": tt.addr}})
			if got := strings.Contains(srv.Logs(), warning); got != tt.warn {
				t.Errorf("METRICS_ADDR=%s: warned %v, want %v; log:\n%s", tt.addr, got, tt.warn, srv.Logs())
			}
		})
	}
}
