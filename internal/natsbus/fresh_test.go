package natsbus

import (
	"testing"
	"time"
)

// Times in these tests are milliseconds on the node's own clock.
const ms = int64(time.Millisecond)

func nodeID(b byte) [nodeLen]byte { return [nodeLen]byte{b} }

// TestFreshTrustsOnlyOnProof walks one node (B) through the proofs of
// fresh.go with a bound of 1000 ms: no trust before its own ping comes
// back; a peer, once heard, must ack a ping of B's; trust lasts until the
// send time of the oldest proof + 1000 ms; a reset voids every proof taken
// before it.
func TestFreshTrustsOnlyOnProof(t *testing.T) {
	a := nodeID(1)
	f := newFresh(1000*ms, 100*ms, 30_000*ms)
	check := func(what string, now int64, want bool) {
		t.Helper()
		if got := f.current(now); got != want {
			t.Fatalf("%s: current(%d ms) = %v, want %v", what, now/ms, got, want)
		}
	}
	check("at start", 0, false)
	p1 := f.ping(0)
	check("ping sent, not back", 10*ms, false)
	f.ownEcho(p1)
	check("own ping back", 10*ms, true)
	check("just before the bound", 999*ms, true)
	check("at the bound", 1000*ms, false)

	// A peer appears (its first ack names none of B's pings): no trust
	// until it acks one.
	p2 := f.ping(100 * ms)
	f.ownEcho(p2)
	f.ack(a, 0, 120*ms)
	check("new peer, nothing acked", 130*ms, false)
	f.ack(a, p1, 150*ms)
	check("peer acked ping 1 (sent at 0)", 150*ms, true)
	check("ping 1 + bound", 1000*ms, false)
	f.ack(a, p2, 160*ms)
	check("peer acked ping 2 (sent at 100)", 1099*ms, true)
	check("ping 2 + bound", 1100*ms, false)

	// The oldest proof counts: B's own echo is behind the peer's ack.
	p3 := f.ping(500 * ms)
	f.ack(a, p3, 520*ms)
	check("own echo still at ping 2", 1100*ms, false)
	f.ownEcho(p3)
	check("own echo at ping 3", 1499*ms, true)

	// A reset (reconnect): nothing before it proves anything.
	f.mu.Lock()
	f.resetLocked()
	f.mu.Unlock()
	check("after reset", 600*ms, false)
	f.ownEcho(p3)
	f.ack(a, p3, 610*ms)
	check("old proofs after reset", 620*ms, false)
	p4 := f.ping(700 * ms)
	f.ownEcho(p4)
	check("peer has not acked since the reset", 710*ms, false)
	f.ack(a, p4, 720*ms)
	check("both proofs after the reset", 1699*ms, true)

	// A peer that says bye is no longer waited for.
	p5 := f.ping(1600 * ms)
	f.ownEcho(p5)
	check("peer's ack of ping 4 ran out", 1750*ms, false)
	f.bye(a)
	check("after the peer's bye", 1750*ms, true)
}

// TestFreshForgetsSilentPeers: a peer silent for the peer timeout is
// forgotten (the caller resets), and acks only name nodes heard within it.
func TestFreshForgetsSilentPeers(t *testing.T) {
	a, c := nodeID(1), nodeID(3)
	f := newFresh(1000*ms, 100*ms, 5000*ms)
	f.pingFrom(a, 7, 0)
	f.pingFrom(c, 9, 4000*ms)
	f.pingFrom(c, 8, 4100*ms) // older seq arriving late: kept at 9
	f.ack(a, 0, 0)
	f.ack(c, 0, 4000*ms)
	got := map[[nodeLen]byte]uint64{}
	for _, e := range f.acks(4500 * ms) {
		got[e.node] = e.seq
	}
	if len(got) != 2 || got[a] != 7 || got[c] != 9 {
		t.Fatalf("acks at 4.5 s: %v", got)
	}
	if acks := f.acks(6000 * ms); len(acks) != 1 || acks[0].node != c {
		t.Fatalf("acks at 6 s: %v, want only node 3", acks)
	}
	f.mu.Lock()
	n := f.expireLocked(6000 * ms)
	f.mu.Unlock()
	if n != 1 || f.peerCount() != 1 {
		t.Fatalf("expired %d, %d peers left; want 1 and 1", n, f.peerCount())
	}
}

// TestFreshNoticesLoss: a change in the connection's reconnect or drop
// counters is a loss, reported once.
func TestFreshNoticesLoss(t *testing.T) {
	f := newFresh(1000*ms, 100*ms, 5000*ms)
	steps := []struct {
		reconnects uint64
		dropped    int
		want       bool
	}{{0, 0, false}, {1, 0, true}, {1, 0, false}, {1, 3, true}, {1, 3, false}, {2, 3, true}}
	for i, s := range steps {
		f.mu.Lock()
		got := f.lostLocked(s.reconnects, s.dropped)
		f.mu.Unlock()
		if got != s.want {
			t.Fatalf("step %d (%d reconnects, %d dropped): lost = %v, want %v", i, s.reconnects, s.dropped, got, s.want)
		}
	}
}

func TestMarkCodec(t *testing.T) {
	me, other := nodeID(1), nodeID(2)
	body := appendAck(nil, true, []ackEntry{{node: other, seq: 5}, {node: me, seq: 1 << 40}})
	lost, seq, err := decodeAck(body, me)
	if err != nil || !lost || seq != 1<<40 {
		t.Fatalf("decodeAck = %v %d %v", lost, seq, err)
	}
	if _, seq, _ := decodeAck(body, nodeID(9)); seq != 0 {
		t.Fatalf("seq for an unnamed node = %d, want 0", seq)
	}
	for n := range len(body) {
		if _, _, err := decodeAck(body[:n], me); err == nil {
			t.Fatalf("decoded an ack cut at %d of %d bytes", n, len(body))
		}
	}
	if _, _, err := decodeAck(append(body, 0), me); err == nil {
		t.Fatal("decoded an ack with trailing bytes")
	}
	if seq, err := decodePing(appendPing(nil, 77)); err != nil || seq != 77 {
		t.Fatalf("decodePing = %d %v", seq, err)
	}
	if _, err := decodePing(append(appendPing(nil, 77), 1)); err == nil {
		t.Fatal("decoded a ping with trailing bytes")
	}
}

// BenchmarkCurrent is what every cache lookup on a node of several pays.
func BenchmarkCurrent(b *testing.B) {
	bus := newBus(Options{})
	bus.fresh.until.Store(int64(time.Hour))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !bus.Current() {
				b.Error("not current")
				return
			}
		}
	})
}
