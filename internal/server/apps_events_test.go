package server_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestApps_InstalledAppsChangedEvents: an app added, upgraded and removed
// in a chat, and added to and removed from a team, sends
// installedAppsChanged ({"chatId"|"teamId","appId","change"}) to the
// chat's members and to every member of the team, live and on replay;
// someone in neither gets none. Both stores.
func TestApps_InstalledAppsChangedEvents(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := startPolls(t, store)
		s, contoso, botID, appID := w.s, w.contoso, w.botID, w.appID
		admin := contoso.Admin
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		carol := s.User(contoso, "carol", false)
		gina := s.User(contoso, "gina@outside.example", true)

		chatID := alice.OneOnOne(bob.UserID)
		tm, general := teamWithGuest(t, alice, gina)
		live := alice.Events(-1)

		var in struct{ ID string }
		alice.Must(201, "POST", "/v1.0/chats/"+chatID+"/installedApps", bindApp(appID)).JSON(t, &in)
		if r := admin.DoHeader("POST", "/v1.0/appCatalogs/teamsApps/"+appID+"/appDefinitions", appPackage(t, appManifest(pollsManifestID, botID, "1.1.0", nil), nil), zipHeader); r.Status != 201 {
			t.Fatalf("update the app: %d %s", r.Status, r.Body)
		}
		alice.Must(204, "POST", "/v1.0/chats/"+chatID+"/installedApps/"+in.ID+"/upgrade", nil)
		alice.Must(204, "DELETE", "/v1.0/chats/"+chatID+"/installedApps/"+in.ID, nil)
		var tin struct{ ID string }
		alice.Must(201, "POST", "/v1.0/teams/"+tm+"/installedApps", bindApp(appID)).JSON(t, &tin)
		alice.Must(204, "DELETE", "/v1.0/teams/"+tm+"/installedApps/"+tin.ID, nil)

		changes := func(evs []parleytest.Event) []string {
			var out []string
			for _, e := range evs {
				if e.Type != "installedAppsChanged" {
					continue
				}
				if e.Raw["appId"] != appID {
					t.Errorf("installedAppsChanged for app %v, want %s", e.Raw["appId"], appID)
				}
				if id, ok := e.Raw["chatId"].(string); ok && id == chatID {
					out = append(out, "chat:"+mustString(e.Raw["change"]))
				} else if id, ok := e.Raw["teamId"].(string); ok && id == tm {
					out = append(out, "team:"+mustString(e.Raw["change"]))
				} else {
					t.Errorf("installedAppsChanged names neither the chat nor the team: %v", e.Raw)
				}
			}
			return out
		}
		want := `["chat:\"added\"","chat:\"updated\"","chat:\"removed\"","team:\"added\"","team:\"removed\""]`
		if got := mustString(changes(live.WaitCount("installedAppsChanged", 5, 10*time.Second))); got != want {
			t.Errorf("alice's live events: %s, want %s", got, want)
		}

		// After a later event each of them gets, the replay holds all of
		// theirs: bob the chat's, gina the team's, carol none.
		alice.Must(201, "POST", "/v1.0/chats/"+chatID+"/messages", map[string]any{"body": map[string]any{"content": "to bob"}})
		alice.Must(201, "POST", "/v1.0/teams/"+tm+"/channels/"+url.PathEscape(general)+"/messages", map[string]any{"body": map[string]any{"content": "to the team"}})
		carolChat := alice.OneOnOne(carol.UserID)
		alice.Must(201, "POST", "/v1.0/chats/"+carolChat+"/messages", map[string]any{"body": map[string]any{"content": "to carol"}})
		for _, c := range []struct {
			who  *parleytest.Client
			want string
		}{
			{bob, `["chat:\"added\"","chat:\"updated\"","chat:\"removed\""]`},
			{gina, `["team:\"added\"","team:\"removed\""]`},
			{carol, `null`},
		} {
			evs := c.who.Events(0).WaitCount("messageCreated", 1, 10*time.Second)
			if got := mustString(changes(evs)); got != c.want {
				t.Errorf("%s's replayed installedAppsChanged: %s, want %s", c.who.UserID, got, c.want)
			}
		}
	})
}
