package server_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestApps_ExtensionsInBotChat: docs/rules.md §9 "run a message extension"
// in a bot's 1:1 chat, decided by app.May in the personal context with
// the person's personal installs: the person who opened it runs the search
// and the action command there (the invoke's conversation is the personal
// chat), a guest too; someone whose permission policy excludes the app,
// or a tenant-wide block, is 403 with the reason; someone not in the chat
// is 404, and so is a person of another organisation the bot opened a
// chat with (no personal scope in the bot's organisation). A personal app's
// extension also runs in the other conversations of the person's
// organisation (a group chat and a channel without the app), and its
// result posted there with viaAppId acts for those who have the app, 404
// for those who have not.
func TestApps_ExtensionsInBotChat(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := startPolls(t, store)
		s, contoso, fb, botID, secret, appID := w.s, w.contoso, w.fb, w.botID, w.secret, w.appID
		admin := contoso.Admin
		alice, bob, carol, gina, _, frank := appsCast(s, contoso)
		open := "/parley/v1/me/apps/" + appID + "/chat"
		q := map[string]any{"commandId": "searchPolls", "parameters": []any{map[string]any{"name": "query", "value": "lunch"}}}
		query := func(chatID string) string {
			return "/parley/v1/chats/" + url.PathEscape(chatID) + "/apps/" + appID + "/composeExtensionQuery"
		}
		action := func(chatID string) string {
			return "/parley/v1/chats/" + url.PathEscape(chatID) + "/apps/" + appID + "/composeExtensionAction"
		}

		mine := alice.Must(201, "POST", open, nil).Map(t)["chatId"].(string)
		if r := alice.Must(200, "POST", query(mine), q); !strings.Contains(r.Body2(), "Poll 1") {
			t.Errorf("search in the bot's chat: %s", r.Body)
		}
		got := fb.wait(func(a map[string]any) bool {
			return a["name"] == "composeExtension/query" && field(a, "conversation", "id") == mine
		})
		if field(got, "conversation", "conversationType") != "personal" || field(got, "from", "aadObjectId") != alice.UserID {
			t.Errorf("composeExtension/query in the bot's chat: %s", mustString(got))
		}
		if r := alice.Must(200, "POST", action(mine), map[string]any{"commandId": "createPoll", "phase": "fetchTask"}).Map(t); field(r, "task", "type") != "continue" {
			t.Errorf("fetchTask in the bot's chat: %s", mustString(r))
		}
		res := alice.Must(200, "POST", action(mine), map[string]any{"commandId": "createPoll", "phase": "submitAction", "data": map[string]any{"question": "Tea?"}}).Map(t)
		if !strings.Contains(mustString(res), "Tea?") {
			t.Errorf("submitAction in the bot's chat: %s", mustString(res))
		}
		wantError(t, bob.Do("POST", query(mine), q), 404, "notFound")

		ginas := gina.Must(201, "POST", open, nil).Map(t)["chatId"].(string)
		gina.Must(200, "POST", query(ginas), q)

		// Someone the bot opened a chat with, of another organisation: no
		// personal scope in Contoso, so no extension there.
		external := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.ByEmail("frank@fabrikam.com")}}).Map(t)["id"].(string)
		acceptRequest(t, frank, external)
		alice.Must(201, "POST", "/v1.0/chats/"+external+"/installedApps", bindApp(appID))
		franks := botClient(t, s, botID, secret).Must(201, "POST", "/v3/conversations", map[string]any{"isGroup": false,
			"members": []any{map[string]any{"id": "29:" + frank.UserID}}, "activity": textActivity("hello Frank")}).Map(t)["id"].(string)
		wantError(t, frank.Do("POST", query(franks), q), 404, "notFound", "not installed")

		// The personal app in alice's other conversations of Contoso.
		group := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Plans",
			"members": []any{parleytest.Bind(alice.UserID, true), parleytest.Bind(bob.UserID, false)}}).Map(t)["id"].(string)
		alice.Must(200, "POST", query(group), q)
		wantError(t, bob.Do("POST", query(group), q), 404, "notFound", "not installed")
		tm, general := teamWithGuest(t, alice, nil)
		alice.Must(200, "POST", "/parley/v1/teams/"+tm+"/channels/"+url.PathEscape(general)+"/apps/"+appID+"/composeExtensionQuery", q)
		card := `{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Tea?"}],"actions":[{"type":"Action.Submit","title":"Yes"}]}`
		posted := alice.Must(201, "POST", "/v1.0/chats/"+group+"/messages", map[string]any{"body": map[string]any{"contentType": "html", "content": ""},
			"attachments": []any{map[string]any{"id": "1", "contentType": "application/vnd.microsoft.card.adaptive", "content": card}}, "viaAppId": appID}).Map(t)
		act := "/parley/v1/chats/" + group + "/messages/" + posted["id"].(string) + "/cardActions"
		alice.Must(200, "POST", act, map[string]any{"type": "Action.Submit", "data": map[string]any{"yes": true}})
		wantError(t, bob.Do("POST", act, map[string]any{"type": "Action.Submit"}), 404, "notFound", "not installed")

		// Refused by policy: 403 with the reason.
		carols := carol.Must(201, "POST", open, nil).Map(t)["chatId"].(string)
		carol.Must(200, "POST", query(carols), q)
		admin.Must(201, "POST", "/parley/v1/admin/appPermissionPolicies", map[string]any{"name": "NoPolls", "mode": "blockListed", "appIds": []string{appID}})
		admin.Must(204, "POST", "/parley/v1/admin/appPermissionPolicies/NoPolls/grant", map[string]any{"userIds": []string{carol.UserID}})
		wantError(t, carol.Do("POST", query(carols), q), 403, "forbiddenByPolicy", "permission policy")
		wantError(t, carol.Do("POST", action(carols), map[string]any{"commandId": "createPoll", "phase": "fetchTask"}), 403, "forbiddenByPolicy", "permission policy")
		admin.Must(200, "PATCH", "/parley/v1/admin/teamsApps/"+appID, map[string]any{"isBlocked": true})
		wantError(t, alice.Do("POST", query(mine), q), 403, "forbiddenByPolicy", "blocked")
		wantError(t, gina.Do("POST", action(ginas), map[string]any{"commandId": "createPoll", "phase": "fetchTask"}), 403, "forbiddenByPolicy", "blocked")
		w.checkSigned(t)
	})
}
