package event_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// messagePayload is the size and shape of a messageCreated payload of a
// 100-byte text as graph.Encoder makes it (about 800 bytes).
var messagePayload = []byte(`{"type":"messageCreated","chatId":"19:0190a1b2c3d4e5f60718293a4b5c6d7e","message":{"id":"1234567","replyToId":null,"etag":"1234567","messageType":"message","createdDateTime":"2026-11-22T01:23:45.678Z","lastModifiedDateTime":"2026-11-22T01:23:45.678Z","lastEditedDateTime":null,"deletedDateTime":null,"subject":null,"chatId":"19:0190a1b2c3d4e5f60718293a4b5c6d7e","importance":"normal","locale":"en-us","from":{"application":null,"device":null,"user":{"@odata.type":"#microsoft.graph.teamworkUserIdentity","id":"0190a1b2-c3d4-7e5f-8071-8293a4b5c6d7","displayName":"User 12","userIdentityType":"aadUser","tenantId":"0190a1b2-c3d4-7e5f-8071-8293a4b5c6d8","isExternal":false}},"body":{"contentType":"text","content":"ltab12x1 Lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut lab"},"attachments":[],"mentions":[],"reactions":[]}}`)

// BenchmarkAppendFrame is the per-frame work of a connection's writer:
// the stored payload with "seq" put first.
func BenchmarkAppendFrame(b *testing.B) {
	var buf []byte
	b.SetBytes(int64(len(messagePayload)))
	b.ReportAllocs()
	seq := int64(1 << 20)
	for b.Loop() {
		seq++
		buf = event.AppendFrame(buf[:0], seq, messagePayload)
	}
}

// counter is a Receiver that counts, as cheap as a receiver can be; a
// WebSocket connection's Receive (realtime) queues the event and wakes a
// writer.
type counter struct{ n atomic.Int64 }

func (c *counter) Receive(event.Event) { c.n.Add(1) }

// BenchmarkLocalPublish publishes one message to a 1:1 chat (two events,
// one per member) on a bus with subs subscribers. ns/op is per message.
func BenchmarkLocalPublish(b *testing.B) {
	for _, subs := range []int{2, 1000, 10000} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			bus := event.NewLocal()
			users := make([]identity.UserID, subs)
			var c counter
			for i := range users {
				users[i] = identity.UserID(fmt.Sprintf("user-%06d", i))
				s := bus.Subscribe(users[i], &c)
				defer s.Close()
			}
			ctx := context.Background()
			evs := make([]event.Event, 2)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				for k := range evs {
					i++
					evs[k] = event.Event{UserID: users[i%subs], Seq: int64(i), Type: event.MessageCreated, ChatID: "c", Payload: messagePayload}
				}
				if err := bus.Publish(ctx, evs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLocalPublishParallel publishes from many goroutines at once, as
// the HTTP handlers of concurrent sends do: the bus's lock is shared.
func BenchmarkLocalPublishParallel(b *testing.B) {
	const subs = 1000
	bus := event.NewLocal()
	users := make([]identity.UserID, subs)
	var c counter
	for i := range users {
		users[i] = identity.UserID(fmt.Sprintf("user-%06d", i))
		s := bus.Subscribe(users[i], &c)
		defer s.Close()
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		evs := make([]event.Event, 2)
		i := 0
		for pb.Next() {
			for k := range evs {
				i++
				evs[k] = event.Event{UserID: users[i%subs], Seq: int64(i), Type: event.MessageCreated, ChatID: "c", Payload: messagePayload}
			}
			if err := bus.Publish(ctx, evs); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSubscribe is what every WebSocket connection costs the bus:
// B/op is the subscription (and the user id formatted for the benchmark).
func BenchmarkSubscribe(b *testing.B) {
	bus := event.NewLocal()
	var c counter
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		s := bus.Subscribe(identity.UserID(fmt.Sprint(i%100)), &c)
		s.Close()
	}
}
