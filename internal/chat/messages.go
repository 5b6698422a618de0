package chat

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
)

// Body is a message body as sent by a client.
type Body struct {
	ContentType string
	Content     string
	Mentions    []Mention
	Attachments []Attachment
	// Via names the app (its catalog id) whose message extension gave a
	// person's message its card; checked by Deps.Via when the message is
	// sent, ignored on edits.
	Via Application
}

func (s *Service) clean(b Body, members []Member) (Body, error) {
	switch b.ContentType {
	case "", "text":
		b.ContentType = "text"
	case "html":
	default:
		return Body{}, errcode.New(errcode.BadRequest, "body.contentType must be text or html.")
	}
	if len(b.Content) > MaxContentBytes {
		return Body{}, errcode.New(errcode.BadRequest, "The message is longer than %d bytes.", MaxContentBytes)
	}
	if !utf8.ValidString(b.Content) {
		return Body{}, errcode.New(errcode.BadRequest, "The message is not valid UTF-8.")
	}
	if b.ContentType == "html" {
		b.Content = s.sani.Sanitize(b.Content)
	}
	if strings.TrimSpace(b.Content) == "" && len(b.Attachments) == 0 {
		return Body{}, errcode.New(errcode.BadRequest, "The message is empty.")
	}
	if len(b.Mentions) > MaxMentions {
		return Body{}, errcode.New(errcode.BadRequest, "A message may mention at most %d people.", MaxMentions)
	}
	for _, mn := range b.Mentions {
		found := false
		for _, m := range members {
			if m.UserID != "" && m.UserID == mn.UserID {
				found = true
			}
		}
		if !found {
			return Body{}, errcode.New(errcode.BadRequest, "Mentions may name members of this chat only.")
		}
	}
	if len(b.Attachments) > MaxAttachments {
		return Body{}, errcode.New(errcode.BadRequest, "A message may have at most %d attachments.", MaxAttachments)
	}
	for i, a := range b.Attachments {
		if a.ContentType == MessageReferenceType || a.ContentType == FileReferenceType {
			continue // a quoted reply or a file: quote (reply.go) checks it
		}
		if a.ContentType != AdaptiveCardType {
			return Body{}, errcode.New(errcode.BadRequest, "Attachments must be Adaptive Cards (%s).", AdaptiveCardType)
		}
		if len(a.Content) > MaxCardJSONBytes {
			return Body{}, errcode.New(errcode.BadRequest, "Attachment %d is larger than %d bytes.", i, MaxCardJSONBytes)
		}
		if err := checkCard(i, a.ID, a.Content); err != nil {
			return Body{}, err
		}
		if a.ID == "" {
			b.Attachments[i].ID = randHex(8)
		}
	}
	return b, nil
}

// Send posts a message. Errors: notFound, badRequest and the Gate's codes.
func (s *Service) Send(ctx context.Context, actor *identity.User, id ID, b Body) (Message, error) {
	c, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return Message{}, fmt.Errorf("send to %s: %w", id, err)
	}
	b, err = s.clean(b, members)
	if err != nil {
		return Message{}, err
	}
	if b, err = s.quote(ctx, actor, members, c.ID, b); err != nil {
		return Message{}, err
	}
	capped, err := s.maySend(ctx, actor, &c, members, true)
	if err != nil {
		return Message{}, err
	}
	if b.Via.ID != "" {
		if s.Via == nil {
			return Message{}, errcode.New(errcode.BadRequest, "viaAppId names no app installed in this chat.")
		}
		if b.Via, err = s.Via(ctx, actor, &c, b.Via.ID); err != nil {
			return Message{}, err
		}
	}
	m := Message{ChatID: c.ID, SenderID: actor.ID, Sender: *actor, CreatedAt: s.Now(), ContentType: b.ContentType, Content: b.Content, Mentions: b.Mentions, Attachments: b.Attachments,
		Via: b.Via}
	m.ModifiedAt = m.CreatedAt
	evs, err := s.Store.CreateMessage(ctx, &m, capped, func(stored *Message) []event.Draft {
		return s.messageDrafts(members, event.MessageCreated, stored)
	})
	if err != nil {
		return Message{}, fmt.Errorf("send to %s: %w", id, err)
	}
	s.publish(ctx, evs)
	if s.Sent != nil {
		s.Sent(ctx, actor, &m)
	}
	// A capped send is one while a request of the sender's is pending.
	if s.Safety != nil && capped > 0 {
		if err := s.Safety.RecordRequestMessage(ctx, actor, string(c.ID), m.Content); err != nil {
			return Message{}, err
		}
	}
	return m, nil
}

