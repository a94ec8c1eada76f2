package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twostep/twostep/store"
)

func testUserRoles(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s)
	if roles, err := s.UserRoles(ctx, u.ID); err != nil || roles == nil || len(roles) != 0 {
		t.Fatalf("UserRoles(new user) = %#v, %v, want an empty list", roles, err)
	}
	if err := s.SetUserRoles(ctx, u.ID, []string{store.RoleAdmin, "AUDITOR", store.RoleAdmin}, t0()); err != nil {
		t.Fatalf("SetUserRoles() = %v", err)
	}
	if roles, _ := s.UserRoles(ctx, u.ID); !slices.Equal(roles, []string{"ADMIN", "AUDITOR"}) {
		t.Errorf("UserRoles() = %v, want ADMIN, AUDITOR sorted", roles)
	}
	if err := s.SetUserRoles(ctx, u.ID, nil, t0()); err != nil {
		t.Fatal(err)
	}
	if roles, _ := s.UserRoles(ctx, u.ID); len(roles) != 0 {
		t.Errorf("UserRoles() after clearing = %v", roles)
	}
	// Many at once: those with roles, sorted; the others absent.
	admin, plain := newUser(t, s), newUser(t, s)
	if err := s.SetUserRoles(ctx, admin.ID, []string{"AUDITOR", store.RoleAdmin}, t0()); err != nil {
		t.Fatal(err)
	}
	got, err := s.RolesOf(ctx, []string{admin.ID, plain.ID, "missing"})
	if err != nil || len(got) != 1 || !slices.Equal(got[admin.ID], []string{"ADMIN", "AUDITOR"}) {
		t.Errorf("RolesOf() = %v, %v, want only %s with ADMIN, AUDITOR", got, err, admin.ID)
	}
	if got, err := s.RolesOf(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("RolesOf(none) = %v, %v", got, err)
	}
	if err := s.SetUserRoles(ctx, "missing", []string{store.RoleAdmin}, t0()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetUserRoles(missing) = %v, want %v", err, store.ErrNotFound)
	}
	_ = s.SetUserRoles(ctx, u.ID, []string{store.RoleAdmin}, t0())
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if roles, _ := s.UserRoles(ctx, u.ID); len(roles) != 0 {
		t.Errorf("a deleted user's roles = %v", roles)
	}
}

func testListUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	var all []*store.User
	for i := range 5 {
		u := &store.User{ID: fmt.Sprintf("u%d-%s", i, randomID()), Email: fmt.Sprintf("list%d-%s@example.com", i, randomID()),
			PasswordHash: "h", Phone: fmt.Sprintf("+1999000%04d", i), CreatedAt: t0().Add(time.Duration(i/2) * time.Second), UpdatedAt: t0()}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		all = append(all, u)
	}
	// Pages of two, in creation order (ties by id), from the start.
	var got []string
	var after store.Cursor
	for {
		page, err := s.ListUsers(ctx, store.UserQuery{EmailPrefix: "list"}, after, 2)
		if err != nil {
			t.Fatalf("ListUsers() = %v", err)
		}
		for _, u := range page {
			got = append(got, u.ID)
		}
		if len(page) < 2 {
			break
		}
		last := page[len(page)-1]
		after = store.Cursor{At: last.CreatedAt, ID: last.ID}
	}
	slices.SortFunc(all, func(a, b *store.User) int {
		if n := a.CreatedAt.Compare(b.CreatedAt); n != 0 {
			return n
		}
		return strings.Compare(a.ID, b.ID)
	})
	var want []string
	for _, u := range all {
		want = append(want, u.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ListUsers pages = %v, want %v (by creation, then id, each once)", got, want)
	}
	if n, err := s.CountUsers(ctx, store.UserQuery{EmailPrefix: "list", PhonePrefix: "list"}); err != nil || n != 5 {
		t.Errorf("CountUsers(list) = %d, %v, want 5", n, err)
	}
	if page, _ := s.ListUsers(ctx, store.UserQuery{EmailPrefix: "+19990000003", PhonePrefix: "+19990000003"}, store.Cursor{}, 10); len(page) != 1 || page[0].ID != all[3].ID {
		t.Errorf("ListUsers(by phone prefix) = %v, want the one user", page)
	}
	if n, _ := s.CountUsers(ctx, store.UserQuery{PhonePrefix: "+1999000"}); n != 5 {
		t.Errorf("CountUsers(+1999000) = %d, want 5", n)
	}
	if n, _ := s.CountUsers(ctx, store.UserQuery{EmailPrefix: "nobody-"}); n != 0 {
		t.Errorf("CountUsers(nobody-) = %d", n)
	}
	// Prefixes count in characters, not bytes.
	u := &store.User{ID: randomID(), Email: "josé-" + randomID() + "@example.com", PasswordHash: "h", Phone: newPhone(), CreatedAt: t0(), UpdatedAt: t0()}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CountUsers(ctx, store.UserQuery{EmailPrefix: "josé-"}); n != 1 {
		t.Errorf("CountUsers(josé-) = %d, want 1", n)
	}
}

func testEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s)
	var evs []*store.Event
	for i := range 5 {
		e := &store.Event{ID: fmt.Sprintf("e%02d-%s", i, randomID()), At: t0().Add(time.Duration(i/2) * time.Minute), Type: "LOGIN_FAILED",
			IPAddress: "192.0.2.1", UserAgent: "agent", Detail: "detail"}
		if i%2 == 0 {
			e.UserID = u.ID
		}
		evs = append(evs, e)
	}
	evs[4].DedupKey = "limit:x:1"
	if err := s.RecordEvents(ctx, evs); err != nil {
		t.Fatalf("RecordEvents() = %v", err)
	}
	dup := &store.Event{ID: "dup-" + randomID(), At: t0(), Type: "RATE_LIMITED", DedupKey: "limit:x:1"}
	if err := s.RecordEvents(ctx, []*store.Event{dup}); err != nil {
		t.Fatalf("RecordEvents(duplicate key) = %v", err)
	}
	all, err := s.ListEvents(ctx, "", store.Cursor{}, 100)
	if err != nil || len(all) != 5 {
		t.Fatalf("ListEvents() = %d events, %v, want 5 (the duplicate skipped)", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].At.After(all[i-1].At) || all[i].At.Equal(all[i-1].At) && all[i].ID > all[i-1].ID {
			t.Errorf("ListEvents() not newest first at %d", i)
		}
	}
	checkTime(t, "Event.At", all[len(all)-1].At, t0())
	// Pages of two for the user.
	var got []*store.Event
	var before store.Cursor
	for {
		page, err := s.ListEvents(ctx, u.ID, before, 2)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) < 2 {
			break
		}
		before = store.Cursor{At: page[1].At, ID: page[1].ID}
	}
	if len(got) != 3 || got[0].UserID != u.ID || got[0].DedupKey != "limit:x:1" || got[0].IPAddress != "192.0.2.1" {
		t.Fatalf("the user's events in pages = %+v, want their 3", got)
	}
	n, err := s.DeleteEventsBefore(ctx, t0().Add(time.Minute))
	if err != nil || n != 2 {
		t.Errorf("DeleteEventsBefore() = %d, %v, want 2", n, err)
	}
	// Events outlive their user.
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.ListEvents(ctx, u.ID, store.Cursor{}, 10); len(left) != 2 {
		t.Errorf("a deleted user's events = %d, want kept until retention", len(left))
	}
}
