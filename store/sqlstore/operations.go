package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twostep/twostep/store"
)

// UserRoles returns the roles of userID, sorted.
func (db *DB) UserRoles(ctx context.Context, userID string) ([]string, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	rows, err := db.r.QueryContext(ctx, `SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role`, userID)
	if err != nil {
		return nil, db.wrap("user roles", err)
	}
	defer rows.Close()
	roles := []string{}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, db.wrap("user roles", err)
		}
		roles = append(roles, r)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrap("user roles", err)
	}
	return roles, nil
}

// RolesOf returns the roles of each of userIDs that has any, in one query.
func (db *DB) RolesOf(ctx context.Context, userIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(userIDs) == 0 {
		return out, nil
	}
	ctx, cancel := db.op(ctx)
	defer cancel()
	args := make([]any, len(userIDs))
	for i, id := range userIDs {
		args[i] = id
	}
	rows, err := db.r.QueryContext(ctx, `SELECT user_id, role FROM user_roles WHERE user_id IN `+placeholders(1, len(args))+`
		ORDER BY user_id, role`, args...)
	if err != nil {
		return nil, db.wrap("roles of", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, role string
		if err := rows.Scan(&id, &role); err != nil {
			return nil, db.wrap("roles of", err)
		}
		out[id] = append(out[id], role)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrap("roles of", err)
	}
	return out, nil
}

// SetUserRoles replaces the roles of userID in one transaction, having
// locked the user's row first (see lockChallengeUser): a deletion meanwhile
// is ErrNotFound, not a foreign key violation.
func (db *DB) SetUserRoles(ctx context.Context, userID string, roles []string, now time.Time) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap("set user roles", err)
	}
	defer tx.Rollback()
	if err := db.lockUser(ctx, tx, userID); err != nil {
		return db.wrap("set user roles", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_roles WHERE user_id = $1`, userID); err != nil {
		return db.wrap("set user roles", err)
	}
	for _, r := range roles {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_roles (user_id, role, granted_at) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, role) DO NOTHING`, userID, r, millis(now)); err != nil {
			return db.wrap("set user roles", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return db.wrap("set user roles", err)
	}
	return nil
}

// userFilter is the WHERE clause of ListUsers and CountUsers, its
// arguments numbered from n. A prefix compares the start of the email or
// of the phone, in characters (a scan: the administrators' search, not a
// hot path).
func userFilter(q store.UserQuery, n int) (string, []any) {
	if q.EmailPrefix == "" && q.PhonePrefix == "" {
		return "true", nil
	}
	var terms []string
	var args []any
	for _, c := range []struct{ column, prefix string }{{"email", q.EmailPrefix}, {"phone", q.PhonePrefix}} {
		if c.prefix == "" {
			continue
		}
		p, l := placeholder(n+len(args)), placeholder(n+len(args)+1)
		terms = append(terms, `substr(`+c.column+`, 1, `+l+`) = `+p)
		args = append(args, c.prefix, utf8.RuneCountInString(c.prefix))
	}
	return "(" + strings.Join(terms, " OR ") + ")", args
}

func placeholder(n int) string { return "$" + strconv.Itoa(n) }

// placeholders is "($from, …, $from+n-1)", for IN.
func placeholders(from, n int) string {
	marks := make([]string, n)
	for i := range marks {
		marks[i] = placeholder(from + i)
	}
	return "(" + strings.Join(marks, ", ") + ")"
}

// ListUsers lists users after the cursor, by creation then id.
func (db *DB) ListUsers(ctx context.Context, q store.UserQuery, after store.Cursor, limit int) ([]*store.User, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	where, args := userFilter(q, 4)
	rows, err := db.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users
		WHERE (created_at > $1 OR (created_at = $1 AND id > $2)) AND `+where+`
		ORDER BY created_at, id LIMIT $3`, append([]any{afterMillis(after), after.ID, limit}, args...)...)
	if err != nil {
		return nil, db.wrap("list users", err)
	}
	defer rows.Close()
	var out []*store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, db.wrap("list users", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrap("list users", err)
	}
	return out, nil
}

// afterMillis is the cursor's time, or before any row for the zero cursor.
func afterMillis(c store.Cursor) int64 {
	if c.At.IsZero() && c.ID == "" {
		return -1 << 62
	}
	return millis(c.At)
}

// CountUsers counts the users q matches.
func (db *DB) CountUsers(ctx context.Context, q store.UserQuery) (int, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	where, args := userFilter(q, 1)
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE `+where, args...).Scan(&n); err != nil {
		return 0, db.wrap("count users", err)
	}
	return n, nil
}

// RecordEvents inserts events with one statement, which is atomic on its
// own, skipping duplicates of a DedupKey.
func (db *DB) RecordEvents(ctx context.Context, events []*store.Event) error {
	if len(events) == 0 {
		return nil
	}
	ctx, cancel := db.op(ctx)
	defer cancel()
	var b strings.Builder
	b.WriteString(`INSERT INTO security_events (id, at, type, user_id, ip_address, user_agent, detail, dedup_key) VALUES `)
	args := make([]any, 0, 8*len(events))
	for i, e := range events {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(placeholders(len(args)+1, 8))
		args = append(args, e.ID, millis(e.At), e.Type, nullIfEmpty(e.UserID), e.IPAddress, e.UserAgent, e.Detail, nullIfEmpty(e.DedupKey))
	}
	b.WriteString(` ON CONFLICT DO NOTHING`)
	if _, err := db.w.ExecContext(ctx, b.String(), args...); err != nil {
		return db.wrap("record events", err)
	}
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const eventColumns = `id, at, type, COALESCE(user_id, ''), ip_address, user_agent, detail, COALESCE(dedup_key, '')`

// ListEvents lists events newest first, before the cursor.
func (db *DB) ListEvents(ctx context.Context, userID string, before store.Cursor, limit int) ([]*store.Event, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	at, id := int64(1<<62), ""
	if !before.At.IsZero() || before.ID != "" {
		at, id = millis(before.At), before.ID
	}
	q := `SELECT ` + eventColumns + ` FROM security_events WHERE (at < $1 OR (at = $1 AND id < $2))`
	args := []any{at, id, limit}
	if userID != "" {
		q += ` AND user_id = $4`
		args = append(args, userID)
	}
	rows, err := db.r.QueryContext(ctx, q+` ORDER BY at DESC, id DESC LIMIT $3`, args...)
	if err != nil {
		return nil, db.wrap("list events", err)
	}
	defer rows.Close()
	var out []*store.Event
	for rows.Next() {
		var e store.Event
		var ms int64
		if err := rows.Scan(&e.ID, &ms, &e.Type, &e.UserID, &e.IPAddress, &e.UserAgent, &e.Detail, &e.DedupKey); err != nil {
			return nil, db.wrap("list events", err)
		}
		e.At = fromMillis(ms)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrap("list events", err)
	}
	return out, nil
}

// DeleteEventsBefore removes events older than t.
func (db *DB) DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	res, err := db.w.ExecContext(ctx, `DELETE FROM security_events WHERE at < $1`, millis(t))
	if err != nil {
		return 0, db.wrap("delete events", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, db.wrap("delete events", err)
	}
	return n, nil
}
