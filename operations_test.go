package main

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
)

const (
	usersOp       = `query($first: Int, $after: String, $query: String) { users(first: $first, after: $after, query: $query) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id email roles } } } }`
	auditOp       = `query($userId: ID, $after: String) { auditEvents(first: 100, userId: $userId, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id at type userId ipAddress userAgent detail } } } }`
	ownEventsOp   = `{ securityEvents(first: 100) { pageInfo { hasNextPage } edges { cursor node { type userId ipAddress userAgent detail } } } }`
	setRolesOp    = `mutation($id: ID!, $roles: [Role!]!) { setUserRoles(input: {userId: $id, roles: $roles}) { id roles } }`
	revokeUserOp  = `mutation($id: ID!) { revokeUserSessions(input: {userId: $id}) { revokedSessions } }`
	meWithRolesOp = `{ me { id roles } }`
)

// cursorOf makes a cursor the way twostep spells them, of any content.
func cursorOf(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// TestAdmin: the first administrator comes from the command line; @hasRole
// reads roles afresh (FORBIDDEN at once after a revocation, whatever the
// token says); users pages by cursor and searches; setUserRoles and
// revokeUserSessions, on SQLite and across PostgreSQL replicas.
func TestAdmin(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, dialect string) {
		srvs := servers(t, dialect, nil)
		a, b := srvs[0], srvs[len(srvs)-1]
		admin := a.SignIn(t, "root@example.com", apptest.NextPhone())
		bob := a.SignIn(t, "bob@example.com", apptest.NextPhone())
		if r := doAs(t, b, admin, usersOp, nil); r.Code() != "FORBIDDEN" {
			t.Fatalf("users without the role = %s, want FORBIDDEN", r.Body)
		}
		if r := doAs(t, b, "", usersOp, nil); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("users without a token = %s, want UNAUTHENTICATED", r.Body)
		}
		// A role that is not one, in a variable (the validator does not look
		// inside lists there): a coded refusal, not an internal error.
		for _, roles := range []any{[]string{"admin"}, "admin", []int{1}} {
			if r := doAs(t, b, admin, setRolesOp, map[string]any{"id": "x", "roles": roles}); r.Code() != "BAD_USER_INPUT" && r.Code() != "GRAPHQL_VALIDATION_FAILED" {
				t.Errorf("setUserRoles(roles: %v) = %s, want BAD_USER_INPUT or GRAPHQL_VALIDATION_FAILED", roles, r.Body)
			}
		}
		if out := adminCommand(t, a, "grant", "Root@Example.com"); !strings.Contains(out, "ADMIN") {
			t.Errorf("admin grant said %q", out)
		}
		if r := doAs(t, b, admin, meWithRolesOp, nil); !r.Has(`"roles":["ADMIN"]`) {
			t.Errorf("me { roles } after the grant = %s", r.Body)
		}
		// The command line records the change as the API would.
		if r := doAs(t, b, admin, auditOp, nil); !r.Has(`"type":"ROLES_CHANGED"`) || !r.Has(`roles now [ADMIN], set by the command line`) {
			t.Errorf("auditEvents after twostep admin grant = %s, want ROLES_CHANGED set by the command line", r.Body)
		}
		if out := adminCommand(t, a, "grant", "root@example.com"); !strings.Contains(out, "unchanged") {
			t.Errorf("admin grant a second time said %q, want roles unchanged", out)
		}
		var page struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   string
			}
			Edges []struct{ Node struct{ ID, Email string } }
		}
		doAs(t, b, admin, usersOp, map[string]any{"first": 1}).Decode(t, "users", &page)
		if page.TotalCount != 2 || len(page.Edges) != 1 || !page.PageInfo.HasNextPage || page.Edges[0].Node.Email != "root@example.com" {
			t.Fatalf("users(first: 1) = %+v", page)
		}
		doAs(t, a, admin, usersOp, map[string]any{"first": 1, "after": page.PageInfo.EndCursor}).Decode(t, "users", &page)
		if len(page.Edges) != 1 || page.PageInfo.HasNextPage || page.Edges[0].Node.Email != "bob@example.com" {
			t.Fatalf("users(after) = %+v", page)
		}
		bobID := page.Edges[0].Node.ID
		doAs(t, a, admin, usersOp, map[string]any{"query": "BOB"}).Decode(t, "users", &page)
		if page.TotalCount != 1 || page.Edges[0].Node.ID != bobID {
			t.Errorf("users(query: BOB) = %+v", page)
		}
		// Ids and cursors twostep did not make, down to a NUL (which
		// PostgreSQL refuses in text): coded answers, never internal errors.
		nul := "a\x00b"
		for _, c := range []struct {
			name, query string
			vars        map[string]any
			code, has   string
		}{
			{"users(query: NUL)", usersOp, map[string]any{"query": nul}, "", `"totalCount":0`},
			{"users(after: NUL id)", usersOp, map[string]any{"after": cursorOf("1.\x00")}, "BAD_USER_INPUT", `"field":"after"`},
			{"users(after: not a UUID)", usersOp, map[string]any{"after": cursorOf("1.x")}, "BAD_USER_INPUT", `"field":"after"`},
			{"auditEvents(userId: NUL)", auditOp, map[string]any{"userId": nul}, "", `"edges":[]`},
			{"auditEvents(userId: empty)", auditOp, map[string]any{"userId": ""}, "", `"edges":[]`},
			{"auditEvents(after: not UTF-8)", auditOp, map[string]any{"after": cursorOf("1.\xff")}, "BAD_USER_INPUT", `"field":"after"`},
			{"securityEvents(after: NUL id)", `query($after: String) { securityEvents(after: $after) { edges { cursor } } }`, map[string]any{"after": cursorOf("1.\x00")}, "BAD_USER_INPUT", `"field":"after"`},
			{"setUserRoles(userId: NUL)", setRolesOp, map[string]any{"id": nul, "roles": []string{}}, "BAD_USER_INPUT", `"field":"userId"`},
			{"revokeUserSessions(userId: NUL)", revokeUserOp, map[string]any{"id": nul}, "", `"revokedSessions":0`},
		} {
			if r := doAs(t, a, admin, c.query, c.vars); r.Code() != c.code || !r.Has(c.has) {
				t.Errorf("%s = %s, want code %q and %s", c.name, r.Body, c.code, c.has)
			}
		}
		if r := doAs(t, a, admin, revokeUserOp, map[string]any{"id": strings.ToUpper(bobID)}); !r.Has(`"revokedSessions":1`) {
			t.Errorf("revokeUserSessions = %s", r.Body)
		}
		if r := doAs(t, b, bob, gqltest.MeOp, nil); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("me of bob after revokeUserSessions = %s", r.Body)
		}
		if r := doAs(t, b, admin, setRolesOp, map[string]any{"id": bobID, "roles": []string{"ADMIN"}}); !r.Has(`"roles":["ADMIN"]`) {
			t.Errorf("setUserRoles = %s", r.Body)
		}
		// A page of users carries each one's roles (read with the page).
		if r := doAs(t, a, admin, usersOp, nil); strings.Count(r.Body, `"roles":["ADMIN"]`) != 2 || r.Code() != "" {
			t.Errorf("users { roles } with two administrators = %s", r.Body)
		}
		adminCommand(t, b, "revoke", "root@example.com")
		if r := doAs(t, a, admin, auditOp, nil); r.Code() != "FORBIDDEN" {
			t.Errorf("auditEvents after the revocation, same token = %s, want FORBIDDEN", r.Body)
		}
	})
}

