package search

import (
	"context"
	"fmt"
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

// Sort orders hits.
type Sort string

// Orders of hits.
const (
	Newest    Sort = "newest"
	Relevance Sort = "relevance"
)

// Page sizes and depth of results.
const (
	DefaultPageSize = 25
	MaxPageSize     = 50
	// MaxOffset bounds how deep one pages; a narrower query finds the rest.
	MaxOffset = 1000
	// MaxTotal caps the counted total of hits.
	MaxTotal = 1000
)

// Hit is a message found, with the text it was indexed by.
type Hit struct {
	Message chat.Message
	Text    string
	// Pending is set when the viewer is the target of a pending request in
	// the message's chat: they see the preview form (docs/rules.md §5).
	Pending bool
	// TeamID is the team of a channel message ("" for a chat message,
	// whose ChatID is then a chat's; for a channel message it is the
	// channel's id).
	TeamID string
}

// Store finds messages. Every method trims by membership at query time
// (docs/rules.md §7): only chats the viewer is in now, as an accepted
// member or as the target of a delivered (not held) request, only
// messages from the viewer's visible history on, never deleted ones.
type Store interface {
	// SearchMessages returns up to limit hits of q after skipping offset,
	// newest first or best first.
	SearchMessages(ctx context.Context, viewer identity.UserID, q Query, sort Sort, offset, limit int) ([]Hit, error)
	// CountMessageHits counts the hits of q, up to max.
	CountMessageHits(ctx context.Context, viewer identity.UserID, q Query, max int) (int, error)
}

// Service searches messages and people.
type Service struct {
	Store Store
	// Preview is the form in which a pending request's target sees a
	// message (chat.Service.Preview).
	Preview func(*chat.Message) chat.Message
	// Directory finds people to start a chat with (people.go).
	Directory PeopleStore
}

// ResultHit is one message found, with its highlighted summary.
type ResultHit struct {
	Message chat.Message
	// Summary is the hit's text around its first match, HTML-escaped, the
	// matches in <c0>…</c0> and cuts shown as <ddd/> (Graph's form).
	Summary string
	Rank    int    // 1-based position in the whole result
	TeamID  string // a channel message's team (Hit.TeamID)
}

// Result is a page of hits.
type Result struct {
	Hits  []ResultHit
	Total int // up to MaxTotal
	More  bool
	Terms []string
}

// Messages runs a query for actor. Errors: badRequest.
func (s *Service) Messages(ctx context.Context, actor *identity.User, text string, sort Sort, offset, limit int) (Result, error) {
	q, err := Parse(text)
	if err != nil {
		return Result{}, err
	}
	if q.Empty() {
		return Result{}, errcode.New(errcode.BadRequest, "The query is empty: give words, \"a phrase\", from:, in:, after:, before: or on:.")
	}
	switch sort {
	case "":
		sort = Relevance
		if len(q.Terms) == 0 {
			sort = Newest
		}
	case Newest, Relevance:
	default:
		return Result{}, errcode.New(errcode.BadRequest, "sort must be newest or relevance.")
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	if offset < 0 || offset > MaxOffset {
		return Result{}, errcode.New(errcode.BadRequest, "Results can be paged up to %d deep; narrow the query.", MaxOffset)
	}
	if q.From == "me" {
		q.From = strings.ToLower(actor.UPN)
	}
	hits, err := s.Store.SearchMessages(ctx, actor.ID, q, sort, offset, limit+1)
	if err != nil {
		return Result{}, fmt.Errorf("search: %w", err)
	}
	res := Result{Terms: q.Words()}
	if len(hits) > limit {
		hits, res.More = hits[:limit], true
	}
	res.Total = offset + len(hits)
	if res.More || offset > 0 {
		if res.Total, err = s.Store.CountMessageHits(ctx, actor.ID, q, MaxTotal); err != nil {
			return Result{}, fmt.Errorf("search: %w", err)
		}
	}
	res.Hits = make([]ResultHit, len(hits))
	for i := range hits {
		h := &hits[i]
		m := h.Message
		if h.Pending {
			m = s.Preview(&m)
		}
		res.Hits[i] = ResultHit{Message: m, Summary: Summary(h.Text, q.Terms), Rank: offset + i + 1, TeamID: h.TeamID}
	}
	return res, nil
}

// PlainText is the text a message is indexed and summarised by: its text
// without markup (chat.PlainText, the text previews show) on one line.
func PlainText(contentType, content string) string {
	p := chat.PlainText(contentType, content)
	if chat.SingleSpaced(p) {
		return p // on one line already (most sends): no copy
	}
	return strings.Join(strings.Fields(p), " ")
}

// summaryRunes is about how much text a summary shows.
const summaryRunes = 160

// Summary returns text around its first match of terms, HTML-escaped, with
// every matching token in <c0>…</c0> and cuts marked <ddd/>.
func Summary(text string, terms []Term) string {
	type span struct{ lo, hi int }
	var spans []span
	for lo := 0; lo < len(text); {
		if ok, n := tokenRune(text, lo); !ok {
			lo += n
			continue
		}
		hi := lo
		for hi < len(text) {
			ok, n := tokenRune(text, hi)
			if !ok {
				break
			}
			hi += n
		}
		if matches(strings.ToLower(text[lo:hi]), terms) {
			spans = append(spans, span{lo, hi})
		}
		lo = hi
	}
	start := 0
	if len(spans) > 0 {
		start = back(text, spans[0].lo, summaryRunes/4)
	}
	end := forward(text, start, summaryRunes)
	var b strings.Builder
	if start > 0 {
		b.WriteString("<ddd/>")
	}
	at := start
	for _, sp := range spans {
		if sp.lo < start || sp.hi > end {
			continue
		}
		b.WriteString(html.EscapeString(text[at:sp.lo]))
		b.WriteString("<c0>")
		b.WriteString(html.EscapeString(text[sp.lo:sp.hi]))
		b.WriteString("</c0>")
		at = sp.hi
	}
	b.WriteString(html.EscapeString(text[at:end]))
	if end < len(text) {
		b.WriteString("<ddd/>")
	}
	return b.String()
}

// matches reports whether a token of the text is one of the terms': equal
// to a token, or beginning the last token of a word (a prefix match).
func matches(tok string, terms []Term) bool {
	for _, t := range terms {
		for i, q := range t.Tokens {
			if tok == q || (!t.Phrase && i == len(t.Tokens)-1 && strings.HasPrefix(tok, q)) {
				return true
			}
		}
	}
	return false
}

// tokenRune reports whether the rune at s[i] is part of a token, and its length.
func tokenRune(s string, i int) (bool, int) {
	r, n := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r), n
}

// back moves from byte i back by up to n runes, to a word boundary.
func back(s string, i, n int) int {
	for ; n > 0 && i > 0; n-- {
		i--
		for i > 0 && (s[i]&0xC0) == 0x80 {
			i--
		}
	}
	if i > 0 && s[i-1] != ' ' {
		if j := strings.LastIndexByte(s[:i], ' '); j >= 0 && i-j < 20 {
			return j + 1
		}
	}
	return i
}

// forward moves from byte i forward by up to n runes.
func forward(s string, i, n int) int {
	for ; n > 0 && i < len(s); n-- {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return i
}
