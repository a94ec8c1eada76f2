// Package storetest is the conformance suite that every store.Store
// implementation runs, so SQLite and PostgreSQL are held to one contract,
// and helpers that hand tests a fresh database of either kind.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twostep/twostep/store"
)

// Run runs the conformance suite against the stores open returns. open must
// return a new, empty store and close it with tb.Cleanup; it is called once
// per subtest, so subtests share no rows and run in parallel.
func Run(t *testing.T, open func(tb testing.TB) store.Store) {
	tests := []struct {
		name string
		test func(*testing.T, store.Store)
	}{
		{"Ping", testPing},
		{"CreateUser", testCreateUser},
		{"CreateUserEmailTaken", testCreateUserEmailTaken},
		{"UserNotFound", testUserNotFound},
		{"UpdatePasswordHash", testUpdatePasswordHash},
		{"CreateChallenge", testCreateChallenge},
		{"CountChallengeAttempt", testCountChallengeAttempt},
		{"CountChallengeAttemptLast", testCountChallengeAttemptLast},
		{"CompleteChallenge", testCompleteChallenge},
		{"CompleteChallengeRefused", testCompleteChallengeRefused},
		{"DeleteChallenge", testDeleteChallenge},
		{"DeleteExpired", testDeleteExpired},
		{"Hit", testHit},
		{"Peek", testPeek},
		{"ResetCounter", testResetCounter},
		{"DeadlineExceeded", testDeadlineExceeded},
		{"ConcurrentCreateUser", testConcurrentCreateUser},
		{"ConcurrentCompleteChallenge", testConcurrentCompleteChallenge},
		{"ConcurrentCountChallengeAttempt", testConcurrentCountChallengeAttempt},
		{"ConcurrentHit", testConcurrentHit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, open(t))
		})
	}
}

// t0 is the suite's clock: away from UTC and finer than a millisecond, so
// round trips show that times come back truncated to milliseconds in UTC.
func t0() time.Time {
	return time.Date(2031, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("UTC+2", 2*60*60))
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping() = %v, want nil", err)
	}
}

func testCreateUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	want := newUser(t, s)

	got, err := s.UserByID(ctx, want.ID)
	if err != nil {
		t.Fatalf("UserByID(%q) = %v", want.ID, err)
	}
	checkUser(t, got, want)

	got, err = s.UserByEmail(ctx, want.Email)
	if err != nil {
		t.Fatalf("UserByEmail(%q) = %v", want.Email, err)
	}
	checkUser(t, got, want)
}

func testCreateUserEmailTaken(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := newUser(t, s)

	dup := &store.User{ID: randomID(), Email: first.Email, PasswordHash: "other", Phone: "+15550000002",
		CreatedAt: t0(), UpdatedAt: t0()}
	if err := s.CreateUser(ctx, dup); !errors.Is(err, store.ErrEmailTaken) {
		t.Fatalf("CreateUser(%q) again = %v, want %v", dup.Email, err, store.ErrEmailTaken)
	}
	if _, err := s.UserByID(ctx, dup.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByID(rejected user) = %v, want %v", err, store.ErrNotFound)
	}
	// A clash on the id is a caller's bug, not a taken email.
	sameID := &store.User{ID: first.ID, Email: "other-" + first.Email, CreatedAt: t0(), UpdatedAt: t0()}
	if err := s.CreateUser(ctx, sameID); err == nil || errors.Is(err, store.ErrEmailTaken) {
		t.Errorf("CreateUser(existing id) = %v, want an error other than %v", err, store.ErrEmailTaken)
	}
	got, err := s.UserByEmail(ctx, first.Email)
	if err != nil {
		t.Fatalf("UserByEmail(%q) = %v", first.Email, err)
	}
	checkUser(t, got, first)
}

func testUserNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	newUser(t, s) // a row that must not match
	tests := []struct {
		name   string
		lookup func() (*store.User, error)
	}{
		{"UserByID", func() (*store.User, error) { return s.UserByID(ctx, "no-such-id") }},
		{"UserByEmail", func() (*store.User, error) { return s.UserByEmail(ctx, "nobody@example.com") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if u, err := tt.lookup(); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s(missing) = %v, %v, want %v", tt.name, u, err, store.ErrNotFound)
			}
		})
	}
}

