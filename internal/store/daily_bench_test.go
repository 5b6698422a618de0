package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/search"
	"github.com/parleychat/parley/internal/store"
)

// searchFixture is the bench fixture with benchMessages messages spread
// over its chats: every chat has the word "walrus" in one message of 50.
const benchMessages = 6400

func newSearchFixture(b *testing.B, d store.Dialect) *benchFixture {
	b.Helper()
	return sharedFixture(b, d, "search", func(f *benchFixture) {
		fillMessages(b, f, benchMessages, func(i int) string {
			if i%50 == 0 {
				return fmt.Sprintf("the walrus %d sat on the budget", i)
			}
			return fmt.Sprintf("update %d about the quarterly plan and its budget", i)
		})
	})
}

// BenchmarkSearchMessages is one page of a search of one person's messages
// among everyone's (6,400 messages in 64 chats): a rare word, best first,
// and a common word, newest first, trimmed by membership.
func BenchmarkSearchMessages(b *testing.B) {
	benchDialects(b, func(b *testing.B, d store.Dialect) {
		f := newSearchFixture(b, d)
		ctx := context.Background()
		for _, c := range []struct {
			name string
			q    string
			sort search.Sort
		}{{"rare", "walrus", search.Relevance}, {"common", "budget", search.Newest}} {
			b.Run(c.name, func(b *testing.B) {
				q, err := search.Parse(c.q)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					hits, err := f.db.SearchMessages(ctx, f.users[0].ID, q, c.sort, 0, 25)
					if err != nil || len(hits) == 0 {
						b.Fatalf("search: %d hits, %v", len(hits), err)
					}
				}
			})
		}
	})
}

// BenchmarkCountUnread is the unread counts of a page of the chat list
// (one query for all its chats).
func BenchmarkCountUnread(b *testing.B) {
	benchDialects(b, func(b *testing.B, d store.Dialect) {
		f := newSearchFixture(b, d)
		ctx := context.Background()
		ids := make([]chat.ID, 0, 32)
		for k := 0; k < 32; k++ {
			ids = append(ids, f.chats[k])
		}
		b.ReportAllocs()
		for b.Loop() {
			// users[2k] is a member of chat k only: one chat counted of 32 asked.
			if _, err := f.db.CountUnread(ctx, f.users[0].ID, ids, chat.MaxUnreadCount); err != nil {
				b.Fatal(err)
			}
		}
	})
}
