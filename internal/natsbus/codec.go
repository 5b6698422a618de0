package natsbus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// Wire format of one NATS message (all integers varints):
//
//	version(1) kind(1) node(16) body
//
// kind 'E' (events): count, then per event: flags, user, seq, [type],
// [chat], [payload], createdAt micros. flags bit 0/1/2 say the type, chat
// or payload equals the previous event's and is left out (a group chat's
// message goes to every member with the same payload).
//
// kind 'I' (invalidation): flags (1 all chats, 2 all tokens), then the
// lists chats, touched (chat, micros), tokens, users, each a count and its
// items. Strings and byte strings are a length and the bytes.
//
// kind 'P' (ping, from a node's probe connection): seq. kind 'A' (ack, on
// a node's main connection): flags (1: this node failed to publish an
// invalidation since its last ack), then a count of (node(16), seq): the
// latest ping received from each node. kind 'B' (bye): no body. See
// fresh.go for what they prove.
const (
	version    = 1
	kindEvents = 'E'
	kindInval  = 'I'
	kindPing   = 'P'
	kindAck    = 'A'
	kindBye    = 'B'
	headerLen  = 2 + nodeLen
	nodeLen    = 16
)

const (
	sameType = 1 << iota
	sameChat
	samePayload
)

const (
	invAllChats = 1 << iota
	invAllTokens
)

// ackLost flags an ack sent after an invalidation could not be published.
const ackLost = 1

var errCorrupt = errors.New("natsbus: corrupt message")

func appendHeader(dst []byte, kind byte, node *[nodeLen]byte) []byte {
	dst = append(dst, version, kind)
	return append(dst, node[:]...)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// appendEvent appends one event, prev being the event before it in the
// same message (nil for the first).
func appendEvent(dst []byte, e, prev *event.Event) []byte {
	var flags byte
	if prev != nil {
		if e.Type == prev.Type {
			flags |= sameType
		}
		if e.ChatID == prev.ChatID {
			flags |= sameChat
		}
		if bytes.Equal(e.Payload, prev.Payload) {
			flags |= samePayload
		}
	}
	dst = append(dst, flags)
	dst = appendString(dst, string(e.UserID))
	dst = binary.AppendVarint(dst, e.Seq)
	if flags&sameType == 0 {
		dst = appendString(dst, string(e.Type))
	}
	if flags&sameChat == 0 {
		dst = appendString(dst, e.ChatID)
	}
	if flags&samePayload == 0 {
		dst = appendBytes(dst, e.Payload)
	}
	var at int64
	if !e.CreatedAt.IsZero() {
		at = e.CreatedAt.UnixMicro()
	}
	return binary.AppendVarint(dst, at)
}

// reader decodes a message; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errCorrupt
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// bytes returns a slice of the message itself (no copy).
func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errCorrupt
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

func (r *reader) string() string { return string(r.bytes()) }

// count reads a list length, refusing one the rest of the message cannot
// hold (each item takes at least a byte).
func (r *reader) count() int {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errCorrupt
		return 0
	}
	return int(n)
}

// decodeHeader returns the kind, the sending node and the body.
func decodeHeader(msg []byte) (kind byte, node [nodeLen]byte, body []byte, err error) {
	if len(msg) < headerLen || msg[0] != version {
		return 0, node, nil, errCorrupt
	}
	copy(node[:], msg[2:headerLen])
	return msg[1], node, msg[headerLen:], nil
}

// decodeEvents decodes an events body. Payloads share the message's memory.
func decodeEvents(body []byte) ([]event.Event, error) {
	r := &reader{b: body}
	n := r.count()
	if r.err != nil {
		return nil, r.err
	}
	evs := make([]event.Event, n)
	for i := range evs {
		e := &evs[i]
		flags := r.byte()
		if i == 0 && flags != 0 {
			return nil, errCorrupt
		}
		e.UserID = identity.UserID(r.string())
		e.Seq = r.varint()
		if flags&sameType != 0 {
			e.Type = evs[i-1].Type
		} else {
			e.Type = event.Type(r.string())
		}
		if flags&sameChat != 0 {
			e.ChatID = evs[i-1].ChatID
		} else {
			e.ChatID = r.string()
		}
		if flags&samePayload != 0 {
			e.Payload = evs[i-1].Payload
		} else {
			e.Payload = r.bytes()
		}
		if at := r.varint(); at != 0 {
			e.CreatedAt = time.UnixMicro(at).UTC()
		}
		if r.err != nil {
			return nil, r.err
		}
	}
	if len(r.b) != 0 {
		return nil, errCorrupt
	}
	return evs, nil
}

