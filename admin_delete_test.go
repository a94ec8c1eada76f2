package main

import (
	"strings"
	"testing"

	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
)

const deleteUserOp = `mutation($id: ID!) { deleteUser(input: {userId: $id}) { ok } }`

// TestAdminDeleteUser: support frees an email and a number that an account
// holds, through deleteUser or `twostep admin delete`: the account's
// tokens stop at once, the email and number can be registered again, and
// the deletion is in the audit trail. Only administrators may.
func TestAdminDeleteUser(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, dialect string) {
		srvs := servers(t, dialect, nil)
		a, b := srvs[0], srvs[len(srvs)-1]
		admin := a.SignIn(t, "root@example.com", apptest.NextPhone())
		adminCommand(t, a, "grant", "root@example.com")
		phone := apptest.NextPhone()
		squatter := a.SignIn(t, "ada@example.com", phone)
		id := a.Register(t, "bob@example.com", apptest.NextPhone()).ID
		var page struct {
			Edges []struct{ Node struct{ ID string } }
		}
		doAs(t, a, admin, usersOp, map[string]any{"query": "ada@"}).Decode(t, "users", &page)
		if len(page.Edges) != 1 {
			t.Fatalf("users(query: ada@) = %+v", page)
		}
		adaID := page.Edges[0].Node.ID

		if r := doAs(t, b, squatter, deleteUserOp, map[string]any{"id": id}); r.Code() != "FORBIDDEN" {
			t.Errorf("deleteUser by a user without the role = %s, want FORBIDDEN", r.Body)
		}
		if r := doAs(t, b, admin, deleteUserOp, map[string]any{"id": adaID}); r.Code() != "" || !r.Has(`"ok":true`) {
			t.Fatalf("deleteUser = %s", r.Body)
		}
		if r := doAs(t, a, squatter, gqltest.MeOp, nil); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("me of the deleted account = %s, want UNAUTHENTICATED", r.Body)
		}
		for _, bad := range []string{adaID, "not-an-id", "a\x00b"} {
			if r := doAs(t, b, admin, deleteUserOp, map[string]any{"id": bad}); r.Code() != "BAD_USER_INPUT" || !r.Has(`"field":"userId"`) {
				t.Errorf("deleteUser(%q) = %s, want BAD_USER_INPUT at userId", bad, r.Body)
			}
		}
		// The email and the number are free: their owner registers them.
		a.SignIn(t, "ada@example.com", phone)

		// The command line, for support before there is an administrator.
		if out := adminCommand(t, b, "delete", "Bob@Example.com"); !strings.Contains(out, "deleted") {
			t.Errorf("twostep admin delete said %q", out)
		}
		if r := doAs(t, a, admin, setRolesOp, map[string]any{"id": id, "roles": []string{}}); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("setUserRoles on the account deleted from the command line = %s, want BAD_USER_INPUT", r.Body)
		}
		var events struct {
			Edges []struct {
				Node struct{ Type, UserID, Detail string }
			}
		}
		doAs(t, a, admin, auditOp, nil).Decode(t, "auditEvents", &events)
		seen := map[string]string{}
		for _, e := range events.Edges {
			if e.Node.Type == "ACCOUNT_DELETED" {
				seen[e.Node.UserID] = e.Node.Detail
			}
		}
		if !strings.Contains(seen[adaID], "administrator") || !strings.Contains(seen[id], "command line") {
			t.Errorf("ACCOUNT_DELETED events = %v, want one by the administrator and one by the command line", seen)
		}
	})
}
