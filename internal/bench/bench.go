// Package bench measures twostep's `me` over loopback against a plain
// net/http handler that does the same work (the same token check and the
// same store lookup), each server in a process of its own, driven by the
// same closed-loop load in a third. `twostep bench` and the root package's
// BenchmarkLoopback run it; the README reports its figures.
//
// `twostep bench-scale` (Scale) measures twostep as its users grow: it
// imports generated users with `twostep import-users` (its peak memory),
// then serves them with `twostep` and measures me and login (latency, and
// the server's memory), on SQLite or PostgreSQL.
package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/internal/app"
	"github.com/twostep/twostep/internal/config"
	"github.com/twostep/twostep/store"
	"github.com/twostep/twostep/store/sqlstore"
)

// Roles of a child process.
const (
	RolePlain   = "plain"
	RoleTwostep = "twostep"
)

// Options configure Loopback.
type Options struct {
	Conns    int           // concurrent keep-alive connections; default 16
	Duration time.Duration // measured per round and server; default 5s
	Warmup   time.Duration // before each measurement; default 1s
	Rounds   int           // rounds of plain then twostep (order alternating); default 3
	// Spawn returns the command that runs this program as the child of
	// role: it must end up calling Child(ctx, role, getenv, stdout).
	Spawn func(role string) *exec.Cmd
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// ProfileDir, if set, receives a CPU profile of each child
	// (plain-N.pprof, twostep-N.pprof for round N).
	ProfileDir string
	// Alg is the access tokens' algorithm: HS256 (JWT_SECRET, the
	// default), EdDSA or ES256 (JWT_SIGNING_KEYS). Both servers verify
	// with it.
	Alg string
}

// Result holds the requests per second of every round.
type Result struct {
	Conns          int
	Alg            string
	Plain, Twostep []float64
}

// Ratio is the median of twostep's rounds over the median of plain's.
func (r Result) Ratio() float64 { return median(r.Twostep) / median(r.Plain) }

// Median returns the median of rounds.
func (Result) Median(rounds []float64) float64 { return median(rounds) }

func (r Result) String() string {
	return fmt.Sprintf("me over loopback, %d connections, %s tokens: plain net/http %.0f req/s, twostep %.0f req/s, ratio %.2f (rounds: plain %s, twostep %s)",
		r.Conns, r.Alg, median(r.Plain), median(r.Twostep), r.Ratio(), rounds(r.Plain), rounds(r.Twostep))
}

func rounds(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprintf("%.0f", x)
	}
	return strings.Join(s, " ")
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// The fixture both servers share.
const (
	secret     = "bench-secret-bench-secret-bench-secret!"
	userID     = "0190a0d0-0000-7000-8000-000000000001"
	sessionID  = "0190a0d0-0000-7000-8000-000000000002"
	meQuery    = `{"query":"{ me { id email phone phoneVerified createdAt } }"}`
	envRole    = "TWOSTEP_BENCH_ROLE"
	envDBURL   = "TWOSTEP_BENCH_DATABASE_URL"
	envKeys    = "TWOSTEP_BENCH_SIGNING_KEYS"
	envProfile = "TWOSTEP_BENCH_CPUPROFILE"
)

