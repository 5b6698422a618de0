package natsbus

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// A node reads what any peer on the NATS subject sends, so the codec is a
// parser of outside input (issue 11). These targets check that no message
// makes a decoder panic or read past its end, and that what a decoder
// accepts is what the encoder makes of it again (decode, encode, decode
// gives the same value).

// FuzzDecodeMessage decodes arbitrary messages of every kind.
func FuzzDecodeMessage(f *testing.F) {
	b := newBus(Options{})
	evs := []event.Event{
		{UserID: "u1", Seq: 7, Type: event.MessageCreated, ChatID: "c1", Payload: []byte(`{"x":1}`), CreatedAt: time.UnixMicro(1_700_000_000_000_001).UTC()},
		{UserID: "u2", Seq: 1, Type: event.MessageCreated, ChatID: "c1", Payload: []byte(`{"x":1}`), CreatedAt: time.UnixMicro(1_700_000_000_000_001).UTC()},
		{UserID: "u3", Seq: -1, Type: event.Typing, ChatID: "c2", Payload: nil},
	}
	msg, _ := b.encodeEvents(evs, 0, 1<<20)
	f.Add(msg)
	f.Add(appendInvalidation(appendHeader(nil, kindInval, &b.node), &Invalidation{AllChats: true, Chats: []string{"c1"},
		Touched: []Touch{{"c2", 42}}, Tokens: [][]byte{{1, 2, 3}}, Users: []string{"u1"}}))
	f.Add(appendPing(appendHeader(nil, kindPing, &b.node), 77))
	f.Add(appendAck(appendHeader(nil, kindAck, &b.node), true, []ackEntry{{b.node, 5}, {nodeID(9), 6}}))
	f.Add(appendHeader(nil, kindBye, &b.node))
	f.Add([]byte{0x08, wireVersion, 0x18, kindEvents})
	f.Add(append(appendHeader(nil, kindEvents, &b.node), 0xff, 0xff, 0xff, 0xff, 0x0f))
	f.Add(appendEventCount(appendHeader(nil, kindEvents, &b.node), 1<<40))
	// Fields out of order, an unknown field, a merged invalidation.
	f.Add(appendInvalidation(appendInvalidation(append(appendPing(nil, 1), 0x48, 0x01), &Invalidation{Users: []string{"u"}}), &Invalidation{AllTokens: true}))
	f.Fuzz(func(t *testing.T, msg []byte) {
		kind, node, body, err := decodeHeader(msg)
		if err != nil {
			return
		}
		if !bytes.Equal(body, msg) {
			t.Fatalf("decodeHeader(%x) = body %x, want the whole message", msg, body)
		}
		// What the header decoder accepted, the encoder writes again.
		if k, n, _, err := decodeHeader(appendHeader(nil, kind, &node)); err != nil || k != kind || n != node {
			t.Fatalf("header (%c, %x) after a round trip: (%c, %x), %v", kind, node, k, n, err)
		}
		switch kind {
		case kindEvents:
			evs, err := decodeEvents(body)
			if err != nil {
				return
			}
			if len(evs) > len(body) {
				t.Fatalf("decodeEvents: %d events from %d bytes", len(evs), len(body))
			}
			again, hi := b.encodeEvents(evs, 0, 1<<30)
			if hi != len(evs) {
				t.Fatalf("encodeEvents: encoded %d of %d events", hi, len(evs))
			}
			got, err := decodeEvents(again)
			if err != nil {
				t.Fatalf("decodeEvents of a re-encoded message: %v", err)
			}
			if diff := cmp.Diff(evs, got); diff != "" {
				t.Fatalf("events differ after a round trip (-first +second):\n%s", diff)
			}
		case kindInval:
			inv, err := decodeInvalidation(body)
			if err != nil {
				return
			}
			got, err := decodeInvalidation(appendInvalidation(nil, &inv))
			if err != nil {
				t.Fatalf("decodeInvalidation of a re-encoded invalidation: %v", err)
			}
			if diff := cmp.Diff(inv, got); diff != "" {
				t.Fatalf("invalidation differs after a round trip (-first +second):\n%s", diff)
			}
		case kindPing:
			seq, err := decodePing(body)
			if err != nil {
				return
			}
			if got, err := decodePing(appendPing(nil, seq)); err != nil || got != seq {
				t.Fatalf("ping %d after a round trip: %d, %v", seq, got, err)
			}
		case kindAck:
			for _, me := range [][nodeLen]byte{b.node, node, nodeID(9)} {
				lost, seq, err := decodeAck(body, me)
				if err != nil {
					break
				}
				l2, s2, err := decodeAck(appendAck(nil, lost, []ackEntry{{me, seq}}), me)
				if err != nil || l2 != lost || s2 != seq {
					t.Fatalf("ack (%v, %d) after a round trip: (%v, %d), %v", lost, seq, l2, s2, err)
				}
			}
		}
	})
}

// FuzzEncodeEvents encodes events built from arbitrary fields and checks
// that they decode to themselves, and that every cut of the message is
// refused rather than half-read.
func FuzzEncodeEvents(f *testing.F) {
	f.Add("u1", int64(7), "chatMessage", "c1", []byte(`{"x":1}`), int64(1_700_000_000_000_001), uint8(3))
	f.Add("", int64(-1), "", "", []byte(nil), int64(0), uint8(1))
	f.Add("ü\xff", int64(1<<62), "t", "19:x@thread.v2", []byte{0, 0xff}, int64(-5), uint8(2))
	b := newBus(Options{})
	f.Fuzz(func(t *testing.T, user string, seq int64, typ, chatID string, payload []byte, micros int64, n uint8) {
		count := int(n%4) + 1
		var at time.Time
		if micros != 0 {
			at = time.UnixMicro(micros).UTC()
		}
		evs := make([]event.Event, count)
		for i := range evs {
			evs[i] = event.Event{UserID: identity.UserID(user), Seq: seq + int64(i), Type: event.Type(typ), ChatID: chatID, Payload: slices.Clone(payload), CreatedAt: at}
			if i == 1 {
				evs[i].ChatID += "x" // not the same as the one before
			}
			if evs[i].Payload == nil {
				evs[i].Payload = []byte{} // the decoder gives an empty payload, never nil
			}
		}
		msg, hi := b.encodeEvents(evs, 0, 1<<30)
		if hi != count {
			t.Fatalf("encoded %d of %d events", hi, count)
		}
		kind, node, body, err := decodeHeader(msg)
		if err != nil || kind != kindEvents || node != b.node {
			t.Fatalf("header: kind %c node %x, %v", kind, node, err)
		}
		got, err := decodeEvents(body)
		if err != nil {
			t.Fatalf("decodeEvents: %v", err)
		}
		if diff := cmp.Diff(evs, got); diff != "" {
			t.Fatalf("events differ (-sent +decoded):\n%s", diff)
		}
		for cut := headerLen; cut < len(body); cut += 1 + len(body)/256 {
			if _, err := decodeEvents(body[:cut]); err == nil {
				t.Fatalf("decoded a message cut at %d of %d bytes", cut, len(body))
			}
		}
		// A count other than the events sent is refused.
		if _, err := decodeEvents(appendEventCount(slices.Clone(body), 1<<40)); err == nil {
			t.Fatal("decoded a message claiming 2^40 events")
		}
	})
}