// messageDrafts are the events of a message for the members who may see
// it: accepted members, and targets of a delivered (not held) request, who
// see the request's messages as they come.
// Members who see the same bytes share one payload (Encoder.SameMessageView):
// in a chat of one tenant, the message is encoded once.
func (s *Service) messageDrafts(members []Member, typ event.Type, m *Message) []event.Draft {
	drafts := make([]event.Draft, 0, len(members))
	var preview *Message
	// The last full payload encoded, and its viewer.
	var full []byte
	var fullFor *identity.User
	for i := range members {
		mb := &members[i]
		if mb.UserID == "" || m.CreatedAt.Before(mb.VisibleFrom) {
			continue
		}
		switch msgrequest.MessageForm(mb.State, mb.Held) {
		case msgrequest.PreviewForm:
			// docs/rules.md §5: until the target accepts, links are not
			// links and images are not loaded: the target gets the preview
			// form.
			if preview == nil {
				p := s.Preview(m)
				preview = &p
			}
			drafts = append(drafts, event.Draft{UserID: mb.UserID, Type: typ, ChatID: string(m.ChatID), Payload: s.Encoder.MessageEvent(&mb.User, typ, preview)})
		case msgrequest.Full:
			if fullFor == nil || !s.Encoder.SameMessageView(m, fullFor, &mb.User) {
				full, fullFor = s.Encoder.MessageEvent(&mb.User, typ, m), &mb.User
			}
			drafts = append(drafts, event.Draft{UserID: mb.UserID, Type: typ, ChatID: string(m.ChatID), Payload: full})
		}
	}
	return drafts
}

// Preview is the preview form of m (chat.Preview), for the search
// service and the message paths.
func (s *Service) Preview(m *Message) Message { return Preview(m) }

// Messages returns a page of messages newest first, from before (0: the
// newest), within the actor's visible history; a target who has not
// accepted the request gets them in the preview form. Errors: notFound.
func (s *Service) Messages(ctx context.Context, actor *identity.User, id ID, before MessageID, limit int) ([]Message, MessageID, error) {
	_, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return nil, 0, fmt.Errorf("list messages of %s: %w", id, err)
	}
	me := memberOf(members, actor.ID)
	limit = clampPage(limit)
	msgs, err := s.Store.FindMessages(ctx, id, me.VisibleFrom, before, limit+1)
	if err != nil {
		return nil, 0, fmt.Errorf("list messages of %s: %w", id, err)
	}
	var next MessageID
	if len(msgs) > limit {
		msgs = msgs[:limit]
		next = msgs[limit-1].ID
	}
	if msgrequest.MessageForm(me.State, me.Held) == msgrequest.PreviewForm {
		out := make([]Message, len(msgs))
		for i := range msgs {
			out[i] = s.Preview(&msgs[i])
		}
		msgs = out
	}
	return msgs, next, nil
}

func memberOf(members []Member, id identity.UserID) Member {
	for _, m := range members {
		if m.UserID == id {
			return m
		}
	}
	return Member{}
}

// Message returns one message, in the preview form to a target who has not
// accepted the request. Errors: notFound.
func (s *Service) Message(ctx context.Context, actor *identity.User, id ID, mid MessageID) (Message, error) {
	_, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return Message{}, fmt.Errorf("get message %d: %w", mid, err)
	}
	m, err := s.Store.FindMessage(ctx, id, mid)
	if err != nil {
		return Message{}, fmt.Errorf("get message %d: %w", mid, err)
	}
	me := memberOf(members, actor.ID)
	if m.CreatedAt.Before(me.VisibleFrom) {
		return Message{}, errcode.New(errcode.NotFound, "No message %d in this chat.", mid)
	}
	if msgrequest.MessageForm(me.State, me.Held) == msgrequest.PreviewForm {
		return s.Preview(&m), nil
	}
	return m, nil
}

func (s *Service) ownMessage(ctx context.Context, actor *identity.User, id ID, mid MessageID) (Chat, []Member, Message, error) {
	c, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return Chat{}, nil, Message{}, err
	}
	m, err := s.Store.FindMessage(ctx, id, mid)
	if err != nil {
		return Chat{}, nil, Message{}, err
	}
	if m.SenderID != actor.ID {
		return Chat{}, nil, Message{}, errcode.New(errcode.Forbidden, "Only the sender may change a message.")
	}
	if m.Deleted() {
		return Chat{}, nil, Message{}, errcode.New(errcode.NotFound, "The message was deleted.")
	}
	return c, members, m, nil
}

