package server_test

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleychat/parley/internal/parleytest"
)

// fakeBot is a bot endpoint at the edge of the world: it checks Parley's
// signature on every activity against the published keys, records the
// activities and answers invokes with a card.
type fakeBot struct {
	t      *testing.T
	base   string
	botID  string
	mu     sync.Mutex
	acts   []map[string]any
	badJWT int
	// down makes the bot answer 503 to every activity (refused counts them).
	down    atomic.Bool
	refused atomic.Int32
}

func (f *fakeBot) key() *rsa.PublicKey {
	r, err := http.Get(f.base + "/parley/v1/bots/keys")
	if err != nil {
		f.t.Error(err)
		return nil
	}
	defer r.Body.Close()
	var set struct{ Keys []struct{ N, E string } }
	if err := json.NewDecoder(r.Body).Decode(&set); err != nil || len(set.Keys) == 0 {
		f.t.Errorf("keys: %v", err)
		return nil
	}
	n, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
	e, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].E)
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
}

func (f *fakeBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.down.Load() {
		f.refused.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var act map[string]any
	_ = json.NewDecoder(r.Body).Decode(&act) // a bad body shows as a missing activity
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return f.key(), nil },
		jwt.WithIssuer(f.base+"/parley/v1/bots"), jwt.WithAudience(f.botID), jwt.WithValidMethods([]string{"RS256"}))
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil || claims["serviceurl"] != act["serviceUrl"] {
		f.badJWT++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.acts = append(f.acts, act)
	if act["name"] == "composeExtension/query" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"composeExtension": map[string]any{"type": "result", "attachmentLayout": "list",
			"attachments": []any{map[string]any{"contentType": "application/vnd.microsoft.card.thumbnail", "content": map[string]any{"title": "Poll 1"}}}}})
		return
	}
	if act["name"] == "composeExtension/fetchTask" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"task": map[string]any{"type": "continue", "value": map[string]any{"title": "New poll",
			"card": map[string]any{"contentType": "application/vnd.microsoft.card.adaptive", "content": map[string]any{"type": "AdaptiveCard", "version": "1.5",
				"body": []any{map[string]any{"type": "Input.Text", "id": "question"}}, "actions": []any{map[string]any{"type": "Action.Submit", "title": "Create"}}}}}}})
		return
	}
	if act["name"] == "composeExtension/submitAction" {
		q, _ := field(act, "value", "data", "question").(string)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"composeExtension": map[string]any{"type": "result", "attachmentLayout": "list",
			"attachments": []any{map[string]any{"contentType": "application/vnd.microsoft.card.adaptive", "content": map[string]any{"type": "AdaptiveCard", "version": "1.5",
				"body": []any{map[string]any{"type": "TextBlock", "text": q}}, "actions": []any{map[string]any{"type": "Action.Submit", "title": "Vote", "data": map[string]any{"vote": q}}}}}}}})
		return
	}
	if act["type"] == "invoke" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive",
			"value": map[string]any{"type": "AdaptiveCard", "version": "1.5", "body": []any{map[string]any{"type": "TextBlock", "text": "Thanks"}}}})
	}
}

