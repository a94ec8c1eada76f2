package storetest

import (
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twostep/twostep/store"
)

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

	if err := s.CompleteChallenge(ctx, c.ID, now, nil); err != nil {
		t.Fatalf("CompleteChallenge(%q) = %v, want nil", c.ID, err)
	}
	gotC, err := s.ChallengeByTokenHash(ctx, c.TokenHash)
	if err != nil {
		t.Fatalf("ChallengeByTokenHash() = %v", err)
	}
	c.Attempts, c.ConsumedAt = 1, now
	checkChallenge(t, gotC, c)
	if _, err := s.CountChallengeAttempt(ctx, c.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CountChallengeAttempt(completed) = %v, want %v", err, store.ErrNotFound)
	}

	gotU, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatalf("UserByID() = %v", err)
	}
	u.PhoneVerified, u.UpdatedAt = true, now
	checkUser(t, gotU, u)

	if err := s.CompleteChallenge(ctx, c.ID, now, nil); !errors.Is(err, store.ErrNotFound) {
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
			if err := s.CompleteChallenge(ctx, tt.id(c), tt.now, nil); !errors.Is(err, store.ErrNotFound) {
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

func testDeleteExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := t0().Add(time.Hour)

	// One user (and number) each: a new challenge ends the others on its
	// number.
	var gone, kept []*store.Challenge
	for _, expires := range []time.Time{now.Add(-time.Minute), now.Add(-time.Millisecond)} {
		c := challengeFor(newUser(t, s), 3)
		c.ExpiresAt = expires
		mustCreateChallenge(t, s, c)
		gone = append(gone, c)
	}
	for _, expires := range []time.Time{now.Add(time.Millisecond), now.Add(time.Minute)} {
		c := challengeFor(newUser(t, s), 3)
		c.ExpiresAt = expires
		mustCreateChallenge(t, s, c)
		kept = append(kept, c)
	}
	// Windows of 1m starting at t0: ended long before now. Windows of 2h: live.
	for _, key := range []string{"old-1", "old-2", "old-3"} {
		mustHit(t, s, key, time.Minute, t0())
	}
	mustHit(t, s, "live", 2*time.Hour, t0())
	// Attempts expiring before now go; one expiring after stays.
	for _, expires := range []time.Time{now.Add(-time.Minute), now.Add(-time.Millisecond), now.Add(time.Minute)} {
		if _, err := s.TakeAttempt(ctx, "acct", t0(), expires, allowAll); err != nil {
			t.Fatalf("TakeAttempt() = %v", err)
		}
	}

	n, err := s.DeleteExpired(ctx, now)
	if err != nil {
		t.Fatalf("DeleteExpired() = %v", err)
	}
	if want := int64(len(gone) + 3 + 2); n != want {
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

func testConcurrentCompleteChallenge(t *testing.T, s store.Store) {
	const n = 20
	c := newChallenge(t, s, newUser(t, s), 3)
	errs := parallel(s, n, func(int) error { return s.CompleteChallenge(t.Context(), c.ID, t0().Add(time.Minute), nil) })
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

// testCreateChallengeEndsOthers: the provider keeps one verification per
// number, so a new challenge ends every other live one on its number,
// whoever's, and leaves those on other numbers alone.
func testCreateChallengeEndsOthers(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newUser(t, s)
	b := newUser(t, s)
	b.Phone = a.Phone // b registered a's number too
	other := newUser(t, s)

	first := newChallenge(t, s, a, 3)
	elsewhere := newChallenge(t, s, other, 3)
	second := challengeFor(b, 3)
	second.Phone = a.Phone
	second.CreatedAt = t0().Add(time.Minute)
	second.ExpiresAt = second.CreatedAt.Add(5 * time.Minute)
	mustCreateChallenge(t, s, second)

	now := t0().Add(2 * time.Minute)
	live, err := s.LiveChallenges(ctx, a.Phone, now)
	if err != nil || len(live) != 1 || live[0].ID != second.ID {
		t.Fatalf("LiveChallenges(%s) = %v, %v, want only the newest", a.Phone, live, err)
	}
	if _, err := s.CountChallengeAttempt(ctx, first.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CountChallengeAttempt(ended) = %v, want %v", err, store.ErrNotFound)
	}
	if err := s.CompleteChallenge(ctx, first.ID, now, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CompleteChallenge(ended) = %v, want %v", err, store.ErrNotFound)
	}
	if _, err := s.CountChallengeAttempt(ctx, elsewhere.ID, now); err != nil {
		t.Errorf("CountChallengeAttempt(other number) = %v, want nil", err)
	}
	if live, err := s.LiveChallenges(ctx, "+19999999999", now); err != nil || len(live) != 0 {
		t.Errorf("LiveChallenges(unused number) = %v, %v, want none", live, err)
	}
}

// testLiveChallengesOrder: LiveChallenges lists the oldest first (auth
// takes the last one as the newest), whatever the order of insertion and
// of the ids.
func testLiveChallengesOrder(t *testing.T, s store.Store) {
	u := newUser(t, s)
	older, newer := challengeFor(u, 3), challengeFor(u, 3)
	older.ID, newer.ID = "z-"+older.ID, "a-"+newer.ID
	newer.CreatedAt = t0().Add(time.Minute)
	// Queued, as CreateChallenge would end the other; the newer first.
	for _, c := range []*store.Challenge{newer, older} {
		if err := s.QueueChallenge(t.Context(), c, randomID()); err != nil {
			t.Fatalf("QueueChallenge(%q) = %v", c.ID, err)
		}
	}
	live, err := s.LiveChallenges(t.Context(), u.Phone, t0().Add(2*time.Minute))
	var ids []string
	for _, c := range live {
		ids = append(ids, c.ID)
	}
	if err != nil || len(ids) != 2 || ids[0] != older.ID || ids[1] != newer.ID {
		t.Fatalf("LiveChallenges() = %v, %v, want [%s %s], the oldest first", ids, err, older.ID, newer.ID)
	}
}
