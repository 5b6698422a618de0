package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
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
		users := mustTenantUsers(t, db, "groups.test", 8)
		// Four 1:1 chats plus one group of everyone.
		var chats []chat.ID
		var members [][]identity.UserID
		mkChat := func(typ chat.Type, us []identity.User) {
			id, ids := mustChat(t, db, typ, us...)
			chats, members = append(chats, id), append(members, ids)
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

// TestSendsFromABarrierKeepSeqsAndCaps: sends released together from one
// barrier, so the writer takes them in groups, into chats that share users
// and into a pending request's chat with a cap. Each user's seqs are
// 1..n with no gap, in commit order (message ids grow with seq), every
// sender is told the seqs stored, each chat's activity time is its last
// message, and the capped sender gets exactly the cap.
func TestSendsFromABarrierKeepSeqsAndCaps(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := testContext(t)
		db := storetest.Open(t, d)
		users := mustTenantUsers(t, db, "barrier.test", 6)
		var chats []chat.ID
		var members [][]identity.UserID
		mkChat := func(typ chat.Type, us ...identity.User) {
			id, ids := mustChat(t, db, typ, us...)
			chats, members = append(chats, id), append(members, ids)
		}
		// Chats overlapping in their users: a ring of 1:1 chats and a group.
		for k := range users {
			mkChat(chat.OneOnOne, users[k], users[(k+1)%len(users)])
		}
		mkChat(chat.Group, users...)
		capChat := len(chats) // users[0]'s request to users[3], capped
		mkChat(chat.OneOnOne, users[0], users[3])

		// Two rounds from a barrier each: uncapped sends only (a group with a
		// capped send runs alone), then sends with the capped ones among them.
		const perRound, capped, capMax = 300, 40, 10
		const sends = 2 * perRound
		isCapped := func(i int) bool { return i >= perRound && i < perRound+capped }
		type sent struct {
			m   *chat.Message
			evs []event.Event
			err error
		}
		out := make([]sent, sends)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range sends {
			if i%perRound == 0 {
				wg.Wait()
			}
			k, limit := i%capChat, 0
			if isCapped(i) {
				k, limit = capChat, capMax
			}
			barrier := start
			wg.Go(func() {
				m := &chat.Message{ChatID: chats[k], SenderID: members[k][0], ContentType: "text", Content: fmt.Sprintf("m %d", i)}
				<-barrier
				m.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
				m.ModifiedAt = m.CreatedAt
				evs, err := db.CreateMessage(ctx, m, limit, func(m *chat.Message) []event.Draft {
					var ds []event.Draft
					for _, u := range members[k] {
						ds = append(ds, event.Draft{UserID: u, Type: event.MessageCreated, ChatID: string(m.ChatID), Payload: []byte(`{"id":"` + strconv.FormatInt(int64(m.ID), 10) + `"}`)})
					}
					return ds
				})
				out[i] = sent{m, evs, err}
			})
			if i%perRound == perRound-1 {
				close(start)
				start = make(chan struct{})
			}
		}
		wg.Wait()
		st := db.Stats()
		t.Logf("%d writes in %d commits", st.Writes, st.Commits)

		stored := map[chat.MessageID]bool{}
		latest := map[chat.ID]time.Time{}
		refused := 0
		told := map[identity.UserID]map[int64]chat.MessageID{} // user → seq → message, as told to the senders
		for i, s := range out {
			if s.err != nil {
				if isCapped(i) && errcode.Is(s.err, errcode.MessageRequestLimitReached) {
					refused++
					continue
				}
				t.Fatalf("send %d: %v", i, s.err)
			}
			stored[s.m.ID] = true
			if s.m.CreatedAt.After(latest[s.m.ChatID]) {
				latest[s.m.ChatID] = s.m.CreatedAt
			}
			for _, e := range s.evs {
				if told[e.UserID] == nil {
					told[e.UserID] = map[int64]chat.MessageID{}
				}
				told[e.UserID][e.Seq] = s.m.ID
			}
		}
		if refused != capped-capMax {
			t.Errorf("%d capped sends refused, want %d", refused, capped-capMax)
		}
		if got, want := len(stored), sends-capped+capMax; got != want {
			t.Fatalf("%d messages stored, want %d", got, want)
		}
		for k, id := range chats {
			c, _, err := db.FindChatAny(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !c.UpdatedAt.Equal(latest[id]) {
				t.Errorf("chat %d: activity %v, want its last message's %v", k, c.UpdatedAt, latest[id])
			}
		}
		for _, u := range users {
			evs, err := db.FindEvents(ctx, u.ID, 0, 10*sends)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(told[u.ID]) {
				t.Errorf("user %s: %d events stored, senders were told of %d", u.UPN, len(evs), len(told[u.ID]))
			}
			last := int64(0)
			for i, e := range evs {
				if e.Seq != int64(i+1) {
					t.Fatalf("user %s: event %d has seq %d: a gap", u.UPN, i, e.Seq)
				}
				id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(string(e.Payload), `{"id":"`), `"}`), 10, 64)
				if err != nil || id <= last {
					t.Fatalf("user %s: seq %d has message %d after %d: ids must grow with seq (commit order)", u.UPN, e.Seq, id, last)
				}
				if told[u.ID][e.Seq] != chat.MessageID(id) {
					t.Fatalf("user %s: seq %d stored for message %d, its sender was told %d", u.UPN, e.Seq, id, told[u.ID][e.Seq])
				}
				last = id
			}
		}
	})
}

