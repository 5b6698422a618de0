package server_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

type hit struct {
	HitID    string `json:"hitId"`
	Rank     int    `json:"rank"`
	Summary  string `json:"summary"`
	Resource struct {
		ODataType string `json:"@odata.type"`
		ID        string `json:"id"`
		ChatID    string `json:"chatId"`
		Body      struct {
			ContentType string `json:"contentType"`
			Content     string `json:"content"`
		} `json:"body"`
	} `json:"resource"`
}

// graphSearch runs Graph's POST /v1.0/search/query and returns the hits.
func graphSearch(t *testing.T, c *parleytest.Client, q string) []hit {
	t.Helper()
	var out struct {
		Value []struct {
			SearchTerms    []string `json:"searchTerms"`
			HitsContainers []struct {
				Hits                 []hit `json:"hits"`
				Total                int   `json:"total"`
				MoreResultsAvailable bool  `json:"moreResultsAvailable"`
			} `json:"hitsContainers"`
		} `json:"value"`
	}
	c.Must(200, "POST", "/v1.0/search/query", map[string]any{"requests": []any{map[string]any{
		"entityTypes": []string{"chatMessage"}, "query": map[string]any{"queryString": q}}}}).JSON(t, &out)
	if len(out.Value) != 1 || len(out.Value[0].HitsContainers) != 1 {
		t.Fatalf("searchResponse shape: %+v", out)
	}
	hc := out.Value[0].HitsContainers[0]
	if hc.Total != len(hc.Hits) || hc.MoreResultsAvailable {
		t.Fatalf("one page expected: total %d, %d hits, more %v", hc.Total, len(hc.Hits), hc.MoreResultsAvailable)
	}
	for _, h := range hc.Hits {
		if h.HitID != h.Resource.ID || h.Resource.ODataType != "#microsoft.graph.chatMessage" || h.Rank < 1 {
			t.Fatalf("hit shape: %+v", h)
		}
	}
	return hc.Hits
}

// found returns the ids of the hits of q for c, through Parley's path.
func found(t *testing.T, c *parleytest.Client, q string) []string {
	t.Helper()
	var out struct {
		Value []hit `json:"value"`
	}
	c.Must(200, "GET", "/parley/v1/search/messages?sort=newest&q="+url.QueryEscape(q), nil).JSON(t, &out)
	ids := []string{}
	for _, h := range out.Value {
		ids = append(ids, h.Resource.ID)
	}
	return ids
}

func expectFound(t *testing.T, c *parleytest.Client, q string, want ...string) {
	t.Helper()
	got := found(t, c, q)
	if want == nil {
		want = []string{}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("search %q: got %v, want %v", q, got, want)
	}
}

