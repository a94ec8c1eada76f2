package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// latencyLoad is load with many requests and the time of each answer: a
// closed loop over keep-alive connections, each cycling through reqs
// from its own starting point, while the server's VmRSS is sampled.
type latencyLoad struct {
	addr  string
	reqs  [][]byte // requests with an empty Host, which HTTP/1.1 allows
	want  []byte   // every answer's body must contain it
	conns int
}

type latencyResult struct {
	times     []time.Duration // of every answer in the measurement, sorted
	elapsed   time.Duration
	maxRSS    int64         // the server's largest VmRSS sampled, bytes
	serverCPU time.Duration // the server's CPU time during the measurement
}

func (r latencyResult) latency() Latency {
	l := Latency{Requests: len(r.times), PerSecond: float64(len(r.times)) / r.elapsed.Seconds()}
	if len(r.times) > 0 {
		l.CPU = r.serverCPU / time.Duration(len(r.times))
	}
	if len(r.times) > 0 {
		l.P50 = r.times[len(r.times)/2]
		l.P99 = r.times[len(r.times)*99/100]
	}
	return l
}

func (l Latency) String() string {
	return fmt.Sprintf("%6.0f req/s, median %7s, p99 %7s, server CPU %s a request", l.PerSecond, l.P50.Round(time.Microsecond), l.P99.Round(time.Microsecond), l.CPU)
}

func (l latencyLoad) run(ctx context.Context, warmup, d time.Duration, serverPID int) (latencyResult, error) {
	var (
		counting atomic.Bool
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		mu       sync.Mutex
		times    []time.Duration
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for c := range l.conns {
		wg.Go(func() {
			mine, err := l.conn(ctx, c, &counting)
			if err != nil && ctx.Err() == nil {
				errOnce.Do(func() { firstErr = err; cancel() })
			}
			mu.Lock()
			times = append(times, mine...)
			mu.Unlock()
		})
	}
	sleep := func(d time.Duration) {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	sleep(warmup)
	start, cpu0 := time.Now(), processCPU(serverPID)
	counting.Store(true)
	var maxRSS int64
	for end := start.Add(d); time.Now().Before(end) && ctx.Err() == nil; sleep(100 * time.Millisecond) {
		maxRSS = max(maxRSS, procStatus(serverPID, "VmRSS"))
	}
	counting.Store(false)
	elapsed, cpu := time.Since(start), processCPU(serverPID)-cpu0
	cancel()
	wg.Wait()
	if firstErr != nil {
		return latencyResult{}, firstErr
	}
	slices.Sort(times)
	return latencyResult{times: times, elapsed: elapsed, maxRSS: maxRSS, serverCPU: cpu}, nil
}

func (l latencyLoad) conn(ctx context.Context, c int, counting *atomic.Bool) ([]time.Duration, error) {
	conn, err := net.Dial("tcp", l.addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	br := bufio.NewReaderSize(conn, 16<<10)
	body := make([]byte, 0, 4<<10)
	var times []time.Duration
	for i := c * len(l.reqs) / max(l.conns, 1); ctx.Err() == nil; i++ {
		start := time.Now()
		if _, err := conn.Write(l.reqs[i%len(l.reqs)]); err != nil {
			return times, err
		}
		status, b, err := readResponse(br, body[:0])
		if err != nil {
			return times, err
		}
		took := time.Since(start)
		body = b
		if status != 200 || !bytes.Contains(body, l.want) {
			return times, fmt.Errorf("bench: answer %d %q, want 200 with %q", status, body, l.want)
		}
		if counting.Load() {
			times = append(times, took)
		}
	}
	return times, nil
}

// procStatus returns a memory field of /proc/PID/status (VmRSS, VmHWM)
// in bytes, or 0 where there is none.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(b int64) string { return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20)) }

// String is the table of a run, with each size's latency over the first
// size's.
func (r ScaleResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: me over %d connections, login over %d; latencies: medians of %d rounds\n", r.Dialect, r.Conns, r.LoginConns, r.Rounds)
	fmt.Fprintf(&b, "%9s %8s %10s %10s %10s  %-9s %-9s %-6s %-7s  %-9s %-9s %-6s %-7s\n", "users", "import", "import RSS",
		"RSS (me)", "server HWM", "me p50", "me p99", "me/s", "me CPU", "login p50", "login p99", "logn/s", "lgn CPU")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "%9d %8s %10s %10s %10s  %-9s %-9s %-6.0f %-7s  %-9s %-9s %-6.0f %-7s\n", row.Users,
			row.Import.Round(100*time.Millisecond), mib(row.ImportPeakRSS), mib(row.ServerRSS), mib(row.ServerPeakRSS),
			row.Me.P50.Round(time.Microsecond), row.Me.P99.Round(time.Microsecond), row.Me.PerSecond, row.Me.CPU,
			row.Login.P50.Round(time.Microsecond), row.Login.P99.Round(time.Microsecond), row.Login.PerSecond, row.Login.CPU)
	}
	if len(r.Rows) > 1 {
		base := r.Rows[0]
		for _, row := range r.Rows[1:] {
			fmt.Fprintf(&b, "%d users over %d: me p50 %.2fx p99 %.2fx CPU %.2fx, login p50 %.2fx p99 %.2fx CPU %.2fx\n", row.Users, base.Users,
				ratio(row.Me.P50, base.Me.P50), ratio(row.Me.P99, base.Me.P99), ratio(row.Me.CPU, base.Me.CPU),
				ratio(row.Login.P50, base.Login.P50), ratio(row.Login.P99, base.Login.P99), ratio(row.Login.CPU, base.Login.CPU))
		}
	}
	return b.String()
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
