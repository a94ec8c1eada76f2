package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/twostep/twostep/store"
)

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
