package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestS10_BadInput: malformed JSON, wrong types, unknown ids, other
// tenants' ids, oversized bodies and missing or bad tokens get the API's
// error shape and code, and change nothing.
func TestS10_BadInput(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		fabrikam := s.CreateTenant("Fabrikam", "fabrikam.com")
		eve := s.User(fabrikam, "eve", false)
		frank := s.User(fabrikam, "frank", false)
		chat := alice.OneOnOne(bob.UserID)
		msg := alice.Send(chat, "original")
		eveChat := eve.OneOnOne(frank.UserID)
		eveMsg := eve.Send(eveChat, "theirs")

		// snapshot captures the state every case must leave untouched.
		snapshot := func() string {
			var b strings.Builder
			for _, c := range []*parleytest.Client{alice, bob, eve} {
				b.Write(c.Must(200, "GET", "/v1.0/me/chats", nil).Body)
			}
			b.Write(alice.Must(200, "GET", "/v1.0/chats/"+chat+"/messages", nil).Body)
			b.Write(alice.Must(200, "GET", "/v1.0/chats/"+chat+"/members", nil).Body)
			b.Write(eve.Must(200, "GET", "/v1.0/chats/"+eveChat+"/messages", nil).Body)
			b.Write(contoso.Admin.Must(200, "GET", "/v1.0/users/"+alice.UserID, nil).Body)
			return b.String()
		}
		before := snapshot()
		big := `{"body":{"content":"` + strings.Repeat("x", 2<<20) + `"}}`
		cases := []struct {
			name   string
			c      *parleytest.Client
			method string
			path   string
			body   any
			status int
			code   string
		}{
			{"malformed JSON", alice, "POST", "/v1.0/chats/" + chat + "/messages", `{"body":`, 400, "badRequest"},
			{"not an object", alice, "POST", "/v1.0/chats/" + chat + "/messages", `[1,2]`, 400, "badRequest"},
			{"trailing data", alice, "POST", "/v1.0/chats/" + chat + "/messages", `{"body":{"content":"x"}} {}`, 400, "badRequest"},
			{"empty body", alice, "POST", "/v1.0/chats", ``, 400, "badRequest"},
			{"wrong type content", alice, "POST", "/v1.0/chats/" + chat + "/messages", `{"body":{"content":42}}`, 400, "badRequest"},
			{"wrong type members", alice, "POST", "/v1.0/chats", `{"chatType":"group","members":"bob"}`, 400, "badRequest"},
			{"missing body", alice, "POST", "/v1.0/chats/" + chat + "/messages", `{}`, 400, "badRequest"},
			{"empty message", alice, "POST", "/v1.0/chats/" + chat + "/messages", `{"body":{"content":"   "}}`, 400, "badRequest"},
			{"bad contentType", alice, "POST", "/v1.0/chats/" + chat + "/messages", `{"body":{"contentType":"rtf","content":"x"}}`, 400, "badRequest"},
			{"message too long", alice, "POST", "/v1.0/chats/" + chat + "/messages", `{"body":{"content":"` + strings.Repeat("y", 40000) + `"}}`, 400, "badRequest"},
			{"oversized body", alice, "POST", "/v1.0/chats/" + chat + "/messages", big, 413, "payloadTooLarge"},
			{"bad chatType", alice, "POST", "/v1.0/chats", map[string]any{"chatType": "meeting", "members": []any{parleytest.Bind(bob.UserID, true)}}, 400, "badRequest"},
			{"oneOnOne with three", alice, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.Bind(bob.UserID, true), parleytest.Bind(eve.UserID, true)}}, 400, "badRequest"},
			{"bad bind", alice, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{map[string]any{"user@odata.bind": "nonsense"}}}, 400, "badRequest"},
			{"unknown user", alice, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.Bind("no-such-user", true)}}, 404, "notFound"},
			{"bad role", alice, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "members": []any{map[string]any{"user@odata.bind": "https://x/v1.0/users('" + bob.UserID + "')", "roles": []string{"god"}}}}, 400, "badRequest"},
			{"bad visibleHistory", alice, "POST", "/v1.0/chats/" + chat + "/members", map[string]any{"user@odata.bind": "https://x/v1.0/users('" + bob.UserID + "')", "visibleHistoryStartDateTime": "yesterday"}, 400, "badRequest"},
			{"unknown chat", alice, "GET", "/v1.0/chats/19:nope@thread.v2/messages", nil, 404, "notFound"},
			{"edit someone else's message", bob, "PATCH", "/v1.0/chats/" + chat + "/messages/" + msg, map[string]any{"body": map[string]string{"content": "x"}}, 403, "forbidden"},
			{"edit with wrong type", alice, "PATCH", "/v1.0/chats/" + chat + "/messages/" + msg, `{"body":{"content":["x"]}}`, 400, "badRequest"},
			{"unknown message", alice, "GET", "/v1.0/chats/" + chat + "/messages/999999", nil, 404, "notFound"},
			{"non-numeric message id", alice, "PATCH", "/v1.0/chats/" + chat + "/messages/abc", map[string]any{"body": map[string]string{"content": "x"}}, 404, "notFound"},
			{"other tenant's chat", alice, "POST", "/v1.0/chats/" + eveChat + "/messages", map[string]any{"body": map[string]string{"content": "x"}}, 404, "notFound"},
			{"other tenant's message", alice, "DELETE", "/v1.0/chats/" + eveChat + "/messages/" + eveMsg, nil, 404, "notFound"},
			{"other chat's message id", alice, "DELETE", "/v1.0/chats/" + chat + "/messages/" + eveMsg, nil, 404, "notFound"},
			{"other tenant's chat members", alice, "POST", "/v1.0/chats/" + eveChat + "/members", parleytest.Bind(alice.UserID, false), 404, "notFound"},
			{"other tenant's user", alice, "GET", "/v1.0/users/" + eve.UserID, nil, 404, "notFound"},
			{"unknown route", alice, "GET", "/v1.0/nothing", nil, 404, "notFound"},
			{"bad $top", alice, "GET", "/v1.0/chats/" + chat + "/messages?$top=-1", nil, 400, "badRequest"},
			{"bad skiptoken", alice, "GET", "/v1.0/me/chats?$skiptoken=zzz", nil, 400, "badRequest"},
			{"no token", s.Anonymous(), "GET", "/v1.0/me/chats", nil, 401, "unauthenticated"},
			{"bad token", &parleytest.Client{TB: t, Base: s.URL(), Token: "forged", HTTP: http.DefaultClient}, "POST", "/v1.0/chats/" + chat + "/messages", map[string]any{"body": map[string]string{"content": "x"}}, 401, "unauthenticated"},
			{"operator token is not a user token", s.Operator(), "GET", "/v1.0/me", nil, 401, "unauthenticated"},
			{"user token is not the operator token", alice, "POST", "/parley/v1/operator/tenants", map[string]any{"displayName": "X"}, 401, "unauthenticated"},
			{"wrong content type", alice, "POST", "/v1.0/chats/" + chat + "/messages", nil, 400, "badRequest"},
			{"tenant without domains", s.Operator(), "POST", "/parley/v1/operator/tenants", map[string]any{"displayName": "X", "admin": map[string]string{"displayName": "A", "userPrincipalName": "a@x.com", "password": parleytest.Password}}, 400, "badRequest"},
			{"tenant with bad domain", s.Operator(), "POST", "/parley/v1/operator/tenants", map[string]any{"displayName": "X", "domains": []string{"not a domain"}, "admin": map[string]string{"displayName": "A", "userPrincipalName": "a@x.com", "password": parleytest.Password}}, 400, "badRequest"},
			{"tenant with short password", s.Operator(), "POST", "/parley/v1/operator/tenants", map[string]any{"displayName": "X", "domains": []string{"x.com"}, "admin": map[string]string{"displayName": "A", "userPrincipalName": "a@x.com", "password": "short"}}, 400, "badRequest"},
			{"tenant with taken domain", s.Operator(), "POST", "/parley/v1/operator/tenants", map[string]any{"displayName": "X", "domains": []string{"contoso.com"}, "admin": map[string]string{"displayName": "A", "userPrincipalName": "a@contoso.com", "password": parleytest.Password}}, 409, "domainTaken"},
			{"user with bad type", contoso.Admin, "POST", "/v1.0/users", map[string]any{"displayName": "X", "userPrincipalName": "x@contoso.com", "userType": "Root", "passwordProfile": map[string]string{"password": parleytest.Password}}, 400, "badRequest"},
			{"user with bad address", contoso.Admin, "POST", "/v1.0/users", map[string]any{"displayName": "X", "userPrincipalName": "x at contoso", "passwordProfile": map[string]string{"password": parleytest.Password}}, 400, "badRequest"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var r *parleytest.Response
				if tc.name == "wrong content type" {
					r = tc.c.DoHeader(tc.method, tc.path, `{"body":{"content":"x"}}`, map[string]string{"Content-Type": "text/plain"})
				} else {
					r = tc.c.Do(tc.method, tc.path, tc.body)
				}
				if r.Status != tc.status || r.ErrorCode() != tc.code {
					t.Fatalf("got %d %s, want %d %s", r.Status, truncate(r.Body), tc.status, tc.code)
				}
				if msg := r.Map(t)["error"].(map[string]any)["message"].(string); msg == "" || strings.Contains(msg, "sql") || strings.Contains(msg, "goroutine") {
					t.Errorf("message %q is empty or leaks internals", msg)
				}
			})
		}
		if after := snapshot(); after != before {
			t.Fatalf("bad input changed state:\nbefore %s\nafter  %s", before, after)
		}
		// Oversized bodies are refused on the token endpoint too.
		resp, err := http.PostForm(s.URL()+"/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"a@contoso.com"}, "password": {strings.Repeat("p", 2<<20)}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Errorf("oversized token request: %d", resp.StatusCode)
		}
	})
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
