package sqlstore

import (
	"context"
	"database/sql"
	"errors"
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

// ResetCounter's delete, per dialect.
const (
	resetSQLite   = `DELETE FROM counters WHERE key = $1`
	resetPostgres = `DELETE FROM counters USING ` + asyncCommit + ` WHERE key = $1`
)

// Hit adds one to the fixed-window counter key and returns its state. One
// upsert does it, so concurrent hits each see a distinct count: a new key,
// or one whose window ended at or before now, starts over at 1 with a
// window ending at now+window.
func (db *DB) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (store.Counter, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	q := hitSQLite
	if db.dialect.name == "postgres" {
		q = hitPostgres
	}
	var count int
	var resetAt int64
	err := db.w.QueryRowContext(ctx, q, key, millis(now), millis(now.Add(window))).Scan(&count, &resetAt)
	if err != nil {
		return store.Counter{}, db.wrap("hit", err)
	}
	return store.Counter{Count: count, ResetAt: fromMillis(resetAt)}, nil
}

// Peek returns a counter's state without adding to it; a missing counter or
// one whose window ended reads as zero.
func (db *DB) Peek(ctx context.Context, key string, now time.Time) (store.Counter, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	var count int
	var resetAt int64
	err := db.r.QueryRowContext(ctx, `SELECT count, reset_at FROM counters WHERE key = $1 AND reset_at > $2`,
		key, millis(now)).Scan(&count, &resetAt)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Counter{}, nil
	}
	if err != nil {
		return store.Counter{}, db.wrap("peek", err)
	}
	return store.Counter{Count: count, ResetAt: fromMillis(resetAt)}, nil
}

// ResetCounter deletes the counter key; a missing one is not an error.
func (db *DB) ResetCounter(ctx context.Context, key string) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	q := resetSQLite
	if db.dialect.name == "postgres" {
		q = resetPostgres
	}
	if _, err := db.w.ExecContext(ctx, q, key); err != nil {
		return db.wrap("reset counter", err)
	}
	return nil
}
