// Package natsbus is the event.Bus of several Parley nodes on one
// PostgreSQL database (SPEC §12): each node delivers to its own
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
// Subjects: every node publishes on one subject and subscribes to it (its
// own messages are not echoed back, and are ignored by node id if they
// were). One Publish call becomes one NATS message however many users it
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
}

// Bus is an event.Bus over NATS. It is safe for concurrent use.
type Bus struct {
	local   *event.Local
	nc      *nats.Conn
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

	published, received, publishErrors, resets atomic.Int64
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
			b.Reset()
		}),
		nats.ClosedHandler(func(*nats.Conn) { b.closeOnce.Do(func() { close(b.closed) }) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				// Messages were dropped: maybe invalidations.
				b.log.Warn("NATS dropped messages for a slow subscription; emptying caches", "err", err)
				b.Reset()
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
	return b
}

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
	// A count placeholder of fixed width, filled in at the end.
	const countWidth = 5
	msg := appendHeader(make([]byte, 0, 256), kindEvents, &b.node)
	countAt := len(msg)
	msg = append(msg, make([]byte, countWidth)...)
	hi := lo
	var prev *event.Event
	for hi < len(events) {
		n := len(msg)
		msg = appendEvent(msg, &events[hi], prev)
		if len(msg) > limit && hi > lo {
			msg = msg[:n]
			break
		}
		prev = &events[hi]
		hi++
	}
	// Write the count as a padded uvarint (continuation bits set).
	v := uint64(hi - lo)
	for i := range countWidth {
		c := byte(v & 0x7f)
		v >>= 7
		if i < countWidth-1 {
			c |= 0x80
		}
		msg[countAt+i] = c
	}
	return msg, hi
}

// Invalidate sends this node's invalidation to the other nodes. It does
// not block on the network (NATS buffers, also while reconnecting).
func (b *Bus) Invalidate(inv Invalidation) error {
	msg := appendInvalidation(appendHeader(make([]byte, 0, 64), kindInval, &b.node), &inv)
	if err := b.nc.Publish(b.subject, msg); err != nil {
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

// Reset is what a node does when it may have missed messages (NATS calls
// it after a reconnect): it empties the caches (OnReset) at once, then, in
// the background, hands each locally connected user their latest stored
// event, so that a connection that missed events sees the gap and replays
// them from the store.
func (b *Bus) Reset() {
	b.resets.Add(1)
	if b.opt.OnReset != nil {
		b.opt.OnReset()
	}
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
	Connected                                 bool
	Reconnects                                uint64
	Published, Received, PublishErrors, Reset int64
}

// Stats returns the bus's counters.
func (b *Bus) Stats() Stats {
	return Stats{Connected: b.nc.IsConnected(), Reconnects: b.nc.Stats().Reconnects,
		Published: b.published.Load(), Received: b.received.Load(), PublishErrors: b.publishErrors.Load(), Reset: b.resets.Load()}
}

// Close stops receiving, sends what is buffered and closes the connection,
// waiting (briefly) for the message being handled and any catch-up. Call
// it before closing the store. It is idempotent.
func (b *Bus) Close() error {
	b.mu.Lock()
	b.cancel()
	b.mu.Unlock()
	var err error
	if b.nc != nil && !b.nc.IsClosed() {
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
