package storetest

import (
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/twostep/twostep/store"
)

// resetFor returns an unsaved, unsent reset challenge for u (nil: one with
// no user and no number, as for an unknown email).
func resetFor(u *store.User) *store.Challenge {
	c := challengeFor(&store.User{}, 5)
	c.Purpose, c.Phone, c.VerificationSID = store.PurposeReset, "", ""
	if u != nil {
		c.UserID, c.Phone = u.ID, u.Phone
	}
	return c
}

func mustQueue(tb testing.TB, s store.Store, c *store.Challenge) string {
	tb.Helper()
	item := randomID()
	if err := s.QueueChallenge(tb.Context(), c, item); err != nil {
		tb.Fatalf("QueueChallenge() = %v", err)
	}
	return item
}

func claim(tb testing.TB, s store.Store, now time.Time, limit int) []store.OutboxItem {
	tb.Helper()
	items, err := s.ClaimOutbox(tb.Context(), now, time.Minute, limit)
	if err != nil {
		tb.Fatalf("ClaimOutbox() = %v", err)
	}
	return items
}

func testQueueChallenge(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s)
	login := newChallenge(t, s, u, 5)
	real, decoy := resetFor(u), resetFor(nil)
	realItem, decoyItem := mustQueue(t, s, real), mustQueue(t, s, decoy)
	for _, c := range []*store.Challenge{real, decoy} {
		got, err := s.ChallengeByID(ctx, c.ID)
		if err != nil {
			t.Fatalf("ChallengeByID() = %v", err)
		}
		checkChallenge(t, got, c)
	}
	if live, _ := s.LiveChallenges(ctx, u.Phone, t0()); len(live) != 2 || (live[0].ID != login.ID && live[1].ID != login.ID) {
		t.Errorf("after QueueChallenge the login challenge on the number = %v, want it still live beside the reset", live)
	}
	// Defaults of a challenge created without purpose or channel.
	c := challengeFor(u, 5)
	c.Purpose, c.Channel = "", ""
	mustCreateChallenge(t, s, c)
	if got, _ := s.ChallengeByID(ctx, c.ID); got.Purpose != store.PurposeLogin || got.Channel != "sms" {
		t.Errorf("a challenge created without purpose and channel reads %q, %q, want login, sms", got.Purpose, got.Channel)
	}

	items := claim(t, s, t0(), 10)
	sort.Slice(items, func(i, j int) bool { return items[i].ID == realItem })
	if len(items) != 2 || items[0].ID != realItem || items[0].ChallengeID != real.ID || items[0].Tries != 1 ||
		items[1].ID != decoyItem || items[1].ChallengeID != decoy.ID {
		t.Fatalf("ClaimOutbox() = %+v, want the two items, one try each", items)
	}
	checkTime(t, "OutboxItem.CreatedAt", items[0].CreatedAt, t0())
	if again := claim(t, s, t0().Add(59*time.Second), 10); len(again) != 0 {
		t.Errorf("ClaimOutbox() within the lease = %+v, want none", again)
	}
	if err := s.DeleteOutbox(ctx, decoyItem); err != nil {
		t.Fatal(err)
	}
	if again := claim(t, s, t0().Add(time.Minute), 10); len(again) != 1 || again[0].ID != realItem || again[0].Tries != 2 {
		t.Errorf("ClaimOutbox() after the lease = %+v, want the undeleted item, second try", again)
	}
	if err := s.DeleteOutbox(ctx, "missing"); err != nil {
		t.Errorf("DeleteOutbox(missing) = %v, want nil", err)
	}
}

func testSetChallengeSend(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s)
	c := resetFor(u)
	mustQueue(t, s, c)
	if err := s.SetChallengeSend(ctx, c.ID, "VEsent", "call", t0()); err != nil {
		t.Fatalf("SetChallengeSend() = %v", err)
	}
	c.VerificationSID, c.Channel = "VEsent", "call"
	got, _ := s.ChallengeByID(ctx, c.ID)
	checkChallenge(t, got, c)
	if err := s.SetChallengeSend(ctx, c.ID, "VElate", "sms", c.ExpiresAt); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetChallengeSend(at expiry) = %v, want %v", err, store.ErrNotFound)
	}
	if err := s.SetChallengeSend(ctx, "missing", "VE", "sms", t0()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetChallengeSend(missing) = %v, want %v", err, store.ErrNotFound)
	}
}

