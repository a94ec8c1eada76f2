// Package admin is `twostep admin`: granting and revoking the ADMIN role
// from the command line, where the first administrator comes from, and
// deleting an account (support, before there is an administrator).
package admin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/internal/config"
	"github.com/twostep/twostep/store"
	"github.com/twostep/twostep/store/sqlstore"
)

// Main runs `twostep admin [-env-file=PATH] grant|revoke|delete EMAIL`
// against DATABASE_URL (read from the environment and .env, like the
// server). It records a ROLES_CHANGED or ACCOUNT_DELETED security event, as
// the API does.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envFile := fs.String("env-file", ".env", "read variables the environment does not set from this `file`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: twostep admin [-env-file=PATH] grant EMAIL | revoke EMAIL | delete EMAIL")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 || !slices.Contains([]string{"grant", "revoke", "delete"}, fs.Arg(0)) {
		fs.Usage()
		return errors.New("admin: want grant EMAIL, revoke EMAIL or delete EMAIL")
	}
	email, err := input.Email(fs.Arg(1))
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "env-file" })
	getenv, _, err = config.WithDotenv(getenv, *envFile, explicit)
	if err != nil {
		return err
	}
	url := getenv("DATABASE_URL")
	if url == "" {
		// The server's default database, which must exist: an empty one
		// made here would only say "no account".
		if _, err := os.Stat(sqlstore.DefaultSQLitePath); err != nil {
			return errors.New("admin: DATABASE_URL is not set and there is no " + sqlstore.DefaultSQLitePath + " here: set DATABASE_URL to the server's database")
		}
	}
	db, err := sqlstore.Open(ctx, url, sqlstore.Options{})
	if err != nil {
		return fmt.Errorf("admin: DATABASE_URL: %w", err)
	}
	defer db.Close()
	u, err := db.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("admin: no account has the email %s", email)
	}
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	if fs.Arg(0) == "delete" {
		return deleteUser(ctx, db, u, stdout)
	}
	roles, err := db.UserRoles(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	had := slices.Contains(roles, store.RoleAdmin)
	switch {
	case fs.Arg(0) == "grant" && had, fs.Arg(0) == "revoke" && !had:
		fmt.Fprintf(stdout, "%s: roles unchanged %v\n", email, roles)
		return nil
	case fs.Arg(0) == "grant":
		roles = append(roles, store.RoleAdmin)
	default:
		roles = slices.DeleteFunc(roles, func(r string) bool { return r == store.RoleAdmin })
	}
	now := time.Now()
	if err := db.SetUserRoles(ctx, u.ID, roles, now); err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	slices.Sort(roles)
	if err := db.RecordEvents(ctx, []*store.Event{{
		ID: uuid.Must(uuid.NewV7()).String(), At: now, Type: auth.EventRolesChanged, UserID: u.ID,
		Detail: "roles now [" + strings.Join(roles, ", ") + "], set by the command line", // as auth words it
	}}); err != nil {
		return fmt.Errorf("admin: roles changed, but the security event was not recorded: %w", err)
	}
	fmt.Fprintf(stdout, "%s: roles now %v (takes effect at the next request)\n", email, roles)
	return nil
}

// deleteUser deletes u and everything that is theirs, as deleteAccount and
// the API's deleteUser do.
func deleteUser(ctx context.Context, db *sqlstore.DB, u *store.User, stdout io.Writer) error {
	if err := db.DeleteUser(ctx, u.ID); err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	if err := db.RecordEvents(ctx, []*store.Event{{
		ID: uuid.Must(uuid.NewV7()).String(), At: time.Now(), Type: auth.EventAccountDeleted, UserID: u.ID,
		Detail: "deleted by the command line",
	}}); err != nil {
		return fmt.Errorf("admin: account deleted, but the security event was not recorded: %w", err)
	}
	fmt.Fprintf(stdout, "%s: account %s deleted (its sessions end at once; the email and number are free)\n", u.Email, u.ID)
	return nil
}