// Loopback runs the comparison.
func Loopback(ctx context.Context, o Options) (Result, error) {
	if o.Conns <= 0 {
		o.Conns = 16
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
	if o.Alg == "" {
		o.Alg = auth.AlgHS256
	}
	dir, err := os.MkdirTemp("", "twostep-bench-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	dbURL := "sqlite:" + filepath.Join(dir, "twostep.db")
	fx, err := newFixture(ctx, dbURL, o.Alg)
	if err != nil {
		return Result{}, err
	}
	res := Result{Conns: o.Conns, Alg: o.Alg}
	for round := range o.Rounds {
		order := []string{RolePlain, RoleTwostep}
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, role := range order {
			rps, err := measure(ctx, o, role, round, fx)
			if err != nil {
				return Result{}, fmt.Errorf("bench: %s: %w", role, err)
			}
			fmt.Fprintf(o.Log, "round %d: %-7s %8.0f req/s\n", round+1, role, rps)
			if role == RolePlain {
				res.Plain = append(res.Plain, rps)
			} else {
				res.Twostep = append(res.Twostep, rps)
			}
		}
	}
	return res, nil
}

// fixture is what both servers share: a database with one verified user
// and a live session, the keys, and an access token of that session.
type fixture struct {
	dbURL string
	keys  []byte // JWT_SIGNING_KEYS, nil for HS256
	token string
}

func newFixture(ctx context.Context, dbURL, alg string) (*fixture, error) {
	fx := &fixture{dbURL: dbURL}
	var secretKey []byte
	if alg == auth.AlgHS256 {
		secretKey = []byte(secret)
	} else {
		jwk, err := auth.GenerateJWK(alg, true)
		if err != nil {
			return nil, err
		}
		fx.keys = []byte(`{"keys":[` + string(jwk) + `]}`)
	}
	keys, err := auth.NewSigningKeys(fx.keys, secretKey)
	if err != nil {
		return nil, err
	}
	db, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	err = db.CreateUser(ctx, &store.User{ID: userID, Email: "bench@example.com", PasswordHash: "$2a$04$x",
		Phone: "+14155550100", PhoneVerified: true, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return nil, err
	}
	err = db.CreateSession(ctx, &store.Session{ID: sessionID, UserID: userID, Secret: []byte("bench"), RotatedAt: now,
		AMR: "pwd,sms,mfa", CreatedAt: now, LastUsedAt: now, IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		return nil, err
	}
	tokens, err := auth.NewTokens(auth.TokenConfig{Keys: keys, Issuer: "twostep", Audience: "twostep", TTL: time.Hour})
	if err != nil {
		return nil, err
	}
	fx.token, _, err = tokens.Issue(userID, sessionID, []string{"pwd", "sms", "mfa"}, time.Time{})
	return fx, err
}

// measure starts the server of role, loads it and stops it.
func measure(ctx context.Context, o Options, role string, round int, fx *fixture) (float64, error) {
	cmd := o.Spawn(role)
	cmd.Env = append(os.Environ(), envRole+"="+role, envDBURL+"="+fx.dbURL, envKeys+"="+string(fx.keys))
	if o.ProfileDir != "" {
		cmd.Env = append(cmd.Env, envProfile+"="+filepath.Join(o.ProfileDir, fmt.Sprintf("%s-%d.pprof", role, round+1)))
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("child did not start: %w", err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	addr = strings.TrimSpace(addr)
	req := fmt.Sprintf("POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s",
		addr, fx.token, len(meQuery), meQuery)
	r, err := load{addr: addr, req: []byte(req), want: []byte(`"me":{"id":"` + userID), conns: o.Conns}.run(ctx, o.Warmup, o.Duration, cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(o.Log, "  %s: %.0f µs of server CPU and %.0f µs of load-generator CPU per request\n",
		role, perRequest(r.serverCPU, r.requests), perRequest(r.loadCPU, r.requests))
	return r.perSecond(), nil
}

// ChildRole returns the role this process was started for by Loopback, or
// "" if it was not.
func ChildRole(getenv func(string) string) string { return getenv(envRole) }

// Child runs the server of role on a loopback port until ctx ends. It
// prints the address it listens on as its first line of stdout.
func Child(ctx context.Context, role string, getenv func(string) string, stdout io.Writer) error {
	dbURL, keys := getenv(envDBURL), getenv(envKeys)
	if path := getenv(envProfile); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var srv interface {
		Serve(context.Context, net.Listener) error
	}
	switch role {
	case RoleTwostep:
		// Exactly what main serves, configured from the environment, with
		// metrics on as in production, so their cost is in the figures.
		env := map[string]string{"DATABASE_URL": dbURL, "LOG_LEVEL": "warn", "METRICS_ADDR": "127.0.0.1:0"}
		if keys != "" {
			env["JWT_SIGNING_KEYS"] = keys
		} else {
			env["JWT_SECRET"] = secret
		}
		cfg, err := config.Load(func(k string) string { return env[k] })
		if err != nil {
			return err
		}
		app.SetRuntime(cfg)
		a, err := app.New(ctx, cfg, app.Options{Stdout: io.Discard, Logger: app.NewLogger(cfg, os.Stderr)})
		if err != nil {
			return err
		}
		defer a.Close()
		srv = a
	case RolePlain:
		p, err := newPlain(ctx, dbURL, keys)
		if err != nil {
			return err
		}
		defer p.close()
		srv = p
	default:
		return fmt.Errorf("bench: unknown role %q", role)
	}
	fmt.Fprintln(stdout, ln.Addr())
	return srv.Serve(ctx, ln)
}

func perRequest(d time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(n)
}
