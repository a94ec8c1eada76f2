package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/twostep/twostep/store/storetest"
	"github.com/twostep/twostep/twilioverify/emulator"
)

// TestOutage puts a proxy between the server and PostgreSQL and breaks it
// three ways. While it is broken /readyz must fail and every operation must
// answer within the request timeout; once it is mended the same process
// must serve again, and a login started before the outage must complete.
func TestOutage(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	t.Parallel()
	emu, emuURL := newEmulator(t, emulator.Options{})
	dbURL := storetest.NewPostgres(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := storetest.NewProxy(t, u.Host)
	const requestTimeout = 5 * time.Second
	env := withEmulator(baseEnv(t), emuURL)
	env["DATABASE_URL"] = p.URL(dbURL)
	env["DB_CONNECT_TIMEOUT"] = "1s"
	env["DB_STATEMENT_TIMEOUT"] = "1s"
	env["REQUEST_TIMEOUT"] = requestTimeout.String()
	srv := startServer(t, env)

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
			phone := nextPhone()
			user := register(t, srv.URL, email, phone)
			token := signIn(t, srv.URL, emu, email, phone)
			pending := login(t, srv.URL, email)
			code := codeFor(t, emu, phone)
			if got := readyz(t, srv.URL); got != http.StatusOK {
				t.Fatalf("GET /readyz before the outage = %d, want 200", got)
			}

			tt.fault()
			probes := []struct {
				name, bearer, query string
				vars                map[string]any
			}{
				{"register", "", registerOp, map[string]any{"email": fmt.Sprintf("new%d@example.com", i), "password": testPassword, "phone": nextPhone()}},
				{"login", "", loginOp, map[string]any{"email": email, "password": testPassword}},
				{"verifyOtp", "", verifyOp, map[string]any{"mfaToken": pending.MFAToken, "code": code}},
				{"me", token, meOp, nil},
			}
			ctx, cancel := context.WithTimeout(t.Context(), 2*tt.within)
			defer cancel()
			var wg sync.WaitGroup
			errs := make([]error, len(probes))
			ready := make(chan probeResult, 1)
			wg.Go(func() { ready <- timedReadyz(ctx, srv.URL) })
			for j, pr := range probes {
				wg.Go(func() {
					start := time.Now()
					r, err := postGQL(ctx, srv.URL, pr.bearer, pr.query, pr.vars)
					took := time.Since(start)
					switch {
					case err != nil:
						errs[j] = fmt.Errorf("%s during the outage: %w after %v", pr.name, err, took)
					case !slices.Contains(tt.codes, r.code()) || took > tt.within:
						errs[j] = fmt.Errorf("%s during the outage = %+v (HTTP %d) after %v, want one of %v within %v", pr.name, r.Errors, r.Status, took, tt.codes, tt.within)
					default:
						t.Logf("%s during the outage: %s (HTTP %d) after %v", pr.name, r.code(), r.Status, took)
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
			if got := readyz(t, srv.URL); got != http.StatusOK {
				t.Fatalf("GET /readyz after the outage = %d, want 200", got)
			}
			// The challenge survived, and the refused attempt was not counted.
			attempts := fmt.Sprintf("SELECT attempts FROM challenges WHERE user_id = '%s' AND consumed_at IS NULL", user.ID)
			if got := storetest.QueryPostgres(t, dbURL, attempts); !slices.Equal(got, []int64{0}) {
				t.Errorf("attempts on the challenge pending through the outage = %v, want [0]", got)
			}
			var a authJSON
			gql(t, srv.URL, "", verifyOp, map[string]any{"mfaToken": pending.MFAToken, "code": code}).field(t, "verifyOtp", &a)
			var me userJSON
			if gql(t, srv.URL, a.AccessToken, meOp, nil).field(t, "me", &me); me.ID != user.ID {
				t.Errorf("me after the outage = %+v, want user %s", me, user.ID)
			}
			register(t, srv.URL, fmt.Sprintf("after%d@example.com", i), nextPhone())
		})
	}
}

// TestDatabaseSettingsFromEnvironment checks that the DB_* variables reach
// the connection pool: each assertion fails with the default value.
// (TestOutage's "PostgreSQL hangs" does the same for DB_CONNECT_TIMEOUT.)
func TestDatabaseSettingsFromEnvironment(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	t.Parallel()
	_, emuURL := newEmulator(t, emulator.Options{})
	start := func(t *testing.T, settings map[string]string) (*testServer, string) {
		dbURL := storetest.NewPostgres(t)
		env := withEmulator(baseEnv(t), emuURL)
		env["DATABASE_URL"] = dbURL
		env["REQUEST_TIMEOUT"] = "20s"
		maps.Copy(env, settings)
		return startServer(t, env), dbURL
	}

	t.Run("pool size and statement timeout", func(t *testing.T) {
		srv, dbURL := start(t, map[string]string{
			"DB_MAX_OPEN_CONNS":    "2",
			"DB_MAX_IDLE_CONNS":    "1",
			"DB_STATEMENT_TIMEOUT": "500ms",
		})
		register(t, srv.URL, "pool@example.com", nextPhone())

		// Six logins wait on a locked table: two at a time, as many as
		// DB_MAX_OPEN_CONNS allows, and each for DB_STATEMENT_TIMEOUT.
		unlock := lockTable(t, dbURL, "counters")
		stop := sampleConns(t, dbURL)
		begin := time.Now()
		resps := across(t, []*testServer{srv}, 6, loginOp, sameVars(map[string]any{"email": "pool@example.com", "password": testPassword}))
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
		if got := readyz(t, srv.URL); got != http.StatusOK {
			t.Fatalf("GET /readyz = %d, want 200", got)
		}
		before := serverPIDs(t, dbURL)
		time.Sleep(1500 * time.Millisecond)
		if got := readyz(t, srv.URL); got != http.StatusOK {
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

// signIn logs email in and returns an access token.
func signIn(tb testing.TB, baseURL string, emu *emulator.Emulator, email, phone string) string {
	tb.Helper()
	l := login(tb, baseURL, email)
	var a authJSON
	gql(tb, baseURL, "", verifyOp, map[string]any{"mfaToken": l.MFAToken, "code": codeFor(tb, emu, phone)}).field(tb, "verifyOtp", &a)
	return a.AccessToken
}

type probeResult struct {
	status int
	took   time.Duration
	err    error
}

func timedReadyz(ctx context.Context, baseURL string) probeResult {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/readyz", nil)
	if err != nil {
		return probeResult{err: err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return probeResult{err: err, took: time.Since(start)}
	}
	resp.Body.Close()
	return probeResult{status: resp.StatusCode, took: time.Since(start)}
}

// readyz returns the status of GET /readyz.
func readyz(tb testing.TB, baseURL string) int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	defer cancel()
	r := timedReadyz(ctx, baseURL)
	if r.err != nil {
		tb.Fatalf("GET /readyz: %v", r.err)
	}
	return r.status
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
	_, emuURL := newEmulator(t, emulator.Options{})
	env := withEmulator(baseEnv(t), emuURL)
	env["DATABASE_URL"] = p.URL(dbURL)
	env["DB_CONNECT_TIMEOUT"] = "1s"

	t.Run("database comes up", func(t *testing.T) {
		restore := time.AfterFunc(time.Second, p.Restore)
		defer restore.Stop()
		srv := startServer(t, env)
		if got := readyz(t, srv.URL); got != http.StatusOK {
			t.Fatalf("GET /readyz = %d, want 200", got)
		}
		register(t, srv.URL, "early@example.com", nextPhone())
		if !strings.Contains(srv.out.String(), "database unreachable, retrying") {
			t.Errorf("no retry was logged:\n%s", srv.out.String())
		}
	})
	t.Run("database never comes", func(t *testing.T) {
		p.Cut()
		env := maps.Clone(env)
		env["DB_STARTUP_TIMEOUT"] = "1s"
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		start := time.Now()
		err := run(ctx, []string{"twostep", "-env-file="}, func(k string) string { return env[k] }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
			t.Fatalf("run with no database = %v, want an error naming DATABASE_URL", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("run gave up after %v with DB_STARTUP_TIMEOUT=1s", d)
		}
	})
}
