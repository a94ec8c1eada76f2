package app

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/internal/config"
	"github.com/twostep/twostep/twilioverify"
	"github.com/twostep/twostep/twilioverify/emulator"
)

// newOTPVerifier returns the Twilio Verify client. Without Twilio settings
// (development only) it starts the Verify emulator on a loopback port and
// prints each code it "sends", so the whole flow works with no account and
// the Twilio code path is the one that runs. observe, if set, is told of
// each request to Twilio (metrics).
func newOTPVerifier(cfg *config.Config, log *slog.Logger, stdout io.Writer, now func() time.Time, observe func(string, time.Duration, error)) (auth.OTPVerifier, func(), error) {
	tc := twilioverify.Config{
		AccountSID: cfg.TwilioAccountSID,
		AuthToken:  cfg.TwilioAuthToken,
		ServiceSID: cfg.TwilioVerifySID,
		APIURL:     cfg.TwilioAPIURL,
		Timeout:    cfg.TwilioTimeout,
		Logger:     log,
		Observe:    observe,
	}
	stop := func() {}
	if cfg.PrintsCodes() {
		var mu sync.Mutex
		emu := emulator.New(emulator.Options{
			Now:      now,
			WhatsApp: true, // every channel works here: nothing is really sent
			// Verify's own limit follows the relaxed development limits.
			MaxSends: cfg.Limits.PhonePerHour,
			OnSend: func(to, code, channel string) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(stdout, "\n"+
					"  ************************************************************\n"+
					"  *  DEVELOPMENT ONLY: Twilio is not configured.             *\n"+
					"  *  One-time code for %-16s %-20s *\n"+
					"  *  (by %-8s)                                         *\n"+
					"  ************************************************************\n\n",
					input.MaskPhone(to)+":", code, channel)
			},
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, fmt.Errorf("development verify emulator: %w", err)
		}
		// Pending codes survive a restart (a hot reload), as they would at
		// Twilio.
		state := filepath.Join(devDir(cfg), devEmulatorFile)
		if b, err := readPrivate(state); err == nil {
			if err := emu.RestoreState(b); err != nil {
				log.Warn("development emulator state unreadable: pending codes are lost", "path", state, "err", err)
			}
		}
		hs := &http.Server{Handler: emu, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = hs.Serve(ln) }()
		stop = func() {
			_ = hs.Close()
			if b, err := emu.MarshalState(); err == nil {
				if err := writePrivate(state, b); err != nil {
					log.Warn("development emulator state not kept: pending codes end with this process", "path", state, "err", err)
				}
			}
		}
		tc.AccountSID, tc.AuthToken, tc.ServiceSID = emulator.DefaultAccountSID, emulator.DefaultAuthToken, emulator.DefaultServiceSID
		tc.APIURL = "http://" + ln.Addr().String()
		log.Warn("Twilio not configured: one-time codes are printed on standard output (development only)")
	} else if cfg.TwilioAPIURL != "" {
		log.Warn("TWILIO_API_URL set: Twilio requests go to it instead of Twilio", "url", cfg.TwilioAPIURL)
	} else {
		log.Info("one-time codes go through Twilio Verify", "service", cfg.TwilioVerifySID)
	}
	c, err := twilioverify.New(tc)
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	return c, stop, nil
}
