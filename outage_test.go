package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/twostep/twostep/internal/apptest"
	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/store/storetest"
)

// TestOutage puts a proxy between the server and PostgreSQL and breaks it
// three ways. While it is broken /readyz must fail and every operation must
// answer within the request timeout; once it is mended the same process
// must serve again, and a login started before the outage must complete.
func TestOutage(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	t.Parallel()
	dbURL := storetest.NewPostgres(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := storetest.NewProxy(t, u.Host)
	const requestTimeout = 5 * time.Second
	srv := apptest.Start(t, apptest.Options{Env: map[string]string{
		"DATABASE_URL":         p.URL(dbURL),
		"DB_CONNECT_TIMEOUT":   "1s",
		"DB_STATEMENT_TIMEOUT": "1s",
		"REQUEST_TIMEOUT":      requestTimeout.String(),
	}})

	tests := []struct {
		name  string
		fault func()
		// codes a request may fail with, and how soon it must.
		codes  []string
		within time.Duration
	}{
		// New connections are refused at once.
		{"PostgreSQL down", p.Cut, []string{"SERVICE_UNAVAILABLE"}, requestTimeout},
		// New connections hang: DB_CONNECT_TIMEOUT ends them before the
		// request timeout does.
		{"PostgreSQL hangs", p.Stall, []string{"SERVICE_UNAVAILABLE"}, requestTimeout},
		// Pooled connections go silent too: the store's own bound on a
		// call (connect + statement timeout + 1s) ends them before the
		// request timeout does.
		{"network drops everything", p.Freeze, []string{"SERVICE_UNAVAILABLE"}, requestTimeout},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			email := fmt.Sprintf("outage%d@example.com", i)
			phone := apptest.NextPhone()
			user := srv.Register(t, email, phone)
			token := srv.Verify(t, srv.Login(t, email).MFAToken, phone).AccessToken
			pending := srv.Login(t, email)
			code := srv.Code(t, phone)
			if got := readyz(t, srv); got != http.StatusOK {
				t.Fatalf("GET /readyz before the outage = %d, want 200", got)
			}

			tt.fault()
			probes := []struct {
				name string
				op   gqltest.Op
			}{
				{"register", gqltest.Op{Query: gqltest.RegisterOp, Variables: gqltest.RegisterVars(fmt.Sprintf("new%d@example.com", i), password, apptest.NextPhone())}},
				{"login", gqltest.Op{Query: gqltest.LoginOp, Variables: gqltest.LoginVars(email, password)}},
				{"verifyOtp", gqltest.Op{Query: gqltest.VerifyOp, Variables: gqltest.VerifyVars(pending.MFAToken, code)}},
				{"me", gqltest.Op{Query: gqltest.MeOp, Bearer: token}},
			}
			ctx, cancel := context.WithTimeout(t.Context(), 2*tt.within)
			defer cancel()
			var wg sync.WaitGroup
			errs := make([]error, len(probes))
			ready := make(chan probeResult, 1)
			readyReq := srv.Client.NewRequest(t, http.MethodGet, "/readyz", nil).WithContext(ctx)
			wg.Go(func() { ready <- timed(srv.Client, readyReq) })
			for j, pr := range probes {
				wg.Go(func() {
					start := time.Now()
					r, err := srv.Client.Try(ctx, pr.op)
					took := time.Since(start)
					switch {
					case err != nil:
						errs[j] = fmt.Errorf("%s during the outage: %w after %v", pr.name, err, took)
					case !slices.Contains(tt.codes, r.Code()) || took > tt.within:
						errs[j] = fmt.Errorf("%s during the outage = %s (HTTP %d) after %v, want one of %v within %v", pr.name, r.Body, r.Status, took, tt.codes, tt.within)
					default:
						t.Logf("%s during the outage: %s (HTTP %d) after %v", pr.name, r.Code(), r.Status, took)
						assertNoInternals(t, r)
					}
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			if rr := <-ready; rr.err != nil || rr.status != http.StatusServiceUnavailable || rr.took > tt.within {
				t.Errorf("GET /readyz during the outage = %d, %v after %v, want 503 within %v", rr.status, rr.err, rr.took, tt.within)
			}

			p.Restore()
			if got := readyz(t, srv); got != http.StatusOK {
				t.Fatalf("GET /readyz after the outage = %d, want 200", got)
			}
			// The challenge survived, and the refused attempt was not counted.
			attempts := fmt.Sprintf("SELECT attempts FROM challenges WHERE user_id = '%s' AND consumed_at IS NULL", user.ID)
			if got := storetest.QueryPostgres(t, dbURL, attempts); !slices.Equal(got, []int64{0}) {
				t.Errorf("attempts on the challenge pending through the outage = %v, want [0]", got)
			}
			var a gqltest.Auth
			srv.Post(t, gqltest.VerifyOp, gqltest.VerifyVars(pending.MFAToken, code)).Decode(t, "verifyOtp", &a)
			var me gqltest.User
			if srv.Do(t, gqltest.Op{Query: gqltest.MeOp, Bearer: a.AccessToken}).Decode(t, "me", &me); me.ID != user.ID {
				t.Errorf("me after the outage = %+v, want user %s", me, user.ID)
			}
			srv.Register(t, fmt.Sprintf("after%d@example.com", i), apptest.NextPhone())
		})
	}
}

// TestDatabaseSettingsFromEnvironment checks that the DB_* variables reach
// the connection pool: each assertion fails with the default value.
// (TestOutage's "PostgreSQL hangs" does the same for DB_CONNECT_TIMEOUT.)
func TestDatabaseSettingsFromEnvironment(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	t.Parallel()
	start := func(t *testing.T, settings map[string]string) (*apptest.Server, string) {
		t.Helper()
		dbURL := storetest.NewPostgres(t)
		env := map[string]string{"DATABASE_URL": dbURL, "REQUEST_TIMEOUT": "20s"}
		maps.Copy(env, settings)
		return apptest.Start(t, apptest.Options{Env: env}), dbURL
	}

	t.Run("pool size and statement timeout", func(t *testing.T) {
		srv, dbURL := start(t, map[string]string{
			"DB_MAX_OPEN_CONNS":    "2",
			"DB_MAX_IDLE_CONNS":    "1",
			"DB_STATEMENT_TIMEOUT": "500ms",
		})
		srv.Register(t, "pool@example.com", apptest.NextPhone())

		// Six logins wait on a locked table: two at a time, as many as
		// DB_MAX_OPEN_CONNS allows, and each for DB_STATEMENT_TIMEOUT.
		unlock := lockTable(t, dbURL, "counters")
		stop := sampleConns(t, dbURL)
		begin := time.Now()
		resps := across(t, []*apptest.Server{srv}, 6, gqltest.LoginOp, sameVars(gqltest.LoginVars("pool@example.com", password)))
		took := time.Since(begin)
		peak := stop()
		unlock()
		if got := codeCounts(resps); got["SERVICE_UNAVAILABLE"] != 6 {
			t.Errorf("logins with the counters table locked = %v, want 6 SERVICE_UNAVAILABLE", got)
		}
		if took > 5*time.Second {
			t.Errorf("logins with the counters table locked took %v, want about 3 × DB_STATEMENT_TIMEOUT (500ms)", took)
		}
		if peak != 2 {
			t.Errorf("connections under load peaked at %d, want DB_MAX_OPEN_CONNS = 2", peak)
		}

		// Once idle, the pool keeps DB_MAX_IDLE_CONNS.
		var pids []int64
		deadline := time.Now().Add(3 * time.Second)
		for {
			pids = serverPIDs(t, dbURL)
			if len(pids) == 1 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(pids) != 1 {
			t.Errorf("idle connections = %v, want DB_MAX_IDLE_CONNS = 1", pids)
		}
	})

	t.Run("connection lifetime", func(t *testing.T) {
		srv, dbURL := start(t, map[string]string{"DB_CONN_MAX_LIFETIME": "1s"})
		if got := readyz(t, srv); got != http.StatusOK {
			t.Fatalf("GET /readyz = %d, want 200", got)
		}
		before := serverPIDs(t, dbURL)
		time.Sleep(1500 * time.Millisecond)
		if got := readyz(t, srv); got != http.StatusOK {
			t.Fatalf("GET /readyz = %d, want 200", got)
		}
		// A connection past its lifetime is closed when next taken; its
		// backend goes a moment later.
		var after []int64
		deadline := time.Now().Add(3 * time.Second)
		for {
			after = serverPIDs(t, dbURL)
			if !slices.ContainsFunc(before, func(pid int64) bool { return slices.Contains(after, pid) }) || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(before) == 0 || slices.ContainsFunc(before, func(pid int64) bool { return slices.Contains(after, pid) }) {
			t.Errorf("connections %v, then %v after DB_CONN_MAX_LIFETIME = 1s, want every one replaced", before, after)
		}
	})
}

type probeResult struct {
	status int
	took   time.Duration
	err    error
}

// timed sends req with c and says how long the answer took; for other
// goroutines than the test's.
func timed(c *gqltest.Client, req *http.Request) probeResult {
	start := time.Now()
	status, _, _, err := c.TryRoundTrip(req)
	return probeResult{status: status, took: time.Since(start), err: err}
}

// lockTable takes an exclusive lock on table in dbURL, so every statement
// on it waits, until unlock is called or tb ends.
func lockTable(tb testing.TB, dbURL, table string) (unlock func()) {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), dbURL)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tx, err := conn.Begin(tb.Context())
	if err == nil {
		_, err = tx.Exec(tb.Context(), "LOCK TABLE "+table+" IN ACCESS EXCLUSIVE MODE")
	}
	if err != nil {
		conn.Close(context.Background())
		tb.Fatalf("lock %s: %v", table, err)
	}
	unlock = sync.OnceFunc(func() {
		_ = tx.Rollback(context.Background())
		_ = conn.Close(context.Background())
	})
	tb.Cleanup(unlock)
	return unlock
}

// serverQuery selects the connections the server holds: sqlstore names
// them application_name twostep.
const serverQuery = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'twostep' ORDER BY pid"

// serverPIDs returns the backend pids of the server's connections to dbURL.
func serverPIDs(tb testing.TB, dbURL string) []int64 {
	tb.Helper()
	return storetest.QueryPostgres(tb, dbURL, serverQuery)
}

// sampleConns counts the server's connections to dbURL every 20ms until
// stop, which returns the most it saw.
func sampleConns(tb testing.TB, dbURL string) (stop func() int) {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), dbURL)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	done := make(chan struct{})
	peak := make(chan int, 1)
	go func() {
		defer conn.Close(context.Background())
		most := 0
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var n int
			if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM ("+serverQuery+") s").Scan(&n); err != nil {
				tb.Errorf("count connections: %v", err)
			}
			most = max(most, n)
			select {
			case <-done:
				peak <- most
				return
			case <-tick.C:
			}
		}
	}()
	return sync.OnceValue(func() int {
		close(done)
		return <-peak
	})
}

