package server_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/config"
	"github.com/parleychat/parley/internal/parleytest"
)

func requestsIn(t *testing.T, c *parleytest.Client, filter string) []string {
	t.Helper()
	var p struct {
		Value []struct {
			ChatID     string `json:"chatId"`
			IsFiltered bool   `json:"isFiltered"`
		} `json:"value"`
	}
	c.Must(200, "GET", "/parley/v1/me/requests?filter="+filter, nil).JSON(t, &p)
	var ids []string
	for _, r := range p.Value {
		if r.IsFiltered != (filter == "filtered") {
			t.Fatalf("isFiltered=%v in the %s list", r.IsFiltered, filter)
		}
		ids = append(ids, r.ChatID)
	}
	return ids
}

// TestS10_RateLimits: a sender may contact only so many new people outside
// their organisation; the limit counts addresses with and without accounts
// alike (the rule of silence), and answers 429 rateLimited with Retry-After.
func TestS10_RateLimits(t *testing.T) {
	w := parleytest.StartWorldWith(t, "sqlite", func(c *config.Config) { c.Safety.RequestsPerHour = 3 })
	contoso := w.CreateTenant("Contoso", "contoso.com")
	alice := w.User(contoso, "alice", false)
	bob := w.User(contoso, "bob", false)
	w.Personal("pat@gmail.com")
	// An account, two addresses without one: all three count.
	for _, addr := range []string{"pat@gmail.com", "new1@outlook.com", "new2@outlook.com"} {
		alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.ByEmail(addr)}})
	}
	for _, addr := range []string{"new3@outlook.com", "pat2@gmail.com"} {
		r := alice.ChatWith(parleytest.ByEmail(addr))
		if r.Status != 429 || r.ErrorCode() != "rateLimited" {
			t.Fatalf("4th new person: %d %s", r.Status, r.Body)
		}
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 3600 {
			t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
		}
	}
	// Colleagues are not limited; neither is another sender.
	alice.Send(alice.OneOnOne(bob.UserID), "hi")
	bob.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.ByEmail("new3@outlook.com")}})
	// No invitation went out for the refused one: only bob's arrives.
	w.MailTo("new3@outlook.com", 1)
	w.MailTo("new2@outlook.com", 1)
	if n := w.CountMailTo("new3@outlook.com"); n != 1 {
		t.Fatalf("mails to new3: %d, want 1 (bob's)", n)
	}
}

// TestS10_SpamChecks: repeated identical content to many new recipients
// and brand-new senders go to the filtered list; reports from several
// distinct recipients suspend the sender's new requests.
func TestS10_SpamChecks(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartWorldWith(t, store, func(c *config.Config) {
			c.Safety.RepeatRecipients = 3
			c.Safety.RepeatWindow = time.Hour
			c.Safety.ReportThreshold = 2
		})
		contoso := w.CreateTenant("Contoso", "contoso.com")
		spammer := w.User(contoso, "spammer", false)
		var targets []*parleytest.Client
		var chats []string
		for i := range 3 {
			target := w.Personal(fmt.Sprintf("t%d@gmail.com", i))
			targets = append(targets, target)
			id := spammer.ChatWith(parleytest.ByEmail(fmt.Sprintf("t%d@gmail.com", i))).Map(t)["id"].(string)
			chats = append(chats, id)
			spammer.Send(id, "Cheap   WATCHES, click here")
			if i < 2 && len(requestsIn(t, target, "main")) != 1 {
				t.Fatalf("request %d filtered too early", i)
			}
		}
		// The third identical text files all three in the filtered list.
		for i, target := range targets {
			if got := requestsIn(t, target, "main"); len(got) != 0 {
				t.Fatalf("target %d main list: %v", i, got)
			}
			if got := requestsIn(t, target, "filtered"); len(got) != 1 || got[0] != chats[i] {
				t.Fatalf("target %d filtered list: %v", i, got)
			}
		}
		// A filtered request can still be answered.
		targets[0].Must(204, "POST", "/parley/v1/me/requests/"+chats[0]+"/reportSpam", nil)
		targets[1].Must(204, "POST", "/parley/v1/me/requests/"+chats[1]+"/reportSpam", nil)
		// Two distinct reporters: new external requests are suspended...
		r := spammer.ChatWith(parleytest.ByEmail("fresh@gmail.com"))
		if r.Status != 403 || r.ErrorCode() != "forbiddenByPolicy" {
			t.Fatalf("suspended sender: %d %s", r.Status, r.Body)
		}
		// ...but chats inside the organisation go on.
		colleague := w.User(contoso, "colleague", false)
		spammer.Send(spammer.OneOnOne(colleague.UserID), "lunch?")
	})
	t.Run("brand-new personal senders are filtered", func(t *testing.T) {
		w := parleytest.StartWorldWith(t, "sqlite", func(c *config.Config) { c.Safety.NewSenderAge = time.Hour })
		contoso := w.CreateTenant("Contoso", "contoso.com")
		alice := w.User(contoso, "alice", false)
		fresh := w.Personal("fresh@gmail.com")
		id := fresh.ChatWith(parleytest.ByEmail("alice@contoso.com")).Map(t)["id"].(string)
		if got := requestsIn(t, alice, "filtered"); len(got) != 1 || got[0] != id {
			t.Fatalf("filtered list: %v", got)
		}
		// A managed sender, however new, is vouched for by its organisation.
		bob := w.User(contoso, "bob", false)
		bid := bob.ChatWith(parleytest.ByEmail("fresh@gmail.com")).Map(t)["id"].(string)
		if got := requestsIn(t, fresh, "main"); len(got) != 1 || got[0] != bid {
			t.Fatalf("main list: %v", got)
		}
	})
}