// TestS7_Search: search over the messages a person may see (docs/rules.md
// §7), trimmed by membership at query time: not other people's chats,
// not before one's visible history, not after one left, never deleted
// messages, a pending request only in its preview form and only for its
// target, a held request not at all.
func TestS7_Search(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		d := newDaily(t, store)
		one := d.alice.OneOnOne(d.bob.UserID)
		budget := d.alice.Send(one, "The quarterly budget is ready for review")
		lunch := d.alice.Send(one, "lunch tomorrow?")
		road := d.alice.Must(201, "POST", "/v1.0/chats/"+one+"/messages", map[string]any{"body": map[string]string{"contentType": "html",
			"content": `<p>See the <b>roadmap</b> draft on <a href="https://intranet.example/plan">our site</a></p>`}}).Map(t)["id"].(string)

		t.Run("words, prefixes, phrases, highlights", func(t *testing.T) {
			hits := graphSearch(t, d.bob, "budget")
			if len(hits) != 1 || hits[0].HitID != budget || !strings.Contains(hits[0].Summary, "<c0>budget</c0>") {
				t.Fatalf("budget: %+v", hits)
			}
			expectFound(t, d.bob, "budg", budget)
			expectFound(t, d.bob, "QUARTERLY Budget", budget)
			expectFound(t, d.bob, `"budget is ready"`, budget)
			expectFound(t, d.bob, `"ready budget"`)
			expectFound(t, d.bob, "budget lunch")
			expectFound(t, d.bob, "roadmap", road)
			expectFound(t, d.bob, "site", road)
			// Markup is not text: tags and attributes are not indexed.
			expectFound(t, d.bob, "href")
			expectFound(t, d.bob, "intranet")
			hits = graphSearch(t, d.bob, "roadmap")
			if len(hits) != 1 || strings.Contains(hits[0].Summary, "<b>") || !strings.Contains(hits[0].Summary, "<c0>roadmap</c0>") {
				t.Fatalf("html summary: %+v", hits)
			}
		})

		t.Run("other people's chats", func(t *testing.T) {
			expectFound(t, d.carol, "budget")
			expectFound(t, d.erin, "budget")
		})

		t.Run("edits and deletes keep the index", func(t *testing.T) {
			expectFound(t, d.bob, "lunch", lunch)
			d.alice.Must(204, "DELETE", "/v1.0/chats/"+one+"/messages/"+lunch, nil)
			expectFound(t, d.bob, "lunch")
			expectFound(t, d.alice, "lunch")
			d.alice.Must(204, "PATCH", "/v1.0/chats/"+one+"/messages/"+budget, map[string]any{"body": map[string]string{"content": "The yearly forecast is ready"}})
			expectFound(t, d.bob, "quarterly")
			expectFound(t, d.bob, "forecast", budget)
		})

		t.Run("visible history, leaving", func(t *testing.T) {
			g := d.alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Launch plan",
				"members": []any{parleytest.Bind(d.alice.UserID, true), parleytest.Bind(d.bob.UserID, false)}}).Map(t)["id"].(string)
			old := d.alice.Send(g, "zeppelin history before carol")
			time.Sleep(2 * time.Millisecond)
			m := d.alice.Must(201, "POST", "/v1.0/chats/"+g+"/members", parleytest.Bind(d.carol.UserID, false)).Map(t)
			time.Sleep(2 * time.Millisecond)
			news := d.alice.Send(g, "zeppelin news for everyone")
			expectFound(t, d.bob, "zeppelin", news, old)
			expectFound(t, d.carol, "zeppelin", news)
			expectFound(t, d.carol, `in:"launch plan" zeppelin`, news)
			expectFound(t, d.carol, "in:"+g+" zeppelin", news)
			expectFound(t, d.carol, "in:"+one+" zeppelin")
			d.carol.Must(204, "DELETE", "/v1.0/chats/"+g+"/members/"+m["id"].(string), nil)
			expectFound(t, d.carol, "zeppelin")
			expectFound(t, d.bob, "zeppelin", news, old)
		})

		t.Run("pending request: preview form for the target only; held: nothing", func(t *testing.T) {
			id := d.erin.ChatWith(parleytest.ByEmail("carol@contoso.com")).Map(t)["id"].(string)
			prize := d.erin.Must(201, "POST", "/v1.0/chats/"+id+"/messages", map[string]any{"body": map[string]string{"contentType": "html",
				"content": `<p>Claim <a href="https://phish.example/x">your prize</a> now<img src="https://phish.example/p.png"></p>`}}).Map(t)["id"].(string)
			hits := graphSearch(t, d.carol, "prize")
			if len(hits) != 1 || hits[0].HitID != prize {
				t.Fatalf("target's search: %+v", hits)
			}
			if b := hits[0].Resource.Body; b.ContentType != "text" || strings.Contains(b.Content, "phish") || strings.Contains(b.Content, "<") {
				t.Fatalf("pending target got more than the preview: %+v", b)
			}
			expectFound(t, d.carol, "phish")
			expectFound(t, d.erin, "prize", prize)
			expectFound(t, d.alice, "prize")

			policyFor(t, d.contoso.Admin, "NoFederationSearch", d.bob.UserID, map[string]any{"enableFederationAccess": false})
			h := d.frank.ChatWith(parleytest.ByEmail("bob@contoso.com")).Map(t)["id"].(string)
			held := d.frank.Send(h, "xylophone offer")
			expectFound(t, d.bob, "xylophone")
			expectFound(t, d.frank, "xylophone", held)
		})

		t.Run("filters", func(t *testing.T) {
			expectFound(t, d.bob, "forecast from:alice@contoso.com", budget)
			expectFound(t, d.bob, "forecast from:ALICE@contoso.com", budget)
			expectFound(t, d.bob, "forecast from:bob@contoso.com")
			expectFound(t, d.alice, "forecast from:me", budget)
			today := time.Now().UTC().Format(time.DateOnly)
			yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
			expectFound(t, d.bob, "forecast after:"+yesterday, budget)
			expectFound(t, d.bob, "forecast on:"+today, budget)
			expectFound(t, d.bob, "forecast before:"+today)
			expectFound(t, d.bob, "forecast after:"+today)
			for _, bad := range []string{"", "   ", "after:tomorrow", "from:", strings.Repeat("x", 1100)} {
				if r := d.bob.Do("GET", "/parley/v1/search/messages?q="+url.QueryEscape(bad), nil); r.Status != 400 || r.ErrorCode() != "badRequest" {
					t.Errorf("query %q: %d %s", bad, r.Status, r.Body)
				}
			}
			for _, body := range []map[string]any{
				{"requests": []any{map[string]any{"entityTypes": []string{"driveItem"}, "query": map[string]any{"queryString": "x"}}}},
				{"requests": []any{map[string]any{"entityTypes": []string{"chatMessage"}}}},
				{"requests": []any{}},
			} {
				if r := d.bob.Do("POST", "/v1.0/search/query", body); r.Status != 400 {
					t.Errorf("search request %v: %d %s", body, r.Status, r.Body)
				}
			}
			if r := d.bob.Do("GET", "/parley/v1/search/messages?q=x&sort=oldest", nil); r.Status != 400 {
				t.Errorf("bad sort: %d", r.Status)
			}
			if r := d.s.Anonymous().Do("GET", "/parley/v1/search/messages?q=forecast", nil); r.Status != 401 {
				t.Errorf("anonymous: %d", r.Status)
			}
		})

		t.Run("paging and order", func(t *testing.T) {
			c := d.bob.OneOnOne(d.carol.UserID)
			var want []string
			for range 7 {
				want = append([]string{d.bob.Send(c, "walrus update")}, want...)
			}
			var got []string
			next := "/parley/v1/search/messages?q=walrus&sort=newest&$top=3"
			pages := 0
			for next != "" {
				var out struct {
					Value    []hit  `json:"value"`
					Total    int    `json:"total"`
					NextLink string `json:"@odata.nextLink"`
				}
				d.carol.Must(200, "GET", next, nil).JSON(t, &out)
				if out.Total != 7 {
					t.Fatalf("total %d, want 7", out.Total)
				}
				for _, h := range out.Value {
					got = append(got, h.Resource.ID)
				}
				next, pages = out.NextLink, pages+1
			}
			if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("%d pages %v, want 3 pages %v", pages, got, want)
			}
			if hits := graphSearch(t, d.carol, "walrus"); len(hits) != 7 {
				t.Fatalf("relevance: %d hits", len(hits))
			}
		})
	})
}