// wait returns the first recorded activity match accepts.
func (f *fakeBot) wait(match func(a map[string]any) bool) map[string]any {
	f.t.Helper()
	for range 200 {
		f.mu.Lock()
		for _, a := range f.acts {
			if match(a) {
				f.mu.Unlock()
				return a
			}
		}
		f.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	f.t.Fatalf("no such activity; got %d activities, %d with a bad token", len(f.acts), f.badJWT)
	return nil
}

// TestApps_MeetingBotAnonymous: docs/rules.md §9 in a meeting chat: a host user
// adds a bot (conversationUpdate, signed by Parley); an anonymous participant
// acts on its card whether or not anonymousUsersCanInteractWithApps is on,
// cannot add apps, and may not use the bot otherwise while it is off; the
// bot writes only where it is installed.
func TestApps_MeetingBotAnonymous(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartWorld(t, store)
		contoso := w.CreateTenant("Contoso", "contoso.com")
		alice := w.User(contoso, "alice", false)
		bob := w.User(contoso, "bob", false)
		meetingConfig(t, contoso.Admin, map[string]any{"lobbyBypass": "everyone"})

		fb := &fakeBot{t: t, base: w.URL()}
		srv := httptest.NewServer(fb)
		defer srv.Close()
		botID, secret := registerBot(t, contoso.Admin, "Polls", srv.URL+"/api/messages")
		fb.botID = botID
		appID := uploadApp(t, contoso.Admin, pollsManifestID, botID)

		m := meetingOf(t, alice, map[string]any{"subject": "Standup"})
		thread, link := threadOf(m), m["joinWebUrl"].(string)
		alice.Must(201, "POST", "/v1.0/chats/"+thread+"/installedApps", bindApp(appID))
		up := fb.wait(func(a map[string]any) bool { return a["type"] == "conversationUpdate" })
		if cd := up["channelData"].(map[string]any); cd["meeting"] == nil || cd["tenant"].(map[string]any)["id"] != contoso.ID {
			t.Errorf("conversationUpdate channelData: %v, want the meeting and the tenant", cd)
		}

		anna, out := joinAs(t, w, link, "Anna")
		if out["state"] != "admitted" {
			t.Fatalf("join: %v", out)
		}
		// The bot's token, and its card in the meeting chat.
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {botID}, "client_secret": {secret}, "scope": {w.URL() + "/parley/v1/bots/.default"}}
		resp, err := http.PostForm(w.URL()+"/parley/v1/bots/token", form)
		if err != nil {
			t.Fatal(err)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 {
			t.Fatalf("bot token: %d %v", resp.StatusCode, err)
		}
		resp.Body.Close()
		form.Set("client_secret", "wrong")
		if resp, err := http.PostForm(w.URL()+"/parley/v1/bots/token", form); err != nil || resp.StatusCode != 401 {
			t.Fatalf("bot token with a wrong secret: %v %v, want 401", resp.StatusCode, err)
		}
		botc := w.Anonymous()
		botc.Token = tok.AccessToken
		card := map[string]any{"type": "message", "attachments": []any{map[string]any{"contentType": "application/vnd.microsoft.card.adaptive",
			"content": map[string]any{"type": "AdaptiveCard", "version": "1.5", "body": []any{map[string]any{"type": "TextBlock", "text": "Lunch?"}},
				"actions": []any{map[string]any{"type": "Action.Submit", "title": "Yes", "data": map[string]any{"yes": true}}}}}}}
		cardID := botc.Must(201, "POST", "/v3/conversations/"+url.PathEscape(thread)+"/activities", card).Map(t)["id"].(string)
		// Only where it is installed.
		other := alice.OneOnOne(bob.UserID)
		wantError(t, botc.Do("POST", "/v3/conversations/"+url.PathEscape(other)+"/activities", card), 404, "notFound")

		act := func(c *parleytest.Client) *parleytest.Response {
			return c.Do("POST", "/parley/v1/chats/"+url.PathEscape(thread)+"/messages/"+cardID+"/cardActions", map[string]any{"type": "Action.Submit", "data": map[string]any{"yes": true}})
		}
		if r := act(anna); r.Status != 200 {
			t.Fatalf("anonymous card action: %d %s", r.Status, r.Body)
		}
		got := fb.wait(func(a map[string]any) bool { return a["type"] == "message" && a["value"] != nil })
		if from := got["from"].(map[string]any); from["userRole"] != "anonymous" || from["parleyKind"] != "anonymous" {
			t.Errorf("card action from: %v, want an anonymous person", from)
		}
		wantError(t, anna.Do("POST", "/v1.0/chats/"+url.PathEscape(thread)+"/installedApps", bindApp(appID)), 403, "forbiddenByPolicy")

		// The setting off: cards still work, other use does not.
		// The install list says what each person may do with the app, as May answers.
		allowed := func(c *parleytest.Client) string {
			return mustString(c.Must(200, "GET", "/v1.0/chats/"+url.PathEscape(thread)+"/installedApps", nil).Map(t)["value"].([]any)[0].(map[string]any)["allowedActions"])
		}
		if got := allowed(anna); got != `["use","mention","card","tab","messageExtension"]` {
			t.Errorf("anonymous allowedActions with the setting on: %s", got)
		}
		meetingConfig(t, contoso.Admin, map[string]any{"anonymousUsersCanInteractWithApps": false})
		if got := allowed(anna); got != `["card"]` {
			t.Errorf("anonymous allowedActions with the setting off: %s, want only card", got)
		}
		if got := allowed(alice); got != `["remove","use","mention","card","tab","messageExtension"]` {
			t.Errorf("host user allowedActions: %s", got)
		}
		if r := act(anna); r.Status != 200 {
			t.Fatalf("anonymous card action with the setting off: %d %s, want 200 (cards always)", r.Status, r.Body)
		}
		ex := contoso.Admin.Must(200, "GET", "/parley/v1/admin/explain?userId="+anna.UserID+"&appId="+appID+"&conversationId="+url.QueryEscape(thread)+"&action=mention", nil).Map(t)
		if ex["allowed"] != false || !strings.Contains(mustString(ex["checks"]), "meeting.anonymousUsersCanInteractWithApps") {
			t.Errorf("explain an anonymous mention with the setting off: %v", ex)
		}
		// A message extension: host users run it, anonymous people not
		// while the setting is off.
		q := map[string]any{"commandId": "searchPolls", "parameters": []any{map[string]any{"name": "query", "value": "lunch"}}}
		qpath := "/parley/v1/chats/" + url.PathEscape(thread) + "/apps/" + appID + "/composeExtensionQuery"
		if r := alice.Must(200, "POST", qpath, q); !strings.Contains(r.Body2(), "Poll 1") {
			t.Errorf("message extension answer: %s", r.Body)
		}
		got = fb.wait(func(a map[string]any) bool { return a["name"] == "composeExtension/query" })
		if v := got["value"].(map[string]any); v["commandId"] != "searchPolls" {
			t.Errorf("composeExtension/query value: %v", v)
		}
		wantError(t, anna.Do("POST", qpath, q), 403, "forbiddenByPolicy", "anonymous")
		// A reaction to the bot's message reaches it.
		alice.Must(204, "POST", "/v1.0/chats/"+url.PathEscape(thread)+"/messages/"+cardID+"/setReaction", map[string]any{"reactionType": "like"})
		got = fb.wait(func(a map[string]any) bool { return a["type"] == "messageReaction" })
		if got["replyToId"] != cardID || !strings.Contains(mustString(got["reactionsAdded"]), "like") {
			t.Errorf("messageReaction: %v", got)
		}
		// The bot deletes its card: 200, as the SDK needs.
		botc.Must(200, "DELETE", "/v3/conversations/"+url.PathEscape(thread)+"/activities/"+cardID, nil)
		if fb.badJWT != 0 {
			t.Errorf("%d activities carried a token the bot could not check", fb.badJWT)
		}
	})
}

