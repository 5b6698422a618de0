package graph_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
)

// awkward are strings encoding/json escapes: quotes, controls, HTML,
// invalid UTF-8, U+2028/2029, and plain non-ASCII.
var awkward = []string{
	"", "plain", `say "hi" \ bye`, "tab\there\nnew\rline\b\f\x00\x1f\x7f", "<b>&amp;</b>",
	"bad \xff\xfe utf8 \xc3", "sep\u2028par\u2029end", "Grüße, 你好, 🎉", "\xed\xa0\x80 surrogate bytes",
}

// wireMessages are wire messages with every optional part set and unset.
func wireMessages() []graph.Message {
	s := func(v string) *string { return &v }
	var out []graph.Message
	for i, text := range awkward {
		id := graph.Identity{ODataType: "#microsoft.graph.teamworkUserIdentity", ID: "u" + text, DisplayName: text, UserIdentityType: "aadUser", TenantID: s("t1"), IsExternal: i%2 == 0}
		if i%3 == 0 {
			id.ODataType, id.TenantID, id.Email = "", nil, text+"@x"
		}
		m := graph.Message{ID: "1", Etag: "1", MessageType: "message", CreatedDateTime: s("2026-01-02T03:04:05.678Z"), ChatID: "19:" + text,
			Importance: "normal", Locale: "en-us", From: graph.From{User: &id}, Body: graph.Body{ContentType: "html", Content: text},
			Attachments: []graph.Attachment{}, Mentions: []graph.Mention{}, Reactions: []graph.Reaction{}}
		switch i % 4 {
		case 1:
			m.ReplyToID, m.LastEditedDateTime, m.DeletedDateTime, m.Subject = s("7"), s(text), s("x"), s(text)
			m.ViaApp = &graph.ViaApp{ID: text, DisplayName: text}
			m.From = graph.From{Application: &graph.AppIdentity{ODataType: "#a", ID: text, DisplayName: text, ApplicationIdentityType: "bot"}, Device: &struct{}{}}
		case 2:
			m.Attachments, m.Mentions, m.Reactions = nil, nil, nil
		case 3:
			m.Attachments = []graph.Attachment{{ID: text, ContentType: "application/vnd.microsoft.card.adaptive", Content: s(`{"a":"` + text + `"}`)},
				{ID: "f", ContentType: "reference", ContentURL: s("/files/" + text), Name: s(text), ThumbnailURL: s("/t")}}
			m.Mentions = []graph.Mention{{ID: 0, MentionText: text, Mentioned: graph.MentionedIdentity{User: &id}},
				{ID: -3, MentionText: "team", Mentioned: graph.MentionedIdentity{Conversation: &graph.ConversationIdentity{ODataType: "#c", ID: text, DisplayName: text, ConversationIdentityType: "team"}}}}
			m.Reactions = []graph.Reaction{{ReactionType: "like", DisplayName: s("Like"), CreatedDateTime: s("t"), User: graph.From{User: &id}}, {ReactionType: text}}
		}
		out = append(out, m)
	}
	return out
}

