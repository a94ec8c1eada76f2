// Package storetest is the conformance suite that every store.Store
// implementation runs, so SQLite, PostgreSQL and the in-memory store are
// held to one contract, and helpers that hand tests a fresh database of
// either SQL kind.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twostep/twostep/store"
)

// Run runs the conformance suite against the stores open returns. open must
// return a new, empty store and close it with tb.Cleanup; it is called once
// per subtest, so subtests share no rows and run in parallel.
func Run(t *testing.T, open func(tb testing.TB) store.Store) {
	tests := []struct {
		name string
		test func(*testing.T, store.Store)
	}{
		{"Ping", testPing},
		{"CreateUser", testCreateUser},
		{"CreateUserEmailTaken", testCreateUserEmailTaken},
		{"UserNotFound", testUserNotFound},
		{"UpdatePasswordHash", testUpdatePasswordHash},
		{"CreateChallenge", testCreateChallenge},
		{"CountChallengeAttempt", testCountChallengeAttempt},
		{"CountChallengeAttemptLast", testCountChallengeAttemptLast},
		{"CompleteChallenge", testCompleteChallenge},
		{"CompleteChallengeRefused", testCompleteChallengeRefused},
		{"DeleteExpired", testDeleteExpired},
		{"Hit", testHit},
		{"TakeAttempt", testTakeAttempt},
		{"TakeAttemptRefused", testTakeAttemptRefused},
		{"ReleaseAndClearAttempts", testReleaseAndClearAttempts},
		{"DeadlineExceeded", testDeadlineExceeded},
		{"ConcurrentCreateUser", testConcurrentCreateUser},
		{"ConcurrentCompleteChallenge", testConcurrentCompleteChallenge},
		{"ConcurrentCountChallengeAttempt", testConcurrentCountChallengeAttempt},
		{"ConcurrentHit", testConcurrentHit},
		{"ConcurrentTakeAttempt", testConcurrentTakeAttempt},
		{"CreateChallengeEndsOthers", testCreateChallengeEndsOthers},
		{"LiveChallengesOrder", testLiveChallengesOrder},
		{"CompleteChallengeClaimsPhone", testCompleteChallengeClaimsPhone},
		{"ConcurrentPhoneClaims", testConcurrentPhoneClaims},
		{"CompleteChallengeSession", testCompleteChallengeSession},
		{"ConcurrentCompletions", testConcurrentCompletions},
		{"DeleteUnconfirmedUsers", testDeleteUnconfirmedUsers},
		{"Charge", testCharge},
		{"CreateSession", testCreateSession},
		{"RotateSession", testRotateSession},
		{"ConcurrentRotateSession", testConcurrentRotateSession},
		{"RevokeSessions", testRevokeSessions},
		{"UserSessions", testUserSessions},
		{"UserBySession", testUserBySession},
		{"DeleteExpiredSessions", testDeleteExpiredSessions},
		{"ConcurrentCharge", testConcurrentCharge},
		{"QueueChallenge", testQueueChallenge},
		{"SetChallengeSend", testSetChallengeSend},
		{"ConcurrentClaimOutbox", testConcurrentClaimOutbox},
		{"ClaimOutboxOldestFirst", testClaimOutboxOldestFirst},
		{"SetPassword", testSetPassword},
		{"CompleteReset", testCompleteReset},
		{"CompletePhoneChange", testCompletePhoneChange},
		{"DeleteUser", testDeleteUser},
		{"DeleteExpiredOutbox", testDeleteExpiredOutbox},
		{"UserRoles", testUserRoles},
		{"ListUsers", testListUsers},
		{"Events", testEvents},
		{"ChangedNumberEndsCodes", testChangedNumberEndsCodes},
		{"ImportUsers", testImportUsers},
		{"ImportUsersAtomic", testImportUsersAtomic},
		{"ImportUsersDeadline", testImportUsersDeadline},
		{"ConcurrentImportUsers", testConcurrentImportUsers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, open(t))
		})
	}
}

// t0 is the suite's clock: away from UTC and finer than a millisecond, so
// round trips show that times come back truncated to milliseconds in UTC.
func t0() time.Time {
	return time.Date(2031, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("UTC+2", 2*60*60))
}

