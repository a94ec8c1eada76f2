package hashlimit

import (
	"context"
	"net/http"
	"time"
)

// tracker is one piece of other work, usually an HTTP request.
type tracker struct {
	l      *Limiter
	inDo   int  // calls of Do under way for this request
	hashed bool // called Do: its end does not start the linger
	done   bool
}

// Track counts one piece of other work, such as a request that is not a
// login, as in flight until done is called; while any is in flight, fewer
// hashes run. Calling done more than once has no further effect. Requests
// that reach Do should be tracked by Middleware instead, which knows to
// stop counting them while they wait for a hash.
func (l *Limiter) Track() (done func()) {
	return l.track().finish
}

func (l *Limiter) track() *tracker {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.other++
	return &tracker{l: l}
}

func (t *tracker) finish() {
	l := t.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.done {
		return
	}
	t.done = true
	if t.inDo == 0 {
		l.other--
	}
	now := time.Now()
	if !t.hashed {
		l.lastOther = now
	}
	l.dispatch(now)
}

// suspend stops counting tr as other work while it is inside Do.
func (l *Limiter) suspend(tr *tracker) {
	if tr == nil || tr.done {
		return
	}
	tr.hashed = true
	if tr.inDo == 0 {
		l.other--
	}
	tr.inDo++
}

// resume counts tr as other work again when it leaves Do.
func (l *Limiter) resume(tr *tracker) {
	if tr == nil || tr.done {
		return
	}
	tr.inDo--
	if tr.inDo == 0 {
		l.other++
	}
}

// Middleware tracks every request as other work (see Track) and lets Do
// recognise it through the request's context, so that a login stops
// counting while it waits for and runs its hash. Wrap only short requests:
// a long-lived one (WebSocket, server-sent events) would hold a core back
// for as long as it stays open.
func (l *Limiter) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr := l.track()
		defer tr.finish()
		next.ServeHTTP(w, r.WithContext(newContext(r.Context(), tr)))
	})
}

type trackerKey struct{}

func newContext(ctx context.Context, tr *tracker) context.Context {
	return context.WithValue(ctx, trackerKey{}, tr)
}

// fromContext returns the request tracker of l in ctx, or nil.
func fromContext(ctx context.Context, l *Limiter) *tracker {
	tr, _ := ctx.Value(trackerKey{}).(*tracker)
	if tr == nil || tr.l != l {
		return nil
	}
	return tr
}
