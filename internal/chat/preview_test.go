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

// collapsed is what PlainText makes of a text body: white space collapsed
// within each line, blank lines dropped.
func collapsed(content string) string {
	var out []string
	for _, l := range strings.Split(content, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// FuzzSingleSpaced: a text SingleSpaced passes is what collapsing leaves
// of it, so PlainText may return it as it is; and PlainText of a text
// body is the collapsed text either way.
func FuzzSingleSpaced(f *testing.F) {
	for _, s := range []string{"", " ", "a", "a b", "a  b", " a", "a ", "a\tb", "a\nb", "a\u00a0b", "a\u0085b", "a\u2028b", "Grüße 你好", "bad \xff utf8", "x\u3000y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := collapsed(s)
		if chat.SingleSpaced(s) && want != s {
			t.Fatalf("SingleSpaced(%q), but collapsed it is %q", s, want)
		}
		if got := chat.PlainText("text", s); got != want {
			t.Fatalf("PlainText(text, %q) = %q, want %q", s, got, want)
		}
	})
}

func TestSingleSpaced(t *testing.T) {
	for s, want := range map[string]bool{"": true, "hello world": true, "Grüße, 你好": true, "a  b": false, " a": false, "a ": false, "a\tb": false, "a\u00a0b": false, "a\nb": false} {
		if got := chat.SingleSpaced(s); got != want {
			t.Errorf("SingleSpaced(%q) = %v, want %v", s, got, want)
		}
	}
}

// BenchmarkPlainText is the text a send indexes (search.PlainText calls
// PlainText): a 100-byte text body, as the load tool sends.
func BenchmarkPlainText(b *testing.B) {
	text := strings.Repeat("Lorem ipsum dolor sit amet ", 4)[:100]
	b.ReportAllocs()
	for b.Loop() {
		if chat.PlainText("text", text) == "" {
			b.Fatal("empty")
		}
	}
}
