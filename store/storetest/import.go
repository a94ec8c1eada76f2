package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twostep/twostep/store"
)

// importUser returns an unsaved user for ImportUsers with a unique id,
// email and number.
func importUser(verified bool) *store.User {
	id := randomID()
	return &store.User{ID: id, Email: "import-" + id + "@example.com", PasswordHash: "$2a$04$abcdefghijklmnopqrstuv",
		Phone: newPhone(), PhoneVerified: verified, CreatedAt: t0().Add(-time.Hour), UpdatedAt: t0()}
}

// owner returns a stored user who owns their number, by a completed login.
func owner(tb testing.TB, s store.Store) *store.User {
	tb.Helper()
	u := newUser(tb, s)
	if err := s.CompleteChallenge(tb.Context(), newChallenge(tb, s, u, 3).ID, t0(), nil); err != nil {
		tb.Fatalf("CompleteChallenge() = %v", err)
	}
	u.PhoneVerified = true
	return u
}

func mustImport(tb testing.TB, s store.Store, users []*store.User) []store.ImportResult {
	tb.Helper()
	res, err := s.ImportUsers(tb.Context(), users)
	if err != nil {
		tb.Fatalf("ImportUsers() = %v", err)
	}
	if len(res) != len(users) {
		tb.Fatalf("ImportUsers(%d users) = %d results", len(users), len(res))
	}
	return res
}

// checkImported wants u stored as given and, if verified, owning its
// number; or, if !stored, no user with its email.
func checkImported(tb testing.TB, s store.Store, u *store.User, stored bool) {
	tb.Helper()
	got, err := s.UserByEmail(tb.Context(), u.Email)
	if !stored {
		if got != nil && got.ID == u.ID {
			tb.Errorf("UserByEmail(%q) = %+v, want it not imported", u.Email, got)
		}
		if id, _ := s.PhoneOwner(tb.Context(), u.Phone); id == u.ID {
			tb.Errorf("PhoneOwner(%q) = the user not imported", u.Phone)
		}
		return
	}
	if err != nil {
		tb.Fatalf("UserByEmail(%q) = %v", u.Email, err)
	}
	checkUser(tb, got, u)
	if id, err := s.PhoneOwner(tb.Context(), u.Phone); u.PhoneVerified && (err != nil || id != u.ID) {
		tb.Errorf("PhoneOwner(%q) = %q, %v, want %q", u.Phone, id, err, u.ID)
	}
}

func testImportUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	existing := newUser(t, s) // unverified: its number is free
	owned := owner(t, s)

	plain, verified := importUser(false), importUser(true)
	again := importUser(false)
	again.Email = existing.Email
	dupInBatch := importUser(true)
	dupInBatch.Email = plain.Email
	onOwned := importUser(true)
	onOwned.Phone = owned.Phone
	unverifiedOnOwned := importUser(false)
	unverifiedOnOwned.Phone = owned.Phone
	claimedEarlier := importUser(true)
	claimedEarlier.Phone = verified.Phone
	unverifiedOnClaimed := importUser(false)
	unverifiedOnClaimed.Phone = verified.Phone
	onUnverified := importUser(true) // a number an existing account has not verified
	onUnverified.Phone = existing.Phone
	sharedUnverified := importUser(false)
	sharedUnverified.Phone = plain.Phone

	batch := []*store.User{plain, verified, again, dupInBatch, onOwned, unverifiedOnOwned, claimedEarlier,
		unverifiedOnClaimed, onUnverified, sharedUnverified}
	want := []store.ImportResult{store.ImportInserted, store.ImportInserted, store.ImportEmailExists, store.ImportEmailExists,
		store.ImportPhoneTaken, store.ImportPhoneTaken, store.ImportPhoneTaken, store.ImportPhoneTaken,
		store.ImportInserted, store.ImportInserted}
	if got := mustImport(t, s, batch); !slices.Equal(got, want) {
		t.Fatalf("ImportUsers() = %v, want %v", got, want)
	}
	for i, u := range batch {
		checkImported(t, s, u, want[i] == store.ImportInserted)
	}
	got, _ := s.UserByEmail(ctx, existing.Email)
	checkUser(t, got, existing) // skipped, not overwritten
	if id, _ := s.PhoneOwner(ctx, owned.Phone); id != owned.ID {
		t.Errorf("PhoneOwner(owned) = %q, want still %q", id, owned.ID)
	}

	// The same users again, with new ids as a second run makes: nothing.
	rerun := make([]*store.User, len(batch))
	for i, u := range batch {
		c := *u
		c.ID = randomID()
		rerun[i] = &c
	}
	res := mustImport(t, s, rerun)
	for i, r := range res {
		if want[i] == store.ImportInserted && r != store.ImportEmailExists {
			t.Errorf("ImportUsers() again: user %d = %v, want %v", i, r, store.ImportEmailExists)
		}
		if r == store.ImportInserted {
			t.Errorf("ImportUsers() again: user %d inserted", i)
		}
	}
	if n, _ := s.CountUsers(ctx, store.UserQuery{EmailPrefix: "import-"}); n != 4 {
		t.Errorf("CountUsers(imported) = %d, want 4", n)
	}
	if res, err := s.ImportUsers(ctx, nil); err != nil || len(res) != 0 {
		t.Errorf("ImportUsers(nil) = %v, %v, want no results", res, err)
	}
}

