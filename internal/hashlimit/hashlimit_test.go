package hashlimit

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"
)

// waitFor waits until cond holds for l's stats. The deadline only stops a
// broken test from hanging; no assertion depends on timing.
func waitFor(tb testing.TB, l *Limiter, what string, cond func(Stats) bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond(l.Stats()) {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s; stats %+v", what, l.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

// call is a Do running in its own goroutine with an fn that the test holds.
type call struct {
	started chan struct{} // closed when fn starts
	release chan struct{} // close to let fn return
	err     chan error    // Do's result
	once    sync.Once
}

// start calls l.Do(ctx, …) in a new goroutine. The test releases fn with
// c.done(); cleanup releases it too.
func start(tb testing.TB, ctx context.Context, l *Limiter) *call {
	tb.Helper()
	c := &call{started: make(chan struct{}), release: make(chan struct{}), err: make(chan error, 1)}
	go func() {
		c.err <- l.Do(ctx, func() {
			close(c.started)
			<-c.release
		})
	}()
	tb.Cleanup(c.done)
	return c
}

func (c *call) done() { c.once.Do(func() { close(c.release) }) }

func (c *call) running() bool {
	select {
	case <-c.started:
		return true
	default:
		return false
	}
}

// hold starts a Do and waits until its fn runs.
func hold(tb testing.TB, l *Limiter) *call {
	tb.Helper()
	c := start(tb, context.Background(), l)
	select {
	case <-c.started:
	case err := <-c.err:
		tb.Fatalf("Do = %v, want fn to run", err)
	}
	return c
}

// result returns c's Do result once it is there.
func (c *call) result(tb testing.TB) error {
	tb.Helper()
	select {
	case err := <-c.err:
		return err
	case <-time.After(10 * time.Second):
		tb.Fatal("Do did not return")
		return nil
	}
}

func noLinger(o Options) Options { o.Linger = -1; return o }

func TestNewDefaults(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	tests := []struct {
		name string
		in   Options
		max  int
		min  int
		q    int
		wait time.Duration
	}{
		{name: "zero", in: Options{}, max: procs, min: procs - procs/2, q: 4 * procs, wait: 2 * time.Second},
		{name: "explicit", in: Options{MaxInFlight: 8, MinInFlight: 5, MaxQueue: 5, MaxWait: time.Second}, max: 8, min: 5, q: 5, wait: time.Second},
		{name: "min below half", in: Options{MaxInFlight: 8, MinInFlight: 3}, max: 8, min: 4, q: 32, wait: 2 * time.Second},
		{name: "odd max", in: Options{MaxInFlight: 5}, max: 5, min: 3, q: 20, wait: 2 * time.Second},
		{name: "min above max", in: Options{MaxInFlight: 2, MinInFlight: 5}, max: 2, min: 2, q: 8, wait: 2 * time.Second},
		{name: "no queue", in: Options{MaxInFlight: 2, MaxQueue: -1}, max: 2, min: 1, q: 0, wait: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(tt.in)
			if l.max != tt.max || l.min != tt.min || l.maxQueue != tt.q || l.maxWait != tt.wait {
				t.Errorf("New(%+v) = max %d min %d queue %d wait %v, want %d %d %d %v",
					tt.in, l.max, l.min, l.maxQueue, l.maxWait, tt.max, tt.min, tt.q, tt.wait)
			}
		})
	}
}

func TestLimitRespected(t *testing.T) {
	l := New(noLinger(Options{MaxInFlight: 2, MaxWait: time.Hour}))
	a, b := hold(t, l), hold(t, l)
	c := start(t, context.Background(), l)
	waitFor(t, l, "a waiter", func(s Stats) bool { return s.Waiting == 1 })
	if c.running() {
		t.Fatal("third hash runs with MaxInFlight 2")
	}
	if s := l.Stats(); s.InFlight != 2 {
		t.Errorf("InFlight = %d, want 2", s.InFlight)
	}
	a.done()
	<-c.started
	for _, x := range []*call{a, b, c} {
		x.done()
		if err := x.result(t); err != nil {
			t.Errorf("Do = %v, want nil", err)
		}
	}
	if s := l.Stats(); s.Completed != 3 || s.InFlight != 0 || s.Rejected != 0 {
		t.Errorf("Stats = %+v, want 3 completed, none in flight or rejected", s)
	}
}

func TestQueueFull(t *testing.T) {
	tests := []struct {
		name    string
		queue   int
		waiters int
	}{
		{name: "queue of two", queue: 2, waiters: 2},
		{name: "no queue", queue: -1, waiters: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(noLinger(Options{MaxInFlight: 1, MaxQueue: tt.queue, MaxWait: time.Hour}))
			hold(t, l)
			for i := range tt.waiters {
				start(t, context.Background(), l)
				waitFor(t, l, "waiters", func(s Stats) bool { return s.Waiting == i+1 })
			}
			if !l.Busy() {
				t.Errorf("Busy() = false with a full queue, want true")
			}
			ran := false
			if err := l.Do(context.Background(), func() { ran = true }); !errors.Is(err, ErrBusy) || ran {
				t.Errorf("Do with a full queue = %v (ran %v), want ErrBusy without running", err, ran)
			}
			if s := l.Stats(); s.QueueFull != 1 || s.Rejected != 1 {
				t.Errorf("Stats = %+v, want 1 rejected for a full queue", s)
			}
		})
	}
}