func testConcurrentClaimOutbox(t *testing.T, s store.Store) {
	const items, claimers = 12, 6
	u := newUser(t, s)
	for range items {
		mustQueue(t, s, resetFor(u))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	errs := parallel(s, claimers, func(int) error {
		got, err := s.ClaimOutbox(t.Context(), t0(), time.Minute, 3)
		mu.Lock()
		defer mu.Unlock()
		for _, it := range got {
			seen[it.ID]++
		}
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("ClaimOutbox() #%d = %v", i, err)
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("item %s claimed %d times within its lease", id, n)
		}
	}
	if len(seen) < items/2 {
		t.Errorf("%d claims of 3 took %d of %d items, want the claims to share the work", claimers, len(seen), items)
	}
}

// testClaimOutboxOldestFirst: a claim takes the items claimable longest
// first, whatever the order of queueing and of the ids.
func testClaimOutboxOldestFirst(t *testing.T, s store.Store) {
	u := newUser(t, s)
	older, newer := resetFor(u), resetFor(u)
	newer.CreatedAt = t0().Add(time.Minute)
	olderItem, newerItem := "z-"+randomID(), "a-"+randomID()
	for _, q := range []struct {
		c    *store.Challenge
		item string
	}{{newer, newerItem}, {older, olderItem}} {
		if err := s.QueueChallenge(t.Context(), q.c, q.item); err != nil {
			t.Fatalf("QueueChallenge(%q) = %v", q.c.ID, err)
		}
	}
	now := t0().Add(2 * time.Minute)
	if got := claim(t, s, now, 1); len(got) != 1 || got[0].ID != olderItem {
		t.Fatalf("ClaimOutbox(limit 1) = %+v, want the older item %s", got, olderItem)
	}
	if got := claim(t, s, now, 1); len(got) != 1 || got[0].ID != newerItem {
		t.Errorf("ClaimOutbox(limit 1) again = %+v, want the newer item %s", got, newerItem)
	}
}

func testSetPassword(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, other := newUser(t, s), newUser(t, s)
	keep, gone, others := newSession(t, s, u), newSession(t, s, u), newSession(t, s, other)
	login := newChallenge(t, s, u, 5)
	now := t0().Add(time.Minute)
	n, err := s.SetPassword(ctx, u.ID, "new-hash", now, keep.ID)
	if err != nil || n != 1 {
		t.Fatalf("SetPassword() = %d, %v, want 1 revoked", n, err)
	}
	got, _ := s.UserByID(ctx, u.ID)
	u.PasswordHash, u.UpdatedAt = "new-hash", now
	checkUser(t, got, u)
	for _, tt := range []struct {
		ss   *store.Session
		live bool
	}{{keep, true}, {gone, false}, {others, true}} {
		if got, _ := s.SessionByID(ctx, tt.ss.ID); got.Live(now) != tt.live {
			t.Errorf("session %s live = %v, want %v", tt.ss.ID, got.Live(now), tt.live)
		}
	}
	if live, _ := s.LiveChallenges(ctx, login.Phone, now); len(live) != 0 {
		t.Errorf("a login begun with the old password is still live: %+v", live)
	}
	if n, err := s.SetPassword(ctx, u.ID, "h", now, ""); err != nil || n != 1 {
		t.Errorf("SetPassword(keep none) = %d, %v, want the last session revoked", n, err)
	}
	if _, err := s.SetPassword(ctx, "missing", "h", now, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetPassword(missing) = %v, want %v", err, store.ErrNotFound)
	}
}

func testCompleteReset(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s)
	ss := newSession(t, s, u)
	reset, decoy, login := resetFor(u), resetFor(nil), challengeFor(u, 5)
	mustCreateChallenge(t, s, login) // a login in flight on the same number
	mustQueue(t, s, reset)
	mustQueue(t, s, decoy)
	now := t0().Add(time.Minute)
	for name, id := range map[string]string{"decoy": decoy.ID, "login": login.ID, "missing": "missing"} {
		if err := s.CompleteReset(ctx, id, "h", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("CompleteReset(%s) = %v, want %v", name, err, store.ErrNotFound)
		}
	}
	if err := s.CompleteChallenge(ctx, reset.ID, now, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CompleteChallenge(a reset challenge) = %v, want %v", err, store.ErrNotFound)
	}
	if err := s.CompleteReset(ctx, reset.ID, "reset-hash", now); err != nil {
		t.Fatalf("CompleteReset() = %v", err)
	}
	if got, _ := s.UserByID(ctx, u.ID); got.PasswordHash != "reset-hash" {
		t.Errorf("PasswordHash = %q after the reset", got.PasswordHash)
	}
	if got, _ := s.SessionByID(ctx, ss.ID); got.Live(now) {
		t.Errorf("a session survived the reset")
	}
	if got, _ := s.ChallengeByID(ctx, login.ID); got.ExpiresAt.After(now) {
		t.Errorf("the login in flight survived the reset")
	}
	if err := s.CompleteReset(ctx, reset.ID, "again", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CompleteReset(twice) = %v, want %v", err, store.ErrNotFound)
	}
}

