package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// botClient returns a Connector API client with the bot's own token from
// the client-credentials endpoint.
func botClient(tb testing.TB, s *parleytest.Server, botID, secret string) *parleytest.Client {
	tb.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {botID}, "client_secret": {secret}, "scope": {s.URL() + "/parley/v1/bots/.default"}}
	resp, err := http.PostForm(s.URL()+"/parley/v1/bots/token", form)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 {
		tb.Fatalf("bot token: %d %v", resp.StatusCode, err)
	}
	c := s.Anonymous()
	c.Token = tok.AccessToken
	return c
}

// conv is a conversation's Connector path.
func conv(id string) string { return "/v3/conversations/" + url.PathEscape(id) }

func textActivity(text string) map[string]any {
	return map[string]any{"type": "message", "text": text}
}

var pollCard = map[string]any{"type": "message", "attachments": []any{map[string]any{"contentType": "application/vnd.microsoft.card.adaptive",
	"content": map[string]any{"type": "AdaptiveCard", "version": "1.5", "body": []any{map[string]any{"type": "TextBlock", "text": "Lunch?"}},
		"actions": []any{map[string]any{"type": "Action.Submit", "title": "Yes", "data": map[string]any{"yes": true}}}}}}}

func field(a map[string]any, path ...string) any {
	var v any = a
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// TestBots_Channels: docs/rules.md §9 in a team's channels, through HTTP
// with a bot endpoint that checks Parley's signature. Installing the bot in
// a team tells it (conversationUpdate in General, with the team and the
// channel); it gets the channel messages that @mention it and no others,
// from host users and guests, but not from a host user whose own permission
// policy blocks it; it posts to the channel, replies in a thread, starts a
// thread with POST /v3/conversations, edits and deletes only its own
// messages, and reaches no channel of a team it is not in; people act on
// its card in a channel (not from outside the team) and react to it; it lists the team's
// people and may message them proactively, a person added to the team
// too (after conversationUpdate tells it) until removed, nobody else; a tenant-wide block
// stops its writes, and removing it from the team tells it and ends them.
func TestBots_Channels(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		admin := contoso.Admin
		alice, bob, carol, gina, _, frank := appsCast(s, contoso)

		fb := &fakeBot{t: t, base: s.URL()}
		srv := httptest.NewServer(fb)
		defer srv.Close()
		botID, secret := registerBot(t, admin, "Polls", srv.URL+"/api/messages")
		fb.botID = botID
		appID := uploadApp(t, admin, pollsManifestID, botID)

		tm := alice.Must(201, "POST", "/v1.0/teams", map[string]any{"displayName": "Plans"}).Map(t)["id"].(string)
		guest := parleytest.Bind(gina.UserID, false)
		guest["roles"] = []string{"guest"}
		alice.Must(201, "POST", "/v1.0/teams/"+tm+"/members", guest)
		alice.Must(201, "POST", "/v1.0/teams/"+tm+"/members", parleytest.Bind(carol.UserID, false))
		general := alice.Must(200, "GET", "/v1.0/teams/"+tm+"/primaryChannel", nil).Map(t)["id"].(string)
		other := bob.Must(201, "POST", "/v1.0/teams", map[string]any{"displayName": "Elsewhere"}).Map(t)["id"].(string)
		otherGeneral := bob.Must(200, "GET", "/v1.0/teams/"+other+"/primaryChannel", nil).Map(t)["id"].(string)
		chanMsgs := "/v1.0/teams/" + tm + "/channels/" + url.PathEscape(general) + "/messages"

		// Carol's own permission policy blocks the app.
		admin.Must(201, "POST", "/parley/v1/admin/appPermissionPolicies", map[string]any{"name": "NoPolls", "mode": "blockListed", "appIds": []string{appID}})
		admin.Must(204, "POST", "/parley/v1/admin/appPermissionPolicies/NoPolls/grant", map[string]any{"userIds": []string{carol.UserID}})

		var inst struct{ ID string }
		alice.Must(201, "POST", "/v1.0/teams/"+tm+"/installedApps", bindApp(appID)).JSON(t, &inst)
		up := fb.wait(func(a map[string]any) bool { return a["type"] == "conversationUpdate" })
		if field(up, "conversation", "id") != general || field(up, "conversation", "conversationType") != "channel" ||
			field(up, "channelData", "team", "aadGroupId") != tm || field(up, "channelData", "team", "id") != general ||
			field(up, "channelData", "eventType") != "teamMemberAdded" || field(up, "channelData", "tenant", "id") != contoso.ID ||
			!strings.Contains(mustString(up["membersAdded"]), "28:"+botID) {
			t.Errorf("install conversationUpdate: %s", mustString(up))
		}

		post := func(c *parleytest.Client, path, html string) string {
			return c.Must(201, "POST", path, map[string]any{"body": map[string]any{"contentType": "html", "content": html}}).Map(t)["id"].(string)
		}
		post(alice, chanMsgs, "nobody is mentioned here")
		post(carol, chanMsgs, `<at id="0">Polls</at> from carol`)
		root := post(alice, chanMsgs, `<at id="0">Polls</at> hello`)
		got := fb.wait(func(a map[string]any) bool {
			return a["type"] == "message" && strings.Contains(mustString(a["text"]), "hello")
		})
		if field(got, "conversation", "id") != general+";messageid="+root || field(got, "conversation", "conversationType") != "channel" ||
			field(got, "channelData", "channel", "id") != general || field(got, "channelData", "team", "aadGroupId") != tm ||
			got["text"] != "<at>Polls</at> hello" || !strings.Contains(mustString(got["entities"]), "28:"+botID) {
			t.Errorf("channel message activity: %s", mustString(got))
		}
		post(gina, chanMsgs+"/"+root+"/replies", `<at id="0">Polls</at> a guest replies`)
		got = fb.wait(func(a map[string]any) bool { return strings.Contains(mustString(a["text"]), "a guest replies") })
		if field(got, "conversation", "id") != general+";messageid="+root || field(got, "from", "userRole") != "guest" {
			t.Errorf("reply activity: %s", mustString(got))
		}
		fb.mu.Lock()
		for _, a := range fb.acts {
			if txt := mustString(a["text"]); strings.Contains(txt, "nobody is mentioned") || strings.Contains(txt, "from carol") {
				t.Errorf("the bot got %s: not mentioned, or the sender's policy blocks it", txt)
			}
		}
		fb.mu.Unlock()

		// The bot writes to the channel, a thread, a new thread.
		bc := botClient(t, s, botID, secret)
		top := bc.Must(201, "POST", conv(general)+"/activities", textActivity("a new post")).Map(t)["id"].(string)
		reply := bc.Must(201, "POST", conv(general+";messageid="+root)+"/activities/"+root, textActivity("a reply")).Map(t)["id"].(string)
		var replies struct {
			Value []struct {
				ID   string
				From struct{ Application *struct{ ID string } }
			}
		}
		alice.Must(200, "GET", chanMsgs+"/"+root+"/replies", nil).JSON(t, &replies)
		if !strings.Contains(mustString(replies), reply) || !strings.Contains(mustString(replies), botID) {
			t.Errorf("the thread's replies %s lack the bot's reply %s", mustString(replies), reply)
		}
		thread := bc.Must(201, "POST", "/v3/conversations", map[string]any{"isGroup": true, "channelData": map[string]any{"channel": map[string]any{"id": general}},
			"activity": textActivity("a thread of my own")}).Map(t)
		if !strings.HasPrefix(thread["id"].(string), general+";messageid=") || thread["activityId"] == nil {
			t.Errorf("a new channel conversation: %v", thread)
		}
		wantError(t, bc.Do("POST", conv(general+";messageid=999999")+"/activities", textActivity("x")), 404, "notFound")
		wantError(t, bc.Do("POST", conv(general+";messageid=x")+"/activities", textActivity("x")), 404, "notFound")
		wantError(t, bc.Do("POST", conv(otherGeneral)+"/activities", textActivity("x")), 404, "notFound")
		wantError(t, bc.Do("GET", conv(otherGeneral)+"/members", nil), 404, "notFound")
		bc.Must(200, "PUT", conv(general)+"/activities/"+top, textActivity("an edited post"))
		if m := alice.Must(200, "GET", chanMsgs+"/"+top, nil).Map(t); !strings.Contains(mustString(m["body"]), "an edited post") {
			t.Errorf("the bot's edit: %v", m["body"])
		}
		wantError(t, bc.Do("PUT", conv(general)+"/activities/"+root, textActivity("not mine")), 404, "notFound")
		wantError(t, bc.Do("DELETE", conv(general)+"/activities/"+root, nil), 404, "notFound")
		bc.Must(200, "DELETE", conv(general)+"/activities/"+top, nil)

		// Cards in a channel: the team's people act on them; nobody else.
		cardID := bc.Must(201, "POST", conv(general)+"/activities", pollCard).Map(t)["id"].(string)
		act := "/parley/v1/teams/" + tm + "/channels/" + url.PathEscape(general) + "/messages/" + cardID + "/cardActions"
		submit := map[string]any{"type": "Action.Submit", "data": map[string]any{"yes": true}}
		gina.Must(200, "POST", act, submit)
		got = fb.wait(func(a map[string]any) bool {
			return a["value"] != nil && field(a, "from", "aadObjectId") == gina.UserID
		})
		if field(got, "conversation", "id") != general+";messageid="+cardID || got["replyToId"] != cardID {
			t.Errorf("channel card action: %s", mustString(got))
		}
		wantError(t, bob.Do("POST", act, submit), 404, "notFound")
		gina.Must(204, "POST", chanMsgs+"/"+cardID+"/setReaction", map[string]any{"reactionType": "like"})
		got = fb.wait(func(a map[string]any) bool { return a["type"] == "messageReaction" })
		if got["replyToId"] != cardID || field(got, "conversation", "id") != general+";messageid="+cardID || !strings.Contains(mustString(got["reactionsAdded"]), "like") {
			t.Errorf("messageReaction in a channel: %s", mustString(got))
		}
		wantError(t, gina.Do("POST", act, map[string]any{"type": "Action.Other"}), 400, "badRequest")

		// The team's people, and proactive messages.
		var members []map[string]any
		bc.Must(200, "GET", conv(general)+"/members", nil).JSON(t, &members)
		ms := mustString(members)
		if len(members) != 3 || !strings.Contains(ms, gina.UserID) || !strings.Contains(ms, `"userRole":"guest"`) || strings.Contains(ms, bob.UserID) {
			t.Errorf("channel members: %s", ms)
		}
		dm := func(u string) *parleytest.Response {
			return bc.Do("POST", "/v3/conversations", map[string]any{"isGroup": false, "members": []any{map[string]any{"id": "29:" + u}}, "activity": textActivity("hi")})
		}
		if r := dm(gina.UserID); r.Status != 201 {
			t.Errorf("proactive message to a guest of the team: %d %s", r.Status, r.Body)
		}
		wantError(t, dm(bob.UserID), 403, "forbiddenByPolicy")
		alice.Must(201, "POST", "/v1.0/teams/"+tm+"/members", parleytest.Bind(bob.UserID, false))
		got = fb.wait(func(a map[string]any) bool {
			return a["type"] == "conversationUpdate" && strings.Contains(mustString(a["membersAdded"]), bob.UserID)
		})
		if field(got, "channelData", "eventType") != "teamMemberAdded" || field(got, "conversation", "id") != general {
			t.Errorf("member added: %s", mustString(got))
		}
		if r := dm(bob.UserID); r.Status != 201 {
			t.Errorf("proactive message to a new member of the team: %d %s", r.Status, r.Body)
		}
		alice.Must(204, "DELETE", "/v1.0/teams/"+tm+"/members/"+bob.UserID, nil)
		fb.wait(func(a map[string]any) bool {
			return a["type"] == "conversationUpdate" && strings.Contains(mustString(a["membersRemoved"]), bob.UserID)
		})
		// Gone from the team, and sharing no other conversation with it,
		// bob is out of its reach again (the 1:1 chat the bot opened
		// itself does not count); so is a person of another organisation.
		wantError(t, dm(bob.UserID), 403, "forbiddenByPolicy")
		wantError(t, dm(frank.UserID), 403, "forbiddenByPolicy")

		// A tenant-wide block stops its writes; removal ends them.
		admin.Must(200, "PATCH", "/parley/v1/admin/teamsApps/"+appID, map[string]any{"isBlocked": true})
		wantError(t, bc.Do("POST", conv(general)+"/activities", textActivity("blocked")), 403, "forbiddenByPolicy")
		wantError(t, gina.Do("POST", act, submit), 403, "forbiddenByPolicy")
		admin.Must(200, "PATCH", "/parley/v1/admin/teamsApps/"+appID, map[string]any{"isBlocked": false})
		alice.Must(204, "DELETE", "/v1.0/teams/"+tm+"/installedApps/"+inst.ID, nil)
		got = fb.wait(func(a map[string]any) bool {
			return field(a, "channelData", "eventType") == "teamMemberRemoved" && a["membersRemoved"] != nil &&
				strings.Contains(mustString(a["membersRemoved"]), "28:"+botID)
		})
		if field(got, "conversation", "id") != general {
			t.Errorf("removal conversationUpdate: %s", mustString(got))
		}
		wantError(t, bc.Do("POST", conv(general)+"/activities", textActivity("gone")), 404, "notFound")
		if fb.badJWT != 0 {
			t.Errorf("%d activities carried a token the bot could not check", fb.badJWT)
		}
	})
}

