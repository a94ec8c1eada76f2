package metrics

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/internal/hashlimit"
)

// sample returns the metric name{labels} of m's registry, failing tb if
// there is none.
func sample(tb testing.TB, m *Metrics, name string, labels map[string]string) *dto.Metric {
	tb.Helper()
	families, err := m.reg.Gather()
	if err != nil {
		tb.Fatalf("Gather() = %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, s := range f.GetMetric() {
			if len(s.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range s.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue next
				}
			}
			return s
		}
	}
	tb.Fatalf("no sample %s%v", name, labels)
	return nil
}

// count returns the value of a counter, or the count of a histogram.
func count(tb testing.TB, m *Metrics, name string, labels map[string]string) float64 {
	tb.Helper()
	s := sample(tb, m, name, labels)
	switch {
	case s.GetCounter() != nil:
		return s.GetCounter().GetValue()
	case s.GetHistogram() != nil:
		return float64(s.GetHistogram().GetSampleCount())
	case s.GetGauge() != nil:
		return s.GetGauge().GetValue()
	}
	tb.Fatalf("%s%v is not a counter, gauge or histogram", name, labels)
	return 0
}

func TestAuthObserver(t *testing.T) {
	tests := []struct {
		name   string
		call   func(*Metrics)
		metric string
		labels map[string]string
		want   float64
	}{
		{"login", func(m *Metrics) { m.Login("succeeded") }, "twostep_logins_total", map[string]string{"outcome": "succeeded"}, 1},
		{"code check", func(m *Metrics) { m.CodeCheck("reset", "wrong") }, "twostep_code_checks_total", map[string]string{"purpose": "reset", "outcome": "wrong"}, 1},
		{"send", func(m *Metrics) { m.Send(auth.ChannelWhatsApp, "failed") }, "twostep_code_sends_total", map[string]string{"channel": "whatsapp", "outcome": "failed"}, 1},
		{"limit", func(m *Metrics) { m.LimitHit("phone_cooldown"); m.LimitHit("phone_cooldown") }, "twostep_limit_hits_total", map[string]string{"limit": "phone_cooldown"}, 2},
		{"events dropped", func(m *Metrics) { m.EventsDropped(3); m.EventsDropped(0) }, "twostep_security_events_dropped_total", map[string]string{}, 3},
		// Anything outside a fixed set is other, never itself.
		{"unknown outcome", func(m *Metrics) { m.Login("ada@example.com") }, "twostep_logins_total", map[string]string{"outcome": "other"}, 1},
		{"unknown purpose", func(m *Metrics) { m.CodeCheck("+14155550100", "approved") }, "twostep_code_checks_total", map[string]string{"purpose": "other", "outcome": "approved"}, 1},
		{"unknown channel", func(m *Metrics) { m.Send("carrier pigeon", "sent") }, "twostep_code_sends_total", map[string]string{"channel": "other", "outcome": "sent"}, 1},
		{"unknown limit", func(m *Metrics) { m.LimitHit("ip:login:192.0.2.1") }, "twostep_limit_hits_total", map[string]string{"limit": "other"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			tt.call(m)
			if got := count(t, m, tt.metric, tt.labels); got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.metric, tt.labels, got, tt.want)
			}
		})
	}
}

// TestZeroSeries checks that the auth observer's series exist before any
// event, so rate() and increase() see the first one.
func TestZeroSeries(t *testing.T) {
	m := New()
	for _, s := range []struct {
		metric string
		labels map[string]string
	}{
		{"twostep_logins_total", map[string]string{"outcome": "refused"}},
		{"twostep_code_checks_total", map[string]string{"purpose": "phone", "outcome": "error"}},
		{"twostep_code_sends_total", map[string]string{"channel": "sms", "outcome": "failed"}},
		{"twostep_limit_hits_total", map[string]string{"limit": "hash_capacity"}},
		{"twostep_security_events_dropped_total", map[string]string{}},
	} {
		if got := count(t, m, s.metric, s.labels); got != 0 {
			t.Errorf("%s%v = %v before any event, want 0", s.metric, s.labels, got)
		}
	}
}

func TestOperation(t *testing.T) {
	m := New()
	m.Operation([]string{"me"}, "OK")
	m.Operation([]string{"me", "__typename"}, "UNAUTHENTICATED")
	m.Operation([]string{"me"}, "OK")
	for _, s := range []struct {
		field, code string
		want        float64
	}{{"me", "OK", 2}, {"me", "UNAUTHENTICATED", 1}, {"__typename", "UNAUTHENTICATED", 1}} {
		labels := map[string]string{"field": s.field, "code": s.code}
		if got := count(t, m, "twostep_graphql_operations_total", labels); got != s.want {
			t.Errorf("twostep_graphql_operations_total%v = %v, want %v", labels, got, s.want)
		}
	}
	fields := []string{"me"}
	if n := testing.AllocsPerRun(100, func() { m.Operation(fields, "OK") }); n != 0 {
		t.Errorf("Operation(me, OK) allocates %v times, want 0", n)
	}
}

