package chat

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/keyset"
)

// Members returns a chat's members. Errors: notFound.
func (s *Service) Members(ctx context.Context, actor *identity.User, id ID) ([]Member, error) {
	_, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return nil, fmt.Errorf("list members of %s: %w", id, err)
	}
	return members, nil
}

// ListMembers returns a page of a chat's members in the order they
// joined: those after the member after (by join time in microseconds, as
// the store keeps it, then id; nil: from the start), at most limit of them
// (0: all, at most MaxGroupMembers), and whether more follow. Errors:
// notFound.
func (s *Service) ListMembers(ctx context.Context, actor *identity.User, id ID, after *Member, limit int) ([]Member, bool, error) {
	members, err := s.Members(ctx, actor, id)
	if err != nil {
		return nil, false, err
	}
	page, more := keyset.Page(members, compareMembers, after, limit)
	return page, more, nil
}

func compareMembers(a, b Member) int {
	return cmp.Or(cmp.Compare(a.JoinedAt.UnixMicro(), b.JoinedAt.UnixMicro()), strings.Compare(a.ID, b.ID))
}

// AddMember adds a person to a group chat, by id or address. Errors:
// notFound, badRequest, forbidden (a request to the actor is pending),
// conflict (already a member), externalMemberNotAllowed, forbiddenByPolicy,
// recipientUnavailable.
//
// It loads the chat and checks the addition's shape (checkAdd), resolves
// the person, decides (docs/rules.md §4 rule 7, §7, then msgrequest.Admit)
// and writes the member with its events and invitation (writeMember).
func (s *Service) AddMember(ctx context.Context, actor *identity.User, id ID, nm NewMember) (Member, error) {
	c, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return Member{}, fmt.Errorf("add member to %s: %w", id, err)
	}
	if c.Type == Meeting {
		return s.addMeetingMember(ctx, actor, c, members, nm)
	}
	if err := checkAdd(&c, members, actor); err != nil {
		return Member{}, err
	}
	tg, err := s.resolve(ctx, actor, nm)
	if err != nil {
		return Member{}, err
	}
	if err := s.mayAdd(ctx, actor, &c, members, tg); err != nil {
		return Member{}, err
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
	return s.writeMember(ctx, actor, &c, members, adm)
}

// checkAdd checks that actor may add someone to chat c at all: they
// accepted (msgrequest.MayChange), it is a group chat, and it has room.
// Errors: forbidden, badRequest.
func checkAdd(c *Chat, members []Member, actor *identity.User) error {
	if err := mayChange(members, actor); err != nil {
		return err
	}
	if c.Type != Group {
		return errcode.New(errcode.BadRequest, "Members can be added to group chats only; start a group chat instead.")
	}
	return checkMemberCount(len(members) + 1)
}

// mayAdd decides whether tg may join chat c beside its members, before the
// pair of actor and tg is decided (admit). Errors: conflict (already a
// member), forbiddenByPolicy (docs/rules.md §4 rule 7),
// externalMemberNotAllowed (docs/rules.md §7).
func (s *Service) mayAdd(ctx context.Context, actor *identity.User, c *Chat, members []Member, tg target) error {
	for _, m := range members {
		if (tg.user != nil && m.UserID == tg.user.ID) || (tg.user == nil && m.UserID == "" && m.Address == tg.address) {
			return errcode.New(errcode.Conflict, "This person is already a member of this chat.")
		}
	}
	// docs/rules.md §4 rule 7 before §7: a guest never shares a chat with
	// anyone outside its host tenant, in this chat or any other, so that is
	// the answer.
	if err := s.together(ctx, actor, members, []target{tg}); err != nil {
		return err
	}
	// docs/rules.md §7: an internal group chat never turns external, so
	// internal history is never exposed.
	if (tg.user == nil || tg.user.TenantID == "" || tg.user.TenantID != c.TenantID || c.TenantID == "") && !c.External {
		return errcode.New(errcode.ExternalMemberNotAllowed, "People from outside your organisation can only be added to external group chats; start a new group chat with them instead.")
	}
	return nil
}

// writeMember stores an admitted member with the events of the chat's
// accepted members, the newcomer's arrival and its invitation, after the
// spam checks take the request from the sender's budgets (given back when
// the member is not stored). The store refuses an add past MaxGroupMembers
// inside the write.
func (s *Service) writeMember(ctx context.Context, actor *identity.User, c *Chat, members []Member, adm admission) (Member, error) {
	one := []Member{adm.member}
	taken, err := s.checkRequests(ctx, actor, one)
	if err != nil {
		return Member{}, err
	}
	m := one[0]
	ev := s.withOrganization(ctx, m)
	drafts := make([]event.Draft, 0, len(members)+2)
	for i := range members {
		mb := &members[i]
		if mb.UserID == "" || mb.State != Accepted {
			continue
		}
		drafts = append(drafts, event.Draft{UserID: mb.UserID, Type: event.MemberAdded, ChatID: string(c.ID), Payload: s.Encoder.MemberEvent(&mb.User, event.MemberAdded, c.ID, &ev)})
	}
	if m.UserID != "" && m.State == Accepted {
		drafts = append(drafts, event.Draft{UserID: m.UserID, Type: event.MemberAdded, ChatID: string(c.ID), Payload: s.Encoder.MemberEvent(&m.User, event.MemberAdded, c.ID, &ev)})
	}
	if m.State == Pending {
		drafts = append(drafts, s.arrivalDrafts(c, one, actor)...)
	}
	var idx []int
	if adm.invite {
		idx = []int{0}
	}
	invs, err := s.prepare(ctx, actor, c, one, idx)
	if err != nil {
		s.returnRequests(ctx, actor, taken)
		return Member{}, err
	}
	evs, err := s.Store.AddMember(ctx, m, MaxGroupMembers, drafts, invs)
	if err != nil {
		s.returnRequests(ctx, actor, taken)
		return Member{}, fmt.Errorf("add member to %s: %w", c.ID, err)
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
	if c.Type != Group && c.Type != Meeting {
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
	// A meeting's organiser removes people through the meeting, which
	// ends an anonymous person's session too (docs/rules.md §8); here are
	// people leaving a meeting chat and owners tidying one whose meeting
	// ended, when no anonymous person is left in it.
	if c.Type == Meeting && meetingOnly(target) {
		return errcode.New(errcode.Forbidden, "Only the meeting's organiser can remove anonymous participants.")
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
