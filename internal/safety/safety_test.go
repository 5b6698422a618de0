package safety_test

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/safety"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// clock is a fake clock moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var sender = &identity.User{ID: "sender-1", TenantID: "t1", Kind: identity.Member}

// TestCheckNewRequests: a sender's new people outside the organisation
// come out of an hourly and a daily budget, all of a chat's or none;
// given-back people can be contacted again; the hourly budget refills one
// person every hour / RequestsPerHour; over a budget the answer is
// rateLimited with a wait and the budget it hit. Both stores.
func TestCheckNewRequests(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := &clock{t: t0}
		s := &safety.Service{Store: db, Now: c.Now, Limits: safety.Limits{RequestsPerHour: 4, InvitationsPerDay: 6}}
		ctx := t.Context()
		take := func(n int) error { return s.CheckNewRequests(ctx, sender, n) }
		if err := take(3); err != nil {
			t.Fatalf("3 of 4: %v", err)
		}
		err := take(2)
		if !errcode.Is(err, errcode.RateLimited) || errcode.RetryAfterOf(err) < time.Second || !contains(errcode.Message(err), "at most 4", "an hour") {
			t.Fatalf("2 more of the 1 left: %v, want rateLimited naming 4 an hour", err)
		}
		if err := take(1); err != nil {
			t.Fatalf("the last 1 (the refused 2 took nothing): %v", err)
		}
		if err := s.ReturnNewRequests(ctx, sender, 1); err != nil {
			t.Fatal(err)
		}
		if err := take(1); err != nil {
			t.Fatalf("1 given back: %v", err)
		}
		if err := take(1); !errcode.Is(err, errcode.RateLimited) {
			t.Fatalf("past the hourly budget: %v", err)
		}
		c.Add(15 * time.Minute)
		if err := take(1); err != nil {
			t.Fatalf("a quarter hour later one is back: %v", err)
		}
		c.Add(time.Hour)
		err = take(2)
		if !errcode.Is(err, errcode.RateLimited) || !contains(errcode.Message(err), "at most 6", "a day") {
			t.Fatalf("past the daily budget: %v, want rateLimited naming 6 a day", err)
		}
		if err := take(0); err != nil {
			t.Fatalf("no new people: %v", err)
		}
		other := &identity.User{ID: "sender-2", TenantID: "t1", Kind: identity.Member}
		if err := s.CheckNewRequests(ctx, other, 4); err != nil {
			t.Fatalf("another sender's budget is their own: %v", err)
		}
	})
}