func BenchmarkOperation(b *testing.B) {
	m := New()
	fields := []string{"me"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Operation(fields, "OK")
		}
	})
}

func TestTwilioCall(t *testing.T) {
	m := New()
	m.TwilioCall("start", 300*time.Millisecond, nil)
	m.TwilioCall("check", time.Second, &auth.VerifyError{Kind: auth.VerifyNotFound})
	m.TwilioCall("check", time.Second, &auth.VerifyError{Kind: auth.VerifyRateLimited})
	m.TwilioCall("start", time.Second, &auth.VerifyError{Kind: auth.VerifyChannelUnavailable})
	m.TwilioCall("cancel", time.Second, &auth.VerifyError{Kind: auth.VerifyUnavailable})
	m.TwilioCall("cancel", time.Second, errors.New("not classified"))
	m.TwilioCall("VE123", time.Second, nil)
	for _, s := range []struct {
		op, outcome string
		want        float64
	}{
		{"start", "ok", 1}, {"check", "not_found", 1}, {"check", "rate_limited", 1},
		{"start", "channel_unavailable", 1}, {"cancel", "unavailable", 2}, {"other", "ok", 1},
	} {
		labels := map[string]string{"op": s.op, "outcome": s.outcome}
		if got := count(t, m, "twostep_twilio_request_duration_seconds", labels); got != s.want {
			t.Errorf("twostep_twilio_request_duration_seconds%v count = %v, want %v", labels, got, s.want)
		}
	}
	h := sample(t, m, "twostep_twilio_request_duration_seconds", map[string]string{"op": "start", "outcome": "ok"}).GetHistogram()
	if got := h.GetSampleSum(); got != 0.3 {
		t.Errorf("start ok sum = %v, want 0.3 (seconds)", got)
	}
}

func TestHashLimiter(t *testing.T) {
	m := New()
	stats := hashlimit.Stats{InFlight: 2, Waiting: 5, Limit: 3, Completed: 40, Rejected: 9, QueueFull: 4, TooLong: 3, Canceled: 2}
	if err := m.WatchHashLimiter(func() hashlimit.Stats { return stats }); err != nil {
		t.Fatalf("WatchHashLimiter() = %v", err)
	}
	if err := m.WatchHashLimiter(func() hashlimit.Stats { return stats }); err == nil {
		t.Error("WatchHashLimiter() twice = nil, want an error")
	}
	m.HashWait(0)
	m.HashWait(30 * time.Millisecond)
	for _, s := range []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"twostep_bcrypt_in_flight", nil, 2},
		{"twostep_bcrypt_queued", nil, 5},
		{"twostep_bcrypt_limit", nil, 3},
		{"twostep_bcrypt_completed_total", nil, 40},
		{"twostep_bcrypt_rejected_total", map[string]string{"reason": "queue_full"}, 4},
		{"twostep_bcrypt_rejected_total", map[string]string{"reason": "too_long"}, 3},
		{"twostep_bcrypt_rejected_total", map[string]string{"reason": "canceled"}, 2},
		{"twostep_bcrypt_queue_wait_seconds", nil, 2},
	} {
		if got := count(t, m, s.metric, s.labels); got != s.want {
			t.Errorf("%s%v = %v, want %v", s.metric, s.labels, got, s.want)
		}
	}
}

// connector is a database that is never connected to: its pool's
// statistics are all there is.
type connector struct{}

func (connector) Connect(context.Context) (driver.Conn, error) { return nil, errors.New("no database") }
func (connector) Driver() driver.Driver                        { return nil }

func TestWatchDB(t *testing.T) {
	m := New()
	db := sql.OpenDB(connector{})
	defer db.Close()
	db.SetMaxOpenConns(7)
	if err := m.WatchDB("reader", db); err != nil {
		t.Fatalf("WatchDB(reader) = %v", err)
	}
	if err := m.WatchDB("reader", db); err == nil {
		t.Error("WatchDB(reader) twice = nil, want an error")
	}
	if got := count(t, m, "twostep_go_sql_max_open_connections", map[string]string{"db_name": "reader"}); got != 7 {
		t.Errorf("twostep_go_sql_max_open_connections{db_name=reader} = %v, want 7", got)
	}
}

func TestHandler(t *testing.T) {
	m := New()
	m.Operation([]string{"me"}, "OK")
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`twostep_graphql_operations_total{code="OK",field="me"} 1`,
		"twostep_go_goroutines ",
		"twostep_process_cpu_seconds_total ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GET /metrics = %d, want %q in\n%s", resp.StatusCode, want, body)
		}
	}
}
