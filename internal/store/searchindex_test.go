package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/search"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// TestSearchIndexFollowsMessages: on SQLite the full-text index takes new
// messages after their commit, in batches (internal/store/searchindex.go).
// With the indexer's timer turned down to once an hour, only searches bring
// it up to date, so this shows that a search finds every message stored
// before it, that edits and deletes made before the index took a message
// leave nothing stale behind (and edits after it too), that backlogs longer
// than one batch are taken whole, and that a reopened store catches up.
// PostgreSQL writes its index with the message and must answer the same.
func TestSearchIndexFollowsMessages(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := testContext(t)
		cfg := storetest.Config(t, d)
		cfg.SearchIndexEvery = time.Hour
		db := storetest.OpenConfig(t, cfg)
		users := mustTenantUsers(t, db, "index.test", 3)
		a, b := users[1], users[2]
		now := time.Now().UTC()
		c := chat.Chat{ID: chat.NewID(), Type: chat.OneOnOne, TenantID: a.TenantID, CreatedBy: a.ID, CreatedAt: now, UpdatedAt: now, PairKey: chat.PairKey(a.ID, chat.UserPeer(b.ID))}
		var members []chat.Member
		for _, u := range []identity.User{a, b} {
			members = append(members, chat.Member{ID: chat.NewMemberID(), ChatID: c.ID, UserID: u.ID, Roles: []string{"owner"},
				JoinedAt: now, VisibleFrom: now, State: chat.Accepted, AddedBy: a.ID})
		}
		if _, err := db.CreateChat(ctx, c, members, nil, nil); err != nil {
			t.Fatal(err)
		}
		send := func(db *store.DB, text string) chat.Message {
			t.Helper()
			m := &chat.Message{ChatID: c.ID, SenderID: a.ID, Sender: a, CreatedAt: time.Now().UTC(), ContentType: "text", Content: text}
			m.ModifiedAt = m.CreatedAt
			if _, err := db.CreateMessage(ctx, m, 0, func(*chat.Message) []event.Draft { return nil }); err != nil {
				t.Fatal(err)
			}
			return *m
		}
		edit := func(m *chat.Message, text string, deleted bool) {
			t.Helper()
			m.Content, m.ModifiedAt = text, time.Now().UTC()
			if deleted {
				m.DeletedAt = m.ModifiedAt
			}
			if _, err := db.UpdateMessage(ctx, *m, nil); err != nil {
				t.Fatal(err)
			}
		}
		find := func(db *store.DB, words string, want ...chat.MessageID) {
			t.Helper()
			q, err := search.Parse(words)
			if err != nil {
				t.Fatal(err)
			}
			for _, sort := range []search.Sort{search.Newest, search.Relevance} {
				hits, err := db.SearchMessages(ctx, b.ID, q, sort, 0, 2000)
				if err != nil {
					t.Fatal(err)
				}
				var got []chat.MessageID
				for _, h := range hits {
					got = append(got, h.Message.ID)
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("search %q (%s): got %v, want %v", words, sort, got, want)
				}
			}
		}

		budget := send(db, "alpha quarterly budget")
		lunch := send(db, "bravo lunch")
		edit(&budget, "alpha yearly budget", false) // before the index took it
		edit(&lunch, "", true)
		find(db, "quarterly")
		find(db, "yearly", budget.ID)
		find(db, "lunch")
		find(db, "bravo")
		edit(&budget, "alpha forecast", false) // after
		find(db, "yearly")
		find(db, "forecast", budget.ID)
		find(db, "alpha", budget.ID)

		// More than one batch (512) waits for the index.
		const n = 700
		var wg sync.WaitGroup
		ids := make([]chat.MessageID, n)
		for g := range 14 {
			wg.Go(func() {
				for i := g; i < n; i += 14 {
					ids[i] = send(db, fmt.Sprintf("kilo number %d", i)).ID
				}
			})
		}
		wg.Wait()
		q, _ := search.Parse("kilo")
		if got, err := db.CountMessageHits(ctx, b.ID, q, 10*n); err != nil || got != n {
			t.Fatalf("CountMessageHits(kilo) = %d, %v; want %d", got, err, n)
		}
		find(db, `"number 321"`, ids[321])

		// Stored, not indexed, closed: the reopened store catches up.
		zulu := send(db, "zulu after the restart")
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db = storetest.OpenConfig(t, cfg)
		find(db, "zulu", zulu.ID)
		find(db, "forecast", budget.ID)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if d != store.SQLite {
			return
		}
		raw, err := sql.Open("sqlite", "file:"+cfg.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if _, err := raw.ExecContext(context.Background(), `INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')`); err != nil {
			t.Fatalf("FTS5 integrity-check: %v", err)
		}
	})
}
