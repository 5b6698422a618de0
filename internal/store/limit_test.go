package store_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/limit"
	"github.com/parleychat/parley/internal/parleytest"
	"github.com/parleychat/parley/internal/store"
)

// TestUpdateLimitsIsAtomic: 64 takes of one bucket of 10, released together
// from a barrier, take exactly 10 tokens, on one store and on two stores
// open on the same PostgreSQL schema (two nodes).
func TestUpdateLimitsIsAtomic(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		var dbs []*store.DB
		if d == store.Postgres {
			url := parleytest.PostgresSchema(t)
			dbs = []*store.DB{openURL(t, url), openURL(t, url)}
		} else {
			dbs = []*store.DB{MustOpen(t, d)}
		}
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		b := limit.Bucket{Burst: 10, Every: time.Hour}
		var taken atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				err := dbs[i%len(dbs)].UpdateLimits(testContext(t), []string{"k", "other"}, now, func(s []limit.State) {
					if _, ok := b.Take(&s[0], now, 1); ok {
						taken.Add(1)
					}
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if n := taken.Load(); n != 10 {
			t.Fatalf("%d of 64 concurrent takes succeeded on a bucket of 10", n)
		}
		// The stored state is what the takes left: full until an hour passes.
		var again bool
		if err := dbs[0].UpdateLimits(testContext(t), []string{"k"}, now.Add(59*time.Minute), func(s []limit.State) {
			_, again = b.Take(&s[0], now.Add(59*time.Minute), 1)
		}); err != nil {
			t.Fatal(err)
		}
		if again {
			t.Fatal("a take 59 minutes later succeeded; one token comes back per hour")
		}
		if err := dbs[0].UpdateLimits(testContext(t), []string{"k"}, now.Add(61*time.Minute), func(s []limit.State) {
			_, again = b.Take(&s[0], now.Add(61*time.Minute), 1)
		}); err != nil {
			t.Fatal(err)
		}
		if !again {
			t.Fatal("a take 61 minutes later failed")
		}
	})
}

// openURL opens a store on a PostgreSQL URL (another node on the same
// database) and closes it at cleanup.
func openURL(tb testing.TB, url string) *store.DB {
	tb.Helper()
	db, err := store.Open(testContext(tb), store.Config{Dialect: store.Postgres, PostgresURL: url})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() }) // close errors are not what this test checks
	return db
}

// TestUpdateLimitsForgetsExpired: a state read after its Expires is the
// zero State.
func TestUpdateLimitsForgetsExpired(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		db := MustOpen(t, d)
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		set := func(at time.Time, f func(s *limit.State)) {
			t.Helper()
			if err := db.UpdateLimits(testContext(t), []string{"k"}, at, func(s []limit.State) { f(&s[0]) }); err != nil {
				t.Fatal(err)
			}
		}
		set(now, func(s *limit.State) { s.Count, s.Expires = 7, now.Add(time.Minute) })
		set(now.Add(30*time.Second), func(s *limit.State) {
			if s.Count != 7 {
				t.Fatalf("count %d before expiry, want 7", s.Count)
			}
		})
		set(now.Add(2*time.Minute), func(s *limit.State) {
			if *s != (limit.State{}) {
				t.Fatalf("state after expiry: %+v", *s)
			}
		})
	})
}
