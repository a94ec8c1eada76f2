package config

import "testing"

func TestMetricsPublic(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"", false},
		{"127.0.0.1:9090", false},
		{"[::1]:9090", false},
		{"localhost:9090", false},
		{"10.1.2.3:9090", false},
		{"192.168.0.10:9090", false},
		{"[fd00::1]:9090", false},
		{"[::ffff:10.0.0.1]:9090", false},
		{":9090", true},
		{"0.0.0.0:9090", true},
		{"[::]:9090", true},
		{"198.51.100.7:9090", true},
		{"metrics.example.com:9090", true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			c := &Config{MetricsAddr: tt.addr}
			if got := c.MetricsPublic(); got != tt.want {
				t.Errorf("MetricsPublic() with METRICS_ADDR=%q = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestLoadMetricsAddr(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // "" with ok: off
		ok   bool
	}{
		{"unset: off", nil, "", true},
		{"loopback", map[string]string{"METRICS_ADDR": "127.0.0.1:9090"}, "127.0.0.1:9090", true},
		{"any free port", map[string]string{"METRICS_ADDR": "127.0.0.1:0"}, "127.0.0.1:0", true},
		{"IPv6", map[string]string{"METRICS_ADDR": "[::1]:9090"}, "[::1]:9090", true},
		{"no port", map[string]string{"METRICS_ADDR": "127.0.0.1"}, "", false},
		{"IPv6 without brackets", map[string]string{"METRICS_ADDR": "::1:9090"}, "", false},
		{"the API's port", map[string]string{"PORT": "9090", "METRICS_ADDR": "10.0.0.1:9090"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(func(k string) string { return tt.env[k] })
			if (err == nil) != tt.ok {
				t.Fatalf("Load(%v) = %v, want ok %v", tt.env, err, tt.ok)
			}
			if tt.ok && c.MetricsAddr != tt.want {
				t.Errorf("Load(%v).MetricsAddr = %q, want %q", tt.env, c.MetricsAddr, tt.want)
			}
		})
	}
}
