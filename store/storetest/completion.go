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

// testDeleteUnconfirmedUsers: accounts whose number was never confirmed go
// when their time is up, the earliest first, with what is theirs; a
// confirmed account, or one without a time, stays.
func testDeleteUnconfirmedUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	unconfirmed := func(expires time.Time) *store.User {
		id := randomID()
		u := &store.User{ID: id, Email: "unconfirmed-" + id + "@example.com", PasswordHash: "h", Phone: newPhone(),
			CreatedAt: t0(), UpdatedAt: t0(), UnconfirmedExpiresAt: expires}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	first, second := unconfirmed(t0().Add(time.Hour)), unconfirmed(t0().Add(2*time.Hour))
	never := unconfirmed(time.Time{})
	confirmed := unconfirmed(t0().Add(time.Hour))
	got, err := s.UserByID(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, got, first)
	if err := s.CompleteChallenge(ctx, newChallenge(t, s, confirmed, 5).ID, t0(), nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.UserByID(ctx, confirmed.ID); !got.UnconfirmedExpiresAt.IsZero() {
		t.Errorf("UnconfirmedExpiresAt = %v after the number was confirmed, want zero", got.UnconfirmedExpiresAt)
	}
	pending := newChallenge(t, s, first, 5) // goes with its user

	ids, err := s.DeleteUnconfirmedUsers(ctx, t0().Add(3*time.Hour), 1)
	if err != nil || len(ids) != 1 || ids[0] != first.ID {
		t.Fatalf("DeleteUnconfirmedUsers(limit 1) = %v, %v, want the earliest, %s", ids, err, first.ID)
	}
	if _, err := s.ChallengeByID(ctx, pending.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the challenge of a deleted user: %v, want %v", err, store.ErrNotFound)
	}
	if ids, err := s.DeleteUnconfirmedUsers(ctx, t0().Add(90*time.Minute), 10); err != nil || len(ids) != 0 {
		t.Errorf("DeleteUnconfirmedUsers(before the second's time) = %v, %v, want none", ids, err)
	}
	if ids, err := s.DeleteUnconfirmedUsers(ctx, t0().Add(3*time.Hour), 10); err != nil || len(ids) != 1 || ids[0] != second.ID {
		t.Errorf("DeleteUnconfirmedUsers() = %v, %v, want %s", ids, err, second.ID)
	}
	for _, u := range []*store.User{never, confirmed} {
		if _, err := s.UserByID(ctx, u.ID); err != nil {
			t.Errorf("UserByID(%s) = %v: a user without a time, or confirmed, was deleted", u.Email, err)
		}
	}
	// The email is free again.
	again := *first
	again.ID = randomID()
	if err := s.CreateUser(ctx, &again); err != nil {
		t.Errorf("CreateUser(the deleted user's email) = %v", err)
	}
}
