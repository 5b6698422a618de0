package server_test

import (
	"encoding/json"
	"strings"
	"testing"

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
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		carol := s.User(contoso, "carol", false)
		gina := s.User(contoso, "gina@outside.example", true)
		fabrikam := s.CreateTenant("Fabrikam", "fabrikam.com")
		frank := s.User(fabrikam, "frank", false)
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