func appendInvalidation(dst []byte, inv *Invalidation) []byte {
	var flags byte
	if inv.AllChats {
		flags |= invAllChats
	}
	if inv.AllTokens {
		flags |= invAllTokens
	}
	dst = append(dst, flags)
	dst = binary.AppendUvarint(dst, uint64(len(inv.Chats)))
	for _, c := range inv.Chats {
		dst = appendString(dst, c)
	}
	dst = binary.AppendUvarint(dst, uint64(len(inv.Touched)))
	for _, t := range inv.Touched {
		dst = appendString(dst, t.Chat)
		dst = binary.AppendVarint(dst, t.Micros)
	}
	dst = binary.AppendUvarint(dst, uint64(len(inv.Tokens)))
	for _, t := range inv.Tokens {
		dst = appendBytes(dst, t)
	}
	dst = binary.AppendUvarint(dst, uint64(len(inv.Users)))
	for _, u := range inv.Users {
		dst = appendString(dst, u)
	}
	return dst
}

func decodeInvalidation(body []byte) (Invalidation, error) {
	r := &reader{b: body}
	var inv Invalidation
	flags := r.byte()
	inv.AllChats, inv.AllTokens = flags&invAllChats != 0, flags&invAllTokens != 0
	if n := r.count(); n > 0 {
		inv.Chats = make([]string, n)
		for i := range inv.Chats {
			inv.Chats[i] = r.string()
		}
	}
	if n := r.count(); n > 0 {
		inv.Touched = make([]Touch, n)
		for i := range inv.Touched {
			inv.Touched[i] = Touch{Chat: r.string(), Micros: r.varint()}
		}
	}
	if n := r.count(); n > 0 {
		inv.Tokens = make([][]byte, n)
		for i := range inv.Tokens {
			inv.Tokens[i] = r.bytes()
		}
	}
	if n := r.count(); n > 0 {
		inv.Users = make([]string, n)
		for i := range inv.Users {
			inv.Users[i] = r.string()
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorrupt
	}
	if r.err != nil {
		return Invalidation{}, r.err
	}
	return inv, nil
}

func appendPing(dst []byte, seq uint64) []byte { return binary.AppendUvarint(dst, seq) }

func decodePing(body []byte) (uint64, error) {
	r := &reader{b: body}
	seq := r.uvarint()
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorrupt
	}
	return seq, r.err
}

func appendAck(dst []byte, lost bool, acks []ackEntry) []byte {
	var flags byte
	if lost {
		flags |= ackLost
	}
	dst = append(dst, flags)
	dst = binary.AppendUvarint(dst, uint64(len(acks)))
	for _, a := range acks {
		dst = append(dst, a.node[:]...)
		dst = binary.AppendUvarint(dst, a.seq)
	}
	return dst
}

// decodeAck returns the lost flag and the seq acked for node (0: none).
func decodeAck(body []byte, node [nodeLen]byte) (lost bool, seq uint64, err error) {
	r := &reader{b: body}
	flags := r.byte()
	n := r.count()
	for range n {
		if r.err != nil || len(r.b) < nodeLen {
			return false, 0, errCorrupt
		}
		id := [nodeLen]byte(r.b[:nodeLen])
		r.b = r.b[nodeLen:]
		if s := r.uvarint(); id == node {
			seq = s
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorrupt
	}
	if r.err != nil {
		return false, 0, r.err
	}
	return flags&ackLost != 0, seq, nil
}