// testImportUsersAtomic: a batch that fails part-way (a duplicate id is
// the caller's bug) writes nothing, not even the users before it.
func testImportUsersAtomic(t *testing.T, s store.Store) {
	existing := newUser(t, s)
	first := importUser(true)
	batch := []*store.User{first}
	for range 700 { // more than one statement's worth
		batch = append(batch, importUser(true))
	}
	clash := importUser(true)
	clash.ID, clash.Email = existing.ID, "zzz-"+clash.Email // last, in any order
	batch = append(batch, clash)
	if _, err := s.ImportUsers(t.Context(), batch); err == nil {
		t.Fatal("ImportUsers(duplicate id) = nil, want an error")
	}
	checkImported(t, s, first, false)
	checkImported(t, s, clash, false)
	if n, _ := s.CountUsers(t.Context(), store.UserQuery{EmailPrefix: "import-"}); n != 0 {
		t.Errorf("CountUsers(imported) after a failed batch = %d, want 0", n)
	}
	got, _ := s.UserByID(t.Context(), existing.ID)
	checkUser(t, got, existing)

	twice := importUser(false)
	other := importUser(false)
	other.ID = twice.ID
	if _, err := s.ImportUsers(t.Context(), []*store.User{twice, other}); err == nil {
		t.Fatal("ImportUsers(one id twice) = nil, want an error")
	}
	checkImported(t, s, twice, false)
}

// testConcurrentImportUsers: overlapping batches at once, in opposite
// orders, on any replica: each email gets one account and each number
// one owner, and every result says which.
func testConcurrentImportUsers(t *testing.T, s store.Store) {
	const n, runs = 40, 4
	base := make([]*store.User, n)
	for i := range base {
		base[i] = importUser(true)
	}
	batches := make([][]*store.User, runs)
	for r := range batches {
		for _, u := range base {
			c := *u
			c.ID = randomID()
			if r%2 == 1 { // a different account on the same number
				c.Email = "other-" + c.Email
			}
			batches[r] = append(batches[r], &c)
		}
		if r >= 2 {
			slices.Reverse(batches[r])
		}
	}
	results := make([][]store.ImportResult, runs)
	errs := parallel(s, runs, func(r int) error {
		var err error
		results[r], err = s.ImportUsers(context.Background(), batches[r])
		return err
	})
	for r, err := range errs {
		if err != nil {
			t.Fatalf("ImportUsers() run %d = %v", r, err)
		}
	}
	for _, u := range base {
		var inserted []*store.User
		for r, b := range batches {
			for i, c := range b {
				if c.Phone == u.Phone && results[r][i] == store.ImportInserted {
					inserted = append(inserted, c)
				}
			}
		}
		if len(inserted) != 1 {
			t.Errorf("number %s: %d users inserted, want 1", u.Phone, len(inserted))
			continue
		}
		checkImported(t, s, inserted[0], true)
	}
}

func testImportUsersDeadline(t *testing.T, s store.Store) {
	u := importUser(true)
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := s.ImportUsers(ctx, []*store.User{u})
	if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ImportUsers(expired context) = %v, want %v wrapping %v", err, store.ErrUnavailable, context.DeadlineExceeded)
	}
	checkImported(t, s, u, false)
}
