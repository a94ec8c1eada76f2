package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/twostep/twostep/store"
)

// SetPassword replaces a user's hash, ends the user's live challenges (a
// login begun with the old password) and revokes their sessions but
// keepSession, in one transaction.
func (db *DB) SetPassword(ctx context.Context, userID, hash string, now time.Time, keepSession string) (int, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, db.wrap("set password", err)
	}
	defer tx.Rollback()
	n, err := resetPassword(ctx, tx, userID, hash, now, keepSession)
	if err != nil {
		return 0, db.wrap("set password", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, db.wrap("set password", err)
	}
	return n, nil
}

// resetPassword is SetPassword inside tx.
func resetPassword(ctx context.Context, tx *sql.Tx, userID, hash string, now time.Time, keepSession string) (int, error) {
	res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1`,
		userID, hash, millis(now))
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, err
	} else if n == 0 {
		return 0, store.ErrNotFound
	}
	if err := endUserChallenges(ctx, tx, userID, now); err != nil {
		return 0, err
	}
	res, err = tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $2
		WHERE user_id = $1 AND id <> $3 AND `+liveSession("$2"), userID, millis(now), keepSession)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// endUserChallenges ends, at now, the live challenges of userID inside tx:
// codes sent before a new password or number are no good after it.
func endUserChallenges(ctx context.Context, tx *sql.Tx, userID string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE challenges SET expires_at = $2
		WHERE user_id = $1 AND consumed_at IS NULL AND expires_at > $2`, userID, millis(now))
	return err
}

// CompleteReset consumes a reset challenge and sets its user's password,
// revoking every session, in one transaction.
func (db *DB) CompleteReset(ctx context.Context, id, hash string, now time.Time) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap("complete reset", err)
	}
	defer tx.Rollback()
	userID, err := db.lockChallengeUser(ctx, tx, id)
	if err != nil {
		return db.wrap("complete reset", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE challenges SET consumed_at = $2
		WHERE id = $1 AND purpose = 'reset' AND user_id = $3 AND consumed_at IS NULL AND expires_at > $2
			AND phone = (SELECT phone FROM users WHERE users.id = challenges.user_id)`, id, millis(now), userID)
	if err == nil {
		err = oneRow(res)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return db.wrap("complete reset", store.ErrNotFound)
	}
	if err != nil {
		return db.wrap("complete reset", err)
	}
	if _, err := resetPassword(ctx, tx, userID, hash, now, ""); err != nil {
		return db.wrap("complete reset", err)
	}
	if err := tx.Commit(); err != nil {
		return db.wrap("complete reset", err)
	}
	return nil
}

// CompletePhoneChange consumes a phone-change challenge and moves its user
// to the new number, in one transaction.
func (db *DB) CompletePhoneChange(ctx context.Context, id string, now time.Time) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap("complete phone change", err)
	}
	defer tx.Rollback()
	userID, err := db.lockChallengeUser(ctx, tx, id)
	if err != nil {
		return db.wrap("complete phone change", err)
	}
	var phone string
	err = tx.QueryRowContext(ctx, `UPDATE challenges SET consumed_at = $2
		WHERE id = $1 AND purpose = 'phone' AND user_id = $3 AND consumed_at IS NULL AND expires_at > $2
		RETURNING phone`, id, millis(now), userID).Scan(&phone)
	if errors.Is(err, sql.ErrNoRows) {
		return db.wrap("complete phone change", store.ErrNotFound)
	}
	if err != nil {
		return db.wrap("complete phone change", err)
	}
	// Unlike CompleteChallenge, there is no grandfathered owner here:
	// another owner always wins.
	owner, err := claimPhone(ctx, tx, phone, userID, now)
	if err != nil {
		return db.wrap("complete phone change", err)
	}
	if owner != userID {
		return db.wrap("complete phone change", store.ErrPhoneTaken)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM verified_phones WHERE user_id = $1 AND phone <> $2`, userID, phone); err != nil {
		return db.wrap("complete phone change", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET phone = $2, phone_verified = true, unconfirmed_expires_at = NULL, updated_at = $3 WHERE id = $1`,
		userID, phone, millis(now)); err != nil {
		return db.wrap("complete phone change", err)
	}
	// Codes sent to the old number (a login, a reset) are no good now.
	if err := endUserChallenges(ctx, tx, userID, now); err != nil {
		return db.wrap("complete phone change", err)
	}
	if err := tx.Commit(); err != nil {
		return db.wrap("complete phone change", err)
	}
	return nil
}

