// Package metrics is twostep's Prometheus instrumentation: what the login
// rules do (through auth.Observer), the GraphQL operations answered
// (through graph.OperationObserver), Twilio's latency, the bcrypt limiter,
// the database pools and the Go runtime, in a registry of its own served
// by Handler on a listener of its own (METRICS_ADDR), never on the API's.
//
// Every label value comes from a fixed set: the schema's field names, the
// error codes, and the outcomes, purposes, channels and limits listed
// here. A value outside its set is counted as "other", so no caller can
// put an email, a number, an address or an id into a label by mistake.
package metrics

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/internal/hashlimit"
)

// Metrics holds twostep's metrics. Create it with New; it is safe for
// concurrent use.
type Metrics struct {
	reg   *prometheus.Registry
	stock prometheus.Registerer // reg, prefixing the stock collectors' names

	operations    *prometheus.CounterVec
	logins        *prometheus.CounterVec
	codeChecks    *prometheus.CounterVec
	sends         *prometheus.CounterVec
	limitHits     *prometheus.CounterVec
	eventsDropped prometheus.Counter
	twilio        *prometheus.HistogramVec
	hashWait      prometheus.Histogram
}

// New returns the metrics, with the Go runtime and process collectors
// registered and every counter of the auth observer at zero.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twostep_graphql_operations_total",
			Help: "GraphQL operations answered, by root field (each root field of an operation once; \"invalid\" for an invalid operation) and result code (the first error's extensions.code, or OK).",
		}, []string{"field", "code"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twostep_logins_total",
			Help: "Password steps of a login, by outcome: succeeded (code sent), failed (wrong password or unknown email), invalid (malformed input), refused (a limit, or the code could not be sent), error.",
		}, []string{"outcome"}),
		codeChecks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twostep_code_checks_total",
			Help: "One-time codes checked, by purpose (login, reset, phone) and outcome (approved, wrong, error).",
		}, []string{"purpose", "outcome"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twostep_code_sends_total",
			Help: "One-time codes to send, by channel (sms, call, whatsapp) and outcome: sent, refused (a limit), failed (at the provider).",
		}, []string{"channel", "outcome"}),
		limitHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twostep_limit_hits_total",
			Help: "Requests refused by a limit, by limit.",
		}, []string{"limit"}),
		eventsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "twostep_security_events_dropped_total",
			Help: "Security events lost: the buffer was full, or the store failed.",
		}),
		twilio: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "twostep_twilio_request_duration_seconds",
			Help:    "Requests to Twilio Verify, by op (start, check, cancel) and outcome (ok, not_found, rate_limited, channel_unavailable, unavailable).",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"op", "outcome"}),
		hashWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "twostep_bcrypt_queue_wait_seconds",
			Help:    "How long each password hash waited for a slot: 0 when it started at once; waits that ended in giving up included.",
			Buckets: []float64{0, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	// The stock collectors too carry the twostep_ prefix (twostep_go_*,
	// twostep_process_*, twostep_go_sql_*): every name this listener
	// serves is twostep's.
	m.stock = prometheus.WrapRegistererWithPrefix("twostep_", m.reg)
	m.stock.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.reg.MustRegister(
		m.operations, m.logins, m.codeChecks, m.sends, m.limitHits, m.eventsDropped, m.twilio, m.hashWait,
	)
	// Series that exist from the start make rate() and increase() right
	// from the first event.
	for _, o := range loginOutcomes {
		m.logins.WithLabelValues(o)
	}
	for _, p := range purposes {
		for _, o := range checkOutcomes {
			m.codeChecks.WithLabelValues(p, o)
		}
	}
	for _, c := range channels {
		for _, o := range sendOutcomes {
			m.sends.WithLabelValues(c, o)
		}
	}
	for _, l := range limits {
		m.limitHits.WithLabelValues(l)
	}
	return m
}

// Handler serves the metrics in Prometheus' text format. Mount it at
// /metrics on the metrics listener only.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}

