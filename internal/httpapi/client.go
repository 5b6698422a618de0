package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/parleychat/parley/internal/identity"
)

// maxForwardedHops bounds the X-Forwarded-For entries read from the right:
// no real chain of proxies is longer, and a header of thousands of trusted
// addresses must not cost more than a few.
const maxForwardedHops = 16

// requestInfo is what the middleware learns about a request once: its id
// and its client, and then its user. It is the request's only context
// value (outside the middleware, the user is one of its own).
type requestInfo struct {
	id     string
	client string // the client address every per-client limit and log uses
	https  bool   // the client's scheme, for links when no public URL is set
	// user is the authenticated user (authed), or nil; set in place, so a
	// request is not copied for a second context value.
	user *identity.User
	// slot is where authed keeps the user: memory the middleware
	// allocated with the rest of the request's state.
	slot *identity.User
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
// HTTPS. X-Forwarded-For, Forwarded (RFC 7239) and X-Forwarded-Proto are
// believed only when the direct peer is in trusted (--trusted-proxies): any
// client can send those headers, and believing them from anyone would let a
// client pick a new address for every request and escape the per-address
// limits.
//
// Behind trusted proxies the client is the rightmost entry that is not
// itself a trusted proxy: each proxy appends the address it got the
// request from, so entries to the right of the first untrusted one were
// written by proxies we trust, and entries to its left by whoever that
// client is. A malformed entry ends the walk at the last address read (the
// proxy that passed it on), so garbage never becomes an address of its own.
//
// A proxy writes one of the two address headers and passes the other on
// as the client sent it. So when a request has both and they name
// different clients, one of them is the client's own word and which is
// unknown: the client is then the trusted peer (docs/decisions.md, "The
// client address: Forwarded").
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
	xff, fwd := r.Header.Values("X-Forwarded-For"), r.Header.Values("Forwarded")
	switch {
	case len(fwd) == 0:
		client = walk(peer, trusted, xffHops(xff), parseHop)
	case len(xff) == 0:
		client = walk(peer, trusted, forwardedFor(fwd), parseNode)
	default:
		if a := walk(peer, trusted, xffHops(xff), parseHop); a == walk(peer, trusted, forwardedFor(fwd), parseNode) {
			client = a
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

// walk returns the client of hops (rightmost first) behind the trusted
// peer: the first hop that is not trusted, or the last one read before a
// malformed one or the bound.
func walk(peer netip.Addr, trusted []netip.Prefix, hops []string, parse func(string) (netip.Addr, bool)) netip.Addr {
	client := peer
	for _, hop := range hops {
		a, ok := parse(hop)
		if !ok {
			break
		}
		client = a
		if !trusts(trusted, a) {
			break
		}
	}
	return client
}

// xffHops returns X-Forwarded-For's entries over every header line (RFC
// 7230 lets a list span several), rightmost first; past maxForwardedHops
// an empty entry stands for the rest, so the walk stops there.
func xffHops(lines []string) []string {
	var hops []string
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for {
			if len(hops) == maxForwardedHops {
				return append(hops, "")
			}
			j := strings.LastIndexByte(rest, ',')
			if j < 0 {
				hops = append(hops, rest)
				break
			}
			hops, rest = append(hops, rest[j+1:]), rest[:j]
		}
	}
	return hops
}

// forwardedFor returns the for= value of each element of Forwarded
// headers (RFC 7239 §4: elements separated by commas, pairs by
// semicolons, values tokens or quoted strings), rightmost first and
// unquoted; "" for an element without one or one that does not parse.
// Past maxForwardedHops an empty value stands for the rest.
func forwardedFor(lines []string) []string {
	var elems [][]string // pairs of each element, left to right
	for _, line := range lines {
		pairs, quoted, start := []string(nil), false, 0
		for i := 0; i <= len(line); i++ {
			switch {
			case i < len(line) && quoted && line[i] == '\\':
				i++ // the escaped character
			case i < len(line) && line[i] == '"':
				quoted = !quoted
			case i == len(line) || (!quoted && (line[i] == ';' || line[i] == ',')):
				pairs = append(pairs, strings.TrimSpace(line[start:i]))
				start = i + 1
				if i == len(line) || line[i] == ',' {
					elems, pairs = append(elems, pairs), nil
				}
			}
		}
	}
	var hops []string
	for i := len(elems) - 1; i >= 0; i-- {
		if len(hops) == maxForwardedHops {
			return append(hops, "")
		}
		var v string
		for _, pair := range elems[i] {
			if name, value, ok := strings.Cut(pair, "="); ok && strings.EqualFold(strings.TrimSpace(name), "for") {
				v = unquote(strings.TrimSpace(value))
				break
			}
		}
		hops = append(hops, v)
	}
	return hops
}

// unquote returns a quoted string's text (RFC 7230 quoted-string), a token
// as it is, and "" for an unterminated quote.
func unquote(v string) string {
	if !strings.HasPrefix(v, `"`) {
		return v
	}
	if len(v) < 2 || !strings.HasSuffix(v, `"`) {
		return ""
	}
	var b strings.Builder
	for i := 1; i < len(v)-1; i++ {
		if v[i] == '\\' && i+1 < len(v)-1 {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// parseNode reads a Forwarded node (RFC 7239 §6): an IPv4 address or a
// bracketed IPv6 address, optionally with a port, which may be an
// obfuscated one ("_abc", ignored). "unknown", obfuscated identifiers
// ("_hidden"), an IPv6 address without brackets, names and zones are not
// addresses.
func parseNode(s string) (netip.Addr, bool) {
	host, port, hasPort := s, "", false
	v6 := strings.HasPrefix(s, "[")
	if v6 {
		j := strings.IndexByte(s, ']')
		if j < 0 {
			return netip.Addr{}, false
		}
		host = s[1:j]
		if rest := s[j+1:]; rest != "" {
			if port, hasPort = strings.CutPrefix(rest, ":"); !hasPort {
				return netip.Addr{}, false
			}
		}
	} else {
		host, port, hasPort = strings.Cut(s, ":")
	}
	if hasPort && !validNodePort(port) {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" || a.Is6() != v6 {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// validNodePort reports whether p is a port (1 to 5 digits) or an
// obfuscated port ("_" and letters, digits, ".", "_" or "-").
func validNodePort(p string) bool {
	if rest, ok := strings.CutPrefix(p, "_"); ok {
		return rest != "" && strings.Trim(rest, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == ""
	}
	return len(p) >= 1 && len(p) <= 5 && strings.Trim(p, "0123456789") == ""
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
