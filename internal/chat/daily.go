package chat

import (
	"context"
	"fmt"
	"time"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// DailyStore is the persistence of the daily-chat features of docs/rules.md
// §7: unread counts kept on the server, and reactions.
type DailyStore interface {
	// CountUnread returns, for each of the viewer's chats named, the
	// viewer's unread messages: other people's messages, not deleted,
	// after the viewer's read mark and within their visible history,
	// counted up to max. One query for all the chats.
	CountUnread(ctx context.Context, viewer identity.UserID, chats []ID, max int) (map[ID]int, error)
	// UpdateReactions reads a message inside the write (on PostgreSQL with
	// its row locked), lets change alter its reactions, and stores them
	// with the events build returns, so that reactions arriving together
	// are decided one by one. Errors: notFound, and change's.
	UpdateReactions(ctx context.Context, chatID ID, id MessageID, change func(*Message) error, build func(*Message) []event.Draft) ([]event.Event, error)
	// FindFileRef returns what a file attachment needs of a file;
	// notFound when none.
	FindFileRef(ctx context.Context, id string) (FileRef, error)
}

// FileRef is what a message's file attachment needs of a file.
type FileRef struct {
	ChatID   ID
	Uploader identity.UserID
	Name     string
	HasThumb bool
}

// MaxUnreadCount caps a chat's unread count: past it a client shows "999+".
const MaxUnreadCount = 999

// ListWithUnread is List with each chat's unread count for the actor.
func (s *Service) ListWithUnread(ctx context.Context, actor *identity.User, after ChatCursor, limit int) ([]Chat, ChatCursor, error) {
	chats, next, err := s.List(ctx, actor, after, limit)
	if err != nil {
		return nil, ChatCursor{}, err
	}
	if err := s.countUnread(ctx, actor, chats); err != nil {
		return nil, ChatCursor{}, err
	}
	return chats, next, nil
}

// GetWithUnread is Get with the chat's unread count for the actor.
// Errors: notFound.
func (s *Service) GetWithUnread(ctx context.Context, actor *identity.User, id ID) (Chat, error) {
	c, err := s.Get(ctx, actor, id)
	if err != nil {
		return Chat{}, err
	}
	one := []Chat{c}
	if err := s.countUnread(ctx, actor, one); err != nil {
		return Chat{}, err
	}
	return one[0], nil
}

func (s *Service) countUnread(ctx context.Context, actor *identity.User, chats []Chat) error {
	if len(chats) == 0 {
		return nil
	}
	ids := make([]ID, len(chats))
	for i := range chats {
		ids[i] = chats[i].ID
	}
	counts, err := s.Store.CountUnread(ctx, actor.ID, ids, MaxUnreadCount)
	if err != nil {
		return fmt.Errorf("count unread: %w", err)
	}
	for i := range chats {
		chats[i].UnreadCount = counts[chats[i].ID]
	}
	return nil
}

// MarkUnreadFrom moves the actor's read mark back to from (Graph
// markChatUnreadForUser with lastMessageReadDateTime): the messages after
// it count as unread again. It tells only the actor's other connections
// (chatRead); a read mark moved back sends no read receipt. Errors:
// notFound, badRequest (a time in the future).
func (s *Service) MarkUnreadFrom(ctx context.Context, actor *identity.User, id ID, from time.Time) error {
	c, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return fmt.Errorf("mark %s unread: %w", id, err)
	}
	now := s.Now()
	if from.After(now) {
		return errcode.New(errcode.BadRequest, "lastMessageReadDateTime cannot be in the future.")
	}
	me := memberOf(members, actor.ID)
	c.LastReadAt = from
	drafts := []event.Draft{{UserID: actor.ID, Type: event.ChatRead, ChatID: string(c.ID), Payload: s.Encoder.ChatEvent(&me.User, event.ChatRead, &c)}}
	evs, err := s.Store.MarkRead(ctx, c.ID, actor.ID, from, drafts)
	if err != nil {
		return fmt.Errorf("mark %s unread: %w", id, err)
	}
	s.publish(ctx, evs)
	return nil
}
