package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/twostep/twostep/store"
)

const sessionColumns = `id, user_id, secret, counter, rotated_at, amr, user_agent, ip_address,
	created_at, last_used_at, idle_expires_at, expires_at, revoked_at`

// liveSession is the condition of a session that can be used at $now.
func liveSession(now string) string {
	return `revoked_at IS NULL AND expires_at > ` + now + ` AND idle_expires_at > ` + now
}

// CreateSession inserts s.
func (db *DB) CreateSession(ctx context.Context, s *store.Session) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	err := insertSession(ctx, db.w, s)
	if db.dialect.foreignKey(err) {
		return db.wrap("create session", store.ErrNotFound) // the user was deleted meanwhile
	}
	if err != nil {
		return db.wrap("create session", err)
	}
	return nil
}

// insertSession inserts s through e (the writer, or a transaction).
func insertSession(ctx context.Context, e execer, s *store.Session) error {
	_, err := e.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		s.ID, s.UserID, s.Secret, s.Counter, millis(s.RotatedAt), s.AMR, s.UserAgent, s.IPAddress,
		millis(s.CreatedAt), millis(s.LastUsedAt), millis(s.IdleExpiresAt), millis(s.ExpiresAt), nullMillis(s.RevokedAt))
	return err
}

// SessionByID returns the session with id, or store.ErrNotFound.
func (db *DB) SessionByID(ctx context.Context, id string) (*store.Session, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	s, err := scanSession(db.r.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id))
	if err != nil {
		return nil, db.wrap("session by id", err)
	}
	return s, nil
}

// RotateSession moves a live session's counter from from to from+1 in one
// conditional statement.
func (db *DB) RotateSession(ctx context.Context, id string, from int64, now, idleExpires time.Time, ip string) (*store.Session, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	s, err := scanSession(db.w.QueryRowContext(ctx, `UPDATE sessions
		SET counter = counter + 1, rotated_at = $3, last_used_at = $3, idle_expires_at = $4,
			ip_address = COALESCE(NULLIF($5, ''), ip_address)
		WHERE id = $1 AND counter = $2 AND `+liveSession("$3")+`
		RETURNING `+sessionColumns, id, from, millis(now), millis(idleExpires), ip))
	if err != nil {
		return nil, db.wrap("rotate session", err)
	}
	return s, nil
}

// RevokeSessions revokes the live sessions of userID that match.
func (db *DB) RevokeSessions(ctx context.Context, userID string, m store.SessionMatch, now time.Time) (int, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	q := `UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND ` + liveSession("$2")
	args := []any{userID, millis(now)}
	if m.ID != "" {
		q += ` AND id = $3`
		args = append(args, m.ID)
	} else if m.Except != "" {
		q += ` AND id <> $3`
		args = append(args, m.Except)
	}
	res, err := db.w.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, db.wrap("revoke sessions", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, db.wrap("revoke sessions", err)
	}
	return int(n), nil
}

// UserSessions returns the live sessions of userID, newest first.
func (db *DB) UserSessions(ctx context.Context, userID string, now time.Time) ([]*store.Session, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	rows, err := db.r.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 AND `+liveSession("$2")+` ORDER BY created_at DESC, id DESC`, userID, millis(now))
	if err != nil {
		return nil, db.wrap("user sessions", err)
	}
	defer rows.Close()
	var out []*store.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, db.wrap("user sessions", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrap("user sessions", err)
	}
	return out, nil
}

// userBySessionSQL is the one query of an authenticated request: the user,
// if the session is theirs and live.
const userBySessionSQL = `SELECT u.id, u.email, u.password_hash, u.phone, u.phone_verified, u.created_at, u.updated_at,
	u.unconfirmed_expires_at
	FROM sessions s JOIN users u ON u.id = s.user_id
	WHERE s.id = $2 AND s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $3 AND s.idle_expires_at > $3`

// UserBySession returns the user of a live session, or store.ErrNotFound.
func (db *DB) UserBySession(ctx context.Context, userID, sessionID string, now time.Time) (*store.User, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	u, err := scanUser(db.stmts.userBySession.QueryRowContext(ctx, userID, sessionID, millis(now)))
	if err != nil {
		return nil, db.wrap("user by session", err)
	}
	return u, nil
}

func scanSession(row scanner) (*store.Session, error) {
	var s store.Session
	var rotated, created, used, idle, expires int64
	var revoked sql.NullInt64
	err := row.Scan(&s.ID, &s.UserID, &s.Secret, &s.Counter, &rotated, &s.AMR, &s.UserAgent, &s.IPAddress,
		&created, &used, &idle, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	s.RotatedAt, s.CreatedAt, s.LastUsedAt = fromMillis(rotated), fromMillis(created), fromMillis(used)
	s.IdleExpiresAt, s.ExpiresAt, s.RevokedAt = fromMillis(idle), fromMillis(expires), fromNullMillis(revoked)
	return &s, nil
}

// nullMillis and fromNullMillis are millis and fromMillis for a time that
// may be unset: the zero time is NULL.
func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: millis(t), Valid: true}
}

func fromNullMillis(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return fromMillis(ms.Int64)
}

// execer is what insertSession needs of a *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}
