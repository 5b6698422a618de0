package server_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestApps_ExtensionsInChannels: docs/rules.md §9 "run a message
// extension" in a team's channel: a member and a guest of the team run the
// search command of an app installed in the team (the invoke carries
// channelData.team and .channel); nobody outside the team (404, as for any
// team they are not in), not an app the team lacks (404), not a blocked
// app (403).
func TestApps_ExtensionsInChannels(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := startPolls(t, store)
		s, contoso, fb, appID := w.s, w.contoso, w.fb, w.appID
		admin := contoso.Admin
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		gina := s.User(contoso, "gina@outside.example", true)

		tm, general := teamWithGuest(t, alice, gina)
		path := "/parley/v1/teams/" + tm + "/channels/" + url.PathEscape(general) + "/apps/" + appID + "/composeExtensionQuery"
		q := map[string]any{"commandId": "searchPolls", "parameters": []any{map[string]any{"name": "query", "value": "lunch"}}}

		wantError(t, alice.Do("POST", path, q), 404, "notFound", "not installed")
		alice.Must(201, "POST", "/v1.0/teams/"+tm+"/installedApps", bindApp(appID))
		for _, c := range []*parleytest.Client{alice, gina} {
			if r := c.Must(200, "POST", path, q); !strings.Contains(r.Body2(), "Poll 1") {
				t.Errorf("channel search answer: %s", r.Body)
			}
		}
		got := fb.wait(func(a map[string]any) bool {
			return a["name"] == "composeExtension/query" && field(a, "from", "aadObjectId") == gina.UserID
		})
		if field(got, "conversation", "id") != general || field(got, "conversation", "conversationType") != "channel" ||
			field(got, "channelData", "team", "aadGroupId") != tm || field(got, "channelData", "channel", "id") != general ||
			field(got, "value", "commandId") != "searchPolls" || field(got, "from", "userRole") != "guest" {
			t.Errorf("channel composeExtension/query: %s", mustString(got))
		}
		wantError(t, bob.Do("POST", path, q), 404, "notFound")
		wantError(t, alice.Do("POST", strings.Replace(path, appID, "nope", 1), q), 404, "notFound")
		wantError(t, alice.Do("POST", path, map[string]any{"parameters": []any{}}), 400, "badRequest")
		admin.Must(200, "PATCH", "/parley/v1/admin/teamsApps/"+appID, map[string]any{"isBlocked": true})
		wantError(t, gina.Do("POST", path, q), 403, "forbiddenByPolicy", "blocked")
		w.checkSigned(t)
	})
}

// TestApps_ExtensionActions: a message extension's action command in a
// chat and in a channel (docs/rules.md §9): the catalog and the installs
// tell the command's type; fetchTask returns the bot's task module,
// submitAction sends what was filled in as value.data and returns the
// bot's result; a search command cannot be run as an action (400), nor an
// unknown phase; a person outside the chat or team gets 404 and a blocked
// app 403.
func TestApps_ExtensionActions(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := startPolls(t, store)
		s, contoso, fb, appID := w.s, w.contoso, w.fb, w.appID
		admin := contoso.Admin
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		carol := s.User(contoso, "carol", false)

		chatID := alice.OneOnOne(bob.UserID)
		alice.Must(201, "POST", "/v1.0/chats/"+chatID+"/installedApps", bindApp(appID))
		var list struct {
			Value []struct {
				TeamsApp struct {
					Commands []struct{ ID, Title, Type string } `json:"composeExtensionCommands"`
				}
			}
		}
		bob.Must(200, "GET", "/v1.0/chats/"+chatID+"/installedApps", nil).JSON(t, &list)
		if len(list.Value) != 1 || mustString(list.Value[0].TeamsApp.Commands) != `[{"ID":"searchPolls","Title":"Search polls","Type":"query"},{"ID":"createPoll","Title":"Create a poll","Type":"action"}]` {
			t.Errorf("installed app commands: %s", mustString(list))
		}

		tm, general := teamWithGuest(t, alice, nil)
		alice.Must(201, "POST", "/v1.0/teams/"+tm+"/installedApps", bindApp(appID))
		paths := map[string]string{
			"chat":    "/parley/v1/chats/" + chatID + "/apps/" + appID + "/composeExtensionAction",
			"channel": "/parley/v1/teams/" + tm + "/channels/" + url.PathEscape(general) + "/apps/" + appID + "/composeExtensionAction",
		}
		for where, path := range paths {
			r := bob.Do("POST", path, map[string]any{"commandId": "createPoll", "phase": "fetchTask"})
			if where == "channel" {
				wantError(t, r, 404, "notFound") // bob is not in the team
				r = alice.Do("POST", path, map[string]any{"commandId": "createPoll", "phase": "fetchTask"})
			}
			if r.Status != 200 || field(r.Map(t), "task", "type") != "continue" || field(r.Map(t), "task", "value", "title") != "New poll" {
				t.Errorf("%s fetchTask: %d %s", where, r.Status, r.Body)
			}
			caller := bob
			if where == "channel" {
				caller = alice
			}
			res := caller.Must(200, "POST", path, map[string]any{"commandId": "createPoll", "phase": "submitAction", "data": map[string]any{"question": "Pizza in the " + where + "?"}}).Map(t)
			if !strings.Contains(mustString(res), "Pizza in the "+where+"?") || field(res, "composeExtension", "type") != "result" {
				t.Errorf("%s submitAction: %s", where, mustString(res))
			}
			fetch := fb.wait(func(a map[string]any) bool {
				return a["name"] == "composeExtension/fetchTask" && (field(a, "conversation", "conversationType") == "channel") == (where == "channel")
			})
			if field(fetch, "value", "commandId") != "createPoll" || field(fetch, "value", "commandContext") != "compose" {
				t.Errorf("%s fetchTask invoke: %s", where, mustString(fetch))
			}
			submit := fb.wait(func(a map[string]any) bool {
				return a["name"] == "composeExtension/submitAction" && field(a, "value", "data", "question") == "Pizza in the "+where+"?"
			})
			if where == "channel" && (field(submit, "channelData", "channel", "id") != general || field(submit, "conversation", "conversationType") != "channel") {
				t.Errorf("channel submitAction invoke: %s", mustString(submit))
			}
			wantError(t, caller.Do("POST", path, map[string]any{"commandId": "searchPolls", "phase": "fetchTask"}), 400, "badRequest", "action command")
			wantError(t, caller.Do("POST", path, map[string]any{"commandId": "createPoll", "phase": "later"}), 400, "badRequest", "phase")
			wantError(t, carol.Do("POST", path, map[string]any{"commandId": "createPoll", "phase": "fetchTask"}), 404, "notFound")
		}
		admin.Must(200, "PATCH", "/parley/v1/admin/teamsApps/"+appID, map[string]any{"isBlocked": true})
		wantError(t, bob.Do("POST", paths["chat"], map[string]any{"commandId": "createPoll", "phase": "fetchTask"}), 403, "forbiddenByPolicy")
		wantError(t, alice.Do("POST", paths["channel"], map[string]any{"commandId": "createPoll", "phase": "submitAction", "data": map[string]any{}}), 403, "forbiddenByPolicy")
	})
}
