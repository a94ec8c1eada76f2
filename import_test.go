package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
)

// TestImportUsers: accounts imported with `twostep import-users` sign in
// through the server with their old password and code, their hash moves
// to BCRYPT_COST at that first login, a refused line fails the command,
// and a second run adds nothing; on SQLite and across PostgreSQL replicas.
func TestImportUsers(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, dialect string) {
		srvs := servers(t, dialect, map[string]string{"BCRYPT_COST": "5"})
		a, b := srvs[0], srvs[len(srvs)-1]
		h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		hash2y := "$2y$" + strings.TrimPrefix(string(h), "$2a$")
		adaPhone, bobPhone := apptest.NextPhone(), apptest.NextPhone()
		lines := []string{
			`{"email":"Ada@Example.com","phone":"` + adaPhone + `","password_hash":"` + string(h) + `","phone_verified":true,"created_at":"2019-03-04T05:06:07Z"}`,
			`{"email":"bob@example.com","phone":"` + bobPhone + `","password_hash":"` + hash2y + `"}`,
			`{"email":"eve@example.com","phone":"` + adaPhone + `","password_hash":"` + string(h) + `","phone_verified":true}`,
		}
		path := filepath.Join(t.TempDir(), "users.jsonl")
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"DATABASE_URL": a.Env["DATABASE_URL"]}
		args := []string{"import-users", "-env-file=", path}
		out, err := runWith(t.Context(), args, env)
		if err == nil || !strings.Contains(out, "line 3: refused: phone: another account has verified this number") ||
			!strings.Contains(out, "imported 2, skipped 0 (email exists), refused 1, of 3 lines") {
			t.Fatalf("import-users = %v:\n%s\nwant line 3 refused and 2 imported", err, out)
		}

		signedIn := b.Verify(t, a.Login(t, "ada@example.com").MFAToken, adaPhone)
		var me gqltest.User
		a.Do(t, gqltest.Op{Query: gqltest.MeOp, Bearer: signedIn.AccessToken}).Decode(t, "me", &me)
		if me.Email != "ada@example.com" || me.Phone != adaPhone || !me.PhoneVerified || !me.CreatedAt.Equal(time.Date(2019, 3, 4, 5, 6, 7, 0, time.UTC)) {
			t.Errorf("me of the imported user = %+v", me)
		}
		u, err := a.App.Store().UserByEmail(t.Context(), "ada@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if cost, _ := bcrypt.Cost([]byte(u.PasswordHash)); cost != 5 {
			t.Errorf("hash cost after the first login = %d, want BCRYPT_COST 5", cost)
		}
		b.Verify(t, b.Login(t, "bob@example.com").MFAToken, bobPhone) // $2y$, unverified until now

		out, err = runWith(t.Context(), args, env)
		if err == nil || !strings.Contains(out, "imported 0, skipped 2 (email exists), refused 1, of 3 lines") ||
			!strings.Contains(out, "line 1: skipped: an account with this email exists") {
			t.Errorf("import-users again = %v:\n%s\nwant nothing imported", err, out)
		}
	})
}
