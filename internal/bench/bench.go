// Package bench measures twostep's `me` over loopback against a plain
// net/http handler that does the same work (the same token check and the
// same store lookup), each server in a process of its own, driven by the
// same closed-loop load in a third. `twostep bench` and the root package's
// BenchmarkLoopback run it; the README reports its figures.
package bench

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

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
}

// Result holds the requests per second of every round.
type Result struct {
	Conns          int
	Plain, Twostep []float64
}

// Ratio is the median of twostep's rounds over the median of plain's.
func (r Result) Ratio() float64 { return median(r.Twostep) / median(r.Plain) }

// Median returns the median of rounds.
func (Result) Median(rounds []float64) float64 { return median(rounds) }

func (r Result) String() string {
	return fmt.Sprintf("me over loopback, %d connections: plain net/http %.0f req/s, twostep %.0f req/s, ratio %.2f (rounds: plain %s, twostep %s)",
		r.Conns, median(r.Plain), median(r.Twostep), r.Ratio(), rounds(r.Plain), rounds(r.Twostep))
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
	meQuery    = `{"query":"{ me { id email phone phoneVerified createdAt } }"}`
	envRole    = "TWOSTEP_BENCH_ROLE"
	envDBURL   = "TWOSTEP_BENCH_DATABASE_URL"
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
	dir, err := os.MkdirTemp("", "twostep-bench-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	dbURL := "sqlite:" + filepath.Join(dir, "twostep.db")
	token, err := fixture(ctx, dbURL)
	if err != nil {
		return Result{}, err
	}
	res := Result{Conns: o.Conns}
	for round := range o.Rounds {
		order := []string{RolePlain, RoleTwostep}
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, role := range order {
			rps, err := measure(ctx, o, role, round, dbURL, token)
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

// fixture creates the database with one verified user and returns an
// access token for it.
func fixture(ctx context.Context, dbURL string) (string, error) {
	db, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
	if err != nil {
		return "", err
	}
	defer db.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	err = db.CreateUser(ctx, &store.User{ID: userID, Email: "bench@example.com", PasswordHash: "$2a$04$x",
		Phone: "+14155550100", PhoneVerified: true, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return "", err
	}
	tokens, err := auth.NewTokens([]byte(secret), "twostep", "twostep", time.Hour, nil)
	if err != nil {
		return "", err
	}
	token, _, err := tokens.Issue(userID, []string{"pwd", "sms", "mfa"})
	return token, err
}

// measure starts the server of role, loads it and stops it.
func measure(ctx context.Context, o Options, role string, round int, dbURL, token string) (float64, error) {
	cmd := o.Spawn(role)
	cmd.Env = append(os.Environ(), envRole+"="+role, envDBURL+"="+dbURL)
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
		addr, token, len(meQuery), meQuery)
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
	dbURL := getenv(envDBURL)
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
	switch role {
	case RoleTwostep:
		// Exactly what main serves, configured from the environment.
		env := map[string]string{"DATABASE_URL": dbURL, "JWT_SECRET": secret, "LOG_LEVEL": "warn"}
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
		fmt.Fprintln(stdout, ln.Addr())
		return a.Serve(ctx, ln)
	case RolePlain:
		path, ok := strings.CutPrefix(dbURL, "sqlite:")
		if !ok {
			return fmt.Errorf("bench: plain server needs a sqlite: URL, got %q", dbURL)
		}
		h, closeDB, err := plainHandler(ctx, path)
		if err != nil {
			return err
		}
		defer closeDB()
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			<-ctx.Done()
			_ = srv.Close()
		}()
		fmt.Fprintln(stdout, ln.Addr())
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
	return fmt.Errorf("bench: unknown role %q", role)
}

// plainHandler is the reference: the bare net/http handler one would
// write for `me` without twostep, straight on golang-jwt and database/sql
// with the same driver. It checks the access token as twostep's contract
// says (HS256 pinned, typ at+jwt, iss, aud, exp required, 30 s leeway) on
// every request, reads the user with the same query from a prepared
// statement, and writes the same JSON.
func plainHandler(ctx context.Context, path string) (http.Handler, func(), error) {
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, nil, err
	}
	db.SetMaxOpenConns(4)
	stmt, err := db.PrepareContext(ctx, `SELECT id, email, phone, phone_verified, created_at FROM users WHERE id = $1`)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("twostep"), jwt.WithAudience("twostep"),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(30*time.Second))
	key := func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != "at+jwt" {
			return nil, errors.New("not an access token")
		}
		return []byte(secret), nil
	}
	type user struct {
		ID            string    `json:"id"`
		Email         string    `json:"email"`
		Phone         string    `json:"phone"`
		PhoneVerified bool      `json:"phoneVerified"`
		CreatedAt     time.Time `json:"createdAt"`
	}
	type response struct {
		Data struct {
			Me user `json:"me"`
		} `json:"data"`
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var claims jwt.RegisteredClaims
		if _, err := parser.ParseWithClaims(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), &claims, key); err != nil {
			http.Error(w, `{"errors":[{"message":"unauthenticated"}]}`, http.StatusUnauthorized)
			return
		}
		var resp response
		var created int64
		u := &resp.Data.Me
		if err := stmt.QueryRowContext(r.Context(), claims.Subject).Scan(&u.ID, &u.Email, &u.Phone, &u.PhoneVerified, &created); err != nil {
			http.Error(w, `{"errors":[{"message":"internal"}]}`, http.StatusInternalServerError)
			return
		}
		u.CreatedAt = time.UnixMilli(created).UTC()
		b, _ := json.Marshal(resp)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	return h, func() { stmt.Close(); db.Close() }, nil
}

func perRequest(d time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(n)
}