func testDeadlineExceeded(t *testing.T, s store.Store) {
	u := newUser(t, s)
	c := newChallenge(t, s, u, 3)
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()

	calls := []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"CreateUser", func() error {
			return s.CreateUser(ctx, &store.User{ID: randomID(), Email: randomID() + "@example.com", CreatedAt: t0(), UpdatedAt: t0()})
		}},
		{"UserByID", func() error { _, err := s.UserByID(ctx, u.ID); return err }},
		{"UserByEmail", func() error { _, err := s.UserByEmail(ctx, u.Email); return err }},
		{"UpdatePasswordHash", func() error { return s.UpdatePasswordHash(ctx, u.ID, "h", t0()) }},
		{"CreateChallenge", func() error { return s.CreateChallenge(ctx, challengeFor(u, 3)) }},
		{"ChallengeByTokenHash", func() error { _, err := s.ChallengeByTokenHash(ctx, c.TokenHash); return err }},
		{"CountChallengeAttempt", func() error { _, err := s.CountChallengeAttempt(ctx, c.ID, t0()); return err }},
		{"CompleteChallenge", func() error { return s.CompleteChallenge(ctx, c.ID, t0(), nil) }},
		{"DeleteExpired", func() error { _, err := s.DeleteExpired(ctx, t0()); return err }},
		{"Hit", func() error { _, err := s.Hit(ctx, "k", time.Minute, t0()); return err }},
		{"TakeAttempt", func() error {
			_, err := s.TakeAttempt(ctx, "k", t0(), t0().Add(time.Hour), func([]time.Time) error { return nil })
			return err
		}},
		{"ReleaseAttempt", func() error { return s.ReleaseAttempt(ctx, "k", "id") }},
		{"PhoneOwner", func() error { _, err := s.PhoneOwner(ctx, u.Phone); return err }},
		{"CreateSession", func() error { return s.CreateSession(ctx, sessionFor(u)) }},
		{"SessionByID", func() error { _, err := s.SessionByID(ctx, "id"); return err }},
		{"RotateSession", func() error { _, err := s.RotateSession(ctx, "id", 0, t0(), t0(), ""); return err }},
		{"RevokeSessions", func() error { _, err := s.RevokeSessions(ctx, u.ID, store.SessionMatch{}, t0()); return err }},
		{"UserSessions", func() error { _, err := s.UserSessions(ctx, u.ID, t0()); return err }},
		{"UserBySession", func() error { _, err := s.UserBySession(ctx, u.ID, "id", t0()); return err }},
		{"LiveChallenges", func() error { _, err := s.LiveChallenges(ctx, u.Phone, t0()); return err }},
		{"Charge", func() error {
			_, _, err := s.Charge(ctx, []store.Budget{{Key: "k", Max: 1, Window: time.Minute}}, t0())
			return err
		}},
		{"ClearAttempts", func() error { return s.ClearAttempts(ctx, "k") }},
		{"QueueChallenge", func() error { return s.QueueChallenge(ctx, resetFor(u), randomID()) }},
		{"ChallengeByID", func() error { _, err := s.ChallengeByID(ctx, c.ID); return err }},
		{"SetChallengeSend", func() error { return s.SetChallengeSend(ctx, c.ID, "VE", "sms", t0()) }},
		{"CompleteReset", func() error { return s.CompleteReset(ctx, c.ID, "h", t0()) }},
		{"CompletePhoneChange", func() error { return s.CompletePhoneChange(ctx, c.ID, t0()) }},
		{"SetPassword", func() error { _, err := s.SetPassword(ctx, u.ID, "h", t0(), ""); return err }},
		{"DeleteUser", func() error { return s.DeleteUser(ctx, u.ID) }},
		{"DeleteUnconfirmedUsers", func() error { _, err := s.DeleteUnconfirmedUsers(ctx, t0(), 1); return err }},
		{"ClaimOutbox", func() error { _, err := s.ClaimOutbox(ctx, t0(), time.Minute, 1); return err }},
		{"DeleteOutbox", func() error { return s.DeleteOutbox(ctx, "id") }},
		{"UserRoles", func() error { _, err := s.UserRoles(ctx, u.ID); return err }},
		{"RolesOf", func() error { _, err := s.RolesOf(ctx, []string{u.ID}); return err }},
		{"SetUserRoles", func() error { return s.SetUserRoles(ctx, u.ID, nil, t0()) }},
		{"ListUsers", func() error { _, err := s.ListUsers(ctx, store.UserQuery{}, store.Cursor{}, 1); return err }},
		{"CountUsers", func() error { _, err := s.CountUsers(ctx, store.UserQuery{}); return err }},
		{"RecordEvents", func() error { return s.RecordEvents(ctx, []*store.Event{{ID: randomID(), At: t0(), Type: "X"}}) }},
		{"ListEvents", func() error { _, err := s.ListEvents(ctx, "", store.Cursor{}, 1); return err }},
		{"DeleteEventsBefore", func() error { _, err := s.DeleteEventsBefore(ctx, t0()); return err }},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s(expired context) = %v, want %v wrapping %v", tt.name, err, store.ErrUnavailable, context.DeadlineExceeded)
			}
		})
	}
}

