package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestS6_OutboxKeepsSilence: no tenant admin's delivery list differs with
// whether the outside addresses a member typed have an account (docs/rules.md §4 rule
// of silence, docs/rules.md §6): invitations and their failures are not in it, for the
// sender's admins nor for the admins of the address's domain. It lists mail
// to the organisation's own addresses, codes masked; the operator sees every
// delivery (docs/decisions.md "Existence and visibility").
func TestS6_OutboxKeepsSilence(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartWorld(t, store)
		contoso := w.CreateTenant("Contoso", "contoso.com")
		alice := w.User(contoso, "alice", false)
		w.Personal("pat@gmail.com")
		fabrikam := w.CreateTenant("Fabrikam", "fabrikam.com")
		w.User(fabrikam, "frank", false)
		const bounce = "bounce@gmail.com"
		w.Mail.RejectRecipient(bounce, 550)

		targets := []string{"pat@gmail.com", "nobody-here@gmail.com", bounce, "frank@fabrikam.com", "nobody@fabrikam.com"}
		for _, addr := range targets {
			if r := alice.ChatWith(parleytest.ByEmail(addr)); r.Status != http.StatusCreated {
				t.Fatalf("chat with %s: got %d %s, want 201", addr, r.Status, r.Body)
			}
		}
		// Nothing the admin can list differs between the addresses alice typed.
		checkAdmin := func() {
			t.Helper()
			for _, q := range []string{"", "?status=failed", "?status=sent", "?status=pending"} {
				per := map[string]int{}
				for _, admin := range []*parleytest.Client{contoso.Admin, fabrikam.Admin} {
					for _, e := range outboxListOf(t, admin, adminOutbox, q) {
						per[e.To]++
					}
				}
				for _, addr := range targets {
					if per[addr] != 0 {
						t.Errorf("admin outbox%s lists %d deliveries to %s, which alice typed: an admin learns which addresses have no account (want none for any of %q)", q, per[addr], addr, targets)
					}
				}
			}
		}
		w.MailTo("nobody-here@gmail.com", 1)
		checkAdmin()

		// The operator sees the invitations, the bounce as failed.
		op := w.Operator()
		waitOutboxOf(t, op, operatorOutbox, "", "nobody-here@gmail.com", 15*time.Second, func(e outboxEntry) bool { return e.Status == "sent" })
		waitOutboxOf(t, op, operatorOutbox, "?status=failed", bounce, 15*time.Second, func(e outboxEntry) bool { return e.Status == "failed" })
		if r := contoso.Admin.Do("GET", operatorOutbox, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("a tenant admin's token on the operator's outbox: got %d %s, want 401", r.Status, r.Body)
		}
		checkAdmin()

		// A reset for a member of the tenant: a delivery to the tenant's own
		// address, listed for its admin with the code masked.
		w.Anonymous().Must(http.StatusAccepted, "POST", "/parley/v1/passwordReset", map[string]any{"email": "alice@contoso.com"})
		code := regexp.MustCompile(`\d{6}`).FindString(w.MailTo("alice@contoso.com", 1).Subject)
		reset := waitOutboxOf(t, contoso.Admin, adminOutbox, "", "alice@contoso.com", 15*time.Second, func(e outboxEntry) bool { return e.Status == "sent" })
		if code == "" || strings.Contains(reset.Subject, code) {
			t.Errorf("the reset's subject in the admin's list = %q, want it without the code %q", reset.Subject, code)
		}
		// The same through the CLI's call (parley admin outbox is this GET).
		if body := contoso.Admin.Must(http.StatusOK, "GET", adminOutbox+"?status=", nil).Body2(); strings.Contains(body, "gmail.com") {
			t.Errorf("GET %s?status= (parley admin outbox) lists an outside address: %s", adminOutbox, body)
		}
	})
}

const (
	adminOutbox    = "/parley/v1/admin/outbox"
	operatorOutbox = "/parley/v1/operator/outbox"
)

func outboxListOf(t *testing.T, c *parleytest.Client, path, query string) []outboxEntry {
	t.Helper()
	var out struct {
		Value []outboxEntry `json:"value"`
	}
	c.Must(http.StatusOK, "GET", path+query, nil).JSON(t, &out)
	return out.Value
}

// waitOutboxOf polls an outbox list until the entry to addr satisfies pred,
// and fails the test after timeout.
func waitOutboxOf(t *testing.T, c *parleytest.Client, path, query, addr string, timeout time.Duration, pred func(outboxEntry) bool) outboxEntry {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var last []outboxEntry
		for _, e := range outboxListOf(t, c, path, query) {
			if e.To == addr {
				last = append(last, e)
				if pred(e) {
					return e
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%s: the entry to %s did not reach the wanted state within %v; last seen %+v", path, query, addr, timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
