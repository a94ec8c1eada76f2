package auth_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
)

// signIn completes a login and returns its result.
func signIn(t *testing.T, h *authtest.Env, email string) *auth.AuthResult {
	t.Helper()
	phone := authtest.NextPhone()
	return h.SignIn(t, email, phone)
}

func refresh(h *authtest.Env, token string) (*auth.AuthResult, error) {
	return h.Svc.Refresh(context.Background(), auth.RefreshInput{RefreshToken: token})
}

func authenticates(h *authtest.Env, access string) bool {
	_, err := h.Svc.Authenticate(context.Background(), access)
	return err == nil
}

func TestRefreshRotates(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	first := signIn(t, h, "ada@example.com")
	if first.RefreshToken == "" || first.SessionID == "" || !strings.HasPrefix(first.RefreshToken, first.SessionID+".") {
		t.Fatalf("VerifyOTP() = %+v, want a refresh token of its session", first)
	}
	h.Clock.Advance(time.Minute)
	second, err := refresh(h, first.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh(first) = %v", err)
	}
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken || second.SessionID != first.SessionID ||
		second.User == nil || second.User.ID != first.User.ID {
		t.Fatalf("Refresh() = %+v, want a new pair for the same session", second)
	}
	if !authenticates(h, second.AccessToken) {
		t.Errorf("the refreshed access token does not authenticate")
	}
	// The previous token within the reuse interval: the current pair,
	// nothing revoked.
	h.Clock.Advance(5 * time.Second)
	again, err := refresh(h, first.RefreshToken)
	if err != nil || again.RefreshToken != second.RefreshToken {
		t.Fatalf("Refresh(previous, within 10s) = %+v, %v, want the current refresh token %q", again, err, second.RefreshToken)
	}
	third, err := refresh(h, second.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh(current) after the tolerated reuse = %v", err)
	}
	// The previous token after the interval: theft. The session ends, its
	// access tokens with it.
	h.Clock.Advance(11 * time.Second)
	_, err = refresh(h, second.RefreshToken)
	wantCode(t, "Refresh(previous, after the interval)", err, auth.CodeRefreshTokenInvalid)
	if _, err := refresh(h, third.RefreshToken); err == nil {
		t.Errorf("Refresh(current) after reuse was detected = nil error, want the session revoked")
	}
	if authenticates(h, third.AccessToken) {
		t.Errorf("an access token of the revoked session still authenticates")
	}
}

func TestRefreshOlderTokenRevokes(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	r0 := signIn(t, h, "ada@example.com")
	r1, _ := refresh(h, r0.RefreshToken)
	r2, _ := refresh(h, r1.RefreshToken)
	_, err := refresh(h, r0.RefreshToken) // two behind, at once
	wantCode(t, "Refresh(two behind)", err, auth.CodeRefreshTokenInvalid)
	if _, err := refresh(h, r2.RefreshToken); err == nil {
		t.Errorf("Refresh(current) after an older token came back = nil error, want the session revoked")
	}
}

func TestRefreshForgedOrForeign(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	r := signIn(t, h, "ada@example.com")
	parts := strings.Split(r.RefreshToken, ".")
	for name, tok := range map[string]string{
		"empty":           "",
		"garbage":         "not a token",
		"wrong mac":       parts[0] + "." + parts[1] + "." + strings.Repeat("A", 43),
		"next counter":    parts[0] + ".1." + parts[2],
		"unknown session": "0190a0d0-0000-7000-8000-0000000000ff." + parts[1] + "." + parts[2],
		"too long":        r.RefreshToken + strings.Repeat("x", 300),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := refresh(h, tok)
			wantCode(t, "Refresh("+name+")", err, auth.CodeRefreshTokenInvalid)
		})
	}
	// Forgeries revoke nothing: the real token still works.
	if _, err := refresh(h, r.RefreshToken); err != nil {
		t.Fatalf("Refresh(real) after forgeries = %v", err)
	}
}

// TestRefreshConcurrent: many refreshes with one token at once revoke
// nothing, and each success returns a working pair.
func TestRefreshConcurrent(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	r := signIn(t, h, "ada@example.com")
	const n = 20
	results := make([]*auth.AuthResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = refresh(h, r.RefreshToken) })
	}
	wg.Wait()
	var next string
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("concurrent Refresh #%d = %v", i, errs[i])
		}
		if next == "" {
			next = results[i].RefreshToken
		}
		if results[i].RefreshToken != next || !authenticates(h, results[i].AccessToken) {
			t.Fatalf("concurrent Refresh #%d = %+v, want the one next refresh token and a working access token", i, results[i])
		}
	}
	if _, err := refresh(h, next); err != nil {
		t.Fatalf("Refresh(next) = %v", err)
	}
}

