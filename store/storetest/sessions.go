package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/twostep/twostep/store"
)

// sessionFor returns an unsaved session of u created at t0, idle for an
// hour and at most a day.
func sessionFor(u *store.User) *store.Session {
	return &store.Session{
		ID:            randomID(),
		UserID:        u.ID,
		Secret:        []byte("secret-" + randomID()),
		RotatedAt:     t0(),
		AMR:           "pwd,sms,mfa",
		UserAgent:     "Mozilla/5.0",
		IPAddress:     "192.0.2.1",
		CreatedAt:     t0(),
		LastUsedAt:    t0(),
		IdleExpiresAt: t0().Add(time.Hour),
		ExpiresAt:     t0().Add(24 * time.Hour),
	}
}

func newSession(tb testing.TB, s store.Store, u *store.User) *store.Session {
	tb.Helper()
	ss := sessionFor(u)
	if err := s.CreateSession(tb.Context(), ss); err != nil {
		tb.Fatalf("CreateSession() = %v", err)
	}
	return ss
}

func checkSession(tb testing.TB, got, want *store.Session) {
	tb.Helper()
	g, w := *got, *want
	for _, tt := range []struct {
		name     string
		got, wnt *time.Time
	}{
		{"RotatedAt", &g.RotatedAt, &w.RotatedAt}, {"CreatedAt", &g.CreatedAt, &w.CreatedAt},
		{"LastUsedAt", &g.LastUsedAt, &w.LastUsedAt}, {"IdleExpiresAt", &g.IdleExpiresAt, &w.IdleExpiresAt},
		{"ExpiresAt", &g.ExpiresAt, &w.ExpiresAt}, {"RevokedAt", &g.RevokedAt, &w.RevokedAt},
	} {
		checkTime(tb, "Session."+tt.name, *tt.got, *tt.wnt)
		*tt.got, *tt.wnt = time.Time{}, time.Time{}
	}
	if !slices.Equal(g.Secret, w.Secret) {
		tb.Errorf("Session.Secret = %x, want %x", g.Secret, w.Secret)
	}
	g.Secret, w.Secret = nil, nil
	if !reflect.DeepEqual(g, w) {
		tb.Errorf("got session %+v, want %+v", g, w)
	}
}

func testCreateSession(t *testing.T, s store.Store) {
	want := newSession(t, s, newUser(t, s))
	got, err := s.SessionByID(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("SessionByID() = %v", err)
	}
	checkSession(t, got, want)
	if _, err := s.SessionByID(t.Context(), "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SessionByID(missing) = %v, want %v", err, store.ErrNotFound)
	}
}

func testRotateSession(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s)
	ss := newSession(t, s, u)
	now := t0().Add(time.Minute)
	got, err := s.RotateSession(ctx, ss.ID, 0, now, now.Add(time.Hour), "198.51.100.7")
	if err != nil {
		t.Fatalf("RotateSession(0) = %v", err)
	}
	ss.Counter, ss.RotatedAt, ss.LastUsedAt, ss.IdleExpiresAt, ss.IPAddress = 1, now, now, now.Add(time.Hour), "198.51.100.7"
	checkSession(t, got, ss)
	if _, err := s.RotateSession(ctx, ss.ID, 0, now, now.Add(time.Hour), "203.0.113.9"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RotateSession(stale counter) = %v, want %v", err, store.ErrNotFound)
	}
	stored, _ := s.SessionByID(ctx, ss.ID)
	checkSession(t, stored, ss)
	// No address (a caller that has none): the last one stays.
	if got, err = s.RotateSession(ctx, ss.ID, 1, now, now.Add(time.Hour), ""); err != nil || got.IPAddress != "198.51.100.7" {
		t.Fatalf("RotateSession(1, no ip) = %+v, %v, want the address kept", got, err)
	}
	ss.Counter = 2

	for _, tt := range []struct {
		name    string
		prepare func(*store.Session)
		now     time.Time
	}{
		{"idle", nil, t0().Add(time.Hour)},
		{"expired", func(x *store.Session) { x.IdleExpiresAt = t0().Add(48 * time.Hour) }, t0().Add(24 * time.Hour)},
		{"revoked", func(x *store.Session) { x.RevokedAt = t0() }, t0().Add(time.Minute)},
		{"unknown", nil, t0()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := sessionFor(u)
			if tt.prepare != nil {
				tt.prepare(x)
			}
			id := x.ID
			if tt.name != "unknown" {
				if err := s.CreateSession(ctx, x); err != nil {
					t.Fatal(err)
				}
			} else {
				id = "missing"
			}
			if _, err := s.RotateSession(ctx, id, 0, tt.now, tt.now.Add(time.Hour), ""); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("RotateSession(%s) = %v, want %v", tt.name, err, store.ErrNotFound)
			}
		})
	}
}

