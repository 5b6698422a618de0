package chat

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
)

// Limits on what a caller may send.
const (
	MaxContentBytes  = 28 * 1024 // Teams' message size limit
	MaxTopicRunes    = 250
	MaxGroupMembers  = 250
	MaxPageSize      = 50
	DefaultPageSize  = 20
	MaxMentions      = 100
	MaxAttachments   = 10
	MaxCardJSONBytes = 28 * 1024
)

// Store is the persistence chat needs. Write methods persist the change and
// its events atomically and return the events with their seqs, which the
// service publishes after commit.
type Store interface {
	// FindUserByID returns a user; notFound when none.
	FindUserByID(ctx context.Context, id identity.UserID) (identity.User, error)
	// FindTenantByID returns an organisation; notFound when none.
	FindTenantByID(ctx context.Context, id identity.TenantID) (identity.Tenant, error)
	// FindChat returns the chat as seen by viewer and its members; notFound
	// when it does not exist or viewer is not a member of it.
	FindChat(ctx context.Context, id ID, viewer identity.UserID) (Chat, []Member, error)
	// FindChatByPair returns the oneOnOne chat of a pair; notFound when none.
	FindChatByPair(ctx context.Context, pairKey string, viewer identity.UserID) (Chat, error)
	// FindChats returns the viewer's chats, most recent activity first,
	// starting after the cursor, at most limit.
	FindChats(ctx context.Context, viewer identity.UserID, after ChatCursor, limit int) ([]Chat, error)
	// CreateChat stores a chat with its members; conflict when a oneOnOne
	// chat of the same pair exists.
	CreateChat(ctx context.Context, c Chat, members []Member, drafts []event.Draft, invs []Invitation) ([]event.Event, error)
	// UpdateChat stores a chat's topic.
	UpdateChat(ctx context.Context, c Chat, drafts []event.Draft) ([]event.Event, error)
	// AddMember stores a member, unless the chat has max members already
	// (badRequest, decided inside the write, so adds that arrive together
	// never pass max); conflict when the user is already one.
	AddMember(ctx context.Context, m Member, max int, drafts []event.Draft, invs []Invitation) ([]event.Event, error)
	// RemoveMember deletes a member; notFound when none.
	RemoveMember(ctx context.Context, chatID ID, memberID string, drafts []event.Draft) ([]event.Event, error)
	// CreateMessage stores m, giving it its id, and the events build returns
	// for the stored message. With capped > 0 the sender may have at most
	// capped messages in the chat, this one included, counted inside the
	// write so that sends arriving together are counted one by one
	// (RequestCapReached).
	CreateMessage(ctx context.Context, m *Message, capped int, build func(*Message) []event.Draft) ([]event.Event, error)
	// FindMessage returns one message of a chat; notFound when none.
	FindMessage(ctx context.Context, chatID ID, id MessageID) (Message, error)
	// FindMessages returns messages of a chat newest first, with ids below
	// before (0: from the newest) and not older than since.
	FindMessages(ctx context.Context, chatID ID, since time.Time, before MessageID, limit int) ([]Message, error)
	// UpdateMessage stores an edit or a soft delete.
	UpdateMessage(ctx context.Context, m Message, drafts []event.Draft) ([]event.Event, error)
	// FindUsersByAddress returns the accounts whose e-mail, phone or
	// sign-in name is addr.
	FindUsersByAddress(ctx context.Context, addr string) ([]identity.User, error)
	// SharesChat reports whether two users are in a common chat.
	SharesChat(ctx context.Context, a, b identity.UserID) (bool, error)
	// AreContacts reports whether a pair accepted each other (docs/rules.md §5).
	AreContacts(ctx context.Context, a, b identity.UserID) (bool, error)
	// AcceptMember stores a member as accepted and the pair as contacts.
	AcceptMember(ctx context.Context, m Member, other identity.UserID, at time.Time, drafts []event.Draft) ([]event.Event, error)
	// UpdateMember stores a member's state, hold, history start and account.
	UpdateMember(ctx context.Context, m Member, drafts []event.Draft) ([]event.Event, error)
	// SetReadOnly stores whose setting made a chat read-only (Nobody:
	// writable).
	SetReadOnly(ctx context.Context, chatID ID, by msgrequest.Blame, drafts []event.Draft) ([]event.Event, error)
	// FindExternalChats lists external chats with an accepted member of
	// tenant (or, tenant "", of user).
	FindExternalChats(ctx context.Context, tenant identity.TenantID, user identity.UserID) ([]ID, error)
	// FindChatAny returns a chat and its members whoever looks. Errors: notFound.
	FindChatAny(ctx context.Context, id ID) (Chat, []Member, error)
	// MarkRead sets a member's read mark.
	MarkRead(ctx context.Context, chatID ID, userID identity.UserID, at time.Time, drafts []event.Draft) ([]event.Event, error)
	DailyStore // unread counts, reactions (daily.go)
}

