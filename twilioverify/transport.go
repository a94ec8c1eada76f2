package twilioverify

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// callTransport serves one SDK call. twilio-go builds its requests with
// context.Background, drops the headers of error responses and leaves their
// bodies open, so this is where the call's context goes in, Retry-After
// comes out, and the connection goes back to the pool.
type callTransport struct {
	ctx    context.Context // the call's; lives no longer than the call
	base   http.RoundTripper
	apiURL *url.URL // nil: leave the host alone

	mu             sync.Mutex
	lastRetryAfter time.Duration
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not modify its request: Clone copies the URL too.
	r := req.Clone(t.ctx)
	if t.apiURL != nil {
		r.URL.Scheme = t.apiURL.Scheme
		r.URL.Host = t.apiURL.Host
		r.Host = "" // let the Host header follow the URL
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if d, ok := parseRetryAfter(resp.Header); ok {
		t.mu.Lock()
		t.lastRetryAfter = d
		t.mu.Unlock()
	}
	if err := buffer(resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// maxBuffered bounds the body held in memory; Verify's are about 1 KB.
const maxBuffered = 1 << 20

// buffer reads resp's body in full, which hands the connection back to the
// pool. twilio-go never closes the body of an error response and stops
// decoding JSON at the closing brace; unless the transport had already seen
// EOF (chunked bodies, trailing bytes), either costs the connection.
func buffer(resp *http.Response) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBuffered))
	if err != nil {
		resp.Body.Close()
		return err
	}
	if len(b) == maxBuffered { // oversized: hand on the rest unbuffered
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
		return nil
	}
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return nil
}

// retryAfter returns the Retry-After of the last response, 0 if none.
func (t *callTransport) retryAfter() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastRetryAfter
}

// parseRetryAfter reads a Retry-After header: delay-seconds, or an
// HTTP-date measured against the response's own Date so that our clock's
// skew does not matter.
func parseRetryAfter(h http.Header) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return 0, false
	}
	return max(at.Sub(date), 0), true
}
