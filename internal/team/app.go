package team

import (
	"context"
	"fmt"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// The writes of bots in channels (docs/rules.md §9). Whether a bot may
// write to a channel is decided by internal/app before these are called:
// they only check that the channel (and thread) exists and that a changed
// message is the bot's.

// Hooks tell the apps of a team what happened after it is stored: a
// person's channel message, people added to or removed from the team, a
// reaction set on or taken off a bot's message, a channel created, renamed
// or deleted (change is event.ChannelCreated, ChannelUpdated for a new
// name only, or ChannelDeleted). They are the one way team events reach
// bots, and must not block.
type Hooks struct {
	Sent    func(ctx context.Context, actor *identity.User, t *Team, c *Channel, m *Message)
	Members func(ctx context.Context, actor *identity.User, t *Team, people []Member, removed bool)
	Reacted func(ctx context.Context, actor *identity.User, t *Team, c *Channel, m *Message, reaction string, added bool)
	Channel func(ctx context.Context, actor *identity.User, t *Team, c *Channel, change event.Type)
}

// channelHook tells the team's apps of a channel change.
func (s *Service) channelHook(ctx context.Context, actor *identity.User, t *Team, c *Channel, change event.Type) {
	if s.Hooks.Channel != nil {
		s.Hooks.Channel(ctx, actor, t, c, change)
	}
}

func (s *Service) appChannel(ctx context.Context, cid ChannelID) (Team, []Member, Channel, error) {
	tid, err := s.Store.FindChannelTeam(ctx, cid)
	if err != nil {
		return Team{}, nil, Channel{}, err
	}
	t, members, err := s.Store.FindTeam(ctx, tid)
	if err != nil {
		return Team{}, nil, Channel{}, err
	}
	c, err := s.Store.FindChannel(ctx, tid, cid, "")
	if err != nil {
		return Team{}, nil, Channel{}, err
	}
	return t, members, c, nil
}

// SendAsApp posts a bot's message to a channel: top-level (replyTo 0) or
// in the thread of replyTo. Errors: notFound, badRequest.
func (s *Service) SendAsApp(ctx context.Context, cid ChannelID, replyTo chat.MessageID, a chat.Application, b chat.Body) (Message, error) {
	t, members, c, err := s.appChannel(ctx, cid)
	if err != nil {
		return Message{}, fmt.Errorf("bot send to %s: %w", cid, err)
	}
	if replyTo != 0 {
		if _, err := s.message(ctx, cid, 0, replyTo); err != nil {
			return Message{}, err
		}
	}
	if b, err = s.clean(&t, &c, members, b); err != nil {
		return Message{}, err
	}
	now := s.Now()
	m := Message{Message: chat.Message{ChatID: chat.ID(c.ID), SenderID: identity.UserID(a.ID), App: a, CreatedAt: now, ModifiedAt: now,
		ContentType: b.ContentType, Content: b.Content, Mentions: b.Mentions, Attachments: b.Attachments}, ReplyTo: replyTo}
	evs, err := s.Store.CreateChannelMessage(ctx, &m, func(stored *Message) []event.Draft {
		return s.messageDrafts(&t, members, event.MessageCreated, &c, stored)
	})
	if err != nil {
		return Message{}, fmt.Errorf("bot send to %s: %w", cid, err)
	}
	s.publish(ctx, evs)
	return m, nil
}

func (s *Service) appMessage(ctx context.Context, cid ChannelID, mid chat.MessageID, appID string) (Team, []Member, Channel, Message, error) {
	t, members, c, err := s.appChannel(ctx, cid)
	if err != nil {
		return Team{}, nil, Channel{}, Message{}, err
	}
	m, err := s.Store.FindChannelMessage(ctx, cid, mid)
	if err != nil || m.App.ID != appID || m.Deleted() {
		return Team{}, nil, Channel{}, Message{}, errcode.New(errcode.NotFound, "No message %d of this bot in this conversation.", mid)
	}
	return t, members, c, m, nil
}

// EditAsApp replaces a bot's own channel message (a card updated in
// place). Errors: notFound, badRequest.
func (s *Service) EditAsApp(ctx context.Context, cid ChannelID, mid chat.MessageID, appID string, b chat.Body) (Message, error) {
	t, members, c, m, err := s.appMessage(ctx, cid, mid, appID)
	if err != nil {
		return Message{}, err
	}
	return s.saveEdit(ctx, &t, members, &c, m, b)
}

// DeleteAsApp soft-deletes a bot's own channel message. Errors: notFound.
func (s *Service) DeleteAsApp(ctx context.Context, cid ChannelID, mid chat.MessageID, appID string) error {
	t, members, c, m, err := s.appMessage(ctx, cid, mid, appID)
	if err != nil {
		return err
	}
	now := s.Now()
	m.DeletedAt, m.ModifiedAt = now, now
	m.Content, m.Mentions, m.Attachments = "", nil, nil
	evs, err := s.Store.UpdateMessage(ctx, m.Message, s.messageDrafts(&t, members, event.MessageDeleted, &c, &m))
	if err != nil {
		return fmt.Errorf("bot delete of %d: %w", mid, err)
	}
	s.publish(ctx, evs)
	return nil
}
