package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/twostep/twostep/store"
)

// challengeColumns reads a challenge (scanChallenge); a challenge without
// a user has user_id NULL.
const challengeColumns = `id, token_hash, purpose, COALESCE(user_id, ''), phone, channel, verification_sid,
	attempts, max_attempts, created_at, expires_at, consumed_at`

// CreateChallenge inserts c and ends the other live challenges on its
// number, in one transaction.
func (db *DB) CreateChallenge(ctx context.Context, c *store.Challenge) error {
	return db.insertChallenge(ctx, "create challenge", c, true, "")
}

// QueueChallenge inserts c and its outbox item, in one transaction.
func (db *DB) QueueChallenge(ctx context.Context, c *store.Challenge, itemID string) error {
	return db.insertChallenge(ctx, "queue challenge", c, false, itemID)
}

func (db *DB) insertChallenge(ctx context.Context, op string, c *store.Challenge, endOthers bool, itemID string) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap(op, err)
	}
	defer tx.Rollback()
	if endOthers && c.Phone != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE challenges SET expires_at = $2
			WHERE phone = $1 AND consumed_at IS NULL AND expires_at > $2`, c.Phone, millis(c.CreatedAt)); err != nil {
			return db.wrap(op, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO challenges (id, token_hash, purpose, user_id, phone, channel,
			verification_sid, attempts, max_attempts, created_at, expires_at, consumed_at)
		VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6, $7, $8, $9, $10, $11, $12)`,
		c.ID, c.TokenHash, cmp.Or(c.Purpose, store.PurposeLogin), c.UserID, c.Phone, cmp.Or(c.Channel, "sms"),
		c.VerificationSID, c.Attempts, c.MaxAttempts, millis(c.CreatedAt), millis(c.ExpiresAt), nullMillis(c.ConsumedAt)); err != nil {
		return db.wrap(op, err)
	}
	if itemID != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (id, challenge_id, created_at, available_at)
			VALUES ($1, $2, $3, $3)`, itemID, c.ID, millis(c.CreatedAt)); err != nil {
			return db.wrap(op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return db.wrap(op, err)
	}
	return nil
}

// ChallengeByID returns the challenge with id, or store.ErrNotFound.
func (db *DB) ChallengeByID(ctx context.Context, id string) (*store.Challenge, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	c, err := scanChallenge(db.r.QueryRowContext(ctx, `SELECT `+challengeColumns+` FROM challenges WHERE id = $1`, id))
	if err != nil {
		return nil, db.wrap("challenge by id", err)
	}
	return c, nil
}

// SetChallengeSend records a live challenge's verification and channel.
func (db *DB) SetChallengeSend(ctx context.Context, id, sid, channel string, now time.Time) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	res, err := db.w.ExecContext(ctx, `UPDATE challenges SET verification_sid = $2, channel = $3
		WHERE id = $1 AND consumed_at IS NULL AND expires_at > $4`, id, sid, channel, millis(now))
	if err != nil {
		return db.wrap("set challenge send", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return db.wrap("set challenge send", err)
	} else if n == 0 {
		return db.wrap("set challenge send", store.ErrNotFound)
	}
	return nil
}

// LiveChallenges returns the unconsumed, unexpired challenges on phone.
func (db *DB) LiveChallenges(ctx context.Context, phone string, now time.Time) ([]*store.Challenge, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	rows, err := db.r.QueryContext(ctx, `SELECT `+challengeColumns+` FROM challenges
		WHERE phone = $1 AND consumed_at IS NULL AND expires_at > $2 ORDER BY created_at, id`, phone, millis(now))
	if err != nil {
		return nil, db.wrap("live challenges", err)
	}
	defer rows.Close()
	var out []*store.Challenge
	for rows.Next() {
		c, err := scanChallenge(rows)
		if err != nil {
			return nil, db.wrap("live challenges", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrap("live challenges", err)
	}
	return out, nil
}

// ChallengeByTokenHash returns the challenge with tokenHash in whatever
// state it is, or store.ErrNotFound.
func (db *DB) ChallengeByTokenHash(ctx context.Context, tokenHash []byte) (*store.Challenge, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	c, err := scanChallenge(db.stmts.challengeByTokenHash.QueryRowContext(ctx, tokenHash))
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
	c, err := scanChallenge(db.stmts.countChallengeAttempt.QueryRowContext(ctx, id, millis(now)))
	if err != nil {
		return nil, db.wrap("count challenge attempt", err)
	}
	return c, nil
}

// CompleteChallenge marks an unconsumed, unexpired challenge consumed and
// its user's phone verified, in one transaction. Of concurrent calls, the
// first UPDATE to commit wins; the others match no row and get
// store.ErrNotFound.
func (db *DB) CompleteChallenge(ctx context.Context, id string, now time.Time, sess *store.Session) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap("complete challenge", err)
	}
	defer tx.Rollback()

	userID, err := db.lockChallengeUser(ctx, tx, id)
	if err != nil {
		return db.wrap("complete challenge", err)
	}
	var phone string
	err = tx.QueryRowContext(ctx, `UPDATE challenges SET consumed_at = $2
		WHERE id = $1 AND purpose = 'login' AND user_id = $3 AND consumed_at IS NULL AND expires_at > $2
		RETURNING phone`, id, millis(now), userID).Scan(&phone)
	if errors.Is(err, sql.ErrNoRows) {
		return db.wrap("complete challenge", store.ErrNotFound)
	}
	if err != nil {
		return db.wrap("complete challenge", err)
	}
	var verified bool
	var current string
	if err := tx.QueryRowContext(ctx, `SELECT phone_verified, phone FROM users WHERE id = $1`, userID).Scan(&verified, &current); err != nil {
		return db.wrap("complete challenge", err)
	}
	if current != phone {
		// The account moved to another number since the code was sent.
		return db.wrap("complete challenge", store.ErrNotFound)
	}
	owner, err := claimPhone(ctx, tx, phone, userID, now)
	if err != nil {
		return db.wrap("complete challenge", err)
	}
	// An account that verified its number before ownership existed keeps
	// working, even if another one verified the same number first.
	if owner != userID && !verified {
		return db.wrap("complete challenge", store.ErrPhoneTaken)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET phone_verified = true, unconfirmed_expires_at = NULL, updated_at = $2 WHERE id = $1`,
		userID, millis(now)); err != nil {
		return db.wrap("complete challenge", err)
	}
	if sess != nil {
		if sess.UserID != userID {
			return db.wrap("complete challenge", fmt.Errorf("a session of user %q for a challenge of %q", sess.UserID, userID))
		}
		if err := insertSession(ctx, tx, sess); err != nil {
			return db.wrap("complete challenge", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return db.wrap("complete challenge", err)
	}
	return nil
}

// claimPhone makes userID the owner of phone inside tx, unless someone
// owns it already, and returns the owner either way. A concurrent claim of
// the same number waits for this one to commit (the primary key), then
// finds it taken.
func claimPhone(ctx context.Context, tx *sql.Tx, phone, userID string, now time.Time) (owner string, err error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO verified_phones (phone, user_id, verified_at) VALUES ($1, $2, $3)
		ON CONFLICT (phone) DO NOTHING`, phone, userID, millis(now)); err != nil {
		return "", err
	}
	err = tx.QueryRowContext(ctx, `SELECT user_id FROM verified_phones WHERE phone = $1`, phone).Scan(&owner)
	return owner, err
}

// lockChallengeUser returns the user of challenge id, having locked the
// user's row for the rest of tx (ErrNotFound: no such challenge, or a
// challenge of no user).
//
// Every transaction that changes a user's challenges and the user takes
// the user's row first, so that two of them (a sign-in completing while a
// new number is confirmed, a password reset or a deletion) wait for each
// other instead of deadlocking on PostgreSQL, each holding the row the
// other needs. FOR NO KEY UPDATE is the lock an UPDATE of the row takes:
// it does not hold back inserts that only refer to the user (sessions).
// SQLite has one writer, so its transactions never interleave.
func (db *DB) lockChallengeUser(ctx context.Context, tx *sql.Tx, id string) (string, error) {
	var userID sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT user_id FROM challenges WHERE id = $1`, id).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !userID.Valid {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", err
	}
	return userID.String, db.lockUser(ctx, tx, userID.String)
}

// lockUser locks the row of user id for the rest of tx (ErrNotFound: no
// such user). See lockChallengeUser.
func (db *DB) lockUser(ctx context.Context, tx *sql.Tx, id string) error {
	lock := ""
	if db.dialect.name == "postgres" {
		lock = " FOR NO KEY UPDATE"
	}
	var found string
	err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE id = $1`+lock, id).Scan(&found)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanChallenge(row scanner) (*store.Challenge, error) {
	var c store.Challenge
	var created, expires int64
	var consumed sql.NullInt64
	err := row.Scan(&c.ID, &c.TokenHash, &c.Purpose, &c.UserID, &c.Phone, &c.Channel, &c.VerificationSID,
		&c.Attempts, &c.MaxAttempts, &created, &expires, &consumed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.ExpiresAt, c.ConsumedAt = fromMillis(created), fromMillis(expires), fromNullMillis(consumed)
	return &c, nil
}