// TestSecurityEventsOverHTTP: the events of a sign-in reach the person's
// securityEvents and an administrator's auditEvents, with the client's
// address and agent, and hold no secret.
func TestSecurityEventsOverHTTP(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, dialect string) {
		srvs := servers(t, dialect, nil)
		a, b := srvs[0], srvs[len(srvs)-1]
		phone := apptest.NextPhone()
		a.Register(t, "ada@example.com", phone)
		// An agent PostgreSQL would refuse as text (invalid UTF-8), and long:
		// the event is still recorded, cleaned and cut.
		a.Do(t, gqltest.Op{Query: gqltest.LoginOp, Variables: gqltest.LoginVars("ada@example.com", wrongPassword),
			Header: map[string]string{"User-Agent": "Odd/1.0 \xff" + strings.Repeat("x", 8000)}})
		l := a.Login(t, "ada@example.com")
		code := a.Code(t, phone)
		var auth gqltest.Auth
		b.Post(t, gqltest.VerifyOp, gqltest.VerifyVars(l.MFAToken, code)).Decode(t, "verifyOtp", &auth)
		// Events are written a moment after their request.
		var body string
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			body = a.Do(t, gqltest.Op{Query: ownEventsOp, Bearer: auth.AccessToken}).Body
			if strings.Contains(body, "SIGN_IN_COMPLETED") {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if strings.Contains(body, strings.Repeat("x", 300)) {
			t.Errorf("an event kept more than 256 bytes of a User-Agent")
		}
		for _, want := range []string{"USER_REGISTERED", "LOGIN_FAILED", "LOGIN_SUCCEEDED", "CODE_SENT", "SIGN_IN_COMPLETED", `"ipAddress":"127.0.0.1"`, `"userAgent":"Go-http-client`, `"userAgent":"Odd/1.0 x`} {
			if !strings.Contains(body, want) {
				t.Errorf("securityEvents lacks %s: %s", want, body)
			}
		}
		for _, secret := range []string{password, wrongPassword, code, l.MFAToken, auth.AccessToken, auth.RefreshToken, phone} {
			if strings.Contains(body, secret) {
				t.Errorf("securityEvents holds a secret or the full number: %s", secret)
			}
		}
		other := a.SignIn(t, "other@example.com", apptest.NextPhone())
		if r := a.Do(t, gqltest.Op{Query: ownEventsOp, Bearer: other}); strings.Contains(r.Body, auth.User.ID) {
			t.Errorf("another user's securityEvents shows ada's events")
		}
		adminCommand(t, a, "grant", "other@example.com")
		r := b.Do(t, gqltest.Op{Query: auditOp, Variables: map[string]any{"userId": auth.User.ID}, Bearer: other})
		if r.Code() != "" || !r.Has("SIGN_IN_COMPLETED") || r.Has("other@example.com") {
			t.Errorf("auditEvents(ada) = %s", r.Body)
		}
	})
}
