package chat

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/errcode"
)

// checkCard checks the Adaptive Card JSON of attachment i (id: its id as
// sent, maybe "") of a message: a JSON object of type AdaptiveCard whose
// every link is safe to open. Errors: badRequest naming the attachment and,
// for a link, where in the card it is.
//
// Issue 11 item 9: a card is stored and relayed to every member's client
// and to other Graph clients, so a "javascript:" Action.OpenUrl is refused
// here, not left to each client. A link is a string under a key whose name
// ends in "url" in any case (Action.OpenUrl url, Image and Media urls,
// iconUrl, backgroundImage url, …), a backgroundImage or poster given as
// a string, or the target of a Markdown link in text ("[x](url)"). It must
// be an absolute http or https URL with a host, or a mailto: or tel: URL.
// data: URLs are refused too (an image inlined as a data: URL is a
// document of the sender's choosing). The "data" of Action.Submit and
// Action.Execute is the bot's own and is not looked into.
func checkCard(i int, id, content string) error {
	name := "Attachment " + strconv.Itoa(i)
	if id != "" {
		name += " (" + strconv.Quote(id) + ")"
	}
	if !utf8.ValidString(content) {
		return errcode.New(errcode.BadRequest, "%s is not valid UTF-8.", name)
	}
	var card any
	dec := json.NewDecoder(strings.NewReader(content))
	dec.UseNumber() // numbers are only walked past, never converted
	if !json.Valid([]byte(content)) || dec.Decode(&card) != nil {
		return errcode.New(errcode.BadRequest, "%s is not an Adaptive Card JSON object.", name)
	}
	obj, ok := card.(map[string]any)
	if !ok || obj["type"] != "AdaptiveCard" {
		return errcode.New(errcode.BadRequest, "%s is not an Adaptive Card JSON object.", name)
	}
	if path, link := unsafeLink(obj, ""); path != "" {
		return errcode.New(errcode.BadRequest, "%s has an unsafe link at %s (%s): only http, https, mailto and tel links are allowed in cards.",
			name, path, echoLink(link))
	}
	return nil
}

// unsafeLink returns the JSON path and value of the first unsafe link in
// v, which is at path; "" when there is none.
func unsafeLink(v any, path string) (string, string) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			p := joinPath(path, k)
			if k == "data" {
				continue // Action.Submit / Action.Execute data: the bot's, not shown
			}
			if s, ok := v[k].(string); ok {
				if linkKey(k) && !safeLink(s) {
					return p, s
				}
				if k == "text" || k == "value" || k == "title" {
					for _, m := range markdownLink.FindAllStringSubmatch(s, -1) {
						if m[1] != "" && !safeLink(m[1]) {
							return p, m[1]
						}
					}
				}
				continue
			}
			if p, link := unsafeLink(v[k], p); p != "" {
				return p, link
			}
		}
	case []any:
		for i, it := range v {
			if p, link := unsafeLink(it, path+"["+strconv.Itoa(i)+"]"); p != "" {
				return p, link
			}
		}
	}
	return "", ""
}

// markdownLink finds the targets of inline Markdown links, "[text](url)"
// and "[text](<url> "title")", as Adaptive Card renderers read them.
var markdownLink = regexp.MustCompile(`\]\(\s*<?([^)>\s]*)`)

// linkKey reports whether a card property holds a URL: its name ends in
// "url" in any case (url, iconUrl, altUrl, …), or it is backgroundImage or
// poster. Matching more names than the schema has costs nothing.
func linkKey(k string) bool {
	k = strings.ToLower(k)
	return strings.HasSuffix(k, "url") || k == "backgroundimage" || k == "poster"
}

// safeLink reports whether s is an absolute http(s) URL with a host, or a
// mailto: or tel: URL. Browsers ignore leading blanks and strip tabs and
// newlines before reading the scheme ("java\tscript:"); url.Parse refuses
// control characters, and any blank is refused here.
func safeLink(s string) bool {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch u.Scheme { // url.Parse lower-cases the scheme
	case "http", "https":
		return u.Host != "" && u.Opaque == ""
	case "mailto", "tel":
		return true
	}
	return false
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// sortedKeys returns m's keys in their byte order, so the first unsafe
// link reported is always the same one.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// echoLink quotes a link for an error message, shortened.
func echoLink(s string) string {
	const max = 60
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return strconv.Quote(s)
}
