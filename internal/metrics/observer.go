package metrics

import (
	"slices"

	"github.com/twostep/twostep/auth"
)

var _ auth.Observer = (*Metrics)(nil)

// The label values of the auth observer's metrics. A value auth reports
// that is not listed is counted as other: add new ones here (and to the
// README's metrics section); the limits are auth's own list.
var (
	loginOutcomes = []string{"succeeded", "failed", "invalid", "refused", "error"}
	purposes      = []string{"login", "reset", "phone"}
	checkOutcomes = []string{"approved", "wrong", "error"}
	channels      = []string{string(auth.ChannelSMS), string(auth.ChannelCall), string(auth.ChannelWhatsApp)}
	sendOutcomes  = []string{"sent", "refused", "failed"}
	limits        = auth.LimitNames
	twilioOps     = []string{"start", "check", "cancel"}
)

// other is the label value of anything outside its fixed set.
const other = "other"

// oneOf returns v if it is in set, else other.
func oneOf(v string, set []string) string {
	if slices.Contains(set, v) {
		return v
	}
	return other
}

// Login counts a password step by outcome.
func (m *Metrics) Login(outcome string) {
	m.logins.WithLabelValues(oneOf(outcome, loginOutcomes)).Inc()
}

// CodeCheck counts a code checked, by purpose and outcome.
func (m *Metrics) CodeCheck(purpose, outcome string) {
	m.codeChecks.WithLabelValues(oneOf(purpose, purposes), oneOf(outcome, checkOutcomes)).Inc()
}

// Send counts a code sent, refused or failed, by channel.
func (m *Metrics) Send(ch auth.Channel, outcome string) {
	m.sends.WithLabelValues(oneOf(string(ch), channels), oneOf(outcome, sendOutcomes)).Inc()
}

// LimitHit counts a refusal by a limit.
func (m *Metrics) LimitHit(limit string) {
	m.limitHits.WithLabelValues(oneOf(limit, limits)).Inc()
}

// EventsDropped counts security events lost.
func (m *Metrics) EventsDropped(n int) {
	if n > 0 {
		m.eventsDropped.Add(float64(n))
	}
}
