package auth_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/store"
)

// The production event writer: authtest's services write each event before
// the request returns (SyncEvents); these tests run RunEvents instead.

// poisonAgent is the user agent of an event the store refuses.
const poisonAgent = "poison"

// eventWriterStore is a store whose RecordEvents refuses any batch that
// holds an event with poisonAgent, as a database refuses a batch with one
// bad row. It remembers the size of every batch it was given and tells
// changed after each.
type eventWriterStore struct {
	store.Store
	changed chan struct{}
	mu      sync.Mutex
	batches []int
}

func (s *eventWriterStore) RecordEvents(ctx context.Context, events []*store.Event) error {
	defer notify(s.changed)
	s.mu.Lock()
	s.batches = append(s.batches, len(events))
	s.mu.Unlock()
	for _, e := range events {
		if e.UserAgent == poisonAgent {
			return errors.New("eventwriter test: poisoned event")
		}
	}
	return s.Store.RecordEvents(ctx, events)
}

func (s *eventWriterStore) batchSizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.batches)
}

// eventWriterObserver counts the events the service reports lost.
type eventWriterObserver struct {
	changed chan struct{}
	dropped atomic.Int64
}

func (*eventWriterObserver) Login(string)              {}
func (*eventWriterObserver) CodeCheck(string, string)  {}
func (*eventWriterObserver) Send(auth.Channel, string) {}
func (*eventWriterObserver) LimitHit(string)           {}
func (o *eventWriterObserver) EventsDropped(n int) {
	o.dropped.Add(int64(n))
	notify(o.changed)
}

func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// eventWriter is a service that buffers its events for RunEvents, over an
// eventWriterStore around a fresh Env's store, and a session it refreshes
// to make events.
type eventWriter struct {
	svc     *auth.Service
	store   *eventWriterStore
	obs     *eventWriterObserver
	changed chan struct{}
	refresh string // the session's current refresh token
}

type agentKey struct{}

// withAgent gives ctx a user agent for the service's events.
func withAgent(ctx context.Context, agent string) context.Context {
	return context.WithValue(ctx, agentKey{}, agent)
}

func newEventWriter(tb testing.TB) *eventWriter {
	tb.Helper()
	h := authtest.New(tb, authtest.Options{})
	changed := make(chan struct{}, 1)
	w := &eventWriter{
		store:   &eventWriterStore{Store: h.Store, changed: changed},
		obs:     &eventWriterObserver{changed: changed},
		changed: changed,
		// Signed in through h.Svc, whose events are written at once.
		refresh: h.SignIn(tb, "ada@example.com", authtest.NextPhone()).RefreshToken,
	}
	phones, err := input.NewPhones("US", nil)
	if err != nil {
		tb.Fatal(err)
	}
	w.svc, err = auth.New(auth.Options{
		Store:      w.store,
		OTP:        h.OTP,
		Tokens:     h.Tokens,
		Phones:     phones,
		BcryptCost: bcrypt.MinCost,
		Sessions:   auth.SessionConfig{Secret: []byte(authtest.RefreshSecret)},
		Observer:   w.obs,
		RequestInfo: func(ctx context.Context) (string, string) {
			agent, _ := ctx.Value(agentKey{}).(string)
			return "", agent
		},
		Now: h.Clock.Now,
		// SyncEvents false: the production path.
	})
	if err != nil {
		tb.Fatalf("auth.New() = %v", err)
	}
	return w
}

// event makes the service record one event, SESSION_REFRESHED (no dedup
// key, no bcrypt), with agent as its user agent. The request must not wait
// for the writer.
func (w *eventWriter) event(tb testing.TB, agent string) {
	tb.Helper()
	res, err := w.svc.Refresh(withAgent(context.Background(), agent), auth.RefreshInput{RefreshToken: w.refresh})
	if err != nil {
		tb.Fatalf("Refresh() = %v", err)
	}
	w.refresh = res.RefreshToken
}

// recorded returns the user agents of the SESSION_REFRESHED events in the
// store, sorted.
func (w *eventWriter) recorded(tb testing.TB) []string {
	tb.Helper()
	all, err := w.store.Store.ListEvents(context.Background(), "", store.Cursor{}, 100000)
	if err != nil {
		tb.Fatalf("ListEvents() = %v", err)
	}
	var agents []string
	for _, e := range all {
		if e.Type == auth.EventSessionRefreshed {
			agents = append(agents, e.UserAgent)
		}
	}
	slices.Sort(agents)
	return agents
}

// run starts RunEvents; stop cancels its context and returns once
// RunEvents has.
func (w *eventWriter) run(ctx context.Context, tb testing.TB) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.svc.RunEvents(ctx); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				tb.Fatal("RunEvents did not return 10s after its context was cancelled")
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}

// waitFor waits until cond holds, checking each time the store or the
// observer is called; it fails tb if that takes 10 seconds.
func (w *eventWriter) waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-w.changed:
		case <-deadline:
			tb.Fatalf("waited 10s for %s", what)
		}
	}
}

