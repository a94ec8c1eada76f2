package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// ScaleOptions configure Scale.
type ScaleOptions struct {
	// Dialect is "sqlite" (a file in a temporary directory) or "postgres"
	// (a database created on Postgres and dropped after).
	Dialect  string
	Postgres string // URL of a PostgreSQL server with CREATE DATABASE rights
	Users    []int  // the sizes to measure, each in a database of its own
	Conns    int    // concurrent keep-alive connections for me; default 16
	// LoginConns are those for login; default 4. On 2 cores the hash
	// limiter admits 2 hashes and queues 8; more logins at once are
	// refused (RATE_LIMITED), by design, and would not measure latency.
	LoginConns int
	Duration   time.Duration // measured per operation and size; default 5s
	Warmup     time.Duration // before each measurement; default 1s
	Rounds     int           // each measures every size; default 3
	// Dir, if set, keeps the SQLite databases (scale-N.db) there, and a
	// later run reuses them instead of importing again.
	Dir string
	// Command returns the command that runs this program with args, as
	// the twostep executable would (`twostep import-users …`, `twostep`).
	Command func(args ...string) *exec.Cmd
	Log     io.Writer // progress; nil discards it
}

// ScaleRow is what Scale measured at one size.
type ScaleRow struct {
	Users         int
	Import        time.Duration // twostep import-users of the generated file
	ImportPeakRSS int64         // its peak resident memory (ru_maxrss), bytes
	ServerRSS     int64         // the server's largest VmRSS sampled under me, bytes
	ServerPeakRSS int64         // its VmHWM after me and login, bytes
	Me, Login     Latency
}

// Latency sums up the answers to one operation.
type Latency struct {
	Requests  int
	PerSecond float64
	P50, P99  time.Duration
	// CPU is the server's CPU time a request (user and system): steadier
	// than latency on a machine that other work shares.
	CPU time.Duration
}

// ScaleResult is a Scale run.
type ScaleResult struct {
	Dialect           string
	Conns, LoginConns int
	Rounds            int
	Rows              []ScaleRow // latencies are the medians of the rounds
}

// benchPassword is the password of every generated user. They all share
// one hash, made once at bcrypt's lowest cost: generating a million
// hashes would take hours and measure nothing of twostep.
const benchPassword = "bench password, the same for all"

const loginQuery = `mutation($email: String!, $password: String!) { login(input: {email: $email, password: $password}) { mfaToken channel sentTo expiresAt } }`

// Scale imports each size of generated users into a fresh database with
// `twostep import-users` and measures that child's peak memory, then
// serves the database with `twostep` and measures me and login over
// loopback (latency, and the server's memory under me).
func Scale(ctx context.Context, o ScaleOptions) (ScaleResult, error) {
	if o.Conns <= 0 {
		o.Conns = 16
	}
	if o.LoginConns <= 0 {
		o.LoginConns = 4
	}
	if o.Duration <= 0 {
		o.Duration = 5 * time.Second
	}
	if o.Warmup <= 0 {
		o.Warmup = time.Second
	}
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Dialect != "sqlite" && o.Dialect != "postgres" {
		return ScaleResult{}, fmt.Errorf("bench: dialect %q: want sqlite or postgres", o.Dialect)
	}
	if o.Dialect == "postgres" && o.Postgres == "" {
		return ScaleResult{}, errors.New("bench: postgres needs a server URL (-postgres or TEST_DATABASE_URL)")
	}
	dir, err := os.MkdirTemp("", "twostep-scale-")
	if err != nil {
		return ScaleResult{}, err
	}
	defer os.RemoveAll(dir)
	hash, err := bcrypt.GenerateFromPassword([]byte(benchPassword), bcrypt.MinCost)
	if err != nil {
		return ScaleResult{}, err
	}
	res := ScaleResult{Dialect: o.Dialect, Conns: o.Conns, LoginConns: o.LoginConns, Rounds: o.Rounds}
	sizes := make([]*size, len(o.Users))
	for k, n := range o.Users {
		sz, err := prepare(ctx, o, dir, string(hash), n)
		if sz != nil {
			defer sz.drop()
		}
		if err != nil {
			return res, fmt.Errorf("bench: %d users on %s: %w", n, o.Dialect, err)
		}
		sizes[k] = sz
	}
	// Rounds alternate the order of the sizes, so that what else runs on
	// the machine weighs on each alike; the figures are their medians.
	for r := range o.Rounds {
		order := slices.Clone(sizes)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, sz := range order {
			if err := sz.measure(ctx, o, r); err != nil {
				return res, fmt.Errorf("bench: %d users on %s: %w", sz.row.Users, o.Dialect, err)
			}
		}
	}
	for _, sz := range sizes {
		sz.row.Me, sz.row.Login = medianLatency(sz.meRounds), medianLatency(sz.loginRounds)
		res.Rows = append(res.Rows, sz.row)
	}
	return res, nil
}

