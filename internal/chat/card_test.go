package chat

import (
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/errcode"
)

// TestCheckCard: issue 11 item 9. Every link in a card must be http(s)
// with a host, mailto or tel; anything else is a 400 naming the attachment
// and where the link is.
func TestCheckCard(t *testing.T) {
	tests := []struct {
		name  string
		card  string
		where string // "" means accepted; else part of the message
	}{
		{name: "plain card", card: `{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"hi"}]}`},
		{name: "https OpenUrl", card: `{"type":"AdaptiveCard","actions":[{"type":"Action.OpenUrl","title":"Go","url":"https://example.com/a?b=c"}]}`},
		{name: "http image, mailto and tel", card: `{"type":"AdaptiveCard","body":[{"type":"Image","url":"http://example.com/i.png","selectAction":{"type":"Action.OpenUrl","url":"mailto:bob@example.com"}}],"actions":[{"type":"Action.OpenUrl","url":"tel:+14155550100"}]}`},
		{name: "Markdown https link", card: `{"type":"AdaptiveCard","body":[{"type":"TextBlock","text":"see [docs](https://example.com/docs)"}]}`},
		{name: "submit data is the bot's", card: `{"type":"AdaptiveCard","actions":[{"type":"Action.Submit","data":{"url":"not-a-link"}}]}`},
		{name: "upper-case scheme", card: `{"type":"AdaptiveCard","actions":[{"type":"Action.OpenUrl","url":"HTTPS://EXAMPLE.COM"}]}`},

		{name: "javascript OpenUrl", card: `{"type":"AdaptiveCard","actions":[{"type":"Action.OpenUrl","title":"Go","url":"javascript:alert(1)"}]}`, where: `actions[0].url ("javascript:alert(1)")`},
		{name: "mixed-case javascript", card: `{"type":"AdaptiveCard","actions":[{"type":"Action.OpenUrl","url":"JaVaScRiPt:alert(1)"}]}`, where: "actions[0].url"},
		{name: "javascript with a tab", card: `{"type":"AdaptiveCard","actions":[{"type":"Action.OpenUrl","url":"java\tscript:alert(1)"}]}`, where: "actions[0].url"},
		{name: "javascript with a leading space", card: `{"type":"AdaptiveCard","actions":[{"type":"Action.OpenUrl","url":" javascript:alert(1)"}]}`, where: "actions[0].url"},
		{name: "javascript escaped in JSON", card: `{"type":"AdaptiveCard","actions":[{"type":"Action.OpenUrl","url":"\u006aavascript:alert(1)"}]}`, where: "actions[0].url"},
		{name: "data image", card: `{"type":"AdaptiveCard","body":[{"type":"Image","url":"data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="}]}`, where: "body[0].url"},
		{name: "vbscript selectAction", card: `{"type":"AdaptiveCard","body":[{"type":"Container","selectAction":{"type":"Action.OpenUrl","url":"vbscript:msgbox(1)"},"items":[]}]}`, where: "body[0].selectAction.url"},
		{name: "card selectAction", card: `{"type":"AdaptiveCard","selectAction":{"type":"Action.OpenUrl","url":"file:///etc/passwd"}}`, where: "selectAction.url"},
		{name: "background image string", card: `{"type":"AdaptiveCard","backgroundImage":"javascript:x"}`, where: "backgroundImage"},
		{name: "background image object", card: `{"type":"AdaptiveCard","backgroundImage":{"url":"data:x"}}`, where: "backgroundImage.url"},
		{name: "icon url", card: `{"type":"AdaptiveCard","actions":[{"type":"Action.Submit","iconUrl":"javascript:x"}]}`, where: "actions[0].iconUrl"},
		{name: "media poster and source", card: `{"type":"AdaptiveCard","body":[{"type":"Media","poster":"https://example.com/p.png","sources":[{"mimeType":"video/mp4","url":"javascript:x"}]}]}`, where: "body[0].sources[0].url"},
		{name: "nested show card", card: `{"type":"AdaptiveCard","actions":[{"type":"Action.ShowCard","card":{"type":"AdaptiveCard","actions":[{"type":"Action.OpenUrl","url":"javascript:x"}]}}]}`, where: "actions[0].card.actions[0].url"},
		{name: "Markdown javascript link", card: `{"type":"AdaptiveCard","body":[{"type":"TextBlock","text":"click [here](javascript:alert(1))"}]}`, where: "body[0].text"},
		{name: "Markdown link in a fact", card: `{"type":"AdaptiveCard","body":[{"type":"FactSet","facts":[{"title":"t","value":"[x]( data:text/html,hi)"}]}]}`, where: "body[0].facts[0].value"},
		{name: "relative link", card: `{"type":"AdaptiveCard","actions":[{"type":"Action.OpenUrl","url":"/parley/v1/signout"}]}`, where: "actions[0].url"},
		{name: "scheme-relative link", card: `{"type":"AdaptiveCard","actions":[{"type":"Action.OpenUrl","url":"//evil.example"}]}`, where: "actions[0].url"},
		{name: "http without host", card: `{"type":"AdaptiveCard","actions":[{"type":"Action.OpenUrl","url":"http:alert(1)"}]}`, where: "actions[0].url"},
		{name: "empty url", card: `{"type":"AdaptiveCard","actions":[{"type":"Action.OpenUrl","url":""}]}`, where: "actions[0].url"},

		{name: "not a card", card: `{"type":"NotACard"}`, where: "not an Adaptive Card"},
		{name: "not JSON", card: `{"type":`, where: "not an Adaptive Card"},
		{name: "an array", card: `[{"type":"AdaptiveCard"}]`, where: "not an Adaptive Card"},
		{name: "trailing data", card: `{"type":"AdaptiveCard"} {}`, where: "not an Adaptive Card"},
		{name: "trailing brace", card: `{"type":"AdaptiveCard"} }`, where: "not an Adaptive Card"},
		{name: "invalid UTF-8", card: "{\"type\":\"AdaptiveCard\",\"x\":\"\xff\"}", where: "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkCard(2, "c1", tt.card)
			if tt.where == "" {
				if err != nil {
					t.Fatalf("checkCard(%s): %v, want accepted", tt.card, err)
				}
				return
			}
			if !errcode.Is(err, errcode.BadRequest) {
				t.Fatalf("checkCard(%s) = %v, want badRequest", tt.card, err)
			}
			msg := errcode.Message(err)
			if !strings.HasPrefix(msg, `Attachment 2 ("c1")`) || !strings.Contains(msg, tt.where) {
				t.Errorf("message = %q, want it to name attachment 2 (\"c1\") and %q", msg, tt.where)
			}
		})
	}
}
