package auth_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
	"github.com/twostep/twostep/store"
	"github.com/twostep/twostep/store/memstore"
)

func eventsOf(t *testing.T, h *authtest.Env, p *auth.Principal) []auth.EventInfo {
	t.Helper()
	var all []auth.EventInfo
	after := ""
	for {
		page, err := h.Svc.SecurityEvents(context.Background(), p, 7, after)
		if err != nil {
			t.Fatalf("SecurityEvents() = %v", err)
		}
		all = append(all, page.Events...)
		if !page.HasNextPage {
			return all
		}
		after = page.Cursors[len(page.Cursors)-1]
	}
}

// TestSecurityEvents: each kind of event is recorded for its user, newest
// first, and none holds a password, code, token or full number.
func TestSecurityEvents(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.PhoneCooldown = 0 })})
	ctx := context.Background()
	phone := authtest.NextPhone()
	h.Register(t, "ada@example.com", phone)
	_, _ = h.Svc.Login(ctx, auth.LoginInput{Email: "ada@example.com", Password: "not the password at all"})
	l := h.Login(t, "ada@example.com")
	code := h.Code(t, phone)
	_, _ = h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: authtest.WrongCode(code)})
	res, err := h.Svc.VerifyOTP(ctx, auth.VerifyInput{MFAToken: l.MFAToken, Code: code})
	if err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(time.Minute)
	res, err = refresh(h, res.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	p := principal(t, h, res)
	if _, err := h.Svc.ChangePassword(ctx, p, auth.ChangePasswordInput{CurrentPassword: authtest.Password, NewPassword: newPassword}); err != nil {
		t.Fatal(err)
	}
	_, _ = h.Svc.ChangePassword(ctx, p, auth.ChangePasswordInput{CurrentPassword: "not the password at all", NewPassword: newPassword})
	requestReset(t, h, "ada@example.com")
	deliver(t, h)
	if _, err := h.Svc.Logout(ctx, p, auth.LogoutCurrent); err != nil {
		t.Fatal(err)
	}
	events := eventsOf(t, h, p)
	var types []string
	for i, e := range events {
		types = append(types, e.Type)
		if i > 0 && e.At.After(events[i-1].At) {
			t.Errorf("events not newest first at %d", i)
		}
		for _, secret := range []string{authtest.Password, newPassword, code, l.MFAToken, res.AccessToken, res.RefreshToken, phone} {
			if strings.Contains(e.Detail, secret) {
				t.Errorf("event %s detail %q holds a secret or the full number", e.Type, e.Detail)
			}
		}
	}
	for _, want := range []string{auth.EventUserRegistered, auth.EventLoginFailed, auth.EventLoginSucceeded, auth.EventCodeSent,
		auth.EventCodeFailed, auth.EventSignInCompleted, auth.EventSessionRefreshed, auth.EventPasswordChanged,
		auth.EventPasswordCheckFailed, auth.EventPasswordResetRequested, auth.EventLogout} {
		if !slices.Contains(types, want) {
			t.Errorf("no %s event among %v", want, types)
		}
	}
	if events[0].Type != auth.EventLogout {
		t.Errorf("newest event = %s, want LOGOUT", events[0].Type)
	}
}

// TestLimitEventOnce: a limit reached is one RATE_LIMITED event per limit,
// key and window, however many requests it refuses.
func TestLimitEventOnce(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.LoginPerIP = auth.Limit{Max: 2, Window: time.Minute} })})
	ctx := context.Background()
	for range 10 {
		_, _ = h.Svc.Login(ctx, auth.LoginInput{Email: "x@example.com", Password: "a password of some length", ClientIP: "198.51.100.7"})
	}
	count := func() int {
		page, err := h.Svc.AuditEvents(ctx, 100, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range page.Events {
			if e.Type == auth.EventRateLimited {
				n++
				if strings.Contains(e.Detail, "198.51.100.7") {
					t.Errorf("limit event %q holds the address in its detail", e.Detail)
				}
			}
		}
		return n
	}
	if n := count(); n != 1 {
		t.Errorf("8 refusals by one limit in one window recorded %d events, want 1", n)
	}
	h.Clock.Advance(time.Minute)
	for range 4 {
		_, _ = h.Svc.Login(ctx, auth.LoginInput{Email: "x@example.com", Password: "a password of some length", ClientIP: "198.51.100.7"})
	}
	if n := count(); n != 2 {
		t.Errorf("after a second window: %d events, want 2", n)
	}
}

