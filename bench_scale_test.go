package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twostep/twostep/internal/bench"
	"github.com/twostep/twostep/store/storetest"
)

// TestBenchScale runs `twostep bench-scale` small, with this test binary
// as import-users and as the server, on SQLite and PostgreSQL: every
// figure is measured. The figures themselves come from the command run
// at full size (see the README).
func TestBenchScale(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envRunMain, "1")
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			if dialect == "postgres" {
				storetest.SkipWithoutPostgres(t)
			}
			var log strings.Builder
			res, err := bench.Scale(t.Context(), bench.ScaleOptions{
				Dialect: dialect, Postgres: os.Getenv("TEST_DATABASE_URL"), Users: []int{20, 300},
				Conns: 4, LoginConns: 2, Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond, Rounds: 2,
				Command: func(args ...string) *exec.Cmd { return exec.Command(self, args...) },
				Log:     &log,
			})
			if err != nil {
				t.Fatalf("Scale() = %v\n%s", err, log.String())
			}
			if len(res.Rows) != 2 {
				t.Fatalf("Scale() = %d rows, want 2", len(res.Rows))
			}
			for _, row := range res.Rows {
				if row.Import <= 0 || row.ImportPeakRSS <= 0 || row.ServerRSS <= 0 || row.ServerPeakRSS <= 0 ||
					row.Me.Requests == 0 || row.Me.P50 <= 0 || row.Login.Requests == 0 || row.Login.P99 <= 0 {
					t.Errorf("row %+v: a figure is missing", row)
				}
			}
			if !strings.Contains(log.String(), "imported 300, skipped 0 (email exists), refused 0, of 300 lines") {
				t.Errorf("log:\n%s\nwant the import's summary", log.String())
			}
			t.Logf("\n%s", res)
		})
	}
}