func TestAppendMessageIsMarshal(t *testing.T) {
	for i, m := range wireMessages() {
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := graph.AppendMessage(nil, &m); !bytes.Equal(got, want) {
			t.Errorf("message %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestMessageEventIsMarshal: the event payload and the 201 answer of a
// send are what json.Marshal made of them, for viewers of every kind.
func TestMessageEventIsMarshal(t *testing.T) {
	for _, text := range awkward {
		for _, m := range domainMessages(text) {
			for _, v := range []identity.User{ada, bob, gus, erin, pat} {
				want, err := json.Marshal(struct {
					Type    event.Type    `json:"type"`
					ChatID  string        `json:"chatId"`
					Message graph.Message `json:"message"`
				}{event.MessageCreated, string(m.ChatID), graph.NewMessage(&m, &v)})
				if err != nil {
					t.Fatal(err)
				}
				if got := (graph.Encoder{}).MessageEvent(&v, event.MessageCreated, &m); !bytes.Equal(got, want) {
					t.Errorf("event for %s:\n got %s\nwant %s", v.ID, got, want)
				}
				want, _ = json.Marshal(graph.NewMessage(&m, &v))
				if got := graph.MessageJSON(&m, &v); !bytes.Equal(got, want) {
					t.Errorf("answer for %s:\n got %s\nwant %s", v.ID, got, want)
				}
			}
		}
	}
}

// domainMessages are messages from Ada with text: plain, with mentions
// of her, Bob and a channel, with reactions, from a bot, edited, deleted.
func domainMessages(text string) []chat.Message {
	m := chat.Message{ID: 42, ChatID: "19:c@thread.v2", SenderID: ada.ID, Sender: ada, CreatedAt: t0, ModifiedAt: t0, ContentType: "text", Content: text}
	mentions := m
	mentions.Mentions = []chat.Mention{{ID: 0, MentionText: "Ada", UserID: ada.ID}, {ID: 1, MentionText: text, UserID: bob.ID},
		{ID: 2, MentionText: "Erin", UserID: erin.ID}, {ID: 3, MentionText: "General", Conversation: "channel", ConversationID: "19:g"}}
	reactions := m
	reactions.Reactions = []chat.Reaction{{Type: "like", User: erin, CreatedAt: t0}, {Type: "🎉", User: bob, CreatedAt: t0}}
	bot := m
	bot.App = chat.Application{ID: "app", DisplayName: text}
	edited := reactions
	edited.ModifiedAt = t0.Add(time.Minute)
	edited.Via = chat.Application{ID: "polls", DisplayName: text}
	edited.Attachments = []chat.Attachment{{ID: "a", ContentType: "application/vnd.microsoft.card.adaptive", Content: `{"t":"` + text + `"}`}, {ID: "f", ContentType: "reference", ContentURL: "/f", Name: text}}
	deleted := edited
	deleted.DeletedAt = t0.Add(time.Hour)
	return []chat.Message{m, mentions, reactions, bot, edited, deleted}
}

// TestSameMessageView: viewers SameMessageView pairs get the same bytes,
// and the 1:1 send of the load (two members of one tenant) is shared.
func TestSameMessageView(t *testing.T) {
	viewers := []identity.User{ada, bob, gus, erin, pat, {ID: "anon", Kind: identity.Anonymous, DisplayName: "Guest"}}
	enc := graph.Encoder{}
	for _, m := range domainMessages("hello <world>") {
		for _, a := range viewers {
			for _, b := range viewers {
				if !enc.SameMessageView(&m, &a, &b) {
					continue
				}
				pa, pb := enc.MessageEvent(&a, event.MessageCreated, &m), enc.MessageEvent(&b, event.MessageCreated, &m)
				if !bytes.Equal(pa, pb) {
					t.Errorf("SameMessageView(%s, %s) but the payloads differ:\n%s\n%s", a.ID, b.ID, pa, pb)
				}
			}
		}
	}
	m := domainMessages("hi")[0]
	if !enc.SameMessageView(&m, &ada, &bob) {
		t.Error("a plain message of Ada's is not shared between Ada and Bob, of one tenant")
	}
	if enc.SameMessageView(&m, &bob, &erin) {
		t.Error("Bob and Erin, of two tenants, share a payload")
	}
}

// TestAppendMessageKnowsEveryField fails when a wire type of a chat
// message gains or loses a field: AppendMessage writes each by hand.
func TestAppendMessageKnowsEveryField(t *testing.T) {
	known := map[reflect.Type][]string{
		reflect.TypeFor[graph.Message]():              {"id", "replyToId", "etag", "messageType", "createdDateTime", "lastModifiedDateTime", "lastEditedDateTime", "deletedDateTime", "subject", "chatId", "importance", "locale", "from", "body", "attachments", "mentions", "reactions", "viaApp,omitempty"},
		reflect.TypeFor[graph.From]():                 {"application", "device", "user"},
		reflect.TypeFor[graph.AppIdentity]():          {"@odata.type", "id", "displayName", "applicationIdentityType"},
		reflect.TypeFor[graph.Identity]():             {"@odata.type,omitempty", "id", "displayName", "userIdentityType", "tenantId", "isExternal", "email,omitempty"},
		reflect.TypeFor[graph.Body]():                 {"contentType", "content"},
		reflect.TypeFor[graph.Attachment]():           {"id", "contentType", "content", "contentUrl", "name", "thumbnailUrl,omitempty"},
		reflect.TypeFor[graph.Mention]():              {"id", "mentionText", "mentioned"},
		reflect.TypeFor[graph.MentionedIdentity]():    {"user", "conversation,omitempty"},
		reflect.TypeFor[graph.ConversationIdentity](): {"@odata.type", "id", "displayName", "conversationIdentityType"},
		reflect.TypeFor[graph.Reaction]():             {"reactionType", "displayName", "createdDateTime", "user"},
		reflect.TypeFor[graph.ViaApp]():               {"id", "displayName"},
	}
	for typ, want := range known {
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Tag.Get("json"))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s has the JSON fields %q; AppendMessage writes %q: change encode.go with it", typ, got, want)
		}
	}
}

func FuzzAppendMessage(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, text, name string) {
		for _, m := range wireMessages()[:4] {
			m.Body.Content, m.Subject = text, &name
			want, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if got := graph.AppendMessage(nil, &m); !bytes.Equal(got, want) {
				t.Fatalf("got %s\nwant %s", got, want)
			}
		}
	})
}
