package server_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestApps_OpenBotChat: docs/rules.md §9, a person opens a bot's 1:1 chat
// (POST /parley/v1/me/apps/{appId}/chat): the first call installs the app
// in their personal scope, creates the chat (201) and tells the bot
// (conversationUpdate, personal); the next answers 200 with the same chat,
// which is also the one the bot's proactive POST /v3/conversations
// reaches. A guest may (personal scope); someone whose permission policy
// blocks the app, or a tenant-wide block, is 403; an app of another
// organisation's catalog is 404. Twelve calls released together by one
// person create one chat (one 201, eleven 200) and one conversationUpdate.
func TestApps_OpenBotChat(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := startPolls(t, store)
		s, contoso, fb, botID, secret, appID := w.s, w.contoso, w.fb, w.botID, w.secret, w.appID
		admin := contoso.Admin
		alice, bob, carol, gina, _, frank := appsCast(s, contoso)
		open := "/parley/v1/me/apps/" + appID + "/chat"

		first := alice.Must(201, "POST", open, nil).Map(t)["chatId"].(string)
		if again := alice.Must(200, "POST", open, nil).Map(t)["chatId"]; again != first {
			t.Errorf("the second open answers chat %v, want %s", again, first)
		}
		up := fb.wait(func(a map[string]any) bool {
			return a["type"] == "conversationUpdate" && field(a, "conversation", "id") == first
		})
		if field(up, "conversation", "conversationType") != "personal" || !strings.Contains(mustString(up["membersAdded"]), "28:"+botID) ||
			field(up, "from", "aadObjectId") != alice.UserID {
			t.Errorf("conversationUpdate of the personal chat: %s", mustString(up))
		}
		var mine struct {
			Value []struct{ TeamsApp struct{ ID string } }
		}
		alice.Must(200, "GET", "/v1.0/users/"+alice.UserID+"/teamwork/installedApps", nil).JSON(t, &mine)
		if !strings.Contains(mustString(mine), appID) {
			t.Errorf("alice's personal apps %s lack the app", mustString(mine))
		}
		bc := botClient(t, s, botID, secret)
		pro := bc.Must(201, "POST", "/v3/conversations", map[string]any{"isGroup": false, "members": []any{map[string]any{"id": "29:" + alice.UserID}},
			"activity": textActivity("hello from the bot")}).Map(t)
		if pro["id"] != first {
			t.Errorf("the bot's proactive conversation %v, want the chat alice opened %s", pro["id"], first)
		}

		gina.Must(201, "POST", open, nil)
		admin.Must(201, "POST", "/parley/v1/admin/appPermissionPolicies", map[string]any{"name": "NoPolls", "mode": "blockListed", "appIds": []string{appID}})
		admin.Must(204, "POST", "/parley/v1/admin/appPermissionPolicies/NoPolls/grant", map[string]any{"userIds": []string{carol.UserID}})
		wantError(t, carol.Do("POST", open, nil), 403, "forbiddenByPolicy", "permission policy")
		wantError(t, frank.Do("POST", open, nil), 404, "notFound")
		wantError(t, alice.Do("POST", "/parley/v1/me/apps/nope/chat", nil), 404, "notFound")

		// Twelve opens by bob at once: one chat, one conversationUpdate.
		reqs := make([]parleytest.Req, 12)
		for i := range reqs {
			reqs[i] = parleytest.Req{Method: "POST", URL: s.URL() + open, Token: bob.Token}
		}
		created, found, ids := 0, 0, map[string]bool{}
		for _, r := range parleytest.Burst(t, reqs) {
			switch r.Status {
			case 201:
				created++
			case 200:
				found++
			default:
				t.Fatalf("concurrent open: %d %s", r.Status, r.Body)
			}
			var out struct{ ChatID string }
			if err := json.Unmarshal([]byte(r.Body), &out); err != nil || out.ChatID == "" {
				t.Fatalf("concurrent open answered %s", r.Body)
			}
			ids[out.ChatID] = true
		}
		if created != 1 || found != 11 || len(ids) != 1 {
			t.Fatalf("12 concurrent opens: %d created, %d found, chats %v; want 1, 11 and one chat", created, found, ids)
		}
		var bobChat string
		for id := range ids {
			bobChat = id
		}
		// The bot's queue keeps order: once bob's later message reached
		// it, every conversationUpdate queued before it had too.
		bob.Must(201, "POST", "/v1.0/chats/"+bobChat+"/messages", map[string]any{"body": map[string]any{"content": "after the burst"}})
		fb.wait(func(a map[string]any) bool {
			return a["type"] == "message" && strings.Contains(mustString(a["text"]), "after the burst")
		})
		fb.mu.Lock()
		ups := 0
		for _, a := range fb.acts {
			if a["type"] == "conversationUpdate" && field(a, "conversation", "id") == bobChat {
				ups++
			}
		}
		fb.mu.Unlock()
		if ups != 1 {
			t.Errorf("bob's chat: %d conversationUpdates, want 1", ups)
		}

		admin.Must(200, "PATCH", "/parley/v1/admin/teamsApps/"+appID, map[string]any{"isBlocked": true})
		wantError(t, alice.Do("POST", open, nil), 403, "forbiddenByPolicy", "blocked")
		w.checkSigned(t)
	})
}

