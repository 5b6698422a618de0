package httpapi

import (
	"crypto/tls"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// TestClientOf: the client address and scheme of a request, by peer,
// --trusted-proxies and forwarding headers, malformed ones included.
func TestClientOf(t *testing.T) {
	t.Parallel()
	lan := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	many := strings.Repeat("10.0.0.1, ", 40) + "10.0.0.2"
	tests := []struct {
		name    string
		peer    string
		trusted []netip.Prefix
		xff     []string
		proto   []string
		tls     bool
		addr    string
		https   bool
	}{
		{"no list: header ignored", "192.0.2.1:4000", nil, []string{"203.0.113.1"}, []string{"https"}, false, "192.0.2.1", false},
		{"untrusted peer: header ignored", "192.0.2.1:4000", lan, []string{"203.0.113.1"}, []string{"https"}, false, "192.0.2.1", false},
		{"trusted peer", "10.1.1.1:4000", lan, []string{"203.0.113.1"}, []string{"https"}, false, "203.0.113.1", true},
		{"rightmost untrusted", "10.1.1.1:4000", lan, []string{"198.51.100.1, 203.0.113.1, 10.2.2.2"}, nil, false, "203.0.113.1", false},
		{"several lines", "10.1.1.1:4000", lan, []string{"198.51.100.1", "203.0.113.1", "10.2.2.2"}, nil, false, "203.0.113.1", false},
		{"only proxies: the leftmost", "10.1.1.1:4000", lan, []string{"10.3.3.3, 10.2.2.2"}, nil, false, "10.3.3.3", false},
		{"no header: the proxy", "10.1.1.1:4000", lan, nil, nil, false, "10.1.1.1", false},
		{"ports and brackets", "10.1.1.1:4000", lan, []string{"[2001:DB8::1]:443"}, nil, false, "2001:db8::1", false},
		{"bracketed without port", "10.1.1.1:4000", lan, []string{" [2001:db8::2] "}, nil, false, "2001:db8::2", false},
		{"v4 with port", "10.1.1.1:4000", lan, []string{"203.0.113.7:5555"}, nil, false, "203.0.113.7", false},
		{"mapped v4", "10.1.1.1:4000", lan, []string{"::ffff:203.0.113.8"}, nil, false, "203.0.113.8", false},
		{"mapped peer", "[::ffff:10.1.1.1]:4000", lan, []string{"203.0.113.9"}, nil, false, "203.0.113.9", false},
		{"v6 peer", "[::1]:4000", lan, []string{"203.0.113.10"}, nil, false, "203.0.113.10", false},
		{"garbage: the proxy", "10.1.1.1:4000", lan, []string{"garbage"}, nil, false, "10.1.1.1", false},
		{"unknown: the proxy", "10.1.1.1:4000", lan, []string{"unknown"}, nil, false, "10.1.1.1", false},
		{"zone: the proxy", "10.1.1.1:4000", lan, []string{"fe80::1%eth0"}, nil, false, "10.1.1.1", false},
		{"empty: the proxy", "10.1.1.1:4000", lan, []string{""}, nil, false, "10.1.1.1", false},
		{"trailing comma: the proxy", "10.1.1.1:4000", lan, []string{"203.0.113.1,"}, nil, false, "10.1.1.1", false},
		{"garbage behind a proxy: that proxy", "10.1.1.1:4000", lan, []string{"203.0.113.1, nonsense, 10.2.2.2"}, nil, false, "10.2.2.2", false},
		{"garbage left of the client", "10.1.1.1:4000", lan, []string{"nonsense, 203.0.113.1"}, nil, false, "203.0.113.1", false},
		{"out of range", "10.1.1.1:4000", lan, []string{"203.0.113.300"}, nil, false, "10.1.1.1", false},
		{"a long chain stops after 16", "10.1.1.1:4000", lan, []string{"203.0.113.1, " + many}, nil, false, "10.0.0.1", false},
		{"proto: the last value", "10.1.1.1:4000", lan, nil, []string{"http, https"}, false, "10.1.1.1", true},
		{"proto: http over TLS to the proxy", "10.1.1.1:4000", lan, nil, []string{"HTTP"}, true, "10.1.1.1", false},
		{"proto: nonsense keeps the connection's", "10.1.1.1:4000", lan, nil, []string{"gopher"}, true, "10.1.1.1", true},
		{"proto from an untrusted peer", "192.0.2.1:4000", lan, nil, []string{"http"}, true, "192.0.2.1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest("GET", "http://chat.example/", nil)
			if err != nil {
				t.Fatal(err)
			}
			r.RemoteAddr = tt.peer
			r.Header["X-Forwarded-For"] = tt.xff
			r.Header["X-Forwarded-Proto"] = tt.proto
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			addr, https := clientOf(r, tt.trusted)
			if addr != tt.addr || https != tt.https {
				t.Errorf("clientOf: got %s https=%v, want %s https=%v", addr, https, tt.addr, tt.https)
			}
		})
	}
}
