package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// pageBody is one page of any list.
type pageBody struct {
	Value    []map[string]any `json:"value"`
	NextLink string           `json:"@odata.nextLink"`
}

// collectPages reads path and follows @odata.nextLink to the end. Every
// page but the last must be full (top items) and the last at most top.
// It returns key(item) of every item in order, and the number of pages.
func collectPages(t *testing.T, c *parleytest.Client, path string, top int, key string) ([]string, int) {
	t.Helper()
	var out []string
	next := path
	pages := 0
	for next != "" {
		pages++
		if pages > 50 {
			t.Fatalf("%s: more than 50 pages; the nextLinks loop", path)
		}
		var p pageBody
		c.Must(200, "GET", next, nil).JSON(t, &p)
		if len(p.Value) > top || (p.NextLink != "" && len(p.Value) != top) {
			t.Fatalf("%s page %d: got %d items (nextLink %q), want %d per page", path, pages, len(p.Value), p.NextLink, top)
		}
		if p.NextLink != "" && !strings.HasPrefix(p.NextLink, "http") {
			t.Fatalf("%s: nextLink %q is not an absolute URL", path, p.NextLink)
		}
		for _, it := range p.Value {
			out = append(out, fmt.Sprint(it[key]))
		}
		next = p.NextLink
	}
	return out, pages
}

// listAll reads path without $top: the whole list in one page.
func listAll(t *testing.T, c *parleytest.Client, path, key string) []string {
	t.Helper()
	var p pageBody
	c.Must(200, "GET", path, nil).JSON(t, &p)
	if p.NextLink != "" {
		t.Fatalf("%s: got nextLink %q on a short list without $top", path, p.NextLink)
	}
	var out []string
	for _, it := range p.Value {
		out = append(out, fmt.Sprint(it[key]))
	}
	return out
}

func withQuery(path, q string) string {
	if strings.Contains(path, "?") {
		return path + "&" + q
	}
	return path + "?" + q
}

