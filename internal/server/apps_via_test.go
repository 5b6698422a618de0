package server_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestApps_ViaAppCards: docs/rules.md §9, a card a person posts from a
// message extension's result (viaAppId) is tied to the app: the message
// shows viaApp {id,displayName}; its Action.Submit and Action.Execute reach
// the app's bot (Execute answers the bot's card; the person's message
// stays as posted), in a chat and in a channel, while the app is installed
// there (404 once removed) and not blocked (403). A viaAppId of an app not
// installed in the conversation is 400 and nothing is stored; a person's
// card without one has no bot to act on (400). Both stores.
func TestApps_ViaAppCards(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := startPolls(t, store)
		s, contoso, fb, appID := w.s, w.contoso, w.fb, w.appID
		admin := contoso.Admin
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		carol := s.User(contoso, "carol", false)
		gina := s.User(contoso, "gina@outside.example", true)

		card := `{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Lunch?"}],"actions":[{"type":"Action.Submit","title":"Yes","data":{"yes":true}}]}`
		msg := func(via string) map[string]any {
			m := map[string]any{"body": map[string]any{"contentType": "html", "content": ""},
				"attachments": []any{map[string]any{"id": "1", "contentType": "application/vnd.microsoft.card.adaptive", "content": card}}}
			if via != "" {
				m["viaAppId"] = via
			}
			return m
		}
		chatID := alice.OneOnOne(bob.UserID)
		msgs := "/v1.0/chats/" + chatID + "/messages"
		wantError(t, alice.Do("POST", msgs, msg(appID)), 400, "badRequest", "viaAppId")
		wantError(t, alice.Do("POST", msgs, msg("nope")), 400, "badRequest", "viaAppId")
		var list struct{ Value []any }
		alice.Must(200, "GET", msgs, nil).JSON(t, &list)
		if len(list.Value) != 0 {
			t.Fatalf("a refused viaAppId stored %d messages", len(list.Value))
		}
		var in struct{ ID string }
		alice.Must(201, "POST", "/v1.0/chats/"+chatID+"/installedApps", bindApp(appID)).JSON(t, &in)
		posted := alice.Must(201, "POST", msgs, msg(appID)).Map(t)
		mid := posted["id"].(string)
		if field(posted, "viaApp", "id") != appID || field(posted, "viaApp", "displayName") != "Polls" || field(posted, "from", "user", "id") != alice.UserID {
			t.Errorf("posted message: %s", mustString(posted))
		}
		if got := bob.Must(200, "GET", msgs+"/"+mid, nil).Map(t); field(got, "viaApp", "id") != appID {
			t.Errorf("the message as bob reads it: %s", mustString(got))
		}
		plain := alice.Must(201, "POST", msgs, msg("")).Map(t)["id"].(string)

		act := "/parley/v1/chats/" + chatID + "/messages/" + mid + "/cardActions"
		bob.Must(200, "POST", act, map[string]any{"type": "Action.Submit", "data": map[string]any{"yes": true}})
		got := fb.wait(func(a map[string]any) bool {
			return a["type"] == "message" && a["value"] != nil && field(a, "from", "aadObjectId") == bob.UserID
		})
		if got["replyToId"] != mid || field(got, "conversation", "id") != chatID || field(got, "value", "yes") != true {
			t.Errorf("Action.Submit on a card posted via the app: %s", mustString(got))
		}
		res := bob.Must(200, "POST", act, map[string]any{"type": "Action.Execute", "verb": "vote", "data": map[string]any{"yes": true}})
		if !strings.Contains(res.Body2(), "Thanks") {
			t.Errorf("Action.Execute answer: %s", res.Body)
		}
		if m := alice.Must(200, "GET", msgs+"/"+mid, nil).Map(t); !strings.Contains(mustString(m["attachments"]), "Lunch?") {
			t.Errorf("the person's message changed: %s", mustString(m))
		}
		wantError(t, bob.Do("POST", "/parley/v1/chats/"+chatID+"/messages/"+plain+"/cardActions", map[string]any{"type": "Action.Submit"}), 400, "badRequest")
		admin.Must(200, "PATCH", "/parley/v1/admin/teamsApps/"+appID, map[string]any{"isBlocked": true})
		wantError(t, bob.Do("POST", act, map[string]any{"type": "Action.Submit"}), 403, "forbiddenByPolicy")
		admin.Must(200, "PATCH", "/parley/v1/admin/teamsApps/"+appID, map[string]any{"isBlocked": false})
		alice.Must(204, "DELETE", "/v1.0/chats/"+chatID+"/installedApps/"+in.ID, nil)
		wantError(t, bob.Do("POST", act, map[string]any{"type": "Action.Submit"}), 404, "notFound", "not installed")

		// In a channel.
		tm, general := teamWithGuest(t, alice, gina)
		chanMsgs := "/v1.0/teams/" + tm + "/channels/" + url.PathEscape(general) + "/messages"
		wantError(t, alice.Do("POST", chanMsgs, msg(appID)), 400, "badRequest", "viaAppId")
		alice.Must(201, "POST", "/v1.0/teams/"+tm+"/installedApps", bindApp(appID))
		cm := alice.Must(201, "POST", chanMsgs, msg(appID)).Map(t)
		if field(cm, "viaApp", "id") != appID {
			t.Errorf("channel message via the app: %s", mustString(cm))
		}
		cact := "/parley/v1/teams/" + tm + "/channels/" + url.PathEscape(general) + "/messages/" + cm["id"].(string) + "/cardActions"
		gina.Must(200, "POST", cact, map[string]any{"type": "Action.Submit", "data": map[string]any{"yes": "guest"}})
		got = fb.wait(func(a map[string]any) bool {
			return a["value"] != nil && field(a, "from", "aadObjectId") == gina.UserID
		})
		if field(got, "conversation", "conversationType") != "channel" || field(got, "channelData", "team", "aadGroupId") != tm || got["replyToId"] != cm["id"] {
			t.Errorf("channel Action.Submit via the app: %s", mustString(got))
		}
		wantError(t, carol.Do("POST", cact, map[string]any{"type": "Action.Submit"}), 404, "notFound")
		w.checkSigned(t)
	})
}
