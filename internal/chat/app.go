package chat

import (
	"context"
	"fmt"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// The writes of bots (docs/rules.md §9). Whether a bot may write to a chat
// is decided by internal/app before these are called: they only check that
// the chat exists and that the message is the bot's.

// SendAsApp posts a bot's message to a chat. Errors: notFound, badRequest.
func (s *Service) SendAsApp(ctx context.Context, id ID, a Application, b Body) (Message, error) {
	c, members, err := s.Store.FindChatAny(ctx, id)
	if err != nil {
		return Message{}, fmt.Errorf("bot send to %s: %w", id, err)
	}
	if b, err = s.clean(b, members); err != nil {
		return Message{}, err
	}
	m := Message{ChatID: c.ID, SenderID: identity.UserID(a.ID), App: a, CreatedAt: s.Now(), ContentType: b.ContentType, Content: b.Content, Mentions: b.Mentions, Attachments: b.Attachments}
	m.ModifiedAt = m.CreatedAt
	evs, err := s.Store.CreateMessage(ctx, &m, 0, func(stored *Message) []event.Draft {
		return s.messageDrafts(members, event.MessageCreated, stored)
	})
	if err != nil {
		return Message{}, fmt.Errorf("bot send to %s: %w", id, err)
	}
	s.publish(ctx, evs)
	return m, nil
}

// appMessage returns a bot's own message. Errors: notFound.
func (s *Service) appMessage(ctx context.Context, id ID, mid MessageID, appID string) (Chat, []Member, Message, error) {
	c, members, err := s.Store.FindChatAny(ctx, id)
	if err != nil {
		return Chat{}, nil, Message{}, err
	}
	m, err := s.Store.FindMessage(ctx, id, mid)
	if err != nil {
		return Chat{}, nil, Message{}, err
	}
	if m.App.ID != appID || m.Deleted() {
		return Chat{}, nil, Message{}, errcode.New(errcode.NotFound, "No message %d of this bot in this conversation.", mid)
	}
	return c, members, m, nil
}

// EditAsApp replaces a bot's own message (a card updated in place).
// Errors: notFound, badRequest.
func (s *Service) EditAsApp(ctx context.Context, id ID, mid MessageID, appID string, b Body) (Message, error) {
	_, members, m, err := s.appMessage(ctx, id, mid, appID)
	if err != nil {
		return Message{}, fmt.Errorf("bot edit of %d: %w", mid, err)
	}
	if b, err = s.clean(b, members); err != nil {
		return Message{}, err
	}
	m.ContentType, m.Content, m.Mentions, m.Attachments = b.ContentType, b.Content, b.Mentions, b.Attachments
	m.ModifiedAt = s.Now()
	evs, err := s.Store.UpdateMessage(ctx, m, s.messageDrafts(members, event.MessageUpdated, &m))
	if err != nil {
		return Message{}, fmt.Errorf("bot edit of %d: %w", mid, err)
	}
	s.publish(ctx, evs)
	return m, nil
}

// DeleteAsApp soft-deletes a bot's own message. Errors: notFound.
func (s *Service) DeleteAsApp(ctx context.Context, id ID, mid MessageID, appID string) error {
	_, members, m, err := s.appMessage(ctx, id, mid, appID)
	if err != nil {
		return fmt.Errorf("bot delete of %d: %w", mid, err)
	}
	now := s.Now()
	m.DeletedAt, m.ModifiedAt = now, now
	m.Content, m.Mentions, m.Attachments = "", nil, nil
	evs, err := s.Store.UpdateMessage(ctx, m, s.messageDrafts(members, event.MessageDeleted, &m))
	if err != nil {
		return fmt.Errorf("bot delete of %d: %w", mid, err)
	}
	s.publish(ctx, evs)
	return nil
}

// AppChat returns the 1:1 chat of a bot and a person, creating it: a
// oneOnOne chat hosted by the bot's tenant whose one member is the person
// (the bot is not a conversation member, as in Graph), named by app (the
// catalog app whose bot it is). created tells the one caller that made it:
// of calls racing for one pair, exactly one.
func (s *Service) AppChat(ctx context.Context, tenant identity.TenantID, botID string, app Application, u *identity.User) (c Chat, created bool, err error) {
	key := string(u.ID) + "|28:" + botID
	if c, err := s.Store.FindChatByPair(ctx, key, u.ID); err == nil {
		return c, false, nil
	} else if !errcode.Is(err, errcode.NotFound) {
		return Chat{}, false, err
	}
	now := s.Now()
	c = Chat{ID: NewID(), Type: OneOnOne, TenantID: tenant, CreatedBy: identity.UserID(botID), CreatedAt: now, UpdatedAt: now,
		External: u.TenantID != tenant, PairKey: key, App: app}
	m := Member{ID: NewMemberID(), ChatID: c.ID, UserID: u.ID, User: *u, Roles: []string{"owner"}, JoinedAt: now, State: Accepted}
	evs, err := s.Store.CreateChat(ctx, c, []Member{m}, s.chatDrafts([]Member{m}, event.ChatCreated, &c), nil)
	if errcode.Is(err, errcode.Conflict) {
		c, err = s.Store.FindChatByPair(ctx, key, u.ID)
		return c, false, err
	}
	if err != nil {
		return Chat{}, false, fmt.Errorf("bot chat with %s: %w", u.ID, err)
	}
	s.publish(ctx, evs)
	return c, true, nil
}
