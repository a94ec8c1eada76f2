package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/twostep/twostep/store"
)

// Hit adds one to the fixed-window counter key and returns its state. One
// upsert does it, so concurrent hits each see a distinct count: a new key,
// or one whose window ended at or before now, starts over at 1 with a
// window ending at now+window.
func (db *DB) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (store.Counter, error) {
	var count int
	var resetAt int64
	err := db.w.QueryRowContext(ctx, `INSERT INTO counters (key, count, reset_at) VALUES ($1, 1, $3)
		ON CONFLICT (key) DO UPDATE SET
			count    = CASE WHEN counters.reset_at <= $2 THEN 1  ELSE counters.count + 1 END,
			reset_at = CASE WHEN counters.reset_at <= $2 THEN $3 ELSE counters.reset_at END
		RETURNING count, reset_at`, key, millis(now), millis(now.Add(window))).Scan(&count, &resetAt)
	if err != nil {
		return store.Counter{}, db.wrap("hit", err)
	}
	return store.Counter{Count: count, ResetAt: fromMillis(resetAt)}, nil
}

// Peek returns a counter's state without adding to it; a missing counter or
// one whose window ended reads as zero.
func (db *DB) Peek(ctx context.Context, key string, now time.Time) (store.Counter, error) {
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
	if _, err := db.w.ExecContext(ctx, `DELETE FROM counters WHERE key = $1`, key); err != nil {
		return db.wrap("reset counter", err)
	}
	return nil
}