func mustString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// pollsWorld is Contoso with the Polls bot, served by a fakeBot, and its
// app in the catalog.
type pollsWorld struct {
	s       *parleytest.Server
	contoso *parleytest.Tenant
	fb      *fakeBot
	botID   string
	secret  string
	appID   string
}

// startPolls starts a server on store with Contoso and the Polls bot.
func startPolls(t *testing.T, store string) pollsWorld {
	t.Helper()
	s := parleytest.StartStore(t, store)
	contoso := s.CreateTenant("Contoso", "contoso.com")
	fb := &fakeBot{t: t, base: s.URL()}
	srv := httptest.NewServer(fb)
	t.Cleanup(srv.Close)
	botID, secret := registerBot(t, contoso.Admin, "Polls", srv.URL+"/api/messages")
	fb.botID = botID
	return pollsWorld{s: s, contoso: contoso, fb: fb, botID: botID, secret: secret, appID: uploadApp(t, contoso.Admin, pollsManifestID, botID)}
}

// checkSigned fails the test if an activity reached the bot with a token
// it could not check.
func (w *pollsWorld) checkSigned(t *testing.T) {
	t.Helper()
	w.fb.mu.Lock()
	defer w.fb.mu.Unlock()
	if w.fb.badJWT != 0 {
		t.Errorf("%d activities carried a token the bot could not check", w.fb.badJWT)
	}
}

// appsCast adds the people the apps tests act with: Contoso's alice, bob
// and carol, gina as Contoso's guest, and frank of Fabrikam (returned with
// his tenant).
func appsCast(s *parleytest.Server, contoso *parleytest.Tenant) (alice, bob, carol, gina *parleytest.Client, fabrikam *parleytest.Tenant, frank *parleytest.Client) {
	alice = s.User(contoso, "alice", false)
	bob = s.User(contoso, "bob", false)
	carol = s.User(contoso, "carol", false)
	gina = s.User(contoso, "gina@outside.example", true)
	fabrikam = s.CreateTenant("Fabrikam", "fabrikam.com")
	frank = s.User(fabrikam, "frank", false)
	return
}

// teamWithGuest is a team of owner's with guest in it as a guest; it
// returns the team's id and its General channel's.
func teamWithGuest(t *testing.T, owner, guest *parleytest.Client) (string, string) {
	t.Helper()
	tm := owner.Must(201, "POST", "/v1.0/teams", map[string]any{"displayName": "Plans"}).Map(t)["id"].(string)
	if guest != nil {
		m := parleytest.Bind(guest.UserID, false)
		m["roles"] = []string{"guest"}
		owner.Must(201, "POST", "/v1.0/teams/"+tm+"/members", m)
	}
	return tm, owner.Must(200, "GET", "/v1.0/teams/"+tm+"/primaryChannel", nil).Map(t)["id"].(string)
}
