package main

import (
	"context"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/twostep/twostep/internal/bench"
)

// envRunMain makes this test binary run main's commands instead of tests,
// for TestBenchScale's children.
const envRunMain = "TWOSTEP_TEST_RUN_MAIN"

// TestMain lets BenchmarkLoopback run this test binary as its two servers,
// and TestBenchScale as twostep itself.
func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			os.Stderr.WriteString("twostep: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	if role := bench.ChildRole(os.Getenv); role != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := bench.Child(ctx, role, os.Getenv, os.Stdout)
		stop()
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// BenchmarkLoopback is `twostep bench` as a benchmark: me over loopback, 16
// keep-alive connections, twostep and a plain net/http handler doing the
// same token check and user lookup, each in its own process. It reports
// both servers' requests per second and their ratio (the README's goal:
// at least 0.9). Run it on its own:
//
//	go test -run '^$' -bench Loopback -benchtime 1x .
func BenchmarkLoopback(b *testing.B) {
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	var res bench.Result
	for b.Loop() {
		res, err = bench.Loopback(b.Context(), bench.Options{
			Duration: 3 * time.Second,
			Rounds:   5,
			Spawn:    func(string) *exec.Cmd { return exec.Command(self, "-test.run=^$") },
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%s", res)
	b.ReportMetric(res.Median(res.Plain), "plain-req/s")
	b.ReportMetric(res.Median(res.Twostep), "twostep-req/s")
	b.ReportMetric(res.Ratio(), "ratio")
}