// Edit replaces the body of the actor's own message. Errors: notFound,
// forbidden, badRequest, and the Gate's codes (an edit is a send).
func (s *Service) Edit(ctx context.Context, actor *identity.User, id ID, mid MessageID, b Body) (Message, error) {
	c, members, m, err := s.ownMessage(ctx, actor, id, mid)
	if err != nil {
		return Message{}, fmt.Errorf("edit message %d: %w", mid, err)
	}
	if b, err = s.clean(b, members); err != nil {
		return Message{}, err
	}
	if b, err = s.quote(ctx, actor, members, c.ID, b); err != nil {
		return Message{}, err
	}
	if _, err := s.maySend(ctx, actor, &c, members, false); err != nil {
		return Message{}, err
	}
	m.ContentType, m.Content, m.Mentions, m.Attachments = b.ContentType, b.Content, b.Mentions, b.Attachments
	m.ModifiedAt = s.Now()
	evs, err := s.Store.UpdateMessage(ctx, m, s.messageDrafts(members, event.MessageUpdated, &m))
	if err != nil {
		return Message{}, fmt.Errorf("edit message %d: %w", mid, err)
	}
	s.publish(ctx, evs)
	return m, nil
}

// Delete soft-deletes the actor's own message: it stays in the list with
// its deletion time and no content. Errors: notFound, forbidden.
func (s *Service) Delete(ctx context.Context, actor *identity.User, id ID, mid MessageID) error {
	_, members, m, err := s.ownMessage(ctx, actor, id, mid)
	if err != nil {
		return fmt.Errorf("delete message %d: %w", mid, err)
	}
	now := s.Now()
	had := m.Attachments
	m.DeletedAt, m.ModifiedAt = now, now
	m.Content, m.Mentions, m.Attachments = "", nil, nil
	evs, err := s.Store.UpdateMessage(ctx, m, s.messageDrafts(members, event.MessageDeleted, &m))
	if err != nil {
		return fmt.Errorf("delete message %d: %w", mid, err)
	}
	s.publish(ctx, evs)
	s.releaseFiles(ctx, id, had, nil)
	return nil
}

// MarkRead sets the actor's read mark on a chat to now (read=true) or clears
// it (read=false). Errors: notFound.
func (s *Service) MarkRead(ctx context.Context, actor *identity.User, id ID, read bool) error {
	c, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return fmt.Errorf("mark %s read: %w", id, err)
	}
	var at time.Time
	if read {
		at = s.Now()
	}
	me := memberOf(members, actor.ID)
	c.LastReadAt = at
	drafts := []event.Draft{{UserID: actor.ID, Type: event.ChatRead, ChatID: string(c.ID), Payload: s.Encoder.ChatEvent(&me.User, event.ChatRead, &c)}}
	// docs/rules.md §5: while a request to the reader is pending, the sender learns
	// nothing of them; receipts go out only from accepted members.
	if read {
		for i := range members {
			o := &members[i]
			if o.UserID == "" || o.UserID == actor.ID || !msgrequest.SharesPresence(me.State, o.State) {
				continue
			}
			drafts = append(drafts, event.Draft{UserID: o.UserID, Type: event.ReadReceipt, ChatID: string(c.ID), Payload: s.Encoder.PresenceEvent(&o.User, event.ReadReceipt, c.ID, actor, at)})
		}
	}
	evs, err := s.Store.MarkRead(ctx, c.ID, actor.ID, at, drafts)
	if err != nil {
		return fmt.Errorf("mark %s read: %w", id, err)
	}
	s.publish(ctx, evs)
	return nil
}

// Typing tells the other accepted members that the actor is typing. It is
// ephemeral (not stored). Errors: notFound, forbidden (a request to the
// actor is pending: docs/rules.md §5, nothing of them reaches the sender).
func (s *Service) Typing(ctx context.Context, actor *identity.User, id ID) error {
	c, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return fmt.Errorf("typing in %s: %w", id, err)
	}
	me := memberState(members, actor.ID)
	if !msgrequest.MayChange(me) {
		return errcode.New(errcode.Forbidden, "%s", acceptToReply)
	}
	now := s.Now()
	var evs []event.Event
	for i := range members {
		o := &members[i]
		if o.UserID == "" || o.UserID == actor.ID || !msgrequest.SharesPresence(me, o.State) {
			continue
		}
		evs = append(evs, event.Event{UserID: o.UserID, Type: event.Typing, ChatID: string(c.ID), Payload: s.Encoder.PresenceEvent(&o.User, event.Typing, c.ID, actor, now), CreatedAt: now})
	}
	s.publish(ctx, evs)
	return nil
}
