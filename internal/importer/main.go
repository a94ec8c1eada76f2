package importer

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/internal/config"
	"github.com/twostep/twostep/store/sqlstore"
)

const usage = `usage: twostep import-users [-env-file=PATH] [-batch=N] [FILE|-]

Imports accounts from FILE (or standard input) into DATABASE_URL, one JSON
object a line:

  {"email":"ada@example.com","phone":"+14155550123","password_hash":"$2a$10$…",
   "phone_verified":true,"created_at":"2024-05-06T07:08:09Z"}

email, phone and password_hash are required; phone_verified defaults to
false, created_at (RFC 3339) to the time of the import. Emails and numbers
are checked and normalised as registration does, with the server's
configuration (PHONE_DEFAULT_REGION, SMS_ALLOWED_COUNTRY_CODES,
SMS_TEST_NUMBERS). A line whose email has an account is skipped; a line
that is invalid, repeats an email of an earlier line, or has a number that
another account verified is refused, and the import goes on. It exits
with status 1 if any line was refused.
`

// Main runs `twostep import-users`, configured like the server from the
// environment and .env. It prints every skipped or refused line to stderr
// by number, a live count there when stderr is a terminal, and the
// summary to stdout; it returns an error if any line was refused.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import-users", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envFile := fs.String("env-file", ".env", "read variables the environment does not set from this `file`")
	batch := fs.Int("batch", 1000, "users per transaction")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 || *batch < 1 || *batch > 10000 {
		fs.Usage()
		return errors.New("import-users: want at most one FILE, and -batch from 1 to 10000")
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "env-file" })
	getenv, _, err := config.WithDotenv(getenv, *envFile, explicit)
	if err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	phones, err := input.NewPhones(cfg.PhoneRegion, cfg.SMSCountries)
	if err != nil {
		return fmt.Errorf("config: PHONE_DEFAULT_REGION, SMS_ALLOWED_COUNTRY_CODES: %w", err)
	}
	in := io.Reader(os.Stdin)
	if name := fs.Arg(0); name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import-users: %w", err)
		}
		defer f.Close()
		in = f
	}
	db, err := sqlstore.Open(ctx, cfg.DatabaseURL, sqlstore.Options{
		MaxOpenConns: 2, ConnectTimeout: cfg.DBConnectTimeout, StatementTimeout: cfg.DBStmtTimeout})
	if err != nil {
		return fmt.Errorf("import-users: %w", err)
	}
	defer db.Close()

	p := &progress{w: stderr, tty: isTerminal(stderr), every: 100_000}
	tn := cfg.TestNumbers
	sum, err := Import(ctx, in, Options{
		Store:      db,
		Phones:     phones,
		BatchSize:  *batch,
		TestNumber: func(e164 string) bool { return tn.Has(e164, time.Now()) },
		Report:     p,
		Progress:   p.update,
	})
	p.clear()
	if err != nil {
		fmt.Fprintf(stdout, "import-users stopped at line %d: %s\n", sum.Lines, sum)
		return fmt.Errorf("import-users: %w (the lines imported are skipped when run again)", err)
	}
	fmt.Fprintf(stdout, "import-users: %s\n", sum)
	if sum.Refused > 0 {
		return fmt.Errorf("import-users: %d lines refused", sum.Refused)
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// progress shows the counts on stderr: on a terminal, one line redrawn
// at most ten times a second, cleared before a report line; otherwise a
// line every so many lines of input.
type progress struct {
	w     io.Writer
	tty   bool
	every int // lines between two reports off a terminal
	shown bool
	last  time.Time
	next  int
}

// Write writes one report line.
func (p *progress) Write(b []byte) (int, error) {
	p.clear()
	return p.w.Write(b)
}

func (p *progress) update(s Summary) {
	switch {
	case p.tty:
		if time.Since(p.last) < 100*time.Millisecond {
			return
		}
		p.last = time.Now()
		fmt.Fprintf(p.w, "\r\033[K%s", s)
		p.shown = true
	case s.Lines >= p.next+p.every:
		p.next = s.Lines - s.Lines%p.every
		fmt.Fprintf(p.w, "import-users: %s\n", s)
	}
}

func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
