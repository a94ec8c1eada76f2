package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"time"

	"github.com/twostep/twostep/store"
)

// asyncCommit, joined into a PostgreSQL counter write, commits that
// statement's transaction without waiting for its WAL to reach disk
// (synchronous_commit off, for that transaction only). Counters are most of
// a login's writes, and the flush was most of each one's time. The write is
// still atomic and at once visible to every replica; a crash of PostgreSQL
// can lose only the last moments of counts (at most three times
// wal_writer_delay, 600ms by default), which briefly relaxes a rate limit.
// Users and challenges keep synchronous commits. SQLite needs no such thing:
// in WAL mode with synchronous=NORMAL a commit does not sync.
const asyncCommit = `(SELECT set_config('synchronous_commit', 'off', true)) AS async_commit`

// Hit's upsert, per dialect: only where the new row comes from differs.
const (
	hitSQLite   = `INSERT INTO counters (key, count, reset_at) VALUES ($1, 1, $3)` + hitConflict
	hitPostgres = `INSERT INTO counters (key, count, reset_at) SELECT $1, 1, $3 FROM ` + asyncCommit + hitConflict
	hitConflict = `
		ON CONFLICT (key) DO UPDATE SET
			count    = CASE WHEN counters.reset_at <= $2 THEN 1  ELSE counters.count + 1 END,
			reset_at = CASE WHEN counters.reset_at <= $2 THEN $3 ELSE counters.reset_at END
		RETURNING count, reset_at`
)

// Hit adds one to the fixed-window counter key and returns its state. One
// upsert does it, so concurrent hits each see a distinct count: a new key,
// or one whose window ended at or before now, starts over at 1 with a
// window ending at now+window.
func (db *DB) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (store.Counter, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	var count int
	var resetAt int64
	err := db.stmts.hit.QueryRowContext(ctx, key, millis(now), millis(now.Add(window))).Scan(&count, &resetAt)
	if err != nil {
		return store.Counter{}, db.wrap("hit", err)
	}
	return store.Counter{Count: count, ResetAt: fromMillis(resetAt)}, nil
}

// TakeAttempt decides and logs one attempt against key in one transaction.
// On PostgreSQL a transaction-scoped advisory lock on the key serialises
// the calls for one key across every replica; on SQLite the transaction's
// BEGIN IMMEDIATE already shuts out every other writer.
func (db *DB) TakeAttempt(ctx context.Context, key string, now, expires time.Time, allow func([]time.Time) error) (string, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return "", db.wrap("take attempt", err)
	}
	defer tx.Rollback()
	if db.dialect.lockKey != "" {
		if _, err := tx.ExecContext(ctx, db.dialect.lockKey, key); err != nil {
			return "", db.wrap("take attempt", err)
		}
	}
	taken, err := attemptTimes(ctx, tx, key, now)
	if err != nil {
		return "", db.wrap("take attempt", err)
	}
	if err := allow(taken); err != nil {
		return "", fmt.Errorf("sqlstore: take attempt: %w", err)
	}
	id := rand.Text()
	if _, err := tx.ExecContext(ctx, `INSERT INTO attempts (id, key, at, expires_at) VALUES ($1, $2, $3, $4)`,
		id, key, millis(now), millis(expires)); err != nil {
		return "", db.wrap("take attempt", err)
	}
	if err := tx.Commit(); err != nil {
		return "", db.wrap("take attempt", err)
	}
	return id, nil
}

func attemptTimes(ctx context.Context, tx *sql.Tx, key string, now time.Time) ([]time.Time, error) {
	rows, err := tx.QueryContext(ctx, `SELECT at FROM attempts WHERE key = $1 AND expires_at > $2 ORDER BY at, id`,
		key, millis(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var taken []time.Time
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			return nil, err
		}
		taken = append(taken, fromMillis(at))
	}
	return taken, rows.Err()
}

// ReleaseAttempt removes one attempt; a missing one is not an error.
func (db *DB) ReleaseAttempt(ctx context.Context, key, id string) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	if _, err := db.w.ExecContext(ctx, `DELETE FROM attempts WHERE key = $1 AND id = $2`, key, id); err != nil {
		return db.wrap("release attempt", err)
	}
	return nil
}

// ClearAttempts removes every attempt of key.
func (db *DB) ClearAttempts(ctx context.Context, key string) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	if _, err := db.w.ExecContext(ctx, `DELETE FROM attempts WHERE key = $1`, key); err != nil {
		return db.wrap("clear attempts", err)
	}
	return nil
}