// TestRunEventsWrites: events wait in the buffer, not on the store, and
// RunEvents writes them, those made before it started and those made while
// it runs.
func TestRunEventsWrites(t *testing.T) {
	w := newEventWriter(t)
	w.event(t, "before")
	if got := w.recorded(t); len(got) != 0 {
		t.Fatalf("before RunEvents: events %q in the store, want none (they wait for RunEvents)", got)
	}
	stop := w.run(context.Background(), t)
	w.waitFor(t, "the event made before RunEvents", func() bool { return len(w.recorded(t)) == 1 })
	for i := 1; i <= 3; i++ {
		w.event(t, fmt.Sprintf("while-%d", i))
	}
	want := []string{"before", "while-1", "while-2", "while-3"}
	w.waitFor(t, "the events made while RunEvents runs", func() bool { return len(w.recorded(t)) == len(want) })
	stop()
	if got := w.recorded(t); !slices.Equal(got, want) {
		t.Errorf("RunEvents wrote %q, want %q", got, want)
	}
	if n := w.obs.dropped.Load(); n != 0 {
		t.Errorf("EventsDropped total = %d, want 0", n)
	}
}

// TestRunEventsBadEvent: an event the store refuses is lost alone, and
// counted; the rest of its batch is written.
func TestRunEventsBadEvent(t *testing.T) {
	tests := []struct {
		name   string
		agents []string // queued before RunEvents starts: one batch
		want   []string
	}{
		{"all good", []string{"ok-1", "ok-2", "ok-3"}, []string{"ok-1", "ok-2", "ok-3"}},
		{"bad alone", []string{poisonAgent}, nil},
		{"bad in the middle", []string{"ok-1", poisonAgent, "ok-2", "ok-3"}, []string{"ok-1", "ok-2", "ok-3"}},
		{"bad first and last", []string{poisonAgent, "ok-1", "ok-2", poisonAgent}, []string{"ok-1", "ok-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newEventWriter(t)
			for _, agent := range tt.agents {
				w.event(t, agent)
			}
			wantDropped := len(tt.agents) - len(tt.want)
			stop := w.run(context.Background(), t)
			w.waitFor(t, "every event written or counted lost", func() bool {
				return len(w.recorded(t))+int(w.obs.dropped.Load()) >= len(tt.agents)
			})
			stop()
			if got := w.recorded(t); !slices.Equal(got, tt.want) {
				t.Errorf("batch %q: RunEvents wrote %q, want %q", tt.agents, got, tt.want)
			}
			if n := w.obs.dropped.Load(); n != int64(wantDropped) {
				t.Errorf("batch %q: EventsDropped total = %d, want %d", tt.agents, n, wantDropped)
			}
			if b := w.store.batchSizes(); len(b) == 0 || b[0] != len(tt.agents) {
				t.Errorf("RecordEvents batches = %v, want the %d queued events in one batch first", b, len(tt.agents))
			}
		})
	}
}

// TestRunEventsFlushesOnCancel: events still buffered when RunEvents'
// context ends are written before it returns, none lost. The
// context is cancelled before RunEvents starts, with events waiting; a
// select between the two is random, so the case runs many times.
func TestRunEventsFlushesOnCancel(t *testing.T) {
	const events, trials = 150, 20 // more than one batch
	for trial := range trials {
		w := newEventWriter(t)
		for i := range events {
			w.event(t, fmt.Sprintf("e-%d", i))
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		stop := w.run(ctx, t)
		stop()
		if got := len(w.recorded(t)); got != events {
			t.Fatalf("trial %d: RunEvents(cancelled) with %d events buffered returned having written %d (%d counted lost), want all %d",
				trial, events, got, w.obs.dropped.Load(), events)
		}
	}
}

// TestRunEventsCountsDrops: when the buffer is full a request still
// returns at once, its event is lost and counted through the Observer, and
// the events already buffered are still written.
func TestRunEventsCountsDrops(t *testing.T) {
	w := newEventWriter(t)
	made := 0
	for w.obs.dropped.Load() == 0 {
		if made > 100000 {
			t.Fatalf("%d events made without RunEvents and none dropped: the buffer is unbounded", made)
		}
		w.event(t, "flood")
		made++
	}
	for range 2 {
		w.event(t, "flood")
		made++
	}
	const dropped = 3
	if n := w.obs.dropped.Load(); n != dropped {
		t.Fatalf("after the buffer filled and 2 more events: EventsDropped total = %d, want %d", n, dropped)
	}
	buffered := made - dropped
	stop := w.run(context.Background(), t)
	w.waitFor(t, "the buffered events", func() bool { return len(w.recorded(t)) >= buffered })
	stop()
	if got := len(w.recorded(t)); got != buffered {
		t.Errorf("RunEvents wrote %d events, want the %d buffered (of %d made)", got, buffered, made)
	}
	if n := w.obs.dropped.Load(); n != dropped {
		t.Errorf("EventsDropped total = %d, want %d", n, dropped)
	}
}