// Encoder turns domain values into the JSON payloads of events, as seen by
// the receiving viewer (identity types are relative to the viewer).
type Encoder interface {
	MessageEvent(viewer *identity.User, typ event.Type, m *Message) []byte
	// SameMessageView reports whether MessageEvent gives viewers a and b
	// the same bytes for m, so that one payload serves both.
	SameMessageView(m *Message, a, b *identity.User) bool
	MemberEvent(viewer *identity.User, typ event.Type, chatID ID, m *Member) []byte
	ChatEvent(viewer *identity.User, typ event.Type, c *Chat) []byte
	// RequestEvent is the payload of requestReceived and friends.
	RequestEvent(viewer *identity.User, typ event.Type, c *Chat, from *identity.User) []byte
	// PresenceEvent is the payload of readReceipt and typing: who, when.
	PresenceEvent(viewer *identity.User, typ event.Type, chatID ID, who *identity.User, at time.Time) []byte
	// NoticeEvent is the payload of chatReadOnly / chatWritable.
	NoticeEvent(viewer *identity.User, typ event.Type, c *Chat, reason string) []byte
}

// Deps are what a chat service is built over, all given to NewService.
type Deps struct {
	Store   Store
	Bus     event.Bus
	Encoder Encoder
	Policy  Policy
	Inviter Inviter // nil: addresses no account owns are held, not invited
	Safety  Safety  // nil: no spam checks
	// Audit records external chats in the creator's tenant log (may be nil).
	Audit func(ctx context.Context, tenant identity.TenantID, actor identity.UserID, action, target string, details map[string]any)
	// ReleaseFiles is told, after a soft delete is stored, of the files the
	// message attached (file.Service.Release: a file no live message
	// attaches any more is deleted, bytes and all). May be nil.
	ReleaseFiles func(ctx context.Context, chatID ID, ids []string)
	Now          func() time.Time
	// PhoneRegion is the region of phone numbers typed without a country
	// code ("": US).
	PhoneRegion string
	// Sent, when set, is told of every person's message once it is stored
	// and published (the chat's bots get it: docs/rules.md §9). It must
	// not block.
	Sent func(ctx context.Context, actor *identity.User, m *Message)
	// Reacted, when set, is told once a person's reaction to a bot's
	// message is stored and published (that bot gets it: docs/rules.md
	// §9), as team.Hooks.Reacted is for channels. It must not block.
	Reacted func(ctx context.Context, actor *identity.User, m *Message, reaction string, added bool)
	// Via checks the app a person's message names as the source of its
	// card (Body.Via: a message extension's result, docs/rules.md §9) and
	// returns it with its name. nil: no message may name one (badRequest).
	Via func(ctx context.Context, actor *identity.User, c *Chat, appID string) (Application, error)
}

// Service runs chats and messages.
type Service struct {
	Deps
	sani *bluemonday.Policy
}

// NewService returns a chat service over d.
func NewService(d Deps) *Service {
	p := bluemonday.UGCPolicy()
	// Graph mentions are <at id="0">Name</at> inside the HTML body.
	p.AllowElements("at")
	p.AllowAttrs("id").OnElements("at")
	// A bot is mentioned as <at>Name</at> (bots are not members, so no
	// mentions entry names them): kept, so app.Delivered sees the mention.
	p.AllowNoAttrs().OnElements("at")
	if d.PhoneRegion == "" {
		d.PhoneRegion = "US"
	}
	return &Service{Deps: d, sani: p}
}

func (s *Service) publish(ctx context.Context, evs []event.Event) {
	if len(evs) == 0 {
		return
	}
	// A failed publish loses nothing: events are stored, clients replay.
	_ = s.Bus.Publish(ctx, evs)
}

