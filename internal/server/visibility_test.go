package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/parleytest"
)

// Issue 11 items 5 and 6: who sees whom, through the directory and the
// blocked-people list.

// TestS1_GuestSeesOnlySharedChats: a guest's directory is the people it
// shares a chat with, through the list and by id; members keep their
// organisation's directory (issue 11 item 6).
func TestS1_GuestSeesOnlySharedChats(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		gus := s.User(contoso, "gus@outside.example", true)
		const nobody = "01900000-0000-7000-8000-000000000000"

		ids := func(c *parleytest.Client, query string) []string {
			t.Helper()
			var out struct {
				Value []struct {
					ID      string `json:"id"`
					IsAdmin *bool  `json:"isAdmin"`
				} `json:"value"`
			}
			c.Must(http.StatusOK, "GET", "/v1.0/users"+query, nil).JSON(t, &out)
			var got []string
			for _, u := range out.Value {
				got = append(got, u.ID)
			}
			slices.Sort(got)
			return got
		}
		sorted := func(xs ...string) []string { slices.Sort(xs); return xs }

		if got, want := ids(gus, ""), sorted(gus.UserID); !slices.Equal(got, want) {
			t.Errorf("guest's directory before any chat = %v, want only itself %v", got, want)
		}
		alice.OneOnOne(gus.UserID)
		if got, want := ids(gus, ""), sorted(gus.UserID, alice.UserID); !slices.Equal(got, want) {
			t.Errorf("guest's directory = %v, want itself and alice %v", got, want)
		}
		if got := ids(gus, "?$filter="+strings.ReplaceAll("userPrincipalName eq 'bob@contoso.com'", " ", "%20")); len(got) != 0 {
			t.Errorf("guest filters by bob's address: got %v, want nothing", got)
		}
		gus.Must(http.StatusOK, "GET", "/v1.0/users/"+alice.UserID, nil)
		hidden := gus.Do("GET", "/v1.0/users/"+bob.UserID, nil)
		unknown := gus.Do("GET", "/v1.0/users/"+nobody, nil)
		if hidden.Status != http.StatusNotFound || strings.ReplaceAll(hidden.Body2(), bob.UserID, "<id>") != strings.ReplaceAll(unknown.Body2(), nobody, "<id>") {
			t.Errorf("guest GET a member it shares no chat with: %d %s; an unknown id: %d %s; want the same 404", hidden.Status, hidden.Body, unknown.Status, unknown.Body)
		}
		// A guest does not learn who administers the host.
		contoso.Admin.OneOnOne(gus.UserID)
		if r := gus.Must(http.StatusOK, "GET", "/v1.0/users/"+contoso.Admin.UserID, nil).Map(t); r["isAdmin"] == true {
			t.Errorf("guest sees the admin flag: %v", r)
		}

		// Members keep the organisation's directory, guests included.
		if got, want := ids(bob, ""), sorted(contoso.Admin.UserID, alice.UserID, bob.UserID, gus.UserID); !slices.Equal(got, want) {
			t.Errorf("member's directory = %v, want the whole organisation %v", got, want)
		}
		bob.Must(http.StatusOK, "GET", "/v1.0/users/"+gus.UserID, nil)
		if r := bob.Must(http.StatusOK, "GET", "/v1.0/users/"+contoso.Admin.UserID, nil).Map(t); r["isAdmin"] != true {
			t.Errorf("member no longer sees the admin flag: %v", r)
		}
	})
}