func TestBusy(t *testing.T) {
	l := New(noLinger(Options{MaxInFlight: 1, MaxQueue: 1, MaxWait: time.Hour}))
	if l.Busy() {
		t.Fatal("Busy() = true when idle, want false")
	}
	c := hold(t, l)
	if l.Busy() {
		t.Fatal("Busy() = true with room in the queue, want false")
	}
	start(t, context.Background(), l)
	waitFor(t, l, "a waiter", func(s Stats) bool { return s.Waiting == 1 })
	if !l.Busy() {
		t.Fatal("Busy() = false with the queue full, want true")
	}
	c.done()
	waitFor(t, l, "the queue to drain", func(s Stats) bool { return s.Waiting == 0 })
	if s := l.Stats(); s.Rejected != 0 {
		t.Fatalf("Busy counted a rejection: %+v", s)
	}
}

func TestMaxWait(t *testing.T) {
	l := New(noLinger(Options{MaxInFlight: 1, MaxWait: time.Millisecond}))
	first := hold(t, l)
	ran := false
	if err := l.Do(context.Background(), func() { ran = true }); !errors.Is(err, ErrBusy) || ran {
		t.Errorf("Do past MaxWait = %v (ran %v), want ErrBusy without running", err, ran)
	}
	if s := l.Stats(); s.TooLong != 1 || s.Waiting != 0 || s.InFlight != 1 {
		t.Errorf("Stats = %+v, want 1 too long, none waiting, 1 in flight", s)
	}
	first.done()
	if err := first.result(t); err != nil {
		t.Errorf("Do = %v, want nil", err)
	}
}

// TestExpectedWait checks that a hopeless wait is refused at once rather
// than after MaxWait: with a minute to wait, a blocking Do would hang.
func TestExpectedWait(t *testing.T) {
	l := New(noLinger(Options{MaxInFlight: 1, MaxWait: time.Minute}))
	hold(t, l)
	l.mu.Lock()
	l.perHash = time.Hour
	l.mu.Unlock()
	if err := l.Do(context.Background(), func() {}); !errors.Is(err, ErrBusy) {
		t.Errorf("Do = %v, want ErrBusy", err)
	}
	if s := l.Stats(); s.TooLong != 1 || s.Waiting != 0 {
		t.Errorf("Stats = %+v, want 1 too long, none waiting", s)
	}
}

func TestContextCanceled(t *testing.T) {
	t.Run("while waiting", func(t *testing.T) {
		l := New(noLinger(Options{MaxInFlight: 1, MaxWait: time.Hour}))
		hold(t, l)
		ctx, cancel := context.WithCancel(context.Background())
		c := start(t, ctx, l)
		waitFor(t, l, "a waiter", func(s Stats) bool { return s.Waiting == 1 })
		cancel()
		if err := c.result(t); !errors.Is(err, ErrBusy) || c.running() {
			t.Errorf("Do after cancel = %v (ran %v), want ErrBusy without running", err, c.running())
		}
		if s := l.Stats(); s.Canceled != 1 || s.Waiting != 0 || s.InFlight != 1 {
			t.Errorf("Stats = %+v, want 1 canceled, none waiting, 1 in flight", s)
		}
	})
	t.Run("before the call", func(t *testing.T) {
		l := New(Options{MaxInFlight: 1})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ran := false
		if err := l.Do(ctx, func() { ran = true }); !errors.Is(err, ErrBusy) || ran {
			t.Errorf("Do with ended ctx = %v (ran %v), want ErrBusy without running", err, ran)
		}
	})
}

