package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
	"github.com/parleychat/parley/internal/server"
)

// signInVia signs in as user with the given forwarding headers (each value
// of a header is a header line of its own) and returns the status.
func signInVia(t *testing.T, base, user, pass string, header http.Header) int {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// xff is an X-Forwarded-For header with one line per value.
func xff(lines ...string) http.Header { return http.Header{"X-Forwarded-For": lines} }

// proxied starts a node on store with --trusted-proxies set to trusted
// ("" for none) on a frozen clock, so the sign-in back-off never runs out
// while a test counts, with one account, alice@contoso.com.
func proxied(t *testing.T, store, trusted string) *parleytest.Server {
	t.Helper()
	cfg := parleytest.Config(t, store)
	cfg.HTTP.TrustedProxies = trusted
	s := startNode(t, cfg, &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)})
	s.User(s.CreateTenant("Contoso", "contoso.com"), "alice", false)
	return s
}

// failFive makes the five failed sign-ins on alice that a client address
// may make before it waits (docs/decisions.md "Limits"), each with its
// own headers.
func failFive(t *testing.T, s *parleytest.Server, headers func(i int) http.Header) {
	t.Helper()
	for i := range 5 {
		if st := signInVia(t, s.URL(), "alice@contoso.com", "wrong password", headers(i)); st != 400 {
			t.Fatalf("failed sign-in %d: got %d, want 400", i+1, st)
		}
	}
}

// Without --trusted-proxies, X-Forwarded-For is ignored: a client that
// sends a new address with every guess still meets the per-address limit,
// and so does one whose peer is not a trusted proxy.
func TestTrustedProxiesSpoofIgnored(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, st string) {
		t.Parallel()
		for _, trusted := range []string{"", "10.0.0.0/8, 192.0.2.1"} { // the test's peer is 127.0.0.1
			s := proxied(t, st, trusted)
			failFive(t, s, func(i int) http.Header {
				h := xff(fmt.Sprintf("198.51.100.%d", 1+i))
				h.Set("X-Forwarded-Proto", "https")
				return h
			})
			if got := signInVia(t, s.URL(), "alice@contoso.com", parleytest.Password, xff("198.51.100.99")); got != 429 {
				t.Errorf("--trusted-proxies %q: sign-in with a sixth spoofed address: got %d, want 429 (the header ignored)", trusted, got)
			}
		}
	})
}

// Behind a trusted proxy, the rightmost X-Forwarded-For address that is
// not a trusted proxy is the client: two clients behind one proxy have
// limits of their own, and what a client writes into the header itself
// (to the left of what the proxy appended) does not change its address.
func TestTrustedProxiesSeparateClients(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, st string) {
		t.Parallel()
		s := proxied(t, st, "127.0.0.0/8,10.0.0.0/8")
		// The client 203.0.113.1 behind two proxies, claiming another
		// address on each guess.
		failFive(t, s, func(i int) http.Header {
			return xff(fmt.Sprintf("198.51.100.%d, 203.0.113.1", 1+i), "10.1.2.3")
		})
		if got := signInVia(t, s.URL(), "alice@contoso.com", parleytest.Password, xff("203.0.113.1")); got != 429 {
			t.Errorf("the same client again: got %d, want 429", got)
		}
		if got := signInVia(t, s.URL(), "alice@contoso.com", parleytest.Password, xff("198.51.100.77, 203.0.113.1, 10.0.0.9")); got != 429 {
			t.Errorf("the same client claiming another address: got %d, want 429", got)
		}
		if got := signInVia(t, s.URL(), "alice@contoso.com", parleytest.Password, xff("203.0.113.2")); got != 200 {
			t.Errorf("another client behind the proxy: got %d, want 200 (a limit of its own)", got)
		}
		if got := signInVia(t, s.URL(), "alice@contoso.com", parleytest.Password, xff("[2001:db8::5]:443")); got != 200 {
			t.Errorf("an IPv6 client behind the proxy: got %d, want 200", got)
		}
	})
}

