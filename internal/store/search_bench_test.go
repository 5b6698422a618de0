package store_test

import (
	"context"
	"fmt"
	"testing"

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
	f := sharedFixture(b, store.SQLite, "commonWord", func(f *benchFixture) {
		fillMessages(b, f, commonWordMessages, func(i int) string {
			return fmt.Sprintf("update %d about the quarterly plan and its budget", i)
		})
	})
	ctx := context.Background()
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