func testCompletePhoneChange(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, other := newUser(t, s), newUser(t, s)
	for _, x := range []*store.User{u, other} {
		c := newChallenge(t, s, x, 5)
		if err := s.CompleteChallenge(ctx, c.ID, t0(), nil); err != nil {
			t.Fatal(err)
		}
	}
	oldPhone := u.Phone
	change := func(phone string) *store.Challenge {
		c := challengeFor(u, 5)
		c.Purpose, c.Phone = store.PurposePhone, phone
		mustCreateChallenge(t, s, c)
		return c
	}
	login := newChallenge(t, s, u, 5) // a login in flight on the old number
	now := t0().Add(time.Minute)
	taken := change(other.Phone)
	if err := s.CompletePhoneChange(ctx, taken.ID, now); !errors.Is(err, store.ErrPhoneTaken) {
		t.Fatalf("CompletePhoneChange(another's number) = %v, want %v", err, store.ErrPhoneTaken)
	}
	if got, _ := s.UserByID(ctx, u.ID); got.Phone != oldPhone {
		t.Errorf("a refused change moved the number to %s", got.Phone)
	}
	if got, err := s.ChallengeByID(ctx, login.ID); err != nil || !got.ExpiresAt.After(now) {
		t.Errorf("after a refused change the login in flight = %+v, %v, want it still live", got, err)
	}
	fresh := newPhone()
	c := change(fresh)
	if err := s.CompleteChallenge(ctx, c.ID, now, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CompleteChallenge(a phone-change challenge) = %v, want %v", err, store.ErrNotFound)
	}
	if err := s.CompletePhoneChange(ctx, c.ID, now); err != nil {
		t.Fatalf("CompletePhoneChange() = %v", err)
	}
	got, _ := s.UserByID(ctx, u.ID)
	if got.Phone != fresh || !got.PhoneVerified {
		t.Errorf("after the change the user has %s (verified %v), want %s verified", got.Phone, got.PhoneVerified, fresh)
	}
	if owner, err := s.PhoneOwner(ctx, fresh); err != nil || owner != u.ID {
		t.Errorf("PhoneOwner(new) = %q, %v, want the user", owner, err)
	}
	if _, err := s.PhoneOwner(ctx, oldPhone); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PhoneOwner(old) = %v, want the old number free", err)
	}
	if got, err := s.ChallengeByID(ctx, login.ID); err != nil {
		t.Errorf("ChallengeByID(login) = %v", err)
	} else {
		checkTime(t, "ExpiresAt of the login in flight after the change", got.ExpiresAt, now)
	}
	if err := s.CompletePhoneChange(ctx, c.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CompletePhoneChange(twice) = %v, want %v", err, store.ErrNotFound)
	}
}

func testDeleteUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, other := newUser(t, s), newUser(t, s)
	ss, kept := newSession(t, s, u), newSession(t, s, other)
	c := newChallenge(t, s, u, 5)
	if err := s.CompleteChallenge(ctx, c.ID, t0(), nil); err != nil {
		t.Fatal(err)
	}
	reset := resetFor(u)
	mustQueue(t, s, reset)
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser() = %v", err)
	}
	for name, err := range map[string]error{
		"UserByID":      func() error { _, err := s.UserByID(ctx, u.ID); return err }(),
		"UserByEmail":   func() error { _, err := s.UserByEmail(ctx, u.Email); return err }(),
		"PhoneOwner":    func() error { _, err := s.PhoneOwner(ctx, u.Phone); return err }(),
		"SessionByID":   func() error { _, err := s.SessionByID(ctx, ss.ID); return err }(),
		"ChallengeByID": func() error { _, err := s.ChallengeByID(ctx, reset.ID); return err }(),
		"DeleteUser":    s.DeleteUser(ctx, u.ID),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after DeleteUser = %v, want %v", name, err, store.ErrNotFound)
		}
	}
	if items := claim(t, s, t0(), 10); len(items) != 0 {
		t.Errorf("the deleted user's queued send is still there: %+v", items)
	}
	if got, err := s.SessionByID(ctx, kept.ID); err != nil || !got.Live(t0()) {
		t.Errorf("another user's session = %v, %v after DeleteUser", got, err)
	}
	again := *u
	again.ID = randomID()
	if err := s.CreateUser(ctx, &again); err != nil {
		t.Errorf("CreateUser(the deleted user's email) = %v, want it free", err)
	}
}

func testDeleteExpiredOutbox(t *testing.T, s store.Store) {
	u := newUser(t, s)
	c := resetFor(u)
	mustQueue(t, s, c)
	if _, err := s.DeleteExpired(t.Context(), c.ExpiresAt.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if items := claim(t, s, c.ExpiresAt.Add(time.Second), 10); len(items) != 0 {
		t.Errorf("the queued send of an expired, deleted challenge is still there: %+v", items)
	}
}

// testChangedNumberEndsCodes: once an account moves to a new number, codes
// sent to the old one complete nothing: a login begun before, a reset.
func testChangedNumberEndsCodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s)
	login := newChallenge(t, s, u, 5)
	reset := resetFor(u)
	mustQueue(t, s, reset)
	change := challengeFor(u, 5)
	change.Purpose, change.Phone = store.PurposePhone, newPhone()
	// Created after the others, so it ends none of them (another number).
	mustCreateChallenge(t, s, change)
	now := t0().Add(time.Minute)
	if err := s.CompletePhoneChange(ctx, change.ID, now); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteChallenge(ctx, login.ID, now, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CompleteChallenge(a login to the old number) = %v, want %v", err, store.ErrNotFound)
	}
	if err := s.CompleteReset(ctx, reset.ID, "h", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CompleteReset(a code to the old number) = %v, want %v", err, store.ErrNotFound)
	}
	if owner, err := s.PhoneOwner(ctx, u.Phone); err == nil {
		t.Errorf("the old number is still owned, by %s", owner)
	}
	// Even a challenge not ended (created on the old number after the
	// change, by a replica that read the user before it) completes nothing.
	late := challengeFor(u, 5)
	late.CreatedAt = now
	mustCreateChallenge(t, s, late)
	if err := s.CompleteChallenge(ctx, late.ID, now, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CompleteChallenge(late, old number) = %v, want %v", err, store.ErrNotFound)
	}
	// A session for a user deleted meanwhile is ErrNotFound.
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, sessionFor(u)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateSession(deleted user) = %v, want %v", err, store.ErrNotFound)
	}
}
