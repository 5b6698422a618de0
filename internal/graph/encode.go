package graph

import (
	"strconv"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// A chat message is encoded three times a send (the 201 answer and the
// payload of each member's event), so it has its own encoder instead of
// encoding/json's reflection: the same bytes as json.Marshal of Message
// (TestAppendMessageIsMarshal, FuzzAppendMessage), in a quarter of the
// time and one allocation. A field added to the wire types below must be
// added here too; TestAppendMessageKnowsEveryField fails until it is.

// AppendMessage appends the JSON of m, as json.Marshal writes it.
func AppendMessage(dst []byte, m *Message) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, m.ID)
	dst = append(dst, `,"replyToId":`...)
	dst = appendStringPtr(dst, m.ReplyToID)
	dst = append(dst, `,"etag":`...)
	dst = appendString(dst, m.Etag)
	dst = append(dst, `,"messageType":`...)
	dst = appendString(dst, m.MessageType)
	dst = append(dst, `,"createdDateTime":`...)
	dst = appendStringPtr(dst, m.CreatedDateTime)
	dst = append(dst, `,"lastModifiedDateTime":`...)
	dst = appendStringPtr(dst, m.LastModifiedDateTime)
	dst = append(dst, `,"lastEditedDateTime":`...)
	dst = appendStringPtr(dst, m.LastEditedDateTime)
	dst = append(dst, `,"deletedDateTime":`...)
	dst = appendStringPtr(dst, m.DeletedDateTime)
	dst = append(dst, `,"subject":`...)
	dst = appendStringPtr(dst, m.Subject)
	dst = append(dst, `,"chatId":`...)
	dst = appendString(dst, m.ChatID)
	dst = append(dst, `,"importance":`...)
	dst = appendString(dst, m.Importance)
	dst = append(dst, `,"locale":`...)
	dst = appendString(dst, m.Locale)
	dst = append(dst, `,"from":`...)
	dst = appendFrom(dst, &m.From)
	dst = append(dst, `,"body":{"contentType":`...)
	dst = appendString(dst, m.Body.ContentType)
	dst = append(dst, `,"content":`...)
	dst = appendString(dst, m.Body.Content)
	dst = append(dst, `},"attachments":`...)
	dst = appendList(dst, m.Attachments, appendAttachment)
	dst = append(dst, `,"mentions":`...)
	dst = appendList(dst, m.Mentions, appendMention)
	dst = append(dst, `,"reactions":`...)
	dst = appendList(dst, m.Reactions, appendReaction)
	if v := m.ViaApp; v != nil {
		dst = append(dst, `,"viaApp":{"id":`...)
		dst = appendString(dst, v.ID)
		dst = append(dst, `,"displayName":`...)
		dst = appendString(dst, v.DisplayName)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// MessageJSON is the JSON of m as viewer sees it (NewMessage): the 201
// answer of a send.
func MessageJSON(m *chat.Message, viewer *identity.User) []byte {
	w := NewMessage(m, viewer)
	return AppendMessage(make([]byte, 0, messageSize(m)), &w)
}

// messageSize guesses the encoded size of m, so that one allocation
// usually holds it: the fixed fields take about 700 bytes.
func messageSize(m *chat.Message) int {
	return 768 + len(m.Content) + len(m.Content)/8 + 256*len(m.Attachments) + 256*len(m.Mentions) + 256*len(m.Reactions)
}

// appendList appends a JSON array of items (null when nil), each by add.
func appendList[T any](dst []byte, items []T, add func([]byte, *T) []byte) []byte {
	if items == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = add(dst, &items[i])
	}
	return append(dst, ']')
}

func appendFrom(dst []byte, f *From) []byte {
	dst = append(dst, `{"application":`...)
	if a := f.Application; a == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, `{"@odata.type":`...)
		dst = appendString(dst, a.ODataType)
		dst = append(dst, `,"id":`...)
		dst = appendString(dst, a.ID)
		dst = append(dst, `,"displayName":`...)
		dst = appendString(dst, a.DisplayName)
		dst = append(dst, `,"applicationIdentityType":`...)
		dst = appendString(dst, a.ApplicationIdentityType)
		dst = append(dst, '}')
	}
	dst = append(dst, `,"device":`...)
	if f.Device == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, "{}"...)
	}
	dst = append(dst, `,"user":`...)
	dst = appendIdentity(dst, f.User)
	return append(dst, '}')
}

