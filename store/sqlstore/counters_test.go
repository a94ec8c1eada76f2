package sqlstore

import (
	"testing"
	"time"

	"github.com/twostep/twostep/store/storetest"
)

// TestPostgresCounterCommitsStaySynchronous checks that the asynchronous
// commit of limit writes (counters and attempts) ends with their own transaction: the pool's
// connections go on to write users and challenges, which must stay durable.
func TestPostgresCounterCommitsStaySynchronous(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	// One connection, so the query below runs where the writes ran.
	db, err := Open(t.Context(), storetest.NewPostgres(t), Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	defer db.Close()
	now := time.Now()
	if _, err := db.Hit(t.Context(), "k", time.Minute, now); err != nil {
		t.Fatalf("Hit() = %v", err)
	}
	if _, err := db.TakeAttempt(t.Context(), "k", now, now.Add(time.Hour), func([]time.Time) error { return nil }); err != nil {
		t.Fatalf("TakeAttempt() = %v", err)
	}
	var got string
	if err := db.w.QueryRowContext(t.Context(), "SHOW synchronous_commit").Scan(&got); err != nil || got != "on" {
		t.Errorf("synchronous_commit after Hit and TakeAttempt = %q, %v, want on", got, err)
	}
}