func TestAdaptiveLimit(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		tracked   int
		wantLimit int
	}{
		{name: "nothing else", opts: Options{MaxInFlight: 2}, tracked: 0, wantLimit: 2},
		{name: "one other on 2", opts: Options{MaxInFlight: 2}, tracked: 1, wantLimit: 1},
		{name: "never below min", opts: Options{MaxInFlight: 2}, tracked: 5, wantLimit: 1},
		{name: "one core per other", opts: Options{MaxInFlight: 8}, tracked: 3, wantLimit: 5},
		{name: "other work takes at most half", opts: Options{MaxInFlight: 8}, tracked: 7, wantLimit: 4},
		{name: "raised min", opts: Options{MaxInFlight: 8, MinInFlight: 6}, tracked: 3, wantLimit: 6},
		{name: "fixed", opts: Options{MaxInFlight: 2, MinInFlight: 2}, tracked: 1, wantLimit: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(noLinger(tt.opts))
			var dones []func()
			for range tt.tracked {
				dones = append(dones, l.Track())
			}
			if s := l.Stats(); s.Limit != tt.wantLimit || s.Other != tt.tracked {
				t.Errorf("with %d tracked: Stats = %+v, want limit %d", tt.tracked, s, tt.wantLimit)
			}
			for _, done := range dones {
				done()
				done() // a second call changes nothing
			}
			if s := l.Stats(); s.Limit != l.max || s.Other != 0 {
				t.Errorf("after done: Stats = %+v, want limit %d", s, l.max)
			}
		})
	}
}

func TestAdaptiveDropAndRestore(t *testing.T) {
	l := New(noLinger(Options{MaxInFlight: 2, MaxWait: time.Hour}))
	done := l.Track()
	first := hold(t, l)
	second := start(t, context.Background(), l)
	waitFor(t, l, "a waiter", func(s Stats) bool { return s.Waiting == 1 })
	if second.running() {
		t.Fatal("second hash runs while other work is in flight on 2 slots")
	}
	done()
	<-second.started // the end of the other work alone lets it start
	first.done()
	second.done()
	for _, c := range []*call{first, second} {
		if err := c.result(t); err != nil {
			t.Errorf("Do = %v, want nil", err)
		}
	}
}

func TestLinger(t *testing.T) {
	t.Run("holds a core after other work", func(t *testing.T) {
		l := New(Options{MaxInFlight: 2, Linger: time.Hour})
		l.Track()()
		if s := l.Stats(); s.Limit != 1 {
			t.Errorf("Limit just after other work = %d, want 1", s.Limit)
		}
	})
	t.Run("wakes the queue when it ends", func(t *testing.T) {
		l := New(Options{MaxInFlight: 2, Linger: time.Millisecond, MaxWait: time.Hour})
		l.Track()()
		hold(t, l)
		second := start(t, context.Background(), l)
		// Nothing but the end of the linger happens now.
		select {
		case <-second.started:
		case <-time.After(10 * time.Second):
			t.Fatalf("second hash never started; stats %+v", l.Stats())
		}
	})
	t.Run("not set by a login", func(t *testing.T) {
		l := New(Options{MaxInFlight: 2, Linger: time.Hour})
		tr := l.track()
		if err := l.Do(newContext(context.Background(), tr), func() {}); err != nil {
			t.Fatalf("Do = %v", err)
		}
		tr.finish()
		if s := l.Stats(); s.Limit != 2 {
			t.Errorf("Limit after a login = %d, want 2", s.Limit)
		}
	})
}

// TestHalfForHashing: however much other work is in flight, hashing keeps
// half the slots: a hash starts at once while other work holds the rest.
func TestHalfForHashing(t *testing.T) {
	l := New(noLinger(Options{MaxInFlight: 2, MaxWait: time.Hour}))
	for range 10 {
		defer l.Track()()
	}
	c := start(t, context.Background(), l)
	select {
	case <-c.started:
	case <-time.After(10 * time.Second):
		t.Fatalf("hash did not start with 10 pieces of other work; stats %+v", l.Stats())
	}
	if s := l.Stats(); s.Limit != 1 {
		t.Errorf("Limit = %d, want 1 of 2", s.Limit)
	}
}

func TestFIFO(t *testing.T) {
	l := New(noLinger(Options{MaxInFlight: 1, MaxQueue: 10, MaxWait: time.Hour}))
	first := hold(t, l)
	var (
		mu    sync.Mutex
		order []int
		wg    sync.WaitGroup
	)
	const n = 8
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Do(context.Background(), func() {
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
			}); err != nil {
				t.Errorf("Do #%d = %v", i, err)
			}
		}()
		waitFor(t, l, "queued", func(s Stats) bool { return s.Waiting == i+1 })
	}
	// A newcomer must not jump the queue when a slot frees.
	first.done()
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("run order = %v, want arrival order", order)
		}
	}
}

