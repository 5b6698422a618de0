package search_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/search"
)

func TestParse(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	tests := []struct {
		name, in string
		want     search.Query
		bad      bool
	}{
		{name: "words", in: "Budget  Review", want: search.Query{Terms: []search.Term{{Tokens: []string{"budget"}}, {Tokens: []string{"review"}}}}},
		{name: "phrase", in: `"budget is" ready`, want: search.Query{Terms: []search.Term{{Tokens: []string{"budget", "is"}, Phrase: true}, {Tokens: []string{"ready"}}}}},
		{name: "word with punctuation", in: "e-mail", want: search.Query{Terms: []search.Term{{Tokens: []string{"e", "mail"}}}}},
		{name: "punctuation only", in: "-- !!", want: search.Query{}},
		{name: "from", in: "from:Alice@Contoso.com x", want: search.Query{From: "alice@contoso.com", Terms: []search.Term{{Tokens: []string{"x"}}}}},
		{name: "in quoted", in: `in:"Launch plan" go`, want: search.Query{In: "Launch plan", Terms: []search.Term{{Tokens: []string{"go"}}}}},
		{name: "dates", in: "after:2026-01-02 before:2026-02-01", want: search.Query{After: day("2026-01-03"), Before: day("2026-02-01")}},
		{name: "on", in: "on:2026-01-02", want: search.Query{After: day("2026-01-02"), Before: day("2026-01-03")}},
		{name: "unknown key is a word", in: "to:bob", want: search.Query{Terms: []search.Term{{Tokens: []string{"to", "bob"}}}}},
		{name: "quoted filter is a phrase", in: `"from:bob"`, want: search.Query{Terms: []search.Term{{Tokens: []string{"from", "bob"}, Phrase: true}}}},
		{name: "bad date", in: "after:soon", bad: true},
		{name: "empty filter", in: "in:", bad: true},
		{name: "invalid UTF-8", in: "\xff", bad: true},
		{name: "too many terms", in: "a b c d e f g h i j k l m n o p q", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := search.Parse(tt.in)
			if tt.bad {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	q, _ := search.Parse("budg ready")
	tests := []struct{ text, want string }{
		{"The budget is ready", "The <c0>budget</c0> is <c0>ready</c0>"},
		{"<b>budget</b> & co", "&lt;b&gt;<c0>budget</c0>&lt;/b&gt; &amp; co"},
		{"nothing here", "nothing here"},
		{"Ünïcode büdget budgets", "Ünïcode büdget <c0>budgets</c0>"},
	}
	for _, tt := range tests {
		if got := search.Summary(tt.text, q.Terms); got != tt.want {
			t.Errorf("Summary(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
	long := "word " + string(make([]byte, 0)) + "filler text that goes on and on and on and on and on and on and on and on and on and on and on and on and on and on and on and on and on and on and on and then the budget appears and more text follows for a long while after it so it is cut there too yes indeed more and more and more and more and more and more and more"
	got := search.Summary(long, q.Terms)
	if got[:6] != "<ddd/>" || got[len(got)-6:] != "<ddd/>" {
		t.Errorf("long summary not cut on both sides: %q", got)
	}
}

func TestPlainText(t *testing.T) {
	if got := search.PlainText("html", `<p>See <b>the</b> <a href="https://x.example">site</a></p><p>&amp; more</p>`); got != "See the site & more" {
		t.Errorf("PlainText = %q", got)
	}
	if got := search.PlainText("text", "  a\n b "); got != "a b" {
		t.Errorf("PlainText = %q", got)
	}
}
