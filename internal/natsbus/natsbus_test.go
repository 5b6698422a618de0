package natsbus

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// startNATS starts an embedded NATS server on port (-1: any free port).
func startNATS(t *testing.T, port int, change func(*server.Options)) *server.Server {
	t.Helper()
	opts := &server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true}
	if change != nil {
		change(opts)
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(20 * time.Second) {
		t.Fatal("nats server did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// recorder collects what a subscription receives.
type recorder struct {
	mu   sync.Mutex
	evs  []event.Event
	wake chan struct{}
}

func newRecorder() *recorder { return &recorder{wake: make(chan struct{}, 1)} }

func (r *recorder) Receive(e event.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, e)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recorder) got() []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.evs)
}

// waitN waits (generously) until n events arrived and returns them.
func (r *recorder) waitN(t *testing.T, n int) []event.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if evs := r.got(); len(evs) >= n {
			return evs
		}
		select {
		case <-r.wake:
		case <-deadline:
			t.Fatalf("waited for %d events, have %v", n, r.got())
		}
	}
}

func connect(t *testing.T, url string, opt Options) *Bus {
	t.Helper()
	opt.ReconnectWait = 50 * time.Millisecond
	b, err := Connect(context.Background(), url, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func ev(user string, seq int64, typ event.Type, chat, payload string) event.Event {
	return event.Event{UserID: identity.UserID(user), Seq: seq, Type: typ, ChatID: chat, Payload: []byte(payload),
		CreatedAt: time.UnixMicro(1_700_000_000_123_456).UTC()}
}

func TestCodecRoundTrip(t *testing.T) {
	shared := []byte(`{"type":"messageCreated","chatId":"c1","body":"héllo"}`)
	evs := []event.Event{
		{UserID: "u1", Seq: 7, Type: event.MessageCreated, ChatID: "c1", Payload: shared, CreatedAt: time.UnixMicro(1_700_000_000_000_001).UTC()},
		{UserID: "u2", Seq: 1, Type: event.MessageCreated, ChatID: "c1", Payload: slices.Clone(shared), CreatedAt: time.UnixMicro(1_700_000_000_000_001).UTC()},
		{UserID: "u3", Seq: 0, Type: event.Typing, ChatID: "c1", Payload: []byte(`{"type":"typing"}`)}, // ephemeral, no time
		{UserID: "u3", Seq: 1 << 40, Type: event.ChatUpdated, ChatID: "", Payload: nil},
	}
	b := newBus(Options{})
	msg, hi := b.encodeEvents(evs, 0, 1<<20)
	if hi != len(evs) {
		t.Fatalf("encoded %d of %d", hi, len(evs))
	}
	kind, node, body, err := decodeHeader(msg)
	if err != nil || kind != kindEvents || node != b.node {
		t.Fatalf("header: kind %c node %x err %v", kind, node, err)
	}
	got, err := decodeEvents(body)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(evs)
	want[3].Payload = []byte{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("events differ (-want +got):\n%s", diff)
	}
	// The shared payload was sent once.
	if n := bytes.Count(msg, []byte("héllo")); n != 1 {
		t.Fatalf("payload sent %d times, want once", n)
	}

	inv := Invalidation{AllChats: true, Chats: []string{"c1", "c2"}, Touched: []Touch{{"c3", 42}, {"c4", -1}},
		AllTokens: true, Tokens: [][]byte{{1, 2, 3}, make([]byte, 32)}, Users: []string{"u1"}}
	msg = appendInvalidation(appendHeader(nil, kindInval, &b.node), &inv)
	kind, _, body, err = decodeHeader(msg)
	if err != nil || kind != kindInval {
		t.Fatalf("header: %c %v", kind, err)
	}
	gotInv, err := decodeInvalidation(body)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(inv, gotInv); diff != "" {
		t.Fatalf("invalidation differs (-want +got):\n%s", diff)
	}

	// Truncated or padded messages are refused, never half-read.
	full, _ := b.encodeEvents(evs, 0, 1<<20)
	for n := 0; n < len(full); n++ {
		if _, err := decodeEvents(full[:n]); err == nil {
			t.Fatalf("decoded a message cut at %d of %d bytes", n, len(full))
		}
	}
	if _, err := decodeEvents(append(slices.Clone(full), 0)); err == nil {
		t.Fatal("decoded a message with trailing bytes")
	}
	if _, _, _, err := decodeHeader([]byte{9, 'E'}); err == nil {
		t.Fatal("decoded a short header")
	}
	// A message of the hand-written format 1 (version byte 1) is refused.
	if _, _, _, err := decodeHeader(append([]byte{1, 'E'}, make([]byte, nodeLen+1)...)); err == nil {
		t.Fatal("decoded a version 1 message")
	}
	// Another version is refused.
	other := append([]byte{0x08, wireVersion + 1}, full[2:]...)
	if _, _, _, err := decodeHeader(other); err == nil {
		t.Fatal("decoded a message of another version")
	}
}

// TestPublishCrossesNodes: a Publish on one node reaches its own
// subscribers before it returns and the other node's subscribers through
// NATS, ephemeral events included, in order and once; a node never takes
// back what it sent.
func TestPublishCrossesNodes(t *testing.T) {
	ns := startNATS(t, -1, nil)
	a := connect(t, ns.ClientURL(), Options{})
	b := connect(t, ns.ClientURL(), Options{})
	if a.NodeID() == b.NodeID() {
		t.Fatal("two nodes share an id")
	}
	onA, onB, otherB := newRecorder(), newRecorder(), newRecorder()
	a.Subscribe("u1", onA)
	subB := b.Subscribe("u1", onB)
	b.Subscribe("u2", otherB)

	batch := []event.Event{
		ev("u1", 1, event.MessageCreated, "c1", `{"type":"messageCreated","n":1}`),
		ev("u1", 2, event.MessageCreated, "c1", `{"type":"messageCreated","n":2}`),
		ev("u1", 0, event.Typing, "c1", `{"type":"typing"}`),
		ev("u2", 5, event.MemberAdded, "c2", `{"type":"memberAdded"}`),
	}
	if err := a.Publish(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if got := onA.got(); len(got) != 3 {
		t.Fatalf("local subscriber got %d events when Publish returned, want 3 at once", len(got))
	}
	want := batch[:3]
	if diff := cmp.Diff(want, onB.waitN(t, 3)); diff != "" {
		t.Fatalf("node B (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(batch[3:], otherB.waitN(t, 1)); diff != "" {
		t.Fatalf("node B, u2 (-want +got):\n%s", diff)
	}

	// B answers; A gets it once, B's own subscriber once (locally).
	if err := b.Publish(context.Background(), []event.Event{ev("u1", 3, event.ChatRead, "c1", `{"type":"chatRead"}`)}); err != nil {
		t.Fatal(err)
	}
	onA.waitN(t, 4)
	// A round trip through both nodes after it: anything duplicated would
	// have arrived before the marker.
	marker := ev("u1", 0, event.Typing, "c9", `{"type":"typing","marker":true}`)
	if err := a.Publish(context.Background(), []event.Event{marker}); err != nil {
		t.Fatal(err)
	}
	onB.waitN(t, 5)
	if got := onA.got(); len(got) != 5 || got[3].Seq != 3 || got[4].ChatID != "c9" {
		t.Fatalf("node A got %v, want its 3, B's one and the marker, once each", got)
	}
	if got := onB.got(); len(got) != 5 || got[3].Seq != 3 || got[4].ChatID != "c9" {
		t.Fatalf("node B got %v", got)
	}

	// A closed subscription receives nothing more.
	subB.Close()
	if err := a.Publish(context.Background(), []event.Event{ev("u1", 4, event.ChatRead, "c1", `{}`), ev("u2", 6, event.ChatRead, "c2", `{}`)}); err != nil {
		t.Fatal(err)
	}
	otherB.waitN(t, 2) // same message, after u1's event
	if n := len(onB.got()); n != 5 {
		t.Fatalf("closed subscription got %d events, want 5", n)
	}
	if st := a.Stats(); !st.Connected || st.Published != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// TestLargePublishIsSplit: events that would pass the server's maximum
// payload go in several messages, all delivered in order.
func TestLargePublishIsSplit(t *testing.T) {
	ns := startNATS(t, -1, func(o *server.Options) { o.MaxPayload = 8 << 10 })
	a := connect(t, ns.ClientURL(), Options{})
	b := connect(t, ns.ClientURL(), Options{})
	r := newRecorder()
	b.Subscribe("u1", r)
	var batch []event.Event
	for i := range 100 {
		batch = append(batch, ev("u1", int64(i+1), event.MessageCreated, "c1", fmt.Sprintf(`{"n":%d,"body":%q}`, i, strings.Repeat("x", 500))))
	}
	if err := a.Publish(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(batch, r.waitN(t, len(batch))); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if n := a.Stats().Published; n < 7 {
		t.Fatalf("published %d messages for ~50 KB under an 8 KB limit", n)
	}
}

// TestInvalidateReachesOtherNodes: an invalidation is applied by the other
// nodes, not by the one that sent it, and before the events it sent after.
func TestInvalidateReachesOtherNodes(t *testing.T) {
	ns := startNATS(t, -1, nil)
	var mu sync.Mutex
	var log []string
	note := func(s string) { mu.Lock(); log = append(log, s); mu.Unlock() }
	a := connect(t, ns.ClientURL(), Options{OnInvalidate: func(Invalidation) { note("A invalidated") }})
	got := make(chan Invalidation, 1)
	b := connect(t, ns.ClientURL(), Options{OnInvalidate: func(inv Invalidation) { note("B invalidated"); got <- inv }})
	r := newRecorder()
	b.Subscribe("u1", recvFunc(func(e event.Event) { note("B event"); r.Receive(e) }))

	inv := Invalidation{Chats: []string{"c1"}, Touched: []Touch{{"c2", 99}}, Tokens: [][]byte{{7}}, Users: []string{"u9"}}
	if err := a.Invalidate(inv); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(context.Background(), []event.Event{ev("u1", 1, event.MemberAdded, "c1", `{}`)}); err != nil {
		t.Fatal(err)
	}
	r.waitN(t, 1)
	select {
	case g := <-got:
		if diff := cmp.Diff(inv, g); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no invalidation on B")
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(log, []string{"B invalidated", "B event"}) {
		t.Fatalf("order %v, want B's invalidation then the event (and nothing on A)", log)
	}
}

type recvFunc func(event.Event)

func (f recvFunc) Receive(e event.Event) { f(e) }

// memStore is an in-memory event log with the two reads the catch-up uses.
type memStore struct {
	mu  sync.Mutex
	evs map[identity.UserID][]event.Event
}

func (m *memStore) add(e event.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.evs[e.UserID] = append(m.evs[e.UserID], e)
}

func (m *memStore) LastSeq(_ context.Context, u identity.UserID) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.evs[u]; len(l) > 0 {
		return l[len(l)-1].Seq, nil
	}
	return 0, nil
}

func (m *memStore) FindEvents(_ context.Context, u identity.UserID, since int64, limit int) ([]event.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []event.Event
	for _, e := range m.evs[u] {
		if e.Seq > since && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// TestReconnectResetsAndCatchesUp: when the NATS server goes away and
// comes back, each node empties its caches and hands its connected users
// their latest stored event (which makes a connection replay what it
// missed), and events cross again.
func TestReconnectResetsAndCatchesUp(t *testing.T) {
	ns := startNATS(t, -1, nil)
	st := &memStore{evs: map[identity.UserID][]event.Event{}}
	resets := make(chan struct{}, 10)
	a := connect(t, ns.ClientURL(), Options{})
	b := connect(t, ns.ClientURL(), Options{Store: st, OnReset: func() { resets <- struct{}{} }})
	r := newRecorder()
	b.Subscribe("u1", r)

	e1 := ev("u1", 1, event.MessageCreated, "c1", `{"n":1}`)
	st.add(e1)
	if err := a.Publish(context.Background(), []event.Event{e1}); err != nil {
		t.Fatal(err)
	}
	r.waitN(t, 1)

	// NATS goes down; A stores and publishes e2, which B misses.
	port := ns.Addr().(*net.TCPAddr).Port
	ns.Shutdown()
	ns.WaitForShutdown()
	e2 := ev("u1", 2, event.MessageCreated, "c1", `{"n":2}`)
	st.add(e2)
	a.local.Publish(context.Background(), []event.Event{e2}) // A's own delivery; nothing reaches B

	startNATS(t, port, nil)
	select {
	case <-resets:
	case <-time.After(60 * time.Second):
		t.Fatal("B did not reset after NATS came back")
	}
	got := r.waitN(t, 2)
	if diff := cmp.Diff([]event.Event{e1, e2}, got); diff != "" {
		t.Fatalf("catch-up (-want +got):\n%s", diff)
	}
	// And fan-out works again.
	e3 := ev("u1", 3, event.MessageCreated, "c1", `{"n":3}`)
	deadline := time.Now().Add(60 * time.Second)
	for len(r.got()) < 3 {
		// A may still be reconnecting: its publish is buffered meanwhile.
		if err := a.Publish(context.Background(), []event.Event{e3}); err != nil && time.Now().After(deadline) {
			t.Fatal(err)
		}
		select {
		case <-r.wake:
		case <-time.After(time.Second):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no fan-out after reconnect: %v", r.got())
		}
	}
	if got := r.got(); got[2].Seq != 3 {
		t.Fatalf("got %v", got)
	}
}

func TestConnectFailsClearly(t *testing.T) {
	ns := startNATS(t, -1, nil)
	url := ns.ClientURL()
	ns.Shutdown()
	ns.WaitForShutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := Connect(ctx, url, Options{})
	if err == nil || !strings.Contains(err.Error(), "connect to NATS at "+url) {
		t.Fatalf("err = %v, want a connect error naming the URL", err)
	}
}
