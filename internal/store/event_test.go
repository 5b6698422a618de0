package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// TestEventsStore: the events a write stores get each user's next seqs,
// gapless from 1 in write order; FindEvents replays a user's events after
// a seq, in order, up to a limit; LastSeq is the last one given.
func TestEventsStore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		u := mustTenantUsers(t, db, "contoso.com", 2)
		now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		var want []string
		for i := range 3 {
			c := chat.Chat{ID: chat.NewID(), Type: chat.Group, TenantID: u[0].TenantID, CreatedBy: u[0].ID, CreatedAt: now, UpdatedAt: now}
			drafts := []event.Draft{
				{UserID: u[0].ID, Type: "chatCreated", ChatID: string(c.ID), Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))},
				{UserID: u[1].ID, Type: "chatCreated", ChatID: string(c.ID), Payload: []byte(`{}`)},
				{UserID: u[0].ID, Type: "memberAdded", ChatID: string(c.ID), Payload: []byte(`{}`)},
			}
			evs, err := db.CreateChat(ctx, c, nil, drafts, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 3 || evs[0].Seq != int64(2*i+1) || evs[2].Seq != int64(2*i+2) || evs[1].Seq != int64(i+1) {
				t.Fatalf("write %d: seqs %d %d %d, want %d %d %d", i, evs[0].Seq, evs[1].Seq, evs[2].Seq, 2*i+1, i+1, 2*i+2)
			}
			want = append(want, fmt.Sprintf("%d chatCreated %s", 2*i+1, c.ID), fmt.Sprintf("%d memberAdded %s", 2*i+2, c.ID))
		}
		got := func(since int64, limit int) []string {
			evs, err := db.FindEvents(ctx, u[0].ID, since, limit)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range evs {
				if e.UserID != u[0].ID {
					t.Errorf("event of %s in %s's replay", e.UserID, u[0].ID)
				}
				out = append(out, fmt.Sprintf("%d %s %s", e.Seq, e.Type, e.ChatID))
			}
			return out
		}
		if g := got(0, 100); fmt.Sprint(g) != fmt.Sprint(want) {
			t.Errorf("replay from 0: %v, want %v", g, want)
		}
		if g := got(2, 3); fmt.Sprint(g) != fmt.Sprint(want[2:5]) {
			t.Errorf("replay after 2, 3 of them: %v, want %v", g, want[2:5])
		}
		if g := got(6, 100); len(g) != 0 {
			t.Errorf("replay after the last: %v", g)
		}
		for user, want := range map[int]int64{0: 6, 1: 3} {
			if n, err := db.LastSeq(ctx, u[user].ID); err != nil || n != want {
				t.Errorf("LastSeq(u%d) = %d, %v; want %d", user, n, err, want)
			}
		}
	})
}

// TestEventSeqsAcrossWriteSizes: a user's seqs stay gapless and in draft
// order whether a write's events are few (PostgreSQL stores them with
// their seqs in one statement) or many (a statement for each), and a
// write with a draft for a user that does not exist stores nothing
// (PostgreSQL).
func TestEventSeqsAcrossWriteSizes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		u := mustTenantUsers(t, db, "contoso.com", 2)
		now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		next := map[int]int64{0: 1, 1: 1}
		for w, pattern := range [][]int{{0, 1, 0, 0}, {0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1}, {1, 0, 1}, {0}} {
			c := chat.Chat{ID: chat.NewID(), Type: chat.Group, TenantID: u[0].TenantID, CreatedBy: u[0].ID, CreatedAt: now, UpdatedAt: now}
			var drafts []event.Draft
			for i, k := range pattern {
				drafts = append(drafts, event.Draft{UserID: u[k].ID, Type: "chatCreated", ChatID: string(c.ID), Payload: []byte(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))})
			}
			evs, err := db.CreateChat(ctx, c, nil, drafts, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, k := range pattern {
				if evs[i].UserID != u[k].ID || evs[i].Seq != next[k] || string(evs[i].Payload) != string(drafts[i].Payload) {
					t.Fatalf("write %d, event %d: user %s seq %d %s, want %s %d %s", w, i, evs[i].UserID, evs[i].Seq, evs[i].Payload, u[k].ID, next[k], drafts[i].Payload)
				}
				next[k]++
			}
		}
		if db.Dialect() == store.Postgres { // SQLite counts seqs in memory, with no users row to find
			c := chat.Chat{ID: chat.NewID(), Type: chat.Group, TenantID: u[0].TenantID, CreatedBy: u[0].ID, CreatedAt: now, UpdatedAt: now}
			if _, err := db.CreateChat(ctx, c, nil, []event.Draft{{UserID: u[0].ID, Type: "chatCreated", Payload: []byte(`{}`)}, {UserID: "nobody", Type: "chatCreated", Payload: []byte(`{}`)}}, nil); err == nil {
				t.Fatal("a write with a draft for a user that does not exist was stored")
			}
		}
		for k, user := range u {
			evs, err := db.FindEvents(ctx, user.ID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			if last := next[k] - 1; int64(len(evs)) != last {
				t.Fatalf("user %d: %d events, want %d", k, len(evs), last)
			}
			for i, e := range evs {
				if e.Seq != int64(i+1) {
					t.Fatalf("user %d: event %d has seq %d", k, i, e.Seq)
				}
			}
		}
	})
}
