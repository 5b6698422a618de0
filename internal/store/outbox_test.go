package store_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/outbox"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

var outboxEpoch = time.Date(2030, 1, 2, 3, 4, 5, 678901000, time.UTC)

// mustEnqueue stores a message and fails the test if it cannot.
func mustEnqueue(tb testing.TB, db *store.DB, m outbox.Message) outbox.Message {
	tb.Helper()
	if err := db.EnqueueOutbox(testContext(tb), m); err != nil {
		tb.Fatalf("EnqueueOutbox(%s): %v", m.ID, err)
	}
	return m
}

func mustFindOutbox(tb testing.TB, db *store.DB, tenant identity.TenantID, st outbox.Status) []outbox.Message {
	tb.Helper()
	msgs, err := db.FindOutbox(testContext(tb), tenant, outbox.Filter{Status: st}, 100)
	if err != nil {
		tb.Fatalf("FindOutbox(%s, %q): %v", tenant, st, err)
	}
	return msgs
}

func ids(msgs []outbox.Message) []string {
	out := []string{}
	for _, m := range msgs {
		out = append(out, m.ID)
	}
	return out
}

func TestOutboxEnqueueAndFindDue(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		ctx := testContext(t)
		// Due in order b, a; c is not due yet.
		a := outbox.NewMessage(outbox.Email, "ann@example.com", "Join me", "https://p.example/join/abc\nSee you", "t1", "u1", outboxEpoch)
		b := outbox.NewMessage(outbox.SMS, "+14155550100", "", "Code 123456", "", "", outboxEpoch.Add(-time.Minute))
		c := outbox.NewMessage(outbox.Email, "cy@example.com", "Later", "body", "t1", "u1", outboxEpoch.Add(time.Minute))
		for _, m := range []outbox.Message{a, b, c} {
			mustEnqueue(t, db, m)
		}
		got, err := db.FindDueOutbox(ctx, outboxEpoch, 10)
		if err != nil {
			t.Fatalf("FindDueOutbox: %v", err)
		}
		if diff := cmp.Diff([]outbox.Message{b, a}, got); diff != "" {
			t.Errorf("FindDueOutbox (-want +got):\n%s", diff)
		}
		if got, err := db.FindDueOutbox(ctx, outboxEpoch.Add(time.Hour), 1); err != nil || len(got) != 1 || got[0].ID != b.ID {
			t.Errorf("FindDueOutbox(limit 1): got %v, %v, want [%s]", ids(got), err, b.ID)
		}
		if got := mustFindOutbox(t, db, "t1", outbox.Pending); !cmp.Equal(ids(got), []string{c.ID, a.ID}) {
			t.Errorf("FindOutbox(t1, pending): got %v, want newest first %v", ids(got), []string{c.ID, a.ID})
		}
		// The same id twice is refused, not silently replaced.
		if err := db.EnqueueOutbox(ctx, a); err == nil {
			t.Error("EnqueueOutbox(same id again): got nil error, want one")
		}
	})
}

func TestOutboxClaim(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		ctx := testContext(t)
		m := mustEnqueue(t, db, outbox.NewMessage(outbox.Email, "ann@example.com", "s", "b", "t1", "u1", outboxEpoch))
		until := outboxEpoch.Add(2 * time.Minute)

		// Many workers race for one message: exactly one wins.
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				ok, err := db.ClaimOutbox(ctx, m.ID, m.NextAttemptAt, until)
				if err != nil {
					t.Errorf("ClaimOutbox: %v", err)
				}
				if ok {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		if got := won.Load(); got != 1 {
			t.Fatalf("concurrent ClaimOutbox: %d won, want 1", got)
		}
		// Claimed: not due until the claim lapses, then due again.
		if got, err := db.FindDueOutbox(ctx, until.Add(-time.Microsecond), 10); err != nil || len(got) != 0 {
			t.Errorf("FindDueOutbox during the claim: got %v, %v, want none", ids(got), err)
		}
		got, err := db.FindDueOutbox(ctx, until, 10)
		if err != nil || len(got) != 1 || !got[0].NextAttemptAt.Equal(until) {
			t.Fatalf("FindDueOutbox after the claim lapsed: got %+v, %v, want the message due at %v", got, err, until)
		}
		// A finished message cannot be claimed.
		if err := db.MarkOutboxSent(ctx, m.ID, until, ""); err != nil {
			t.Fatalf("MarkOutboxSent: %v", err)
		}
		if ok, err := db.ClaimOutbox(ctx, m.ID, until, until.Add(time.Minute)); err != nil || ok {
			t.Errorf("ClaimOutbox(sent message): got %v, %v, want false, nil", ok, err)
		}
		if ok, err := db.ClaimOutbox(ctx, "nosuch", until, until.Add(time.Minute)); err != nil || ok {
			t.Errorf("ClaimOutbox(unknown id): got %v, %v, want false, nil", ok, err)
		}
	})
}