func testUpdatePasswordHash(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s)
	later := t0().Add(time.Hour)

	if err := s.UpdatePasswordHash(ctx, u.ID, "new-hash", later); err != nil {
		t.Fatalf("UpdatePasswordHash(%q) = %v", u.ID, err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatalf("UserByID(%q) = %v", u.ID, err)
	}
	u.PasswordHash, u.UpdatedAt = "new-hash", later
	checkUser(t, got, u)

	if err := s.UpdatePasswordHash(ctx, "no-such-id", "x", later); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdatePasswordHash(missing) = %v, want %v", err, store.ErrNotFound)
	}
}

func testCreateChallenge(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s)
	want := newChallenge(t, s, u, 5)

	got, err := s.ChallengeByTokenHash(ctx, want.TokenHash)
	if err != nil {
		t.Fatalf("ChallengeByTokenHash(%x) = %v", want.TokenHash, err)
	}
	checkChallenge(t, got, want)

	missing := sha256.Sum256([]byte("no such token"))
	if c, err := s.ChallengeByTokenHash(ctx, missing[:]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ChallengeByTokenHash(missing) = %v, %v, want %v", c, err, store.ErrNotFound)
	}
}

func testCountChallengeAttempt(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s)
	tests := []struct {
		name    string
		prepare func(c *store.Challenge) // before it is stored
		now     time.Time
		wantErr error
	}{
		{name: "usable", now: t0().Add(time.Minute)},
		{name: "just before expiry", now: t0().Add(5*time.Minute - time.Millisecond)},
		{name: "at expiry", now: t0().Add(5 * time.Minute), wantErr: store.ErrNotFound},
		{name: "expired", now: t0().Add(time.Hour), wantErr: store.ErrNotFound},
		{name: "consumed", now: t0().Add(time.Minute), wantErr: store.ErrNotFound,
			prepare: func(c *store.Challenge) { c.ConsumedAt = t0().Add(time.Second) }},
		{name: "out of attempts", now: t0().Add(time.Minute), wantErr: store.ErrNotFound,
			prepare: func(c *store.Challenge) { c.Attempts = c.MaxAttempts }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := challengeFor(u, 3)
			if tt.prepare != nil {
				tt.prepare(c)
			}
			if err := s.CreateChallenge(ctx, c); err != nil {
				t.Fatalf("CreateChallenge() = %v", err)
			}

			got, err := s.CountChallengeAttempt(ctx, c.ID, tt.now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("CountChallengeAttempt(%s) = %v, want %v", tt.name, err, tt.wantErr)
			}
			want := *c
			if tt.wantErr == nil {
				want.Attempts++
				checkChallenge(t, got, &want)
			}
			// Refused or not, the stored state is what was returned.
			stored, err := s.ChallengeByTokenHash(ctx, c.TokenHash)
			if err != nil {
				t.Fatalf("ChallengeByTokenHash() = %v", err)
			}
			checkChallenge(t, stored, &want)
		})
	}
	t.Run("unknown", func(t *testing.T) {
		if _, err := s.CountChallengeAttempt(ctx, "no-such-id", t0()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("CountChallengeAttempt(missing) = %v, want %v", err, store.ErrNotFound)
		}
	})
}

func testCountChallengeAttemptLast(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newChallenge(t, s, newUser(t, s), 3)
	now := t0().Add(time.Minute)
	for want := 1; want <= 3; want++ {
		got, err := s.CountChallengeAttempt(ctx, c.ID, now)
		if err != nil || got.Attempts != want {
			t.Fatalf("CountChallengeAttempt() #%d = %v, %v, want Attempts %d", want, got, err, want)
		}
	}
	if _, err := s.CountChallengeAttempt(ctx, c.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CountChallengeAttempt() past MaxAttempts = %v, want %v", err, store.ErrNotFound)
	}
}