// size is one number of users: its database and requests, and what the
// rounds measured.
type size struct {
	row                   ScaleRow
	env                   []string // DATABASE_URL, SMS_TEST_NUMBERS
	me, logins            [][]byte
	drop                  func()
	meRounds, loginRounds []Latency
}

// prepare generates n users, imports them into a fresh database with
// `twostep import-users`, measuring it, and builds the requests.
func prepare(ctx context.Context, o ScaleOptions, dir, hash string, n int) (*size, error) {
	sz := &size{row: ScaleRow{Users: n}, drop: func() {}}
	if o.Dir != "" && o.Dialect == "sqlite" {
		dbURL := "sqlite:" + filepath.Join(o.Dir, fmt.Sprintf("scale-%d.db", n))
		if _, err := os.Stat(strings.TrimPrefix(dbURL, "sqlite:")); err == nil {
			fmt.Fprintf(o.Log, "%d users: reusing %s, not imported\n", n, dbURL)
			return sz, sz.requests(ctx, dbURL)
		}
		dir = o.Dir
	}
	file := filepath.Join(dir, fmt.Sprintf("users-%d.jsonl", n))
	start := time.Now()
	if err := writeUsers(file, n, hash); err != nil {
		return nil, err
	}
	defer os.Remove(file)
	fmt.Fprintf(o.Log, "%d users: file written in %s\n", n, time.Since(start).Round(time.Millisecond))
	dbURL, drop, err := freshDatabase(ctx, o, dir, n)
	if err != nil {
		return nil, err
	}
	if o.Dir == "" {
		sz.drop = drop
	}
	cmd := o.Command("import-users", "-env-file=", file)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start = time.Now()
	if err := cmd.Run(); err != nil {
		return sz, fmt.Errorf("import-users: %w\n%s", err, out.Bytes())
	}
	sz.row.Import, sz.row.ImportPeakRSS = time.Since(start), maxRSS(cmd.ProcessState)
	fmt.Fprintf(o.Log, "%d users: imported in %s, peak RSS %s: %s", n, sz.row.Import.Round(time.Millisecond), mib(sz.row.ImportPeakRSS), lastLine(out.String()))
	return sz, sz.requests(ctx, dbURL)
}

func (sz *size) requests(ctx context.Context, dbURL string) error {
	me, logins, testNumbers, err := scaleRequests(ctx, dbURL, sz.row.Users)
	if err != nil {
		return err
	}
	sz.me, sz.logins, sz.env = me, logins, []string{"DATABASE_URL=" + dbURL, testNumbers}
	return nil
}

// measure starts a server on the size's database and loads it with me,
// then login.
func (sz *size) measure(ctx context.Context, o ScaleOptions, round int) error {
	n := sz.row.Users
	srv, err := startServer(ctx, o, sz.env)
	if err != nil {
		return err
	}
	defer srv.stop()
	r, err := latencyLoad{addr: srv.addr, reqs: sz.me, want: []byte(`"me":{"id":`), conns: o.Conns}.run(ctx, o.Warmup, o.Duration, srv.pid)
	if err != nil {
		return fmt.Errorf("me: %w", err)
	}
	sz.meRounds = append(sz.meRounds, r.latency())
	sz.row.ServerRSS = max(sz.row.ServerRSS, r.maxRSS)
	fmt.Fprintf(o.Log, "round %d, %d users: me    %s; server RSS up to %s (then %s anonymous, %s file)\n", round+1, n, r.latency(), mib(r.maxRSS),
		mib(procStatus(srv.pid, "RssAnon")), mib(procStatus(srv.pid, "RssFile")))
	r, err = latencyLoad{addr: srv.addr, reqs: sz.logins, want: []byte(`"mfaToken":`), conns: o.LoginConns}.run(ctx, o.Warmup, o.Duration, srv.pid)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	sz.loginRounds = append(sz.loginRounds, r.latency())
	hwm := procStatus(srv.pid, "VmHWM")
	sz.row.ServerPeakRSS = max(sz.row.ServerPeakRSS, hwm)
	fmt.Fprintf(o.Log, "round %d, %d users: login %s; server peak RSS %s\n", round+1, n, r.latency(), mib(hwm))
	return nil
}

// medianLatency is the median of the rounds' figures, each on its own.
func medianLatency(ls []Latency) Latency {
	var m Latency
	pick := func(f func(Latency) float64) float64 {
		xs := make([]float64, len(ls))
		for i, l := range ls {
			xs[i] = f(l)
		}
		return median(xs)
	}
	m.Requests = int(pick(func(l Latency) float64 { return float64(l.Requests) }))
	m.PerSecond = pick(func(l Latency) float64 { return l.PerSecond })
	m.P50 = time.Duration(pick(func(l Latency) float64 { return float64(l.P50) }))
	m.P99 = time.Duration(pick(func(l Latency) float64 { return float64(l.P99) }))
	m.CPU = time.Duration(pick(func(l Latency) float64 { return float64(l.CPU) }))
	return m
}
