package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/twostep/twostep/store"
)

// importChunk bounds the rows of one statement: 8 parameters a user stays
// far below SQLite's 32766 and PostgreSQL's 65535 parameters.
const importChunk = 500

// ImportUsers inserts a batch of users in one transaction: it reads which
// emails exist and which numbers are owned, decides in Go (so earlier
// users of the batch count), then inserts the users and the ownership of
// their verified numbers with a few multi-row statements. Against a
// concurrent registration on PostgreSQL, the inserts still resolve
// conflicts in the database: ON CONFLICT on the email skips a user, and a
// number claimed in between takes its new user back out.
func (db *DB) ImportUsers(ctx context.Context, users []*store.User) ([]store.ImportResult, error) {
	res := make([]store.ImportResult, len(users))
	if len(users) == 0 {
		return res, nil
	}
	ctx, cancel := db.op(ctx)
	defer cancel()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, db.wrap("import users", err)
	}
	defer tx.Rollback()
	if err := importUsers(ctx, tx, db.dialect.name == "sqlite", users, res); err != nil {
		return nil, db.wrap("import users", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, db.wrap("import users", err)
	}
	return res, nil
}

// importUsers is ImportUsers inside tx: it decides what becomes of each of
// users, records it in res, and inserts the users and the numbers they
// own. anon makes the placeholders SQLite's anonymous "?": it looks up
// each "$N" in a list, which costs a statement of thousands of them
// quadratic time to prepare and to bind.
func importUsers(ctx context.Context, tx *sql.Tx, anon bool, users []*store.User, res []store.ImportResult) error {
	q := queries{tx: tx, anon: anon}
	emails := make([]any, len(users))
	for i, u := range users {
		emails[i] = u.Email
	}
	exists, err := q.selectIn(ctx, `SELECT email FROM users WHERE email IN `, emails)
	if err != nil {
		return err
	}
	var phones []any
	for _, u := range users {
		if !exists[u.Email] {
			phones = append(phones, u.Phone)
		}
	}
	owned, err := q.selectIn(ctx, `SELECT phone FROM verified_phones WHERE phone IN `, phones)
	if err != nil {
		return err
	}
	var insert, claim []int // indexes into users
	for i, u := range users {
		switch {
		case exists[u.Email]:
			res[i] = store.ImportEmailExists
		case owned[u.Phone]:
			res[i] = store.ImportPhoneTaken
		default:
			res[i] = store.ImportInserted
			exists[u.Email] = true
			insert = append(insert, i)
			if u.PhoneVerified {
				owned[u.Phone] = true
				claim = append(claim, i)
			}
		}
	}
	// In the order of the unique keys, so that concurrent imports on
	// PostgreSQL wait for each other rather than deadlock.
	slices.SortFunc(insert, func(a, b int) int { return strings.Compare(users[a].Email, users[b].Email) })
	slices.SortFunc(claim, func(a, b int) int { return strings.Compare(users[a].Phone, users[b].Phone) })
	inserted := map[string]bool{}
	err = q.insertChunks(ctx, insert, 8, `INSERT INTO users (`+userColumns+`) VALUES `,
		` ON CONFLICT (email) DO NOTHING RETURNING id`, func(i int) []any {
			u := users[i]
			return []any{u.ID, u.Email, u.PasswordHash, u.Phone, u.PhoneVerified, millis(u.CreatedAt), millis(u.UpdatedAt),
				nullMillis(u.UnconfirmedExpiresAt)}
		}, inserted)
	if err != nil {
		return err
	}
	for _, i := range insert {
		if !inserted[users[i].ID] {
			res[i] = store.ImportEmailExists // registered since the SELECT
		}
	}
	claim = slices.DeleteFunc(claim, func(i int) bool { return !inserted[users[i].ID] })
	claimed := map[string]bool{}
	err = q.insertChunks(ctx, claim, 3, `INSERT INTO verified_phones (phone, user_id, verified_at) VALUES `,
		` ON CONFLICT (phone) DO NOTHING RETURNING user_id`, func(i int) []any {
			u := users[i]
			return []any{u.Phone, u.ID, millis(u.UpdatedAt)}
		}, claimed)
	if err != nil {
		return err
	}
	var lost []any // verified since the SELECT by someone else
	for _, i := range claim {
		if !claimed[users[i].ID] {
			res[i] = store.ImportPhoneTaken
			lost = append(lost, users[i].ID)
		}
	}
	if len(lost) > 0 {
		if _, err := q.tx.ExecContext(ctx, `DELETE FROM users WHERE id IN `+q.placeholders(1, len(lost)), lost...); err != nil {
			return err
		}
	}
	return nil
}

// selectIn runs query, which ends in IN, over vals in chunks and returns
// the set of the one text column it selects.
func (q queries) selectIn(ctx context.Context, query string, vals []any) (map[string]bool, error) {
	found := map[string]bool{}
	for len(vals) > 0 {
		n := min(len(vals), importChunk*4)
		rows, err := q.tx.QueryContext(ctx, query+q.placeholders(1, n), vals[:n]...)
		if err != nil {
			return nil, err
		}
		if err := collect(rows, found); err != nil {
			return nil, err
		}
		vals = vals[n:]
	}
	return found, nil
}

// insertChunks inserts the rows of idx (each of width values from row)
// with multi-row statements, and adds what each RETURNING gives to got.
func (q queries) insertChunks(ctx context.Context, idx []int, width int, head, tail string, row func(int) []any, got map[string]bool) error {
	for len(idx) > 0 {
		n := min(len(idx), importChunk)
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, n*width)
		for k, i := range idx[:n] {
			if k > 0 {
				b.WriteString(", ")
			}
			b.WriteString(q.placeholders(len(args)+1, width))
			args = append(args, row(i)...)
		}
		b.WriteString(tail)
		rows, err := q.tx.QueryContext(ctx, b.String(), args...)
		if err != nil {
			return err
		}
		if err := collect(rows, got); err != nil {
			return err
		}
		idx = idx[n:]
	}
	return nil
}

func collect(rows *sql.Rows, into map[string]bool) error {
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		into[s] = true
	}
	return rows.Err()
}

// queries run the import's statements of many parameters in tx.
type queries struct {
	tx   *sql.Tx
	anon bool // "?" rather than "$N"
}

// placeholders returns "($from, …, $from+n-1)", or "(?, …)" with n of
// them.
func (q queries) placeholders(from, n int) string {
	if !q.anon {
		return placeholders(from, n)
	}
	marks := make([]string, n)
	for i := range marks {
		marks[i] = "?"
	}
	return "(" + strings.Join(marks, ", ") + ")"
}
