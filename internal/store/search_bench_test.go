package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/search"
	"github.com/parleychat/parley/internal/store"
)

// commonWordMessages is the size of the common-word fixture: every
// message has the word "budget"; the searcher is in one chat of 64.
const commonWordMessages = 51_200

// BenchmarkSearchCommonWord is one page (25 hits) of a search for a word
// every one of 51,200 messages has, by a person who sees 1 in 64 of them,
// on SQLite: newest first and best first. The full-text query itself is
// ordered and read lazily, so a page stops once it has its hits instead of
// reading every match.
func BenchmarkSearchCommonWord(b *testing.B) {
	f := newBenchFixture(b, store.SQLite, 64)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < commonWordMessages; i += 64 {
				k := i % len(f.chats)
				m := &chat.Message{ChatID: f.chats[k], SenderID: f.users[2*k+1].ID, CreatedAt: time.Now().UTC(), ContentType: "text",
					Content: fmt.Sprintf("update %d about the quarterly plan and its budget", i)}
				m.ModifiedAt = m.CreatedAt
				if _, err := f.db.CreateMessage(ctx, m, 0, func(*chat.Message) []event.Draft { return nil }); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	q, err := search.Parse("budget")
	if err != nil {
		b.Fatal(err)
	}
	for _, sort := range []search.Sort{search.Newest, search.Relevance} {
		b.Run(string(sort), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				hits, err := f.db.SearchMessages(ctx, f.users[0].ID, q, sort, 0, 26)
				if err != nil || len(hits) != 26 {
					b.Fatalf("search: %d hits, %v", len(hits), err)
				}
			}
		})
	}
}