// TestBots_ChannelLifecycle: a bot installed in a team is told, as Teams
// tells it, when a channel is created, renamed or deleted there
// (conversationUpdate in the team's conversation, channelData.eventType
// channelCreated / channelRenamed / channelDeleted, channelData.channel
// {id,name} and channelData.team, no members added); a new description
// alone is no rename; a team it is not installed in tells it nothing, nor
// does its team while the app is blocked for the organisation. Both stores.
func TestBots_ChannelLifecycle(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := startPolls(t, store)
		s, contoso, fb, appID := w.s, w.contoso, w.fb, w.appID
		admin := contoso.Admin
		alice := s.User(contoso, "alice", false)
		tm, general := teamWithGuest(t, alice, nil)
		other := alice.Must(201, "POST", "/v1.0/teams", map[string]any{"displayName": "Elsewhere"}).Map(t)["id"].(string)
		alice.Must(201, "POST", "/v1.0/teams/"+tm+"/installedApps", bindApp(appID))

		channels := "/v1.0/teams/" + tm + "/channels"
		ch := alice.Must(201, "POST", channels, map[string]any{"displayName": "Ideas"}).Map(t)["id"].(string)
		alice.Must(201, "POST", "/v1.0/teams/"+other+"/channels", map[string]any{"displayName": "Unseen"})
		alice.Must(204, "PATCH", channels+"/"+url.PathEscape(ch), map[string]any{"description": "only a description"})
		alice.Must(204, "PATCH", channels+"/"+url.PathEscape(ch), map[string]any{"displayName": "Better ideas"})
		admin.Must(200, "PATCH", "/parley/v1/admin/teamsApps/"+appID, map[string]any{"isBlocked": true})
		alice.Must(201, "POST", channels, map[string]any{"displayName": "While blocked"})
		admin.Must(200, "PATCH", "/parley/v1/admin/teamsApps/"+appID, map[string]any{"isBlocked": false})
		alice.Must(204, "DELETE", channels+"/"+url.PathEscape(ch), nil)

		// The bot's queue keeps order: the deletion is the last.
		fb.wait(func(a map[string]any) bool { return field(a, "channelData", "eventType") == "channelDeleted" })
		var got []string
		fb.mu.Lock()
		for _, a := range fb.acts {
			et, _ := field(a, "channelData", "eventType").(string)
			if !strings.HasPrefix(et, "channel") {
				continue
			}
			got = append(got, et+":"+mustString(field(a, "channelData", "channel", "name")))
			if field(a, "channelData", "channel", "id") != ch || field(a, "conversation", "id") != general || field(a, "conversation", "conversationType") != "channel" ||
				field(a, "channelData", "team", "aadGroupId") != tm || field(a, "channelData", "team", "id") != general ||
				field(a, "channelData", "tenant", "id") != contoso.ID || a["membersAdded"] != nil || a["type"] != "conversationUpdate" {
				t.Errorf("%s activity: %s", et, mustString(a))
			}
		}
		fb.mu.Unlock()
		if want := `["channelCreated:\"Ideas\"","channelRenamed:\"Better ideas\"","channelDeleted:\"Better ideas\""]`; mustString(got) != want {
			t.Errorf("channel events: %s, want %s", mustString(got), want)
		}
	})
}