// mustChat stores a chat of typ whose members are us, all accepted, the
// first its creator, and returns its id and its members' ids.
func mustChat(t *testing.T, db *store.DB, typ chat.Type, us ...identity.User) (chat.ID, []identity.UserID) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	c := chat.Chat{ID: chat.NewID(), Type: typ, TenantID: us[0].TenantID, CreatedBy: us[0].ID, CreatedAt: now, UpdatedAt: now}
	var ms []chat.Member
	var ids []identity.UserID
	for _, u := range us {
		ms = append(ms, chat.Member{ID: chat.NewMemberID(), ChatID: c.ID, UserID: u.ID, JoinedAt: now, VisibleFrom: now, State: chat.Accepted, AddedBy: us[0].ID})
		ids = append(ids, u.ID)
	}
	if _, err := db.CreateChat(context.Background(), c, ms, nil, nil); err != nil {
		t.Fatal(err)
	}
	return c.ID, ids
}

// TestGroupRowsKeepEveryByte: messages sent together from a barrier, so
// the writer stores them as one group (on PostgreSQL by COPY once a group
// has nine rows or more), read back byte for byte: text with tabs,
// newlines, backslashes, quotes and characters outside ASCII, a long
// text, mentions, attachments, an app's name, and each event's payload.
// Rounds repeat until one round averaged ten writes per commit, so a
// large group was certainly among them.
func TestGroupRowsKeepEveryByte(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := testContext(t)
		db := storetest.Open(t, d)
		users := mustTenantUsers(t, db, "bytes.test", 4)
		chatID, _ := mustChat(t, db, chat.Group, users...)
		texts := []string{
			"tab\there, newline\nthere, CR\r\n", `back\slash \\ and "quotes" 'single'`, "ünïcödé — 中文 — 🎉👍🏽",
			`{"json":"looking","n":[1,2]}`, strings.Repeat("long text ", 1500), "", "\\N", "COPY\x7f\x01end",
		}
		const perRound = 64
		want := map[string]*chat.Message{}
		wantPayload := map[string]string{}
		for round := 1; ; round++ {
			before := db.Stats()
			start := make(chan struct{})
			var wg sync.WaitGroup
			errs := make([]error, perRound)
			for i := range perRound {
				key := fmt.Sprintf("r%d-%d", round, i)
				m := &chat.Message{ChatID: chatID, SenderID: users[i%len(users)].ID, ContentType: "text", Content: key + " " + texts[i%len(texts)]}
				if i%3 == 0 {
					m.Mentions = []chat.Mention{{ID: 0, MentionText: "Ünï \"q\"\t", UserID: users[1].ID}}
					m.Attachments = []chat.Attachment{{ID: "a\\1", ContentType: "application/vnd.microsoft.card.adaptive", Content: `{"body":[{"text":"tab\t"}]}`, Name: "ñ"}}
				}
				if i%5 == 0 {
					m.Via = chat.Application{ID: "app\t1", DisplayName: "Bot \\ \"ü\""}
				}
				want[key] = m
				payload := `{"key":"` + key + `","text":` + strconv.Quote(texts[(i+1)%len(texts)]) + `}`
				wantPayload[key] = payload
				wg.Go(func() {
					<-start
					m.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
					m.ModifiedAt = m.CreatedAt.Add(time.Microsecond)
					_, errs[i] = db.CreateMessage(ctx, m, 0, func(m *chat.Message) []event.Draft {
						var ds []event.Draft
						for _, u := range users {
							ds = append(ds, event.Draft{UserID: u.ID, Type: event.MessageCreated, ChatID: string(m.ChatID), Payload: []byte(payload)})
						}
						return ds
					})
				})
			}
			close(start)
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			after := db.Stats()
			writes, commits := after.Writes-before.Writes, after.Commits-before.Commits
			t.Logf("round %d: %d writes in %d commits", round, writes, commits)
			if commits > 0 && writes >= 10*commits {
				break
			}
			if round == 6 {
				t.Fatalf("no round of %d sends from a barrier averaged ten writes per commit", perRound)
			}
		}
		got, err := db.FindMessages(ctx, chatID, time.Time{}, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d messages read back, want %d", len(got), len(want))
		}
		for _, g := range got {
			key, _, _ := strings.Cut(g.Content, " ")
			w := want[key]
			switch {
			case w == nil:
				t.Fatalf("unknown message %q", g.Content[:min(len(g.Content), 40)])
			case g.ID != w.ID, g.Content != w.Content, g.ContentType != w.ContentType, g.SenderID != w.SenderID,
				!g.CreatedAt.Equal(w.CreatedAt), !g.ModifiedAt.Equal(w.ModifiedAt), g.Via != w.Via,
				fmt.Sprint(g.Mentions) != fmt.Sprint(w.Mentions), fmt.Sprint(g.Attachments) != fmt.Sprint(w.Attachments):
				t.Errorf("message %s read back as\n%+v\nwant\n%+v", key, g, *w)
			}
		}
		for _, u := range users {
			evs, err := db.FindEvents(ctx, u.ID, 0, 10000)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(want) {
				t.Fatalf("user %s: %d events, want %d", u.UPN, len(evs), len(want))
			}
			for i, e := range evs {
				key := strings.TrimPrefix(string(e.Payload), `{"key":"`)
				key, _, _ = strings.Cut(key, `"`)
				if string(e.Payload) != wantPayload[key] || e.Seq != int64(i+1) || e.ChatID != string(chatID) || e.Type != event.MessageCreated {
					t.Fatalf("user %s: event %d (seq %d, chat %q, type %q) payload %q, want %q", u.UPN, i, e.Seq, e.ChatID, e.Type, e.Payload, wantPayload[key])
				}
			}
		}
	})
}
