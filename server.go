// Command twostep is a GraphQL API server for two-step login: password, then
// a one-time code by SMS through Twilio Verify, then a JWT.
//
//	twostep [-env-file=PATH]   serve (configuration from the environment and .env)
//	twostep verify-emulator    run the local Twilio Verify emulator
//	twostep bench              compare me with a plain net/http handler over loopback
//	twostep bench-scale        import 1k…1M users, then measure memory and me/login latency
//	twostep keygen             print a fresh signing key (JWK) for JWT_SIGNING_KEYS
//	twostep admin grant|revoke|delete EMAIL   give or take the ADMIN role, or delete an account
//	twostep import-users [FILE|-]      import accounts with bcrypt hashes from JSON Lines
package main

//go:generate go tool gqlgen generate

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/twostep/twostep/internal/admin"
	"github.com/twostep/twostep/internal/app"
	"github.com/twostep/twostep/internal/bench"
	"github.com/twostep/twostep/internal/config"
	"github.com/twostep/twostep/internal/importer"
	"github.com/twostep/twostep/internal/keygen"
	"github.com/twostep/twostep/twilioverify/emulator"
)

// command is a subcommand: it runs until ctx ends and returns nil on success.
type command func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// commands are the subcommands, by name; with none, twostep serves.
var commands = map[string]command{
	"verify-emulator": emulator.Main,
	"bench":           bench.Main,
	"bench-scale":     bench.MainScale,
	"keygen":          keygen.Main,
	"admin":           admin.Main,
	"import-users":    importer.Main,
}

// errUsage is a mistake on the command line: exit status 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage): // already explained on stderr
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "twostep:", err)
		os.Exit(1)
	}
}

// run dispatches to a subcommand, or serves.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, ok := commands[args[0]]
		if !ok {
			fmt.Fprintf(stderr, "twostep: unknown command %q\n%s", args[0], usage())
			return errUsage
		}
		return cmd(ctx, args[1:], getenv, stdout, stderr)
	}
	return serve(ctx, args, getenv, stdout, stderr)
}

// usage is the command line: serving, then every subcommand.
func usage() string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return fmt.Sprintf("usage: twostep [-env-file=PATH] | twostep %s [flags]\n", strings.Join(names, " | twostep "))
}

// serve reads the configuration, builds the app, and serves it until ctx
// ends.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("twostep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage(), "\nServing reads its settings from the environment and an env file (README: Configuration).\nEach command takes -h. Flags for serving:\n")
		fs.PrintDefaults()
	}
	envFile := fs.String("env-file", ".env", "read variables not set in the environment from this file (empty: none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "env-file" })
	getenv, dotenv, err := config.WithDotenv(getenv, *envFile, explicit)
	if err != nil {
		if explicit && errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(stderr, "twostep: -env-file %s: no such file\nusage: twostep [-env-file=PATH]  (empty: read no file)\n", *envFile)
			return errUsage
		}
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	app.SetRuntime(cfg)
	a, err := app.New(ctx, cfg, app.Options{Stdout: stdout, Logger: app.NewLogger(cfg, stderr)})
	if err != nil {
		return err
	}
	defer a.Close()
	if dotenv.Path != "" {
		a.Logger().Info("environment file read", "path", dotenv.Path, "variables", dotenv.Vars)
	} else {
		a.Logger().Info("no environment file read", "path", *envFile)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("config: HOST, PORT: listen: %w", err)
	}
	if cfg.HostDefaulted {
		a.Logger().Warn("development without Twilio: listening on loopback only, because codes are printed; set HOST=0.0.0.0 to listen on every interface", "addr", ln.Addr().String())
	}
	fmt.Fprintf(stdout, "twostep listening on http://localhost:%d/ (GraphQL at /graphql)\n", ln.Addr().(*net.TCPAddr).Port)
	return a.Serve(ctx, ln)
}
