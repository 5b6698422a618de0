package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/mail/mailtest"
	"github.com/parleychat/parley/internal/parleytest"
	"github.com/parleychat/parley/internal/server"
)

// e2eDir is the Node project with the browser tests (playwright-core),
// relative to this package's directory.
var e2eDir = filepath.Join("..", "..", "test", "e2e")

// TestWebClientE2E drives the web client (internal/web/dist, built from
// web/) in headless Chromium through test/e2e/run.mjs against real servers
// with a real SMTP recorder: sign-in, an invitation by email to an unknown
// address, the invitee's join page and request, live messages both ways
// (mentions, edits, deletes, an Adaptive Card, a reconnect with ?since=),
// the read-only banner when the admin turns personal-account chat off and
// on, the inbound-only case, explain, policies, personal settings, sign-up
// with the emailed code, apps in a meeting chat and a channel
// (test/e2e/apps.mjs, with the Polls bot below), and the first-run setup page, at desktop and phone
// sizes, with screenshots. It needs Node, `npm ci --prefix test/e2e` and
// Debian's chromium; it fails, never skips, without them.
func TestWebClientE2E(t *testing.T) {
	node, dir := mustNodeProject(t, e2eDir, filepath.Join("playwright-core", "package.json"), "drives the web client in Chromium")
	chromium := os.Getenv("PARLEY_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("no Chromium at %s (%v): install Debian's chromium (`apt-get install -y chromium`) or set PARLEY_CHROMIUM; never `npx playwright install`", chromium, err)
	}
	index, err := os.ReadFile(filepath.Join("..", "web", "dist", "index.html"))
	if err != nil || !bytes.Contains(index, []byte("/assets/")) {
		t.Fatalf("internal/web/dist holds no built client (%v): run scripts/web-build", err)
	}
	shots := os.Getenv("PARLEY_E2E_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	// The main world: Contoso with an admin and two members, Fabrikam (for
	// the domain lists), a personal account, real SMTP and SMS recorders.
	w := parleytest.StartWorld(t, "sqlite")
	contoso := w.CreateTenant("Contoso", "contoso.com")
	w.CreateTenant("Fabrikam", "fabrikam.com")
	alice := w.User(contoso, "alice", false)
	bob := w.User(contoso, "bob", false)
	pat := w.Personal("pat@gmail.com")
	w.User(contoso, "gina@outlook.com", true) // a guest of Contoso, for the teams test
	w.User(contoso, "gus@outlook.com", true)  // a guest in no team, added by an owner in test/e2e/teams.mjs

	// A second, empty server for the first-run page; its setup token is
	// what `parley serve` prints.
	var out syncBuffer
	fresh := server.New(parleytest.Config(t, "sqlite"), nil, &out)
	if err := fresh.Open(t.Context()); err != nil {
		t.Fatalf("start the empty server: %v", err)
	}
	t.Cleanup(func() {
		if err := fresh.Close(); err != nil {
			t.Errorf("close the empty server: %v", err)
		}
	})
	setupToken := regexp.MustCompile(`--token (\S+)`).FindStringSubmatch(out.String())
	if setupToken == nil {
		t.Fatalf("the empty server printed no setup token: %q", out.String())
	}

	// A Teams app package with a bot (Polls), registered in Contoso, for
	// the admin to upload in the admin center.
	// The bot answers at its endpoint (pollsBot); its tab is an https page.
	bot := &pollsBot{t: t}
	botSrv := httptest.NewServer(bot)
	t.Cleanup(botSrv.Close)
	tabSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html lang="en"><title>Polls</title><h1>Polls tab</h1><p>Open polls: Lunch.</p></html>`))
	}))
	tabSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // a browser that does not trust its certificate yet
	tabSrv.StartTLS()
	t.Cleanup(tabSrv.Close)
	botID, secret := registerBot(t, contoso.Admin, "Polls", botSrv.URL+"/api/messages")
	bot.id, bot.secret = botID, secret
	appZip := filepath.Join(t.TempDir(), "polls.zip")
	manifest := appManifest("0a6b8d2e-6f1c-4c55-9d53-2f7f6d4c1a10", botID, "1.0.0", func(m map[string]any) {
		m["staticTabs"] = []any{map[string]any{"entityId": "polls", "name": "Polls", "contentUrl": tabSrv.URL + "/tab", "scopes": []string{"personal", "groupChat", "team"}}}
		m["composeExtensions"] = []any{map[string]any{"botId": botID, "commands": []any{
			map[string]any{"id": "searchPolls", "title": "Search polls", "type": "query"},
			map[string]any{"id": "newPoll", "title": "New poll", "type": "action", "fetchTask": true},
		}}}
	})
	if err := os.WriteFile(appZip, appPackage(t, manifest, nil), 0o644); err != nil {
		t.Fatal(err)
	}

	// The helper the browser test asks for mail: GET /mail?to=ADDR&n=N
	// waits for the n-th mail to ADDR and answers its subject, body, the
	// /join/ link and the 6-digit code in it.
	helper := httptest.NewServer(mailHelper(w.Mail))
	t.Cleanup(helper.Close)

	runNodeScript(t, node, dir, "e2e", 12*time.Minute,
		"BASE="+w.URL(),
		"SETUP_BASE="+fresh.URL(),
		"SETUP_TOKEN="+setupToken[1],
		"HELPER="+helper.URL,
		"PASSWORD="+parleytest.Password,
		"ADMIN=admin@contoso.com",
		"ALICE=alice@contoso.com", "ALICE_ID="+alice.UserID,
		"BOB=bob@contoso.com", "BOB_ID="+bob.UserID,
		"PAT=pat@gmail.com", "PAT_ID="+pat.UserID,
		"APP_ZIP="+appZip, "TAB_URL="+tabSrv.URL+"/tab",
		"GUEST=gina@outlook.com",
		"GUEST2=gus@outlook.com",
		"CHROMIUM="+chromium,
		"SHOTS="+shots,
	)
	t.Logf("screenshots are in %s", shots)
}

var (
	joinLink  = regexp.MustCompile(`https?://\S+/join/[A-Za-z0-9_-]+`)
	sixDigits = regexp.MustCompile(`\b(\d{6})\b`)
)

// mailHelper answers GET /mail?to=ADDR&n=N with the n-th mail (1-based,
// default 1) to ADDR, waiting up to 10 s for it.
func mailHelper(m *mailtest.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := r.URL.Query().Get("to")
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 1 {
			n = 1
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			var got []mailtest.Received
			for _, msg := range m.Messages() {
				for _, rcpt := range msg.To {
					if strings.EqualFold(rcpt, to) {
						got = append(got, msg)
					}
				}
			}
			if len(got) >= n {
				msg := got[n-1]
				text := msg.Subject + "\n" + msg.Body
				out := map[string]string{"subject": msg.Subject, "body": msg.Body,
					"joinUrl": joinLink.FindString(text), "code": sixDigits.FindString(text)}
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(out) // the test reads it; a failed write fails there
				return
			}
			if time.Now().After(deadline) || r.Context().Err() != nil {
				http.Error(w, "no mail #"+strconv.Itoa(n)+" to "+to+" within 10s (have "+strconv.Itoa(len(got))+")", http.StatusNotFound)
				return
			}
			time.Sleep(25 * time.Millisecond)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for the server's writes and our read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// pollsBot is the Polls bot of the browser test, at the edge of the world
// like any bot: it answers a message with a reply and an Adaptive Card
// (Action.Execute "vote", Action.Submit "comment") through the Connector
// API with its own token, answers Action.Execute with the card updated
// (the vote counted, the voter named), acknowledges an Action.Submit,
// answers a message-extension search with cards, and runs the "New poll"
// action command (a task card asking the question, then the poll as a
// result, or a task message when the question is empty). It trusts Parley's
// signature (TestApps_MeetingBotAnonymous checks it).
type pollsBot struct {
	t          *testing.T
	id, secret string
	mu         sync.Mutex
	votes      int
	token      string
}

func (b *pollsBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var act struct {
		Type         string         `json:"type"`
		Name         string         `json:"name"`
		Text         string         `json:"text"`
		ServiceURL   string         `json:"serviceUrl"`
		Value        map[string]any `json:"value"`
		From         struct{ Name string }
		Conversation struct{ ID string }
	}
	if err := json.NewDecoder(r.Body).Decode(&act); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case act.Type == "invoke" && act.Name == "adaptiveCard/action":
		b.mu.Lock()
		b.votes++
		n := b.votes
		b.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive",
			"value": pollsBotCard(fmt.Sprintf("Lunch poll: pizza has %d vote(s), the last from %s.", n, act.From.Name), false)})
	case act.Type == "invoke" && act.Name == "composeExtension/query":
		q := ""
		if ps, ok := act.Value["parameters"].([]any); ok && len(ps) > 0 {
			q, _ = ps[0].(map[string]any)["value"].(string)
		}
		var atts []any
		for _, title := range []string{"Lunch poll", "Offsite poll"} {
			if strings.Contains(strings.ToLower(title), strings.ToLower(q)) {
				atts = append(atts, map[string]any{"contentType": "application/vnd.microsoft.card.adaptive", "content": pollsBotCard(title+": vote below.", true),
					"preview": map[string]any{"contentType": "application/vnd.microsoft.card.thumbnail", "content": map[string]any{"title": title}}})
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"composeExtension": map[string]any{"type": "result", "attachmentLayout": "list", "attachments": atts}})
	case act.Type == "invoke" && act.Name == "composeExtension/fetchTask":
		_ = json.NewEncoder(w).Encode(map[string]any{"task": map[string]any{"type": "continue", "value": map[string]any{
			"title": "New poll", "card": map[string]any{"contentType": "application/vnd.microsoft.card.adaptive", "content": map[string]any{
				"type": "AdaptiveCard", "version": "1.5",
				"body":    []any{map[string]any{"type": "Input.Text", "id": "question", "label": "Question"}},
				"actions": []any{map[string]any{"type": "Action.Submit", "title": "Create poll"}},
			}}}}})
	case act.Type == "invoke" && act.Name == "composeExtension/submitAction":
		data, _ := act.Value["data"].(map[string]any)
		question, _ := data["question"].(string)
		if question = strings.TrimSpace(question); question == "" {
			_ = json.NewEncoder(w).Encode(map[string]any{"task": map[string]any{"type": "message", "value": "A poll needs a question."}})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"composeExtension": map[string]any{"type": "result", "attachmentLayout": "list", "attachments": []any{
			map[string]any{"contentType": "application/vnd.microsoft.card.adaptive", "content": pollsBotCard(question+": vote below.", true),
				"preview": map[string]any{"contentType": "application/vnd.microsoft.card.thumbnail", "content": map[string]any{"title": question}}}}}})
	case act.Type == "message" && act.Value != nil:
		b.reply(act.ServiceURL, act.Conversation.ID, map[string]any{"type": "message", "text": "Thanks " + act.From.Name + ", your comment reached Polls."})
	case act.Type == "message":
		text := strings.TrimSpace(html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(act.Text, "")))
		if text == "" {
			return // a card someone posted: nothing to answer
		}
		b.reply(act.ServiceURL, act.Conversation.ID, map[string]any{"type": "message", "text": "Polls heard " + act.From.Name + ": " + text,
			"attachments": []any{map[string]any{"contentType": "application/vnd.microsoft.card.adaptive", "content": pollsBotCard("Lunch poll: pizza?", true)}}})
	}
}

