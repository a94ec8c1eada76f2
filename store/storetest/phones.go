package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/twostep/twostep/store"
)

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