// TestApps_BotChatNamesItsApp: a bot's 1:1 chat carries its app
// (`app` {id, displayName}) in GET /v1.0/chats/{id}, GET /v1.0/me/chats and
// the chatCreated event, whether the person opened it or the bot did
// (proactive POST /v3/conversations); the name follows the catalog (an
// upgrade that renames the app renames the chat); a chat between people
// has no app.
func TestApps_BotChatNamesItsApp(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := startPolls(t, store)
		s, contoso, botID, secret, appID := w.s, w.contoso, w.botID, w.secret, w.appID
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		wantApp := func(what string, c map[string]any, name string) {
			t.Helper()
			a, _ := c["app"].(map[string]any)
			if a == nil || a["id"] != appID || a["displayName"] != name {
				t.Errorf("%s: app %v, want {id %s, displayName %s}", what, c["app"], appID, name)
			}
		}
		aliceEvents := alice.Events(-1)
		first := alice.Must(201, "POST", "/parley/v1/me/apps/"+appID+"/chat", nil).Map(t)["chatId"].(string)
		wantApp("GET the chat alice opened", alice.Must(200, "GET", "/v1.0/chats/"+first, nil).Map(t), "Polls")
		evs := aliceEvents.WaitFor("chatCreated", 10*time.Second, func(evs []parleytest.Event) bool {
			return slices.ContainsFunc(evs, func(e parleytest.Event) bool { return e.Type == "chatCreated" && e.ChatID == first })
		})
		for _, e := range evs {
			if e.Type == "chatCreated" && e.ChatID == first {
				c, _ := e.Raw["chat"].(map[string]any)
				wantApp("alice's chatCreated", c, "Polls")
			}
		}

		// The bot opens bob's chat (Polls installed for him).
		alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.Bind(bob.UserID, true)}})
		bob.Must(201, "POST", "/v1.0/users/"+bob.UserID+"/teamwork/installedApps", bindApp(appID))
		bobEvents := bob.Events(-1)
		bc := botClient(t, s, botID, secret)
		pro := bc.Must(201, "POST", "/v3/conversations", map[string]any{"isGroup": false, "members": []any{map[string]any{"id": "29:" + bob.UserID}},
			"activity": textActivity("hello bob")}).Map(t)["id"].(string)
		bobEvents.WaitFor("chatCreated", 10*time.Second, func(evs []parleytest.Event) bool {
			for _, e := range evs {
				if e.Type == "chatCreated" && e.ChatID == pro {
					c, _ := e.Raw["chat"].(map[string]any)
					wantApp("bob's chatCreated", c, "Polls")
					return true
				}
			}
			return false
		})

		// The catalog renames it: so do the answers.
		admin := contoso.Admin
		renamed := appPackage(t, appManifest(pollsManifestID, botID, "1.1.0", func(m map[string]any) { m["name"] = map[string]any{"short": "Polls Pro"} }), nil)
		if r := admin.DoHeader("POST", "/v1.0/appCatalogs/teamsApps/"+appID+"/appDefinitions", renamed, zipHeader); r.Status/100 != 2 {
			t.Fatalf("upgrade the catalog app: %d %s", r.Status, r.Body)
		}
		var mine struct{ Value []map[string]any }
		bob.Must(200, "GET", "/v1.0/me/chats", nil).JSON(t, &mine)
		apps := 0
		for _, c := range mine.Value {
			if c["id"] == pro {
				wantApp("bob's bot chat in his list", c, "Polls Pro")
				apps++
			} else if _, ok := c["app"]; ok {
				t.Errorf("a chat between people carries an app: %v", c)
			}
		}
		if apps != 1 || len(mine.Value) != 2 {
			t.Errorf("bob's chats %v: want his chat with alice and the bot's", mine.Value)
		}
		wantApp("GET alice's bot chat after the rename", alice.Must(200, "GET", "/v1.0/chats/"+first, nil).Map(t), "Polls Pro")
	})
}

// TestApps_InstalledAppChat: Graph's GET /v1.0/users/{id}/teamwork/
// installedApps/{iid}/chat answers a person's chat with an app installed
// for them: the same chat POST /parley/v1/me/apps/{appId}/chat opens, with
// the app named, the bot told once. An admin who may read the person's
// installs is 403 (not a member of that chat); another person and an
// unknown installation are 404. Both stores.
func TestApps_InstalledAppChat(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := startPolls(t, store)
		s, contoso, fb, appID := w.s, w.contoso, w.fb, w.appID
		alice, bob, _, _, _, _ := appsCast(s, contoso)
		base := "/v1.0/users/" + alice.UserID + "/teamwork/installedApps"
		iid := alice.Must(201, "POST", base, bindApp(appID)).Map(t)["id"].(string)

		var got struct {
			ID       string
			ChatType string
			App      struct{ ID string }
		}
		alice.Must(200, "GET", base+"/"+iid+"/chat", nil).JSON(t, &got)
		if got.ID == "" || got.ChatType != "oneOnOne" || got.App.ID != appID {
			t.Fatalf("alice's chat with the app: %+v", got)
		}
		if again := alice.Must(200, "GET", base+"/"+iid+"/chat", nil).Map(t)["id"]; again != got.ID {
			t.Errorf("asked again: chat %v, want %s", again, got.ID)
		}
		if opened := alice.Must(200, "POST", "/parley/v1/me/apps/"+appID+"/chat", nil).Map(t)["chatId"]; opened != got.ID {
			t.Errorf("POST …/me/apps/{appId}/chat answers %v, want the Graph route's chat %s", opened, got.ID)
		}
		fb.wait(func(a map[string]any) bool {
			return a["type"] == "conversationUpdate" && field(a, "conversation", "id") == got.ID
		})

		wantError(t, contoso.Admin.Do("GET", base+"/"+iid+"/chat", nil), 403, "forbidden", "Only the person")
		wantError(t, bob.Do("GET", base+"/"+iid+"/chat", nil), 404, "notFound")
		wantError(t, alice.Do("GET", base+"/nope/chat", nil), 404, "notFound")
	})
}
