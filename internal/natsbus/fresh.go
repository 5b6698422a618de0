package natsbus

import (
	"sync"
	"sync/atomic"
)

// fresh decides whether this node may serve its caches: only while it holds
// recent proof that it has applied every invalidation the other nodes sent
// up to a moment no older than maxAge (docs/decisions.md, "Several nodes:
// staleness bound"). Times are this node's monotonic clock in nanoseconds,
// passed in, so that no two nodes' clocks are ever compared.
//
// The proof comes from marks that travel with the invalidations:
//
//   - Every interval the node sends a ping with a new sequence number from a
//     second NATS connection (the probe) on the shared subject, and notes
//     when it sent it. When its own subscription brings the ping back, the
//     node has applied everything the server handed it before the ping
//     ("echo"): nothing from an unknown or new node is stuck in between.
//   - Every interval each node also sends, on its main connection (the one
//     its invalidations go out on), an ack naming the latest ping it has
//     received from every node. NATS keeps one connection's messages in
//     order, so when node B applies A's ack of B's ping k, it has applied
//     every invalidation A sent before it, and A sent that ack after B sent
//     ping k. B therefore knows it holds all of A's invalidations sent
//     before ping k's send time, on B's own clock.
//
// B trusts its caches until (the send time of the oldest of those proofs)
// + maxAge: its own echo and, for every node it has heard an ack from, that
// node's latest ack of B's pings. A node that stops hearing NATS, a node
// whose subscription lags, and a node whose peer stops getting its
// invalidations out all lose the proof within maxAge and read through to
// the database until the marks flow again.
//
// After anything may have been lost (a reconnect, a dropped message, a
// peer that could not publish), reset empties the caches and raises the
// floor: pings sent before it prove nothing any more, since messages lost
// before the subscription was back may precede them.
type fresh struct {
	maxAge, peerTimeout int64

	mu    sync.Mutex
	next  uint64 // sequence of the next ping (from 1)
	floor uint64 // pings below it prove nothing
	// sent holds the send times of the latest pings, by seq modulo its
	// length; sentSeq tells which seq a slot holds.
	sent    []int64
	sentSeq []uint64
	echo    uint64 // this node's latest ping received back
	peers   map[[nodeLen]byte]*peer
	pinged  map[[nodeLen]byte]heard // latest ping received from each node, to ack
	// reconnects and dropped are the main connection's counters at the last
	// check: a change means messages may have been lost.
	reconnects uint64
	dropped    int

	until atomic.Int64 // caches are trusted while now < until
}

// peer is another node that acks this node's pings.
type peer struct {
	acked uint64 // the latest of this node's pings it acked
	heard int64  // when its last ack arrived
}

type heard struct {
	seq uint64
	at  int64
}

// ackEntry is one line of an ack: the latest ping received from node.
type ackEntry struct {
	node [nodeLen]byte
	seq  uint64
}

// newFresh tracks proofs no older than maxAge for pings sent every
// interval, and forgets a peer silent for peerTimeout.
func newFresh(maxAge, interval, peerTimeout int64) *fresh {
	// Keep the send times of every ping that could still prove something.
	n := int(maxAge/max(interval, 1)) + 8
	return &fresh{maxAge: maxAge, peerTimeout: peerTimeout, next: 1, sent: make([]int64, n), sentSeq: make([]uint64, n),
		peers: map[[nodeLen]byte]*peer{}, pinged: map[[nodeLen]byte]heard{}}
}

// current reports whether the caches may be served at now.
func (f *fresh) current(now int64) bool { return now < f.until.Load() }

// ping numbers the next ping, sent at now.
func (f *fresh) ping(now int64) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	seq := f.next
	f.next++
	i := seq % uint64(len(f.sent))
	f.sent[i], f.sentSeq[i] = now, seq
	return seq
}

// ownEcho notes that this node's subscription brought ping seq back.
func (f *fresh) ownEcho(seq uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.echo = max(f.echo, seq)
	f.recomputeLocked()
}

// pingFrom notes another node's ping, to ack in the next ack.
func (f *fresh) pingFrom(node [nodeLen]byte, seq uint64, now int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h, ok := f.pinged[node]; !ok || seq > h.seq {
		f.pinged[node] = heard{seq: seq, at: now}
	}
}

// ack applies node's ack, which named seq as the latest of this node's
// pings it had received (0: none yet). The first ack of a node makes it a
// peer whose acks the caches wait for from then on.
func (f *fresh) ack(node [nodeLen]byte, seq uint64, now int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.peers[node]
	if p == nil {
		p = &peer{}
		f.peers[node] = p
	}
	p.heard = now
	p.acked = max(p.acked, seq)
	f.recomputeLocked()
}

// bye forgets a node that left: its last invalidations came before.
func (f *fresh) bye(node [nodeLen]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.peers, node)
	delete(f.pinged, node)
	f.recomputeLocked()
}

// acks lists the pings to ack, forgetting nodes silent for peerTimeout.
func (f *fresh) acks(now int64) []ackEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]ackEntry, 0, len(f.pinged))
	for n, h := range f.pinged {
		if now-h.at > f.peerTimeout {
			delete(f.pinged, n)
			continue
		}
		out = append(out, ackEntry{node: n, seq: h.seq})
	}
	return out
}

// expireLocked forgets peers whose acks stopped peerTimeout ago and
// reports how many: the caller then resets, since what such a node sent
// may never arrive. Until then the caches were not trusted.
func (f *fresh) expireLocked(now int64) int {
	n := 0
	for id, p := range f.peers {
		if now-p.heard > f.peerTimeout {
			delete(f.peers, id)
			n++
		}
	}
	return n
}

// lostLocked reports whether the main connection's counters moved since
// the last call: a reconnect (messages sent meanwhile never came) or
// messages dropped for a slow subscription.
func (f *fresh) lostLocked(reconnects uint64, dropped int) bool {
	if reconnects == f.reconnects && dropped == f.dropped {
		return false
	}
	f.reconnects, f.dropped = reconnects, dropped
	return true
}

// resetLocked voids every proof so far: the caches are emptied by the
// caller, under f.mu, before any new proof can count.
func (f *fresh) resetLocked() {
	f.floor = f.next
	f.recomputeLocked()
}

// proofLocked is how long ping seq keeps the caches trusted: its send time
// + maxAge, or 0 when it proves nothing (never received, sent before the
// last reset, or too old to be remembered).
func (f *fresh) proofLocked(seq uint64) int64 {
	if seq == 0 || seq < f.floor {
		return 0
	}
	i := seq % uint64(len(f.sent))
	if f.sentSeq[i] != seq {
		return 0
	}
	return f.sent[i] + f.maxAge
}

func (f *fresh) recomputeLocked() {
	until := f.proofLocked(f.echo)
	for _, p := range f.peers {
		until = min(until, f.proofLocked(p.acked))
	}
	f.until.Store(until)
}

// peerCount is the number of nodes whose acks the caches wait for.
func (f *fresh) peerCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.peers)
}
