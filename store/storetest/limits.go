package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twostep/twostep/store"
)

func testHit(t *testing.T, s store.Store) {
	const window = time.Minute
	steps := []struct {
		name  string
		now   time.Time
		count int
		reset time.Time
	}{
		{"first hit opens a window", t0(), 1, t0().Add(window)},
		{"inside the window", t0().Add(10 * time.Second), 2, t0().Add(window)},
		{"last millisecond of the window", t0().Add(window - time.Millisecond), 3, t0().Add(window)},
		{"window ended at now", t0().Add(window), 1, t0().Add(2 * window)},
		{"next window", t0().Add(window + time.Second), 2, t0().Add(2 * window)},
		{"after a gap", t0().Add(time.Hour), 1, t0().Add(time.Hour + window)},
	}
	for _, st := range steps {
		got := mustHit(t, s, "k", window, st.now)
		if got.Count != st.count || !got.ResetAt.Equal(st.reset.Truncate(time.Millisecond)) {
			t.Fatalf("%s: Hit(k, %v) = %d %v, want %d %v", st.name, st.now, got.Count, got.ResetAt, st.count, st.reset)
		}
		checkTime(t, "ResetAt", got.ResetAt, st.reset)
	}
	if got := mustHit(t, s, "other", window, t0()); got.Count != 1 {
		t.Errorf("Hit(other key) = %+v, want Count 1", got)
	}
}

func testConcurrentHit(t *testing.T, s store.Store) {
	const n = 50
	counts := make([]int, n)
	errs := parallel(s, n, func(i int) error {
		c, err := s.Hit(t.Context(), "k", time.Minute, t0())
		counts[i] = c.Count
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Hit() #%d = %v", i, err)
		}
	}
	slices.Sort(counts)
	for i, c := range counts {
		if c != i+1 {
			t.Fatalf("%d concurrent Hit() counts = %v, want 1..%d each once", n, counts, n)
		}
	}
}

// parallel runs f(0)…f(n-1) at once and returns their errors in order.

// errFull is what the allow functions below refuse with.
var errFull = errors.New("storetest: full")

// takeAttempt takes an attempt for key at now, expiring an hour later,
// with allow, and returns the times allow saw.
func takeAttempt(tb testing.TB, s store.Store, key string, now time.Time, allow func([]time.Time) error) (string, []time.Time, error) {
	tb.Helper()
	var seen []time.Time
	id, err := s.TakeAttempt(tb.Context(), key, now, now.Add(time.Hour), func(taken []time.Time) error {
		seen = taken
		return allow(taken)
	})
	return id, seen, err
}

func allowAll([]time.Time) error { return nil }

func testTakeAttempt(t *testing.T, s store.Store) {
	var want []time.Time
	ids := map[string]bool{}
	for i := range 3 {
		now := t0().Add(time.Duration(i) * time.Minute)
		id, seen, err := takeAttempt(t, s, "k", now, allowAll)
		if err != nil || id == "" || ids[id] {
			t.Fatalf("TakeAttempt() #%d = %q, %v, want a new id", i, id, err)
		}
		ids[id] = true
		if len(seen) != len(want) {
			t.Fatalf("TakeAttempt() #%d: allow saw %v, want %v", i, seen, want)
		}
		for j := range want {
			checkTime(t, "attempt", seen[j], want[j])
		}
		want = append(want, now)
	}
	// Another key has a log of its own.
	if _, seen, err := takeAttempt(t, s, "other", t0(), allowAll); err != nil || len(seen) != 0 {
		t.Errorf("TakeAttempt(other) saw %v, %v, want none", seen, err)
	}
	// Attempts expire an hour after they were taken: at t0+1h the first
	// one is gone.
	if _, seen, err := takeAttempt(t, s, "k", t0().Add(time.Hour), allowAll); err != nil || len(seen) != 2 {
		t.Errorf("TakeAttempt(k) an hour later saw %v, %v, want the 2 unexpired", seen, err)
	}
}

func testTakeAttemptRefused(t *testing.T, s store.Store) {
	if _, _, err := takeAttempt(t, s, "k", t0(), allowAll); err != nil {
		t.Fatalf("TakeAttempt() = %v", err)
	}
	id, _, err := takeAttempt(t, s, "k", t0(), func([]time.Time) error { return errFull })
	if !errors.Is(err, errFull) || id != "" {
		t.Fatalf("TakeAttempt(refused) = %q, %v, want %v", id, err, errFull)
	}
	// The refusal logged nothing.
	if _, seen, err := takeAttempt(t, s, "k", t0(), allowAll); err != nil || len(seen) != 1 {
		t.Errorf("TakeAttempt() after a refusal saw %v, %v, want 1 attempt", seen, err)
	}
}

