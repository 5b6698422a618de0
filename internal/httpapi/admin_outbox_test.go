package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/mail/mailtest"
	"github.com/parleychat/parley/internal/outbox"
	"github.com/parleychat/parley/internal/parleytest"
)

type outboxPage struct {
	Value []struct {
		ID, Channel, To, Subject, Status, LastError string
		Attempts                                    int
		CreatedDateTime, SentDateTime               *string
		FailedDateTime                              *string
	} `json:"value"`
}

// TestAdminOutbox: docs/rules.md §6 "shows failures to admins": a tenant admin lists the
// mail to the organisation's own addresses by status through the API, never
// a member's mail to an outside address (docs/rules.md §4 rule of silence); the operator
// lists everything; others may not.
func TestAdminOutbox(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, st string) {
		smtp := mailtest.NewServer(t)
		smtp.RejectRecipient("nobody@contoso.com", 550)
		cfg := parleytest.Config(t, st)
		cfg.Mail.URL = smtp.URL()
		s := parleytest.Start(t, cfg)
		ten := s.CreateTenant("Contoso", "contoso.com")
		member := s.User(ten, "alice", false)
		other := s.CreateTenant("Fabrikam", "fabrikam.com")

		now := time.Now()
		ok := outbox.NewMessage(outbox.Email, "ann@contoso.com", "Hello", "secret-link", "", "", now)
		bad := outbox.NewMessage(outbox.Email, "nobody@contoso.com", "Hello", "secret-link", "", "", now)
		outside := outbox.NewMessage(outbox.Email, "pat@example.com", "Alice wants to chat with you", "secret-link", identity.TenantID(ten.ID), identity.UserID(member.UserID), now)
		for _, m := range []outbox.Message{ok, bad, outside} {
			if err := s.Outbox.Enqueue(context.Background(), m); err != nil {
				t.Fatalf("Enqueue: %v", err)
			}
		}
		smtp.WaitFor(t, 2, 10*time.Second)

		// Wait (bounded) for the worker to record the 550.
		var failed outboxPage
		deadline := time.NewTimer(10 * time.Second)
		defer deadline.Stop()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
	poll:
		for {
			failed = outboxPage{}
			ten.Admin.Must(http.StatusOK, "GET", "/parley/v1/admin/outbox?status=failed", nil).JSON(t, &failed)
			if len(failed.Value) == 1 {
				break
			}
			select {
			case <-tick.C:
			case <-deadline.C:
				break poll
			}
		}
		if len(failed.Value) != 1 || failed.Value[0].ID != bad.ID || failed.Value[0].Status != "failed" ||
			failed.Value[0].Attempts != 1 || failed.Value[0].FailedDateTime == nil || failed.Value[0].To != "nobody@contoso.com" {
			t.Fatalf("failed: got %+v, want only %s, failed after 1 attempt", failed.Value, bad.ID)
		}
		var all outboxPage
		body := ten.Admin.Must(http.StatusOK, "GET", "/parley/v1/admin/outbox", nil)
		body.JSON(t, &all)
		if len(all.Value) != 2 {
			t.Errorf("all: got %d messages, want 2 (not the one to pat@example.com)", len(all.Value))
		}
		var everything outboxPage
		s.Operator().Must(http.StatusOK, "GET", "/parley/v1/operator/outbox", nil).JSON(t, &everything)
		if len(everything.Value) != 3 {
			t.Errorf("operator: got %d messages, want 3", len(everything.Value))
		}
		if r := ten.Admin.Do("GET", "/parley/v1/operator/outbox", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("tenant admin on the operator's outbox: got %d %s, want 401", r.Status, r.Body)
		}
		if strings.Contains(string(body.Body), "secret-link") {
			t.Errorf("the listing shows message bodies: %s", body.Body)
		}

		if r := member.Do("GET", "/parley/v1/admin/outbox", nil); r.Status != http.StatusForbidden || r.ErrorCode() != "forbidden" {
			t.Errorf("member: got %d %s, want 403 forbidden", r.Status, r.Body)
		}
		if r := ten.Admin.Do("GET", "/parley/v1/admin/outbox?status=bogus", nil); r.Status != http.StatusBadRequest {
			t.Errorf("bogus status: got %d %s, want 400", r.Status, r.Body)
		}
		var none outboxPage
		other.Admin.Must(http.StatusOK, "GET", "/parley/v1/admin/outbox", nil).JSON(t, &none)
		if len(none.Value) != 0 {
			t.Errorf("another tenant's admin: got %d messages, want 0", len(none.Value))
		}
		if r := s.Anonymous().Do("GET", "/parley/v1/admin/outbox", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("anonymous: got %d, want 401", r.Status)
		}
	})
}
