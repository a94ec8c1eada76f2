package config

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// readMetrics reads METRICS_ADDR, the host:port of the metrics listener,
// or nothing for no metrics. It must be a listener of its own: the API's
// port is refused.
func (c *Config) readMetrics(p *parser) {
	c.MetricsAddr = p.str("METRICS_ADDR", "")
	if c.MetricsAddr == "" {
		return
	}
	_, port, err := net.SplitHostPort(c.MetricsAddr)
	n, perr := strconv.Atoi(port)
	switch {
	case err != nil || perr != nil || n < 0 || n > 65535:
		p.fail("METRICS_ADDR", "must be host:port, such as 127.0.0.1:9090, got %q", c.MetricsAddr)
	case n != 0 && n == c.Port:
		p.fail("METRICS_ADDR", "must not use the API's PORT %d: metrics are served on a listener of their own", c.Port)
	}
}

// MetricsPublic reports whether METRICS_ADDR may be reachable beyond
// loopback and private networks: every interface (no host, 0.0.0.0, ::),
// a public address, or a host name other than localhost, which cannot be
// told. Metrics say how the server is used and must not be public.
func (c *Config) MetricsPublic() bool {
	host, _, err := net.SplitHostPort(c.MetricsAddr)
	if err != nil {
		return false // no metrics
	}
	if strings.EqualFold(host, "localhost") {
		return false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return true
	}
	a = a.Unmap()
	return !(a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast())
}