func testCompleteChallenge(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s)
	c := newChallenge(t, s, u, 1)
	now := t0().Add(time.Minute)
	// The code was right on the last allowed attempt: completing must work.
	if _, err := s.CountChallengeAttempt(ctx, c.ID, now); err != nil {
		t.Fatalf("CountChallengeAttempt() = %v", err)
	}

	if err := s.CompleteChallenge(ctx, c.ID, now); err != nil {
		t.Fatalf("CompleteChallenge(%q) = %v, want nil", c.ID, err)
	}
	gotC, err := s.ChallengeByTokenHash(ctx, c.TokenHash)
	if err != nil {
		t.Fatalf("ChallengeByTokenHash() = %v", err)
	}
	c.Attempts, c.ConsumedAt = 1, now
	checkChallenge(t, gotC, c)
	if gotC.Usable(now) {
		t.Errorf("completed challenge Usable() = true, want false")
	}

	gotU, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatalf("UserByID() = %v", err)
	}
	u.PhoneVerified, u.UpdatedAt = true, now
	checkUser(t, gotU, u)

	if err := s.CompleteChallenge(ctx, c.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CompleteChallenge() twice = %v, want %v", err, store.ErrNotFound)
	}
}

func testCompleteChallengeRefused(t *testing.T, s store.Store) {
	ctx := t.Context()
	tests := []struct {
		name string
		id   func(c *store.Challenge) string
		now  time.Time
	}{
		{"unknown", func(*store.Challenge) string { return "no-such-id" }, t0().Add(time.Minute)},
		{"at expiry", func(c *store.Challenge) string { return c.ID }, t0().Add(5 * time.Minute)},
		{"expired", func(c *store.Challenge) string { return c.ID }, t0().Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUser(t, s)
			c := newChallenge(t, s, u, 3)
			if err := s.CompleteChallenge(ctx, tt.id(c), tt.now); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("CompleteChallenge(%s) = %v, want %v", tt.name, err, store.ErrNotFound)
			}
			// Nothing changed, in either table.
			gotC, err := s.ChallengeByTokenHash(ctx, c.TokenHash)
			if err != nil {
				t.Fatalf("ChallengeByTokenHash() = %v", err)
			}
			checkChallenge(t, gotC, c)
			gotU, err := s.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatalf("UserByID() = %v", err)
			}
			checkUser(t, gotU, u)
		})
	}
}

func testDeleteChallenge(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s)
	c := newChallenge(t, s, u, 3)
	other := newChallenge(t, s, u, 3)

	if err := s.DeleteChallenge(ctx, c.ID); err != nil {
		t.Fatalf("DeleteChallenge(%q) = %v", c.ID, err)
	}
	if _, err := s.ChallengeByTokenHash(ctx, c.TokenHash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ChallengeByTokenHash(deleted) = %v, want %v", err, store.ErrNotFound)
	}
	if _, err := s.ChallengeByTokenHash(ctx, other.TokenHash); err != nil {
		t.Errorf("ChallengeByTokenHash(other) = %v, want nil", err)
	}
	if err := s.DeleteChallenge(ctx, c.ID); err != nil {
		t.Errorf("DeleteChallenge(missing) = %v, want nil", err)
	}
}

func testDeleteExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s)
	now := t0().Add(time.Hour)

	var gone, kept []*store.Challenge
	for _, expires := range []time.Time{now.Add(-time.Minute), now.Add(-time.Millisecond)} {
		c := challengeFor(u, 3)
		c.ExpiresAt = expires
		mustCreateChallenge(t, s, c)
		gone = append(gone, c)
	}
	for _, expires := range []time.Time{now.Add(time.Millisecond), now.Add(time.Minute)} {
		c := challengeFor(u, 3)
		c.ExpiresAt = expires
		mustCreateChallenge(t, s, c)
		kept = append(kept, c)
	}
	// Windows of 1m starting at t0: ended long before now. Windows of 2h: live.
	for _, key := range []string{"old-1", "old-2", "old-3"} {
		mustHit(t, s, key, time.Minute, t0())
	}
	mustHit(t, s, "live", 2*time.Hour, t0())

	n, err := s.DeleteExpired(ctx, now)
	if err != nil {
		t.Fatalf("DeleteExpired() = %v", err)
	}
	if want := int64(len(gone) + 3); n != want {
		t.Errorf("DeleteExpired() = %d, want %d", n, want)
	}
	for _, c := range gone {
		if _, err := s.ChallengeByTokenHash(ctx, c.TokenHash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ChallengeByTokenHash(expired at %v) = %v, want %v", c.ExpiresAt, err, store.ErrNotFound)
		}
	}
	for _, c := range kept {
		if _, err := s.ChallengeByTokenHash(ctx, c.TokenHash); err != nil {
			t.Errorf("ChallengeByTokenHash(expiring at %v) = %v, want nil", c.ExpiresAt, err)
		}
	}
	// The deleted counter starts over: its old row is gone, not just ignored.
	if c := mustHit(t, s, "old-1", 24*time.Hour, t0()); c.Count != 1 {
		t.Errorf("Hit(deleted counter) = %+v, want Count 1", c)
	}
	if c := mustHit(t, s, "live", 2*time.Hour, now); c.Count != 2 {
		t.Errorf("Hit(live counter) = %+v, want Count 2", c)
	}
	if n, err := s.DeleteExpired(ctx, now); err != nil || n != 0 {
		t.Errorf("DeleteExpired() again = %d, %v, want 0, nil", n, err)
	}
}

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

func testPeek(t *testing.T, s store.Store) {
	ctx := t.Context()
	peek := func(key string, now time.Time) store.Counter {
		t.Helper()
		c, err := s.Peek(ctx, key, now)
		if err != nil {
			t.Fatalf("Peek(%q) = %v", key, err)
		}
		return c
	}
	if got := peek("k", t0()); got != (store.Counter{}) {
		t.Errorf("Peek(missing) = %+v, want zero", got)
	}
	mustHit(t, s, "k", time.Minute, t0())
	mustHit(t, s, "k", time.Minute, t0())
	for range 2 { // peeking does not count
		got := peek("k", t0().Add(time.Second))
		if got.Count != 2 || !got.ResetAt.Equal(t0().Add(time.Minute).Truncate(time.Millisecond)) {
			t.Errorf("Peek(k) = %+v, want Count 2 ResetAt %v", got, t0().Add(time.Minute))
		}
	}
	if got := peek("k", t0().Add(time.Minute)); got != (store.Counter{}) {
		t.Errorf("Peek(k) once the window ended = %+v, want zero", got)
	}
}

func testResetCounter(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustHit(t, s, "k", time.Minute, t0())
	mustHit(t, s, "k", time.Minute, t0())
	mustHit(t, s, "other", time.Minute, t0())

	if err := s.ResetCounter(ctx, "k"); err != nil {
		t.Fatalf("ResetCounter(k) = %v", err)
	}
	if got, err := s.Peek(ctx, "k", t0()); err != nil || got != (store.Counter{}) {
		t.Errorf("Peek(k) after reset = %+v, %v, want zero", got, err)
	}
	if got := mustHit(t, s, "k", time.Minute, t0().Add(time.Second)); got.Count != 1 {
		t.Errorf("Hit(k) after reset = %+v, want Count 1", got)
	}
	if got, err := s.Peek(ctx, "other", t0()); err != nil || got.Count != 1 {
		t.Errorf("Peek(other) = %+v, %v, want Count 1", got, err)
	}
	if err := s.ResetCounter(ctx, "missing"); err != nil {
		t.Errorf("ResetCounter(missing) = %v, want nil", err)
	}
}

