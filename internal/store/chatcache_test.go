package store_test

import (
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// TestFindChatSeesEveryChange: FindChat is served from memory after the
// first read, so every write that changes a chat, its members or their
// accounts must show in the next FindChat.
func TestFindChatSeesEveryChange(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := testContext(t)
		db := storetest.Open(t, d)
		now := time.Now().UTC().Truncate(time.Microsecond)
		us := mustTenantUsers(t, db, "cache.test", 3)
		a, b, c := us[0], us[1], us[2]
		ch := chat.Chat{ID: chat.NewID(), Type: chat.Group, TenantID: a.TenantID, CreatedBy: a.ID, CreatedAt: now, UpdatedAt: now}
		member := func(u identity.User) chat.Member {
			return chat.Member{ID: chat.NewMemberID(), ChatID: ch.ID, UserID: u.ID, Roles: []string{"owner"}, JoinedAt: now, VisibleFrom: now, State: chat.Accepted, AddedBy: a.ID}
		}
		if _, err := db.CreateChat(ctx, ch, []chat.Member{member(a), member(b)}, nil, nil); err != nil {
			t.Fatal(err)
		}
		find := func() (chat.Chat, []chat.Member) {
			t.Helper()
			got, members, err := db.FindChat(ctx, ch.ID, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got, members
		}
		if _, ms := find(); len(ms) != 2 {
			t.Fatalf("members = %d, want 2", len(ms))
		}
		// The caller's copy is its own: changing it changes no later read.
		_, ms := find()
		ms[0].State = chat.Declined
		if _, ms := find(); ms[0].State != chat.Accepted {
			t.Fatal("a caller's change to the members leaked into the cache")
		}

		mc := member(c)
		if _, err := db.AddMember(ctx, mc, chat.MaxGroupMembers, nil, nil); err != nil {
			t.Fatal(err)
		}
		if _, ms := find(); len(ms) != 3 {
			t.Fatalf("after AddMember: %d members, want 3", len(ms))
		}
		mc.State = chat.Pending
		if _, err := db.UpdateMember(ctx, mc, nil); err != nil {
			t.Fatal(err)
		}
		if _, ms := find(); byID(ms, mc.ID).State != chat.Pending {
			t.Fatalf("after UpdateMember: state %s, want pending", byID(ms, mc.ID).State)
		}
		by := msgrequest.BlameOf(&a)
		if _, err := db.SetReadOnly(ctx, ch.ID, by, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := find(); got.ReadOnlyBy != by {
			t.Fatalf("after SetReadOnly: %v, want %v", got.ReadOnlyBy, by)
		}
		ch.Topic, ch.UpdatedAt = "New topic", now.Add(time.Second)
		if _, err := db.UpdateChat(ctx, ch, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := find(); got.Topic != "New topic" {
			t.Fatalf("after UpdateChat: topic %q", got.Topic)
		}
		read := now.Add(2 * time.Second)
		if _, err := db.MarkRead(ctx, ch.ID, a.ID, read, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := find(); !got.LastReadAt.Equal(read) {
			t.Fatalf("after MarkRead: %v, want %v", got.LastReadAt, read)
		}
		m := chat.Message{ChatID: ch.ID, SenderID: a.ID, CreatedAt: now.Add(3 * time.Second), ContentType: "text", Content: "hi"}
		m.ModifiedAt = m.CreatedAt
		if _, err := db.CreateMessage(ctx, &m, 0, func(*chat.Message) []event.Draft { return nil }); err != nil {
			t.Fatal(err)
		}
		if got, _ := find(); !got.UpdatedAt.Equal(m.CreatedAt) {
			t.Fatalf("after CreateMessage: UpdatedAt %v, want %v", got.UpdatedAt, m.CreatedAt)
		}
		// An account change (here the personal switch) shows in members.
		if err := db.SetAllowChatsFromOrganizations(ctx, b.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, ms := find(); byUser(ms, b.ID).User.AllowChatsFromOrganizations {
			t.Fatal("after SetAllowChatsFromOrganizations: the member's account is stale")
		}
		if _, err := db.RemoveMember(ctx, ch.ID, mc.ID, nil); err != nil {
			t.Fatal(err)
		}
		if _, ms := find(); len(ms) != 2 {
			t.Fatalf("after RemoveMember: %d members, want 2", len(ms))
		}
		// The removed member no longer finds the chat.
		if _, _, err := db.FindChat(ctx, ch.ID, c.ID); err == nil {
			t.Fatal("a removed member still finds the chat")
		}
	})
}

func byID(ms []chat.Member, id string) chat.Member {
	for _, m := range ms {
		if m.ID == id {
			return m
		}
	}
	return chat.Member{}
}

func byUser(ms []chat.Member, id identity.UserID) chat.Member {
	for _, m := range ms {
		if m.UserID == id {
			return m
		}
	}
	return chat.Member{}
}