// TestCheckNewRequestsConcurrent: 24 takes of one person, released
// together from a barrier, from a budget of 5: exactly 5 succeed. Both
// stores.
func TestCheckNewRequestsConcurrent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := &safety.Service{Store: db, Now: func() time.Time { return t0 }, Limits: safety.Limits{RequestsPerHour: 5, InvitationsPerDay: 100}}
		var ok atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 24 {
			wg.Go(func() {
				<-start
				err := s.CheckNewRequests(t.Context(), sender, 1)
				switch {
				case err == nil:
					ok.Add(1)
				case !errcode.Is(err, errcode.RateLimited):
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := ok.Load(); n != 5 {
			t.Fatalf("%d of 24 concurrent takes succeeded from a budget of 5", n)
		}
	})
}

func TestNewSender(t *testing.T) {
	s := &safety.Service{Now: func() time.Time { return t0 }, Limits: safety.Limits{NewSenderAge: 24 * time.Hour}}
	tests := []struct {
		kind identity.Kind
		age  time.Duration
		want bool
	}{
		{identity.Personal, time.Hour, true},
		{identity.Personal, 24*time.Hour - time.Second, true},
		{identity.Personal, 24 * time.Hour, false},
		{identity.Member, time.Hour, false},
		{identity.Guest, time.Hour, false},
	}
	for _, tc := range tests {
		u := &identity.User{Kind: tc.kind, CreatedAt: t0.Add(-tc.age)}
		if got := s.NewSender(u); got != tc.want {
			t.Errorf("%s aged %v: NewSender = %v, want %v", tc.kind, tc.age, got, tc.want)
		}
	}
	s.Limits.NewSenderAge = 0
	if s.NewSender(&identity.User{Kind: identity.Personal, CreatedAt: t0}) {
		t.Error("NewSenderAge 0 still filters")
	}
}

// TestRepeatedTextFiltersRequests: the same first text (up to case and
// spacing) sent in pending requests to RepeatRecipients people within the
// window files all those requests in the filtered lists; fewer, another
// text, or the same text outside the window does not. Both stores.
func TestRepeatedTextFiltersRequests(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		c := &clock{t: t0}
		s := &safety.Service{Store: db, Now: c.Now, Limits: safety.Limits{RepeatRecipients: 3, RepeatWindow: time.Hour}}
		from := identity.User{ID: identity.NewUserID(), Kind: identity.Personal, DisplayName: "Spammer", UPN: "spam@example.net", Mail: "spam@example.net", CreatedAt: t0}
		if err := db.CreateUser(ctx, from, "x"); err != nil {
			t.Fatal(err)
		}
		request := func(i int) chat.ID {
			to := identity.User{ID: identity.NewUserID(), Kind: identity.Personal, DisplayName: "To", UPN: fmt.Sprintf("to%d@example.net", i), CreatedAt: t0}
			if err := db.CreateUser(ctx, to, "x"); err != nil {
				t.Fatal(err)
			}
			ch := chat.Chat{ID: chat.NewID(), Type: chat.OneOnOne, CreatedBy: from.ID, CreatedAt: t0, UpdatedAt: t0, External: true}
			ms := []chat.Member{
				{ID: chat.NewMemberID(), ChatID: ch.ID, UserID: from.ID, State: chat.Accepted, JoinedAt: t0, VisibleFrom: t0, AddedBy: from.ID},
				{ID: chat.NewMemberID(), ChatID: ch.ID, UserID: to.ID, State: chat.Pending, RequestFrom: from.ID, JoinedAt: t0, VisibleFrom: t0, AddedBy: from.ID},
			}
			if _, err := db.CreateChat(ctx, ch, ms, nil, nil); err != nil {
				t.Fatal(err)
			}
			return ch.ID
		}
		filtered := func(id chat.ID) bool {
			_, ms, err := db.FindChatAny(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if m.State == chat.Pending {
					return m.Filtered
				}
			}
			t.Fatalf("chat %s has no pending member", id)
			return false
		}
		send := func(id chat.ID, text string) {
			if err := s.RecordRequestMessage(ctx, &from, string(id), text); err != nil {
				t.Fatal(err)
			}
		}
		old := request(0)
		send(old, "Buy now!")
		c.Add(2 * time.Hour) // outside the window from here on
		a, b, other := request(1), request(2), request(3)
		send(a, "Buy now!")
		send(other, "Something else")
		send(b, "  buy   NOW! ")
		for _, id := range []chat.ID{old, a, b, other} {
			if filtered(id) {
				t.Fatalf("filtered after two of the same text in the window")
			}
		}
		third := request(4)
		send(third, "BUY NOW!")
		for id, want := range map[chat.ID]bool{a: true, b: true, third: true, old: false, other: false} {
			if got := filtered(id); got != want {
				t.Errorf("chat %s filtered = %v, want %v", id, got, want)
			}
		}
	})
}

// TestReportsSuspend: a sender reported by ReportThreshold distinct people
// cannot start new requests (forbiddenByPolicy); below it they can.
func TestReportsSuspend(t *testing.T) {
	t.Parallel()
	cfg := storetest.Config(t, store.SQLite)
	db := storetest.OpenConfig(t, cfg)
	raw, err := sql.Open("sqlite", cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	s := &safety.Service{Store: db, Now: func() time.Time { return t0 }, Limits: safety.Limits{ReportThreshold: 2, RequestsPerHour: 100, InvitationsPerDay: 100}}
	report := func(reporter string) {
		if _, err := raw.Exec(`INSERT INTO spam_reports (reporter_id, sender_id, chat_id, created_at) VALUES (?, ?, ?, ?)`, reporter, sender.ID, "c-"+reporter, 1); err != nil {
			t.Fatal(err)
		}
	}
	report("r1")
	if err := s.CheckNewRequests(t.Context(), sender, 1); err != nil {
		t.Fatalf("one report: %v", err)
	}
	report("r2")
	if err := s.CheckNewRequests(t.Context(), sender, 1); !errcode.Is(err, errcode.ForbiddenByPolicy) {
		t.Fatalf("two reports: %v, want forbiddenByPolicy", err)
	}
}

func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
