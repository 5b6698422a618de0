package store_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// TestConcurrentMessagesInGroups: many senders at once, so the writer
// stores messages in groups. Every message is stored once; each user's
// events have seqs 1..n, and a user sees message ids grow with seq (ids
// grow with commit order); each chat's activity time is its last message.
func TestConcurrentMessagesInGroups(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := testContext(t)
		db := storetest.Open(t, d)
		now := time.Now().UTC().Truncate(time.Microsecond)
		users := mustTenantUsers(t, db, "groups.test", 8)
		// Four 1:1 chats plus one group of everyone.
		var chats []chat.ID
		var members [][]identity.UserID
		mkChat := func(typ chat.Type, us []identity.User) {
			c := chat.Chat{ID: chat.NewID(), Type: typ, TenantID: us[0].TenantID, CreatedBy: us[0].ID, CreatedAt: now, UpdatedAt: now}
			var ms []chat.Member
			var ids []identity.UserID
			for _, u := range us {
				ms = append(ms, chat.Member{ID: chat.NewMemberID(), ChatID: c.ID, UserID: u.ID, JoinedAt: now, VisibleFrom: now, State: chat.Accepted, AddedBy: us[0].ID})
				ids = append(ids, u.ID)
			}
			if _, err := db.CreateChat(ctx, c, ms, nil, nil); err != nil {
				t.Fatal(err)
			}
			chats, members = append(chats, c.ID), append(members, ids)
		}
		for k := range 4 {
			mkChat(chat.OneOnOne, users[2*k:2*k+2])
		}
		mkChat(chat.Group, users)

		const senders, each = 32, 15
		var wg sync.WaitGroup
		var mu sync.Mutex
		latest := map[chat.ID]time.Time{}
		for s := range senders {
			wg.Go(func() {
				for i := range each {
					k := (s + i) % len(chats)
					m := &chat.Message{ChatID: chats[k], SenderID: members[k][0], CreatedAt: time.Now().UTC().Truncate(time.Microsecond), ContentType: "text",
						Content: fmt.Sprintf("m %d %d", s, i)}
					m.ModifiedAt = m.CreatedAt
					_, err := db.CreateMessage(ctx, m, 0, func(m *chat.Message) []event.Draft {
						var ds []event.Draft
						for _, u := range members[k] {
							ds = append(ds, event.Draft{UserID: u, Type: event.MessageCreated, ChatID: string(m.ChatID), Payload: []byte(`{"id":"` + strconv.FormatInt(int64(m.ID), 10) + `"}`)})
						}
						return ds
					})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if m.CreatedAt.After(latest[m.ChatID]) {
						latest[m.ChatID] = m.CreatedAt
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		st := db.Stats()
		t.Logf("%d writes in %d commits", st.Writes, st.Commits)
		total := 0
		for k, id := range chats {
			msgs, err := db.FindMessages(ctx, id, time.Time{}, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			total += len(msgs)
			c, _, err := db.FindChatAny(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !c.UpdatedAt.Equal(latest[id]) {
				t.Errorf("chat %d: activity %v, want its last message's %v", k, c.UpdatedAt, latest[id])
			}
		}
		if total != senders*each {
			t.Fatalf("%d messages stored, want %d", total, senders*each)
		}
		for _, u := range users {
			evs, err := db.FindEvents(ctx, u.ID, 0, 10000)
			if err != nil {
				t.Fatal(err)
			}
			last := int64(0)
			for i, e := range evs {
				if e.Seq != int64(i+1) {
					t.Fatalf("user %s: event %d has seq %d", u.UPN, i, e.Seq)
				}
				id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(string(e.Payload), `{"id":"`), `"}`), 10, 64)
				if err != nil || id <= last {
					t.Fatalf("user %s: seq %d has message %d after %d: ids must grow with seq", u.UPN, e.Seq, id, last)
				}
				last = id
			}
		}
	})
}
