package chat_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/chat"
)

func TestPreviewText(t *testing.T) {
	tests := []struct{ name, typ, in, want string }{
		{"text as is", "text", "a < b & c", "a < b & c"},
		{"text lines kept, spaces collapsed", "text", "one   two\n\n\nthree ", "one two\nthree"},
		{"html tags stripped, entities decoded", "html", `<p>Fish &amp; chips at <a href="https://x.example">our place</a></p><p>2 &lt; 3</p>`, "Fish & chips at our place\n2 < 3"},
		{"html line breaks", "html", "a<br>b<br/>c", "a\nb\nc"},
		{"images and scripts leave nothing", "html", `<img src="https://x.example/p.png"><script>alert(1)</script>hi`, "hi"},
		{"mentions keep their text", "html", `<at id="0">Bob</at> look`, "Bob look"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chat.PreviewText(tt.typ, tt.in, chat.MaxPreviewRunes); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	long := strings.Repeat("é", chat.MaxPreviewRunes+5)
	got := chat.PreviewText("text", long, chat.MaxPreviewRunes)
	if n := utf8.RuneCountInString(got); n != chat.MaxPreviewRunes || !strings.HasSuffix(got, "…") {
		t.Errorf("cut: %d runes, suffix %q", n, got[len(got)-3:])
	}
	exact := strings.Repeat("x", chat.MaxPreviewRunes)
	if got := chat.PreviewText("text", exact, chat.MaxPreviewRunes); got != exact {
		t.Errorf("a text of exactly the cap was cut")
	}
}