// DeleteUser deletes a user and what is theirs, in one transaction. The
// foreign keys would cascade, but a cascade runs with the user's row locked
// FOR UPDATE: against a CreateChallenge that has ended one of the user's
// challenges and then inserts one referring to the user, that deadlocks on
// PostgreSQL. Deleting the rows first, under lockUser's weaker lock, lets
// it finish.
func (db *DB) DeleteUser(ctx context.Context, id string) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap("delete user", err)
	}
	defer tx.Rollback()
	if err := db.lockUser(ctx, tx, id); err != nil {
		return db.wrap("delete user", err)
	}
	for _, q := range []string{
		`DELETE FROM sessions WHERE user_id = $1`,
		`DELETE FROM outbox WHERE challenge_id IN (SELECT id FROM challenges WHERE user_id = $1)`,
		`DELETE FROM challenges WHERE user_id = $1`,
		`DELETE FROM verified_phones WHERE user_id = $1`,
		`DELETE FROM user_roles WHERE user_id = $1`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return db.wrap("delete user", err)
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, id)
	if err != nil {
		return db.wrap("delete user", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return db.wrap("delete user", err)
	} else if n == 0 {
		return db.wrap("delete user", store.ErrNotFound)
	}
	if err := tx.Commit(); err != nil {
		return db.wrap("delete user", err)
	}
	return nil
}

// DeleteUnconfirmedUsers deletes up to limit users whose number is not
// confirmed and whose time is up, the earliest first, in one statement; the
// foreign keys take what is theirs. The outer conditions are checked again
// on a row a confirmation locked meanwhile (PostgreSQL), so it stays.
func (db *DB) DeleteUnconfirmedUsers(ctx context.Context, now time.Time, limit int) ([]string, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	rows, err := db.w.QueryContext(ctx, `DELETE FROM users
		WHERE id IN (SELECT id FROM users WHERE unconfirmed_expires_at < $1 AND phone_verified = false
			ORDER BY unconfirmed_expires_at LIMIT $2)
		AND unconfirmed_expires_at < $1 AND phone_verified = false
		RETURNING id`, millis(now), limit)
	if err != nil {
		return nil, db.wrap("delete unconfirmed users", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, db.wrap("delete unconfirmed users", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrap("delete unconfirmed users", err)
	}
	return ids, nil
}

// ClaimOutbox claims the oldest claimable items in one statement. On
// PostgreSQL, SKIP LOCKED lets concurrent claims take different rows
// rather than wait; SQLite has one writer, so claims are serial anyway.
func (db *DB) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxItem, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	lock := ""
	if db.dialect.name == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := db.w.QueryContext(ctx, `UPDATE outbox SET available_at = $2, tries = tries + 1
		WHERE id IN (SELECT id FROM outbox WHERE available_at <= $1 ORDER BY available_at, id LIMIT $3`+lock+`)
		RETURNING id, challenge_id, tries, created_at`, millis(now), millis(now.Add(lease)), limit)
	if err != nil {
		return nil, db.wrap("claim outbox", err)
	}
	defer rows.Close()
	var out []store.OutboxItem
	for rows.Next() {
		var it store.OutboxItem
		var created int64
		if err := rows.Scan(&it.ID, &it.ChallengeID, &it.Tries, &created); err != nil {
			return nil, db.wrap("claim outbox", err)
		}
		it.CreatedAt = fromMillis(created)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrap("claim outbox", err)
	}
	return out, nil
}

// DeleteOutbox removes an item.
func (db *DB) DeleteOutbox(ctx context.Context, id string) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	if _, err := db.w.ExecContext(ctx, `DELETE FROM outbox WHERE id = $1`, id); err != nil {
		return db.wrap("delete outbox", err)
	}
	return nil
}

// oneRow turns an update of no row into sql.ErrNoRows.
func oneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		err = sql.ErrNoRows
	}
	return err
}
