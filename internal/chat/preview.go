package chat

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
)

// MaxPreviewRunes caps a message's preview: long enough for any chat
// message people write, short enough that a request cannot carry a wall
// of text before its target accepts.
const MaxPreviewRunes = 2000

// stripTags keeps only text (bluemonday's strict policy).
var stripTags = bluemonday.StrictPolicy()

// PlainText is a body's text without markup: an HTML body with its tags
// stripped and its entities decoded, block ends and <br> as line breaks;
// then white space collapsed within each line, and blank lines dropped.
// A text body is taken as it is (never sanitised: "a < b" stays "a < b").
func PlainText(contentType, content string) string {
	if contentType != "html" && SingleSpaced(content) {
		return content // what collapsing would leave (most sends)
	}
	if contentType == "html" {
		content = strings.NewReplacer("<br>", "\n", "<br/>", "\n", "<br />", "\n", "</p>", "\n", "</div>", "\n", "</li>", "\n").Replace(content)
		content = html.UnescapeString(stripTags.Sanitize(content))
	}
	lines := strings.Split(content, "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// SingleSpaced reports whether s is one line of words separated by single
// spaces, without a space at either end: a string that collapsing white
// space (strings.Fields, then joined by spaces) leaves as it is.
func SingleSpaced(s string) bool {
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case b == ' ':
				if i == 0 || i == len(s)-1 || s[i+1] == ' ' {
					return false
				}
			case b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r':
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			return false
		}
		i += size
	}
	return true
}

// PreviewText is the one form a message's text takes wherever Parley
// shows it before its reader may see the message itself (docs/rules.md
// §5): the requests list, live events and search hits to a pending
// request's target, and quoted replies. Plain text (PlainText), so links
// are not links and images are not loaded, cut to at most n runes with an
// ellipsis.
func PreviewText(contentType, content string, n int) string {
	s := PlainText(contentType, content)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Preview is a message in the form a target who has not accepted the
// request sees it (msgrequest.PreviewForm, docs/rules.md §5): its text by
// PreviewText, no attachments (cards may hold images, files are not
// downloadable), no reactions (nothing of the sender's side but the text).
// The requests list, the message list, live events and search all give a
// pending target this one form.
func Preview(m *Message) Message {
	p := *m
	p.ContentType, p.Content = "text", PreviewText(m.ContentType, m.Content, MaxPreviewRunes)
	p.Attachments, p.Reactions = nil, nil
	return p
}