func TestOutboxMarksAndStatus(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		ctx := testContext(t)
		at := outboxEpoch.Add(time.Second)
		sent := mustEnqueue(t, db, outbox.NewMessage(outbox.Email, "s@example.com", "s", "b", "t1", "u1", outboxEpoch))
		logged := mustEnqueue(t, db, outbox.NewMessage(outbox.Email, "l@example.com", "s", "b", "t1", "u1", outboxEpoch.Add(time.Millisecond)))
		failed := mustEnqueue(t, db, outbox.NewMessage(outbox.SMS, "+14155550100", "", "b", "t1", "u1", outboxEpoch.Add(2*time.Millisecond)))
		retry := mustEnqueue(t, db, outbox.NewMessage(outbox.Email, "r@example.com", "s", "b", "t1", "u1", outboxEpoch.Add(3*time.Millisecond)))
		other := mustEnqueue(t, db, outbox.NewMessage(outbox.Email, "o@example.com", "s", "b", "t2", "u2", outboxEpoch))

		if err := db.MarkOutboxRetry(ctx, sent.ID, 2, at, "dial tcp: connection refused"); err != nil {
			t.Fatalf("MarkOutboxRetry: %v", err)
		}
		if err := db.MarkOutboxSent(ctx, sent.ID, at, ""); err != nil {
			t.Fatalf("MarkOutboxSent: %v", err)
		}
		if err := db.MarkOutboxSent(ctx, logged.ID, at, outbox.LoggedPrefix+" no SMTP configured"); err != nil {
			t.Fatalf("MarkOutboxSent(logged): %v", err)
		}
		if err := db.MarkOutboxFailed(ctx, failed.ID, at, "provider answered 400"); err != nil {
			t.Fatalf("MarkOutboxFailed: %v", err)
		}
		next := at.Add(10 * time.Second)
		if err := db.MarkOutboxRetry(ctx, retry.ID, 1, next, "450 try later"); err != nil {
			t.Fatalf("MarkOutboxRetry: %v", err)
		}

		wantSent, wantLogged, wantFailed, wantRetry := sent, logged, failed, retry
		wantSent.SentAt, wantSent.Attempts, wantSent.NextAttemptAt = at, 3, at
		wantLogged.SentAt, wantLogged.Attempts, wantLogged.LastError = at, 1, outbox.LoggedPrefix+" no SMTP configured"
		wantFailed.FailedAt, wantFailed.Attempts, wantFailed.LastError = at, 1, "provider answered 400"
		wantRetry.Attempts, wantRetry.NextAttemptAt, wantRetry.LastError = 1, next, "450 try later"

		tests := []struct {
			name   string
			status outbox.Status
			want   []outbox.Message
		}{
			{"all", "", []outbox.Message{wantRetry, wantFailed, wantLogged, wantSent}},
			{"pending", outbox.Pending, []outbox.Message{wantRetry}},
			{"sent", outbox.Sent, []outbox.Message{wantSent}},
			{"logged", outbox.Logged, []outbox.Message{wantLogged}},
			{"failed", outbox.Failed, []outbox.Message{wantFailed}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := mustFindOutbox(t, db, "t1", tt.status)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("FindOutbox(t1, %q) (-want +got):\n%s", tt.status, diff)
				}
				for _, m := range got {
					if tt.status != "" && m.Status() != tt.status {
						t.Errorf("message %s listed as %q has Status() %q", m.ID, tt.status, m.Status())
					}
				}
			})
		}
		// Tenant isolation: t2 sees only its own.
		if got := mustFindOutbox(t, db, "t2", ""); !cmp.Equal(ids(got), []string{other.ID}) {
			t.Errorf("FindOutbox(t2): got %v, want [%s]", ids(got), other.ID)
		}
		if _, err := db.FindOutbox(ctx, "t1", outbox.Filter{Status: "bogus"}, 10); !errcode.Is(err, errcode.BadRequest) {
			t.Errorf("FindOutbox(bogus status): got %v, want code %s", err, errcode.BadRequest)
		}
		// Finished messages stay finished; unknown ids are notFound.
		for _, id := range []string{sent.ID, failed.ID, "nosuch"} {
			if err := db.MarkOutboxRetry(ctx, id, 9, at, "x"); !errcode.Is(err, errcode.NotFound) {
				t.Errorf("MarkOutboxRetry(%s): got %v, want code %s", id, err, errcode.NotFound)
			}
			if err := db.MarkOutboxFailed(ctx, id, at, "x"); !errcode.Is(err, errcode.NotFound) {
				t.Errorf("MarkOutboxFailed(%s): got %v, want code %s", id, err, errcode.NotFound)
			}
			if err := db.MarkOutboxSent(ctx, id, at, ""); !errcode.Is(err, errcode.NotFound) {
				t.Errorf("MarkOutboxSent(%s): got %v, want code %s", id, err, errcode.NotFound)
			}
		}
	})
}

