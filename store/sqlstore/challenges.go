package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/twostep/twostep/store"
)

const challengeColumns = `id, token_hash, user_id, phone, verification_sid, attempts, max_attempts, created_at, expires_at, consumed_at`

// CreateChallenge inserts c.
func (db *DB) CreateChallenge(ctx context.Context, c *store.Challenge) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	var consumed sql.NullInt64
	if !c.ConsumedAt.IsZero() {
		consumed = sql.NullInt64{Int64: millis(c.ConsumedAt), Valid: true}
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO challenges (`+challengeColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.ID, c.TokenHash, c.UserID, c.Phone, c.VerificationSID, c.Attempts, c.MaxAttempts,
		millis(c.CreatedAt), millis(c.ExpiresAt), consumed)
	if err != nil {
		return db.wrap("create challenge", err)
	}
	return nil
}

// ChallengeByTokenHash returns the challenge with tokenHash in whatever
// state it is, or store.ErrNotFound.
func (db *DB) ChallengeByTokenHash(ctx context.Context, tokenHash []byte) (*store.Challenge, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	c, err := scanChallenge(db.r.QueryRowContext(ctx,
		`SELECT `+challengeColumns+` FROM challenges WHERE token_hash = $1`, tokenHash))
	if err != nil {
		return nil, db.wrap("challenge by token hash", err)
	}
	return c, nil
}

// CountChallengeAttempt adds one attempt to a usable challenge and returns
// it as updated, or store.ErrNotFound. The check and the increment are one
// statement, so concurrent calls can never take Attempts past MaxAttempts.
func (db *DB) CountChallengeAttempt(ctx context.Context, id string, now time.Time) (*store.Challenge, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	c, err := scanChallenge(db.w.QueryRowContext(ctx, `UPDATE challenges SET attempts = attempts + 1
		WHERE id = $1 AND consumed_at IS NULL AND expires_at > $2 AND attempts < max_attempts
		RETURNING `+challengeColumns, id, millis(now)))
	if err != nil {
		return nil, db.wrap("count challenge attempt", err)
	}
	return c, nil
}

// CompleteChallenge marks an unconsumed, unexpired challenge consumed and
// its user's phone verified, in one transaction. Of concurrent calls, the
// first UPDATE to commit wins; the others match no row and get
// store.ErrNotFound.
func (db *DB) CompleteChallenge(ctx context.Context, id string, now time.Time) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap("complete challenge", err)
	}
	defer tx.Rollback()

	var userID string
	err = tx.QueryRowContext(ctx, `UPDATE challenges SET consumed_at = $2
		WHERE id = $1 AND consumed_at IS NULL AND expires_at > $2
		RETURNING user_id`, id, millis(now)).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return db.wrap("complete challenge", store.ErrNotFound)
	}
	if err != nil {
		return db.wrap("complete challenge", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET phone_verified = true, updated_at = $2 WHERE id = $1`,
		userID, millis(now)); err != nil {
		return db.wrap("complete challenge", err)
	}
	if err := tx.Commit(); err != nil {
		return db.wrap("complete challenge", err)
	}
	return nil
}

// DeleteChallenge removes a challenge; a missing one is not an error.
func (db *DB) DeleteChallenge(ctx context.Context, id string) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	if _, err := db.w.ExecContext(ctx, `DELETE FROM challenges WHERE id = $1`, id); err != nil {
		return db.wrap("delete challenge", err)
	}
	return nil
}

// DeleteExpired removes challenges and counters that expired before now, in
// one transaction, and returns how many rows went.
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

func scanChallenge(row *sql.Row) (*store.Challenge, error) {
	var c store.Challenge
	var created, expires int64
	var consumed sql.NullInt64
	err := row.Scan(&c.ID, &c.TokenHash, &c.UserID, &c.Phone, &c.VerificationSID, &c.Attempts, &c.MaxAttempts,
		&created, &expires, &consumed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.ExpiresAt = fromMillis(created), fromMillis(expires)
	if consumed.Valid {
		c.ConsumedAt = fromMillis(consumed.Int64)
	}
	return &c, nil
}
