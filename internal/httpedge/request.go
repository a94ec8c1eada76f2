package httpedge

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Info is what the edge learned about a request before any route ran.
type Info struct {
	ID        string // request id, also in the X-Request-Id header
	ClientIP  string // the connection's address, or the forwarded one behind a trusted proxy
	UserAgent string
	body      []byte
}

type infoKey struct{}

// FromContext returns the Info of the request behind ctx; outside a
// request it returns an empty Info.
func FromContext(ctx context.Context) *Info {
	if i, ok := ctx.Value(infoKey{}).(*Info); ok {
		return i
	}
	return &Info{}
}

// NewContext returns ctx carrying info, for handlers tested without the
// edge.
func NewContext(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// Body returns the body the edge read for r: nil for a request without one.
func Body(r *http.Request) []byte { return FromContext(r.Context()).body }

// LogHandler adds the request id and client IP to every record logged with
// a request's context, so each event can be traced to its request and
// client.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if i, ok := ctx.Value(infoKey{}).(*Info); ok {
		r.AddAttrs(slog.String("request_id", i.ID), slog.String("client_ip", i.ClientIP))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(attrs)}
}

func (h logHandler) WithGroup(name string) slog.Handler {
	return logHandler{h.Handler.WithGroup(name)}
}

// clientIP returns the address a request came from: the connection's, or,
// when the connection is from a trusted proxy, the right-most address in
// X-Forwarded-For that is not itself a trusted proxy, so a client cannot
// choose its address by adding entries on the left.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	addr, ok := parseAddr(r.RemoteAddr)
	if !ok {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return r.RemoteAddr
		}
		return host
	}
	if !isTrusted(addr, trusted) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseAddr(strings.TrimSpace(hops[i]))
		if !ok {
			break
		}
		if !isTrusted(a, trusted) {
			return a.String()
		}
		addr = a
	}
	return addr.String()
}

// parseAddr reads an address with or without a port (1.2.3.4,
// 1.2.3.4:5678, 2001:db8::1, [2001:db8::1]:443), unmapping IPv4-in-IPv6.
func parseAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