// TestS4_BlockByIDKeepsSilence: blocking by id answers an id the caller may
// not see exactly as an unknown id, and the blocked-people list shows a
// person as GET /v1.0/users/{id} does (issue 11 item 5).
func TestS4_BlockByIDKeepsSilence(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartWorld(t, store)
		contoso := w.CreateTenant("Contoso", "contoso.com")
		alice := w.User(contoso, "alice", false)
		bob := w.User(contoso, "bob", false)
		fabrikam := w.CreateTenant("Fabrikam", "fabrikam.com")
		eve := w.User(fabrikam, "eve", false)
		pat := w.Personal("pat@gmail.com")
		const nobody = "01900000-0000-7000-8000-000000000000"

		if r := alice.Do("GET", "/v1.0/users/"+eve.UserID, nil); r.Status != http.StatusNotFound {
			t.Fatalf("alice GET eve: got %d %s, want 404 (the premise)", r.Status, r.Body)
		}
		hidden := alice.Do("POST", "/parley/v1/me/blockedUsers", map[string]any{"userId": eve.UserID})
		unknown := alice.Do("POST", "/parley/v1/me/blockedUsers", map[string]any{"userId": nobody})
		if got, want := fmt.Sprintf("%d %s", hidden.Status, strings.ReplaceAll(hidden.Body2(), eve.UserID, "<id>")),
			fmt.Sprintf("%d %s", unknown.Status, strings.ReplaceAll(unknown.Body2(), nobody, "<id>")); got != want {
			t.Errorf("block an id alice may not see: %s; an unknown id: %s; want the same answer", got, want)
		}
		if hidden.Status != http.StatusNotFound || hidden.ErrorCode() != "notFound" {
			t.Errorf("block an id alice may not see: got %d %s, want 404 notFound", hidden.Status, hidden.Body)
		}

		// People alice may see: her organisation, and pat once they share a chat.
		alice.Must(http.StatusNoContent, "POST", "/parley/v1/me/blockedUsers", map[string]any{"userId": bob.UserID})
		chat := pat.ChatWith(parleytest.ByEmail("alice@contoso.com")).Map(t)["id"].(string)
		if r := alice.Do("POST", "/parley/v1/me/requests/"+chat+"/accept", nil); r.Status >= 300 {
			t.Fatalf("alice accepts pat's request: got %d %s", r.Status, r.Body)
		}
		alice.Must(http.StatusNoContent, "POST", "/parley/v1/me/blockedUsers", map[string]any{"userId": pat.UserID})

		var list struct {
			Value []map[string]any `json:"value"`
		}
		alice.Must(http.StatusOK, "GET", "/parley/v1/me/blockedUsers", nil).JSON(t, &list)
		got := map[string]map[string]any{}
		for _, u := range list.Value {
			got[u["id"].(string)] = u
		}
		if _, ok := got[eve.UserID]; ok || len(got) != 2 {
			t.Errorf("blocked list = %v, want bob and pat only", list.Value)
		}
		for _, who := range []*parleytest.Client{bob, pat} {
			want := alice.Must(http.StatusOK, "GET", "/v1.0/users/"+who.UserID, nil).Map(t)
			if d := cmp.Diff(want, got[who.UserID]); d != "" {
				t.Errorf("blocked list entry differs from GET /v1.0/users/%s (-get +list):\n%s", who.UserID, d)
			}
		}

		// Unblocking answers alike for unknown ids and ids never blocked.
		a := alice.Do("DELETE", "/parley/v1/me/blockedUsers/"+eve.UserID, nil)
		b := alice.Do("DELETE", "/parley/v1/me/blockedUsers/"+nobody, nil)
		if a.Status != b.Status || strings.ReplaceAll(a.Body2(), eve.UserID, "<id>") != strings.ReplaceAll(b.Body2(), nobody, "<id>") {
			t.Errorf("unblock an id alice may not see: %d %s; an unknown id: %d %s; want the same answer", a.Status, a.Body, b.Status, b.Body)
		}
		alice.Must(http.StatusNoContent, "DELETE", "/parley/v1/me/blockedUsers/"+pat.UserID, nil)
	})
}

// mustBlockFromList has blocker block target from the blocked-people list
// (a silent block, docs/rules.md §4). One blocks by id only whom one may see, so the
// two meet first, without a 1:1 chat of their own (which a later 1:1 would
// find again): target starts a group chat with blocker's address, and
// blocker accepts it.
func mustBlockFromList(t *testing.T, blocker *parleytest.Client, blockerAddr string, target *parleytest.Client) {
	t.Helper()
	r := target.Must(http.StatusCreated, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Where we met",
		"members": []any{parleytest.Bind(target.UserID, true), parleytest.ByEmail(blockerAddr)}})
	chat := r.Map(t)["id"].(string)
	if r := blocker.Do("POST", "/parley/v1/me/requests/"+chat+"/accept", nil); r.Status >= 300 {
		t.Fatalf("%s accepts the group chat: got %d %s", blockerAddr, r.Status, r.Body)
	}
	blocker.Must(http.StatusNoContent, "POST", "/parley/v1/me/blockedUsers", map[string]any{"userId": target.UserID})
}
