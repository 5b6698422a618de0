package store_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/invite"
	"github.com/parleychat/parley/internal/limit"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// TestUpdateLimitsIsAtomic: 64 takes of one bucket of 10, released together
// from a barrier, take exactly 10 tokens, on one store and on two stores
// open on the same PostgreSQL schema (two nodes).
func TestUpdateLimitsIsAtomic(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		var dbs []*store.DB
		if d == store.Postgres {
			cfg := storetest.Config(t, d)
			dbs = []*store.DB{storetest.OpenConfig(t, cfg), storetest.OpenConfig(t, cfg)}
		} else {
			dbs = []*store.DB{storetest.Open(t, d)}
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

// TestUpdateLimitsForgetsExpired: a state read after its Expires is the
// zero State.
func TestUpdateLimitsForgetsExpired(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
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

// TestTakeCodeAttemptsCountOneByOne: 40 attempts at one sign-up code and 40
// at one reset code, at once (on two stores of one database on
// PostgreSQL), each get a distinct count 1…40, so checking "count ≤ 5"
// lets exactly five through.
func TestTakeCodeAttemptsCountOneByOne(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		var dbs []*store.DB
		if d == store.Postgres {
			cfg := storetest.Config(t, d)
			dbs = []*store.DB{storetest.OpenConfig(t, cfg), storetest.OpenConfig(t, cfg)}
		} else {
			dbs = []*store.DB{storetest.Open(t, d)}
		}
		ctx := testContext(t)
		exp := time.Now().Add(time.Hour)
		if err := dbs[0].SaveSignupCode(ctx, invite.SignupCode{Address: "sam@outlook.com", CodeHash: "h", ExpiresAt: exp}, nil); err != nil {
			t.Fatal(err)
		}
		if err := dbs[0].SaveResetCode(ctx, "pat@gmail.com", "h", exp, nil); err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{"sign-up", "reset"} {
			seen := make([]atomic.Int32, 41)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 40 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					var n int
					var err error
					if kind == "sign-up" {
						var c invite.SignupCode
						c, err = dbs[i%len(dbs)].TakeSignupAttempt(ctx, "sam@outlook.com")
						n = c.Attempts
					} else {
						_, _, n, err = dbs[i%len(dbs)].TakeResetAttempt(ctx, "pat@gmail.com")
					}
					if err != nil || n < 1 || n > 40 {
						t.Errorf("%s attempt: %d, %v", kind, n, err)
						return
					}
					seen[n].Add(1)
				}()
			}
			close(start)
			wg.Wait()
			for n := 1; n <= 40; n++ {
				if c := seen[n].Load(); c != 1 {
					t.Fatalf("%s: count %d given to %d attempts, want 1", kind, n, c)
				}
			}
		}
	})
}

// TestAddMemberCapIsAtomic: 12 adds at once to a chat of 2 with a cap of 5
// store exactly 3 (on two stores of one database on PostgreSQL).
func TestAddMemberCapIsAtomic(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		var dbs []*store.DB
		if d == store.Postgres {
			cfg := storetest.Config(t, d)
			dbs = []*store.DB{storetest.OpenConfig(t, cfg), storetest.OpenConfig(t, cfg)}
		} else {
			dbs = []*store.DB{storetest.Open(t, d)}
		}
		ctx := testContext(t)
		now := time.Now().UTC().Truncate(time.Microsecond)
		us := mustTenantUsers(t, dbs[0], "cap.test", 14)
		ch := chat.Chat{ID: chat.NewID(), Type: chat.Group, TenantID: us[0].TenantID, CreatedBy: us[0].ID, CreatedAt: now, UpdatedAt: now}
		member := func(u identity.User) chat.Member {
			return chat.Member{ID: chat.NewMemberID(), ChatID: ch.ID, UserID: u.ID, Roles: []string{}, JoinedAt: now, VisibleFrom: now, State: chat.Accepted, AddedBy: us[0].ID}
		}
		if _, err := dbs[0].CreateChat(ctx, ch, []chat.Member{member(us[0]), member(us[1])}, nil, nil); err != nil {
			t.Fatal(err)
		}
		var added, full atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, u := range us[2:] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := dbs[i%len(dbs)].AddMember(ctx, member(u), 5, nil, nil)
				switch {
				case err == nil:
					added.Add(1)
				case errcode.Is(err, errcode.BadRequest):
					full.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if added.Load() != 3 || full.Load() != 9 {
			t.Fatalf("12 adds at once to 2 members with a cap of 5: %d added, %d refused; want 3 and 9", added.Load(), full.Load())
		}
		if _, ms, err := dbs[0].FindChatAny(ctx, ch.ID); err != nil || len(ms) != 5 {
			t.Fatalf("members stored: %d (%v), want 5", len(ms), err)
		}
	})
}
