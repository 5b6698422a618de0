// Package natsbus is the event.Bus of several Parley nodes on one
// PostgreSQL database (docs/rules.md §12): each node delivers to its own
// connections through an event.Local and sends what it publishes to the
// other nodes through NATS, which deliver it to theirs. It also carries the
// nodes' cache invalidations (chat cache, token cache).
//
// NATS is only a wake-up call, as the bus is on one node: events are stored
// with their seqs before they are published, and a connection that sees a
// gap replays from the store. So core NATS (at most once) is enough, no
// JetStream. What NATS may lose is handled where it matters: after a
// reconnect (or a dropped message on a slow subscription) a node empties
// its caches (OnReset) and hands every locally connected user their latest
// stored event, which makes a connection that missed events replay them.
//
// Staleness: a node serves its caches only while it can prove that it has
// applied every other node's invalidations sent up to a moment at most
// MaxStaleness (1 s) ago; otherwise every lookup reads through to the
// database (Current, fresh.go). The proof comes from pings and acks every
// MarkInterval on the same subject, so a node cut off from NATS, lagging
// behind it, or whose peer cannot get its invalidations out, stops trusting
// its caches within the bound and trusts them again once the marks flow
// (after a reconnect, only marks sent after the caches were emptied count).
//
// Subjects: every node publishes on one subject and subscribes to it (its
// own messages are not echoed back, and are ignored by node id if they
// were; only its pings, sent from a second connection, come back). One
// Publish call becomes one NATS message however many users it
// reaches (a group chat message reaches up to 250 members, with one shared
// payload), which per-user subjects would turn into one message per user.
// A node that has none of the users connected decodes the message and
// drops it; at the scale of a few nodes that costs less than keeping an
// interest registry of who is connected where.
package natsbus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// DefaultSubject is the subject the nodes share.
const DefaultSubject = "parley.bus"

// Store is what the catch-up after a reconnect reads.
type Store interface {
	// LastSeq returns the user's latest seq.
	LastSeq(ctx context.Context, userID identity.UserID) (int64, error)
	// FindEvents returns the user's events with seq above since, oldest first.
	FindEvents(ctx context.Context, userID identity.UserID, since int64, limit int) ([]event.Event, error)
}

// Invalidation is what a node dropped from its caches, for the others to
// drop too.
type Invalidation struct {
	AllChats  bool     // every chat of the chat cache
	Chats     []string // these chats
	Touched   []Touch  // new messages' times (the chats' UpdatedAt)
	AllTokens bool     // every cached token
	Tokens    [][]byte // these token hashes
	Users     []string // these users' tokens
}

// Touch is a new message's chat and time in microseconds.
type Touch struct {
	Chat   string
	Micros int64
}

// Options configure a Bus.
type Options struct {
	// Subject shared by the nodes (DefaultSubject when empty).
	Subject string
	// Name is the NATS connection name (shown by the NATS server).
	Name string
	// Store is read by the catch-up after a reconnect (nil: none).
	Store Store
	// OnInvalidate applies another node's invalidation. It runs on the
	// bus's delivery goroutine: it must not block for long.
	OnInvalidate func(Invalidation)
	// OnReset empties this node's caches: called after a reconnect or a
	// dropped message, when other nodes' invalidations may have been missed.
	OnReset func()
	Log     *slog.Logger
	// ReconnectWait is the pause between reconnect attempts (1 s when 0).
	ReconnectWait time.Duration
	// Local, if set, is the in-process bus to deliver to (a new one when nil).
	Local *event.Local
	// MaxStaleness is the staleness bound: caches are served only while
	// this node holds proof, no older than this, of having applied every
	// other node's invalidations (1 s when 0).
	MaxStaleness time.Duration
	// MarkInterval is the pause between a node's pings and acks, which
	// renew the proof (100 ms when 0; keep it well below MaxStaleness).
	MarkInterval time.Duration
	// PeerTimeout forgets a node whose acks stopped that long ago (it
	// crashed, or lost NATS): until then the other nodes read through
	// (30 s when 0).
	PeerTimeout time.Duration
}