func TestSessionLifetimes(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		h := authtest.New(t, authtest.Options{SessionIdle: time.Hour, SessionMaxAge: 24 * time.Hour})
		r := signIn(t, h, "ada@example.com")
		if want := authtest.Start.Add(time.Hour); !r.RefreshExpiresAt.Equal(want) {
			t.Errorf("RefreshExpiresAt = %v, want %v (the idle end)", r.RefreshExpiresAt, want)
		}
		h.Clock.Advance(59 * time.Minute)
		r, err := refresh(h, r.RefreshToken)
		if err != nil {
			t.Fatalf("Refresh() before the idle end = %v", err)
		}
		h.Clock.Advance(time.Hour)
		_, err = refresh(h, r.RefreshToken)
		wantCode(t, "Refresh() after an idle hour", err, auth.CodeRefreshTokenInvalid)
	})
	t.Run("absolute", func(t *testing.T) {
		h := authtest.New(t, authtest.Options{SessionIdle: time.Hour, SessionMaxAge: 3 * time.Hour})
		r := signIn(t, h, "ada@example.com")
		var err error
		for range 5 { // refreshed every 50 minutes, never idle
			h.Clock.Advance(50 * time.Minute)
			var next *auth.AuthResult
			if next, err = refresh(h, r.RefreshToken); err != nil {
				break
			}
			r = next
			if end := authtest.Start.Add(3 * time.Hour); r.RefreshExpiresAt.After(end) {
				t.Fatalf("RefreshExpiresAt %v is past the session's end %v", r.RefreshExpiresAt, end)
			}
		}
		wantCode(t, "Refresh() past the session's maximum age", err, auth.CodeRefreshTokenInvalid)
		if authenticates(h, r.AccessToken) {
			t.Errorf("an access token of an ended session still authenticates")
		}
	})
}

func TestLogoutScopes(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.PhoneCooldown = 0 })})
	phone := authtest.NextPhone()
	h.Register(t, "ada@example.com", phone)
	sessions := make([]*auth.AuthResult, 4)
	for i := range sessions {
		l := h.Login(t, "ada@example.com")
		res, err := h.Svc.VerifyOTP(context.Background(), auth.VerifyInput{MFAToken: l.MFAToken, Code: h.Code(t, phone), UserAgent: "agent"})
		if err != nil {
			t.Fatal(err)
		}
		sessions[i] = res
		h.Clock.Advance(time.Minute)
	}
	principal := func(r *auth.AuthResult) *auth.Principal {
		p, err := h.Svc.Authenticate(context.Background(), r.AccessToken)
		if err != nil {
			t.Fatalf("Authenticate() = %v", err)
		}
		return p
	}
	list, err := h.Svc.Sessions(context.Background(), principal(sessions[1]))
	if err != nil || len(list) != 4 || list[0].ID != sessions[3].SessionID || !list[2].Current || list[0].Current || list[0].UserAgent != "agent" {
		t.Fatalf("Sessions() = %+v, %v, want 4 newest first, the second oldest current", list, err)
	}
	p := principal(sessions[0])
	if n, err := h.Svc.Logout(context.Background(), p, auth.LogoutCurrent); err != nil || n != 1 {
		t.Fatalf("Logout(CURRENT) = %d, %v, want 1", n, err)
	}
	if authenticates(h, sessions[0].AccessToken) {
		t.Errorf("the logged-out session's access token still authenticates")
	}
	p = principal(sessions[1])
	if n, err := h.Svc.Logout(context.Background(), p, auth.LogoutOthers); err != nil || n != 2 {
		t.Fatalf("Logout(OTHERS) = %d, %v, want 2", n, err)
	}
	if !authenticates(h, sessions[1].AccessToken) || authenticates(h, sessions[2].AccessToken) {
		t.Errorf("after Logout(OTHERS) the current session must work and the others not")
	}
	if n, err := h.Svc.Logout(context.Background(), p, auth.LogoutAll); err != nil || n != 1 {
		t.Fatalf("Logout(ALL) = %d, %v, want 1", n, err)
	}
	if _, err := refresh(h, sessions[1].RefreshToken); err == nil {
		t.Errorf("Refresh() after Logout(ALL) = nil error")
	}
}