// A malformed X-Forwarded-For entry ends the walk at the hop that passed it
// on: garbage, names, zones, "unknown" and an empty header all count as the
// trusted peer itself, never as new addresses, while a client with a real
// address keeps its own limit.
func TestTrustedProxiesMalformed(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, st string) {
		t.Parallel()
		s := proxied(t, st, "127.0.0.1")
		bad := []http.Header{xff("not-an-address"), xff("unknown"), xff("203.0.113.9, 999.1.1.1"), xff("fe80::1%eth0"), xff("")}
		failFive(t, s, func(i int) http.Header { return bad[i] })
		for _, h := range []http.Header{xff("proxy.example.com"), xff("203.0.113.9,"), {}} {
			if got := signInVia(t, s.URL(), "alice@contoso.com", parleytest.Password, h); got != 429 {
				t.Errorf("X-Forwarded-For %q: got %d, want 429 (counted as the proxy)", h.Values("X-Forwarded-For"), got)
			}
		}
		if got := signInVia(t, s.URL(), "alice@contoso.com", parleytest.Password, xff("garbage, 203.0.113.9")); got != 200 {
			t.Errorf("garbage to the left of a real client: got %d, want 200 (the client 203.0.113.9)", got)
		}
	})
}

// Guesses released together from one barrier: two clients behind the
// trusted proxy each get exactly their own five failures; the same burst
// with spoofed addresses and no trusted proxy gets five in all.
func TestTrustedProxiesBurst(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, st string) {
		t.Parallel()
		burst := func(s *parleytest.Server, addr func(i int) string) map[int]int {
			reqs := make([]parleytest.Req, 16)
			for i := range reqs {
				reqs[i] = parleytest.Req{Method: "POST", URL: s.URL() + "/oauth2/token",
					Form:   url.Values{"grant_type": {"password"}, "username": {"alice@contoso.com"}, "password": {"wrong password"}},
					Header: xff(addr(i))}
			}
			return parleytest.Statuses(parleytest.Burst(t, reqs))
		}
		two := burst(proxied(t, st, "127.0.0.1"), func(i int) string { return []string{"203.0.113.1", "203.0.113.2"}[i%2] })
		if two[400] != 10 || two[429] != 6 {
			t.Errorf("two clients behind a trusted proxy, 8 guesses each: got %v, want 10×400 and 6×429", two)
		}
		spoofed := burst(proxied(t, st, ""), func(i int) string { return fmt.Sprintf("198.51.100.%d", 10+i) })
		if spoofed[400] != 5 || spoofed[429] != 11 {
			t.Errorf("16 spoofed addresses without a trusted proxy: got %v, want 5×400 and 11×429", spoofed)
		}
	})
}

// The access log shows the client address the limits use, and links take
// X-Forwarded-Proto's scheme, only from a trusted proxy.
func TestTrustedProxiesLogAndScheme(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		trusted, remote, scheme string
	}{
		{"127.0.0.1/32", "203.0.113.50", "https://"},
		{"", "127.0.0.1", "http://"},
	} {
		logs := &syncWriter{}
		cfg := parleytest.Config(t, "sqlite")
		cfg.HTTP.TrustedProxies = tc.trusted
		s := server.New(cfg, slog.New(slog.NewJSONHandler(logs, nil)), io.Discard)
		if err := s.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		ps := &parleytest.Server{Server: s, TB: t}
		ten := ps.CreateTenant("Contoso", "contoso.com")
		alice := ps.User(ten, "alice", false)
		ps.User(ten, "bob", false)
		r := alice.DoHeader("GET", "/v1.0/users?$top=1", nil, map[string]string{
			"X-Forwarded-For": "203.0.113.50", "X-Forwarded-Proto": "https", "X-Request-Id": "proxied-request"})
		var page struct {
			Next string `json:"@odata.nextLink"`
		}
		r.JSON(t, &page)
		if !strings.HasPrefix(page.Next, tc.scheme) {
			t.Errorf("--trusted-proxies %q: nextLink %q, want it to start with %s", tc.trusted, page.Next, tc.scheme)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		var remote any
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["request_id"] == "proxied-request" {
				remote = m["remote"]
			}
		}
		if remote != tc.remote {
			t.Errorf("--trusted-proxies %q: access log remote %v, want %s", tc.trusted, remote, tc.remote)
		}
	}
}

