package server_test

import (
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestS5_MembersNameTheirOrganisation: members carry their organisation's
// name from the server (organizationName beside Graph's tenantId): people
// of other organisations and of one's own, none for a personal account,
// and none for a pending member shown only by the address typed (the rule
// of silence: nothing says whether an account has the address).
func TestS5_MembersNameTheirOrganisation(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		e := newExternal(t, store)
		members := func(c *parleytest.Client, chatID string) map[string]map[string]any {
			t.Helper()
			var out struct {
				Value []map[string]any `json:"value"`
			}
			c.Must(200, "GET", "/v1.0/chats/"+chatID+"/members", nil).JSON(t, &out)
			byName := map[string]map[string]any{}
			for _, m := range out.Value {
				byName[m["displayName"].(string)] = m
			}
			return byName
		}
		// An accepted chat with someone of another organisation and a personal account.
		g := e.alice.ChatWith(parleytest.ByEmail("erin@fabrikam.com")).Map(t)["id"].(string)
		e.alice.Send(g, "hi")
		e.erin.Must(204, "POST", "/parley/v1/me/requests/"+g+"/accept", nil)
		p := e.alice.ChatWith(parleytest.ByEmail("pat@gmail.com")).Map(t)["id"].(string)
		e.alice.Send(p, "hi")
		e.pat.Must(204, "POST", "/parley/v1/me/requests/"+p+"/accept", nil)

		ms := members(e.alice, g)
		for name, want := range map[string]any{"Erin": "Fabrikam", "Alice": "Contoso"} {
			m := ms[name]
			if m == nil || m["organizationName"] != want || m["tenantId"] == nil {
				t.Fatalf("%s: organizationName %v, tenantId %v; want %v", name, m["organizationName"], m["tenantId"], want)
			}
		}
		if m := members(e.erin, g)["Alice"]; m["organizationName"] != "Contoso" {
			t.Fatalf("seen from Fabrikam: %v", m)
		}
		if m := members(e.alice, p)["Pat"]; m == nil || m["organizationName"] != nil || m["tenantId"] != nil {
			t.Fatalf("personal account: %v", m)
		}
		// Pending, known only by the typed address: no organisation, whether
		// or not an account has it.
		for _, addr := range []string{"quinn@outlook.com", "nobody@fabrikam.com"} {
			id := e.bob.ChatWith(parleytest.ByEmail(addr)).Map(t)["id"].(string)
			m := members(e.bob, id)[addr]
			if m == nil || m["organizationName"] != nil || m["tenantId"] != nil {
				t.Fatalf("pending %s: %v", addr, m)
			}
		}
		// Adding a member answers with the name too.
		grp := e.alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Ext",
			"members": []any{parleytest.Bind(e.alice.UserID, true), parleytest.Bind(e.erin.UserID, false)}}).Map(t)["id"].(string)
		added := e.alice.Must(201, "POST", "/v1.0/chats/"+grp+"/members", parleytest.Bind(e.bob.UserID, false)).Map(t)
		if added["organizationName"] != "Contoso" {
			t.Fatalf("added member: %v", added)
		}
	})
}
