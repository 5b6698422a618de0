package server_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestS5_PreviewOneForm: a pending request's target sees a message in one
// preview form (docs/rules.md §5) wherever it reaches them: the requests
// list, the live event, a search hit and the message list: plain text,
// tags stripped, entities decoded, cut to 2,000 characters.
func TestS5_PreviewOneForm(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		d := newDaily(t, store)
		ws := d.carol.Events(-1)
		defer ws.Close()
		id := d.erin.ChatWith(parleytest.ByEmail("carol@contoso.com")).Map(t)["id"].(string)
		d.erin.Must(201, "POST", "/v1.0/chats/"+id+"/messages", map[string]any{"body": map[string]string{"contentType": "html",
			"content": `<p>Fish &amp; chips at <a href="https://phish.example/x">our place</a><img src="https://phish.example/p.png"></p><p>2 &lt; 3 quokka</p>`}})
		d.erin.Send(id, "quokka "+strings.Repeat("long ", 600))
		want := []string{"Fish & chips at our place\n2 < 3 quokka", ""}

		check := func(where string, got []string) {
			t.Helper()
			if len(got) != 2 || got[0] != want[0] {
				t.Fatalf("%s: got %q, want %q first", where, got, want[0])
			}
			if n := utf8.RuneCountInString(got[1]); n != 2000 || !strings.HasPrefix(got[1], "quokka long") || !strings.HasSuffix(got[1], "…") {
				t.Fatalf("%s: the long message has %d characters, want 2000 ending in …", where, n)
			}
		}
		var reqs struct {
			Value []struct {
				ChatID   string `json:"chatId"`
				Previews []struct {
					Body struct{ ContentType, Content string }
				} `json:"previews"`
			} `json:"value"`
		}
		d.carol.Must(200, "GET", "/parley/v1/me/requests", nil).JSON(t, &reqs)
		if len(reqs.Value) != 1 || len(reqs.Value[0].Previews) != 2 {
			t.Fatalf("requests: %+v", reqs)
		}
		var list []string
		for _, p := range reqs.Value[0].Previews {
			if p.Body.ContentType != "text" {
				t.Fatalf("request preview content type %q", p.Body.ContentType)
			}
			list = append([]string{p.Body.Content}, list...) // newest first: put the first sent first
		}
		check("requests list", list)

		evs := ws.WaitCount("messageCreated", 2, 10*time.Second)
		var live []string
		for _, e := range evs {
			if e.Type == "messageCreated" {
				body := e.Raw["message"].(map[string]any)["body"].(map[string]any)
				if body["contentType"] != "text" {
					t.Fatalf("live preview content type %v", body["contentType"])
				}
				live = append(live, body["content"].(string))
			}
		}
		check("live events", live)

		var search []string
		for _, h := range graphSearch(t, d.carol, "quokka") {
			search = append([]string{h.Resource.Body.Content}, search...)
		}
		if len(search) == 2 && !strings.HasPrefix(search[0], "Fish") {
			search[0], search[1] = search[1], search[0] // relevance order
		}
		check("search", search)

		var msgs struct {
			Value []struct {
				Body struct{ Content string }
			} `json:"value"`
		}
		d.carol.Must(200, "GET", "/v1.0/chats/"+id+"/messages", nil).JSON(t, &msgs)
		var listed []string
		for _, m := range msgs.Value {
			listed = append([]string{m.Body.Content}, listed...)
		}
		check("message list", listed)

		// The sender and, once accepted, the target see the message itself.
		d.carol.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
		d.carol.Must(200, "GET", "/v1.0/chats/"+id+"/messages", nil).JSON(t, &msgs)
		if c := msgs.Value[1].Body.Content; !strings.Contains(c, "<a ") || !strings.Contains(c, "&amp;") {
			t.Fatalf("accepted target got the preview form: %q", c)
		}
	})
}
