package authtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twostep/twostep/auth"
)

// Twilio Verify's rules, which OTP keeps (see ../shared/twilio-verify.md).
const (
	verificationTTL = 10 * time.Minute
	sendWindow      = 10 * time.Minute
	maxSends        = 5
	maxChecks       = 5
)

// OTP is an auth.OTPVerifier that behaves like Twilio Verify without the
// network: one pending verification per number for 10 minutes, the same
// code on a re-send, 5 checks per verification and 5 sends per number in
// 10 minutes, after which it answers as Twilio's client adapter does
// (60202/60203 as VerifyRateLimited, 20404 as VerifyNotFound). Codes are
// random 6-digit strings that tests read with Code. It is safe for
// concurrent use.
type OTP struct {
	now func() time.Time
	// CheckDelay, in nanoseconds, is how long each check takes.
	CheckDelay atomic.Int64

	mu       sync.Mutex
	pending  map[string]*verification // by number
	sends    map[string][]time.Time   // by number, within sendWindow
	last     map[string]string        // last code sent, by number
	channels map[string]auth.Channel  // channel of the last send, by number
	failures map[string]failure
	nSends   int
	nChecks  int
	nCancels int
}

type verification struct {
	sid, code string
	created   time.Time
	checks    int
}

type failure struct {
	err   error
	times int // 0: until cleared
}

var _ auth.OTPVerifier = (*OTP)(nil)

// NewOTP returns an OTP on the clock now.
func NewOTP(now func() time.Time) *OTP {
	return &OTP{
		now:      now,
		pending:  map[string]*verification{},
		sends:    map[string][]time.Time{},
		last:     map[string]string{},
		channels: map[string]auth.Channel{},
		failures: map[string]failure{},
	}
}

// StartVerification sends (records) a code to the number to. Like a new
// Twilio service, it has no WhatsApp sender.
func (o *OTP) StartVerification(ctx context.Context, to string, ch auth.Channel) (auth.Verification, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.nSends++
	if err := o.failLocked(to); err != nil {
		return auth.Verification{}, err
	}
	switch ch {
	case auth.ChannelSMS, auth.ChannelCall:
	case auth.ChannelWhatsApp:
		return auth.Verification{}, &auth.VerifyError{Kind: auth.VerifyChannelUnavailable, Code: 60223,
			Err: fmt.Errorf("authtest: delivery channel disabled: WHATSAPP")}
	default:
		return auth.Verification{}, &auth.VerifyError{Kind: auth.VerifyUnavailable, Code: 60200,
			Err: fmt.Errorf("authtest: invalid parameter: Channel")}
	}
	now := o.now()
	recent := o.sends[to][:0:0]
	for _, at := range o.sends[to] {
		if now.Before(at.Add(sendWindow)) {
			recent = append(recent, at)
		}
	}
	if len(recent) >= maxSends {
		o.sends[to] = recent
		return auth.Verification{}, &auth.VerifyError{Kind: auth.VerifyRateLimited, Code: 60203, RetryAfter: sendWindow,
			Err: fmt.Errorf("authtest: max send attempts reached")}
	}
	o.sends[to] = append(recent, now)
	v := o.pendingLocked(to, now)
	if v == nil || v.checks >= maxChecks {
		v = &verification{sid: "VE" + rand.Text(), code: fmt.Sprintf("%06d", randomInt(1e6)), created: now}
		o.pending[to] = v
	}
	o.last[to] = v.code
	o.channels[to] = ch
	return auth.Verification{SID: v.sid}, nil
}

// CheckVerification checks code against the pending verification sid,
// after CheckDelay (real time, as a provider's answer takes).
func (o *OTP) CheckVerification(ctx context.Context, sid, code string) (bool, error) {
	if d := time.Duration(o.CheckDelay.Load()); d > 0 {
		time.Sleep(d)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.nChecks++
	to := o.numberLocked(sid)
	if err := o.failLocked(to); err != nil {
		return false, err
	}
	v := o.pendingLocked(to, o.now())
	if v == nil || v.sid != sid {
		return false, &auth.VerifyError{Kind: auth.VerifyNotFound, Code: 20404, Err: fmt.Errorf("authtest: no pending verification")}
	}
	if v.checks >= maxChecks {
		delete(o.pending, to)
		return false, &auth.VerifyError{Kind: auth.VerifyExhausted, Code: 60202, RetryAfter: verificationTTL,
			Err: fmt.Errorf("authtest: max check attempts reached")}
	}
	v.checks++
	if code != v.code {
		return false, nil
	}
	delete(o.pending, to)
	return true, nil
}

// CancelVerification ends the pending verification sid.
func (o *OTP) CancelVerification(ctx context.Context, sid string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	to := o.numberLocked(sid)
	if err := o.failLocked(to); err != nil {
		return err
	}
	if to != "" {
		delete(o.pending, to)
	}
	o.nCancels++
	return nil
}

// numberLocked returns the number of the pending verification sid, or "".
func (o *OTP) numberLocked(sid string) string {
	for to, v := range o.pending {
		if v.sid == sid {
			return to
		}
	}
	return ""
}

func (o *OTP) pendingLocked(to string, now time.Time) *verification {
	v := o.pending[to]
	if v != nil && !now.Before(v.created.Add(verificationTTL)) {
		delete(o.pending, to)
		return nil
	}
	return v
}

func (o *OTP) failLocked(to string) error {
	f, ok := o.failures[to]
	if !ok {
		return nil
	}
	if f.times > 0 {
		if f.times--; f.times == 0 {
			delete(o.failures, to)
		} else {
			o.failures[to] = f
		}
	}
	return f.err
}

// Fail makes the next times calls about the number to return err (0:
// every call until ClearFailures). err is normally an *auth.VerifyError.
func (o *OTP) Fail(to string, err error, times int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failures[to] = failure{err: err, times: times}
}

// ClearFailures removes every injected failure.
func (o *OTP) ClearFailures() {
	o.mu.Lock()
	defer o.mu.Unlock()
	clear(o.failures)
}

// Code returns the last code sent to to, and whether one was.
func (o *OTP) Code(to string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c, ok := o.last[to]
	return c, ok
}

// Channel returns the channel of the last send to to ("" if none).
func (o *OTP) Channel(to string) auth.Channel {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.channels[to]
}

// Sends and Checks count the calls made so far, refused ones included.
func (o *OTP) Sends() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.nSends
}

// Checks: see Sends.
func (o *OTP) Checks() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.nChecks
}

func randomInt(n int) int {
	b := make([]byte, 8)
	rand.Read(b)
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return int(v % uint64(n))
}

// Cancels: see Sends.
func (o *OTP) Cancels() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.nCancels
}

// ResetCounts sets Sends, Checks and Cancels back to zero.
func (o *OTP) ResetCounts() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.nSends, o.nChecks, o.nCancels = 0, 0, 0
}
