package emulator

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultAddr is where Main listens unless told otherwise.
const DefaultAddr = "127.0.0.1:4010"

// Main runs the emulator as a standalone server until ctx is done, then
// shuts it down gracefully. It prints the environment that points twostep
// at it, then one line per code sent: showing the code is what a local
// emulator is for. Flags:
//
//	-addr         listen address (default 127.0.0.1:4010, or $VERIFY_EMULATOR_ADDR)
//	-account-sid  Basic-auth user to accept (default DefaultAccountSID)
//	-auth-token   Basic-auth password to accept (default DefaultAuthToken)
//	-service-sid  the one Verify service (default DefaultServiceSID)
//	-whatsapp     give the service a WhatsApp sender (without it, as on a new
//	              Twilio service, the whatsapp channel answers 60223)
//
// TWILIO_* variables are deliberately not read: a production token in the
// environment must not become the emulator's and be printed.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", cmp.Or(getenv("VERIFY_EMULATOR_ADDR"), DefaultAddr), "listen `address`")
	accountSID := fs.String("account-sid", DefaultAccountSID, "account `SID` to accept (Basic-auth user)")
	authToken := fs.String("auth-token", DefaultAuthToken, "auth `token` to accept (Basic-auth password)")
	serviceSID := fs.String("service-sid", DefaultServiceSID, "Verify service `SID` (VA…)")
	whatsApp := fs.Bool("whatsapp", false, "give the service a WhatsApp sender")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("emulator: unexpected argument %q", fs.Arg(0))
	}
	for _, f := range []struct{ name, value string }{
		{"-account-sid", *accountSID}, {"-auth-token", *authToken}, {"-service-sid", *serviceSID},
	} {
		// twilio-go refuses to send anything else.
		if f.value == "" || !alphanumeric(f.value) {
			return fmt.Errorf("emulator: %s must be non-empty and alphanumeric", f.name)
		}
	}
	if !strings.HasPrefix(*serviceSID, "VA") {
		return errors.New("emulator: -service-sid must start with VA")
	}

	// Handlers print concurrently.
	var outMu sync.Mutex
	printf := func(format string, a ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(stdout, format, a...)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	em := New(Options{AccountSID: *accountSID, AuthToken: *authToken, ServiceSID: *serviceSID, Logger: logger, WhatsApp: *whatsApp})
	em.onSend = func(to, code, channel string) {
		printf("emulator: code %s sent to %s (%s)\n", code, maskPhone(to), channel)
	}

	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", *addr)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	srv := &http.Server{
		Handler:           em,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		// Cancels pending delays on shutdown, so Shutdown does not wait.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	printf("# Twilio Verify emulator on http://%s; point twostep at it with:\n", ln.Addr())
	printf("TWILIO_API_URL=http://%s\nTWILIO_ACCOUNT_SID=%s\nTWILIO_AUTH_TOKEN=%s\nTWILIO_VERIFY_SID=%s\n",
		ln.Addr(), *accountSID, *authToken, *serviceSID)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("emulator: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("emulator: shutdown: %w", err)
	}
	return nil
}

// alphanumeric reports whether s is only ASCII letters and digits.
func alphanumeric(s string) bool {
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}