func TestRoles(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	ada := h.SignIn(t, "ada@example.com", authtest.NextPhone())
	bob := h.SignIn(t, "bob@example.com", authtest.NextPhone())
	pa := principal(t, h, ada)
	wantCode(t, "HasRole(no role)", h.Svc.HasRole(ctx, pa, store.RoleAdmin), auth.CodeForbidden)
	// The first administrator comes from the command line, which writes
	// to the store.
	if err := h.Store.SetUserRoles(ctx, pa.User.ID, []string{store.RoleAdmin}, h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := h.Svc.HasRole(ctx, pa, store.RoleAdmin); err != nil {
		t.Fatalf("HasRole() after the grant = %v", err)
	}
	_, err := h.Svc.SetUserRoles(ctx, pa, pa.User.ID, []string{"ROOT"})
	wantCode(t, "SetUserRoles(unknown role)", err, auth.CodeBadUserInput)
	_, err = h.Svc.SetUserRoles(ctx, pa, "no-such-user", nil)
	wantCode(t, "SetUserRoles(unknown user)", err, auth.CodeBadUserInput)
	// The token says the roles it was issued with; the check reads them.
	h.Clock.Advance(time.Minute)
	fresh, err := refresh(h, ada.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Roles []string `json:"roles"`
		jwt.RegisteredClaims
	}
	if _, _, err := jwt.NewParser().ParseUnverified(fresh.AccessToken, &claims); err != nil || !slices.Equal(claims.Roles, []string{"ADMIN"}) {
		t.Errorf("roles claim = %v, %v, want [ADMIN]", claims.Roles, err)
	}
	if _, err := h.Svc.SetUserRoles(ctx, pa, pa.User.ID, nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "HasRole() after the revocation, same token", h.Svc.HasRole(ctx, principal(t, h, fresh), store.RoleAdmin), auth.CodeForbidden)
	// An administrator ends another user's sessions.
	n, err := h.Svc.RevokeUserSessions(ctx, pa, principal(t, h, bob).User.ID)
	if err != nil || n != 1 || authenticates(h, bob.AccessToken) {
		t.Errorf("RevokeUserSessions() = %d, %v; bob's token must stop working", n, err)
	}
}

// rolesReads counts the store's reads of one user's roles.
type rolesReads struct {
	store.Store
	n atomic.Int64
}

func (s *rolesReads) UserRoles(ctx context.Context, id string) ([]string, error) {
	s.n.Add(1)
	return s.Store.UserRoles(ctx, id)
}

func TestListUsersPages(t *testing.T) {
	st := &rolesReads{Store: memstore.New()}
	h := authtest.New(t, authtest.Options{Store: st})
	ctx := context.Background()
	for _, email := range []string{"a1@example.com", "a2@example.com", "b1@example.com"} {
		h.Register(t, email, authtest.NextPhone())
		h.Clock.Advance(time.Second)
	}
	a2, _ := st.UserByEmail(ctx, "a2@example.com")
	if err := st.SetUserRoles(ctx, a2.ID, []string{store.RoleAdmin}, h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	p, err := h.Svc.ListUsers(ctx, 2, "", "A")
	if err != nil || len(p.Users) != 2 || p.HasNextPage || p.TotalCount != 2 || p.Users[0].Email != "a1@example.com" {
		t.Fatalf("ListUsers(first 2, query A) = %+v, %v", p, err)
	}
	// The page's roles come with it, in one read, not one per user.
	if len(p.Roles) != 2 || len(p.Roles[0]) != 0 || !slices.Equal(p.Roles[1], []string{store.RoleAdmin}) || st.n.Load() != 0 {
		t.Errorf("ListUsers() roles = %v after %d reads of one user's roles, want [] and [ADMIN] after none", p.Roles, st.n.Load())
	}
	p, err = h.Svc.ListUsers(ctx, 2, "", "")
	if err != nil || len(p.Users) != 2 || !p.HasNextPage || p.TotalCount != 3 {
		t.Fatalf("ListUsers(first 2) = %+v, %v", p, err)
	}
	p, err = h.Svc.ListUsers(ctx, 2, p.Cursors[1], "")
	if err != nil || len(p.Users) != 1 || p.HasNextPage || p.Users[0].Email != "b1@example.com" || p.TotalCount != 3 {
		t.Fatalf("ListUsers(after the second) = %+v, %v", p, err)
	}
	_, err = h.Svc.ListUsers(ctx, 2, "not-a-cursor!", "")
	wantCode(t, "ListUsers(bad cursor)", err, auth.CodeBadUserInput)
	_, err = h.Svc.ListUsers(ctx, 0, "", "")
	wantCode(t, "ListUsers(first 0)", err, auth.CodeBadUserInput)
	if p, err := h.Svc.ListUsers(ctx, 1000, "", ""); err != nil || len(p.Users) != 3 {
		t.Errorf("ListUsers(first 1000) = %v, want capped, not refused", err)
	}
}

// TestEventsCleanAndBounded: a User-Agent of invalid UTF-8, or of 16 KB,
// is kept as at most 256 bytes of valid UTF-8 (PostgreSQL refuses invalid
// bytes, and would take the batch with it); a logout that ends nothing is
// not recorded (it is free to repeat); what an administrator does to a user
// is the user's event without the administrator's address, and an
// ADMIN_ACTION of the administrator's.
func TestEventsCleanAndBounded(t *testing.T) {
	agent := "Mozilla/5.0 \xff" + strings.Repeat("x", 16<<10)
	h := authtest.New(t, authtest.Options{})
	ctx := context.Background()
	ada := h.SignIn(t, "ada@example.com", authtest.NextPhone())
	root := h.SignIn(t, "root@example.com", authtest.NextPhone())
	pa, pr := principal(t, h, ada), principal(t, h, root)
	withAgent := authtest.WithRequest(ctx, "203.0.113.5", agent)
	for range 5 {
		if _, err := h.Svc.Logout(withAgent, pa, auth.LogoutOthers); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Svc.SetUserRoles(withAgent, pr, pa.User.ID, []string{store.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Svc.SetUserRoles(withAgent, pr, pa.User.ID, []string{store.RoleAdmin}); err != nil { // no change
		t.Fatal(err)
	}
	own := eventsOf(t, h, pa)
	for _, e := range own {
		if e.Type == auth.EventLogout {
			t.Errorf("a logout that ended nothing was recorded")
		}
		if e.Type == auth.EventRolesChanged && (e.IPAddress != "" || e.UserAgent != "") {
			t.Errorf("the user's ROLES_CHANGED shows the administrator's address or agent: %+v", e)
		}
	}
	if n := countType(own, auth.EventRolesChanged); n != 1 {
		t.Errorf("ROLES_CHANGED events = %d, want 1 (the second call changed nothing)", n)
	}
	admins := eventsOf(t, h, pr)
	if n := countType(admins, auth.EventAdminAction); n != 1 {
		t.Fatalf("the administrator's ADMIN_ACTION events = %d, want 1", n)
	}
	for _, e := range admins {
		if e.Type == auth.EventAdminAction && (len(e.UserAgent) > 256 || !utf8.ValidString(e.UserAgent) || e.IPAddress != "203.0.113.5") {
			t.Errorf("ADMIN_ACTION agent %d bytes (valid UTF-8 %v), address %q", len(e.UserAgent), utf8.ValidString(e.UserAgent), e.IPAddress)
		}
	}
}

func countType(events []auth.EventInfo, typ string) int {
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}