// TestS11_Paging: every list of the API pages with $top and
// @odata.nextLink (docs/rules.md §11), with the same validation of $top and
// $skiptoken, on both stores.
func TestS11_Paging(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		carol := s.User(contoso, "carol", false)
		dave := s.User(contoso, "dave", false)
		fabrikam := s.CreateTenant("Fabrikam", "fabrikam.com")
		var senders []*parleytest.Client
		for _, n := range []string{"erin", "frank", "gina"} {
			senders = append(senders, s.User(fabrikam, n, false))
		}

		// Requests to alice from three people of another organisation.
		for _, c := range senders {
			r := c.ChatWith(parleytest.ByEmail("alice@contoso.com"))
			if r.Status != 201 {
				t.Fatalf("request to alice: %d %s", r.Status, r.Body)
			}
			id := r.Map(t)["id"].(string)
			c.Send(id, "hello")
		}
		group := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Paging",
			"members": []any{parleytest.Bind(bob.UserID, false), parleytest.Bind(carol.UserID, false), parleytest.Bind(dave.UserID, false)}}).Map(t)["id"].(string)
		for _, u := range []*parleytest.Client{alice, bob, carol} {
			dave.Must(204, "POST", "/parley/v1/me/blockedUsers", map[string]any{"userId": u.UserID})
		}
		for _, n := range []string{"Zeta", "Alpha", "Mid"} {
			contoso.Admin.Must(201, "POST", "/parley/v1/admin/externalAccessPolicies", map[string]any{"name": n, "enableFederationAccess": false})
		}

		lists := []struct {
			name string
			c    *parleytest.Client
			path string
			key  string
			want int
		}{
			{"users", alice, "/v1.0/users", "id", 5}, // the admin and four people
			{"members", bob, "/v1.0/chats/" + group + "/members", "id", 4},
			{"requests", alice, "/parley/v1/me/requests?filter=main", "chatId", 3},
			{"blocked users", dave, "/parley/v1/me/blockedUsers", "id", 3},
			{"policies", contoso.Admin, "/parley/v1/admin/externalAccessPolicies", "name", 4},
		}
		for _, l := range lists {
			t.Run(l.name, func(t *testing.T) {
				all := listAll(t, l.c, l.path, l.key)
				if len(all) != l.want {
					t.Fatalf("without $top: got %d items %v, want %d", len(all), all, l.want)
				}
				for _, top := range []int{1, 2} {
					got, pages := collectPages(t, l.c, withQuery(l.path, fmt.Sprintf("$top=%d", top)), top, l.key)
					if want := (l.want + top - 1) / top; pages != want {
						t.Errorf("$top=%d: got %d pages, want %d", top, pages, want)
					}
					if !slices.Equal(got, all) {
						t.Errorf("$top=%d: pages hold %v, want %v (the whole list, in order, once each)", top, got, all)
					}
				}
				// A $top above the limit is capped, not refused.
				if got, _ := collectPages(t, l.c, withQuery(l.path, "$top=100000"), 100000, l.key); !slices.Equal(got, all) {
					t.Errorf("$top=100000: got %v, want %v", got, all)
				}
				for _, q := range []string{"$top=0", "$top=-1", "$top=abc", "$skiptoken=garbage", "$skiptoken=W10"} {
					r := l.c.Do("GET", withQuery(l.path, q), nil)
					if r.Status != 400 || r.ErrorCode() != "badRequest" {
						t.Errorf("%s: got %d %s, want 400 badRequest", q, r.Status, r.Body)
					}
				}
			})
		}

		t.Run("users of another tenant are not listed", func(t *testing.T) {
			got := listAll(t, senders[0], "/v1.0/users", "userPrincipalName")
			if len(got) != 4 || slices.Contains(got, "alice@contoso.com") {
				t.Fatalf("fabrikam sees %v, want its admin and three people", got)
			}
		})

		t.Run("users $filter pages over the whole tenant", func(t *testing.T) {
			// dave is the last user created: found on the first page of one.
			var p pageBody
			alice.Must(200, "GET", "/v1.0/users?$top=1&$filter="+strings.ReplaceAll("userPrincipalName eq 'dave@contoso.com'", " ", "%20"), nil).JSON(t, &p)
			if len(p.Value) != 1 || p.Value[0]["id"] != dave.UserID || p.NextLink != "" {
				t.Fatalf("got %+v, want dave alone", p)
			}
		})

		t.Run("a member removed between pages shifts nothing", func(t *testing.T) {
			all := listAll(t, alice, "/v1.0/chats/"+group+"/members", "id")
			var p pageBody
			alice.Must(200, "GET", "/v1.0/chats/"+group+"/members?$top=2", nil).JSON(t, &p)
			if len(p.Value) != 2 || p.NextLink == "" {
				t.Fatalf("first page: %+v", p)
			}
			// The owner removes the other member of page one.
			var gone string
			for _, m := range p.Value {
				if m["userId"] != alice.UserID {
					gone = m["id"].(string)
				}
			}
			alice.Must(204, "DELETE", "/v1.0/chats/"+group+"/members/"+gone, nil)
			rest, _ := collectPages(t, alice, p.NextLink, 2, "id")
			if !slices.Equal(rest, all[2:]) {
				t.Fatalf("after a removal: got %v, want %v", rest, all[2:])
			}
		})

		t.Run("nextLink keeps the request's filters", func(t *testing.T) {
			var p pageBody
			alice.Must(200, "GET", "/parley/v1/me/requests?filter=main&$top=1", nil).JSON(t, &p)
			if !strings.Contains(p.NextLink, "filter=main") || !strings.Contains(p.NextLink, "$top=1") || !strings.Contains(p.NextLink, "$skiptoken=") {
				t.Fatalf("nextLink %q lacks filter, $top or $skiptoken", p.NextLink)
			}
			if got := listAll(t, alice, "/parley/v1/me/requests?filter=filtered", "chatId"); len(got) != 0 {
				t.Fatalf("filtered list: %v", got)
			}
		})
	})
}

