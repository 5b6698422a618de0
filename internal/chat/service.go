package chat

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/policy"
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
	// SetReadOnly stores whose setting made a chat read-only ("" = writable).
	SetReadOnly(ctx context.Context, chatID ID, by string, drafts []event.Draft) ([]event.Event, error)
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
	Now   func() time.Time
	// PhoneRegion is the region of phone numbers typed without a country
	// code ("": US).
	PhoneRegion string
}

// Service runs chats and messages.
type Service struct {
	Deps
	sani  *bluemonday.Policy
	plain *bluemonday.Policy
}

// NewService returns a chat service over d.
func NewService(d Deps) *Service {
	p := bluemonday.UGCPolicy()
	// Graph mentions are <at id="0">Name</at> inside the HTML body.
	p.AllowElements("at")
	p.AllowAttrs("id").OnElements("at")
	if d.PhoneRegion == "" {
		d.PhoneRegion = "US"
	}
	return &Service{Deps: d, sani: p, plain: bluemonday.StrictPolicy()}
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

// NewMember describes a member to add: by user id, or by the e-mail address
// or phone number the inviter typed (docs/rules.md §6).
type NewMember struct {
	UserID      identity.UserID
	Email       string
	Phone       string
	Roles       []string
	VisibleFrom *time.Time
}

// NewChat describes a chat to create.
type NewChat struct {
	Type    Type
	Topic   string
	Members []NewMember
}

// Create creates a chat. For a oneOnOne chat that exists already it returns
// that chat and created=false. Members are given by id or by the address
// the caller typed (docs/rules.md §6). Errors: badRequest, notFound (an unknown or
// invisible user), forbiddenByPolicy, recipientUnavailable.
func (s *Service) Create(ctx context.Context, actor *identity.User, nc NewChat) (Chat, bool, error) {
	if nc.Type != OneOnOne && nc.Type != Group {
		return Chat{}, false, errcode.New(errcode.BadRequest, "chatType must be oneOnOne or group.")
	}
	topic := strings.TrimSpace(nc.Topic)
	if utf8.RuneCountInString(topic) > MaxTopicRunes {
		return Chat{}, false, errcode.New(errcode.BadRequest, "The topic may have at most %d characters.", MaxTopicRunes)
	}
	if nc.Type == OneOnOne && topic != "" {
		return Chat{}, false, errcode.New(errcode.BadRequest, "A oneOnOne chat has no topic.")
	}
	if len(nc.Members)+1 > MaxGroupMembers+1 {
		return Chat{}, false, errcode.New(errcode.BadRequest, "A chat may have at most %d members.", MaxGroupMembers)
	}
	if nc.Type == OneOnOne {
		// Before resolving: members bound by id other than the caller, and
		// members given by address (one of which may be the caller's own
		// sign-in name); the count after resolving below is the exact one.
		others, byAddress := 0, 0
		for _, nm := range nc.Members {
			switch {
			case nm.UserID == "":
				byAddress++
			case nm.UserID != actor.ID:
				others++
			}
		}
		if others > 1 || others+byAddress == 0 || others+byAddress > 2 {
			return Chat{}, false, errcode.New(errcode.BadRequest, "A oneOnOne chat has exactly two members: you and one other person.")
		}
	}
	// The caller may list themself or not; resolve the others once each.
	ownerSelf := nc.Type == OneOnOne
	var targets []target
	var roles [][]string
	seen := map[string]bool{}
	for _, nm := range nc.Members {
		tg, err := s.resolve(ctx, actor, nm)
		if err != nil {
			return Chat{}, false, err
		}
		if tg.user != nil && tg.user.ID == actor.ID {
			ownerSelf = ownerSelf || slices.Contains(nm.Roles, "owner")
			continue
		}
		key := tg.address
		if tg.user != nil {
			key = string(tg.user.ID)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		targets = append(targets, tg)
		roles = append(roles, nm.Roles)
	}
	switch {
	case nc.Type == OneOnOne && len(targets) != 1:
		return Chat{}, false, errcode.New(errcode.BadRequest, "A oneOnOne chat has exactly two members: you and one other person.")
	case nc.Type == Group && len(targets) < 1:
		return Chat{}, false, errcode.New(errcode.BadRequest, "A group chat needs at least one other member.")
	case len(targets)+1 > MaxGroupMembers:
		return Chat{}, false, errcode.New(errcode.BadRequest, "A chat may have at most %d members.", MaxGroupMembers)
	}
	now := s.Now()
	c := Chat{ID: NewID(), Type: nc.Type, Topic: topic, TenantID: actor.TenantID, CreatedBy: actor.ID, CreatedAt: now, UpdatedAt: now}
	if nc.Type == OneOnOne {
		other := "addr:" + targets[0].address
		if targets[0].user != nil {
			other = string(targets[0].user.ID)
		}
		c.PairKey = PairKey(actor.ID, identity.UserID(other))
		if existing, err := s.Store.FindChatByPair(ctx, c.PairKey, actor.ID); err == nil {
			return s.existingPair(ctx, actor, existing)
		} else if !errcode.Is(err, errcode.NotFound) {
			return Chat{}, false, fmt.Errorf("create chat: %w", err)
		}
	}
	// docs/rules.md §4 rule 7: no group brings a guest together with anyone outside its
	// host tenant. (With one target the only pair is the actor's: admit.)
	if len(targets) > 1 {
		if err := s.together(ctx, actor, nil, targets); err != nil {
			return Chat{}, false, err
		}
	}
	self := Member{ID: NewMemberID(), ChatID: c.ID, UserID: actor.ID, User: *actor, JoinedAt: now, VisibleFrom: now, State: Accepted, AddedBy: actor.ID, Roles: []string{}}
	if ownerSelf || nc.Type == Group {
		self.Roles = []string{"owner"}
	}
	members := []Member{self}
	var invites []int
	for i, tg := range targets {
		m := Member{ID: NewMemberID(), ChatID: c.ID, JoinedAt: now, VisibleFrom: now, AddedBy: actor.ID, Roles: []string{}}
		if nc.Type == OneOnOne || slices.Contains(roles[i], "owner") {
			m.Roles = []string{"owner"}
		}
		adm, err := s.admit(ctx, actor, tg, m)
		if err != nil {
			return Chat{}, false, err
		}
		if tg.user == nil || tg.user.ExternalTo(actor) {
			c.External = true
		}
		if adm.invite {
			invites = append(invites, len(members))
		}
		members = append(members, adm.member)
	}
	taken, err := s.checkRequests(ctx, actor, members)
	if err != nil {
		return Chat{}, false, err
	}
	invs, err := s.prepare(ctx, actor, &c, members, invites)
	if err != nil {
		s.returnRequests(ctx, actor, taken)
		return Chat{}, false, err
	}
	evs, err := s.Store.CreateChat(ctx, c, members, s.arrivalDrafts(&c, members, actor), invs)
	if err != nil {
		s.returnRequests(ctx, actor, taken)
	}
	if errcode.Is(err, errcode.Conflict) && c.Type == OneOnOne {
		// Another request created the pair's chat first: return it.
		existing, ferr := s.Store.FindChatByPair(ctx, c.PairKey, actor.ID)
		if ferr != nil {
			return Chat{}, false, fmt.Errorf("create chat: reload pair: %w", ferr)
		}
		return s.existingPair(ctx, actor, existing)
	}
	if err != nil {
		return Chat{}, false, fmt.Errorf("create chat: %w", err)
	}
	s.publish(ctx, evs)
	if c.External && s.Audit != nil && actor.TenantID != "" {
		s.Audit(ctx, actor.TenantID, actor.ID, "chat.externalCreated", string(c.ID), map[string]any{"chatType": string(c.Type), "members": len(members)})
	}
	if len(invs) > 0 {
		s.Inviter.Sent(ctx, actor, invs)
	}
	c.ViewerState = Accepted
	return c, true, nil
}

// existingPair returns the pair's existing oneOnOne chat to the actor who
// asks to create it again. Asking again is a new request to the other
// person (docs/rules.md §5): while their decline of a request from the actor (or
// their block on one) holds, it fails with recipientUnavailable, as sends
// in the chat do; after the cool-down the chat is returned as before.
// Only that answer of the target refuses here: a chat that policy made
// read-only is still returned, readable.
func (s *Service) existingPair(ctx context.Context, actor *identity.User, existing Chat) (Chat, bool, error) {
	if existing.ViewerState == Accepted && existing.External {
		_, members, err := s.Store.FindChat(ctx, existing.ID, actor.ID)
		if err != nil {
			return Chat{}, false, fmt.Errorf("create chat: %w", err)
		}
		for i := range members {
			o := &members[i]
			if o.UserID == "" || o.UserID == actor.ID {
				continue
			}
			d, err := s.Policy.Start(ctx, actor, &o.User)
			if err != nil {
				return Chat{}, false, fmt.Errorf("create chat: %w", err)
			}
			if d.Outcome == policy.Refused && relationRefusal(&d) {
				return Chat{}, false, errcode.New(errcode.RecipientUnavailable, "%s", policy.UnavailableMessage)
			}
		}
	}
	return s.takeUp(ctx, actor, existing)
}

// prepare builds the invitations of the members at the given indexes; with
// no Inviter configured, such members simply wait for an account.
func (s *Service) prepare(ctx context.Context, actor *identity.User, c *Chat, members []Member, idx []int) ([]Invitation, error) {
	if s.Inviter == nil {
		return nil, nil
	}
	var invs []Invitation
	for _, i := range idx {
		inv, err := s.Inviter.Prepare(ctx, actor, c, &members[i])
		if err != nil {
			return nil, fmt.Errorf("invite: %w", err)
		}
		invs = append(invs, inv)
	}
	return invs, nil
}

// arrivalDrafts are the events of members joining a chat: chatCreated for
// accepted members, requestReceived for targets of a delivered request,
// nothing for held or address-only members (silence).
func (s *Service) arrivalDrafts(c *Chat, members []Member, from *identity.User) []event.Draft {
	var drafts []event.Draft
	for i := range members {
		m := &members[i]
		if m.UserID == "" || m.Held {
			continue
		}
		switch m.State {
		case Accepted:
			drafts = append(drafts, event.Draft{UserID: m.UserID, Type: event.ChatCreated, ChatID: string(c.ID), Payload: s.Encoder.ChatEvent(&m.User, event.ChatCreated, c)})
		case Pending:
			drafts = append(drafts, event.Draft{UserID: m.UserID, Type: event.RequestReceived, ChatID: string(c.ID), Payload: s.Encoder.RequestEvent(&m.User, event.RequestReceived, c, from)})
		}
	}
	return drafts
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

// mayChange applies docs/rules.md §5 to a change of a chat (its topic, its members)
// by actor: while a request to the actor is pending the sender learns
// nothing from them, so a member who has not accepted changes nothing, as
// they send nothing (the same answer as maySend's). Errors: forbidden.
func mayChange(members []Member, actor *identity.User) error {
	if memberOf(members, actor.ID).State != Accepted {
		return errcode.New(errcode.Forbidden, "Accept the message request before changing this chat.")
	}
	return nil
}

// writable refuses a change of a chat that is read-only for its members
// (docs/rules.md §4): a pair of accepted members may no longer talk, decided now as
// for a send, and told as a send is. Errors: chatReadOnly.
func (s *Service) writable(ctx context.Context, actor *identity.User, c *Chat, members []Member) error {
	if !c.External {
		return nil // docs/rules.md §7: an internal chat never has external people
	}
	ps := &parties{s: s, m: map[identity.UserID]*policy.Party{}}
	d, blamed, err := s.talk(ctx, ps, c, members, actor)
	if err != nil {
		return fmt.Errorf("decide change: %w", err)
	}
	if d != nil {
		return errcode.New(errcode.ChatReadOnly, "%s", readOnlyMessage(ownBlame(blame(blamed), actor)))
	}
	return nil
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

// Members returns a chat's members. Errors: notFound.
func (s *Service) Members(ctx context.Context, actor *identity.User, id ID) ([]Member, error) {
	_, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return nil, fmt.Errorf("list members of %s: %w", id, err)
	}
	return members, nil
}

// AddMember adds a person to a group chat, by id or address. Errors:
// notFound, badRequest, forbidden (a request to the actor is pending),
// conflict (already a member), externalMemberNotAllowed, forbiddenByPolicy,
// recipientUnavailable.
func (s *Service) AddMember(ctx context.Context, actor *identity.User, id ID, nm NewMember) (Member, error) {
	c, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return Member{}, fmt.Errorf("add member to %s: %w", id, err)
	}
	if c.Type == Meeting {
		return s.addMeetingMember(ctx, actor, c, members, nm)
	}
	if err := mayChange(members, actor); err != nil {
		return Member{}, err
	}
	if c.Type != Group {
		return Member{}, errcode.New(errcode.BadRequest, "Members can be added to group chats only; start a group chat instead.")
	}
	if len(members) >= MaxGroupMembers {
		return Member{}, errcode.New(errcode.BadRequest, "A chat may have at most %d members.", MaxGroupMembers)
	}
	tg, err := s.resolve(ctx, actor, nm)
	if err != nil {
		return Member{}, err
	}
	for _, m := range members {
		if (tg.user != nil && m.UserID == tg.user.ID) || (tg.user == nil && m.UserID == "" && m.Address == tg.address) {
			return Member{}, errcode.New(errcode.Conflict, "This person is already a member of this chat.")
		}
	}
	// docs/rules.md §4 rule 7 before §7: a guest never shares a chat with anyone outside
	// its host tenant, in this chat or any other, so that is the answer.
	if err := s.together(ctx, actor, members, []target{tg}); err != nil {
		return Member{}, err
	}
	// docs/rules.md §7: an internal group chat never turns external, so internal history
	// is never exposed.
	if (tg.user == nil || tg.user.TenantID == "" || tg.user.TenantID != c.TenantID || c.TenantID == "") && !c.External {
		return Member{}, errcode.New(errcode.ExternalMemberNotAllowed, "People from outside your organisation can only be added to external group chats; start a new group chat with them instead.")
	}
	now := s.Now()
	m := Member{ID: NewMemberID(), ChatID: c.ID, Roles: nm.Roles, JoinedAt: now, VisibleFrom: now, AddedBy: actor.ID}
	if m.Roles == nil {
		m.Roles = []string{}
	}
	if nm.VisibleFrom != nil {
		if nm.VisibleFrom.After(now) {
			return Member{}, errcode.New(errcode.BadRequest, "visibleHistoryStartDateTime cannot be in the future.")
		}
		m.VisibleFrom = *nm.VisibleFrom
	}
	adm, err := s.admit(ctx, actor, tg, m)
	if err != nil {
		return Member{}, err
	}
	m = adm.member
	one := []Member{m}
	taken, err := s.checkRequests(ctx, actor, one)
	if err != nil {
		return Member{}, err
	}
	m = one[0]
	all := append(members, m)
	drafts := make([]event.Draft, 0, len(all)+1)
	for i := range all {
		mb := &all[i]
		if mb.UserID == "" || mb.State != Accepted {
			continue
		}
		drafts = append(drafts, event.Draft{UserID: mb.UserID, Type: event.MemberAdded, ChatID: string(c.ID), Payload: s.Encoder.MemberEvent(&mb.User, event.MemberAdded, c.ID, &m)})
	}
	if m.State == Pending {
		drafts = append(drafts, s.arrivalDrafts(&c, []Member{m}, actor)...)
	}
	var idx []int
	if adm.invite {
		idx = []int{0}
	}
	invs, err := s.prepare(ctx, actor, &c, []Member{m}, idx)
	if err != nil {
		s.returnRequests(ctx, actor, taken)
		return Member{}, err
	}
	evs, err := s.Store.AddMember(ctx, m, MaxGroupMembers, drafts, invs)
	if err != nil {
		s.returnRequests(ctx, actor, taken)
		return Member{}, fmt.Errorf("add member to %s: %w", id, err)
	}
	s.publish(ctx, evs)
	if len(invs) > 0 {
		s.Inviter.Sent(ctx, actor, invs)
	}
	return m, nil
}

// RemoveMember removes a member from a group chat: owners may remove anyone,
// everyone may remove themself (leave). A member who has not accepted the
// request removes no one, not even themself: they decline instead (docs/rules.md §5).
// Errors: notFound, badRequest, forbidden.
func (s *Service) RemoveMember(ctx context.Context, actor *identity.User, id ID, memberID string) error {
	c, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return fmt.Errorf("remove member from %s: %w", id, err)
	}
	if err := mayChange(members, actor); err != nil {
		return err
	}
	if c.Type != Group {
		return errcode.New(errcode.BadRequest, "Members can be removed from group chats only.")
	}
	var target, me *Member
	for i := range members {
		if members[i].ID == memberID || (members[i].UserID != "" && string(members[i].UserID) == memberID) {
			target = &members[i]
		}
		if members[i].UserID == actor.ID {
			me = &members[i]
		}
	}
	if target == nil {
		return errcode.New(errcode.NotFound, "No member %s in this chat.", memberID)
	}
	if target.UserID != actor.ID && (me == nil || !me.IsOwner()) {
		return errcode.New(errcode.Forbidden, "Only owners of the chat may remove other members.")
	}
	drafts := make([]event.Draft, 0, len(members))
	for i := range members {
		if members[i].UserID == "" || members[i].State != Accepted {
			continue
		}
		drafts = append(drafts, event.Draft{UserID: members[i].UserID, Type: event.MemberRemoved, ChatID: string(c.ID), Payload: s.Encoder.MemberEvent(&members[i].User, event.MemberRemoved, c.ID, target)})
	}
	evs, err := s.Store.RemoveMember(ctx, c.ID, target.ID, drafts)
	if err != nil {
		return fmt.Errorf("remove member from %s: %w", id, err)
	}
	s.publish(ctx, evs)
	return nil
}

// Body is a message body as sent by a client.
type Body struct {
	ContentType string
	Content     string
	Mentions    []Mention
	Attachments []Attachment
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
		if a.ContentType == MessageReferenceType {
			continue // a quoted reply: quote (reply.go) checks it
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
	changed, capped, err := s.maySend(ctx, actor, &c, members)
	if err != nil {
		return Message{}, err
	}
	if err := s.storeHolds(ctx, &c, changed, actor); err != nil {
		return Message{}, err
	}
	members = applyChanges(members, changed)
	m := Message{ChatID: c.ID, SenderID: actor.ID, Sender: *actor, CreatedAt: s.Now(), ContentType: b.ContentType, Content: b.Content, Mentions: b.Mentions, Attachments: b.Attachments}
	m.ModifiedAt = m.CreatedAt
	evs, err := s.Store.CreateMessage(ctx, &m, capped, func(stored *Message) []event.Draft {
		return s.messageDrafts(members, event.MessageCreated, stored)
	})
	if err != nil {
		return Message{}, fmt.Errorf("send to %s: %w", id, err)
	}
	s.publish(ctx, evs)
	if s.Safety != nil && requestPendingFrom(members, actor.ID) {
		if err := s.Safety.RecordRequestMessage(ctx, actor, string(c.ID), m.Content); err != nil {
			return Message{}, err
		}
	}
	return m, nil
}

// requestPendingFrom reports whether a request from sender is pending in
// the chat.
func requestPendingFrom(members []Member, sender identity.UserID) bool {
	for _, m := range members {
		if m.State == Pending && m.RequestFrom == sender {
			return true
		}
	}
	return false
}

func applyChanges(members, changed []Member) []Member {
	for _, ch := range changed {
		for i := range members {
			if members[i].ID == ch.ID {
				members[i] = ch
			}
		}
	}
	return members
}

// messageDrafts are the events of a message for the members who may see
// it: accepted members, and targets of a delivered (not held) request, who
// see the request's messages as they come.
func (s *Service) messageDrafts(members []Member, typ event.Type, m *Message) []event.Draft {
	drafts := make([]event.Draft, 0, len(members))
	var preview *Message
	for i := range members {
		mb := &members[i]
		if mb.UserID == "" || mb.Held || mb.State == Declined || m.CreatedAt.Before(mb.VisibleFrom) {
			continue
		}
		if mb.State == Pending {
			// docs/rules.md §5: until the target accepts, links are not links and
			// images are not loaded: the target gets the preview form.
			if preview == nil {
				p := s.Preview(m)
				preview = &p
			}
			drafts = append(drafts, event.Draft{UserID: mb.UserID, Type: typ, ChatID: string(m.ChatID), Payload: s.Encoder.MessageEvent(&mb.User, typ, preview)})
			continue
		}
		drafts = append(drafts, event.Draft{UserID: mb.UserID, Type: typ, ChatID: string(m.ChatID), Payload: s.Encoder.MessageEvent(&mb.User, typ, m)})
	}
	return drafts
}

// Preview is a message in the form a target who has not accepted the
// request sees it (docs/rules.md §5): until they accept, links are shown as plain
// text, not as links, and images from the sender are not loaded; so the
// body is text with every tag stripped, and attachments (cards, which may
// hold images) are left out. Live events and the message list give a
// pending target this same form.
func (s *Service) Preview(m *Message) Message {
	p := *m
	p.ContentType, p.Content, p.Attachments = "text", strings.TrimSpace(s.plain.Sanitize(m.Content)), nil
	p.Reactions = nil // docs/rules.md §5: nothing of the sender's side but the text
	return p
}

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
	if me.State == Pending {
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
	if me.State == Pending {
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
	if _, _, err := s.maySend(ctx, actor, &c, members); err != nil {
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
	m.DeletedAt, m.ModifiedAt = now, now
	m.Content, m.Mentions, m.Attachments = "", nil, nil
	evs, err := s.Store.UpdateMessage(ctx, m, s.messageDrafts(members, event.MessageDeleted, &m))
	if err != nil {
		return fmt.Errorf("delete message %d: %w", mid, err)
	}
	s.publish(ctx, evs)
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
	if read && me.State == Accepted {
		for i := range members {
			o := &members[i]
			if o.UserID == "" || o.UserID == actor.ID || o.State != Accepted {
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
	if memberOf(members, actor.ID).State != Accepted {
		return errcode.New(errcode.Forbidden, "Accept the message request before replying.")
	}
	now := s.Now()
	var evs []event.Event
	for i := range members {
		o := &members[i]
		if o.UserID == "" || o.UserID == actor.ID || o.State != Accepted {
			continue
		}
		evs = append(evs, event.Event{UserID: o.UserID, Type: event.Typing, ChatID: string(c.ID), Payload: s.Encoder.PresenceEvent(&o.User, event.Typing, c.ID, actor, now), CreatedAt: now})
	}
	s.publish(ctx, evs)
	return nil
}
