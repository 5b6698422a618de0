package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
)

// memberIn is Graph's conversationMember as clients send it.
type memberIn struct {
	ODataType                   string   `json:"@odata.type"`
	Roles                       []string `json:"roles"`
	UserBind                    string   `json:"user@odata.bind"`
	UserID                      string   `json:"userId"`
	Email                       string   `json:"email"`
	PhoneNumber                 string   `json:"phoneNumber"`
	VisibleHistoryStartDateTime string   `json:"visibleHistoryStartDateTime"`
}

// bindKey extracts the key of "https://host/v1.0/users('<key>')" or
// ".../users/<key>": a user id, or, as Graph accepts there, a sign-in name
// (userPrincipalName). Percent-encoding is undone ('bob%40contoso.com').
func bindKey(bind string) (string, error) {
	key := ""
	if i := strings.Index(bind, "users('"); i >= 0 {
		rest := bind[i+len("users('"):]
		if j := strings.Index(rest, "')"); j > 0 {
			key = rest[:j]
		}
	} else if i := strings.LastIndex(bind, "/users/"); i >= 0 {
		if k := bind[i+len("/users/"):]; !strings.Contains(k, "/") {
			key = k
		}
	}
	if k, err := url.PathUnescape(key); err == nil {
		key = k
	}
	if strings.TrimSpace(key) == "" {
		return "", errcode.New(errcode.BadRequest, "user@odata.bind must look like https://host/v1.0/users('<id or userPrincipalName>').")
	}
	return key, nil
}

func (m memberIn) domain() (chat.NewMember, error) {
	nm := chat.NewMember{Roles: m.Roles}
	for _, r := range m.Roles {
		if r != "owner" && r != "guest" {
			return chat.NewMember{}, errcode.New(errcode.BadRequest, "roles may contain only \"owner\".")
		}
	}
	switch {
	case m.UserBind != "":
		key, err := bindKey(m.UserBind)
		if err != nil {
			return chat.NewMember{}, err
		}
		// A sign-in name is found exactly as the email form finds an
		// address: the same visibility, and for an address the caller may
		// not learn about, the same silence (docs/rules.md §4, §6).
		if strings.Contains(key, "@") {
			nm.Email = key
		} else {
			nm.UserID = identity.UserID(key)
		}
	case m.UserID != "":
		nm.UserID = identity.UserID(m.UserID)
	case m.Email != "" || m.PhoneNumber != "":
		nm.Email, nm.Phone = m.Email, m.PhoneNumber
	default:
		return chat.NewMember{}, errcode.New(errcode.BadRequest, "Each member needs user@odata.bind, email or phoneNumber.")
	}
	if m.VisibleHistoryStartDateTime != "" {
		t, err := time.Parse(time.RFC3339Nano, m.VisibleHistoryStartDateTime)
		if err != nil {
			return chat.NewMember{}, errcode.New(errcode.BadRequest, "visibleHistoryStartDateTime must be an ISO 8601 date-time.")
		}
		nm.VisibleFrom = &t
	}
	return nm, nil
}

type chatIn struct {
	ChatType string     `json:"chatType"`
	Topic    *string    `json:"topic"`
	Members  []memberIn `json:"members"`
}

func (a *API) createChat(w http.ResponseWriter, r *http.Request) error {
	var in chatIn
	if err := decode(r, &in); err != nil {
		return err
	}
	nc := chat.NewChat{Type: chat.Type(in.ChatType)}
	if in.Topic != nil {
		nc.Topic = *in.Topic
	}
	for _, m := range in.Members {
		nm, err := m.domain()
		if err != nil {
			return err
		}
		nc.Members = append(nc.Members, nm)
	}
	c, created, err := a.Chats.Create(r.Context(), userOf(r), nc)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	writeJSON(w, status, graph.NewChat(&c, userOf(r)))
	return nil
}

type page[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink,omitempty"`
}

// nextLink returns the URL of the next page: the same request with $skiptoken.
func (a *API) nextLink(r *http.Request, token string) string {
	q := r.URL.Query()
	q.Set("$skiptoken", token)
	q.Del("access_token")
	return a.baseURL(r) + r.URL.EscapedPath() + "?" + strings.ReplaceAll(q.Encode(), "%24", "$")
}

