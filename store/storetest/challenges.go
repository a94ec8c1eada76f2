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

// testCompleteChallengeClaimsPhone: completing makes the user the number's
// owner; another user who has not verified the number cannot complete on
// it, and nothing changes for them; a user verified before ownership
// existed still completes.
func testCompleteChallengeClaimsPhone(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := t0().Add(time.Minute)
	owner := newUser(t, s)
	if _, err := s.PhoneOwner(ctx, owner.Phone); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PhoneOwner(unverified) = %v, want %v", err, store.ErrNotFound)
	}
	c := newChallenge(t, s, owner, 3)
	if err := s.CompleteChallenge(ctx, c.ID, now, nil); err != nil {
		t.Fatalf("CompleteChallenge(owner) = %v", err)
	}
	if id, err := s.PhoneOwner(ctx, owner.Phone); err != nil || id != owner.ID {
		t.Fatalf("PhoneOwner() = %q, %v, want %q", id, err, owner.ID)
	}

	squatter := &store.User{ID: randomID(), Email: randomID() + "@example.com", Phone: owner.Phone, CreatedAt: t0(), UpdatedAt: t0()}
	if err := s.CreateUser(ctx, squatter); err != nil {
		t.Fatal(err)
	}
	sc := newChallenge(t, s, squatter, 3)
	if err := s.CompleteChallenge(ctx, sc.ID, now, nil); !errors.Is(err, store.ErrPhoneTaken) {
		t.Fatalf("CompleteChallenge(number owned by another) = %v, want %v", err, store.ErrPhoneTaken)
	}
	got, err := s.ChallengeByTokenHash(ctx, sc.TokenHash)
	if err != nil {
		t.Fatal(err)
	}
	checkChallenge(t, got, sc) // not consumed
	gotU, _ := s.UserByID(ctx, squatter.ID)
	checkUser(t, gotU, squatter) // not verified

	legacy := &store.User{ID: randomID(), Email: randomID() + "@example.com", Phone: owner.Phone, PhoneVerified: true, CreatedAt: t0(), UpdatedAt: t0()}
	if err := s.CreateUser(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	lc := newChallenge(t, s, legacy, 3)
	if err := s.CompleteChallenge(ctx, lc.ID, now, nil); err != nil {
		t.Errorf("CompleteChallenge(verified before ownership) = %v, want nil", err)
	}
	if id, _ := s.PhoneOwner(ctx, owner.Phone); id != owner.ID {
		t.Errorf("PhoneOwner() after the legacy account's login = %q, want still %q", id, owner.ID)
	}
}

// testConcurrentPhoneClaims: users who registered one number each start
// and complete a challenge at once. Each new challenge ends the live
// ones, and a number has one owner, so exactly one of them wins; the
// others find their challenge ended or the number taken.
func testConcurrentPhoneClaims(t *testing.T, s store.Store) {
	const n = 10
	phone := newPhone()
	users := make([]*store.User, n)
	for i := range users {
		users[i] = &store.User{ID: randomID(), Email: randomID() + "@example.com", Phone: phone, CreatedAt: t0(), UpdatedAt: t0()}
		if err := s.CreateUser(t.Context(), users[i]); err != nil {
			t.Fatal(err)
		}
	}
	now := t0().Add(time.Minute)
	errs := parallel(s, n, func(i int) error {
		c := challengeFor(users[i], 3)
		if err := s.CreateChallenge(t.Context(), c); err != nil {
			return err
		}
		return s.CompleteChallenge(t.Context(), c.ID, now, nil)
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("users %d and %d both completed on one number", winner, i)
			}
			winner = i
		case !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrPhoneTaken):
			t.Errorf("start and complete #%d = %v, want nil, %v or %v", i, err, store.ErrNotFound, store.ErrPhoneTaken)
		}
	}
	if winner < 0 {
		t.Fatalf("%d users on one number: none completed, want exactly one", n)
	}
	if id, err := s.PhoneOwner(t.Context(), phone); err != nil || id != users[winner].ID {
		t.Errorf("PhoneOwner() = %q, %v, want the winner %q", id, err, users[winner].ID)
	}
}