func TestRevokeSession(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	ada := signIn(t, h, "ada@example.com")
	bob := signIn(t, h, "bob@example.com")
	p, _ := h.Svc.Authenticate(context.Background(), ada.AccessToken)
	for name, id := range map[string]string{"another user's": bob.SessionID, "not an id": "x", "unknown": "0190a0d0-0000-7000-8000-0000000000ff"} {
		if n, err := h.Svc.RevokeSession(context.Background(), p, id); err != nil || n != 0 {
			t.Errorf("RevokeSession(%s) = %d, %v, want 0", name, n, err)
		}
	}
	if !authenticates(h, bob.AccessToken) {
		t.Fatalf("bob's session was revoked by ada")
	}
	if n, err := h.Svc.RevokeSession(context.Background(), p, ada.SessionID); err != nil || n != 1 {
		t.Errorf("RevokeSession(own) = %d, %v, want 1", n, err)
	}
}

// TestAccessTokenSession: an access token passes only with a live session
// of its own user; a token from before sessions (no sid) passes until it
// expires, and logs out nothing.
func TestAccessTokenSession(t *testing.T) {
	h := authtest.New(t, authtest.Options{})
	ada := signIn(t, h, "ada@example.com")
	bob := signIn(t, h, "bob@example.com")
	pa, _ := h.Svc.Authenticate(context.Background(), ada.AccessToken)
	// ada's user id with bob's session.
	crossed, _, err := h.Tokens.Issue(pa.User.ID, bob.SessionID, []string{"pwd", "sms", "mfa"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if authenticates(h, crossed) {
		t.Errorf("a token whose sid is another user's session authenticates")
	}
	legacy, _, err := h.Tokens.Issue(pa.User.ID, "", []string{"pwd", "sms", "mfa"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.Svc.Authenticate(context.Background(), legacy)
	if err != nil || p.SessionID != "" {
		t.Fatalf("Authenticate(token without sid) = %+v, %v, want the user without a session", p, err)
	}
	if n, err := h.Svc.Logout(context.Background(), p, auth.LogoutAll); err != nil || n != 0 {
		t.Errorf("Logout(ALL) with a token without sid = %d, %v, want 0", n, err)
	}
	if !authenticates(h, ada.AccessToken) {
		t.Errorf("ada's session ended through a token without sid")
	}
	h.Clock.Advance(time.Hour + time.Minute)
	if authenticates(h, legacy) {
		t.Errorf("a token without sid authenticates after it expired")
	}
	// One made since sessions began (by whoever holds JWT_SECRET) is
	// refused: it could not be logged out.
	minted, _, err := h.Tokens.Issue(pa.User.ID, "", []string{"pwd", "sms", "mfa"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if authenticates(h, minted) {
		t.Errorf("a token without sid issued after sessions began authenticates")
	}
}

func TestRefreshPerIP(t *testing.T) {
	h := authtest.New(t, authtest.Options{Limits: limits(func(l *auth.Limits) { l.RefreshPerIP = auth.Limit{Max: 2, Window: time.Minute} })})
	tok := signIn(t, h, "ada@example.com").RefreshToken
	for i := range 2 {
		res, err := h.Svc.Refresh(context.Background(), auth.RefreshInput{RefreshToken: tok, ClientIP: "198.51.100.7"})
		if err != nil {
			t.Fatalf("Refresh() #%d = %v", i+1, err)
		}
		tok = res.RefreshToken
	}
	_, err := h.Svc.Refresh(context.Background(), auth.RefreshInput{RefreshToken: tok, ClientIP: "198.51.100.7"})
	if e := wantCode(t, "Refresh() past LIMIT_REFRESH_PER_IP", err, auth.CodeRateLimited); e != nil && e.RetryAfter <= 0 {
		t.Errorf("RetryAfter = %v, want > 0", e.RetryAfter)
	}
	if _, err := h.Svc.Refresh(context.Background(), auth.RefreshInput{RefreshToken: tok, ClientIP: "203.0.113.9"}); err != nil {
		t.Errorf("Refresh() from another address = %v; the refused one must not have spent the token", err)
	}
}
