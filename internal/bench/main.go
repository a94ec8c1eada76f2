package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
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
