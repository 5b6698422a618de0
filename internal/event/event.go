// Package event holds the real-time events of SPEC §7: their types, the
// per-user sequence that orders them, and the Bus that wakes up connections
// after a write commits. Events are stored with their seq in the same
// transaction as the change they describe, so the bus is only a wake-up call
// and a reconnecting client replays from the store (nothing acknowledged is
// lost). Domain services, store, realtime and natsbus import it.
package event

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/parleychat/parley/internal/identity"
)

// Type names an event; the values are a contract (API.md "Real time").
type Type string

// Event types.
const (
	MessageCreated  Type = "messageCreated"
	MessageUpdated  Type = "messageUpdated"
	MessageDeleted  Type = "messageDeleted"
	MemberAdded     Type = "memberAdded"
	MemberRemoved   Type = "memberRemoved"
	ChatCreated     Type = "chatCreated"
	ChatUpdated     Type = "chatUpdated"
	ChatRead        Type = "chatRead"
	ReadReceipt     Type = "readReceipt"
	Typing          Type = "typing"
	RequestReceived Type = "requestReceived"
	RequestAccepted Type = "requestAccepted"
	RequestDeclined Type = "requestDeclined"
	ChatReadOnly    Type = "chatReadOnly"
	ChatWritable    Type = "chatWritable"
)

// Draft is an event before the store gives it a seq: who receives it and the
// JSON object sent to them (without "seq", which is added on delivery).
type Draft struct {
	UserID  identity.UserID
	Type    Type
	ChatID  string
	Payload []byte
}

// Event is a stored event with its per-user seq. An ephemeral event
// (typing) has Seq 0: it is published, never stored, and not replayed.
type Event struct {
	UserID    identity.UserID
	Seq       int64
	Type      Type
	ChatID    string
	Payload   []byte
	CreatedAt time.Time
}

// Frame returns the JSON text sent on the wire: the payload with "seq" first.
func (e *Event) Frame() []byte {
	return AppendFrame(nil, e.Seq, e.Payload)
}

// AppendFrame appends the wire form of payload with seq to dst; an
// ephemeral event (seq 0) goes out as its payload alone.
func AppendFrame(dst []byte, seq int64, payload []byte) []byte {
	if seq == 0 {
		return append(dst, payload...)
	}
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	if len(payload) > 2 {
		dst = append(dst, ',')
		dst = append(dst, payload[1:]...)
	} else {
		dst = append(dst, '}')
	}
	return dst
}

// Bus carries committed events to the connections of their users, on this
// node (Local) or across nodes (natsbus).
//
// Publish is called after commit, in commit order. Subscribe returns a
// subscription whose channel receives the user's events; a subscriber that
// falls behind loses events from the channel, never from the store, and
// catches up by replaying since its last seq.
type Bus interface {
	Publish(ctx context.Context, events []Event) error
	Subscribe(userID identity.UserID) *Subscription
}

// Subscription receives one user's events.
type Subscription struct {
	C      chan Event
	userID identity.UserID
	cancel func()
	// Lagged is set when an event could not be queued; the reader must replay.
	lagged  chan struct{}
	lagOnce sync.Once
}

// Lagged is closed (once) when the subscription dropped an event.
func (s *Subscription) Lagged() <-chan struct{} { return s.lagged }

// Close ends the subscription.
func (s *Subscription) Close() { s.cancel() }

// Local is the in-process Bus of a single node.
type Local struct {
	mu   sync.RWMutex
	subs map[identity.UserID]map[*Subscription]struct{}
	// Buffer is the channel size per subscription. It is small on purpose:
	// each open connection holds one, and a reader that falls behind
	// replays from the store (memory per idle connection, issue 6).
	Buffer int
}

// NewLocal returns an in-process bus.
func NewLocal() *Local {
	return &Local{subs: make(map[identity.UserID]map[*Subscription]struct{}), Buffer: 16}
}

// Publish delivers events to the subscriptions of their users without
// blocking; a full subscription is marked lagged.
func (b *Local) Publish(_ context.Context, events []Event) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for i := range events {
		for s := range b.subs[events[i].UserID] {
			select {
			case s.C <- events[i]:
			default:
				s.markLagged()
			}
		}
	}
	return nil
}

// Subscribe registers a subscription for the user.
func (b *Local) Subscribe(userID identity.UserID) *Subscription {
	s := &Subscription{C: make(chan Event, b.Buffer), userID: userID, lagged: make(chan struct{})}
	var once sync.Once
	s.cancel = func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs[userID], s)
			if len(b.subs[userID]) == 0 {
				delete(b.subs, userID)
			}
			b.mu.Unlock()
		})
	}
	b.mu.Lock()
	if b.subs[userID] == nil {
		b.subs[userID] = make(map[*Subscription]struct{})
	}
	b.subs[userID][s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Connections returns the number of subscriptions, for metrics.
func (b *Local) Connections() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	n := 0
	for _, m := range b.subs {
		n += len(m)
	}
	return n
}

func (s *Subscription) markLagged() {
	s.lagOnce.Do(func() { close(s.lagged) })
}