// Safety is the spam check chat asks before new requests (docs/rules.md §10);
// safety.Service implements it.
type Safety interface {
	// CheckNewRequests takes n more people from the sender's budgets, all
	// or none, atomically, or refuses.
	CheckNewRequests(ctx context.Context, sender *identity.User, n int) error
	// ReturnNewRequests gives back people taken for a chat not stored.
	ReturnNewRequests(ctx context.Context, sender *identity.User, n int) error
	// NewSender reports whether the sender's requests are filtered.
	NewSender(sender *identity.User) bool
	// RecordRequestMessage notes a message sent in a pending request.
	RecordRequestMessage(ctx context.Context, sender *identity.User, chatID, content string) error
}

// checkRequests applies the spam checks to the pending members about to be
// stored: rates and suspension, and the filtered list for new senders. It
// returns how many people it took from the sender's budgets, which
// returnRequests gives back when the chat is not stored after all.
func (s *Service) checkRequests(ctx context.Context, actor *identity.User, members []Member) (int, error) {
	if s.Safety == nil {
		return 0, nil
	}
	n := 0
	for i := range members {
		if members[i].State == Pending && members[i].RequestFrom == actor.ID {
			n++
			members[i].Filtered = s.Safety.NewSender(actor)
		}
	}
	return n, s.Safety.CheckNewRequests(ctx, actor, n)
}

// returnRequests gives back what checkRequests took for a write that did
// not happen.
func (s *Service) returnRequests(ctx context.Context, actor *identity.User, n int) {
	if s.Safety != nil && n > 0 {
		// Best effort: a lost refund only makes the budget stricter.
		_ = s.Safety.ReturnNewRequests(ctx, actor, n)
	}
}

// Get returns a chat the actor is in. Errors: notFound.
func (s *Service) Get(ctx context.Context, actor *identity.User, id ID) (Chat, error) {
	c, _, err := s.findChat(ctx, id, actor)
	if err != nil {
		return Chat{}, fmt.Errorf("get chat %s: %w", id, err)
	}
	return c, nil
}

// ChatCursor marks a position in the chat list.
type ChatCursor struct {
	UpdatedAt time.Time
	ID        ID
}

// List returns a page of the actor's chats and the cursor of the next page
// (zero when there is none).
func (s *Service) List(ctx context.Context, actor *identity.User, after ChatCursor, limit int) ([]Chat, ChatCursor, error) {
	limit = clampPage(limit)
	chats, err := s.Store.FindChats(ctx, actor.ID, after, limit+1)
	if err != nil {
		return nil, ChatCursor{}, fmt.Errorf("list chats: %w", err)
	}
	var next ChatCursor
	if len(chats) > limit {
		chats = chats[:limit]
		last := chats[limit-1]
		next = ChatCursor{UpdatedAt: last.UpdatedAt, ID: last.ID}
	}
	return chats, next, nil
}

func clampPage(n int) int {
	if n <= 0 {
		return DefaultPageSize
	}
	return min(n, MaxPageSize)
}

// Update changes a group chat's topic. Errors: notFound, badRequest,
// forbidden (a request to the actor is pending), chatReadOnly.
func (s *Service) Update(ctx context.Context, actor *identity.User, id ID, topic string) (Chat, error) {
	c, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return Chat{}, fmt.Errorf("update chat %s: %w", id, err)
	}
	if err := mayChange(members, actor); err != nil {
		return Chat{}, err
	}
	if c.Type != Group {
		return Chat{}, errcode.New(errcode.BadRequest, "Only group chats have a topic.")
	}
	topic = strings.TrimSpace(topic)
	if utf8.RuneCountInString(topic) > MaxTopicRunes {
		return Chat{}, errcode.New(errcode.BadRequest, "The topic may have at most %d characters.", MaxTopicRunes)
	}
	if err := s.writable(ctx, actor, &c, members); err != nil {
		return Chat{}, err
	}
	c.Topic = topic
	c.UpdatedAt = s.Now()
	evs, err := s.Store.UpdateChat(ctx, c, s.chatDrafts(members, event.ChatUpdated, &c))
	if err != nil {
		return Chat{}, fmt.Errorf("update chat %s: %w", id, err)
	}
	s.publish(ctx, evs)
	return c, nil
}

func (s *Service) chatDrafts(members []Member, typ event.Type, c *Chat) []event.Draft {
	drafts := make([]event.Draft, 0, len(members))
	for i := range members {
		if members[i].UserID == "" || members[i].State != Accepted {
			continue
		}
		drafts = append(drafts, event.Draft{UserID: members[i].UserID, Type: typ, ChatID: string(c.ID), Payload: s.Encoder.ChatEvent(&members[i].User, typ, c)})
	}
	return drafts
}
