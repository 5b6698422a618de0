package natsbus

import (
	"bytes"
	"errors"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// Wire format: every NATS message the nodes exchange is one protobuf
// message (proto3 wire encoding, written and read with
// google.golang.org/protobuf/encoding/protowire), described in wire.proto:
//
//	message Message {
//	  uint32 version = 1;             // wireVersion
//	  bytes node = 2;                 // the sending node, 16 bytes
//	  uint32 kind = 3;                // 'E', 'I', 'P', 'A' or 'B'
//	  repeated Event events = 4;      // kind E
//	  Invalidation invalidation = 5;  // kind I
//	  uint64 ping = 6;                // kind P: the ping's seq
//	  Ack ack = 7;                    // kind A
//	  uint64 event_count = 8;         // kind E: how many events, written last
//	}
//
// The encoder writes version, node and kind first (headerLen bytes) and,
// for events, the count last, so that a message cut anywhere is refused
// rather than read as fewer events. The decoder reads the fields in any
// order, skips fields it does not know (a later version may add some),
// and refuses a known field with the wrong wire type, a malformed field,
// or a message without the field of its kind.
//
// Version 1 was a hand-written varint encoding. A node of one version
// ignores the other's messages as corrupt, so the nodes of a cluster are
// upgraded together (docs/decisions.md, "NATS wire format").
const (
	wireVersion = 2
	kindEvents  = 'E'
	kindInval   = 'I'
	kindPing    = 'P'
	kindAck     = 'A'
	kindBye     = 'B'
	nodeLen     = 16
	// headerLen is the size of the version, node and kind fields as the
	// encoder writes them.
	headerLen = 2 + 2 + nodeLen + 2
)

// Field numbers of Message.
const (
	fVersion    protowire.Number = 1
	fNode       protowire.Number = 2
	fKind       protowire.Number = 3
	fEvent      protowire.Number = 4
	fInval      protowire.Number = 5
	fPing       protowire.Number = 6
	fAck        protowire.Number = 7
	fEventCount protowire.Number = 8
)

// Field numbers of Event. same's bits say that the type, chat or payload
// equals the previous event's and is left out (a chat's message goes to
// every member with the same payload).
const (
	feUser      protowire.Number = 1
	feSeq       protowire.Number = 2 // sint64
	feType      protowire.Number = 3
	feChat      protowire.Number = 4
	fePayload   protowire.Number = 5
	feCreatedAt protowire.Number = 6 // sint64 Unix micros, 0: none
	feSame      protowire.Number = 7
)

const (
	sameType = 1 << iota
	sameChat
	samePayload
)

// Field numbers of Invalidation, Touch, Ack and Ack.Entry.
const (
	fiAllChats  protowire.Number = 1
	fiChats     protowire.Number = 2
	fiTouched   protowire.Number = 3
	fiTokens    protowire.Number = 4
	fiUsers     protowire.Number = 5
	fiAllTokens protowire.Number = 6

	ftChat   protowire.Number = 1
	ftMicros protowire.Number = 2 // sint64

	faLost  protowire.Number = 1 // this node failed to publish an invalidation since its last ack
	faEntry protowire.Number = 2

	fenNode protowire.Number = 1
	fenSeq  protowire.Number = 2
)

var errCorrupt = errors.New("natsbus: corrupt message")

// field is one decoded field: its number, wire type and value.
type field struct {
	num protowire.Number
	typ protowire.Type
	u   uint64 // varint and fixed values
	b   []byte // length-delimited values (a slice of the message)
}

// nextField decodes the field at the start of b and returns its length.
func nextField(b []byte) (field, int, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return field{}, 0, errCorrupt
	}
	f := field{num: num, typ: typ}
	var m int
	switch typ {
	case protowire.VarintType:
		f.u, m = protowire.ConsumeVarint(b[n:])
	case protowire.BytesType:
		f.b, m = protowire.ConsumeBytes(b[n:])
	case protowire.Fixed32Type:
		var v uint32
		v, m = protowire.ConsumeFixed32(b[n:])
		f.u = uint64(v)
	case protowire.Fixed64Type:
		f.u, m = protowire.ConsumeFixed64(b[n:])
	default: // groups: nothing of ours, skipped whole
		m = protowire.ConsumeFieldValue(num, typ, b[n:])
	}
	if m < 0 {
		return field{}, 0, errCorrupt
	}
	return f, n + m, nil
}