func TestOutboxFindLimit(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		var want []string
		for i := range 5 {
			m := mustEnqueue(t, db, outbox.NewMessage(outbox.Email, fmt.Sprintf("u%d@example.com", i), "s", "b", "t1", "u1", outboxEpoch.Add(time.Duration(i)*time.Second)))
			want = append([]string{m.ID}, want...)
		}
		got, err := db.FindOutbox(testContext(t), "t1", outbox.Filter{}, 3)
		if err != nil {
			t.Fatalf("FindOutbox: %v", err)
		}
		if diff := cmp.Diff(want[:3], ids(got)); diff != "" {
			t.Errorf("FindOutbox(limit 3) (-want +got):\n%s", diff)
		}
	})
}

// TestOutboxSurvivesReopen: once EnqueueOutbox returns, the message is on
// disk; a store opened afterwards on the same file finds it due.
func TestOutboxSurvivesReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "parley.db")
	ctx := testContext(t)
	db, err := store.Open(ctx, store.Config{Dialect: store.SQLite, Path: path})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	m := mustEnqueue(t, db, outbox.NewMessage(outbox.Email, "ann@example.com", "s", "b", "t1", "u1", outboxEpoch))
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db2, err := store.Open(ctx, store.Config{Dialect: store.SQLite, Path: path})
	if err != nil {
		t.Fatalf("store.Open again: %v", err)
	}
	defer func() {
		if err := db2.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	got, err := db2.FindDueOutbox(ctx, outboxEpoch, 10)
	if err != nil {
		t.Fatalf("FindDueOutbox: %v", err)
	}
	if diff := cmp.Diff([]outbox.Message{m}, got); diff != "" {
		t.Errorf("FindDueOutbox after reopen (-want +got):\n%s", diff)
	}
}

// TestOutboxFindTo: FindOutboxTo keeps the messages to addresses in a
// tenant's domains, whoever sent them, and matches whole domains only; ""
// keeps every message.
func TestOutboxFindTo(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		ctx := testContext(t)
		tn := identity.Tenant{ID: "t1", DisplayName: "Contoso", Domains: []string{"contoso.example", "contoso.test"}, CreatedAt: outboxEpoch}
		if err := db.CreateTenant(ctx, tn, identity.User{ID: "a1", TenantID: "t1", Kind: identity.Member, Role: identity.RoleAdmin,
			DisplayName: "Admin", UPN: "admin@contoso.example", CreatedAt: outboxEpoch}, "hash"); err != nil {
			t.Fatalf("CreateTenant: %v", err)
		}
		at := func(i int) time.Time { return outboxEpoch.Add(time.Duration(i) * time.Second) }
		reset := mustEnqueue(t, db, outbox.NewMessage(outbox.Email, "ann@contoso.example", "Reset", "b", "", "", at(1)))
		notice := mustEnqueue(t, db, outbox.NewMessage(outbox.Email, "zed@contoso.test", "Sign-up", "b", "", "", at(2)))
		invitation := mustEnqueue(t, db, outbox.NewMessage(outbox.Email, "bob@example.com", "Invite", "b", "t1", "a1", at(3)))
		suffix := mustEnqueue(t, db, outbox.NewMessage(outbox.Email, "eve@notcontoso.example", "Invite", "b", "t1", "a1", at(4)))
		sms := mustEnqueue(t, db, outbox.NewMessage(outbox.SMS, "+14155550100", "", "b", "t1", "a1", at(5)))
		for _, tt := range []struct {
			to   identity.TenantID
			want []string
		}{
			{"t1", []string{notice.ID, reset.ID}},
			{"t2", []string{}},
			{"", []string{sms.ID, suffix.ID, invitation.ID, notice.ID, reset.ID}},
		} {
			got, err := db.FindOutboxTo(ctx, tt.to, outbox.Filter{}, 100)
			if err != nil {
				t.Fatalf("FindOutboxTo(%q): %v", tt.to, err)
			}
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Errorf("FindOutboxTo(%q) (-want +got):\n%s", tt.to, diff)
			}
		}
		if got, err := db.FindOutboxTo(ctx, "t1", outbox.Filter{Status: outbox.Failed}, 100); err != nil || len(got) != 0 {
			t.Errorf("FindOutboxTo(t1, failed): got %v, %v, want none", ids(got), err)
		}
	})
}
