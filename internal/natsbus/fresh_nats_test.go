package natsbus

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// proxy forwards loopback connections to a NATS server; cut drops them all
// and refuses new ones until restore, so that one node loses NATS while
// the others keep it.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.accept()
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	return p
}

func (p *proxy) URL() string { return "nats://" + p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		up, err := net.Dial("tcp", p.target)
		if p.down || err != nil {
			p.mu.Unlock()
			_ = c.Close()
			if up != nil {
				_ = up.Close()
			}
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close(); _ = c.Close() }()
		go func() { _, _ = io.Copy(c, up); _ = up.Close(); _ = c.Close() }()
	}
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *proxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// waitFor polls cond until it holds, failing after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after 30s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCutNodeStopsTrustWithinBound: two nodes, each reaching NATS through
// its own proxy. Cutting either one from NATS makes both stop trusting
// their caches by MaxStaleness after the cut: the cut node hears nothing,
// and the other no longer gets the cut node's acks, so it cannot know
// whether invalidations from it are stuck. Once NATS is back, the cut node
// has emptied its caches and both trust them again. A node that closes says
// bye, and the other stops waiting for it.
func TestCutNodeStopsTrustWithinBound(t *testing.T) {
	ns := startNATS(t, -1, nil)
	pa, pb := startProxy(t, ns.Addr().String()), startProxy(t, ns.Addr().String())
	var resetsA, resetsB atomic.Int64
	a := connect(t, pa.URL(), Options{OnReset: func() { resetsA.Add(1) }})
	b := connect(t, pb.URL(), Options{OnReset: func() { resetsB.Add(1) }})
	both := func() bool {
		return a.Current() && b.Current() && a.Stats().Peers == 1 && b.Stats().Peers == 1
	}
	waitFor(t, "both nodes current, each waiting for the other", both)

	for _, tc := range []struct {
		name   string
		cut    *proxy
		resets *atomic.Int64
	}{
		{"B loses NATS", pb, &resetsB},
		{"A loses NATS", pa, &resetsA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.resets.Load()
			tc.cut.cut()
			cutAt := time.Now()
			// Every proof either node holds was sent before the cut.
			time.Sleep(time.Until(cutAt.Add(DefaultMaxStaleness)))
			for i := range 10 {
				if a.Current() || b.Current() {
					t.Fatalf("%v after the cut (check %d): A current %v, B current %v; want neither", time.Since(cutAt), i, a.Current(), b.Current())
				}
				time.Sleep(DefaultMarkInterval / 2)
			}
			tc.cut.restore()
			waitFor(t, "both nodes current again", both)
			if tc.resets.Load() == before {
				t.Fatal("the cut node trusts its caches again without having emptied them")
			}
		})
	}

	t.Run("a closed node says bye", func(t *testing.T) {
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "A current, waiting for no one", func() bool { return a.Current() && a.Stats().Peers == 0 })
	})
}

// TestLostInvalidationEmptiesPeersCaches: when a node could not publish an
// invalidation, its next ack says so and the other nodes empty their
// caches before they trust them again.
func TestLostInvalidationEmptiesPeersCaches(t *testing.T) {
	ns := startNATS(t, -1, nil)
	var resets atomic.Int64
	a := connect(t, ns.ClientURL(), Options{})
	b := connect(t, ns.ClientURL(), Options{OnReset: func() { resets.Add(1) }})
	waitFor(t, "B current with A as a peer", func() bool { return b.Current() && b.Stats().Peers == 1 })
	a.pubMu.Lock()
	a.lost = true // as Invalidate does when NATS refuses
	a.pubMu.Unlock()
	waitFor(t, "B empties its caches", func() bool { return resets.Load() > 0 })
	waitFor(t, "B current again", b.Current)
}
