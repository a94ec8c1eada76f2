package httpedge

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"connection", "203.0.113.7:5555", nil, nil, "203.0.113.7"},
		{"XFF ignored without trusted proxies", "203.0.113.7:5555", []string{"198.51.100.1"}, nil, "203.0.113.7"},
		{"XFF ignored from an untrusted peer", "203.0.113.7:5555", []string{"198.51.100.1"}, proxies, "203.0.113.7"},
		{"trusted proxy", "10.0.0.1:5555", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"spoofed left entry", "10.0.0.1:5555", []string{"6.6.6.6, 198.51.100.1"}, proxies, "198.51.100.1"},
		{"chain of proxies", "10.0.0.1:5555", []string{"198.51.100.1, 10.0.0.2, 10.0.0.3"}, proxies, "198.51.100.1"},
		{"spoofed trusted address on the left", "10.0.0.1:5555", []string{"10.9.9.9, 198.51.100.1"}, proxies, "198.51.100.1"},
		{"several headers", "10.0.0.1:5555", []string{"6.6.6.6", "198.51.100.1"}, proxies, "198.51.100.1"},
		{"garbage from the client stops the walk", "10.0.0.1:5555", []string{"nonsense, 198.51.100.1"}, proxies, "198.51.100.1"},
		{"garbage at the right: the proxy", "10.0.0.1:5555", []string{"198.51.100.1, nonsense"}, proxies, "10.0.0.1"},
		{"no header: the proxy", "10.0.0.1:5555", nil, proxies, "10.0.0.1"},
		{"only proxies: the farthest", "10.0.0.1:5555", []string{"10.0.0.3, 10.0.0.2"}, proxies, "10.0.0.3"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.1]:5555", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"IPv4-mapped client", "10.0.0.1:5555", []string{"::ffff:198.51.100.1"}, proxies, "198.51.100.1"},
		{"IPv6", "[fd00::1]:5555", []string{"2001:db8::7"}, proxies, "2001:db8::7"},
		{"IPv6 connection", "[2001:db8::9]:5555", []string{"198.51.100.1"}, nil, "2001:db8::9"},
		{"no port", "203.0.113.7", nil, nil, "203.0.113.7"},
		{"not an address", "@pipe", []string{"198.51.100.1"}, proxies, "@pipe"},
		{"XFF entry with a port", "10.0.0.1:5555", []string{"198.51.100.1:4711"}, proxies, "198.51.100.1"},
		{"XFF IPv6 entry with a port", "10.0.0.1:5555", []string{"[2001:db8::7]:443"}, proxies, "2001:db8::7"},
		{"XFF bracketed IPv6 without a port", "10.0.0.1:5555", []string{"[2001:db8::7]"}, proxies, "2001:db8::7"},
		{"XFF trusted hop with a port", "10.0.0.1:5555", []string{"198.51.100.1, 10.0.0.2:80"}, proxies, "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, tt.trusted); got != tt.want {
				t.Errorf("clientIP(%s, XFF %q) = %q, want %q", tt.remote, tt.xff, got, tt.want)
			}
		})
	}
}
