package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds the X-Forwarded-For entries read from the right:
// no real chain of proxies is longer, and a header of thousands of trusted
// addresses must not cost more than a few.
const maxForwardedHops = 16

// requestInfo is what the middleware learns about a request once: its id
// and its client. It is the request's only context value besides the user.
type requestInfo struct {
	id     string
	client string // the client address every per-client limit and log uses
	https  bool   // the client's scheme, for links when no public URL is set
}

// info returns what the middleware learnt about the request; outside the
// middleware, the direct peer as the client and no id.
func info(r *http.Request) requestInfo {
	if ri, ok := r.Context().Value(requestInfoKey).(*requestInfo); ok {
		return *ri
	}
	var ri requestInfo
	ri.client, ri.https = clientOf(r, nil)
	return ri
}

// clientAddr is the request's client address, the one every per-client
// limit counts by (failed sign-ins, code guesses, sign-up and reset mail,
// meeting joins) and the access log shows: the direct peer unless that
// peer is a trusted proxy (clientOf, run once by the middleware).
func clientAddr(r *http.Request) string { return info(r).client }

// clientOf finds a request's client address and whether the client used
// HTTPS. X-Forwarded-For and X-Forwarded-Proto are believed only when the
// direct peer is in trusted (--trusted-proxies): any client can send those
// headers, and believing them from anyone would let a client pick a new
// address for every request and escape the per-address limits.
//
// Behind trusted proxies the client is the rightmost X-Forwarded-For entry
// that is not itself a trusted proxy: each proxy appends the address it
// got the request from, so entries to the right of the first untrusted one
// were written by proxies we trust, and entries to its left by whoever
// that client is. A malformed entry ends the walk at the last address read
// (the proxy that passed it on), so garbage never becomes an address of
// its own.
func clientOf(r *http.Request, trusted []netip.Prefix) (addr string, https bool) {
	https = r.TLS != nil
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(trusted) == 0 {
		return host, https // the common case: no parsing, no allocation
	}
	peer, ok := parseHop(host)
	if !ok || !trusts(trusted, peer) {
		return host, https
	}
	client := peer
	hops := r.Header.Values("X-Forwarded-For")
	n := 0
walk:
	for i := len(hops) - 1; i >= 0; i-- {
		rest := hops[i]
		for {
			hop := rest
			j := strings.LastIndexByte(rest, ',')
			if j >= 0 {
				hop, rest = rest[j+1:], rest[:j]
			}
			n++
			a, ok := parseHop(hop)
			if !ok || n > maxForwardedHops {
				break walk
			}
			client = a
			if !trusts(trusted, a) {
				break walk
			}
			if j < 0 {
				break
			}
		}
	}
	if p := r.Header.Values("X-Forwarded-Proto"); len(p) > 0 {
		last := p[len(p)-1]
		if j := strings.LastIndexByte(last, ','); j >= 0 {
			last = last[j+1:]
		}
		switch strings.ToLower(strings.TrimSpace(last)) {
		case "https":
			https = true
		case "http":
			https = false
		}
	}
	return client.String(), https
}

// parseHop reads one address as proxies write them: an IPv4 or IPv6
// address, optionally with a port ("192.0.2.1:5000", "[2001:db8::1]:443")
// or in brackets. IPv4-mapped IPv6 addresses count as IPv4; zones, names
// and "unknown" are malformed.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	var a netip.Addr
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a = ap.Addr()
	} else {
		if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
			s = s[1 : len(s)-1]
		}
		if a, err = netip.ParseAddr(s); err != nil {
			return netip.Addr{}, false
		}
	}
	if a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// trusts reports whether a is one of the trusted proxies.
func trusts(trusted []netip.Prefix, a netip.Addr) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
