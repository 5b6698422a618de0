package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestCardLinks: issue 11 item 9. A card whose Action.OpenUrl, select
// action or image points at a javascript:, data: or vbscript: URL is
// refused at the API, on send and on edit, with a 400 naming the
// attachment and where the link is; nothing is stored. http(s), mailto and
// tel links pass.
func TestCardLinks(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		chat := alice.OneOnOne(bob.UserID)
		messages := "/v1.0/chats/" + chat + "/messages"
		withCard := func(card string) map[string]any {
			return map[string]any{"body": map[string]string{"contentType": "html", "content": `<attachment id="c1"></attachment>`},
				"attachments": []any{map[string]any{"id": "c1", "contentType": "application/vnd.microsoft.card.adaptive", "content": card}}}
		}
		good := `{"type":"AdaptiveCard","version":"1.5","body":[{"type":"Image","url":"https://example.com/a.png","selectAction":{"type":"Action.OpenUrl","url":"mailto:help@example.com"}}],` +
			`"actions":[{"type":"Action.OpenUrl","title":"Open","url":"https://example.com/x"},{"type":"Action.OpenUrl","title":"Call","url":"tel:+14155550100"}]}`
		id := alice.Must(http.StatusCreated, "POST", messages, withCard(good)).Map(t)["id"].(string)
		before := alice.Must(http.StatusOK, "GET", messages, nil).Body2()

		for _, tt := range []struct{ name, card, where string }{
			{"javascript OpenUrl", `{"type":"AdaptiveCard","actions":[{"type":"Action.OpenUrl","title":"Go","url":"javascript:alert(document.cookie)"}]}`, "actions[0].url"},
			{"data image", `{"type":"AdaptiveCard","body":[{"type":"Image","url":"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="}]}`, "body[0].url"},
			{"vbscript select action", `{"type":"AdaptiveCard","selectAction":{"type":"Action.OpenUrl","url":"VBScript:msgbox(1)"}}`, "selectAction.url"},
			{"javascript with a tab", `{"type":"AdaptiveCard","actions":[{"type":"Action.OpenUrl","url":"java\tscript:alert(1)"}]}`, "actions[0].url"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				for _, req := range []struct{ method, path string }{{"POST", messages}, {"PATCH", messages + "/" + id}} {
					r := alice.Do(req.method, req.path, withCard(tt.card))
					if r.Status != http.StatusBadRequest || r.ErrorCode() != "badRequest" {
						t.Fatalf("%s %s: got %d %s, want 400 badRequest", req.method, req.path, r.Status, r.Body)
					}
					msg := errMessageOf(t, r)
					if !strings.HasPrefix(msg, `Attachment 0 ("c1") has an unsafe link at `+tt.where) {
						t.Errorf("%s: message %q, want it to name attachment 0 (\"c1\") and %s", req.method, msg, tt.where)
					}
				}
			})
		}
		if after := alice.Must(http.StatusOK, "GET", messages, nil).Body2(); after != before {
			t.Errorf("messages changed after refused cards:\n%s\nwant\n%s", after, before)
		}
	})
}