func appendIdentity(dst []byte, id *Identity) []byte {
	if id == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '{')
	if id.ODataType != "" {
		dst = append(dst, `"@odata.type":`...)
		dst = appendString(dst, id.ODataType)
		dst = append(dst, ',')
	}
	dst = append(dst, `"id":`...)
	dst = appendString(dst, id.ID)
	dst = append(dst, `,"displayName":`...)
	dst = appendString(dst, id.DisplayName)
	dst = append(dst, `,"userIdentityType":`...)
	dst = appendString(dst, id.UserIdentityType)
	dst = append(dst, `,"tenantId":`...)
	dst = appendStringPtr(dst, id.TenantID)
	dst = append(dst, `,"isExternal":`...)
	dst = strconv.AppendBool(dst, id.IsExternal)
	if id.Email != "" {
		dst = append(dst, `,"email":`...)
		dst = appendString(dst, id.Email)
	}
	return append(dst, '}')
}

func appendAttachment(dst []byte, a *Attachment) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, a.ID)
	dst = append(dst, `,"contentType":`...)
	dst = appendString(dst, a.ContentType)
	dst = append(dst, `,"content":`...)
	dst = appendStringPtr(dst, a.Content)
	dst = append(dst, `,"contentUrl":`...)
	dst = appendStringPtr(dst, a.ContentURL)
	dst = append(dst, `,"name":`...)
	dst = appendStringPtr(dst, a.Name)
	if a.ThumbnailURL != nil {
		dst = append(dst, `,"thumbnailUrl":`...)
		dst = appendString(dst, *a.ThumbnailURL)
	}
	return append(dst, '}')
}

func appendMention(dst []byte, mn *Mention) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, int64(mn.ID), 10)
	dst = append(dst, `,"mentionText":`...)
	dst = appendString(dst, mn.MentionText)
	dst = append(dst, `,"mentioned":{"user":`...)
	dst = appendIdentity(dst, mn.Mentioned.User)
	if c := mn.Mentioned.Conversation; c != nil {
		dst = append(dst, `,"conversation":{"@odata.type":`...)
		dst = appendString(dst, c.ODataType)
		dst = append(dst, `,"id":`...)
		dst = appendString(dst, c.ID)
		dst = append(dst, `,"displayName":`...)
		dst = appendString(dst, c.DisplayName)
		dst = append(dst, `,"conversationIdentityType":`...)
		dst = appendString(dst, c.ConversationIdentityType)
		dst = append(dst, '}')
	}
	return append(dst, "}}"...)
}

func appendReaction(dst []byte, r *Reaction) []byte {
	dst = append(dst, `{"reactionType":`...)
	dst = appendString(dst, r.ReactionType)
	dst = append(dst, `,"displayName":`...)
	dst = appendStringPtr(dst, r.DisplayName)
	dst = append(dst, `,"createdDateTime":`...)
	dst = appendStringPtr(dst, r.CreatedDateTime)
	dst = append(dst, `,"user":`...)
	dst = appendFrom(dst, &r.User)
	return append(dst, '}')
}

func appendStringPtr(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return appendString(dst, *s)
}

// appendString appends s as a JSON string exactly as encoding/json does
// (HTML-escaped, invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped).
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if plain[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plain are the ASCII bytes a JSON string holds as they are:
// encoding/json's htmlSafeSet.
var plain = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// appendMessageEvent appends the payload of a message event around the
// wire message w.
func appendMessageEvent(dst []byte, typ event.Type, chatID string, w *Message) []byte {
	dst = append(dst, `{"type":`...)
	dst = appendString(dst, string(typ))
	dst = append(dst, `,"chatId":`...)
	dst = appendString(dst, chatID)
	dst = append(dst, `,"message":`...)
	dst = AppendMessage(dst, w)
	return append(dst, '}')
}

// SameMessageView reports whether viewers a and b get the same wire
// message m (NewMessage), so one payload serves both: the viewer decides
// only the identity type and External flag of the sender, of the people
// who reacted and of mentioned users, and a mention of the viewer shows
// the viewer's account.
func (Encoder) SameMessageView(m *chat.Message, a, b *identity.User) bool {
	if a.ID == b.ID {
		return true
	}
	if m.App.ID == "" && !sameIdentityView(&m.Sender, a, b) {
		return false
	}
	for i := range m.Mentions {
		mn := &m.Mentions[i]
		switch {
		case mn.Conversation != "" || mn.UserID == "":
		case mn.UserID == m.Sender.ID:
			if !sameIdentityView(&m.Sender, a, b) {
				return false
			}
		case mn.UserID == a.ID || mn.UserID == b.ID:
			return false
		}
	}
	if m.DeletedAt.IsZero() {
		for i := range m.Reactions {
			if !sameIdentityView(&m.Reactions[i].User, a, b) {
				return false
			}
		}
	}
	return true
}

// sameIdentityView reports whether NewIdentity(u, a) equals NewIdentity(u, b).
func sameIdentityView(u, a, b *identity.User) bool {
	return u.IdentityType(a) == u.IdentityType(b) && u.ExternalTo(a) == u.ExternalTo(b)
}
