package server_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestBadUTF8: issue 11. A JSON body with invalid UTF-8 or a lone
// surrogate escape, a form that is not UTF-8, and an address in a query
// that is not UTF-8 are a 400, never silently turned into U+FFFD and
// stored; escaped surrogate pairs still pass.
func TestBadUTF8(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartWorld(t, store)
		contoso := w.CreateTenant("Contoso", "contoso.com")
		alice := w.User(contoso, "alice", false)
		bob := w.User(contoso, "bob", false)
		chat := alice.OneOnOne(bob.UserID)
		messages := "/v1.0/chats/" + chat + "/messages"
		before := alice.Must(http.StatusOK, "GET", messages, nil).Body2()

		for _, tt := range []struct {
			name, method, path, body, why string
		}{
			{"message with an invalid byte", "POST", messages, "{\"body\":{\"content\":\"hi \xff\"}}", "not valid UTF-8"},
			{"message with a truncated sequence", "POST", messages, "{\"body\":{\"content\":\"\xe2\x82\"}}", "not valid UTF-8"},
			{"message with an encoded surrogate", "POST", messages, "{\"body\":{\"content\":\"\xed\xa0\x80\"}}", "not valid UTF-8"},
			{"message with a lone surrogate escape", "POST", messages, `{"body":{"content":"hi \ud800"}}`, "lone surrogate"},
			{"message with a reversed pair", "POST", messages, `{"body":{"content":"\udc00\ud800"}}`, "lone surrogate"},
			{"chat topic", "PATCH", "/v1.0/chats/" + chat, "{\"topic\":\"\xc3\"}", "not valid UTF-8"},
			{"sign-up address", "POST", "/parley/v1/signup", "{\"email\":\"a\xff@example.com\",\"displayName\":\"A\",\"password\":\"" + parleytest.Password + "\"}", "not valid UTF-8"},
			{"sign-up name", "POST", "/parley/v1/signup", `{"email":"new@example.com","displayName":"\udfff","password":"` + parleytest.Password + `"}`, "lone surrogate"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := alice.Do(tt.method, tt.path, []byte(tt.body))
				if r.Status != http.StatusBadRequest || r.ErrorCode() != "badRequest" || !strings.Contains(errMessageOf(t, r), tt.why) {
					t.Fatalf("%s %s %q: got %d %s, want 400 badRequest saying %q", tt.method, tt.path, tt.body, r.Status, r.Body, tt.why)
				}
			})
		}
		if after := alice.Must(http.StatusOK, "GET", messages, nil).Body2(); after != before {
			t.Errorf("messages changed after refused sends:\n%s\nwant\n%s", after, before)
		}
		if n := w.CountMailTo("new@example.com"); n != 0 {
			t.Errorf("%d mails to new@example.com after a refused sign-up, want 0", n)
		}

		// An escaped surrogate pair is a character like any other.
		id := alice.Must(http.StatusCreated, "POST", messages, []byte(`{"body":{"content":"smile \ud83d\ude00"}}`)).Map(t)["id"].(string)
		m := alice.Must(http.StatusOK, "GET", messages+"/"+id, nil).Map(t)
		if got := m["body"].(map[string]any)["content"]; got != "smile 😀" {
			t.Errorf("content = %q, want %q", got, "smile 😀")
		}

		// The sign-in form (OAuth 2 error shape) and addresses in queries.
		for _, form := range []url.Values{
			{"grant_type": {"password"}, "username": {"alice@contoso.com\xff"}, "password": {parleytest.Password}},
			{"grant_type": {"password"}, "username": {"alice@contoso.com"}, "password": {parleytest.Password + "\xff"}},
		} {
			resp, err := http.PostForm(w.URL()+"/oauth2/token", form)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close() // read in full
			if err != nil {
				t.Fatal(err)
			}
			var e struct {
				Error string `json:"error"`
			}
			(&parleytest.Response{Body: body}).JSON(t, &e)
			if resp.StatusCode != http.StatusBadRequest || e.Error != "invalid_request" {
				t.Errorf("sign in with %q: got %d %q, want 400 invalid_request", form.Encode(), resp.StatusCode, e.Error)
			}
		}
		for _, path := range []string{
			"/parley/v1/admin/explain?userId=" + alice.UserID + "&address=bob%FF%40example.com",
			"/v1.0/users?$filter=" + url.QueryEscape("userPrincipalName eq 'alice@contoso.com\xff'"),
		} {
			if r := contoso.Admin.Do("GET", path, nil); r.Status != http.StatusBadRequest || r.ErrorCode() != "badRequest" {
				t.Errorf("GET %s: got %d %s, want 400 badRequest", path, r.Status, r.Body)
			}
		}

		// A guest at an internationalised domain is found by the address as
		// typed, though it is kept with its A-label.
		contoso.Admin.Must(http.StatusCreated, "POST", "/v1.0/users", map[string]any{"displayName": "Jo", "userPrincipalName": "jo@Bücher.de",
			"passwordProfile": map[string]string{"password": parleytest.Password}, "userType": "Guest"})
		var page struct {
			Value []struct {
				UPN string `json:"userPrincipalName"`
			} `json:"value"`
		}
		contoso.Admin.Must(http.StatusOK, "GET", "/v1.0/users?$filter="+url.QueryEscape("userPrincipalName eq 'jo@bücher.de'"), nil).JSON(t, &page)
		if len(page.Value) != 1 || page.Value[0].UPN != "jo@xn--bcher-kva.de" {
			t.Errorf("users with userPrincipalName jo@bücher.de = %+v, want the one guest jo@xn--bcher-kva.de", page.Value)
		}
	})
}
