package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// TestGroupWithAFailingWriteKeepsItsMessages: messages of a group are
// stored together; when another write of the group fails, the group runs
// again with each write isolated, and only the failing one is lost.
func TestGroupWithAFailingWriteKeepsItsMessages(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, filepath.Join(t.TempDir(), "p.db"))
	user := identity.UserID("u1")
	msgJob := func(text string) (*job, *chat.Message) {
		m := &chat.Message{ChatID: "c1", SenderID: user, CreatedAt: time.Now().UTC(), ContentType: "text", Content: text}
		w := &msgWrite{m: m, build: func(m *chat.Message) []event.Draft {
			return []event.Draft{{UserID: user, Type: event.MessageCreated, ChatID: "c1", Payload: []byte(`{"id":"` + strconv.FormatInt(int64(m.ID), 10) + `"}`)}}
		}}
		db.giveID(w) // as inWriteMessage does when it queues
		return &job{ctx: ctx, msg: w, fn: func(tx *sql.Tx) error { return db.writeMessages(tx, []*msgWrite{w}) }, done: make(chan error, 1)}, m
	}
	boom := errors.New("boom")
	a, ma := msgJob("a")
	b, mb := msgJob("b")
	bad := &job{ctx: ctx, done: make(chan error, 1), fn: func(tx *sql.Tx) error {
		if _, err := db.insertEvents(tx, []event.Draft{{UserID: user, Type: event.ChatUpdated, Payload: []byte(`{}`)}}); err != nil {
			return err
		}
		return boom
	}}
	// The writer goroutine is idle: the test runs one group itself.
	db.runBatch([]*job{a, bad, b})
	if err := <-a.done; err != nil {
		t.Fatalf("message a: %v", err)
	}
	if err := <-b.done; err != nil {
		t.Fatalf("message b: %v", err)
	}
	if err := <-bad.done; !errors.Is(err, boom) {
		t.Fatalf("failing write: %v, want boom", err)
	}
	if ma.ID == 0 || mb.ID <= ma.ID {
		t.Fatalf("ids a=%d b=%d: want growing ids", ma.ID, mb.ID)
	}
	evs, err := db.FindEvents(ctx, user, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Seq != 1 || evs[1].Seq != 2 || string(evs[0].Payload) != `{"id":"`+strconv.FormatInt(int64(ma.ID), 10)+`"}` {
		t.Fatalf("events = %+v, want seqs 1 and 2 for a and b", evs)
	}
	for _, m := range []*chat.Message{ma, mb} {
		got, err := db.FindMessage(ctx, "c1", m.ID)
		if err != nil || got.Content != m.Content {
			t.Fatalf("message %d: %+v, %v", m.ID, got, err)
		}
	}
}
