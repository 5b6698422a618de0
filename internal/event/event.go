// Package event holds the real-time events of docs/rules.md §7: their types, the
// per-user sequence that orders them, and the Bus that wakes up connections
// after a write commits. Events are stored with their seq in the same
// transaction as the change they describe, so the bus is only a wake-up call
// and a reconnecting client replays from the store (nothing acknowledged is
// lost). Domain services, store, realtime and natsbus import it.
package event

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
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
	// PresenceChanged is ephemeral (seq 0), sent only to connections that
	// ask for it (?presence=true on the events WebSocket).
	PresenceChanged Type = "presenceChanged"
	// LobbyUpdated tells a meeting's organiser and host members that the
	// lobby changed (someone arrived, was admitted or denied).
	LobbyUpdated Type = "lobbyUpdated"
	// SessionEnded is the last event of an anonymous meeting session (the
	// meeting ended, or they were denied or removed): the connection that
	// carries it closes after it.
	SessionEnded Type = "sessionEnded"
	// LobbyDecided tells a signed-in person who joined a meeting by its
	// link what became of their wait in the lobby (admitted, denied,
	// removed, or the meeting ended).
	LobbyDecided Type = "lobbyDecided"
	// InstalledAppsChanged tells the people of a chat, or every member of
	// a team, that an app was added, upgraded or removed there, so that
	// open clients refresh their lists of apps.
	InstalledAppsChanged Type = "installedAppsChanged"
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
// Publish is called after commit, in commit order. Subscribe registers a
// Receiver for a user's events. The bus is only a wake-up call: a receiver
// may drop what it cannot take at once (the events are stored), and catches
// up by replaying from the store since its last seq.
type Bus interface {
	Publish(ctx context.Context, events []Event) error
	Subscribe(userID identity.UserID, r Receiver) *Subscription
}

// Receiver takes the events of one subscription.
//
// Receive is called by Publish, in the publisher's goroutine, once per event
// and in the order of the events given to that Publish call. It must not
// block and must not call the bus (Publish holds the bus's lock). The event's
// Payload is shared with every other receiver and must not be modified.
type Receiver interface {
	Receive(e Event)
}

// Subscription is one Receiver registered for one user's events.
type Subscription struct {
	bus    *Local
	userID identity.UserID
	r      Receiver
}

// Close ends the subscription: when it returns, Receive is not called
// again. Close is idempotent.
func (s *Subscription) Close() { s.bus.unsubscribe(s) }

// Local is the in-process Bus of a single node. A subscription costs the
// bus one small struct and a slot in the user's list: there is no buffer,
// since delivery is a call into the receiver (memory per idle connection,
// docs/performance.md).
type Local struct {
	mu   sync.RWMutex
	subs map[identity.UserID][]*Subscription
	n    int
	// delivered counts events handed to receivers (metrics).
	delivered atomic.Uint64
}

// NewLocal returns an in-process bus.
func NewLocal() *Local {
	return &Local{subs: make(map[identity.UserID][]*Subscription)}
}

// Publish hands each event to the receivers of its user.
func (b *Local) Publish(_ context.Context, events []Event) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	n := 0
	for i := range events {
		for _, s := range b.subs[events[i].UserID] {
			s.r.Receive(events[i])
			n++
		}
	}
	if n > 0 {
		b.delivered.Add(uint64(n))
	}
	return nil
}

// Delivered returns how many events were handed to receivers (metrics).
func (b *Local) Delivered() uint64 { return b.delivered.Load() }

// Subscribe registers r for the user's events.
func (b *Local) Subscribe(userID identity.UserID, r Receiver) *Subscription {
	s := &Subscription{bus: b, userID: userID, r: r}
	b.mu.Lock()
	b.subs[userID] = append(b.subs[userID], s)
	b.n++
	b.mu.Unlock()
	return s
}

func (b *Local) unsubscribe(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	list := b.subs[s.userID]
	i := slices.Index(list, s)
	if i < 0 {
		return // closed before
	}
	if len(list) == 1 {
		delete(b.subs, s.userID)
	} else {
		last := len(list) - 1
		list[i] = list[last]
		list[last] = nil
		b.subs[s.userID] = list[:last]
	}
	b.n--
}

// Users returns the users with at least one subscription (natsbus catches
// them up after it may have missed other nodes' events).
func (b *Local) Users() []identity.UserID {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]identity.UserID, 0, len(b.subs))
	for u := range b.subs {
		out = append(out, u)
	}
	return out
}

// Connections returns the number of subscriptions, for metrics.
func (b *Local) Connections() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.n
}
