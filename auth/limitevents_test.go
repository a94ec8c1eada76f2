package auth_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
	"github.com/twostep/twostep/store"
)

// A limit reached is recorded once per limit, key and window, not once per
// refused request, and not once per replica. TestLimitEventOnce covers one
// service and one key; these cover the replicas, the key and the window.

// wrongPassword is a password no test account has.
const wrongPassword = "a password of some length"

// wrongLogin runs the password step for email from ip with a wrong password.
func wrongLogin(ctx context.Context, svc *auth.Service, email, ip string) error {
	_, err := svc.Login(ctx, auth.LoginInput{Email: email, Password: wrongPassword, ClientIP: ip})
	return err
}

// wantLimit fails tb unless err is a RATE_LIMITED refusal by limit.
func wantLimit(tb testing.TB, call string, err error, limit string) {
	tb.Helper()
	if ae := wantCode(tb, call, err, auth.CodeRateLimited); ae.Limit != limit {
		tb.Fatalf("%s refused by limit %q, want %q", call, ae.Limit, limit)
	}
}

// limitEventsIn returns every RATE_LIMITED event in st, whichever replica
// wrote it.
func limitEventsIn(tb testing.TB, st store.Store) []*store.Event {
	tb.Helper()
	all, err := st.ListEvents(context.Background(), "", store.Cursor{}, 10000)
	if err != nil {
		tb.Fatalf("ListEvents() = %v", err)
	}
	var out []*store.Event
	for _, e := range all {
		if e.Type == auth.EventRateLimited {
			out = append(out, e)
		}
	}
	return out
}

// limitCase is one limit reached: the first call of try reaches it, and
// the calls after are refused by limit until its window ends.
type limitCase struct {
	limit string
	edit  func(*auth.Limits)
	setup func(tb testing.TB, h *authtest.Env) // may be nil
	try   func(ctx context.Context, svc *auth.Service) error
}

// The three kinds of limit: a per-IP counter (hit), the account's failure
// block (takeAttempt) and a send budget (chargeSend).

func loginPerIPCase() limitCase {
	return limitCase{
		limit: "login_per_ip",
		edit:  func(l *auth.Limits) { l.LoginPerIP = auth.Limit{Max: 1, Window: time.Minute} },
		try: func(ctx context.Context, svc *auth.Service) error {
			return wrongLogin(ctx, svc, "x@example.com", "198.51.100.7")
		},
	}
}

// accountBlockCase blocks an unknown email for a second after its one free
// failure.
func accountBlockCase() limitCase {
	return limitCase{
		limit: "account_block",
		edit:  func(l *auth.Limits) { l.AccountFreeFailures = 1 },
		try:   func(ctx context.Context, svc *auth.Service) error { return wrongLogin(ctx, svc, "x@example.com", "") },
	}
}

// phoneCooldownCase sends a login code to an account's number, which
// starts the 30-second cooldown.
func phoneCooldownCase() limitCase {
	return limitCase{
		limit: "phone_cooldown",
		edit:  func(*auth.Limits) {},
		setup: func(tb testing.TB, h *authtest.Env) { h.Register(tb, "ada@example.com", authtest.NextPhone()) },
		try: func(ctx context.Context, svc *auth.Service) error {
			_, err := svc.Login(ctx, auth.LoginInput{Email: "ada@example.com", Password: authtest.Password})
			return err
		},
	}
}

// TestLimitEventOnceAcrossReplicas: two replicas over one store, each
// refused by the same limit for the same key in the same window, record one
// event between them: each remembers only its own refusals, so the store
// must refuse the second.
func TestLimitEventOnceAcrossReplicas(t *testing.T) {
	tests := []struct {
		name string
		limitCase
	}{
		{"login_per_ip", loginPerIPCase()},
		{"account_block", accountBlockCase()},
		{"phone_cooldown", phoneCooldownCase()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			opts := authtest.Options{Limits: limits(tt.edit)}
			h := authtest.New(t, opts)
			replica := h.Service(t, h.Store, opts)
			if tt.setup != nil {
				tt.setup(t, h)
			}
			_ = tt.try(ctx, h.Svc)
			for i, svc := range []*auth.Service{h.Svc, replica} {
				for j := range 3 {
					wantLimit(t, fmt.Sprintf("replica %d, try %d", i, j), tt.try(ctx, svc), tt.limit)
				}
				h.Clock.Advance(100 * time.Millisecond) // later, in the same window
			}
			if got := limitEventsIn(t, h.Store); len(got) != 1 {
				t.Errorf("%s: 6 refusals on 2 replicas in one window recorded %d RATE_LIMITED events, want 1", tt.limit, len(got))
			}
		})
	}
}

