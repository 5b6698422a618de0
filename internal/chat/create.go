package chat

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
)

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
// the caller typed (docs/rules.md §6). Errors: badRequest, notFound (an
// unknown or invisible user), forbiddenByPolicy, recipientUnavailable.
//
// It checks the request's shape, resolves the people named (newTargets),
// returns the pair's chat when one exists, decides each target
// (docs/rules.md §4 rule 7 for the group, then msgrequest.Admit for each)
// and writes the chat with its members, events and invitations at once.
func (s *Service) Create(ctx context.Context, actor *identity.User, nc NewChat) (Chat, bool, error) {
	topic, err := checkNewChat(actor, nc)
	if err != nil {
		return Chat{}, false, err
	}
	ts, err := s.newTargets(ctx, actor, nc)
	if err != nil {
		return Chat{}, false, err
	}
	now := s.Now()
	c := Chat{ID: NewID(), Type: nc.Type, Topic: topic, TenantID: actor.TenantID, CreatedBy: actor.ID, CreatedAt: now, UpdatedAt: now}
	if nc.Type == OneOnOne {
		c.PairKey = PairKey(actor.ID, ts.list[0].peer())
		if existing, err := s.Store.FindChatByPair(ctx, c.PairKey, actor.ID); err == nil {
			return s.existingPair(ctx, actor, existing)
		} else if !errcode.Is(err, errcode.NotFound) {
			return Chat{}, false, fmt.Errorf("create chat: %w", err)
		}
	}
	// docs/rules.md §4 rule 7: no group brings a guest together with anyone
	// outside its host tenant. (With one target the only pair is the
	// actor's: admit.)
	if len(ts.list) > 1 {
		if err := s.together(ctx, actor, nil, ts.list); err != nil {
			return Chat{}, false, err
		}
	}
	members, invites, err := s.admitAll(ctx, actor, &c, ts)
	if err != nil {
		return Chat{}, false, err
	}
	return s.writeChat(ctx, actor, c, members, invites)
}

// checkNewChat checks the shape of a new chat and returns its topic.
// Errors: badRequest.
func checkNewChat(actor *identity.User, nc NewChat) (string, error) {
	if nc.Type != OneOnOne && nc.Type != Group {
		return "", errcode.New(errcode.BadRequest, "chatType must be oneOnOne or group.")
	}
	topic := strings.TrimSpace(nc.Topic)
	if utf8.RuneCountInString(topic) > MaxTopicRunes {
		return "", errcode.New(errcode.BadRequest, "The topic may have at most %d characters.", MaxTopicRunes)
	}
	if nc.Type == OneOnOne && topic != "" {
		return "", errcode.New(errcode.BadRequest, "A oneOnOne chat has no topic.")
	}
	// Before resolving (nc.Members may list the caller): no list longer
	// than a full chat is looked at; the exact count is checked below.
	if err := checkMemberCount(len(nc.Members)); err != nil {
		return "", err
	}
	if nc.Type == OneOnOne {
		// Before resolving: members bound by id other than the caller, and
		// members given by address (one of which may be the caller's own
		// sign-in name); the count after resolving (newTargets) is the
		// exact one.
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
			return "", errcode.New(errcode.BadRequest, "A oneOnOne chat has exactly two members: you and one other person.")
		}
	}
	return topic, nil
}

// targets are the people a new chat is created with, each once, without
// the actor.
type targets struct {
	list  []target
	roles [][]string // the roles asked for each
}

// newTargets resolves the people named in nc, once each; the caller may
// list themself or not. Errors: badRequest, notFound.
func (s *Service) newTargets(ctx context.Context, actor *identity.User, nc NewChat) (targets, error) {
	var ts targets
	seen := map[string]bool{}
	for _, nm := range nc.Members {
		tg, err := s.resolve(ctx, actor, nm)
		if err != nil {
			return targets{}, err
		}
		if tg.user != nil && tg.user.ID == actor.ID {
			continue // the creator is an owner of every chat they create
		}
		key := tg.peer().key()
		if seen[key] {
			continue
		}
		seen[key] = true
		ts.list = append(ts.list, tg)
		ts.roles = append(ts.roles, nm.Roles)
	}
	switch {
	case nc.Type == OneOnOne && len(ts.list) != 1:
		return targets{}, errcode.New(errcode.BadRequest, "A oneOnOne chat has exactly two members: you and one other person.")
	case nc.Type == Group && len(ts.list) < 1:
		return targets{}, errcode.New(errcode.BadRequest, "A group chat needs at least one other member.")
	}
	return ts, checkMemberCount(len(ts.list) + 1)
}

// admitAll builds the members of a new chat: the actor, an owner and
// accepted, then each target as msgrequest.Admit decides (admit), marking
// the chat external when one is external to the actor. It returns the
// indexes of the members to invite. Errors: a refusal the actor may see.
func (s *Service) admitAll(ctx context.Context, actor *identity.User, c *Chat, ts targets) ([]Member, []int, error) {
	now := c.CreatedAt
	self := Member{ID: NewMemberID(), ChatID: c.ID, UserID: actor.ID, User: *actor, JoinedAt: now, VisibleFrom: now, State: Accepted, AddedBy: actor.ID, Roles: []string{"owner"}}
	members := make([]Member, 0, len(ts.list)+1)
	members = append(members, self)
	var invites []int
	for i, tg := range ts.list {
		m := Member{ID: NewMemberID(), ChatID: c.ID, JoinedAt: now, VisibleFrom: now, AddedBy: actor.ID, Roles: []string{}}
		if c.Type == OneOnOne || slices.Contains(ts.roles[i], "owner") {
			m.Roles = []string{"owner"}
		}
		adm, err := s.admit(ctx, actor, tg, m)
		if err != nil {
			return nil, nil, err
		}
		if tg.user == nil || tg.user.ExternalTo(actor) {
			c.External = true
		}
		if adm.invite {
			invites = append(invites, len(members))
		}
		members = append(members, adm.member)
	}
	return members, invites, nil
}

// writeChat stores a new chat with its members, their arrival events and
// the invitations, after the spam checks take the requests from the
// sender's budgets (given back when the chat is not stored). When another
// request created the pair's chat first, that chat is returned.
func (s *Service) writeChat(ctx context.Context, actor *identity.User, c Chat, members []Member, invites []int) (Chat, bool, error) {
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

// arrivalDrafts are the events of members joining a chat
// (msgrequest.ArrivalOf): chatCreated for accepted members, requestReceived
// for targets of a delivered request, nothing for held or address-only
// members (silence).
func (s *Service) arrivalDrafts(c *Chat, members []Member, from *identity.User) []event.Draft {
	var drafts []event.Draft
	for i := range members {
		m := &members[i]
		switch msgrequest.ArrivalOf(m.State, m.Held, m.UserID != "") {
		case msgrequest.ChatArrives:
			drafts = append(drafts, event.Draft{UserID: m.UserID, Type: event.ChatCreated, ChatID: string(c.ID), Payload: s.Encoder.ChatEvent(&m.User, event.ChatCreated, c)})
		case msgrequest.RequestArrives:
			drafts = append(drafts, event.Draft{UserID: m.UserID, Type: event.RequestReceived, ChatID: string(c.ID), Payload: s.Encoder.RequestEvent(&m.User, event.RequestReceived, c, from)})
		}
	}
	return drafts
}