// TestStartBeforeDatabase: a replica started while PostgreSQL is still
// unreachable waits for it (DB_STARTUP_TIMEOUT) and then serves, with no
// restart; one whose database never comes gives up with an error naming
// DATABASE_URL.
func TestStartBeforeDatabase(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	dbURL := storetest.NewPostgres(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := storetest.NewProxy(t, u.Host)
	p.Cut()
	env := map[string]string{"DATABASE_URL": p.URL(dbURL), "DB_CONNECT_TIMEOUT": "1s"}

	t.Run("database comes up", func(t *testing.T) {
		restore := time.AfterFunc(time.Second, p.Restore)
		defer restore.Stop()
		srv := apptest.Start(t, apptest.Options{Env: env})
		if got := readyz(t, srv); got != http.StatusOK {
			t.Fatalf("GET /readyz = %d, want 200", got)
		}
		srv.Register(t, "early@example.com", apptest.NextPhone())
		if !strings.Contains(srv.Logs(), "database unreachable, retrying") {
			t.Errorf("no retry was logged:\n%s", srv.Logs())
		}
	})
	t.Run("database never comes", func(t *testing.T) {
		p.Cut()
		env := runEnv(t, env)
		env["DB_STARTUP_TIMEOUT"] = "1s"
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		start := time.Now()
		_, err := runWith(ctx, []string{"-env-file="}, env)
		if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
			t.Fatalf("run with no database = %v, want an error naming DATABASE_URL", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("run gave up after %v with DB_STARTUP_TIMEOUT=1s", d)
		}
	})
}