func testConcurrentRotateSession(t *testing.T, s store.Store) {
	const n = 20
	ss := newSession(t, s, newUser(t, s))
	now := t0().Add(time.Minute)
	errs := parallel(s, n, func(int) error {
		_, err := s.RotateSession(t.Context(), ss.ID, 0, now, now.Add(time.Hour), "")
		return err
	})
	var ok int
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("RotateSession() #%d = %v", i, err)
		}
	}
	if got, _ := s.SessionByID(t.Context(), ss.ID); ok != 1 || got.Counter != 1 {
		t.Errorf("%d concurrent rotations from 0: %d succeeded and the counter is %d, want 1 and 1", n, ok, got.Counter)
	}
}

func testRevokeSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, other := newUser(t, s), newUser(t, s)
	a, b, c := newSession(t, s, u), newSession(t, s, u), newSession(t, s, u)
	theirs := newSession(t, s, other)
	now := t0().Add(time.Minute)
	revoke := func(m store.SessionMatch) int {
		t.Helper()
		n, err := s.RevokeSessions(ctx, u.ID, m, now)
		if err != nil {
			t.Fatalf("RevokeSessions(%+v) = %v", m, err)
		}
		return n
	}
	if n := revoke(store.SessionMatch{ID: theirs.ID}); n != 0 {
		t.Errorf("RevokeSessions(another user's) = %d, want 0", n)
	}
	if n := revoke(store.SessionMatch{ID: a.ID}); n != 1 {
		t.Errorf("RevokeSessions(a) = %d, want 1", n)
	}
	if n := revoke(store.SessionMatch{ID: a.ID}); n != 0 {
		t.Errorf("RevokeSessions(a) again = %d, want 0", n)
	}
	if n := revoke(store.SessionMatch{Except: b.ID}); n != 1 { // c
		t.Errorf("RevokeSessions(all but b) = %d, want 1", n)
	}
	live, _ := s.UserSessions(ctx, u.ID, now)
	if len(live) != 1 || live[0].ID != b.ID {
		t.Errorf("UserSessions() = %v, want only b", live)
	}
	if n := revoke(store.SessionMatch{}); n != 1 {
		t.Errorf("RevokeSessions(all) = %d, want 1", n)
	}
	got, _ := s.SessionByID(ctx, c.ID)
	checkTime(t, "RevokedAt", got.RevokedAt, now)
	if live, _ := s.UserSessions(ctx, other.ID, now); len(live) != 1 {
		t.Errorf("the other user's sessions = %v, want theirs untouched", live)
	}
}

func testUserSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s)
	var want []string
	for i := range 3 {
		ss := sessionFor(u)
		ss.CreatedAt = t0().Add(time.Duration(i) * time.Minute)
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
		want = append([]string{ss.ID}, want...)
	}
	idle := sessionFor(u)
	idle.IdleExpiresAt = t0().Add(time.Minute)
	if err := s.CreateSession(ctx, idle); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserSessions(ctx, u.ID, t0().Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, g := range got {
		ids = append(ids, g.ID)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("UserSessions() = %v, want the live ones newest first %v", ids, want)
	}
}

func testUserBySession(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, other := newUser(t, s), newUser(t, s)
	ss := newSession(t, s, u)
	now := t0().Add(time.Minute)
	got, err := s.UserBySession(ctx, u.ID, ss.ID, now)
	if err != nil {
		t.Fatalf("UserBySession() = %v", err)
	}
	checkUser(t, got, u)
	// Past its last moment though not idle (refreshed often enough).
	old := sessionFor(u)
	old.IdleExpiresAt, old.ExpiresAt = t0().Add(2*time.Hour), t0().Add(time.Minute)
	if err := s.CreateSession(ctx, old); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, user, session string
		now                 time.Time
	}{
		{"another user's session", other.ID, ss.ID, now},
		{"unknown session", u.ID, "missing", now},
		{"idle", u.ID, ss.ID, t0().Add(time.Hour)},
		{"past its maximum age", u.ID, old.ID, t0().Add(90 * time.Second)},
	} {
		if _, err := s.UserBySession(ctx, tt.user, tt.session, tt.now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UserBySession(%s) = %v, want %v", tt.name, err, store.ErrNotFound)
		}
	}
	if _, err := s.RevokeSessions(ctx, u.ID, store.SessionMatch{ID: ss.ID}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserBySession(ctx, u.ID, ss.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserBySession(revoked) = %v, want %v", err, store.ErrNotFound)
	}
}

func testDeleteExpiredSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s)
	live := newSession(t, s, u)
	idle := sessionFor(u)
	idle.IdleExpiresAt = t0().Add(time.Minute)
	expired := sessionFor(u)
	expired.ExpiresAt = t0().Add(time.Minute)
	revoked := sessionFor(u)
	revoked.RevokedAt = t0()
	for _, x := range []*store.Session{idle, expired, revoked} {
		if err := s.CreateSession(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteExpired(ctx, t0().Add(2*time.Minute)); err != nil || n != 3 {
		t.Errorf("DeleteExpired() = %d, %v, want 3", n, err)
	}
	if _, err := s.SessionByID(ctx, live.ID); err != nil {
		t.Errorf("SessionByID(live) after DeleteExpired = %v", err)
	}
	if _, err := s.SessionByID(ctx, revoked.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SessionByID(revoked) after DeleteExpired = %v, want %v", err, store.ErrNotFound)
	}
}
