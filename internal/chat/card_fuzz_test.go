package chat

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/errcode"
)

// FuzzCheckCard: card JSON comes from any sender. checkCard never panics
// and refuses with badRequest naming the attachment; a card it accepts is
// a JSON object of type AdaptiveCard in which no link (read by a rule
// independent of checkCard's: blanks removed, lower case) starts with
// anything but http://, https://, mailto: or tel:.
func FuzzCheckCard(f *testing.F) {
	for _, seed := range []string{
		`{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"hi [x](https://example.com)"}],"actions":[{"type":"Action.OpenUrl","url":"https://example.com"}]}`,
		`{"type":"AdaptiveCard","actions":[{"type":"Action.OpenUrl","url":"javascript:alert(1)"}]}`,
		`{"type":"AdaptiveCard","body":[{"type":"Image","url":"data:image/png;base64,AAAA","selectAction":{"type":"Action.OpenUrl","url":"vbscript:x"}}]}`,
		`{"type":"AdaptiveCard","backgroundImage":{"url":" JaVa\tScRiPt:x"}}`,
		`{"type":"AdaptiveCard","actions":[{"type":"Action.Submit","data":{"url":"javascript:x"}}]}`,
		`{"type":"AdaptiveCard","body":[{"type":"FactSet","facts":[{"title":"a","value":"[b](<javascript:x>)"}]}]}`,
		`{"type":"AdaptiveCard","actions":[{"type":"Action.ShowCard","card":{"type":"AdaptiveCard","selectAction":{"url":"mailto:a@b.c"}}}]}`,
		`{"type":"NotACard"}`,
		`[]`,
		`{"type":"AdaptiveCard"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, content string) {
		err := checkCard(1, "c9", content)
		if err != nil {
			if !errcode.Is(err, errcode.BadRequest) || !strings.HasPrefix(errcode.Message(err), `Attachment 1 ("c9")`) {
				t.Fatalf("checkCard(%q) = %v, want badRequest naming the attachment", content, err)
			}
			return
		}
		var card map[string]any
		if err := json.Unmarshal([]byte(content), &card); err != nil || card["type"] != "AdaptiveCard" {
			t.Fatalf("checkCard accepted %q, which is not an Adaptive Card object (%v)", content, err)
		}
		if path, link := badLink(card, ""); path != "" {
			t.Fatalf("checkCard accepted %q with the link %q at %s", content, link, path)
		}
	})
}

// badLink is the fuzz target's own reading of "an unsafe link".
func badLink(v any, path string) (string, string) {
	switch v := v.(type) {
	case map[string]any:
		for k, it := range v {
			if k == "data" {
				continue
			}
			lk := strings.ToLower(k)
			if s, ok := it.(string); ok && (strings.HasSuffix(lk, "url") || lk == "backgroundimage" || lk == "poster") {
				clean := strings.ToLower(strings.Map(func(r rune) rune {
					if r <= ' ' || r == 0x7f {
						return -1
					}
					return r
				}, s))
				ok := false
				for _, p := range []string{"http://", "https://", "mailto:", "tel:"} {
					ok = ok || strings.HasPrefix(clean, p)
				}
				if !ok {
					return path + "." + k, s
				}
			}
			if p, l := badLink(it, path+"."+k); p != "" {
				return p, l
			}
		}
	case []any:
		for _, it := range v {
			if p, l := badLink(it, path+"[]"); p != "" {
				return p, l
			}
		}
	}
	return "", ""
}
