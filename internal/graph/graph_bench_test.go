package graph_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
)

// benchMessage is a 100-byte text message of one member to another of the
// same tenant: the shape the load tool sends (docs/performance.md).
func benchMessage() (*chat.Message, *identity.User) {
	now := time.Date(2026, 11, 22, 1, 23, 45, 678_000_000, time.UTC)
	sender := identity.User{ID: "0190a1b2-c3d4-7e5f-8071-8293a4b5c6d7", TenantID: "0190a1b2-c3d4-7e5f-8071-8293a4b5c6d8",
		Kind: identity.Member, Role: identity.RoleMember, DisplayName: "User 12", UPN: "u12@contoso.com", Mail: "u12@contoso.com", CreatedAt: now}
	viewer := sender
	viewer.ID, viewer.DisplayName, viewer.UPN, viewer.Mail = "0190a1b2-c3d4-7e5f-8071-8293a4b5c6d9", "User 13", "u13@contoso.com", "u13@contoso.com"
	m := &chat.Message{ID: 1234567, ChatID: "19:0190a1b2c3d4e5f60718293a4b5c6d7e@thread.v2", SenderID: sender.ID, Sender: sender,
		CreatedAt: now, ModifiedAt: now, ContentType: "text", Content: strings.Repeat("Lorem ipsum dolor sit amet ", 4)[:100]}
	return m, &viewer
}

// BenchmarkNewMessageJSON is the 201 answer of POST .../messages as
// encoding/json writes it, for comparison with BenchmarkMessageJSON.
func BenchmarkNewMessageJSON(b *testing.B) {
	m, _ := benchMessage()
	b.ReportAllocs()
	var n int
	for b.Loop() {
		out, err := json.Marshal(graph.NewMessage(m, &m.Sender))
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.SetBytes(int64(n))
}

// BenchmarkMessageJSON is the 201 answer of POST .../messages: the wire
// message for the sender, JSON-encoded.
func BenchmarkMessageJSON(b *testing.B) {
	m, _ := benchMessage()
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = len(graph.MessageJSON(m, &m.Sender))
	}
	b.SetBytes(int64(n))
}

// BenchmarkMessageEvent is the messageCreated payload built once per
// recipient of every send (the viewer decides identity types).
func BenchmarkMessageEvent(b *testing.B) {
	m, viewer := benchMessage()
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = len(graph.Encoder{}.MessageEvent(viewer, event.MessageCreated, m))
	}
	b.SetBytes(int64(n))
}