// Operation counts one GraphQL operation under each of its root fields
// (graph.OperationObserver), without allocating. The graph handler
// guarantees the values: the schema's field names or "invalid", and
// server-side error codes.
func (m *Metrics) Operation(fields []string, code string) {
	for _, f := range fields {
		m.operations.WithLabelValues(f, code).Inc()
	}
}

// TwilioCall records one request to Twilio Verify (twilioverify.Config's
// Observe): op is start, check or cancel; err nil or an *auth.VerifyError.
func (m *Metrics) TwilioCall(op string, d time.Duration, err error) {
	m.twilio.WithLabelValues(oneOf(op, twilioOps), twilioOutcome(err)).Observe(d.Seconds())
}

func twilioOutcome(err error) string {
	if err == nil {
		return "ok"
	}
	var ve *auth.VerifyError
	if !errors.As(err, &ve) {
		return "unavailable"
	}
	switch ve.Kind {
	case auth.VerifyNotFound:
		return "not_found"
	case auth.VerifyRateLimited, auth.VerifyExhausted:
		return "rate_limited"
	case auth.VerifyChannelUnavailable:
		return "channel_unavailable"
	}
	return "unavailable"
}

// HashWait records how long a password hash waited for a slot
// (hashlimit.Options' ObserveWait).
func (m *Metrics) HashWait(d time.Duration) { m.hashWait.Observe(d.Seconds()) }

// WatchHashLimiter reports the bcrypt limiter's state, read from stats at
// each scrape. It returns an error if a limiter is watched already.
func (m *Metrics) WatchHashLimiter(stats func() hashlimit.Stats) error {
	if err := m.reg.Register(newHashCollector(stats)); err != nil {
		return fmt.Errorf("metrics: watch hash limiter: %w", err)
	}
	return nil
}

// WatchDB reports db's pool statistics (database/sql's DBStats) under the
// label db_name=name. It returns an error if name is watched already.
func (m *Metrics) WatchDB(name string, db *sql.DB) error {
	if err := m.stock.Register(collectors.NewDBStatsCollector(db, name)); err != nil {
		return fmt.Errorf("metrics: watch database pool %s: %w", name, err)
	}
	return nil
}

// hashCollector turns a snapshot of the bcrypt limiter into metrics.
type hashCollector struct {
	stats                                        func() hashlimit.Stats
	inFlight, queued, limit, completed, rejected *prometheus.Desc
}

func newHashCollector(stats func() hashlimit.Stats) *hashCollector {
	return &hashCollector{
		stats:     stats,
		inFlight:  prometheus.NewDesc("twostep_bcrypt_in_flight", "Password hashes running.", nil, nil),
		queued:    prometheus.NewDesc("twostep_bcrypt_queued", "Password hashes waiting for a slot.", nil, nil),
		limit:     prometheus.NewDesc("twostep_bcrypt_limit", "How many password hashes may run at once now (it falls while other requests are in flight).", nil, nil),
		completed: prometheus.NewDesc("twostep_bcrypt_completed_total", "Password hashes run.", nil, nil),
		rejected:  prometheus.NewDesc("twostep_bcrypt_rejected_total", "Password hashes refused (the request is answered RATE_LIMITED), by reason: queue_full, too_long (the wait would pass, or passed, HASH_MAX_WAIT), canceled.", []string{"reason"}, nil),
	}
}

func (c *hashCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.inFlight, c.queued, c.limit, c.completed, c.rejected} {
		ch <- d
	}
}

func (c *hashCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(s.InFlight))
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(s.Waiting))
	ch <- prometheus.MustNewConstMetric(c.limit, prometheus.GaugeValue, float64(s.Limit))
	ch <- prometheus.MustNewConstMetric(c.completed, prometheus.CounterValue, float64(s.Completed))
	ch <- prometheus.MustNewConstMetric(c.rejected, prometheus.CounterValue, float64(s.QueueFull), "queue_full")
	ch <- prometheus.MustNewConstMetric(c.rejected, prometheus.CounterValue, float64(s.TooLong), "too_long")
	ch <- prometheus.MustNewConstMetric(c.rejected, prometheus.CounterValue, float64(s.Canceled), "canceled")
}
