package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// stmts are the statements of the hot paths (me, login, verifyOtp),
// prepared once per pool instead of on every call: SQLite would otherwise
// compile each one again every time. database/sql prepares a Stmt on each
// connection it runs on and keeps it there.
type stmts struct {
	userByID, userByEmail, userBySession *sql.Stmt // readers
	challengeByTokenHash                 *sql.Stmt
	hit, countChallengeAttempt           *sql.Stmt // writer
}

func (db *DB) prepare(ctx context.Context) error {
	hit := hitSQLite
	if db.dialect.name == "postgres" {
		hit = hitPostgres
	}
	for _, s := range []struct {
		dst  **sql.Stmt
		pool *sql.DB
		sql  string
	}{
		{&db.stmts.userByID, db.r, `SELECT ` + userColumns + ` FROM users WHERE id = $1`},
		{&db.stmts.userByEmail, db.r, `SELECT ` + userColumns + ` FROM users WHERE email = $1`},
		{&db.stmts.userBySession, db.r, userBySessionSQL},
		{&db.stmts.challengeByTokenHash, db.r, `SELECT ` + challengeColumns + ` FROM challenges WHERE token_hash = $1`},
		{&db.stmts.hit, db.w, hit},
		{&db.stmts.countChallengeAttempt, db.w, `UPDATE challenges SET attempts = attempts + 1
			WHERE id = $1 AND consumed_at IS NULL AND expires_at > $2 AND attempts < max_attempts
			RETURNING ` + challengeColumns},
	} {
		st, err := s.pool.PrepareContext(ctx, s.sql)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		*s.dst = st
	}
	return nil
}

func (s *stmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.userByID, s.userByEmail, s.userBySession, s.challengeByTokenHash, s.hit, s.countChallengeAttempt} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// DeleteExpired removes challenges (their queued sends go with them),
// counters, attempts and sessions that expired (or, for sessions, were
// revoked) before now, in one transaction, and returns how many rows went.
func (db *DB) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, db.wrap("delete expired", err)
	}
	defer tx.Rollback()
	var total int64
	for _, q := range []string{
		`DELETE FROM challenges WHERE expires_at < $1`,
		`DELETE FROM counters WHERE reset_at < $1`,
		`DELETE FROM attempts WHERE expires_at < $1`,
		`DELETE FROM sessions WHERE expires_at < $1 OR idle_expires_at < $1 OR revoked_at < $1`,
	} {
		res, err := tx.ExecContext(ctx, q, millis(now))
		if err != nil {
			return 0, db.wrap("delete expired", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, db.wrap("delete expired", err)
		}
		total += n
	}
	if err := tx.Commit(); err != nil {
		return 0, db.wrap("delete expired", err)
	}
	return total, nil
}
