package chat

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
)

// MaxMeetingMembers bounds the people in a meeting chat (invited people and
// anonymous participants together).
const MaxMeetingMembers = 1000

// MeetingStore is the persistence meeting chats need beyond Store; the store
// that implements Store implements it too.
type MeetingStore interface {
	// AddMeetingMember stores a member of a meeting chat, unless the chat
	// has max members already (decided inside the write), and marks the
	// chat external when external is set, in one transaction.
	AddMeetingMember(ctx context.Context, m Member, external bool, max int, drafts []event.Draft, invs []Invitation) ([]event.Event, error)
}

func (s *Service) meetingStore() (MeetingStore, error) {
	ms, ok := s.Store.(MeetingStore)
	if !ok {
		return nil, fmt.Errorf("chat store %T keeps no meeting chats", s.Store)
	}
	return ms, nil
}

// meetingOnly reports whether a member exists only inside its meeting
// (an anonymous participant, docs/rules.md §8): the meeting's lobby and
// its host's setting decide their presence, so the pair rules of
// docs/rules.md §4 (mayTalk, rule 7 between members) are not asked of them.
func meetingOnly(m *Member) bool { return m.User.Kind == identity.Anonymous }

// CreateMeetingChat creates the chat of a meeting that actor organises,
// with the people invited by id or address (docs/rules.md §8). Each invitee is
// decided by docs/rules.md §4–§6 exactly as for a group chat: an external person
// gets a request (or is held silently), an address no account owns an
// invitation; a refusal the organiser may learn is the error. Errors:
// badRequest, notFound, forbiddenByPolicy, recipientUnavailable.
func (s *Service) CreateMeetingChat(ctx context.Context, actor *identity.User, topic string, invitees []NewMember) (Chat, []Member, error) {
	topic = strings.TrimSpace(topic)
	if utf8.RuneCountInString(topic) > MaxTopicRunes {
		return Chat{}, nil, errcode.New(errcode.BadRequest, "The subject may have at most %d characters.", MaxTopicRunes)
	}
	if err := checkMemberCount(len(invitees) + 1); err != nil {
		return Chat{}, nil, err
	}
	var targets []target
	seen := map[string]bool{}
	for _, nm := range invitees {
		tg, err := s.resolve(ctx, actor, nm)
		if err != nil {
			return Chat{}, nil, err
		}
		if tg.user != nil && tg.user.ID == actor.ID {
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
	}
	if len(targets) > 1 {
		if err := s.together(ctx, actor, nil, targets); err != nil {
			return Chat{}, nil, err
		}
	}
	now := s.Now()
	c := Chat{ID: NewMeetingChatID(), Type: Meeting, Topic: topic, TenantID: actor.TenantID, CreatedBy: actor.ID, CreatedAt: now, UpdatedAt: now}
	members := []Member{{ID: NewMemberID(), ChatID: c.ID, UserID: actor.ID, User: *actor, JoinedAt: now, VisibleFrom: now, State: Accepted, AddedBy: actor.ID, Roles: []string{"owner"}}}
	var invites []int
	for _, tg := range targets {
		m := Member{ID: NewMemberID(), ChatID: c.ID, JoinedAt: now, VisibleFrom: now, AddedBy: actor.ID, Roles: []string{}}
		adm, err := s.admit(ctx, actor, tg, m)
		if err != nil {
			return Chat{}, nil, err
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
		return Chat{}, nil, err
	}
	invs, err := s.prepare(ctx, actor, &c, members, invites)
	if err != nil {
		s.returnRequests(ctx, actor, taken)
		return Chat{}, nil, err
	}
	evs, err := s.Store.CreateChat(ctx, c, members, s.arrivalDrafts(&c, members, actor), invs)
	if err != nil {
		s.returnRequests(ctx, actor, taken)
		return Chat{}, nil, fmt.Errorf("create meeting chat: %w", err)
	}
	s.publish(ctx, evs)
	if len(invs) > 0 {
		s.Inviter.Sent(ctx, actor, invs)
	}
	c.ViewerState = Accepted
	return c, members, nil
}

// NewMeetingChatID returns a fresh meeting chat id in the form Teams uses.
func NewMeetingChatID() ID { return ID("19:meeting_" + randHex(16) + "@thread.v2") }

// addMeetingMember invites one more person to a meeting chat: only its
// owners (the organiser) may, and the person is decided by docs/rules.md §4–§6 as
// for a group chat. A meeting chat turns external when an external person
// is invited (unlike an internal group chat, docs/rules.md §7: a meeting is
// open to the people its organiser invites). Errors: notFound, forbidden,
// badRequest, conflict and the Gate's codes.
func (s *Service) addMeetingMember(ctx context.Context, actor *identity.User, c Chat, members []Member, nm NewMember) (Member, error) {
	ms, err := s.meetingStore()
	if err != nil {
		return Member{}, err
	}
	tg, err := s.meetingTarget(ctx, actor, members, nm)
	if err != nil {
		return Member{}, err
	}
	now := s.Now()
	m := Member{ID: NewMemberID(), ChatID: c.ID, Roles: []string{}, JoinedAt: now, VisibleFrom: now, AddedBy: actor.ID}
	if slices.Contains(nm.Roles, "owner") {
		m.Roles = []string{"owner"}
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
	one := []Member{adm.member}
	taken, err := s.checkRequests(ctx, actor, one)
	if err != nil {
		return Member{}, err
	}
	m = one[0]
	external := tg.user == nil || tg.user.ExternalTo(actor)
	drafts := s.memberDrafts(ctx, members, event.MemberAdded, c.ID, &m)
	drafts = append(drafts, s.arrivalDrafts(&c, []Member{m}, actor)...)
	var idx []int
	if adm.invite {
		idx = []int{0}
	}
	invs, err := s.prepare(ctx, actor, &c, []Member{m}, idx)
	if err != nil {
		s.returnRequests(ctx, actor, taken)
		return Member{}, err
	}
	evs, err := ms.AddMeetingMember(ctx, m, external && !c.External, MaxMeetingMembers, drafts, invs)
	if err != nil {
		s.returnRequests(ctx, actor, taken)
		return Member{}, fmt.Errorf("invite to meeting %s: %w", c.ID, err)
	}
	s.publish(ctx, evs)
	if len(invs) > 0 {
		s.Inviter.Sent(ctx, actor, invs)
	}
	return m, nil
}

// meetingTarget resolves a person actor invites to a meeting chat with
// members and applies the checks that come before docs/rules.md §4's
// decision: only the organiser invites, the meeting is not full, the
// person is not in it yet, rule 7 with everyone in it. Errors: forbidden,
// badRequest, notFound, conflict, forbiddenByPolicy.
func (s *Service) meetingTarget(ctx context.Context, actor *identity.User, members []Member, nm NewMember) (target, error) {
	if err := mayChange(members, actor); err != nil {
		return target{}, err
	}
	me := memberOf(members, actor.ID)
	if !me.IsOwner() {
		return target{}, errcode.New(errcode.Forbidden, "Only the organiser can invite people to this meeting.")
	}
	if len(members) >= MaxMeetingMembers {
		return target{}, errcode.New(errcode.BadRequest, "A meeting may have at most %d people.", MaxMeetingMembers)
	}
	tg, err := s.resolve(ctx, actor, nm)
	if err != nil {
		return target{}, err
	}
	for _, m := range members {
		if (tg.user != nil && m.UserID == tg.user.ID) || (tg.user == nil && m.UserID == "" && m.Address == tg.address) {
			return target{}, errcode.New(errcode.Conflict, "This person is already invited to this meeting.")
		}
	}
	if err := s.together(ctx, actor, members, []target{tg}); err != nil {
		return target{}, err
	}
	return tg, nil
}

// CheckMeetingInvite decides, adding nobody, whether actor (the organiser)
// could invite nm to the meeting chat id now: InviteToMeeting's checks and
// docs/rules.md §4's decision, without the message-request limits that
// only a real invitation takes. A silent refusal passes, as the invitation
// would be held rather than refused (docs/rules.md §4 rule of silence).
// The meeting's lobby asks it before a person joining by link waits.
// Errors: as InviteToMeeting.
func (s *Service) CheckMeetingInvite(ctx context.Context, actor *identity.User, id ID, nm NewMember) error {
	c, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return fmt.Errorf("invite to meeting %s: %w", id, err)
	}
	if c.Type != Meeting {
		return errcode.New(errcode.BadRequest, "This chat is not a meeting chat.")
	}
	tg, err := s.meetingTarget(ctx, actor, members, nm)
	if err != nil {
		return err
	}
	_, err = s.admit(ctx, actor, tg, Member{ChatID: c.ID, Roles: []string{}})
	return err
}

// withOrganization returns m with its OrganizationName, as the members
// list shows it. An organisation that cannot be read leaves it empty (the
// event still goes; the list shows the name).
func (s *Service) withOrganization(ctx context.Context, m Member) Member {
	if m.UserID == "" || m.User.TenantID == "" {
		return m
	}
	t, err := s.Store.FindTenantByID(ctx, m.User.TenantID)
	if err != nil {
		slog.WarnContext(ctx, "organisation name of a member", "tenant", m.User.TenantID, "err", err)
		return m
	}
	m.OrganizationName = t.DisplayName
	return m
}

// memberDrafts tells the members who hear of membership changes
// (msgrequest.HearsMembers) that m was added or removed.
func (s *Service) memberDrafts(ctx context.Context, members []Member, typ event.Type, chatID ID, m *Member) []event.Draft {
	ev := s.withOrganization(ctx, *m)
	m = &ev
	drafts := make([]event.Draft, 0, len(members))
	for i := range members {
		mb := &members[i]
		if !msgrequest.HearsMembers(mb.State, mb.UserID != "") {
			continue
		}
		drafts = append(drafts, event.Draft{UserID: mb.UserID, Type: typ, ChatID: string(chatID), Payload: s.Encoder.MemberEvent(&mb.User, typ, chatID, m)})
	}
	return drafts
}

// InviteToMeeting invites a person to the meeting chat id, as its organiser
// (docs/rules.md §8). Errors: as addMeetingMember, and badRequest when the chat is
// not a meeting's.
func (s *Service) InviteToMeeting(ctx context.Context, actor *identity.User, id ID, nm NewMember) (Member, error) {
	c, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return Member{}, fmt.Errorf("invite to meeting %s: %w", id, err)
	}
	if c.Type != Meeting {
		return Member{}, errcode.New(errcode.BadRequest, "This chat is not a meeting chat.")
	}
	return s.addMeetingMember(ctx, actor, c, members, nm)
}

// MeetingMembers returns the members of a meeting chat whoever asks (the
// meeting service checks the caller first). Errors: notFound.
func (s *Service) MeetingMembers(ctx context.Context, id ID) (Chat, []Member, error) {
	c, members, err := s.Store.FindChatAny(ctx, id)
	if err != nil {
		return Chat{}, nil, fmt.Errorf("meeting chat %s: %w", id, err)
	}
	if c.Type != Meeting {
		return Chat{}, nil, errcode.New(errcode.NotFound, "No meeting chat %s.", id)
	}
	return c, members, nil
}

// AdmitAnonymous makes an anonymous participant, admitted from the lobby
// (or let past it), a member of the meeting chat: they read and post there
// from now on (docs/rules.md §8). The members are told, and so is the participant.
func (s *Service) AdmitAnonymous(ctx context.Context, id ID, u *identity.User, by identity.UserID) (Member, error) {
	c, members, err := s.MeetingMembers(ctx, id)
	if err != nil {
		return Member{}, err
	}
	ms, err := s.meetingStore()
	if err != nil {
		return Member{}, err
	}
	now := s.Now()
	m := Member{ID: NewMemberID(), ChatID: c.ID, UserID: u.ID, User: *u, Roles: []string{"guest"}, JoinedAt: now, VisibleFrom: now, State: Accepted, AddedBy: by}
	drafts := s.memberDrafts(ctx, members, event.MemberAdded, c.ID, &m)
	drafts = append(drafts, s.arrivalDrafts(&c, []Member{m}, u)...)
	evs, err := ms.AddMeetingMember(ctx, m, !c.External, MaxMeetingMembers, drafts, nil)
	if err != nil {
		return Member{}, fmt.Errorf("admit to meeting chat %s: %w", id, err)
	}
	s.publish(ctx, evs)
	return m, nil
}

// RemoveFromMeeting removes a person, by member or user id, from a
// meeting chat (the meeting service decided it may). extra are further
// events stored with the removal (the end of an anonymous session).
// Removing someone who is not a member stores extra alone. Errors:
// notFound (no such chat).
func (s *Service) RemoveFromMeeting(ctx context.Context, id ID, key string, extra []event.Draft) error {
	c, members, err := s.MeetingMembers(ctx, id)
	if err != nil {
		return err
	}
	var target *Member
	for i := range members {
		if key != "" && (members[i].ID == key || string(members[i].UserID) == key) {
			target = &members[i]
		}
	}
	if target == nil {
		if len(extra) == 0 {
			return nil
		}
		evs, err := s.Store.UpdateChat(ctx, c, extra)
		if err != nil {
			return fmt.Errorf("remove from meeting chat %s: %w", id, err)
		}
		s.publish(ctx, evs)
		return nil
	}
	drafts := append(s.memberDrafts(ctx, members, event.MemberRemoved, c.ID, target), extra...)
	evs, err := s.Store.RemoveMember(ctx, c.ID, target.ID, drafts)
	if err != nil {
		return fmt.Errorf("remove from meeting chat %s: %w", id, err)
	}
	s.publish(ctx, evs)
	return nil
}

// RenameMeetingChat sets a meeting chat's topic to the meeting's subject.
func (s *Service) RenameMeetingChat(ctx context.Context, id ID, topic string) error {
	c, members, err := s.MeetingMembers(ctx, id)
	if err != nil {
		return err
	}
	topic = strings.TrimSpace(topic)
	if utf8.RuneCountInString(topic) > MaxTopicRunes {
		return errcode.New(errcode.BadRequest, "The subject may have at most %d characters.", MaxTopicRunes)
	}
	c.Topic = topic
	c.UpdatedAt = s.Now()
	evs, err := s.Store.UpdateChat(ctx, c, s.chatDrafts(members, event.ChatUpdated, &c))
	if err != nil {
		return fmt.Errorf("rename meeting chat %s: %w", id, err)
	}
	s.publish(ctx, evs)
	return nil
}

// Publish publishes events stored by another service's write (after commit).
func (s *Service) Publish(ctx context.Context, evs []event.Event) { s.publish(ctx, evs) }
