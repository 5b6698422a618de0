// Package search holds docs/rules.md §7's search over the messages a person
// may see: the query language (words, "phrases", from:, in:, before:,
// after:, on:), the plain text messages are indexed by, the highlighted
// summary of a hit, and the Service that asks the store for hits trimmed
// by membership at query time. It also finds people to start a chat with
// (people.go): one's own organisation and one's accepted contacts, never an
// outsider (§4's rule of silence). It is a domain package: no SQL, no HTTP.
package search

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/errcode"
)

// Limits of a query.
const (
	MaxQueryBytes = 1024
	MaxTerms      = 16
)

// Term is a word or a "phrase" of a query, as the index's tokens: a
// word's tokens must follow each other too ("e-mail" is e, mail), and a
// word matches as a prefix of its last token (search as one types).
type Term struct {
	Tokens []string
	Phrase bool
}

// Query is a parsed query: its terms and filters.
type Query struct {
	Terms []Term
	// From is the sender's address (sign-in name or mail), lower case, or
	// "me" for the caller.
	From string
	// In is a chat id, or a piece of a chat's topic.
	In string
	// After and Before bound the messages' time: After inclusive, Before
	// exclusive (zero: unbounded).
	After, Before time.Time
}

// Empty reports whether q has neither terms nor filters.
func (q *Query) Empty() bool {
	return len(q.Terms) == 0 && q.From == "" && q.In == "" && q.After.IsZero() && q.Before.IsZero()
}

// Words returns the query's terms as text, for Graph's searchTerms.
func (q *Query) Words() []string {
	out := make([]string, 0, len(q.Terms))
	for _, t := range q.Terms {
		out = append(out, strings.Join(t.Tokens, " "))
	}
	return out
}

// Tokens splits text as the index does: maximal runs of letters and
// digits, lower-cased.
func Tokens(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// Parse reads a query: words and "quoted phrases" that must all match,
// and the filters from:ADDRESS (or from:me), in:CHAT (a chat id, or a
// piece of its topic; "in:\"Launch plan\"" for a topic with spaces),
// after:DATE, before:DATE and on:DATE (YYYY-MM-DD, UTC; after and before
// exclude the day, as Slack's do). Errors: badRequest.
func Parse(s string) (Query, error) {
	var q Query
	if len(s) > MaxQueryBytes {
		return q, errcode.New(errcode.BadRequest, "The query is longer than %d bytes.", MaxQueryBytes)
	}
	if !utf8.ValidString(s) {
		return q, errcode.New(errcode.BadRequest, "The query is not valid UTF-8.")
	}
	for rest := strings.TrimSpace(s); rest != ""; rest = strings.TrimSpace(rest) {
		var field string
		var quoted bool
		field, rest, quoted = nextField(rest)
		if !quoted {
			if key, val, ok := strings.Cut(field, ":"); ok && filterKeys[strings.ToLower(key)] {
				if strings.HasPrefix(val, `"`) {
					// in:"Launch plan": the value is the quoted text after the colon.
					var v string
					v, rest, _ = nextField(val + rest)
					val = v
				}
				if err := q.filter(strings.ToLower(key), val); err != nil {
					return Query{}, err
				}
				continue
			}
		}
		toks := Tokens(field)
		if len(toks) == 0 {
			continue
		}
		if len(q.Terms) == MaxTerms {
			return Query{}, errcode.New(errcode.BadRequest, "A query may have at most %d words and phrases.", MaxTerms)
		}
		q.Terms = append(q.Terms, Term{Tokens: toks, Phrase: quoted})
	}
	return q, nil
}

var filterKeys = map[string]bool{"from": true, "in": true, "after": true, "before": true, "on": true}

// nextField returns the first field of s (a "quoted phrase" without its
// quotes, or a run up to white space) and what follows.
func nextField(s string) (field, rest string, quoted bool) {
	if strings.HasPrefix(s, `"`) {
		if end := strings.IndexByte(s[1:], '"'); end >= 0 {
			return s[1 : 1+end], s[2+end:], true
		}
		return s[1:], "", true // an unclosed quote runs to the end
	}
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		return s[:i], s[i:], false
	}
	return s, "", false
}

func (q *Query) filter(key, val string) error {
	if val == "" {
		return errcode.New(errcode.BadRequest, "%s: needs a value.", key)
	}
	switch key {
	case "from":
		q.From = strings.ToLower(val)
	case "in":
		q.In = val
	default:
		d, err := time.Parse(time.DateOnly, val)
		if err != nil {
			return errcode.New(errcode.BadRequest, "%s: takes a date as YYYY-MM-DD.", key)
		}
		switch key {
		case "after":
			q.After = d.AddDate(0, 0, 1)
		case "before":
			q.Before = d
		case "on":
			q.After, q.Before = d, d.AddDate(0, 0, 1)
		}
	}
	return nil
}
