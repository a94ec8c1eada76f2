package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/twostep/twostep/store"
)

// testCompleteChallengeSession: the session given to CompleteChallenge is
// created with the completion, and not at all when the completion is
// refused.
func testCompleteChallengeSession(t *testing.T, s store.Store) {
	ctx := t.Context()
	owner := newUser(t, s)
	c := newChallenge(t, s, owner, 5)
	sess := sessionFor(owner)
	if err := s.CompleteChallenge(ctx, c.ID, t0(), sess); err != nil {
		t.Fatalf("CompleteChallenge(with a session) = %v", err)
	}
	got, err := s.SessionByID(ctx, sess.ID)
	if err != nil {
		t.Fatalf("SessionByID() after CompleteChallenge = %v", err)
	}
	checkSession(t, got, sess)

	// A squatter on the owner's number: refused, and no session.
	squatter := &store.User{ID: randomID(), Email: "squatter-" + randomID() + "@example.com", PasswordHash: "h",
		Phone: owner.Phone, CreatedAt: t0(), UpdatedAt: t0()}
	if err := s.CreateUser(ctx, squatter); err != nil {
		t.Fatal(err)
	}
	sc := newChallenge(t, s, squatter, 5)
	refused := []struct {
		name string
		id   string
		sess *store.Session
		want error
	}{
		{"another's number", sc.ID, sessionFor(squatter), store.ErrPhoneTaken},
		{"twice", c.ID, sessionFor(owner), store.ErrNotFound},
		{"no such challenge", "missing", sessionFor(owner), store.ErrNotFound},
	}
	for _, r := range refused {
		if err := s.CompleteChallenge(ctx, r.id, t0(), r.sess); !errors.Is(err, r.want) {
			t.Errorf("CompleteChallenge(%s) = %v, want %v", r.name, err, r.want)
		}
		if _, err := s.SessionByID(ctx, r.sess.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("CompleteChallenge(%s) was refused but created its session (%v)", r.name, err)
		}
	}
	// A session of another user than the challenge's: an error, nothing done.
	other := newUser(t, s)
	oc := newChallenge(t, s, other, 5)
	wrong := sessionFor(owner)
	if err := s.CompleteChallenge(ctx, oc.ID, t0(), wrong); err == nil {
		t.Errorf("CompleteChallenge(a session of another user) = nil, want an error")
	}
	if got, _ := s.ChallengeByID(ctx, oc.ID); !got.ConsumedAt.IsZero() {
		t.Errorf("CompleteChallenge(a session of another user) consumed the challenge")
	}
}

// testConcurrentCompletions: a user's sign-in, password reset, change of
// number and deletion, all at once, never fail for any reason but the
// documented ones (on PostgreSQL: no deadlock), and whatever order they
// take, a reset or deletion leaves no live session behind.
func testConcurrentCompletions(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := t0().Add(time.Minute)
	for round := range 12 {
		u := newUser(t, s)
		if err := s.CompleteChallenge(ctx, newChallenge(t, s, u, 5).ID, t0(), nil); err != nil {
			t.Fatal(err)
		}
		login := newChallenge(t, s, u, 5)
		reset := resetFor(u)
		mustCreateChallenge(t, s, reset)
		change := challengeFor(u, 5)
		change.Purpose, change.Phone = store.PurposePhone, newPhone()
		mustCreateChallenge(t, s, change)
		sess := sessionFor(u)
		ops := []func() error{
			func() error { return s.CompleteChallenge(ctx, login.ID, now, sess) },
			func() error { return s.CompleteReset(ctx, reset.ID, "reset-hash", now) },
			func() error { return s.CompletePhoneChange(ctx, change.ID, now) },
		}
		deleting := round%3 == 2
		if deleting {
			ops = append(ops, func() error { return s.DeleteUser(ctx, u.ID) })
		}
		errs := parallel(s, len(ops), func(i int) error { return ops[i]() })
		for i, err := range errs {
			if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrPhoneTaken) {
				t.Fatalf("round %d, operation %d = %v, want nil, %v or %v", round, i, err, store.ErrNotFound, store.ErrPhoneTaken)
			}
		}
		got, err := s.SessionByID(ctx, sess.ID)
		switch {
		case errs[0] != nil || deleting && errs[3] == nil:
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("round %d: the session exists (%v), though the sign-in failed or the user was deleted", round, err)
			}
		case errs[1] == nil && got.Live(now):
			t.Errorf("round %d: the session of a sign-in survived the reset", round)
		}
	}
}
