// Package graph holds the Microsoft Graph v1.0 wire shapes that Parley
// speaks (users, chats, chat messages, conversation members), @odata paging,
// and the conversion from domain values, as seen by one viewer: identity
// types and the External flag are relative to who looks (docs/rules.md §1, §11).
// httpapi and server import it; domain types stay free of JSON.
package graph

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// TimeFormat is Graph's timestamp format (UTC, milliseconds).
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Time formats t for Graph, or nil when zero.
func Time(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(TimeFormat)
	return &s
}

// Error is the API's error shape.
type Error struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the inner object of Error.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// User is Graph's user, plus Parley's identity fields.
type User struct {
	ID                string  `json:"id"`
	DisplayName       string  `json:"displayName"`
	UserPrincipalName string  `json:"userPrincipalName"`
	Mail              *string `json:"mail"`
	MobilePhone       *string `json:"mobilePhone"`
	UserType          string  `json:"userType"`
	TenantID          *string `json:"tenantId"`
	UserIdentityType  string  `json:"userIdentityType"`
	IsExternal        bool    `json:"isExternal"`
	IsAdmin           bool    `json:"isAdmin,omitempty"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// UserType returns Graph's userType of a user.
func UserType(u *identity.User) string {
	switch u.Kind {
	case identity.Guest:
		return "Guest"
	case identity.Personal:
		return "Personal"
	case identity.Anonymous:
		return "Anonymous"
	default:
		return "Member"
	}
}

// NewUser converts a user as seen by viewer. Contact details of people
// outside the viewer's tenant are limited to their verified mail.
func NewUser(u *identity.User, viewer *identity.User) User {
	w := User{ID: string(u.ID), DisplayName: u.DisplayName, UserPrincipalName: u.UPN, Mail: strPtr(u.Mail), UserType: UserType(u),
		TenantID: strPtr(string(u.TenantID)), UserIdentityType: u.IdentityType(viewer), IsExternal: u.ExternalTo(viewer)}
	// A guest sees its host's people as an outsider does: no phone number,
	// no admin flag (issue 11 item 6).
	if !w.IsExternal && (viewer.Kind != identity.Guest || viewer.ID == u.ID) {
		w.MobilePhone = strPtr(u.Phone)
		w.IsAdmin = u.IsAdmin()
	}
	return w
}

// Identity is Graph's teamworkUserIdentity.
type Identity struct {
	ODataType        string  `json:"@odata.type,omitempty"`
	ID               string  `json:"id"`
	DisplayName      string  `json:"displayName"`
	UserIdentityType string  `json:"userIdentityType"`
	TenantID         *string `json:"tenantId"`
	IsExternal       bool    `json:"isExternal"`
	// Email is the verified address, shown where the viewer must see it
	// (the sender of a request).
	Email string `json:"email,omitempty"`
}

// NewIdentity converts a user to an identity as seen by viewer.
func NewIdentity(u *identity.User, viewer *identity.User) Identity {
	return Identity{ODataType: "#microsoft.graph.teamworkUserIdentity", ID: string(u.ID), DisplayName: u.DisplayName,
		UserIdentityType: u.IdentityType(viewer), TenantID: strPtr(string(u.TenantID)), IsExternal: u.ExternalTo(viewer)}
}

// Viewpoint is Graph's chatViewpoint.
type Viewpoint struct {
	IsHidden                bool    `json:"isHidden"`
	LastMessageReadDateTime *string `json:"lastMessageReadDateTime"`
}

// Chat is Graph's chat, plus Parley's isExternal and requestState.
type Chat struct {
	ID                  string    `json:"id"`
	Topic               *string   `json:"topic"`
	CreatedDateTime     *string   `json:"createdDateTime"`
	LastUpdatedDateTime *string   `json:"lastUpdatedDateTime"`
	ChatType            string    `json:"chatType"`
	TenantID            *string   `json:"tenantId"`
	WebURL              *string   `json:"webUrl"`
	Viewpoint           Viewpoint `json:"viewpoint"`
	IsExternal          bool      `json:"isExternal"`
	RequestState        string    `json:"requestState,omitempty"`
	// IsReadOnly and ReadOnlyReason say a policy change made the chat
	// read-only, and whose side's setting it is (docs/rules.md §4).
	IsReadOnly     bool   `json:"isReadOnly"`
	ReadOnlyReason string `json:"readOnlyReason,omitempty"`
	// UnreadMessageCount is Parley's: the viewer's unread messages, kept on
	// the server (at most chat.MaxUnreadCount).
	UnreadMessageCount int `json:"unreadMessageCount"`
	// App is Parley's: on a bot's 1:1 chat, the app whose bot it is (Graph's
	// chat has no such field: it lists no bot member and no topic for it).
	App *ViaApp `json:"app,omitempty"`
}

// NewChat converts a chat as seen by viewer.
func NewChat(c *chat.Chat, viewer *identity.User) Chat {
	var topic *string
	if c.Type == chat.Group || c.Type == chat.Meeting {
		topic = &c.Topic
	}
	out := Chat{ID: string(c.ID), Topic: topic, CreatedDateTime: Time(c.CreatedAt), LastUpdatedDateTime: Time(c.UpdatedAt), ChatType: string(c.Type),
		TenantID: strPtr(string(c.TenantID)), Viewpoint: Viewpoint{LastMessageReadDateTime: Time(c.LastReadAt)}, IsExternal: c.External, RequestState: string(c.ViewerState),
		IsReadOnly: !c.ReadOnlyBy.IsZero(), ReadOnlyReason: chat.ReadOnlyReason(c, viewer), UnreadMessageCount: c.UnreadCount}
	if c.App.ID != "" {
		out.App = &ViaApp{ID: c.App.ID, DisplayName: c.App.DisplayName}
	}
	return out
}

// Member is Graph's aadUserConversationMember, plus Parley's fields.
type Member struct {
	ODataType                   string   `json:"@odata.type"`
	ID                          string   `json:"id"`
	Roles                       []string `json:"roles"`
	DisplayName                 string   `json:"displayName"`
	VisibleHistoryStartDateTime *string  `json:"visibleHistoryStartDateTime"`
	UserID                      *string  `json:"userId"`
	Email                       *string  `json:"email"`
	TenantID                    *string  `json:"tenantId"`
	UserIdentityType            string   `json:"userIdentityType"`
	RequestState                string   `json:"requestState"`
	IsExternal                  bool     `json:"isExternal"`
	// OrganizationName is Parley's: the name of the organisation of
	// tenantId, so clients never guess it; null for a personal account and
	// for a member shown only by the address typed (the rule of silence).
	OrganizationName *string `json:"organizationName"`
}

// NewMember converts a member as seen by viewer. A member the viewer only
// knows by the address they typed shows that address and nothing else.
func NewMember(m *chat.Member, viewer *identity.User) Member {
	w := Member{ODataType: "#microsoft.graph.aadUserConversationMember", ID: m.ID, Roles: m.Roles, RequestState: string(m.State),
		VisibleHistoryStartDateTime: Time(m.VisibleFrom)}
	if w.Roles == nil {
		w.Roles = []string{}
	}
	if m.UserID == "" || (m.State != chat.Accepted && m.Address != "" && viewer.ID != m.UserID) {
		w.DisplayName = m.Address
		w.Email = strPtr(m.Address)
		w.UserIdentityType = "emailUser"
		if len(m.Address) > 0 && m.Address[0] == '+' {
			// API.md: the typed address is the displayName and the email,
			// a phone number included.
			w.UserIdentityType = "phoneUser"
		}
		w.IsExternal = true
		return w
	}
	u := &m.User
	w.DisplayName, w.UserID, w.Email, w.TenantID = u.DisplayName, strPtr(string(u.ID)), strPtr(u.Mail), strPtr(string(u.TenantID))
	w.UserIdentityType, w.IsExternal = u.IdentityType(viewer), u.ExternalTo(viewer)
	if m.OrganizationName != "" {
		w.OrganizationName = strPtr(m.OrganizationName)
	}
	return w
}

// Body is Graph's itemBody.
type Body struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

// AppIdentity is Graph's teamworkApplicationIdentity: the bot a message comes from.
type AppIdentity struct {
	ODataType               string `json:"@odata.type"`
	ID                      string `json:"id"`
	DisplayName             string `json:"displayName"`
	ApplicationIdentityType string `json:"applicationIdentityType"`
}

// From is Graph's chatMessageFromIdentitySet.
type From struct {
	Application *AppIdentity `json:"application"`
	Device      *struct{}    `json:"device"`
	User        *Identity    `json:"user"`
}

// Mention is Graph's chatMessageMention.
type Mention struct {
	ID          int               `json:"id"`
	MentionText string            `json:"mentionText"`
	Mentioned   MentionedIdentity `json:"mentioned"`
}

// MentionedIdentity is Graph's chatMessageMentionedIdentitySet: a user,
// or in a channel the team or channel itself (@team, @channel).
type MentionedIdentity struct {
	User         *Identity             `json:"user"`
	Conversation *ConversationIdentity `json:"conversation,omitempty"`
}

// ConversationIdentity is Graph's teamworkConversationIdentity.
type ConversationIdentity struct {
	ODataType                string `json:"@odata.type"`
	ID                       string `json:"id"`
	DisplayName              string `json:"displayName"`
	ConversationIdentityType string `json:"conversationIdentityType"`
}

// Attachment is Graph's chatMessageAttachment.
type Attachment struct {
	ID          string  `json:"id"`
	ContentType string  `json:"contentType"`
	Content     *string `json:"content"`
	ContentURL  *string `json:"contentUrl"`
	Name        *string `json:"name"`
	// ThumbnailURL is set for files with a thumbnail (images).
	ThumbnailURL *string `json:"thumbnailUrl,omitempty"`
}

// Message is Graph's chatMessage.
type Message struct {
	ID                   string       `json:"id"`
	ReplyToID            *string      `json:"replyToId"`
	Etag                 string       `json:"etag"`
	MessageType          string       `json:"messageType"`
	CreatedDateTime      *string      `json:"createdDateTime"`
	LastModifiedDateTime *string      `json:"lastModifiedDateTime"`
	LastEditedDateTime   *string      `json:"lastEditedDateTime"`
	DeletedDateTime      *string      `json:"deletedDateTime"`
	Subject              *string      `json:"subject"`
	ChatID               string       `json:"chatId"`
	Importance           string       `json:"importance"`
	Locale               string       `json:"locale"`
	From                 From         `json:"from"`
	Body                 Body         `json:"body"`
	Attachments          []Attachment `json:"attachments"`
	Mentions             []Mention    `json:"mentions"`
	Reactions            []Reaction   `json:"reactions"`
	// ViaApp is Parley's: on a person's message whose card came from an
	// app's message extension, the app (docs/rules.md §9).
	ViaApp *ViaApp `json:"viaApp,omitempty"`
}

// ViaApp names a catalog app: the one a message's card came from, or a
// bot's 1:1 chat's.
type ViaApp struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// Reaction is Graph's chatMessageReaction.
type Reaction struct {
	ReactionType    string  `json:"reactionType"`
	DisplayName     *string `json:"displayName"`
	CreatedDateTime *string `json:"createdDateTime"`
	User            From    `json:"user"`
}

// reactionNames are the display names Graph gives its named reactions.
var reactionNames = map[string]string{"like": "Like", "heart": "Heart", "laugh": "Laugh", "surprised": "Surprised", "sad": "Sad", "angry": "Angry"}

// NewReaction converts a reaction as seen by viewer.
func NewReaction(r *chat.Reaction, viewer *identity.User) Reaction {
	id := NewIdentity(&r.User, viewer)
	w := Reaction{ReactionType: r.Type, CreatedDateTime: Time(r.CreatedAt), User: From{User: &id}}
	if n, ok := reactionNames[r.Type]; ok {
		w.DisplayName = &n
	}
	return w
}

// NewMessage converts a message as seen by viewer. A mentioned user is
// described like the sender (docs/rules.md §5: identity type and tenant, relative to
// the viewer) when the message carries their account: the sender, and the
// viewer themself. chat.Mention holds only the id of anyone else, who is
// then described by id and mention text alone.
func NewMessage(m *chat.Message, viewer *identity.User) Message {
	id := MessageIDString(m.ID)
	from := NewIdentity(&m.Sender, viewer)
	w := Message{ID: id, Etag: id, MessageType: "message", CreatedDateTime: Time(m.CreatedAt), LastModifiedDateTime: Time(m.ModifiedAt),
		DeletedDateTime: Time(m.DeletedAt), ChatID: string(m.ChatID), Importance: "normal", Locale: "en-us",
		From: From{User: &from}, Body: Body{ContentType: m.ContentType, Content: m.Content},
		Attachments: []Attachment{}, Mentions: []Mention{}, Reactions: make([]Reaction, 0, len(m.Reactions))}
	if m.App.ID != "" {
		// A bot's message: from.application, from.user null (docs/rules.md §9).
		w.From = From{Application: &AppIdentity{ODataType: "#microsoft.graph.teamworkApplicationIdentity", ID: m.App.ID, DisplayName: m.App.DisplayName, ApplicationIdentityType: "bot"}}
	}
	if m.Via.ID != "" {
		w.ViaApp = &ViaApp{ID: m.Via.ID, DisplayName: m.Via.DisplayName}
	}
	if !m.ModifiedAt.Equal(m.CreatedAt) && m.DeletedAt.IsZero() {
		w.LastEditedDateTime = Time(m.ModifiedAt)
	}
	for _, a := range m.Attachments {
		content, name := a.Content, a.Name
		att := Attachment{ID: a.ID, ContentType: a.ContentType, Content: &content, Name: strPtr(name), ContentURL: strPtr(a.ContentURL), ThumbnailURL: strPtr(a.ThumbnailURL)}
		if a.ContentURL != "" {
			att.Content = nil
		}
		w.Attachments = append(w.Attachments, att)
	}
	if m.DeletedAt.IsZero() {
		for i := range m.Reactions {
			w.Reactions = append(w.Reactions, NewReaction(&m.Reactions[i], viewer))
		}
	}
	for i := range m.Mentions {
		mn := &m.Mentions[i]
		if mn.Conversation != "" {
			w.Mentions = append(w.Mentions, Mention{ID: mn.ID, MentionText: mn.MentionText, Mentioned: MentionedIdentity{Conversation: &ConversationIdentity{
				ODataType: "#microsoft.graph.teamworkConversationIdentity", ID: mn.ConversationID, DisplayName: mn.MentionText, ConversationIdentityType: mn.Conversation}}})
			continue
		}
		w.Mentions = append(w.Mentions, Mention{ID: mn.ID, MentionText: mn.MentionText, Mentioned: MentionedIdentity{User: mentioned(mn, m, viewer)}})
	}
	return w
}

// mentioned is the identity of a mentioned user as viewer sees it.
func mentioned(mn *chat.Mention, m *chat.Message, viewer *identity.User) *Identity {
	var u *identity.User
	switch {
	case mn.UserID == "":
	case mn.UserID == m.Sender.ID:
		u = &m.Sender
	case viewer != nil && mn.UserID == viewer.ID:
		u = viewer
	}
	if u == nil {
		return &Identity{ID: string(mn.UserID), DisplayName: mn.MentionText, UserIdentityType: "aadUser"}
	}
	id := NewIdentity(u, viewer)
	return &id
}

// MessageIDString formats a message id as Graph does (a decimal string).
func MessageIDString(id chat.MessageID) string {
	return strconv.FormatInt(int64(id), 10)
}

// Encoder builds event payloads; it implements chat.Encoder.
type Encoder struct{}

type memberEvent struct {
	Type   event.Type `json:"type"`
	ChatID string     `json:"chatId"`
	Member Member     `json:"member"`
}

type chatEvent struct {
	Type   event.Type `json:"type"`
	ChatID string     `json:"chatId"`
	Chat   Chat       `json:"chat"`
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Unreachable: every value here is a plain struct of strings,
		// numbers and slices. Clients still get a frame that says to reload.
		return []byte(`{"type":"resync"}`)
	}
	return b
}

// MessageEvent returns the payload of a message event.
func (Encoder) MessageEvent(viewer *identity.User, typ event.Type, m *chat.Message) []byte {
	w := NewMessage(m, viewer)
	b := appendMessageEvent(make([]byte, 0, 64+len(m.ChatID)+messageSize(m)), typ, string(m.ChatID), &w)
	return b[:len(b):len(b)] // shared by the viewers who see the same (SameMessageView)
}

// MemberEvent returns the payload of a member event.
func (Encoder) MemberEvent(viewer *identity.User, typ event.Type, chatID chat.ID, m *chat.Member) []byte {
	return mustJSON(memberEvent{Type: typ, ChatID: string(chatID), Member: NewMember(m, viewer)})
}

// ChatEvent returns the payload of a chat event.
func (Encoder) ChatEvent(viewer *identity.User, typ event.Type, c *chat.Chat) []byte {
	return mustJSON(chatEvent{Type: typ, ChatID: string(c.ID), Chat: NewChat(c, viewer)})
}

// NoticeEvent returns the payload of chatReadOnly and chatWritable.
func (Encoder) NoticeEvent(_ *identity.User, typ event.Type, c *chat.Chat, reason string) []byte {
	return mustJSON(struct {
		Type   event.Type `json:"type"`
		ChatID string     `json:"chatId"`
		Reason string     `json:"reason,omitempty"`
	}{typ, string(c.ID), reason})
}

// RequestEvent returns the payload of request events: the chat and who
// sent the request, as the target sees them.
func (Encoder) RequestEvent(viewer *identity.User, typ event.Type, c *chat.Chat, from *identity.User) []byte {
	id := NewIdentity(from, viewer)
	return mustJSON(struct {
		Type   event.Type `json:"type"`
		ChatID string     `json:"chatId"`
		From   From       `json:"from"`
	}{typ, string(c.ID), From{User: &id}})
}

// PresenceEvent returns the payload of readReceipt and typing.
func (Encoder) PresenceEvent(viewer *identity.User, typ event.Type, chatID chat.ID, who *identity.User, at time.Time) []byte {
	id := NewIdentity(who, viewer)
	return mustJSON(struct {
		Type   event.Type `json:"type"`
		ChatID string     `json:"chatId"`
		User   Identity   `json:"user"`
		At     *string    `json:"dateTime"`
	}{typ, string(chatID), id, Time(at)})
}