func TestPanicReleasesSlot(t *testing.T) {
	l := New(Options{MaxInFlight: 1})
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Do swallowed fn's panic")
			}
		}()
		l.Do(context.Background(), func() { panic("boom") })
	}()
	if s := l.Stats(); s.InFlight != 0 || s.Completed != 1 {
		t.Errorf("Stats after panic = %+v, want slot free", s)
	}
	if err := l.Do(context.Background(), func() {}); err != nil {
		t.Errorf("Do after panic = %v, want nil", err)
	}
}

func TestMiddleware(t *testing.T) {
	tests := []struct {
		name       string
		login      bool // the handler hashes
		wantLinger bool
	}{
		{name: "cheap request", login: false, wantLinger: true},
		{name: "login", login: true, wantLinger: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(Options{MaxInFlight: 2, Linger: time.Hour})
			var inHandler, inHash Stats
			h := l.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inHandler = l.Stats()
				if tt.login {
					if err := l.Do(r.Context(), func() { inHash = l.Stats() }); err != nil {
						t.Errorf("Do = %v", err)
					}
				}
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
			if inHandler.Other != 1 || inHandler.Limit != 1 {
				t.Errorf("in handler: Stats = %+v, want 1 other, limit 1", inHandler)
			}
			if tt.login && (inHash.Other != 0 || inHash.Limit != 2 || inHash.InFlight != 1) {
				t.Errorf("in hash: Stats = %+v, want request not counted, limit 2", inHash)
			}
			after := l.Stats()
			if after.Other != 0 {
				t.Errorf("after: Other = %d, want 0", after.Other)
			}
			if got := after.Limit == 1; got != tt.wantLinger {
				t.Errorf("after: Limit = %d, want lingering %v", after.Limit, tt.wantLinger)
			}
		})
	}
}

// TestOtherLimiterContext checks that a request tracked by one Limiter is
// not suspended by another.
func TestOtherLimiterContext(t *testing.T) {
	a := New(noLinger(Options{MaxInFlight: 2}))
	b := New(noLinger(Options{MaxInFlight: 2}))
	tr := a.track()
	defer tr.finish()
	var inHash Stats
	if err := b.Do(newContext(context.Background(), tr), func() { inHash = a.Stats() }); err != nil {
		t.Fatalf("Do = %v", err)
	}
	if inHash.Other != 1 {
		t.Errorf("a.Stats().Other during b.Do = %d, want 1", inHash.Other)
	}
}

// TestObserveWait checks what metrics are told: zero for a hash that
// starts at once, the time queued for one that waited (and ran or gave
// up), and nothing for a refusal that never queued.
func TestObserveWait(t *testing.T) {
	var (
		mu    sync.Mutex
		waits []time.Duration
	)
	observed := func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), waits...)
	}
	l := New(noLinger(Options{MaxInFlight: 1, MaxQueue: 1, MaxWait: time.Hour, ObserveWait: func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
	}}))

	first := hold(t, l)
	if got := observed(); len(got) != 1 || got[0] != 0 {
		t.Fatalf("waits after a hash that started at once = %v, want [0]", got)
	}
	queued := start(t, context.Background(), l)
	waitFor(t, l, "a waiter", func(s Stats) bool { return s.Waiting == 1 })
	if err := l.Do(context.Background(), func() {}); !errors.Is(err, ErrBusy) {
		t.Fatalf("Do with a full queue = %v, want ErrBusy", err)
	}
	if got := observed(); len(got) != 1 {
		t.Fatalf("waits after a refusal that never queued = %v, want still one", got)
	}
	first.done()
	<-queued.started
	queued.done()
	if err := queued.result(t); err != nil {
		t.Fatalf("queued Do = %v, want nil", err)
	}
	if got := observed(); len(got) != 2 || got[1] <= 0 {
		t.Fatalf("waits after a queued hash ran = %v, want a second, positive wait", got)
	}

	holder := hold(t, l)
	defer holder.done()
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := start(t, ctx, l)
	waitFor(t, l, "a waiter", func(s Stats) bool { return s.Waiting == 1 })
	cancel()
	if err := gaveUp.result(t); !errors.Is(err, ErrBusy) {
		t.Fatalf("Do canceled while queued = %v, want ErrBusy", err)
	}
	if got := observed(); len(got) != 4 || got[2] != 0 || got[3] <= 0 {
		t.Fatalf("waits = %v, want 0 for the holder and a positive wait for the waiter that gave up", got)
	}
}
