package natsbus

import (
	"fmt"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// benchEvents is one message's events as the writer publishes them: the
// same payload for each of n members of a chat (a 1:1 chat is n=2).
func benchEvents(n int) []event.Event {
	payload := []byte(`{"type":"messageCreated","chatId":"19:2f6c1b0e-8a7d-4c1e-9b1a-3f5e6d7c8b9a@unq.gbl.spaces","message":{"id":"1733212345678","body":{"contentType":"text","content":"` +
		"a hundred bytes of text, about what a chat line is, so the payload is the size the load tool sends" + `"}}}`)
	at := time.UnixMicro(1_733_212_345_678_901).UTC()
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.Event{UserID: identity.UserID(fmt.Sprintf("8c3f1a2b-5d6e-4f70-8a9b-%012d", i)), Seq: int64(1000 + i),
			Type: event.MessageCreated, ChatID: "19:2f6c1b0e-8a7d-4c1e-9b1a-3f5e6d7c8b9a@unq.gbl.spaces", Payload: payload, CreatedAt: at}
	}
	return evs
}

// BenchmarkEncodeEvents / BenchmarkDecodeEvents: the bus's per-message
// codec work on each node (docs/performance.md, "NATS wire format").
func BenchmarkEncodeEvents(b *testing.B) {
	for _, n := range []int{2, 20} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			bus := newBus(Options{})
			evs := benchEvents(n)
			b.ReportAllocs()
			for b.Loop() {
				msg, _ := bus.encodeEvents(evs, 0, 1<<20)
				b.SetBytes(int64(len(msg)))
			}
		})
	}
}

func BenchmarkDecodeEvents(b *testing.B) {
	for _, n := range []int{2, 20} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			bus := newBus(Options{})
			msg, _ := bus.encodeEvents(benchEvents(n), 0, 1<<20)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				_, _, body, err := decodeHeader(msg)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := decodeEvents(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkInvalidation(b *testing.B) {
	bus := newBus(Options{})
	inv := Invalidation{Chats: []string{"19:2f6c1b0e-8a7d-4c1e-9b1a-3f5e6d7c8b9a@unq.gbl.spaces"},
		Touched: []Touch{{"19:2f6c1b0e-8a7d-4c1e-9b1a-3f5e6d7c8b9a@unq.gbl.spaces", 1_733_212_345_678_901}}}
	b.ReportAllocs()
	for b.Loop() {
		msg := appendInvalidation(appendHeader(make([]byte, 0, 64), kindInval, &bus.node), &inv)
		_, _, body, err := decodeHeader(msg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := decodeInvalidation(body); err != nil {
			b.Fatal(err)
		}
	}
}