// A --trusted-proxies entry that is not a CIDR or an address stops the
// start with an error naming the flag and the entry.
func TestTrustedProxiesBadCIDR(t *testing.T) {
	t.Parallel()
	cfg := parleytest.Config(t, "sqlite")
	cfg.HTTP.TrustedProxies = "10.0.0.0/8, 10.0.0.0/40"
	s := server.New(cfg, nil, io.Discard)
	err := s.Open(context.Background())
	if err == nil {
		_ = s.Close()
		t.Fatal("Open with --trusted-proxies 10.0.0.0/40: got nil, want an error")
	}
	if !strings.Contains(err.Error(), "--trusted-proxies") || !strings.Contains(err.Error(), "10.0.0.0/40") {
		t.Errorf("Open: got %q, want it to name --trusted-proxies and 10.0.0.0/40", err)
	}
}

// fwd is a Forwarded header with one line per value.
func fwd(lines ...string) http.Header { return http.Header{"Forwarded": lines} }

// The RFC 7239 Forwarded header follows X-Forwarded-For's trust rule: from
// a peer that is not a trusted proxy it is ignored; behind one, the
// rightmost element that is not a trusted proxy is the client, and when a
// request carries both headers naming different clients (one of them the
// client's own word, passed on by a proxy that writes the other) the
// request counts as the proxy's.
func TestTrustedProxiesForwarded(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, st string) {
		t.Parallel()
		t.Run("untrusted peer", func(t *testing.T) {
			s := proxied(t, st, "10.0.0.0/8") // the test's peer is 127.0.0.1
			failFive(t, s, func(i int) http.Header { return fwd(fmt.Sprintf("for=198.51.100.%d;proto=https", 1+i)) })
			if got := signInVia(t, s.URL(), "alice@contoso.com", parleytest.Password, fwd("for=198.51.100.99")); got != 429 {
				t.Errorf("a sixth spoofed address: got %d, want 429 (the header ignored)", got)
			}
		})
		t.Run("trusted proxy", func(t *testing.T) {
			s := proxied(t, st, "127.0.0.0/8,10.0.0.0/8")
			// The client 203.0.113.1 behind two proxies, claiming another
			// address on each guess.
			failFive(t, s, func(i int) http.Header {
				return fwd(fmt.Sprintf(`for=198.51.100.%d, for="203.0.113.1:4711"`, 1+i), "for=10.1.2.3;by=_proxy")
			})
			if got := signInVia(t, s.URL(), "alice@contoso.com", parleytest.Password, fwd("for=203.0.113.1")); got != 429 {
				t.Errorf("the same client again: got %d, want 429", got)
			}
			if got := signInVia(t, s.URL(), "alice@contoso.com", parleytest.Password, fwd(`for="[2001:db8::5]:443"`)); got != 200 {
				t.Errorf("an IPv6 client behind the proxy: got %d, want 200 (a limit of its own)", got)
			}
		})
		t.Run("both headers disagree", func(t *testing.T) {
			s := proxied(t, st, "127.0.0.1")
			failFive(t, s, func(i int) http.Header {
				h := xff("203.0.113.20")
				h["Forwarded"] = []string{fmt.Sprintf("for=198.51.100.%d", 1+i)}
				return h
			})
			// Counted as the proxy: a request with no headers waits too,
			// while the client named by X-Forwarded-For alone does not.
			if got := signInVia(t, s.URL(), "alice@contoso.com", parleytest.Password, http.Header{}); got != 429 {
				t.Errorf("the proxy itself: got %d, want 429", got)
			}
			if got := signInVia(t, s.URL(), "alice@contoso.com", parleytest.Password, xff("203.0.113.20")); got != 200 {
				t.Errorf("the X-Forwarded-For client alone: got %d, want 200", got)
			}
		})
	})
}