// TestS7_PeopleSearch: people to start a chat with come from one's own
// organisation and one's accepted contacts only; an outsider is never
// suggested (docs/rules.md §4 rule of silence, §6).
func TestS7_PeopleSearch(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		d := newDaily(t, store)
		people := func(c *parleytest.Client, q string) string {
			t.Helper()
			var out struct {
				Value []struct {
					UserPrincipalName string `json:"userPrincipalName"`
				} `json:"value"`
			}
			c.Must(200, "GET", "/parley/v1/people?q="+url.QueryEscape(q), nil).JSON(t, &out)
			var names []string
			for _, u := range out.Value {
				names = append(names, u.UserPrincipalName)
			}
			return strings.Join(names, " ")
		}
		if got := people(d.alice, "b"); got != "bob@contoso.com" {
			t.Fatalf("own organisation: %q", got)
		}
		if got := people(d.alice, "car"); got != "carol@contoso.com" {
			t.Fatalf("by name: %q", got)
		}
		// Outsiders: not by name, not by address prefix, not even by the full address.
		for _, q := range []string{"e", "erin", "erin@fabrikam.com", "fabrikam", "f"} {
			if got := people(d.alice, q); got != "" {
				t.Fatalf("outsider suggested for %q: %q", q, got)
			}
		}
		// A request the target has not accepted suggests no one to either side.
		id := d.erin.ChatWith(parleytest.ByEmail("alice@contoso.com")).Map(t)["id"].(string)
		d.erin.Send(id, "hi")
		if got := people(d.alice, "erin"); got != "" {
			t.Fatalf("pending sender suggested: %q", got)
		}
		if got := people(d.erin, "alice"); got != "" {
			t.Fatalf("pending target suggested: %q", got)
		}
		d.alice.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
		if got := people(d.alice, "erin"); got != "erin@fabrikam.com" {
			t.Fatalf("accepted contact: %q", got)
		}
		if got := people(d.erin, "ali"); got != "alice@contoso.com" {
			t.Fatalf("accepted contact, other side: %q", got)
		}
		if got := people(d.erin, "bob"); got != "" {
			t.Fatalf("a contact's colleague suggested: %q", got)
		}
		for _, q := range []string{"", strings.Repeat("x", 300)} {
			if r := d.alice.Do("GET", "/parley/v1/people?q="+url.QueryEscape(q), nil); r.Status != 400 {
				t.Errorf("q %q: %d", q, r.Status)
			}
		}
		if got := people(d.alice, "%"); got != "" {
			t.Fatalf("a wildcard matched: %q", got)
		}
	})
}
