package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Main is `twostep bench`: it runs Loopback with this executable as the
// child servers and prints the result. Flags: -conns, -duration, -warmup,
// -rounds.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if role := ChildRole(getenv); role != "" {
		return Child(ctx, role, getenv, stdout)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := Options{Log: stderr}
	fs.IntVar(&o.Conns, "conns", 16, "concurrent keep-alive connections")
	fs.DurationVar(&o.Duration, "duration", 5e9, "measured time per round and server")
	fs.DurationVar(&o.Warmup, "warmup", 1e9, "warm-up before each measurement")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds (each measures both servers)")
	fs.StringVar(&o.ProfileDir, "cpuprofile", "", "write a CPU profile of each server to this `directory`")
	fs.StringVar(&o.Alg, "alg", "HS256", "access tokens' algorithm: HS256, EdDSA or ES256")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	o.Spawn = func(string) *exec.Cmd { return exec.Command(self, "bench") }
	res, err := Loopback(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, res)
	return nil
}

// MainScale is `twostep bench-scale`: Scale with this executable as
// import-users and as the server, for each dialect asked, printing a table.
// Flags: -db, -users, -conns, -login-conns, -duration, -warmup,
// -rounds, -dir, -postgres.
func MainScale(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench-scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbs := fs.String("db", "sqlite", "comma-separated dialects: sqlite, postgres")
	users := fs.String("users", "1000,100000,1000000", "comma-separated numbers of users, each in a fresh database")
	o := ScaleOptions{Log: stderr}
	fs.IntVar(&o.Conns, "conns", 16, "concurrent keep-alive connections for me")
	fs.IntVar(&o.LoginConns, "login-conns", 4, "concurrent keep-alive connections for login (within the hash limiter's capacity)")
	fs.DurationVar(&o.Duration, "duration", 5e9, "measured time per operation and size")
	fs.DurationVar(&o.Warmup, "warmup", 1e9, "warm-up before each measurement")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds, each measuring every size (figures: their medians)")
	fs.StringVar(&o.Dir, "dir", "", "keep the SQLite databases in this `directory`, and reuse them in later runs (no import then)")
	fs.StringVar(&o.Postgres, "postgres", getenv("TEST_DATABASE_URL"), "`URL` of a PostgreSQL server where databases may be created (default $TEST_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range strings.Split(*users, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 8_000_000 {
			return fmt.Errorf("bench-scale: -users: %q is not a number from 1 to 8000000", s)
		}
		o.Users = append(o.Users, n)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	o.Command = func(args ...string) *exec.Cmd { return exec.Command(self, args...) }
	for _, d := range strings.Split(*dbs, ",") {
		o.Dialect = strings.TrimSpace(d)
		res, err := Scale(ctx, o)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, res)
	}
	return nil
}
