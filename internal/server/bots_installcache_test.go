package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestBots_InstallThenSend: a send learns whether an app is installed in
// its chat from the chat cache (docs/decisions.md, "Bots: the installs of
// a chat"), so the cache must not hide a new install. A message sent
// before the install does not reach the bot; the very next message after
// the install's answer does, on the same node.
func TestBots_InstallThenSend(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		fb := &fakeBot{t: t, base: s.URL()}
		srv := httptest.NewServer(fb)
		defer srv.Close()
		botID, _ := registerBot(t, contoso.Admin, "Polls", srv.URL+"/api/messages")
		fb.botID = botID
		appID := uploadApp(t, contoso.Admin, pollsManifestID, botID)

		group := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Plans",
			"members": []any{parleytest.Bind(alice.UserID, true), parleytest.Bind(bob.UserID, false)}}).Map(t)["id"].(string)
		bob.Send(group, "before the install") // the chat is cached: nothing installed
		alice.Must(201, "POST", "/v1.0/chats/"+group+"/installedApps", bindApp(appID))
		bob.Send(group, "right after the install")
		if got := fb.received("right after the install"); got["right after the install"] != 1 {
			t.Errorf("the bot got the message after the install %d times, want once", got["right after the install"])
		}
		fb.mu.Lock()
		defer fb.mu.Unlock()
		for _, a := range fb.acts {
			if strings.Contains(mustString(a["text"]), "before the install") {
				t.Error("the bot got a message sent before it was installed")
			}
		}
	})
}

// textBot records the text of every activity it is sent, from any node:
// each node signs with its own URL as the issuer, which fakeBot checks
// against one node.
type textBot struct {
	mu    sync.Mutex
	texts []string
}

func (b *textBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var act struct{ Text string }
	_ = json.NewDecoder(r.Body).Decode(&act)
	b.mu.Lock()
	b.texts = append(b.texts, act.Text)
	b.mu.Unlock()
}

func (b *textBot) has(text string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range b.texts {
		if strings.Contains(t, text) {
			return true
		}
	}
	return false
}

// TestBots_InstallAcrossNodes: with two nodes on one PostgreSQL schema and
// NATS between them, B has cached a chat without installs; once an install
// made on A has been answered, every message sent on B that starts after
// the staleness bound reaches the bot (docs/decisions.md, "Several nodes:
// staleness bound"). B keeps sending until the bot has one of its messages
// or the bound has passed; the last message it sent must reach the bot.
func TestBots_InstallAcrossNodes(t *testing.T) {
	parleytest.RequirePostgres(t)
	a, b := startTwoNodes(t, &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)})
	contoso := a.CreateTenant("Contoso", "contoso.com")
	alice := a.User(contoso, "alice", false)
	bob := a.User(contoso, "bob", false)
	tb := &textBot{}
	srv := httptest.NewServer(tb)
	defer srv.Close()
	botID, _ := registerBot(t, contoso.Admin, "Polls", srv.URL+"/api/messages")
	appID := uploadApp(t, contoso.Admin, pollsManifestID, botID)
	group := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Plans",
		"members": []any{parleytest.Bind(alice.UserID, true), parleytest.Bind(bob.UserID, false)}}).Map(t)["id"].(string)
	eventually(t, "both nodes trust their caches", func() bool { return busOf(t, a).Current() && busOf(t, b).Current() })

	bobB := on(b, bob)
	bobB.Send(group, "on B before the install") // B caches the chat: nothing installed
	alice.Must(201, "POST", "/v1.0/chats/"+group+"/installedApps", bindApp(appID))
	deadline := time.Now().Add(staleBound)
	var last string
	for n := 1; ; n++ {
		start := time.Now()
		last = "on B after the install #" + strconv.Itoa(n) + "."
		bobB.Send(group, last)
		if !start.Before(deadline) || tb.has("on B after the install #") {
			t.Logf("sent %d messages on B after the install", n)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	eventually(t, "the bot has the last message sent on B", func() bool { return tb.has(last) })
	if tb.has("on B before the install") {
		t.Error("the bot got a message sent before it was installed")
	}
}
