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

// TestClientOfForwarded: the RFC 7239 Forwarded header under the same
// trust rule as X-Forwarded-For, with quoted IPv6 addresses, ports,
// several elements and lines, obfuscated identifiers, and both headers at
// once (then they must agree, or the client is the proxy).
func TestClientOfForwarded(t *testing.T) {
	t.Parallel()
	lan := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name    string
		peer    string
		trusted []netip.Prefix
		fwd     []string
		xff     []string
		addr    string
	}{
		{"no list: header ignored", "192.0.2.1:4000", nil, []string{"for=203.0.113.1"}, nil, "192.0.2.1"},
		{"untrusted peer: header ignored", "192.0.2.1:4000", lan, []string{"for=203.0.113.1"}, nil, "192.0.2.1"},
		{"trusted peer", "10.1.1.1:4000", lan, []string{"for=203.0.113.1;proto=https;by=10.1.1.1"}, nil, "203.0.113.1"},
		{"names are case-blind", "10.1.1.1:4000", lan, []string{"Proto=http; FOR=203.0.113.2"}, nil, "203.0.113.2"},
		{"quoted v4 with port", "10.1.1.1:4000", lan, []string{`for="203.0.113.3:4711"`}, nil, "203.0.113.3"},
		{"quoted v6 with port", "10.1.1.1:4000", lan, []string{`for="[2001:DB8:cafe::17]:4711"`}, nil, "2001:db8:cafe::17"},
		{"quoted v6", "10.1.1.1:4000", lan, []string{`for="[2001:db8::18]"`}, nil, "2001:db8::18"},
		{"rightmost untrusted element", "10.1.1.1:4000", lan, []string{`for=198.51.100.1, for=203.0.113.4;by="[::1]", for=10.2.2.2`}, nil, "203.0.113.4"},
		{"several lines", "10.1.1.1:4000", lan, []string{"for=198.51.100.1", "for=203.0.113.5", "for=10.2.2.2"}, nil, "203.0.113.5"},
		{"quoted comma in another value", "10.1.1.1:4000", lan, []string{`for=203.0.113.6;ext="a, for=198.51.100.6"`}, nil, "203.0.113.6"},
		{"obfuscated port ignored", "10.1.1.1:4000", lan, []string{`for="203.0.113.7:_p0rt"`}, nil, "203.0.113.7"},
		{"obfuscated node: the proxy", "10.1.1.1:4000", lan, []string{"for=198.51.100.8, for=_hidden"}, nil, "10.1.1.1"},
		{"unknown: the proxy", "10.1.1.1:4000", lan, []string{"for=198.51.100.9, for=unknown"}, nil, "10.1.1.1"},
		{"obfuscated behind a proxy: that proxy", "10.1.1.1:4000", lan, []string{"for=_x, for=10.2.2.2"}, nil, "10.2.2.2"},
		{"element without for: the proxy", "10.1.1.1:4000", lan, []string{"for=198.51.100.10, proto=https"}, nil, "10.1.1.1"},
		{"unquoted v6: the proxy", "10.1.1.1:4000", lan, []string{"for=2001:db8::19"}, nil, "10.1.1.1"},
		{"v4 in brackets: the proxy", "10.1.1.1:4000", lan, []string{`for="[203.0.113.11]"`}, nil, "10.1.1.1"},
		{"bad port: the proxy", "10.1.1.1:4000", lan, []string{`for="203.0.113.12:http"`}, nil, "10.1.1.1"},
		{"unterminated quote: the proxy", "10.1.1.1:4000", lan, []string{`for="203.0.113.13`}, nil, "10.1.1.1"},
		{"zone: the proxy", "10.1.1.1:4000", lan, []string{`for="[fe80::1%eth0]"`}, nil, "10.1.1.1"},
		{"empty: the proxy", "10.1.1.1:4000", lan, []string{""}, nil, "10.1.1.1"},
		{"mapped v4", "10.1.1.1:4000", lan, []string{`for="[::ffff:203.0.113.14]"`}, nil, "203.0.113.14"},
		{"both agree", "10.1.1.1:4000", lan, []string{"for=203.0.113.15"}, []string{"203.0.113.15"}, "203.0.113.15"},
		// A proxy that appends to X-Forwarded-For passes on the client's
		// own Forwarded, and the other way round: neither is believed.
		{"spoofed Forwarded past an X-Forwarded-For proxy", "10.1.1.1:4000", lan, []string{"for=198.51.100.16"}, []string{"203.0.113.16"}, "10.1.1.1"},
		{"spoofed X-Forwarded-For past a Forwarded proxy", "10.1.1.1:4000", lan, []string{"for=203.0.113.17"}, []string{"198.51.100.17"}, "10.1.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tt.peer, Header: http.Header{"Forwarded": tt.fwd, "X-Forwarded-For": tt.xff}}
			if addr, _ := clientOf(r, tt.trusted); addr != tt.addr {
				t.Errorf("clientOf: got %s, want %s", addr, tt.addr)
			}
		})
	}
	many := strings.Repeat("for=10.0.0.1, ", 40) + "for=10.0.0.2"
	r := &http.Request{RemoteAddr: "10.1.1.1:4000", Header: http.Header{"Forwarded": {"for=203.0.113.1, " + many}}}
	if addr, _ := clientOf(r, lan); addr != "10.0.0.1" {
		t.Errorf("a long chain: got %s, want 10.0.0.1 (the walk stops after 16)", addr)
	}
}

// FuzzForwarded: whatever a trusted proxy passes on in Forwarded, the
// client is an address, never a fragment of the header.
func FuzzForwarded(f *testing.F) {
	for _, s := range []string{`for=203.0.113.1;proto=https`, `for="[2001:db8::1]:4711", for=_x`, `for="a\"b, c";for=1.2.3.4`, `for="`, `,,;;==`} {
		f.Add(s)
	}
	lan := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	f.Fuzz(func(t *testing.T, h string) {
		r := &http.Request{RemoteAddr: "10.1.1.1:4000", Header: http.Header{"Forwarded": {h}}}
		addr, _ := clientOf(r, lan)
		if _, err := netip.ParseAddr(addr); err != nil {
			t.Fatalf("Forwarded %q: client %q is not an address", h, addr)
		}
	})
}
