package sqlstore

import (
	"context"
	"time"

	"github.com/twostep/twostep/store"
)

// chargeLockKey serialises Charge across replicas on PostgreSQL: sends are
// few (every one is an SMS), so one lock for all of them costs nothing that
// matters and spares row locks on counters that may not exist yet.
const chargeLockKey = 0x74776f73746571

// Charge adds one to every budget's counter if all have room, in one
// transaction; otherwise it changes nothing.
func (db *DB) Charge(ctx context.Context, budgets []store.Budget, now time.Time) (int, time.Time, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, time.Time{}, db.wrap("charge", err)
	}
	defer tx.Rollback()
	if db.dialect.name == "postgres" {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1), set_config('synchronous_commit', 'off', true)`, int64(chargeLockKey)); err != nil {
			return 0, time.Time{}, db.wrap("charge", err)
		}
	}
	keys := make([]any, len(budgets))
	for i, b := range budgets {
		keys[i] = b.Key
	}
	type state struct {
		count   int
		resetAt int64
	}
	current := make(map[string]state, len(budgets))
	rows, err := tx.QueryContext(ctx, `SELECT key, count, reset_at FROM counters WHERE key IN `+placeholders(1, len(keys)), keys...)
	if err != nil {
		return 0, time.Time{}, db.wrap("charge", err)
	}
	for rows.Next() {
		var k string
		var st state
		if err := rows.Scan(&k, &st.count, &st.resetAt); err != nil {
			rows.Close()
			return 0, time.Time{}, db.wrap("charge", err)
		}
		current[k] = st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, time.Time{}, db.wrap("charge", err)
	}
	for i, b := range budgets {
		if st, ok := current[b.Key]; ok && st.resetAt > millis(now) && st.count >= b.Max {
			return i, fromMillis(st.resetAt), nil
		}
	}
	var full int64 // the latest window end among the budgets this fills
	for _, b := range budgets {
		var count int
		var resetAt int64
		if err := tx.QueryRowContext(ctx, hitSQLite, b.Key, millis(now), millis(now.Add(b.Window))).Scan(&count, &resetAt); err != nil {
			return 0, time.Time{}, db.wrap("charge", err)
		}
		if count >= b.Max {
			full = max(full, resetAt)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, time.Time{}, db.wrap("charge", err)
	}
	if full == 0 {
		return -1, time.Time{}, nil
	}
	return -1, fromMillis(full), nil
}