func (a *API) listChats(w http.ResponseWriter, r *http.Request) error {
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	var after chat.ChatCursor
	if t, id, ok, err := timeIDSkipToken(r); err != nil {
		return err
	} else if ok {
		after = chat.ChatCursor{UpdatedAt: t, ID: chat.ID(id)}
	}
	chats, next, err := a.Chats.ListWithUnread(r.Context(), userOf(r), after, limit)
	if err != nil {
		return err
	}
	out := page[graph.Chat]{Value: make([]graph.Chat, 0, len(chats))}
	for i := range chats {
		out.Value = append(out.Value, graph.NewChat(&chats[i], userOf(r)))
	}
	if next.ID != "" {
		out.NextLink = a.nextLink(r, makeSkipToken(timeKey(next.UpdatedAt), string(next.ID)))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func chatID(r *http.Request) chat.ID { return chat.ID(r.PathValue("id")) }

func (a *API) getChat(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Chats.GetWithUnread(r.Context(), userOf(r), chatID(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, graph.NewChat(&c, userOf(r)))
	return nil
}

func (a *API) updateChat(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Topic *string `json:"topic"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Topic == nil {
		return errcode.New(errcode.BadRequest, "Only topic can be changed.")
	}
	c, err := a.Chats.Update(r.Context(), userOf(r), chatID(r), *in.Topic)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, graph.NewChat(&c, userOf(r)))
	return nil
}

// listMembers lists a chat's members in the order they joined, all of
// them without $top (a chat has at most chat.MaxGroupMembers).
func (a *API) listMembers(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	var after *chat.Member
	if t, id, ok, err := timeIDSkipToken(r); err != nil {
		return err
	} else if ok {
		after = &chat.Member{JoinedAt: t, ID: id}
	}
	members, more, err := a.Chats.ListMembers(r.Context(), me, chatID(r), after, limit)
	if err != nil {
		return err
	}
	out := page[graph.Member]{Value: make([]graph.Member, 0, len(members))}
	orgs := a.orgNames(r)
	for i := range members {
		out.Value = append(out.Value, orgs.member(graph.NewMember(&members[i], me)))
	}
	if more {
		last := members[len(members)-1]
		out.NextLink = a.nextLink(r, makeSkipToken(timeKey(last.JoinedAt), last.ID))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) addMember(w http.ResponseWriter, r *http.Request) error {
	var in memberIn
	if err := decode(r, &in); err != nil {
		return err
	}
	nm, err := in.domain()
	if err != nil {
		return err
	}
	me := userOf(r)
	m, err := a.Chats.AddMember(r.Context(), me, chatID(r), nm)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.orgNames(r).member(graph.NewMember(&m, me)))
	return nil
}

// orgNamer fills members' organizationName, each tenant looked up once a
// request.
type orgNamer struct {
	a     *API
	r     *http.Request
	names map[string]*string
}

func (a *API) orgNames(r *http.Request) *orgNamer {
	return &orgNamer{a: a, r: r, names: map[string]*string{}}
}

// member sets m's organizationName from its tenantId (none for a
// personal account or a member shown by a typed address, which has no
// tenantId). A tenant that cannot be read leaves it null.
func (o *orgNamer) member(m graph.Member) graph.Member {
	if m.TenantID == nil || *m.TenantID == "" || m.UserID == nil {
		return m
	}
	name, ok := o.names[*m.TenantID]
	if !ok {
		if t, err := o.a.Identity.Store.FindTenantByID(o.r.Context(), identity.TenantID(*m.TenantID)); err == nil {
			name = &t.DisplayName
		} else {
			o.a.logger(o.r).Warn("organisation name of a member", "tenant", *m.TenantID, "err", err)
		}
		o.names[*m.TenantID] = name
	}
	m.OrganizationName = name
	return m
}

// removeMember removes a member of a chat; on a meeting's chat its
// organiser removes people from the meeting (Graph's way), which the
// meeting service does.
func (a *API) removeMember(w http.ResponseWriter, r *http.Request) error {
	done := false
	if a.Meetings != nil {
		var err error
		if done, err = a.Meetings.RemoveChatMember(r.Context(), userOf(r), chatID(r), r.PathValue("mid")); err != nil {
			return err
		}
	}
	if !done {
		if err := a.Chats.RemoveMember(r.Context(), userOf(r), chatID(r), r.PathValue("mid")); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type messageIn struct {
	Body     *messageBody `json:"body"`
	Mentions []struct {
		ID          int    `json:"id"`
		MentionText string `json:"mentionText"`
		Mentioned   struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
			// Conversation is an @team or @channel mention in a channel.
			Conversation *struct {
				ID                       string `json:"id"`
				ConversationIdentityType string `json:"conversationIdentityType"`
			} `json:"conversation"`
		} `json:"mentioned"`
	} `json:"mentions"`
	Attachments []struct {
		ID          string `json:"id"`
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
		Name        string `json:"name"`
		ContentURL  string `json:"contentUrl"`
	} `json:"attachments"`
	// ViaAppID is Parley's: the app whose message extension gave the
	// message its card (checked when sent, ignored on edits).
	ViaAppID string `json:"viaAppId"`
}

type messageBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

// decodeFast decodes the common message, {"body":{"contentType":…,
// "content":…}} (either key may be left out) with strings that have no
// escapes, without encoding/json's reflection: the send path's one decode.
// Anything else (another key, a repeated one, an escape, null, a
// number) is left to encoding/json: it reports false and leaves in as it
// was. decode has checked that b is valid UTF-8.
func (in *messageIn) decodeFast(b []byte) bool {
	s := jsonScan{b: b}
	if !s.next('{') {
		return false
	}
	if k, ok := s.plainString(); !ok || string(k) != "body" || !s.next(':') || !s.next('{') {
		return false
	}
	var body messageBody
	var haveType, haveContent bool
	if !s.next('}') {
		for {
			k, ok := s.plainString()
			if !ok || !s.next(':') {
				return false
			}
			v, ok := s.plainString()
			if !ok {
				return false
			}
			switch {
			case string(k) == "contentType" && !haveType:
				body.ContentType, haveType = string(v), true
			case string(k) == "content" && !haveContent:
				body.Content, haveContent = string(v), true
			default:
				return false
			}
			if s.next(',') {
				continue
			}
			if s.next('}') {
				break
			}
			return false
		}
	}
	if !s.next('}') || !s.end() {
		return false
	}
	in.Body = &body
	return true
}

func (in *messageIn) domain() (chat.Body, error) {
	if in.Body == nil {
		return chat.Body{}, errcode.New(errcode.BadRequest, "body is required: {\"body\":{\"contentType\":\"text\",\"content\":\"…\"}}.")
	}
	b := chat.Body{ContentType: in.Body.ContentType, Content: in.Body.Content, Via: chat.Application{ID: in.ViaAppID}}
	for _, m := range in.Mentions {
		if c := m.Mentioned.Conversation; c != nil && m.Mentioned.User.ID == "" {
			if c.ID == "" || c.ConversationIdentityType == "" {
				return chat.Body{}, errcode.New(errcode.BadRequest, "A conversation mention needs mentioned.conversation.id and conversationIdentityType.")
			}
			b.Mentions = append(b.Mentions, chat.Mention{ID: m.ID, MentionText: m.MentionText, Conversation: c.ConversationIdentityType, ConversationID: c.ID})
			continue
		}
		if m.Mentioned.User.ID == "" {
			return chat.Body{}, errcode.New(errcode.BadRequest, "Each mention needs mentioned.user.id.")
		}
		b.Mentions = append(b.Mentions, chat.Mention{ID: m.ID, MentionText: m.MentionText, UserID: identity.UserID(m.Mentioned.User.ID)})
	}
	for _, at := range in.Attachments {
		b.Attachments = append(b.Attachments, chat.Attachment{ID: at.ID, ContentType: at.ContentType, Content: at.Content, Name: at.Name, ContentURL: at.ContentURL})
	}
	return b, nil
}

func (a *API) createMessage(w http.ResponseWriter, r *http.Request) error {
	var in messageIn
	if err := decode(r, &in); err != nil {
		return err
	}
	b, err := in.domain()
	if err != nil {
		return err
	}
	me := userOf(r)
	m, err := a.Chats.Send(r.Context(), me, chatID(r), b)
	if err != nil {
		return err
	}
	writeMessage(w, http.StatusCreated, &m, me)
	return nil
}

func messageID(r *http.Request) (chat.MessageID, error) {
	n, err := strconv.ParseInt(r.PathValue("mid"), 10, 64)
	if err != nil || n <= 0 {
		return 0, errcode.New(errcode.NotFound, "No message %s in this chat.", r.PathValue("mid"))
	}
	return chat.MessageID(n), nil
}

func (a *API) listMessages(w http.ResponseWriter, r *http.Request) error {
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	n, _, err := idSkipToken(r)
	if err != nil {
		return err
	}
	before := chat.MessageID(n)
	me := userOf(r)
	msgs, next, err := a.Chats.Messages(r.Context(), me, chatID(r), before, limit)
	if err != nil {
		return err
	}
	out := page[graph.Message]{Value: make([]graph.Message, 0, len(msgs))}
	for i := range msgs {
		out.Value = append(out.Value, graph.NewMessage(&msgs[i], me))
	}
	if next > 0 {
		out.NextLink = a.nextLink(r, makeSkipToken(idKey(int64(next))))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getMessage(w http.ResponseWriter, r *http.Request) error {
	mid, err := messageID(r)
	if err != nil {
		return err
	}
	me := userOf(r)
	m, err := a.Chats.Message(r.Context(), me, chatID(r), mid)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, graph.NewMessage(&m, me))
	return nil
}

func (a *API) updateMessage(w http.ResponseWriter, r *http.Request) error {
	mid, err := messageID(r)
	if err != nil {
		return err
	}
	var in messageIn
	if err := decode(r, &in); err != nil {
		return err
	}
	b, err := in.domain()
	if err != nil {
		return err
	}
	if _, err := a.Chats.Edit(r.Context(), userOf(r), chatID(r), mid, b); err != nil {
		return err
	}
	// Graph answers an update with 204 No Content.
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteMessage(w http.ResponseWriter, r *http.Request) error {
	mid, err := messageID(r)
	if err != nil {
		return err
	}
	if err := a.Chats.Delete(r.Context(), userOf(r), chatID(r), mid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) markRead(read bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in markUnreadIn
		if r.ContentLength != 0 {
			if err := decode(r, &in); err != nil {
				return err
			}
		}
		if from, ok, err := in.unreadFrom(); err != nil || (ok && !read) {
			if err != nil {
				return err
			}
			if err := a.Chats.MarkUnreadFrom(r.Context(), userOf(r), chatID(r), from); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		if err := a.Chats.MarkRead(r.Context(), userOf(r), chatID(r), read); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// typing tells the chat's other members the caller is typing.
func (a *API) typing(w http.ResponseWriter, r *http.Request) error {
	if err := a.Chats.Typing(r.Context(), userOf(r), chatID(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