// pollsBotCard is the poll's Adaptive Card, with its actions while open.
func pollsBotCard(text string, open bool) map[string]any {
	c := map[string]any{"type": "AdaptiveCard", "version": "1.5", "body": []any{map[string]any{"type": "TextBlock", "text": text, "wrap": true}}}
	if open {
		c["actions"] = []any{
			map[string]any{"type": "Action.Execute", "title": "Vote pizza", "verb": "vote", "data": map[string]any{"choice": "pizza"}},
			map[string]any{"type": "Action.Submit", "title": "Comment", "data": map[string]any{"comment": "sounds good"}},
		}
	}
	return c
}

// reply posts an activity into a conversation through the Connector API,
// with a token from Parley's client-credentials endpoint.
func (b *pollsBot) reply(serviceURL, conv string, activity map[string]any) {
	base := strings.TrimSuffix(serviceURL, "/")
	b.mu.Lock()
	tok := b.token
	b.mu.Unlock()
	if tok == "" {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {b.id}, "client_secret": {b.secret}, "scope": {base + "/parley/v1/bots/.default"}}
		resp, err := http.PostForm(base+"/parley/v1/bots/token", form)
		if err != nil {
			b.t.Errorf("polls bot: token: %v", err)
			return
		}
		var out struct {
			AccessToken string `json:"access_token"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			b.t.Errorf("polls bot: token: %d %v", resp.StatusCode, err)
			return
		}
		tok = out.AccessToken
		b.mu.Lock()
		b.token = tok
		b.mu.Unlock()
	}
	body, _ := json.Marshal(activity)
	req, err := http.NewRequest("POST", base+"/v3/conversations/"+url.PathEscape(conv)+"/activities", bytes.NewReader(body))
	if err != nil {
		b.t.Errorf("polls bot: %v", err)
		return
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Errorf("polls bot: reply: %v", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != 201 && resp.StatusCode != 200 {
		b.t.Errorf("polls bot: reply: %d", resp.StatusCode)
	}
}
