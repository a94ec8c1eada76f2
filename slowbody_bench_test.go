package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/store/storetest"
)

// BenchmarkSlowBodies measures what half-sent bodies cost the logins of
// everyone else. Over loopback, logins (unknown emails, so each is one
// bcrypt compare at the default cost) run in a closed loop, first alone and
// then while as many connections as there are cores hold a request whose
// headers arrived and whose body never completes (reopened as the server
// drops them). The goal is slow/alone ≥ 0.8: a body counts as work only
// once it has arrived, so trickling bodies cannot shrink the hash limiter.
//
//	go test -run '^$' -bench SlowBodies -benchtime 1x .
func BenchmarkSlowBodies(b *testing.B) {
	const phase = 4 * time.Second
	srv := apptest.Start(b, apptest.Options{Env: map[string]string{
		"DATABASE_URL":                storetest.NewSQLite(b),
		"BCRYPT_COST":                 fmt.Sprint(auth.DefaultBcryptCost),
		"LOG_LEVEL":                   "error",
		"LIMIT_LOGIN_PER_IP":          "0",
		"LIMIT_ACCOUNT_FREE_FAILURES": "1000",
	}})
	procs := runtime.GOMAXPROCS(0)
	var seq atomic.Int64
	loginsPerSecond := func() float64 {
		var done atomic.Int64
		deadline := time.Now().Add(phase)
		var wg sync.WaitGroup
		for range 2 * procs {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					email := fmt.Sprintf("nobody%d@example.com", seq.Add(1))
					r, err := srv.Client.Try(b.Context(), gqltest.Op{Query: gqltest.LoginOp, Variables: gqltest.LoginVars(email, "wrong password")})
					if err == nil && r.Code() == "INVALID_CREDENTIALS" {
						done.Add(1)
					}
				}
			})
		}
		wg.Wait()
		return float64(done.Load()) / phase.Seconds()
	}
	// holdSlowBodies keeps n connections each in the middle of a body
	// until stop is closed.
	holdSlowBodies := func(n int, stop <-chan struct{}) *sync.WaitGroup {
		var wg sync.WaitGroup
		addr := strings.TrimPrefix(srv.URL, "http://")
		for range n {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					c, err := net.Dial("tcp", addr)
					if err != nil {
						return
					}
					fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{\"query\":\"", addr)
					go func() { <-stop; c.Close() }()
					// The server gives up on the body and answers; then
					// a fresh one starts.
					_, _ = io.Copy(io.Discard, bufio.NewReader(c))
					c.Close()
				}
			})
		}
		return &wg
	}
	var alone, slow float64
	for b.Loop() {
		alone = loginsPerSecond()
		stop := make(chan struct{})
		held := holdSlowBodies(procs, stop)
		time.Sleep(200 * time.Millisecond)
		slow = loginsPerSecond()
		close(stop)
		held.Wait()
	}
	b.ReportMetric(alone, "logins/s-alone")
	b.ReportMetric(slow, "logins/s-slow-bodies")
	b.ReportMetric(slow/alone, "slow/alone")
}
