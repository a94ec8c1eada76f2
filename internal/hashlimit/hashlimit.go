// Package hashlimit bounds the password hashing that runs at once, so that a
// login flood cannot starve the rest of the server. bcrypt is the most
// expensive thing twostep does: one compare at cost 12 holds a core for a
// quarter of a second. A Limiter runs each hash under a limit, queues a few
// more for a short while, and refuses the rest with ErrBusy, which the API
// reports as RATE_LIMITED.
//
// # Policy
//
// Two goals pull against each other. Logins alone must get nearly all of
// the machine's hashing capacity, which needs one hash per core. Cheap
// requests (a JWT check and an indexed read) must stay fast during a flood,
// which needs a core that no hash holds: a hash cannot be interrupted, and
// a goroutine woken by the network while every core hashes waits for the
// scheduler's 10 ms time slice, several times per request. No fixed limit
// meets both on a small machine: on 2 cores, a limit of 2 leaves nothing
// for cheap requests and a limit of 1 wastes half of the hashing.
//
// So the limit follows the other work. Every request counts as other work
// (Middleware, Track) once its body has arrived (the HTTP edge reads bodies
// before any handler runs, so a slow client holds nothing here), except
// while it is inside Do, waiting for or running a hash. The effective limit
// is MaxInFlight minus one for each piece of other work in flight, but
// other work never reserves more than half the slots, and the limit is
// never below MinInFlight: cheap requests get cores, and logins keep at
// least half of the hashing capacity however much else is in flight. A running hash is
// never stopped; a lower limit only holds back the next one. That costs
// little: a cheap request is over in about a millisecond, and its end lets
// the waiter start at once.
//
// Cheap requests come one after another, with short gaps between them (a
// client reading one response before sending the next). A hash started in
// such a gap would hold a core for a quarter of a second once they are
// back, so the reservation outlives the last cheap request by Linger
// (default 50 ms). Only work that did not hash sets the linger: the parts
// of a login around its own hash do not, so logins alone still run
// MaxInFlight hashes.
//
// A waiter is served in arrival order. Do refuses at once when MaxQueue
// hashes already wait, or when the queue ahead, at the current limit and
// the recent time per hash, would take longer than MaxWait; a waiter still
// waiting after MaxWait gives up.
package hashlimit

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"time"
)

// ErrBusy is returned by Do when fn was not run because the hashing
// capacity is taken: the queue is full, the wait would exceed MaxWait, or
// ctx ended while waiting.
var ErrBusy = errors.New("hashlimit: busy")

// Options configures a Limiter. Zero values select the defaults.
type Options struct {
	// MaxInFlight is the limit on hashes running while nothing else is in
	// flight. Default runtime.GOMAXPROCS(0): one per core.
	MaxInFlight int
	// MinInFlight is the limit however much other work is in flight. It
	// is at least half of MaxInFlight (rounded up), the share other work
	// may never take, and at most MaxInFlight.
	MinInFlight int
	// MaxQueue is how many hashes may wait for a slot. Default
	// 4*MaxInFlight; negative means none may wait.
	MaxQueue int
	// MaxWait is the longest a hash waits for a slot. Default 2s.
	MaxWait time.Duration
	// Linger is how long a core stays reserved after the last other work
	// ended. Default 50ms; negative means not at all.
	Linger time.Duration
	// ObserveWait, if set, is called (for metrics) with how long each hash
	// waited for a slot: zero when it started at once, and the time spent
	// queued when it was given one or gave up. Refusals that never queued
	// are not waits. It is called without the Limiter's lock held and
	// must be cheap.
	ObserveWait func(time.Duration)
}

// Limiter bounds concurrent hashing. Create one with New and share it; it is
// safe for concurrent use.
type Limiter struct {
	max, min, maxQueue int
	maxWait, linger    time.Duration
	observeWait        func(time.Duration)

	mu        sync.Mutex
	inFlight  int       // hashes running
	queue     []*waiter // hashes waiting, oldest first
	other     int       // tracked work in flight outside Do
	lastOther time.Time // when work that did not hash last ended
	perHash   time.Duration
	wakeAt    time.Time // when a pending timer calls dispatch, if any
	stats     Stats
}

type waiter struct {
	ready   chan struct{} // closed when granted
	granted bool
}

// New returns a Limiter with o's defaults filled in.
func New(o Options) *Limiter {
	l := &Limiter{max: o.MaxInFlight, min: o.MinInFlight, maxQueue: o.MaxQueue, maxWait: o.MaxWait, linger: o.Linger, observeWait: o.ObserveWait}
	if l.max <= 0 {
		l.max = runtime.GOMAXPROCS(0)
	}
	l.min = min(max(l.min, l.max-l.max/2), l.max)
	switch {
	case l.maxQueue == 0:
		l.maxQueue = 4 * l.max
	case l.maxQueue < 0:
		l.maxQueue = 0
	}
	if l.maxWait <= 0 {
		l.maxWait = 2 * time.Second
	}
	switch {
	case l.linger == 0:
		l.linger = 50 * time.Millisecond
	case l.linger < 0:
		l.linger = 0
	}
	return l
}

// Stats is a snapshot of a Limiter, for metrics and tests.
type Stats struct {
	InFlight int // hashes running
	Waiting  int // hashes queued
	Other    int // tracked work in flight outside Do
	Limit    int // effective limit now

	Completed uint64 // fn calls that returned (or panicked)
	Rejected  uint64 // Do calls that returned ErrBusy, the sum of:
	QueueFull uint64 //   refused because MaxQueue hashes waited
	TooLong   uint64 //   refused or given up because of MaxWait
	Canceled  uint64 //   given up because ctx ended
}

