package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// FuzzListSkipToken sends arbitrary $skiptokens to every paged list of
// the API, through the real routes, so each list's token parser is
// covered wherever it lives (paging.go, the inline ones of listChats,
// listMessages and listAudit): a token is answered with 200 and a page,
// or 400 badRequest, never 5xx; the seeds are the real nextLink tokens.
func FuzzListSkipToken(f *testing.F) {
	s := parleytest.StartStore(f, "sqlite")
	contoso := s.CreateTenant("Contoso", "contoso.com")
	admin := contoso.Admin
	alice := s.User(contoso, "alice", false)
	bob := s.User(contoso, "bob", false)
	chat := admin.OneOnOne(alice.UserID)
	admin.OneOnOne(bob.UserID)
	for _, text := range []string{"one", "two", "three"} {
		admin.Send(chat, text)
	}
	lists := []string{
		"/v1.0/me/chats?$top=1",
		"/v1.0/chats/" + chat + "/messages?$top=1",
		"/v1.0/chats/" + chat + "/members?$top=1",
		"/v1.0/users?$top=1",
		"/parley/v1/admin/audit?$top=1",
		"/parley/v1/me/requests?$top=1",
		"/parley/v1/me/blockedUsers?$top=1",
		"/parley/v1/admin/externalAccessPolicies?$top=1",
	}
	for i, l := range lists {
		var p struct {
			NextLink string `json:"@odata.nextLink"`
		}
		admin.Must(http.StatusOK, "GET", l, nil).JSON(f, &p)
		if p.NextLink != "" {
			u, err := url.Parse(p.NextLink)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), u.Query().Get("$skiptoken"))
		}
		for _, junk := range []string{"", "x", "0", "-1", "MTcwMDAwMDAwMDAwMDAwMHw", "fA", "WyIxIiwiIl0", "WyJhIiwiYiJd", "9223372036854775808"} {
			f.Add(uint8(i), junk)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, tok string) {
		c := *admin
		c.TB = t
		path := lists[int(which)%len(lists)] + "&$skiptoken=" + url.QueryEscape(tok)
		r := c.Do("GET", path, nil)
		switch r.Status {
		case http.StatusOK:
			var p struct {
				Value    []json.RawMessage `json:"value"`
				NextLink string            `json:"@odata.nextLink"`
			}
			if err := json.Unmarshal(r.Body, &p); err != nil || p.Value == nil {
				t.Fatalf("GET %s: 200 with %s, want a page", path, r.Body)
			}
			if p.NextLink != "" {
				if next := c.Do("GET", p.NextLink, nil); next.Status != http.StatusOK {
					t.Fatalf("GET %s: its nextLink %s answers %d %s", path, p.NextLink, next.Status, next.Body)
				}
			}
		case http.StatusBadRequest:
			if r.ErrorCode() != "badRequest" {
				t.Fatalf("GET %s: 400 with %s, want badRequest", path, r.Body)
			}
		default:
			t.Fatalf("GET %s: got %d %s, want 200 or 400", path, r.Status, r.Body)
		}
	})
}