func parallel(s store.Store, n int, f func(i int) error) []error {
	// Open the connections first: dialling each one takes longer than
	// the calls, which would otherwise barely overlap.
	for range 2 {
		warm := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { warm[i] = s.Ping(context.Background()) })
		}
		wg.Wait()
	}
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start // line them all up first, for the most overlap
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func randomID() string { return rand.Text() }

var phoneSeq atomic.Int64

// newPhone returns a number no other call returned.
func newPhone() string { return fmt.Sprintf("+1555%07d", phoneSeq.Add(1)) }

// newUser stores and returns a user with a unique id, email and phone.
func newUser(tb testing.TB, s store.Store) *store.User {
	tb.Helper()
	id := randomID()
	u := &store.User{
		ID:           id,
		Email:        "user-" + id + "@example.com",
		PasswordHash: "$2a$10$abcdefghijklmnopqrstuv",
		Phone:        newPhone(),
		CreatedAt:    t0(),
		UpdatedAt:    t0().Add(time.Second),
	}
	if err := s.CreateUser(tb.Context(), u); err != nil {
		tb.Fatalf("CreateUser(%q) = %v", u.Email, err)
	}
	return u
}

// challengeFor returns an unsaved challenge for u, created at t0 and
// expiring 5 minutes later.
func challengeFor(u *store.User, maxAttempts int) *store.Challenge {
	id := randomID()
	hash := sha256.Sum256([]byte("token-" + id))
	return &store.Challenge{
		ID:              id,
		TokenHash:       hash[:],
		Purpose:         store.PurposeLogin,
		UserID:          u.ID,
		Phone:           u.Phone,
		Channel:         "sms",
		VerificationSID: "VE" + id,
		MaxAttempts:     maxAttempts,
		CreatedAt:       t0(),
		ExpiresAt:       t0().Add(5 * time.Minute),
	}
}

func newChallenge(tb testing.TB, s store.Store, u *store.User, maxAttempts int) *store.Challenge {
	tb.Helper()
	c := challengeFor(u, maxAttempts)
	mustCreateChallenge(tb, s, c)
	return c
}

func mustCreateChallenge(tb testing.TB, s store.Store, c *store.Challenge) {
	tb.Helper()
	if err := s.CreateChallenge(tb.Context(), c); err != nil {
		tb.Fatalf("CreateChallenge(%q) = %v", c.ID, err)
	}
}

func mustHit(tb testing.TB, s store.Store, key string, window time.Duration, now time.Time) store.Counter {
	tb.Helper()
	c, err := s.Hit(tb.Context(), key, window, now)
	if err != nil {
		tb.Fatalf("Hit(%q) = %v", key, err)
	}
	return c
}

// checkUser compares got with want as a store keeps it: times at
// millisecond precision, in UTC.
func checkUser(tb testing.TB, got, want *store.User) {
	tb.Helper()
	g, w := *got, *want
	checkTime(tb, "User.CreatedAt", g.CreatedAt, w.CreatedAt)
	checkTime(tb, "User.UpdatedAt", g.UpdatedAt, w.UpdatedAt)
	checkTime(tb, "User.UnconfirmedExpiresAt", g.UnconfirmedExpiresAt, w.UnconfirmedExpiresAt)
	g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	g.UnconfirmedExpiresAt, w.UnconfirmedExpiresAt = time.Time{}, time.Time{}
	if g != w {
		tb.Errorf("got user %+v, want %+v", g, w)
	}
}

func checkChallenge(tb testing.TB, got, want *store.Challenge) {
	tb.Helper()
	g, w := *got, *want
	checkTime(tb, "Challenge.CreatedAt", g.CreatedAt, w.CreatedAt)
	checkTime(tb, "Challenge.ExpiresAt", g.ExpiresAt, w.ExpiresAt)
	checkTime(tb, "Challenge.ConsumedAt", g.ConsumedAt, w.ConsumedAt)
	g.CreatedAt, g.ExpiresAt, g.ConsumedAt = time.Time{}, time.Time{}, time.Time{}
	w.CreatedAt, w.ExpiresAt, w.ConsumedAt = time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		tb.Errorf("got challenge %+v, want %+v", g, w)
	}
}

// checkTime wants got to be want truncated to the millisecond, in UTC, or
// zero if want is.
func checkTime(tb testing.TB, name string, got, want time.Time) {
	tb.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			tb.Errorf("%s = %v, want zero", name, got)
		}
		return
	}
	if w := want.Truncate(time.Millisecond); !got.Equal(w) || got.Location() != time.UTC {
		tb.Errorf("%s = %v, want %v", name, got, w.UTC())
	}
}