// Stats returns the current counts.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.InFlight, s.Waiting, s.Other, s.Limit = l.inFlight, len(l.queue), l.other, l.limit(time.Now())
	return s
}

// Busy reports whether Do would refuse a hash right now (a full queue, or a
// wait longer than MaxWait), so a caller can refuse before doing the work
// that leads up to the hash.
func (l *Limiter) Busy() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if len(l.queue) == 0 && l.inFlight < l.limit(now) {
		return false
	}
	return len(l.queue) >= l.maxQueue || l.expectedWait(now) > l.maxWait
}

// Do runs fn, a password hash or compare, once a slot is free, and returns
// nil after fn returns. It returns ErrBusy without running fn if MaxQueue
// hashes are already waiting, if the wait would exceed MaxWait, or if ctx
// ends first. If ctx comes from a request that Middleware tracks, that
// request stops counting as other work while Do waits and runs.
func (l *Limiter) Do(ctx context.Context, fn func()) error {
	tr := fromContext(ctx, l)

	l.mu.Lock()
	now := time.Now()
	l.suspend(tr)
	// The caller no longer counts as other work, which may free a slot
	// for an earlier waiter.
	l.dispatch(now)
	if ctx.Err() != nil {
		l.stats.Canceled++
		return l.rejectLocked(tr)
	}
	if len(l.queue) == 0 && l.inFlight < l.limit(now) {
		l.inFlight++
		l.mu.Unlock()
		l.waited(0)
		return l.run(fn, tr)
	}
	if len(l.queue) >= l.maxQueue {
		l.stats.QueueFull++
		return l.rejectLocked(tr)
	}
	if l.expectedWait(now) > l.maxWait {
		l.stats.TooLong++
		return l.rejectLocked(tr)
	}
	w := &waiter{ready: make(chan struct{})}
	l.queue = append(l.queue, w)
	l.dispatch(now) // arms a wake-up if only the linger holds w back
	l.mu.Unlock()

	timer := time.NewTimer(l.maxWait)
	defer timer.Stop()
	var canceled bool
	select {
	case <-w.ready:
		l.waited(time.Since(now))
		return l.run(fn, tr)
	case <-ctx.Done():
		canceled = true
	case <-timer.C:
	}

	l.mu.Lock()
	if w.granted {
		// Granted just as the caller gave up: pass the slot on.
		l.inFlight--
		l.dispatch(time.Now())
	} else {
		l.queue = slices.DeleteFunc(l.queue, func(q *waiter) bool { return q == w })
	}
	if canceled {
		l.stats.Canceled++
	} else {
		l.stats.TooLong++
	}
	err := l.rejectLocked(tr)
	l.waited(time.Since(now))
	return err
}

// waited reports a wait to ObserveWait.
func (l *Limiter) waited(d time.Duration) {
	if l.observeWait != nil {
		l.observeWait(d)
	}
}

// rejectLocked counts a refusal, unlocks l and returns ErrBusy.
func (l *Limiter) rejectLocked(tr *tracker) error {
	l.stats.Rejected++
	l.resume(tr)
	l.mu.Unlock()
	return ErrBusy
}

// run runs fn in a slot that is already counted in l.inFlight.
func (l *Limiter) run(fn func(), tr *tracker) error {
	start := time.Now()
	defer func() {
		end := time.Now()
		l.mu.Lock()
		defer l.mu.Unlock()
		l.inFlight--
		l.stats.Completed++
		l.observe(end.Sub(start))
		// Hand the slot on before the caller counts as other work again:
		// what remains of its request is short, and counting it would
		// hold the slot empty meanwhile.
		l.dispatch(end)
		l.resume(tr)
	}()
	fn()
	return nil
}

// limit returns the effective limit: one core held back per piece of other
// work in flight, or one while the linger lasts, down to l.min.
func (l *Limiter) limit(now time.Time) int {
	reserved := l.other
	if reserved == 0 && l.lingering(now) {
		reserved = 1
	}
	return max(l.max-reserved, l.min)
}

func (l *Limiter) lingering(now time.Time) bool {
	return l.linger > 0 && !l.lastOther.IsZero() && now.Before(l.lastOther.Add(l.linger))
}

// dispatch starts waiters, oldest first, while the limit allows.
func (l *Limiter) dispatch(now time.Time) {
	lim := l.limit(now)
	for len(l.queue) > 0 && l.inFlight < lim {
		w := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		w.granted = true
		l.inFlight++
		close(w.ready)
	}
	if len(l.queue) == 0 || l.inFlight >= l.max {
		return
	}
	// Nothing else would wake the queue when only time holds it back: the
	// end of the linger.
	var at time.Time
	if l.other == 0 && l.lingering(now) {
		at = l.lastOther.Add(l.linger)
	}
	if at.IsZero() || (!l.wakeAt.IsZero() && !at.Before(l.wakeAt)) {
		return
	}
	l.wakeAt = at
	time.AfterFunc(at.Sub(now), l.wake)
}

func (l *Limiter) wake() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if !now.Before(l.wakeAt) {
		l.wakeAt = time.Time{}
	}
	l.dispatch(now)
}

// expectedWait estimates how long a new waiter would wait: the rounds of
// hashing at the current limit until its turn, each as long as a recent
// hash. Zero until a hash has been timed.
func (l *Limiter) expectedWait(now time.Time) time.Duration {
	rounds := len(l.queue)/max(1, l.limit(now)) + 1
	return time.Duration(rounds) * l.perHash
}

// observe updates the moving average of time per hash.
func (l *Limiter) observe(d time.Duration) {
	if l.perHash == 0 {
		l.perHash = d
		return
	}
	l.perHash += (d - l.perHash) / 8
}