// TestLimitEventPerKey: a second key refused by the same limit in the same
// window is an event of its own; a second address that is the same key (one
// IPv6 /64) is not.
func TestLimitEventPerKey(t *testing.T) {
	ipLimit := func(l *auth.Limits) { l.LoginPerIP = auth.Limit{Max: 1, Window: time.Minute} }
	fromIP := func(ctx context.Context, svc *auth.Service, ip string) error {
		return wrongLogin(ctx, svc, "x@example.com", ip)
	}
	forEmail := func(ctx context.Context, svc *auth.Service, email string) error {
		return wrongLogin(ctx, svc, email, "")
	}
	tests := []struct {
		name          string
		limit         string
		edit          func(*auth.Limits)
		try           func(ctx context.Context, svc *auth.Service, who string) error
		first, second string
		want          int
	}{
		{"second IPv4 address", "login_per_ip", ipLimit, fromIP, "198.51.100.7", "198.51.100.8", 2},
		{"second IPv6 /64", "login_per_ip", ipLimit, fromIP, "2001:db8:1:1::1", "2001:db8:1:2::1", 2},
		{"same IPv6 /64", "login_per_ip", ipLimit, fromIP, "2001:db8:1:1::1", "2001:db8:1:1::2", 1},
		{"second account", "account_block", func(l *auth.Limits) { l.AccountFreeFailures = 1 }, forEmail, "x@example.com", "y@example.com", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := authtest.New(t, authtest.Options{Limits: limits(tt.edit)})
			for _, who := range []string{tt.first, tt.second} {
				_ = tt.try(ctx, h.Svc, who) // the first request of a key passes
				wantLimit(t, fmt.Sprintf("second request of %s", who), tt.try(ctx, h.Svc, who), tt.limit)
			}
			if got := limitEventsIn(t, h.Store); len(got) != tt.want {
				t.Errorf("%s refused %s and %s in one window: %d RATE_LIMITED events, want %d", tt.limit, tt.first, tt.second, len(got), tt.want)
			}
		})
	}
}

// TestLimitEventPerWindow: once the window ends, reaching the limit again is
// a new event, on the replica that recorded the first or on another; a
// refusal later in the same window is not.
func TestLimitEventPerWindow(t *testing.T) {
	ipCase, blockCase := loginPerIPCase(), accountBlockCase()
	tests := []struct {
		name string
		limitCase
		offset  time.Duration // the clock moves before the first window
		advance time.Duration // and between the windows
		replica bool          // the second refusals on another replica
		want    int
	}{
		{"login_per_ip, later in the window", ipCase, 0, 59 * time.Second, false, 1},
		{"login_per_ip, later in the window, replica", ipCase, 0, 59 * time.Second, true, 1},
		{"login_per_ip, next window", ipCase, 0, time.Minute, false, 2},
		{"login_per_ip, next window, replica", ipCase, 0, time.Minute, true, 2},
		{"account_block, later in the block", blockCase, 0, 900 * time.Millisecond, false, 1},
		// The block ends at 1.5s; in its last fraction of a second the
		// retry-after is rounded up to one second: still the same block.
		{"account_block, last fraction of the block", blockCase, 500 * time.Millisecond, 700 * time.Millisecond, false, 1},
		{"account_block, next (doubled) block", blockCase, 0, time.Second, false, 2},
		{"account_block, next (doubled) block, replica", blockCase, 0, time.Second, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			opts := authtest.Options{Limits: limits(tt.edit)}
			h := authtest.New(t, opts)
			second := h.Svc
			if tt.replica {
				second = h.Service(t, h.Store, opts)
			}
			h.Clock.Advance(tt.offset)
			_ = tt.try(ctx, h.Svc)
			wantLimit(t, "first window", tt.try(ctx, h.Svc), tt.limit)
			h.Clock.Advance(tt.advance)
			_ = tt.try(ctx, second) // passes if the window has ended
			wantLimit(t, fmt.Sprintf("after %v", tt.advance), tt.try(ctx, second), tt.limit)
			if got := limitEventsIn(t, h.Store); len(got) != tt.want {
				var details []string
				for _, e := range got {
					details = append(details, e.Detail)
				}
				t.Errorf("%s reached, then again after %v: %d RATE_LIMITED events %q, want %d", tt.limit, tt.advance, len(got), details, tt.want)
			}
		})
	}
}

// TestLimitEventUserID: an account's block is recorded as the account's
// event (its owner sees it); an unknown email's block belongs to nobody and
// does not show the email.
func TestLimitEventUserID(t *testing.T) {
	tests := []struct {
		name, email string
		account     bool
	}{
		{"account", "ada@example.com", true},
		{"unknown email", "nobody@example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.AccountFreeFailures = 1 })})
			wantID := ""
			if tt.account {
				wantID = h.Register(t, tt.email, authtest.NextPhone()).ID
			}
			wantCode(t, fmt.Sprintf("Login(%q, wrong password)", tt.email), wrongLogin(ctx, h.Svc, tt.email, ""), auth.CodeInvalidCredentials)
			wantLimit(t, fmt.Sprintf("Login(%q) again", tt.email), wrongLogin(ctx, h.Svc, tt.email, ""), "account_block")
			got := limitEventsIn(t, h.Store)
			if len(got) != 1 {
				t.Fatalf("account_block of %s: %d RATE_LIMITED events, want 1", tt.email, len(got))
			}
			if got[0].UserID != wantID {
				t.Errorf("account_block of %s: event UserID = %q, want %q", tt.email, got[0].UserID, wantID)
			}
			if strings.Contains(got[0].Detail, tt.email) || strings.Contains(got[0].DedupKey, tt.email) {
				t.Errorf("account_block of %s: event %+v shows the email", tt.email, got[0])
			}
			if tt.account {
				if n := countType(eventsOf(t, h, &auth.Principal{User: &auth.User{ID: wantID}}), auth.EventRateLimited); n != 1 {
					t.Errorf("the account's own events hold %d RATE_LIMITED, want 1", n)
				}
			}
		})
	}
}
