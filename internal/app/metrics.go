package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/graph"
	"github.com/twostep/twostep/internal/httpedge"
	"github.com/twostep/twostep/internal/metrics"
)

var _ graph.OperationObserver = (*metrics.Metrics)(nil)

// The observers New hands out; all nil without metrics, so that nothing
// is measured (and nothing costs) when METRICS_ADDR is unset.

func (a *App) authObserver() auth.Observer {
	if a.metrics == nil {
		return nil
	}
	return a.metrics
}

func (a *App) operationObserver() graph.OperationObserver {
	if a.metrics == nil {
		return nil
	}
	return a.metrics
}

func (a *App) twilioObserver() func(string, time.Duration, error) {
	if a.metrics == nil {
		return nil
	}
	return a.metrics.TwilioCall
}

func (a *App) hashWaitObserver() func(time.Duration) {
	if a.metrics == nil {
		return nil
	}
	return a.metrics.HashWait
}

// listenMetrics watches the store's pools and the hash limiter and opens
// the metrics listener on METRICS_ADDR, which Serve serves. An address
// that is taken stops start-up, naming the variable.
func (a *App) listenMetrics() error {
	w, r := a.db.Pools()
	pools := []struct {
		name string
		db   *sql.DB
	}{{"writer", w}, {"reader", r}}
	if w == r {
		pools = pools[:1]
		pools[0].name = "shared" // PostgreSQL: one pool for both
	}
	for _, p := range pools {
		if err := a.metrics.WatchDB(p.name, p.db); err != nil {
			return err
		}
	}
	if err := a.metrics.WatchHashLimiter(a.limiter.Stats); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("config: METRICS_ADDR: listen: %w", err)
	}
	a.metricsLn = ln
	a.closers = append(a.closers, func() { _ = ln.Close() })
	if a.cfg.MetricsPublic() {
		a.log.Warn("METRICS_ADDR may be reachable beyond loopback and private networks: metrics tell how the server is used; keep them off the internet", "addr", ln.Addr().String())
	}
	return nil
}

// MetricsAddr returns the address the metrics listener is bound to, or ""
// when METRICS_ADDR is unset.
func (a *App) MetricsAddr() string {
	if a.metricsLn == nil {
		return ""
	}
	return a.metricsLn.Addr().String()
}

// serveMetrics serves GET /metrics, and nothing else, on the metrics
// listener until ctx ends. It returns at once without one.
func (a *App) serveMetrics(ctx context.Context) {
	if a.metricsLn == nil {
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.Handler())
	srv := httpedge.NewServer(mux, 10*time.Second, a.log)
	a.log.Info("metrics listening", "addr", a.metricsLn.Addr().String())
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(a.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.log.Error("metrics listener failed", "err", err)
	}
}