// TestS10_UnknownFields: a misspelt field in one of Parley's own bodies
// is a 400 naming it and changes nothing (docs/rules.md §10); Graph bodies keep
// accepting extras, and @odata annotations are accepted everywhere.
func TestS10_UnknownFields(t *testing.T) {
	s := parleytest.StartStore(t, "sqlite")
	contoso := s.CreateTenant("Contoso", "contoso.com")
	admin := contoso.Admin
	alice := s.User(contoso, "alice", false)
	bob := s.User(contoso, "bob", false)
	chat := alice.OneOnOne(bob.UserID)
	group := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "G", "members": []any{parleytest.Bind(bob.UserID, false)}}).Map(t)["id"].(string)

	snapshot := func() string {
		var b strings.Builder
		b.Write(admin.Must(200, "GET", "/parley/v1/admin/federationConfiguration", nil).Body)
		b.Write(admin.Must(200, "GET", "/parley/v1/admin/externalAccessPolicies?expand=users", nil).Body)
		b.Write(alice.Must(200, "GET", "/parley/v1/me/blockedUsers", nil).Body)
		b.Write(s.Operator().Must(200, "GET", "/parley/v1/operator/tenants", nil).Body)
		return b.String()
	}
	before := snapshot()
	refused := []struct {
		name   string
		c      *parleytest.Client
		method string
		path   string
		body   string
		field  string
	}{
		{"federation typo", admin, "PATCH", "/parley/v1/admin/federationConfiguration", `{"allowFederatedUser":false}`, "allowFederatedUser"},
		{"federation typo beside a good field", admin, "PATCH", "/parley/v1/admin/federationConfiguration", `{"allowFederatedUsers":false,"blockDomains":["x.com"]}`, "blockDomains"},
		{"policy create typo", admin, "POST", "/parley/v1/admin/externalAccessPolicies", `{"name":"Typo","enableFederationAcess":false}`, "enableFederationAcess"},
		{"policy patch typo", admin, "PATCH", "/parley/v1/admin/externalAccessPolicies/Global", `{"enableTeamsConsumer":false}`, "enableTeamsConsumer"},
		{"grant extra", admin, "POST", "/parley/v1/admin/externalAccessPolicies/Global/grant", `{"userIds":["` + alice.UserID + `"],"policy":"Global"}`, "policy"},
		{"block extra", alice, "POST", "/parley/v1/me/blockedUsers", `{"userId":"` + bob.UserID + `","reason":"spam"}`, "reason"},
		{"settings typo", alice, "PATCH", "/parley/v1/me/settings", `{"allowChatsFromOrganizations":true,"allowChatsFromOrganisations":false}`, "allowChatsFromOrganisations"},
		{"nested typo", s.Operator(), "POST", "/parley/v1/operator/tenants", `{"displayName":"Northwind","domains":["northwind.com"],"admin":{"displayName":"N","userPrincipalName":"n@northwind.com","password":"` + parleytest.Password + `","mobile":"+1"}}`, "admin.mobile"},
		{"signup extra", s.Anonymous(), "POST", "/parley/v1/signup", `{"email":"pat@gmail.com","displayName":"Pat","password":"` + parleytest.Password + `","captcha":"x"}`, "captcha"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.Do(tc.method, tc.path, tc.body)
			if r.Status != 400 || r.ErrorCode() != "badRequest" {
				t.Fatalf("got %d %s, want 400 badRequest", r.Status, r.Body)
			}
			if msg := r.Map(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, `"`+tc.field+`"`) {
				t.Errorf("message %q does not name the field %q", msg, tc.field)
			}
		})
	}
	if after := snapshot(); after != before {
		t.Fatalf("refused bodies changed state:\nbefore %s\nafter  %s", before, after)
	}

	accepted := []struct {
		name   string
		c      *parleytest.Client
		method string
		path   string
		body   string
		status int
	}{
		{"@odata annotations in Parley bodies", admin, "PATCH", "/parley/v1/admin/federationConfiguration", `{"@odata.context":"x","@odata.type":"#parley.federationConfiguration","allowFederatedUsers":true}`, 200},
		{"@odata annotation in a nested Parley body", s.Operator(), "POST", "/parley/v1/operator/tenants", `{"displayName":"Northwind","domains":["northwind.com"],"admin":{"@odata.type":"#x","displayName":"N","userPrincipalName":"n@northwind.com","password":"` + parleytest.Password + `"}}`, 201},
		{"case-insensitive names as encoding/json", alice, "POST", "/parley/v1/me/blockedUsers", `{"UserId":"` + bob.UserID + `"}`, 204},
		{"Graph message with extras", alice, "POST", "/v1.0/chats/" + chat + "/messages", `{"body":{"contentType":"text","content":"hi"},"importance":"normal","subject":null}`, 201},
		{"Graph chat update with extras", alice, "PATCH", "/v1.0/chats/" + group, `{"topic":"x","viewpoint":{}}`, 200},
		{"Graph user with extras", admin, "POST", "/v1.0/users", `{"displayName":"Carol","userPrincipalName":"carol@contoso.com","passwordProfile":{"password":"` + parleytest.Password + `","forceChangePasswordNextSignIn":false},"accountEnabled":true,"usageLocation":"US"}`, 201},
	}
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.Do(tc.method, tc.path, tc.body)
			if r.Status != tc.status {
				t.Fatalf("got %d %s, want %d", r.Status, r.Body, tc.status)
			}
		})
	}
}

