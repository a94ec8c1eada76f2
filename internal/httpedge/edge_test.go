package httpedge_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/internal/httpedge"
)

// routes is a small server behind the edge: /echo answers the body the
// edge read and the request's deadline, /panic panics, /log logs.
func routes(log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		dl, ok := r.Context().Deadline()
		httpedge.WriteJSON(w, http.StatusOK, mustJSON(map[string]any{
			"body":      string(httpedge.Body(r)),
			"deadline":  ok && time.Until(dl) > 0,
			"requestId": httpedge.FromContext(r.Context()).ID,
			"clientIp":  httpedge.FromContext(r.Context()).ClientIP,
		}))
	})
	mux.HandleFunc("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	mux.HandleFunc("GET /log", func(w http.ResponseWriter, r *http.Request) {
		log.WarnContext(r.Context(), "not ready")
		httpedge.WriteJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"unavailable"}`))
	})
	return mux
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func newEdge(tb testing.TB, o httpedge.Options) (*gqltest.Client, *bytes.Buffer) {
	tb.Helper()
	var buf bytes.Buffer
	log := slog.New(httpedge.LogHandler(slog.NewJSONHandler(&buf, nil)))
	o.Logger = log
	return &gqltest.Client{Handler: httpedge.New(o, routes(log))}, &buf
}

func TestEdgeHeadersOnEveryRoute(t *testing.T) {
	c, _ := newEdge(t, httpedge.Options{})
	for _, path := range []string{"/echo", "/panic", "/log", "/missing"} {
		t.Run(path, func(t *testing.T) {
			_, h, _ := c.RoundTrip(t, c.NewRequest(t, http.MethodGet, path, nil))
			want := map[string]string{
				"Content-Security-Policy": httpedge.ContentSecurityPolicy(),
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"X-Frame-Options":         "DENY",
			}
			for k, v := range want {
				if got := h.Get(k); got != v {
					t.Errorf("GET %s: %s = %q, want %q", path, k, got, v)
				}
			}
			if id := h.Get("X-Request-Id"); len(id) != 16 {
				t.Errorf("GET %s: X-Request-Id = %q, want 16 hex digits", path, id)
			}
		})
	}
	if csp := httpedge.ContentSecurityPolicy(); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("ContentSecurityPolicy() = %q, want self only and no framing", csp)
	}
}

func TestEdgeBody(t *testing.T) {
	c, _ := newEdge(t, httpedge.Options{MaxBodyBytes: 64})
	post := func(contentType, body string, length int64) *http.Request {
		req := c.NewRequest(t, http.MethodPost, "/echo", []byte(body))
		req.Header.Set("Content-Type", contentType)
		if length != 0 {
			req.ContentLength = length
		}
		return req
	}
	tests := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"json", post("application/json", `{"a":1}`, 0), 200, ""},
		{"json with charset", post("application/json; charset=utf-8", `{}`, 0), 200, ""},
		{"text/plain", post("text/plain", `{}`, 0), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"form", post("application/x-www-form-urlencoded", `a=1`, 0), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"multipart", post("multipart/form-data; boundary=x", `--x--`, 0), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"declared too large", post("application/json", strings.Repeat("a", 65), 0), 413, "REQUEST_TOO_LARGE"},
		{"chunked too large", post("application/json", strings.Repeat("a", 65), -1), 413, "REQUEST_TOO_LARGE"},
		{"chunked at the cap", post("application/json", strings.Repeat("a", 64), -1), 200, ""},
		{"PUT", c.NewRequest(t, http.MethodPut, "/echo", []byte(`{}`)), 405, "BAD_REQUEST"},
		{"DELETE", c.NewRequest(t, http.MethodDelete, "/echo", nil), 405, "BAD_REQUEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Send(t, tt.req)
			if r.Status != tt.status || r.Code() != tt.code {
				t.Fatalf("%s = %d %s, want %d %s", tt.name, r.Status, r.Body, tt.status, tt.code)
			}
		})
	}
	r := c.Send(t, post("application/json", `{"a":1}`, 0))
	var echo struct {
		Body     string
		Deadline bool
	}
	_ = json.Unmarshal([]byte(r.Body), &echo)
	if echo.Body != `{"a":1}` || !echo.Deadline {
		t.Errorf("route saw body %q and deadline %v, want the body and a deadline", echo.Body, echo.Deadline)
	}
}

// TestEdgeSlowBody sends headers and then only part of the body: the edge
// answers 400 once the body deadline passes, before any route runs.
func TestEdgeSlowBody(t *testing.T) {
	var reached bool
	h := httpedge.New(httpedge.Options{BodyTimeout: 200 * time.Millisecond}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\":")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	resp, err := http.ReadResponse(bufioReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !bytes.Contains(body, []byte("BAD_REQUEST")) || reached {
		t.Fatalf("slow body = %d %s (route reached: %v), want 400 BAD_REQUEST before the route", resp.StatusCode, body, reached)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("slow body refused after %v, want about the 200ms deadline", d)
	}
}

func TestEdgePanic(t *testing.T) {
	c, logs := newEdge(t, httpedge.Options{})
	r := c.Send(t, c.NewRequest(t, http.MethodGet, "/panic", nil))
	id := r.Header.Get("X-Request-Id")
	if r.Status != 500 || r.Code() != "INTERNAL_SERVER_ERROR" || r.Errors[0].Extensions["requestId"] != id {
		t.Fatalf("panic = %d %s, want 500 INTERNAL_SERVER_ERROR with requestId %s", r.Status, r.Body, id)
	}
	if strings.Contains(r.Body, "boom") {
		t.Errorf("panic answer %s shows the panic", r.Body)
	}
	if l := logs.String(); !strings.Contains(l, `"msg":"panic"`) || !strings.Contains(l, `"request_id":"`+id+`"`) || !strings.Contains(l, "boom") {
		t.Errorf("panic log %s, want the panic with request_id %s", l, id)
	}
}

// TestEdgeLogsCarryTheRequest checks that a record logged by any route
// carries the request id and client IP, not only those under /graphql.
func TestEdgeLogsCarryTheRequest(t *testing.T) {
	c, logs := newEdge(t, httpedge.Options{})
	_, h, _ := c.RoundTrip(t, c.NewRequest(t, http.MethodGet, "/log", nil))
	var rec map[string]any
	if err := json.Unmarshal(logs.Bytes(), &rec); err != nil {
		t.Fatalf("log %q: %v", logs, err)
	}
	if rec["request_id"] != h.Get("X-Request-Id") || rec["client_ip"] != "192.0.2.1" {
		t.Errorf("log record %v, want request_id %s and client_ip 192.0.2.1", rec, h.Get("X-Request-Id"))
	}
}

func TestEdgeCORS(t *testing.T) {
	var mu sync.Mutex
	var reported []string
	c, _ := newEdge(t, httpedge.Options{CORSOrigins: []string{"http://app.example"}, RefusedOrigin: func(o string) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, o)
	}})
	preflight := func(origin string) http.Header {
		req := c.NewRequest(t, http.MethodOptions, "/echo", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type") // as browsers send it
		_, h, _ := c.RoundTrip(t, req)
		return h
	}
	if h := preflight("http://app.example"); h.Get("Access-Control-Allow-Origin") != "http://app.example" {
		t.Errorf("preflight from a listed origin: headers %v, want it allowed", h)
	}
	if h := preflight("http://evil.example"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: headers %v, want it refused", h)
	}
	preflight("http://evil.example")
	req := c.NewRequest(t, http.MethodPost, "/echo", []byte(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://"+req.Host) // the server's own page
	c.RoundTrip(t, req)
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(reported, []string{"http://evil.example"}) {
		t.Errorf("refused origins reported: %v, want the other origin once (not the server's own)", reported)
	}
}

// TestEdgeNoCORSOrigins: no origins listed is no origin allowed, where
// rs/cors on its own would allow every one.
func TestEdgeNoCORSOrigins(t *testing.T) {
	c, _ := newEdge(t, httpedge.Options{})
	for _, origin := range []string{"http://localhost:5173", "https://evil.example", "null"} {
		req := c.NewRequest(t, http.MethodOptions, "/echo", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		_, h, _ := c.RoundTrip(t, req)
		if got := h.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("preflight from %s with no origins listed: Access-Control-Allow-Origin %q, want none", origin, got)
		}
	}
}

func TestValidOrigin(t *testing.T) {
	for o, want := range map[string]bool{
		"https://app.example": true, "http://localhost:5173": true, "http://[::1]:5173": true,
		"*": false, "https://*": false, "h*": false, "https://*.app.example": false,
		"https://app.example/": false, "https://app.example/path": false, "app.example": false,
		"ftp://app.example": false, "https://user@app.example": false, "https://app.example?x=1": false,
		"https://": false, "null": false,
	} {
		if got := httpedge.ValidOrigin(o); got != want {
			t.Errorf("ValidOrigin(%q) = %v, want %v", o, got, want)
		}
	}
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
