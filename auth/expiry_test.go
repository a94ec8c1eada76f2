package auth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
	"github.com/twostep/twostep/store"
)

// TestExpireUnconfirmed: an account that never confirms its number goes
// after the TTL (7 days by default), with an ACCOUNT_DELETED event, and
// its email can be registered again; one that signed in stays, and so does
// one that confirmed at the last moment.
func TestExpireUnconfirmed(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	squatted := h.Register(t, "ada@example.com", authtest.NextPhone())
	h.SignIn(t, "bob@example.com", authtest.NextPhone())
	lastMoment := authtest.NextPhone()
	h.Register(t, "carol@example.com", lastMoment)

	h.Clock.Advance(auth.DefaultUnconfirmedTTL - time.Minute)
	if n, err := h.Svc.ExpireUnconfirmed(ctx); err != nil || n != 0 {
		t.Fatalf("ExpireUnconfirmed() before the TTL = %d, %v, want 0", n, err)
	}
	l := h.Login(t, "carol@example.com")
	if _, err := h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: h.Code(t, lastMoment)}); err != nil {
		t.Fatalf("VerifyOTP() = %v", err)
	}
	h.Clock.Advance(2 * time.Minute)
	if n, err := h.Svc.ExpireUnconfirmed(ctx); err != nil || n != 1 {
		t.Fatalf("ExpireUnconfirmed() after the TTL = %d, %v, want 1 (ada)", n, err)
	}
	if _, err := h.Store.UserByID(ctx, squatted.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the unconfirmed account is still there: %v", err)
	}
	for _, email := range []string{"bob@example.com", "carol@example.com"} {
		if _, err := h.Store.UserByEmail(ctx, email); err != nil {
			t.Errorf("UserByEmail(%s) = %v: a confirmed account went", email, err)
		}
	}
	events, err := h.Svc.AuditEvents(ctx, 100, "", &squatted.ID)
	if err != nil || len(events.Events) == 0 || events.Events[0].Type != auth.EventAccountDeleted {
		t.Errorf("the expired account's last event = %+v, %v, want %s", events, err, auth.EventAccountDeleted)
	}
	h.Register(t, "ada@example.com", authtest.NextPhone()) // the email is free
}

// TestExpireUnconfirmedOff: with a negative TTL nothing expires, neither
// accounts registered meanwhile nor those registered while it was on.
func TestExpireUnconfirmedOff(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	before := h.Register(t, "ada@example.com", authtest.NextPhone())
	h.Svc = h.Service(t, h.Store, authtest.Options{UnconfirmedTTL: -1})
	after := h.Register(t, "bob@example.com", authtest.NextPhone())
	h.Clock.Advance(365 * 24 * time.Hour)
	if n, err := h.Svc.ExpireUnconfirmed(context.Background()); err != nil || n != 0 {
		t.Fatalf("ExpireUnconfirmed() with the TTL off = %d, %v, want 0", n, err)
	}
	for _, u := range []*auth.User{before, after} {
		if _, err := h.Store.UserByID(context.Background(), u.ID); err != nil {
			t.Errorf("UserByID(%s) = %v", u.Email, err)
		}
	}
}

// TestExpireUnconfirmedBatches: more accounts than one batch all go in one
// call.
func TestExpireUnconfirmedBatches(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	n := auth.ExpireBatch + 7
	for i := range n {
		u := &store.User{ID: fmt.Sprintf("u%04d", i), Email: fmt.Sprintf("u%d@example.com", i), PasswordHash: "h",
			Phone: authtest.NextPhone(), CreatedAt: h.Clock.Now(), UpdatedAt: h.Clock.Now(), UnconfirmedExpiresAt: h.Clock.Now().Add(time.Hour)}
		if err := h.Store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	h.Clock.Advance(2 * time.Hour)
	if got, err := h.Svc.ExpireUnconfirmed(ctx); err != nil || got != n {
		t.Fatalf("ExpireUnconfirmed() = %d, %v, want %d", got, err, n)
	}
	if _, err := h.Store.UserByEmail(ctx, fmt.Sprintf("u%d@example.com", n-1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the last account is still there: %v", err)
	}
}