func testReleaseAndClearAttempts(t *testing.T, s store.Store) {
	ctx := t.Context()
	first, _, _ := takeAttempt(t, s, "k", t0(), allowAll)
	takeAttempt(t, s, "k", t0().Add(time.Second), allowAll)
	takeAttempt(t, s, "other", t0(), allowAll)
	count := func(key string) int {
		t.Helper()
		_, seen, err := takeAttempt(t, s, key, t0().Add(time.Minute), func([]time.Time) error { return errFull })
		if !errors.Is(err, errFull) {
			t.Fatalf("TakeAttempt(%q) = %v", key, err)
		}
		return len(seen)
	}

	if err := s.ReleaseAttempt(ctx, "k", first); err != nil {
		t.Fatalf("ReleaseAttempt() = %v", err)
	}
	if n := count("k"); n != 1 {
		t.Errorf("attempts of k after ReleaseAttempt() = %d, want 1", n)
	}
	if err := s.ReleaseAttempt(ctx, "k", first); err != nil {
		t.Errorf("ReleaseAttempt(missing) = %v, want nil", err)
	}
	if err := s.ReleaseAttempt(ctx, "other", "no-such-id"); err != nil {
		t.Errorf("ReleaseAttempt(unknown id) = %v, want nil", err)
	}
	if err := s.ClearAttempts(ctx, "k"); err != nil {
		t.Fatalf("ClearAttempts() = %v", err)
	}
	if n := count("k"); n != 0 {
		t.Errorf("attempts of k after ClearAttempts() = %d, want 0", n)
	}
	if n := count("other"); n != 1 {
		t.Errorf("attempts of other after ClearAttempts(k) = %d, want 1", n)
	}
}

// testConcurrentTakeAttempt checks that calls for one key are serialised:
// each allow sees every attempt taken before it, so a budget of 5 lets
// exactly 5 through however many arrive at once.
func testConcurrentTakeAttempt(t *testing.T, s store.Store) {
	const n, budget = 30, 5
	errs := parallel(s, n, func(int) error {
		_, err := s.TakeAttempt(t.Context(), "k", t0(), t0().Add(time.Hour), func(taken []time.Time) error {
			if len(taken) >= budget {
				return errFull
			}
			return nil
		})
		return err
	})
	var ok int
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, errFull):
			t.Errorf("TakeAttempt() #%d = %v, want nil or %v", i, err, errFull)
		}
	}
	if ok != budget {
		t.Errorf("%d concurrent TakeAttempt() with a budget of %d: %d taken, want %d", n, budget, ok, budget)
	}
}

func testCharge(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := store.Budget{Key: "a", Max: 2, Window: time.Minute}
	b := store.Budget{Key: "b", Max: 1, Window: time.Hour}
	charge := func(now time.Time, budgets ...store.Budget) (int, time.Time) {
		t.Helper()
		i, reset, err := s.Charge(ctx, budgets, now)
		if err != nil {
			t.Fatalf("Charge() = %v", err)
		}
		return i, reset
	}
	// It fills b (1 of 1), not a (1 of 2): the next charge can be when b's
	// window ends.
	if i, next := charge(t0(), a, b); i != -1 || !next.Equal(t0().Add(time.Hour).Truncate(time.Millisecond)) {
		t.Fatalf("Charge(a, b) = %d, %v, want -1 (charged), %v", i, next, t0().Add(time.Hour))
	}
	// b is full: nothing is charged, a included.
	if i, reset := charge(t0().Add(time.Second), a, b); i != 1 || !reset.Equal(t0().Add(time.Hour).Truncate(time.Millisecond)) {
		t.Fatalf("Charge(a, b) with b full = %d, %v, want 1, %v", i, reset, t0().Add(time.Hour))
	}
	if i, next := charge(t0().Add(time.Second), a); i != -1 || !next.Equal(t0().Add(time.Minute).Truncate(time.Millisecond)) {
		t.Fatalf("Charge(a) = %d, %v, want -1 (the refused charge must not have counted), and a full until %v", i, next, t0().Add(time.Minute))
	}
	if i, reset := charge(t0().Add(2*time.Second), a); i != 0 || !reset.Equal(t0().Add(time.Minute).Truncate(time.Millisecond)) {
		t.Fatalf("Charge(a) with a full = %d, %v, want 0, %v", i, reset, t0().Add(time.Minute))
	}
	// a's window ends: it starts over, and Hit sees the same counter.
	if i, next := charge(t0().Add(time.Minute), a); i != -1 || !next.IsZero() {
		t.Fatalf("Charge(a) in a new window = %d, %v, want -1, and zero: a has room left", i, next)
	}
	if c := mustHit(t, s, "a", time.Minute, t0().Add(time.Minute)); c.Count != 2 {
		t.Errorf("Hit(a) after one charge in the window = %+v, want Count 2", c)
	}
}

func testConcurrentCharge(t *testing.T, s store.Store) {
	const n, budget = 30, 5
	shared := store.Budget{Key: "shared", Max: budget, Window: time.Hour}
	errs := parallel(s, n, func(i int) error {
		own := store.Budget{Key: fmt.Sprintf("own-%d", i), Max: 10, Window: time.Hour}
		refused, _, err := s.Charge(t.Context(), []store.Budget{own, shared}, t0())
		if err == nil && refused >= 0 {
			return errFull
		}
		return err
	})
	var ok int
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, errFull):
			t.Errorf("Charge() #%d = %v", i, err)
		}
	}
	if ok != budget {
		t.Errorf("%d concurrent charges of a budget of %d: %d charged, want %d", n, budget, ok, budget)
	}
	if c := mustHit(t, s, "shared", time.Hour, t0()); c.Count != budget+1 {
		t.Errorf("Hit(shared) = %+v, want Count %d: refused charges must not count", c, budget+1)
	}
}
