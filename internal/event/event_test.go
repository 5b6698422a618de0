package event_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// recorder is a Receiver that keeps the seqs it was given.
type recorder struct{ seqs []int64 }

func (r *recorder) Receive(e event.Event) { r.seqs = append(r.seqs, e.Seq) }

// TestLocal: each subscription of a user receives that user's events in the
// order published, until it is closed.
func TestLocal(t *testing.T) {
	ctx := context.Background()
	bus := event.NewLocal()
	ada, bob := identity.UserID("ada"), identity.UserID("bob")
	var a1, a2, b1 recorder
	sa1, sa2, sb1 := bus.Subscribe(ada, &a1), bus.Subscribe(ada, &a2), bus.Subscribe(bob, &b1)
	if got := bus.Connections(); got != 3 {
		t.Errorf("Connections: got %d, want 3", got)
	}
	publish := func(evs ...event.Event) {
		t.Helper()
		if err := bus.Publish(ctx, evs); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	publish(event.Event{UserID: ada, Seq: 1}, event.Event{UserID: bob, Seq: 1}, event.Event{UserID: ada, Seq: 2})
	publish(event.Event{UserID: "carol", Seq: 1}) // no subscriber: dropped
	sa1.Close()
	sa1.Close() // idempotent
	publish(event.Event{UserID: ada, Seq: 3})
	sb1.Close()
	publish(event.Event{UserID: bob, Seq: 2})

	for _, tc := range []struct {
		name string
		got  []int64
		want []int64
	}{
		{name: "ada, closed after two", got: a1.seqs, want: []int64{1, 2}},
		{name: "ada, open", got: a2.seqs, want: []int64{1, 2, 3}},
		{name: "bob, closed after one", got: b1.seqs, want: []int64{1}},
	} {
		if diff := cmp.Diff(tc.want, tc.got); diff != "" {
			t.Errorf("%s: seqs (-want +got):\n%s", tc.name, diff)
		}
	}
	if got := bus.Connections(); got != 1 {
		t.Errorf("Connections after two closes: got %d, want 1", got)
	}
	sa2.Close()
	if got := bus.Connections(); got != 0 {
		t.Errorf("Connections after all closed: got %d, want 0", got)
	}
}

// TestAppendFrame: "seq" goes first; an ephemeral event is its payload.
func TestAppendFrame(t *testing.T) {
	for _, tc := range []struct {
		name    string
		seq     int64
		payload string
		want    string
	}{
		{name: "stored", seq: 7, payload: `{"type":"x"}`, want: `{"seq":7,"type":"x"}`},
		{name: "empty object", seq: 7, payload: `{}`, want: `{"seq":7}`},
		{name: "ephemeral", seq: 0, payload: `{"type":"typing"}`, want: `{"type":"typing"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(event.AppendFrame(nil, tc.seq, []byte(tc.payload))); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