// Defaults of Options.
const (
	DefaultMaxStaleness = time.Second
	DefaultMarkInterval = 100 * time.Millisecond
	DefaultPeerTimeout  = 30 * time.Second
)

// Bus is an event.Bus over NATS. It is safe for concurrent use.
type Bus struct {
	local   *event.Local
	nc      *nats.Conn
	probe   *nats.Conn // sends this node's pings (see fresh.go)
	sub     *nats.Subscription
	subject string
	node    [nodeLen]byte
	opt     Options
	log     *slog.Logger

	ctx    context.Context // ended by Close: stops catch-ups
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex // guards catchingUp, again
	// catchingUp: one catch-up runs at a time; again asks it to run once
	// more when another reset came during it.
	catchingUp, again bool
	closeOnce         sync.Once
	closed            chan struct{}

	fresh    *fresh
	epoch    time.Time // fresh's clock: monotonic time since epoch
	interval time.Duration
	markDone chan struct{} // closed when markLoop returns
	// pubMu orders invalidations and acks: an ack never leaves after an
	// invalidation that failed to publish without saying so (lost).
	pubMu sync.Mutex
	lost  bool

	published, received, publishErrors, resets, marks atomic.Int64
}

var _ event.Bus = (*Bus)(nil)

// Connect connects to the NATS server(s) at url (comma-separated for a
// cluster), reconnecting for ever when the connection drops. It fails at
// once when no server answers.
func Connect(ctx context.Context, url string, opt Options) (*Bus, error) {
	b := newBus(opt)
	wait := opt.ReconnectWait
	if wait <= 0 {
		wait = time.Second
	}
	name := opt.Name
	if name == "" {
		name = "parley"
	}
	timeout := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = max(min(timeout, time.Until(d)), time.Millisecond)
	}
	nc, err := nats.Connect(url,
		nats.Name(name+" "+b.NodeID()),
		nats.Timeout(timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(wait),
		nats.NoEcho(),
		nats.DrainTimeout(5*time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.log.Warn("NATS disconnected; reconnecting", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("NATS reconnected", "server", nc.ConnectedUrlRedacted())
			b.checkLoss() // resets, unless a message did already
		}),
		nats.ClosedHandler(func(*nats.Conn) { b.closeOnce.Do(func() { close(b.closed) }) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				// Messages were dropped: maybe invalidations.
				b.log.Warn("NATS dropped messages for a slow subscription; emptying caches", "err", err)
				b.checkLoss() // resets, unless a message did already
				return
			}
			b.log.Warn("NATS", "err", err)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", redact(url), err)
	}
	if err := b.start(nc); err != nil {
		nc.Close()
		return nil, err
	}
	// The probe publishes only; while it is cut off its pings fail rather
	// than wait in a buffer.
	probe, err := nats.Connect(url,
		nats.Name(name+" "+b.NodeID()+" probe"),
		nats.Timeout(timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(wait),
		nats.ReconnectBufSize(-1),
	)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("connect to NATS at %s: %w", redact(url), err)
	}
	b.probe = probe
	b.wg.Add(1)
	go b.markLoop()
	return b, nil
}

// redact hides a password in a NATS URL for messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

func newBus(opt Options) *Bus {
	b := &Bus{opt: opt, local: opt.Local, subject: opt.Subject, log: opt.Log, closed: make(chan struct{})}
	if b.local == nil {
		b.local = event.NewLocal()
	}
	if b.subject == "" {
		b.subject = DefaultSubject
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	_, _ = rand.Read(b.node[:]) // crypto/rand.Read never fails (Go 1.24+)
	b.ctx, b.cancel = context.WithCancel(context.Background())
	maxAge, peerTimeout := opt.MaxStaleness, opt.PeerTimeout
	b.interval = opt.MarkInterval
	if maxAge <= 0 {
		maxAge = DefaultMaxStaleness
	}
	if b.interval <= 0 {
		b.interval = DefaultMarkInterval
	}
	if peerTimeout <= 0 {
		peerTimeout = DefaultPeerTimeout
	}
	b.epoch = time.Now()
	b.fresh = newFresh(int64(maxAge), int64(b.interval), int64(peerTimeout))
	b.markDone = make(chan struct{})
	return b
}

// mono is fresh's clock.
func (b *Bus) mono() int64 { return int64(time.Since(b.epoch)) }

func (b *Bus) start(nc *nats.Conn) error {
	b.nc = nc
	sub, err := nc.Subscribe(b.subject, b.receive)
	if err != nil {
		return fmt.Errorf("subscribe to NATS subject %s: %w", b.subject, err)
	}
	// Generous limits: a dropped message costs every node a cache reset.
	if err := sub.SetPendingLimits(1<<20, 256<<20); err != nil {
		return fmt.Errorf("NATS pending limits: %w", err)
	}
	b.sub = sub
	// An ack before anything else: the other nodes learn of this node
	// before its first invalidation, and wait for its acks from then on.
	if err := nc.Publish(b.subject, appendAck(appendHeader(nil, kindAck, &b.node), false, nil)); err != nil {
		return fmt.Errorf("publish to NATS subject %s: %w", b.subject, err)
	}
	// The subscription is known to the server before the first write.
	if err := nc.Flush(); err != nil {
		return fmt.Errorf("subscribe to NATS subject %s: %w", b.subject, err)
	}
	return nil
}

// NodeID returns this node's random id (hex).
func (b *Bus) NodeID() string { return hex.EncodeToString(b.node[:]) }

// Local returns the in-process bus of this node's connections.
func (b *Bus) Local() *event.Local { return b.local }

// Subscribe registers r for the user's events, from any node.
func (b *Bus) Subscribe(userID identity.UserID, r event.Receiver) *event.Subscription {
	return b.local.Subscribe(userID, r)
}

// Publish delivers the events to this node's subscribers at once, then
// sends them to the other nodes in one NATS message (more when they would
// pass the server's maximum payload). A NATS error is returned after the
// local delivery; the events are stored, so nothing is lost.
func (b *Bus) Publish(ctx context.Context, events []event.Event) error {
	if len(events) == 0 {
		return nil
	}
	_ = b.local.Publish(ctx, events) // never fails
	limit := int(b.nc.MaxPayload()) - 1024
	var errs []error
	for lo := 0; lo < len(events); {
		msg, hi := b.encodeEvents(events, lo, limit)
		if err := b.nc.Publish(b.subject, msg); err != nil {
			b.publishErrors.Add(1)
			errs = append(errs, err)
		} else {
			b.published.Add(1)
		}
		lo = hi
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("publish events to NATS: %w", err)
	}
	return nil
}

// encodeEvents encodes events from lo on until the message would pass
// limit bytes (at least one event), and returns the message and where it
// stopped.
func (b *Bus) encodeEvents(events []event.Event, lo, limit int) ([]byte, int) {
	const countRoom = 1 + 10 // the count field, written last
	msg := appendHeader(make([]byte, 0, 256), kindEvents, &b.node)
	hi := lo
	var prev *event.Event
	for hi < len(events) {
		n := len(msg)
		msg = appendEvent(msg, &events[hi], prev)
		if len(msg)+countRoom > limit && hi > lo {
			msg = msg[:n]
			break
		}
		prev = &events[hi]
		hi++
	}
	return appendEventCount(msg, hi-lo), hi
}

// Invalidate sends this node's invalidation to the other nodes. It does
// not block on the network (NATS buffers, also while reconnecting).
//
// The caller publishes before it answers the change, so that the bound on
// staleness runs from the answer: the acks this node sends after it prove
// to the others that they have it. When it cannot be published (NATS
// refused it, or the buffer kept while reconnecting is full), the next ack
// says so and the other nodes empty their caches.
func (b *Bus) Invalidate(inv Invalidation) error {
	msg := appendInvalidation(appendHeader(make([]byte, 0, 64), kindInval, &b.node), &inv)
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	if err := b.nc.Publish(b.subject, msg); err != nil {
		b.lost = true
		b.publishErrors.Add(1)
		return fmt.Errorf("publish invalidation to NATS: %w", err)
	}
	b.published.Add(1)
	return nil
}

// receive handles one message from another node, on the subscription's
// goroutine: in the order that node sent them, an invalidation is applied
// before the events published after it.
func (b *Bus) receive(m *nats.Msg) {
	kind, node, body, err := decodeHeader(m.Data)
	if err != nil {
		b.log.Warn("natsbus: ignoring a message", "err", err)
		return
	}
	switch kind {
	case kindPing, kindAck, kindBye:
		b.mark(kind, node, body)
		return
	}
	if node == b.node {
		return // our own (NoEcho should have kept it away)
	}
	b.received.Add(1)
	switch kind {
	case kindEvents:
		evs, err := decodeEvents(body)
		if err != nil {
			b.log.Warn("natsbus: ignoring events", "err", err)
			return
		}
		_ = b.local.Publish(b.ctx, evs)
	case kindInval:
		inv, err := decodeInvalidation(body)
		if err != nil {
			b.log.Warn("natsbus: ignoring an invalidation", "err", err)
			// It said something changed: drop everything.
			b.Reset()
			return
		}
		if b.opt.OnInvalidate != nil {
			b.opt.OnInvalidate(inv)
		}
	default:
		b.log.Warn("natsbus: ignoring a message of unknown kind", "kind", kind)
	}
}

// mark applies a ping, ack or bye (fresh.go). Each first checks that the
// subscription lost nothing since the last one: a proof is only as good as
// the stream it came in.
func (b *Bus) mark(kind byte, node [nodeLen]byte, body []byte) {
	b.checkLoss()
	now := b.mono()
	switch kind {
	case kindPing:
		seq, err := decodePing(body)
		if err != nil {
			b.log.Warn("natsbus: ignoring a ping", "err", err)
			return
		}
		if node == b.node {
			b.fresh.ownEcho(seq)
		} else {
			b.fresh.pingFrom(node, seq, now)
		}
	case kindAck:
		if node == b.node {
			return
		}
		lost, seq, err := decodeAck(body, b.node)
		if err != nil {
			b.log.Warn("natsbus: ignoring an ack", "err", err)
			return
		}
		if lost {
			b.log.Warn("natsbus: another node failed to publish an invalidation; emptying caches", "node", hex.EncodeToString(node[:]))
			b.fresh.mu.Lock()
			b.resetLocked()
			b.fresh.mu.Unlock()
		}
		b.fresh.ack(node, seq, now)
	case kindBye:
		if node != b.node {
			b.fresh.bye(node)
		}
	}
}

// checkLoss resets when the main connection reconnected or its
// subscription dropped messages since the last check: invalidations may be
// missing, and proofs taken before prove nothing.
func (b *Bus) checkLoss() {
	reconnects := b.nc.Stats().Reconnects
	dropped, err := b.sub.Dropped()
	if err != nil {
		return // closed: the bus is closing
	}
	b.fresh.mu.Lock()
	lost := b.fresh.lostLocked(reconnects, dropped)
	if lost {
		b.resetLocked()
	}
	b.fresh.mu.Unlock()
	if lost {
		b.catchUpLater()
	}
}

// resetLocked empties the caches and voids every proof so far, under
// b.fresh.mu so that no proof can count before the caches are empty.
func (b *Bus) resetLocked() {
	b.resets.Add(1)
	b.fresh.resetLocked()
	if b.opt.OnReset != nil {
		b.opt.OnReset()
	}
}

// markLoop sends a ping and an ack every interval until Close.
func (b *Bus) markLoop() {
	defer b.wg.Done()
	defer close(b.markDone)
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		b.sendMarks()
		select {
		case <-t.C:
		case <-b.ctx.Done():
			return
		}
	}
}

func (b *Bus) sendMarks() {
	now := b.mono()
	seq := b.fresh.ping(now)
	acks := b.fresh.acks(now)
	b.fresh.mu.Lock()
	if n := b.fresh.expireLocked(now); n > 0 {
		b.log.Warn("natsbus: forgetting nodes silent for the peer timeout; emptying caches", "nodes", n)
		b.resetLocked()
	}
	b.fresh.mu.Unlock()
	ping := appendPing(appendHeader(make([]byte, 0, headerLen+10), kindPing, &b.node), seq)
	if err := b.probe.Publish(b.subject, ping); err == nil {
		b.marks.Add(1)
	}
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	ack := appendAck(appendHeader(make([]byte, 0, headerLen+2+len(acks)*(nodeLen+4)), kindAck, &b.node), b.lost, acks)
	if err := b.nc.Publish(b.subject, ack); err == nil {
		b.lost = false
		b.marks.Add(1)
	}
}

// Current reports whether this node may serve its caches now: it holds
// proof of having applied every other node's invalidations sent up to at
// most MaxStaleness ago. It costs a clock read and an atomic load.
func (b *Bus) Current() bool { return b.fresh.current(b.mono()) }

// Reset is what a node does when it may have missed messages (NATS calls
// it after a reconnect): it empties the caches (OnReset) at once, then, in
// the background, hands each locally connected user their latest stored
// event, so that a connection that missed events sees the gap and replays
// them from the store.
func (b *Bus) Reset() {
	b.fresh.mu.Lock()
	b.resetLocked()
	b.fresh.mu.Unlock()
	b.catchUpLater()
}

// catchUpLater starts (or repeats) the catch-up of connected users.
func (b *Bus) catchUpLater() {
	if b.opt.Store == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx.Err() != nil {
		return
	}
	if b.catchingUp {
		b.again = true
		return
	}
	b.catchingUp = true
	b.wg.Add(1)
	go b.catchUpLoop()
}

func (b *Bus) catchUpLoop() {
	defer b.wg.Done()
	for {
		b.catchUp()
		b.mu.Lock()
		if !b.again || b.ctx.Err() != nil {
			b.catchingUp = false
			b.mu.Unlock()
			return
		}
		b.again = false
		b.mu.Unlock()
	}
}

func (b *Bus) catchUp() {
	for _, u := range b.local.Users() {
		if b.ctx.Err() != nil {
			return
		}
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		last, err := b.opt.Store.LastSeq(ctx, u)
		var evs []event.Event
		if err == nil && last > 0 {
			evs, err = b.opt.Store.FindEvents(ctx, u, last-1, 1)
		}
		cancel()
		if err != nil {
			if b.ctx.Err() == nil {
				b.log.Warn("natsbus: catch up after reconnect", "user", u, "err", err)
			}
			continue
		}
		_ = b.local.Publish(b.ctx, evs)
	}
}

// Stats are the bus's counters.
type Stats struct {
	Connected bool
	// Current: the caches are served (see Current).
	Current    bool
	Peers      int // other nodes whose acks the caches wait for
	Reconnects uint64
	// Marks counts the pings and acks sent (not in Published).
	Published, Received, PublishErrors, Reset, Marks int64
}

// Stats returns the bus's counters.
func (b *Bus) Stats() Stats {
	return Stats{Connected: b.nc.IsConnected(), Current: b.Current(), Peers: b.fresh.peerCount(), Reconnects: b.nc.Stats().Reconnects,
		Published: b.published.Load(), Received: b.received.Load(), PublishErrors: b.publishErrors.Load(), Reset: b.resets.Load(), Marks: b.marks.Load()}
}

// Close stops receiving, sends what is buffered and closes the connection,
// waiting (briefly) for the message being handled and any catch-up. Call
// it before closing the store. It is idempotent.
func (b *Bus) Close() error {
	b.mu.Lock()
	b.cancel()
	b.mu.Unlock()
	var err error
	if b.probe != nil {
		<-b.markDone
		b.probe.Close()
	}
	if b.nc != nil && !b.nc.IsClosed() {
		// The others stop waiting for this node's acks; everything it
		// sent came before.
		_ = b.nc.Publish(b.subject, appendHeader(nil, kindBye, &b.node)) // best effort: a missing bye costs the others PeerTimeout of reading through
		if derr := b.nc.Drain(); derr != nil {
			b.nc.Close() // not connected: nothing to drain
		}
		select {
		case <-b.closed:
		case <-time.After(10 * time.Second):
			b.nc.Close()
			err = errors.New("close NATS: drain timed out")
		}
	}
	b.wg.Wait()
	return err
}