// testDeadlineExceeded checks that a database that did not answer in time
// reads as ErrUnavailable, whichever method asked.
func testDeadlineExceeded(t *testing.T, s store.Store) {
	u := newUser(t, s)
	c := newChallenge(t, s, u, 3)
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()

	calls := []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"CreateUser", func() error {
			return s.CreateUser(ctx, &store.User{ID: randomID(), Email: randomID() + "@example.com", CreatedAt: t0(), UpdatedAt: t0()})
		}},
		{"UserByID", func() error { _, err := s.UserByID(ctx, u.ID); return err }},
		{"UserByEmail", func() error { _, err := s.UserByEmail(ctx, u.Email); return err }},
		{"UpdatePasswordHash", func() error { return s.UpdatePasswordHash(ctx, u.ID, "h", t0()) }},
		{"CreateChallenge", func() error { return s.CreateChallenge(ctx, challengeFor(u, 3)) }},
		{"ChallengeByTokenHash", func() error { _, err := s.ChallengeByTokenHash(ctx, c.TokenHash); return err }},
		{"CountChallengeAttempt", func() error { _, err := s.CountChallengeAttempt(ctx, c.ID, t0()); return err }},
		{"CompleteChallenge", func() error { return s.CompleteChallenge(ctx, c.ID, t0()) }},
		{"DeleteChallenge", func() error { return s.DeleteChallenge(ctx, c.ID) }},
		{"DeleteExpired", func() error { _, err := s.DeleteExpired(ctx, t0()); return err }},
		{"Hit", func() error { _, err := s.Hit(ctx, "k", time.Minute, t0()); return err }},
		{"Peek", func() error { _, err := s.Peek(ctx, "k", t0()); return err }},
		{"ResetCounter", func() error { return s.ResetCounter(ctx, "k") }},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s(expired context) = %v, want %v wrapping %v", tt.name, err, store.ErrUnavailable, context.DeadlineExceeded)
			}
		})
	}
}

func testConcurrentCreateUser(t *testing.T, s store.Store) {
	const n = 20
	errs := parallel(s, n, func(i int) error {
		return s.CreateUser(t.Context(), &store.User{ID: randomID(), Email: "race@example.com",
			PasswordHash: "h", Phone: "+15550000001", CreatedAt: t0(), UpdatedAt: t0()})
	})
	var ok int
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrEmailTaken):
			t.Errorf("CreateUser() #%d = %v, want nil or %v", i, err, store.ErrEmailTaken)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent CreateUser() of one email: %d succeeded, want 1", n, ok)
	}
}

func testConcurrentCompleteChallenge(t *testing.T, s store.Store) {
	const n = 20
	c := newChallenge(t, s, newUser(t, s), 3)
	errs := parallel(s, n, func(int) error { return s.CompleteChallenge(t.Context(), c.ID, t0().Add(time.Minute)) })
	var ok int
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("CompleteChallenge() #%d = %v, want nil or %v", i, err, store.ErrNotFound)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent CompleteChallenge(): %d succeeded, want 1", n, ok)
	}
}

