// Package gqltest is the one GraphQL client of twostep's tests. A Client
// talks to a server over real HTTP (URL) or to a handler in process
// (Handler), sends operations and raw requests, and decodes every answer
// into a Response, failing the test if the answer is not JSON.
package gqltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Client sends GraphQL requests to one server.
type Client struct {
	// URL is the server's base URL (http://127.0.0.1:port), or "" to serve
	// requests in process with Handler.
	URL     string
	Handler http.Handler
	// HTTP is the client for URL; nil means http.DefaultClient.
	HTTP *http.Client
}

// Op is one GraphQL operation and what to send with it.
type Op struct {
	Query     string
	Variables map[string]any
	Bearer    string            // Authorization: Bearer …, if set
	Header    map[string]string // more headers, e.g. X-Forwarded-For
}

// Response is a decoded answer.
type Response struct {
	Status int                        `json:"-"`
	Header http.Header                `json:"-"`
	Body   string                     `json:"-"`
	Data   map[string]json.RawMessage `json:"data"`
	Errors []Error                    `json:"errors"`
}

// Error is one GraphQL error as a client sees it.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns extensions.code.
func (e Error) Code() string {
	c, _ := e.Extensions["code"].(string)
	return c
}

// Code returns the first error's code, or "" without errors.
func (r *Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Code()
}

// Decode unmarshals data.field into v, failing tb if the response has
// errors.
func (r *Response) Decode(tb testing.TB, field string, v any) {
	tb.Helper()
	if len(r.Errors) > 0 {
		tb.Fatalf("%s: unexpected errors: %s", field, r.Body)
	}
	if err := json.Unmarshal(r.Data[field], v); err != nil {
		tb.Fatalf("%s: decode %s: %v", field, r.Data[field], err)
	}
}

// Post sends one operation without a token.
func (c *Client) Post(tb testing.TB, query string, vars map[string]any) *Response {
	tb.Helper()
	return c.Do(tb, Op{Query: query, Variables: vars})
}

// Do sends op as a JSON POST to /graphql.
func (c *Client) Do(tb testing.TB, op Op) *Response {
	tb.Helper()
	req := c.NewRequest(tb, http.MethodPost, "/graphql", Body(op.Query, op.Variables))
	setHeaders(req, op)
	return c.Send(tb, req)
}

func setHeaders(req *http.Request, op Op) {
	req.Header.Set("Content-Type", "application/json")
	if op.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+op.Bearer)
	}
	for k, v := range op.Header {
		req.Header.Set(k, v)
	}
}

// NewRequest returns a request for path on the client's server.
func (c *Client) NewRequest(tb testing.TB, method, path string, body []byte) *http.Request {
	tb.Helper()
	req, err := c.newRequest(method, path, body)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

func (c *Client) newRequest(method, path string, body []byte) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	if c.URL == "" {
		req := httptest.NewRequest(method, path, r)
		req.RemoteAddr = "192.0.2.1:40000"
		return req, nil
	}
	return http.NewRequest(method, c.URL+path, r)
}

// Send sends req and decodes the answer, failing tb if it is not JSON.
func (c *Client) Send(tb testing.TB, req *http.Request) *Response {
	tb.Helper()
	status, header, raw := c.RoundTrip(tb, req)
	r, err := decodeResponse(req, status, header, raw)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func decodeResponse(req *http.Request, status int, header http.Header, raw []byte) (*Response, error) {
	r := &Response{Status: status, Header: header, Body: string(raw)}
	if err := json.Unmarshal(raw, r); err != nil {
		return nil, fmt.Errorf("%s %s = %d %q: not JSON: %v", req.Method, req.URL.Path, status, raw, err)
	}
	return r, nil
}

// RoundTrip sends req and returns the raw answer.
func (c *Client) RoundTrip(tb testing.TB, req *http.Request) (int, http.Header, []byte) {
	tb.Helper()
	status, header, raw, err := c.TryRoundTrip(req)
	if err != nil {
		tb.Fatal(err)
	}
	return status, header, raw
}

// TryRoundTrip is RoundTrip that returns what went wrong instead of
// failing a test: for goroutines other than the test's, which must not
// call tb.FailNow, and for requests whose failure is the point.
func (c *Client) TryRoundTrip(req *http.Request) (int, http.Header, []byte, error) {
	if c.URL == "" {
		rec := httptest.NewRecorder()
		c.Handler.ServeHTTP(rec, req)
		return rec.Code, rec.Header(), rec.Body.Bytes(), nil
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL, err)
	}
	return resp.StatusCode, resp.Header, raw, nil
}

// Try is Do within ctx, returning what went wrong instead of failing a
// test (see TryRoundTrip).
func (c *Client) Try(ctx context.Context, op Op) (*Response, error) {
	req, err := c.newRequest(http.MethodPost, "/graphql", Body(op.Query, op.Variables))
	if err != nil {
		return nil, err
	}
	req = req.WithContext(ctx)
	setHeaders(req, op)
	status, header, raw, err := c.TryRoundTrip(req)
	if err != nil {
		return nil, err
	}
	return decodeResponse(req, status, header, raw)
}

// Body returns the JSON body of one operation.
func Body(query string, vars map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic("gqltest: " + err.Error())
	}
	return b
}

// ErrorsJSON returns the errors of r as JSON, for failure messages.
func (r *Response) ErrorsJSON() string {
	b, _ := json.Marshal(r.Errors)
	return string(b)
}

// Has reports whether the body contains s.
func (r *Response) Has(s string) bool { return strings.Contains(r.Body, s) }