// TestS11_MethodNotAllowed: a known path asked with a method it does not
// take is 405 with Allow and the API's error shape; unknown paths stay 404.
func TestS11_MethodNotAllowed(t *testing.T) {
	s := parleytest.StartStore(t, "sqlite")
	contoso := s.CreateTenant("Contoso", "contoso.com")
	alice := s.User(contoso, "alice", false)
	bob := s.User(contoso, "bob", false)
	chat := alice.OneOnOne(bob.UserID)
	cases := []struct {
		name   string
		c      *parleytest.Client
		method string
		path   string
		status int
		allow  string
	}{
		{"PUT me", alice, "PUT", "/v1.0/me", 405, "GET, HEAD, PATCH"},
		{"PUT me without a token", s.Anonymous(), "PUT", "/v1.0/me", 405, "GET, HEAD, PATCH"},
		{"DELETE a chat", alice, "DELETE", "/v1.0/chats/" + chat, 405, "GET, HEAD, PATCH"},
		{"PUT the token endpoint", s.Anonymous(), "PUT", "/oauth2/token", 405, "POST"},
		{"GET the token endpoint", s.Anonymous(), "GET", "/oauth2/token", 405, "POST"},
		{"DELETE users", contoso.Admin, "DELETE", "/v1.0/users", 405, "GET, HEAD, POST"},
		{"PUT a message", alice, "PUT", "/v1.0/chats/" + chat + "/messages/1", 405, "GET, HEAD, PATCH, DELETE"},
		{"POST federation", contoso.Admin, "POST", "/parley/v1/admin/federationConfiguration", 405, "GET, HEAD, PATCH"},
		{"DELETE audit", contoso.Admin, "DELETE", "/parley/v1/admin/audit", 405, "GET, HEAD"},
		{"GET an answer", alice, "GET", "/parley/v1/me/requests/" + chat + "/accept", 405, "POST"},
		{"unknown Graph path", alice, "GET", "/v1.0/nothing", 404, ""},
		{"unknown Graph path, other method", alice, "PUT", "/v1.0/nothing", 404, ""},
		{"unknown Parley path", alice, "DELETE", "/parley/v1/nothing", 404, ""},
		{"unknown OAuth path", s.Anonymous(), "POST", "/oauth2/authorize", 404, ""},
		{"trailing slash is another path", alice, "PUT", "/v1.0/me/", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.Do(tc.method, tc.path, nil)
			code := "notFound"
			if tc.status == http.StatusMethodNotAllowed {
				code = "methodNotAllowed"
			}
			if r.Status != tc.status || r.ErrorCode() != code {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, tc.status, code)
			}
			if got := r.Header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow: got %q, want %q", got, tc.allow)
			}
			if msg := r.Map(t)["error"].(map[string]any)["message"].(string); msg == "" {
				t.Error("empty message")
			}
		})
	}
	// The chat is still there.
	alice.Must(200, "GET", "/v1.0/chats/"+chat, nil)
}