func testConcurrentCountChallengeAttempt(t *testing.T, s store.Store) {
	const n, maxAttempts = 30, 5
	c := newChallenge(t, s, newUser(t, s), maxAttempts)
	attempts := make([]int, n)
	errs := parallel(s, n, func(i int) error {
		got, err := s.CountChallengeAttempt(t.Context(), c.ID, t0().Add(time.Minute))
		if err == nil {
			attempts[i] = got.Attempts
		}
		return err
	})
	var seen []int
	for i, err := range errs {
		switch {
		case err == nil:
			seen = append(seen, attempts[i])
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("CountChallengeAttempt() #%d = %v, want nil or %v", i, err, store.ErrNotFound)
		}
	}
	slices.Sort(seen)
	if want := []int{1, 2, 3, 4, 5}; !slices.Equal(seen, want) {
		t.Errorf("%d concurrent CountChallengeAttempt() returned Attempts %v, want %v", n, seen, want)
	}
	got, err := s.ChallengeByTokenHash(t.Context(), c.TokenHash)
	if err != nil || got.Attempts != maxAttempts {
		t.Errorf("ChallengeByTokenHash() = %+v, %v, want Attempts %d", got, err, maxAttempts)
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
func parallel(s store.Store, n int, f func(i int) error) []error {
	// Open the connections first: dialling each one takes longer than
	// the calls, which would otherwise barely overlap.
	for range 2 {
		warm := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { warm[i] = s.Ping(context.Background()) })
		}
		wg.Wait()
	}
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start // line them all up first, for the most overlap
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func randomID() string { return rand.Text() }

// newUser stores and returns a user with a unique id and email.
func newUser(tb testing.TB, s store.Store) *store.User {
	tb.Helper()
	id := randomID()
	u := &store.User{
		ID:           id,
		Email:        "user-" + id + "@example.com",
		PasswordHash: "$2a$10$abcdefghijklmnopqrstuv",
		Phone:        "+15550000001",
		CreatedAt:    t0(),
		UpdatedAt:    t0().Add(time.Second),
	}
	if err := s.CreateUser(tb.Context(), u); err != nil {
		tb.Fatalf("CreateUser(%q) = %v", u.Email, err)
	}
	return u
}

// challengeFor returns an unsaved challenge for u, created at t0 and
// expiring 5 minutes later.
func challengeFor(u *store.User, maxAttempts int) *store.Challenge {
	id := randomID()
	hash := sha256.Sum256([]byte("token-" + id))
	return &store.Challenge{
		ID:              id,
		TokenHash:       hash[:],
		UserID:          u.ID,
		Phone:           u.Phone,
		VerificationSID: "VE" + id,
		MaxAttempts:     maxAttempts,
		CreatedAt:       t0(),
		ExpiresAt:       t0().Add(5 * time.Minute),
	}
}

func newChallenge(tb testing.TB, s store.Store, u *store.User, maxAttempts int) *store.Challenge {
	tb.Helper()
	c := challengeFor(u, maxAttempts)
	mustCreateChallenge(tb, s, c)
	return c
}

func mustCreateChallenge(tb testing.TB, s store.Store, c *store.Challenge) {
	tb.Helper()
	if err := s.CreateChallenge(tb.Context(), c); err != nil {
		tb.Fatalf("CreateChallenge(%q) = %v", c.ID, err)
	}
}

func mustHit(tb testing.TB, s store.Store, key string, window time.Duration, now time.Time) store.Counter {
	tb.Helper()
	c, err := s.Hit(tb.Context(), key, window, now)
	if err != nil {
		tb.Fatalf("Hit(%q) = %v", key, err)
	}
	return c
}

// checkUser compares got with want as a store keeps it: times at
// millisecond precision, in UTC.
func checkUser(tb testing.TB, got, want *store.User) {
	tb.Helper()
	g, w := *got, *want
	checkTime(tb, "User.CreatedAt", g.CreatedAt, w.CreatedAt)
	checkTime(tb, "User.UpdatedAt", g.UpdatedAt, w.UpdatedAt)
	g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if g != w {
		tb.Errorf("got user %+v, want %+v", g, w)
	}
}

func checkChallenge(tb testing.TB, got, want *store.Challenge) {
	tb.Helper()
	g, w := *got, *want
	checkTime(tb, "Challenge.CreatedAt", g.CreatedAt, w.CreatedAt)
	checkTime(tb, "Challenge.ExpiresAt", g.ExpiresAt, w.ExpiresAt)
	checkTime(tb, "Challenge.ConsumedAt", g.ConsumedAt, w.ConsumedAt)
	g.CreatedAt, g.ExpiresAt, g.ConsumedAt = time.Time{}, time.Time{}, time.Time{}
	w.CreatedAt, w.ExpiresAt, w.ConsumedAt = time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		tb.Errorf("got challenge %+v, want %+v", g, w)
	}
}

// checkTime wants got to be want truncated to the millisecond, in UTC, or
// zero if want is.
func checkTime(tb testing.TB, name string, got, want time.Time) {
	tb.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			tb.Errorf("%s = %v, want zero", name, got)
		}
		return
	}
	if w := want.Truncate(time.Millisecond); !got.Equal(w) || got.Location() != time.UTC {
		tb.Errorf("%s = %v, want %v", name, got, w.UTC())
	}
}