// walk calls f for each field of the message b, stopping at the first
// error.
func walk(b []byte, f func(field) error) error {
	for len(b) > 0 {
		fl, n, err := nextField(b)
		if err != nil {
			return err
		}
		if err := f(fl); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// want refuses a known field of the wrong wire type.
func (f field) want(t protowire.Type) error {
	if f.typ != t {
		return errCorrupt
	}
	return nil
}

func appendHeader(dst []byte, kind byte, node *[nodeLen]byte) []byte {
	dst = protowire.AppendTag(dst, fVersion, protowire.VarintType)
	dst = protowire.AppendVarint(dst, wireVersion)
	dst = protowire.AppendTag(dst, fNode, protowire.BytesType)
	dst = protowire.AppendBytes(dst, node[:])
	dst = protowire.AppendTag(dst, fKind, protowire.VarintType)
	return protowire.AppendVarint(dst, uint64(kind))
}

// decodeHeader returns the kind and the sending node; body is the whole
// message, which the kind's decoder reads (skipping these fields).
func decodeHeader(msg []byte) (kind byte, node [nodeLen]byte, body []byte, err error) {
	var version, k uint64
	var haveNode bool
	err = walk(msg, func(f field) error {
		switch f.num {
		case fVersion:
			version = f.u
			return f.want(protowire.VarintType)
		case fNode:
			if f.typ != protowire.BytesType || len(f.b) != nodeLen {
				return errCorrupt
			}
			node, haveNode = [nodeLen]byte(f.b), true
		case fKind:
			k = f.u
			return f.want(protowire.VarintType)
		}
		return nil
	})
	if err != nil || version != wireVersion || !haveNode || k == 0 || k > 0xff {
		return 0, [nodeLen]byte{}, nil, errCorrupt
	}
	return byte(k), node, msg, nil
}

func appendStringField(dst []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendString(dst, s)
}

func appendBytesField(dst []byte, num protowire.Number, b []byte) []byte {
	if len(b) == 0 {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendBytes(dst, b)
}

func appendVarintField(dst []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.VarintType)
	return protowire.AppendVarint(dst, v)
}

func sizeBytesField(num protowire.Number, n int) int {
	if n == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

func sizeVarintField(num protowire.Number, v uint64) int {
	if v == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(v)
}

// appendEvent appends one event as a Message.events field, prev being the
// event before it in the same message (nil for the first).
func appendEvent(dst []byte, e, prev *event.Event) []byte {
	var same uint64
	if prev != nil {
		if e.Type == prev.Type {
			same |= sameType
		}
		if e.ChatID == prev.ChatID {
			same |= sameChat
		}
		if bytes.Equal(e.Payload, prev.Payload) {
			same |= samePayload
		}
	}
	var typ, chat string
	var payload []byte
	if same&sameType == 0 {
		typ = string(e.Type)
	}
	if same&sameChat == 0 {
		chat = e.ChatID
	}
	if same&samePayload == 0 {
		payload = e.Payload
	}
	var at int64
	if !e.CreatedAt.IsZero() {
		at = e.CreatedAt.UnixMicro()
	}
	seq, micros := protowire.EncodeZigZag(e.Seq), protowire.EncodeZigZag(at)
	size := sizeBytesField(feUser, len(e.UserID)) + sizeVarintField(feSeq, seq) + sizeBytesField(feType, len(typ)) +
		sizeBytesField(feChat, len(chat)) + sizeBytesField(fePayload, len(payload)) + sizeVarintField(feCreatedAt, micros) +
		sizeVarintField(feSame, same)
	dst = protowire.AppendTag(dst, fEvent, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(size))
	dst = appendStringField(dst, feUser, string(e.UserID))
	dst = appendVarintField(dst, feSeq, seq)
	dst = appendStringField(dst, feType, typ)
	dst = appendStringField(dst, feChat, chat)
	dst = appendBytesField(dst, fePayload, payload)
	dst = appendVarintField(dst, feCreatedAt, micros)
	return appendVarintField(dst, feSame, same)
}

// appendEventCount ends an events message.
func appendEventCount(dst []byte, n int) []byte {
	dst = protowire.AppendTag(dst, fEventCount, protowire.VarintType)
	return protowire.AppendVarint(dst, uint64(n))
}

// noPayload is the payload of an event sent without one (never nil).
var noPayload = []byte{}

// decodeEvents decodes the events of a message. Payloads share the
// message's memory.
func decodeEvents(body []byte) ([]event.Event, error) {
	var (
		evs   []event.Event
		count uint64
		have  bool
	)
	// Make room for the events at once: count the fields first (cheap:
	// each is skipped by its length).
	n := 0
	if err := walk(body, func(f field) error {
		if f.num == fEvent {
			n++
		}
		return nil
	}); err != nil {
		return nil, err
	}
	evs = make([]event.Event, 0, n)
	err := walk(body, func(f field) error {
		switch f.num {
		case fEvent:
			if err := f.want(protowire.BytesType); err != nil {
				return err
			}
			var prev *event.Event
			if len(evs) > 0 {
				prev = &evs[len(evs)-1]
			}
			e, err := decodeEvent(f.b, prev)
			if err != nil {
				return err
			}
			evs = append(evs, e)
		case fEventCount:
			count, have = f.u, true
			return f.want(protowire.VarintType)
		}
		return nil
	})
	if err != nil || !have || count != uint64(len(evs)) {
		return nil, errCorrupt
	}
	return evs, nil
}

func decodeEvent(b []byte, prev *event.Event) (event.Event, error) {
	var (
		e    = event.Event{Payload: noPayload}
		same uint64
		typ  = "" // set when sent
		at   int64
	)
	err := walk(b, func(f field) error {
		switch f.num {
		case feUser:
			e.UserID = identity.UserID(f.b)
			return f.want(protowire.BytesType)
		case feSeq:
			e.Seq = protowire.DecodeZigZag(f.u)
			return f.want(protowire.VarintType)
		case feType:
			typ = string(f.b)
			return f.want(protowire.BytesType)
		case feChat:
			e.ChatID = string(f.b)
			return f.want(protowire.BytesType)
		case fePayload:
			e.Payload = f.b[:len(f.b):len(f.b)]
			return f.want(protowire.BytesType)
		case feCreatedAt:
			at = protowire.DecodeZigZag(f.u)
			return f.want(protowire.VarintType)
		case feSame:
			same = f.u
			return f.want(protowire.VarintType)
		}
		return nil
	})
	if err != nil || (prev == nil && same != 0) || same > sameType|sameChat|samePayload {
		return event.Event{}, errCorrupt
	}
	// A field left out because it equals the previous event's must not be
	// sent as well.
	e.Type = event.Type(typ)
	if same&sameType != 0 {
		if typ != "" {
			return event.Event{}, errCorrupt
		}
		e.Type = prev.Type
	}
	if same&sameChat != 0 {
		if e.ChatID != "" {
			return event.Event{}, errCorrupt
		}
		e.ChatID = prev.ChatID
	}
	if same&samePayload != 0 {
		if len(e.Payload) != 0 {
			return event.Event{}, errCorrupt
		}
		e.Payload = prev.Payload
	}
	if at != 0 {
		e.CreatedAt = time.UnixMicro(at).UTC()
	}
	return e, nil
}

func appendBoolField(dst []byte, num protowire.Number, v bool) []byte {
	if !v {
		return dst
	}
	return appendVarintField(dst, num, 1)
}

// appendInvalidation appends an invalidation as Message.invalidation.
func appendInvalidation(dst []byte, inv *Invalidation) []byte {
	var inner []byte
	inner = appendBoolField(inner, fiAllChats, inv.AllChats)
	for _, c := range inv.Chats {
		inner = protowire.AppendTag(inner, fiChats, protowire.BytesType)
		inner = protowire.AppendString(inner, c)
	}
	for _, t := range inv.Touched {
		var touch []byte
		touch = appendStringField(touch, ftChat, t.Chat)
		touch = appendVarintField(touch, ftMicros, protowire.EncodeZigZag(t.Micros))
		inner = protowire.AppendTag(inner, fiTouched, protowire.BytesType)
		inner = protowire.AppendBytes(inner, touch)
	}
	for _, t := range inv.Tokens {
		inner = protowire.AppendTag(inner, fiTokens, protowire.BytesType)
		inner = protowire.AppendBytes(inner, t)
	}
	for _, u := range inv.Users {
		inner = protowire.AppendTag(inner, fiUsers, protowire.BytesType)
		inner = protowire.AppendString(inner, u)
	}
	inner = appendBoolField(inner, fiAllTokens, inv.AllTokens)
	dst = protowire.AppendTag(dst, fInval, protowire.BytesType)
	return protowire.AppendBytes(dst, inner)
}

// decodeInvalidation decodes Message.invalidation; several occurrences
// merge, as protobuf merges a message field given more than once.
func decodeInvalidation(body []byte) (Invalidation, error) {
	var inv Invalidation
	have := false
	err := walk(body, func(f field) error {
		if f.num != fInval {
			return nil
		}
		if err := f.want(protowire.BytesType); err != nil {
			return err
		}
		have = true
		return walk(f.b, func(f field) error {
			switch f.num {
			case fiAllChats:
				inv.AllChats = inv.AllChats || f.u != 0
				return f.want(protowire.VarintType)
			case fiAllTokens:
				inv.AllTokens = inv.AllTokens || f.u != 0
				return f.want(protowire.VarintType)
			case fiChats:
				inv.Chats = append(inv.Chats, string(f.b))
				return f.want(protowire.BytesType)
			case fiUsers:
				inv.Users = append(inv.Users, string(f.b))
				return f.want(protowire.BytesType)
			case fiTokens:
				inv.Tokens = append(inv.Tokens, f.b[:len(f.b):len(f.b)])
				return f.want(protowire.BytesType)
			case fiTouched:
				if err := f.want(protowire.BytesType); err != nil {
					return err
				}
				var t Touch
				err := walk(f.b, func(f field) error {
					switch f.num {
					case ftChat:
						t.Chat = string(f.b)
						return f.want(protowire.BytesType)
					case ftMicros:
						t.Micros = protowire.DecodeZigZag(f.u)
						return f.want(protowire.VarintType)
					}
					return nil
				})
				inv.Touched = append(inv.Touched, t)
				return err
			}
			return nil
		})
	})
	if err != nil || !have {
		return Invalidation{}, errCorrupt
	}
	return inv, nil
}

// appendPing appends Message.ping.
func appendPing(dst []byte, seq uint64) []byte {
	dst = protowire.AppendTag(dst, fPing, protowire.VarintType)
	return protowire.AppendVarint(dst, seq)
}

func decodePing(body []byte) (uint64, error) {
	var seq uint64
	have := false
	err := walk(body, func(f field) error {
		if f.num == fPing {
			seq, have = f.u, true
			return f.want(protowire.VarintType)
		}
		return nil
	})
	if err != nil || !have {
		return 0, errCorrupt
	}
	return seq, nil
}

// appendAck appends Message.ack: the lost flag and the latest ping
// received from each node.
func appendAck(dst []byte, lost bool, acks []ackEntry) []byte {
	var inner []byte
	inner = appendBoolField(inner, faLost, lost)
	for _, a := range acks {
		size := sizeBytesField(fenNode, nodeLen) + sizeVarintField(fenSeq, a.seq)
		inner = protowire.AppendTag(inner, faEntry, protowire.BytesType)
		inner = protowire.AppendVarint(inner, uint64(size))
		inner = appendBytesField(inner, fenNode, a.node[:])
		inner = appendVarintField(inner, fenSeq, a.seq)
	}
	dst = protowire.AppendTag(dst, fAck, protowire.BytesType)
	return protowire.AppendBytes(dst, inner)
}

// decodeAck returns the lost flag and the seq acked for node (0: none).
func decodeAck(body []byte, node [nodeLen]byte) (lost bool, seq uint64, err error) {
	have := false
	err = walk(body, func(f field) error {
		if f.num != fAck {
			return nil
		}
		if err := f.want(protowire.BytesType); err != nil {
			return err
		}
		have = true
		return walk(f.b, func(f field) error {
			switch f.num {
			case faLost:
				lost = lost || f.u != 0
				return f.want(protowire.VarintType)
			case faEntry:
				if err := f.want(protowire.BytesType); err != nil {
					return err
				}
				var id []byte
				var s uint64
				err := walk(f.b, func(f field) error {
					switch f.num {
					case fenNode:
						id = f.b
						return f.want(protowire.BytesType)
					case fenSeq:
						s = f.u
						return f.want(protowire.VarintType)
					}
					return nil
				})
				if err != nil || len(id) != nodeLen {
					return errCorrupt
				}
				if [nodeLen]byte(id) == node {
					seq = s
				}
			}
			return nil
		})
	})
	if err != nil || !have {
		return false, 0, errCorrupt
	}
	return lost, seq, nil
}
