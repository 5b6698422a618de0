package team

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/address"
	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/keyset"
)

// Audit actions recorded in the team's tenant log (docs/rules.md §10).
const (
	AuditCreated        = "team.created"
	AuditMemberAdded    = "team.memberAdded"
	AuditMemberRemoved  = "team.memberRemoved"
	AuditMemberUpdated  = "team.memberRolesChanged"
	AuditChannelCreated = "team.channelCreated"
	AuditChannelDeleted = "team.channelDeleted"
)

// Filter narrows a list of teams: those a user is in, or all of a tenant.
type Filter struct {
	Member identity.UserID
	Tenant identity.TenantID
}

// Store is the persistence teams need. Write methods persist the change
// and its events atomically and return the events with their seqs, which
// the service publishes after commit.
type Store interface {
	// FindUserByID returns a user. Errors: notFound.
	FindUserByID(ctx context.Context, id identity.UserID) (identity.User, error)
	// FindUsersByAddress returns the accounts whose e-mail, phone or
	// sign-in name is addr.
	FindUsersByAddress(ctx context.Context, addr string) ([]identity.User, error)
	// CreateTeam stores a team with its first owner and General channel.
	CreateTeam(ctx context.Context, t Team, owner Member, general Channel, drafts []event.Draft) ([]event.Event, error)
	// FindTeam returns a team and its members with their accounts, in
	// the order they joined. Errors: notFound.
	FindTeam(ctx context.Context, id ID) (Team, []Member, error)
	// FindTeams returns teams matching f, oldest first, after the cursor,
	// at most limit.
	FindTeams(ctx context.Context, f Filter, after Cursor, limit int) ([]Team, error)
	// UpdateTeam stores a team's name and description.
	UpdateTeam(ctx context.Context, t Team, drafts []event.Draft) ([]event.Event, error)
	// AddTeamMember stores a member unless the team has MaxMembers
	// already (TooManyMembers, counted inside the write). Errors:
	// conflict (already a member), badRequest.
	AddTeamMember(ctx context.Context, m Member, drafts []event.Draft) ([]event.Event, error)
	// UpdateTeamMember stores a member's roles unless that leaves the team
	// without an owner (LastOwner, counted inside the write). Errors:
	// notFound, badRequest.
	UpdateTeamMember(ctx context.Context, m Member, drafts []event.Draft) ([]event.Event, error)
	// RemoveTeamMember deletes a member unless that leaves the team
	// without an owner (LastOwner, counted inside the write). Errors:
	// notFound, badRequest.
	RemoveTeamMember(ctx context.Context, teamID ID, memberID string, drafts []event.Draft) ([]event.Event, error)
	// FindChannels returns a team's live channels, oldest first, with
	// viewer's read marks and unread counts.
	FindChannels(ctx context.Context, teamID ID, viewer identity.UserID) ([]Channel, error)
	// FindChannel returns a live channel of a team with viewer's read
	// mark and unread count (none with viewer ""). Errors: notFound.
	FindChannel(ctx context.Context, teamID ID, id ChannelID, viewer identity.UserID) (Channel, error)
	// CreateChannel stores a channel. Errors: conflict (NameTaken),
	// badRequest (TooManyChannels, counted inside the write).
	CreateChannel(ctx context.Context, c Channel, drafts []event.Draft) ([]event.Event, error)
	// UpdateChannel stores a channel's name and description. Errors:
	// conflict (NameTaken).
	UpdateChannel(ctx context.Context, c Channel, drafts []event.Draft) ([]event.Event, error)
	// FindChannelTeam returns the team of a live channel. Errors: notFound.
	FindChannelTeam(ctx context.Context, id ChannelID) (ID, error)
	// DeleteChannel marks a channel deleted.
	DeleteChannel(ctx context.Context, c Channel, drafts []event.Draft) ([]event.Event, error)
	// CreateChannelMessage stores m, giving it its id, and the events
	// build returns for the stored message.
	CreateChannelMessage(ctx context.Context, m *Message, build func(*Message) []event.Draft) ([]event.Event, error)
	// FindChannelMessage returns a message of a channel. Errors: notFound.
	FindChannelMessage(ctx context.Context, channel ChannelID, id chat.MessageID) (Message, error)
	// FindChannelMessages returns a channel's top-level messages
	// (replyTo 0) or the replies to one, newest first, with ids below
	// before (0: from the newest), at most limit.
	FindChannelMessages(ctx context.Context, channel ChannelID, replyTo, before chat.MessageID, limit int) ([]Message, error)
	// UpdateMessage stores an edit or a soft delete.
	UpdateMessage(ctx context.Context, m chat.Message, drafts []event.Draft) ([]event.Event, error)
	// UpdateReactions changes a message's reactions inside the write:
	// change edits the stored message, build returns its events.
	// Errors: notFound, and change's.
	UpdateReactions(ctx context.Context, chatID chat.ID, id chat.MessageID, change func(*chat.Message) error, build func(*chat.Message) []event.Draft) ([]event.Event, error)
	// MarkChannelRead sets a member's read mark on a channel (zero: unread).
	MarkChannelRead(ctx context.Context, channel ChannelID, user identity.UserID, at time.Time, drafts []event.Draft) ([]event.Event, error)
}

// Encoder turns team values into the JSON payloads of events, as seen by
// the receiving viewer. Every payload names the team, and the channel when
// there is one, so clients can route it.
type Encoder interface {
	TeamEvent(viewer *identity.User, typ event.Type, t *Team) []byte
	TeamMemberEvent(viewer *identity.User, typ event.Type, t *Team, m *Member) []byte
	ChannelEvent(viewer *identity.User, typ event.Type, t *Team, c *Channel) []byte
	ChannelMessageEvent(viewer *identity.User, typ event.Type, t *Team, c *Channel, m *Message) []byte
	// ChannelTypingEvent is the payload of typing in a channel: who, when.
	ChannelTypingEvent(viewer *identity.User, t *Team, c *Channel, who *identity.User, at time.Time) []byte
}

// Bodies checks and sanitises message bodies; chat.Service implements it,
// so a channel message obeys the same rules as a chat message.
type Bodies interface {
	CleanBody(b chat.Body, members []chat.Member) (chat.Body, error)
}

// Service runs teams, channels and channel messages.
type Service struct {
	Store   Store
	Bus     event.Bus
	Encoder Encoder
	Bodies  Bodies
	// Sees reports whether actor may see u (identity.Service.Sees): a
	// user of another organisation named by id is notFound unless the
	// caller may see them.
	Sees func(ctx context.Context, actor, u *identity.User) (bool, error)
	// Audit records in the team's tenant log (may be nil).
	Audit func(ctx context.Context, tenant identity.TenantID, actor identity.UserID, action, target string, details map[string]any)
	Now   func() time.Time
	// Hooks tell the team's apps of messages and members (app.go).
	Hooks Hooks
	// Via checks the app a person's channel message names as the source
	// of its card (chat.Body.Via, docs/rules.md §9) and returns it with its
	// name. nil: no message may name one (badRequest).
	Via func(ctx context.Context, actor *identity.User, t *Team, appID string) (chat.Application, error)
}

func (s *Service) publish(ctx context.Context, evs []event.Event) {
	if len(evs) == 0 {
		return
	}
	// A failed publish loses nothing: events are stored, clients replay.
	_ = s.Bus.Publish(ctx, evs)
}

func (s *Service) audit(ctx context.Context, t *Team, actor *identity.User, action, target string, details map[string]any) {
	if s.Audit != nil {
		s.Audit(ctx, t.TenantID, actor.ID, action, target, details)
	}
}

// noTeam is the one answer for a team that does not exist and one the
// caller is not in (docs/rules.md §10).
func noTeam(id ID) error { return errcode.New(errcode.NotFound, "No team %s.", id) }

// load returns a team, its members and the actor's membership, after May
// allowed the action to the actor's role. Errors: notFound, forbidden.
func (s *Service) load(ctx context.Context, actor *identity.User, id ID, a Action) (Team, []Member, Member, error) {
	t, members, err := s.Store.FindTeam(ctx, id)
	if errcode.Is(err, errcode.NotFound) {
		return Team{}, nil, Member{}, noTeam(id)
	}
	if err != nil {
		return Team{}, nil, Member{}, fmt.Errorf("load team %s: %w", id, err)
	}
	var me Member
	for i := range members {
		if members[i].UserID == actor.ID {
			me = members[i]
		}
	}
	role := None
	if me.ID != "" {
		role = me.Role()
	}
	if err := May(role, a); err != nil {
		if errcode.Is(err, errcode.NotFound) {
			return Team{}, nil, Member{}, noTeam(id)
		}
		return Team{}, nil, Member{}, err
	}
	return t, members, me, nil
}

// drafts builds one event per member of the team.
func drafts(members []Member, typ event.Type, conv string, payload func(viewer *identity.User) []byte) []event.Draft {
	out := make([]event.Draft, 0, len(members))
	for i := range members {
		out = append(out, event.Draft{UserID: members[i].UserID, Type: typ, ChatID: conv, Payload: payload(&members[i].User)})
	}
	return out
}

func (s *Service) teamDrafts(t *Team, members []Member, typ event.Type) []event.Draft {
	return drafts(members, typ, string(t.ID), func(v *identity.User) []byte { return s.Encoder.TeamEvent(v, typ, t) })
}

func (s *Service) memberDrafts(t *Team, members []Member, typ event.Type, m *Member) []event.Draft {
	return drafts(members, typ, string(t.ID), func(v *identity.User) []byte { return s.Encoder.TeamMemberEvent(v, typ, t, m) })
}

func (s *Service) channelDrafts(t *Team, members []Member, typ event.Type, c *Channel) []event.Draft {
	return drafts(members, typ, string(c.ID), func(v *identity.User) []byte { return s.Encoder.ChannelEvent(v, typ, t, c) })
}

func (s *Service) messageDrafts(t *Team, members []Member, typ event.Type, c *Channel, m *Message) []event.Draft {
	return drafts(members, typ, string(c.ID), func(v *identity.User) []byte { return s.Encoder.ChannelMessageEvent(v, typ, t, c, m) })
}

// text checks a name or description: trimmed, at most max characters, no
// control characters; a name (required) may not be empty.
func text(field, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	if required && v == "" {
		return "", errcode.New(errcode.BadRequest, "%s is required.", field)
	}
	if utf8.RuneCountInString(v) > max {
		return "", errcode.New(errcode.BadRequest, "%s may have at most %d characters.", field, max)
	}
	if strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) || (required && strings.ContainsRune(v, '\n')) {
		return "", errcode.New(errcode.BadRequest, "%s may not contain control characters.", field)
	}
	return v, nil
}

// NewTeam describes a team to create.
type NewTeam struct {
	DisplayName string
	Description string
}

// Create creates a team in the actor's tenant with the actor as its owner
// and a General channel. Errors: badRequest, forbidden (MayCreate).
func (s *Service) Create(ctx context.Context, actor *identity.User, nt NewTeam) (Team, error) {
	if err := MayCreate(actor); err != nil {
		return Team{}, err
	}
	name, err := text("displayName", nt.DisplayName, MaxNameRunes, true)
	if err != nil {
		return Team{}, err
	}
	desc, err := text("description", nt.Description, MaxDescriptionRunes, false)
	if err != nil {
		return Team{}, err
	}
	now := s.Now()
	t := Team{ID: NewID(), TenantID: actor.TenantID, DisplayName: name, Description: desc, CreatedBy: actor.ID, CreatedAt: now, UpdatedAt: now, Summary: Summary{Owners: 1}}
	owner := Member{ID: NewMemberID(), TeamID: t.ID, UserID: actor.ID, User: *actor, Roles: []string{"owner"}, JoinedAt: now, AddedBy: actor.ID}
	general := Channel{ID: NewChannelID(), TeamID: t.ID, DisplayName: GeneralName, General: true, CreatedBy: actor.ID, CreatedAt: now}
	evs, err := s.Store.CreateTeam(ctx, t, owner, general, s.memberDrafts(&t, []Member{owner}, event.MemberAdded, &owner))
	if err != nil {
		return Team{}, fmt.Errorf("create team: %w", err)
	}
	s.publish(ctx, evs)
	s.audit(ctx, &t, actor, AuditCreated, string(t.ID), map[string]any{"displayName": t.DisplayName, "generalChannelId": string(general.ID)})
	return t, nil
}

// Get returns a team the actor is in. Errors: notFound.
func (s *Service) Get(ctx context.Context, actor *identity.User, id ID) (Team, error) {
	t, _, _, err := s.load(ctx, actor, id, Read)
	return t, err
}

// Role returns a team and the actor's role in it, for other services that
// act in teams (apps installed in a team). Errors: notFound (not in it).
func (s *Service) Role(ctx context.Context, actor *identity.User, id ID) (Team, Role, error) {
	t, _, me, err := s.load(ctx, actor, id, Read)
	if err != nil {
		return Team{}, None, err
	}
	return t, me.Role(), nil
}

func clampPage(n int) int {
	if n <= 0 {
		return DefaultPageSize
	}
	return min(n, MaxPageSize)
}

func (s *Service) list(ctx context.Context, f Filter, after Cursor, limit int) ([]Team, Cursor, error) {
	limit = clampPage(limit)
	ts, err := s.Store.FindTeams(ctx, f, after, limit+1)
	if err != nil {
		return nil, Cursor{}, fmt.Errorf("list teams: %w", err)
	}
	var next Cursor
	if len(ts) > limit {
		ts = ts[:limit]
		next = Cursor{CreatedAt: ts[limit-1].CreatedAt, ID: ts[limit-1].ID}
	}
	return ts, next, nil
}

// Joined returns a page of the teams the actor is in, oldest first, and
// the cursor of the next page (zero when none). A guest sees only the
// teams it is in, as everyone does.
func (s *Service) Joined(ctx context.Context, actor *identity.User, after Cursor, limit int) ([]Team, Cursor, error) {
	return s.list(ctx, Filter{Member: actor.ID}, after, limit)
}

// Tenant returns a page of all the teams of the actor's tenant, for its
// admins. Errors: forbidden.
func (s *Service) Tenant(ctx context.Context, actor *identity.User, after Cursor, limit int) ([]Team, Cursor, error) {
	if !actor.IsAdmin() {
		return nil, Cursor{}, errcode.New(errcode.Forbidden, "Only admins of the organisation may list all its teams.")
	}
	return s.list(ctx, Filter{Tenant: actor.TenantID}, after, limit)
}

// TenantMembers returns the members of a team of the actor's tenant, for
// its admins, who need not be in the team; another tenant's team is
// notFound, as one that does not exist. Errors: forbidden, notFound.
func (s *Service) TenantMembers(ctx context.Context, actor *identity.User, id ID) (Team, []Member, error) {
	if !actor.IsAdmin() {
		return Team{}, nil, errcode.New(errcode.Forbidden, "Only admins of the organisation may list the members of its teams.")
	}
	t, members, err := s.Store.FindTeam(ctx, id)
	if errcode.Is(err, errcode.NotFound) || (err == nil && t.TenantID != actor.TenantID) {
		return Team{}, nil, noTeam(id)
	}
	if err != nil {
		return Team{}, nil, fmt.Errorf("load team %s: %w", id, err)
	}
	return t, members, nil
}

// TeamUpdate is a change of a team; nil fields stay.
type TeamUpdate struct {
	DisplayName *string
	Description *string
}

// Update changes a team's name or description. Errors: notFound,
// forbidden, badRequest.
func (s *Service) Update(ctx context.Context, actor *identity.User, id ID, u TeamUpdate) (Team, error) {
	t, members, _, err := s.load(ctx, actor, id, Update)
	if err != nil {
		return Team{}, err
	}
	if u.DisplayName != nil {
		if t.DisplayName, err = text("displayName", *u.DisplayName, MaxNameRunes, true); err != nil {
			return Team{}, err
		}
	}
	if u.Description != nil {
		if t.Description, err = text("description", *u.Description, MaxDescriptionRunes, false); err != nil {
			return Team{}, err
		}
	}
	t.UpdatedAt = s.Now()
	evs, err := s.Store.UpdateTeam(ctx, t, s.teamDrafts(&t, members, event.TeamUpdated))
	if err != nil {
		return Team{}, fmt.Errorf("update team %s: %w", id, err)
	}
	s.publish(ctx, evs)
	return t, nil
}

// Members returns a team's members in the order they joined. Errors:
// notFound.
func (s *Service) Members(ctx context.Context, actor *identity.User, id ID) ([]Member, error) {
	_, members, _, err := s.load(ctx, actor, id, Read)
	return members, err
}

// ListMembers returns a page of a team's members in the order they
// joined: those after the member after (by join time in microseconds, then
// id; nil: from the start), at most limit of them (0: all), and whether
// more follow. Errors: notFound.
func (s *Service) ListMembers(ctx context.Context, actor *identity.User, id ID, after *Member, limit int) ([]Member, bool, error) {
	members, err := s.Members(ctx, actor, id)
	if err != nil {
		return nil, false, err
	}
	page, more := pageMembers(members, after, limit)
	return page, more, nil
}

// pageMembers cuts a page of members in the order they joined.
func pageMembers(members []Member, after *Member, limit int) ([]Member, bool) {
	return keyset.Page(members, func(a, b Member) int {
		return cmp.Or(cmp.Compare(a.JoinedAt.UnixMicro(), b.JoinedAt.UnixMicro()), strings.Compare(a.ID, b.ID))
	}, after, limit)
}

// NewMember names a person to add, by user id or by e-mail address, with
// the roles asked for.
type NewMember struct {
	UserID identity.UserID
	Email  string
	Roles  []string
}

// resolve finds the account to add to a team of tenant. A user id the
// actor may not see is notFound, exactly as an unknown id (docs/rules.md
// §10); an address no member or guest of the tenant owns is refused
// whether or not an account elsewhere owns it, so the answer says nothing
// about accounts outside the organisation.
func (s *Service) resolve(ctx context.Context, actor *identity.User, tenant identity.TenantID, nm NewMember) (identity.User, error) {
	if nm.UserID != "" {
		u, err := s.Store.FindUserByID(ctx, nm.UserID)
		if errcode.Is(err, errcode.NotFound) {
			return identity.User{}, errcode.New(errcode.NotFound, "No user %s.", nm.UserID)
		}
		if err != nil {
			return identity.User{}, fmt.Errorf("load user %s: %w", nm.UserID, err)
		}
		if u.TenantID != tenant && s.Sees != nil {
			ok, err := s.Sees(ctx, actor, &u)
			if err != nil {
				return identity.User{}, fmt.Errorf("load user %s: %w", nm.UserID, err)
			}
			if !ok {
				return identity.User{}, errcode.New(errcode.NotFound, "No user %s.", nm.UserID)
			}
		}
		return u, nil
	}
	addr, err := address.ParseEmail(nm.Email)
	if err != nil {
		return identity.User{}, err // badRequest, naming why
	}
	users, err := s.Store.FindUsersByAddress(ctx, addr.String())
	if err != nil {
		return identity.User{}, fmt.Errorf("find %s: %w", addr, err)
	}
	for _, u := range users {
		if u.TenantID == tenant && MayJoin(tenant, &u) == nil {
			return u, nil
		}
	}
	return identity.User{}, errcode.New(errcode.ExternalMemberNotAllowed, "No one of the team's organisation (member or guest) has the address %s; people of other organisations and personal accounts cannot be in a team.", addr)
}

// AddMember adds a member or guest of the team's tenant. Errors:
// notFound, forbidden, badRequest, conflict, externalMemberNotAllowed.
func (s *Service) AddMember(ctx context.Context, actor *identity.User, id ID, nm NewMember) (Member, error) {
	t, members, _, err := s.load(ctx, actor, id, ManageMembers)
	if err != nil {
		return Member{}, err
	}
	u, err := s.resolve(ctx, actor, t.TenantID, nm)
	if err != nil {
		return Member{}, err
	}
	if err := MayJoin(t.TenantID, &u); err != nil {
		return Member{}, err
	}
	roles, err := RolesFor(&u, nm.Roles)
	if err != nil {
		return Member{}, err
	}
	if RoleOf(members, u.ID) != None {
		return Member{}, errcode.New(errcode.Conflict, "This person is already a member of this team.")
	}
	m := Member{ID: NewMemberID(), TeamID: t.ID, UserID: u.ID, User: u, Roles: roles, JoinedAt: s.Now(), AddedBy: actor.ID}
	evs, err := s.Store.AddTeamMember(ctx, m, s.memberDrafts(&t, append(members, m), event.MemberAdded, &m))
	if err != nil {
		return Member{}, fmt.Errorf("add member to team %s: %w", id, err)
	}
	s.publish(ctx, evs)
	s.audit(ctx, &t, actor, AuditMemberAdded, string(t.ID), map[string]any{"userId": string(u.ID), "guest": u.Kind == identity.Guest, "roles": roles})
	if s.Hooks.Members != nil {
		s.Hooks.Members(ctx, actor, &t, []Member{m}, false)
	}
	return m, nil
}

// find returns the member named by memberID: its membership id or its
// user id.
func find(members []Member, memberID string) (Member, error) {
	for _, m := range members {
		if m.ID == memberID || string(m.UserID) == memberID {
			return m, nil
		}
	}
	return Member{}, errcode.New(errcode.NotFound, "No member %s in this team.", memberID)
}

// UpdateMember changes a member's roles (make owner, make member). The
// last owner cannot become a member. Errors: notFound, forbidden,
// badRequest.
func (s *Service) UpdateMember(ctx context.Context, actor *identity.User, id ID, memberID string, roles []string) (Member, error) {
	t, members, _, err := s.load(ctx, actor, id, ManageMembers)
	if err != nil {
		return Member{}, err
	}
	m, err := find(members, memberID)
	if err != nil {
		return Member{}, err
	}
	before := m.Roles
	if m.Roles, err = RolesFor(&m.User, roles); err != nil {
		return Member{}, err
	}
	evs, err := s.Store.UpdateTeamMember(ctx, m, s.memberDrafts(&t, members, event.MemberUpdated, &m))
	if err != nil {
		return Member{}, fmt.Errorf("update member of team %s: %w", id, err)
	}
	s.publish(ctx, evs)
	s.audit(ctx, &t, actor, AuditMemberUpdated, string(t.ID), map[string]any{"userId": string(m.UserID), "before": before, "after": m.Roles})
	return m, nil
}

// RemoveMember removes a member: owners remove anyone, everyone removes
// themself (leaves). The last owner cannot go. Errors: notFound,
// forbidden, badRequest.
func (s *Service) RemoveMember(ctx context.Context, actor *identity.User, id ID, memberID string) error {
	t, members, me, err := s.load(ctx, actor, id, Read)
	if err != nil {
		return err
	}
	m, err := find(members, memberID)
	if err != nil {
		return err
	}
	a := ManageMembers
	if m.UserID == actor.ID {
		a = Leave
	}
	if err := May(me.Role(), a); err != nil {
		return err
	}
	evs, err := s.Store.RemoveTeamMember(ctx, t.ID, m.ID, s.memberDrafts(&t, members, event.MemberRemoved, &m))
	if err != nil {
		return fmt.Errorf("remove member from team %s: %w", id, err)
	}
	s.publish(ctx, evs)
	s.audit(ctx, &t, actor, AuditMemberRemoved, string(t.ID), map[string]any{"userId": string(m.UserID), "guest": m.User.Kind == identity.Guest})
	if s.Hooks.Members != nil {
		s.Hooks.Members(ctx, actor, &t, []Member{m}, true)
	}
	return nil
}

// Channels returns a team's channels, General first. Errors: notFound.
func (s *Service) Channels(ctx context.Context, actor *identity.User, id ID) ([]Channel, error) {
	if _, _, _, err := s.load(ctx, actor, id, Read); err != nil {
		return nil, err
	}
	cs, err := s.Store.FindChannels(ctx, id, actor.ID)
	if err != nil {
		return nil, fmt.Errorf("list channels of %s: %w", id, err)
	}
	return cs, nil
}

func (s *Service) channel(ctx context.Context, actor *identity.User, id ID, cid ChannelID, a Action) (Team, []Member, Channel, error) {
	t, members, _, err := s.load(ctx, actor, id, a)
	if err != nil {
		return Team{}, nil, Channel{}, err
	}
	// The read state is the viewer's, and costs a count: only a read
	// shows it.
	viewer := actor.ID
	if a != Read {
		viewer = ""
	}
	c, err := s.Store.FindChannel(ctx, id, cid, viewer)
	if errcode.Is(err, errcode.NotFound) {
		return Team{}, nil, Channel{}, errcode.New(errcode.NotFound, "No channel %s in this team.", cid)
	}
	if err != nil {
		return Team{}, nil, Channel{}, fmt.Errorf("load channel %s: %w", cid, err)
	}
	return t, members, c, nil
}

// Channel returns a channel of a team the actor is in. Errors: notFound.
func (s *Service) Channel(ctx context.Context, actor *identity.User, id ID, cid ChannelID) (Channel, error) {
	_, _, c, err := s.channel(ctx, actor, id, cid, Read)
	return c, err
}

// channelName checks a channel name as Teams does: 1 to 50 characters,
// none of ~ # % & * { } + / \ : < > ? | ' " , and no leading dot or
// underscore.
func channelName(v string) (string, error) {
	v, err := text("displayName", v, MaxChannelNameRunes, true)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(v, `~#%&*{}+/\:<>?|'",`) || strings.HasPrefix(v, ".") || strings.HasPrefix(v, "_") || strings.Contains(v, "..") {
		return "", errcode.New(errcode.BadRequest, `A channel name may not contain ~ # %% & * { } + / \ : < > ? | ' " , or "..", nor start with "." or "_".`)
	}
	return v, nil
}

// NewChannel describes a channel to create.
type NewChannel struct {
	DisplayName    string
	Description    string
	MembershipType string // "" or "standard"
}

// CreateChannel creates a standard channel. Errors: notFound, forbidden,
// badRequest, conflict (the name is taken).
func (s *Service) CreateChannel(ctx context.Context, actor *identity.User, id ID, nc NewChannel) (Channel, error) {
	t, members, _, err := s.load(ctx, actor, id, ManageChannels)
	if err != nil {
		return Channel{}, err
	}
	if nc.MembershipType != "" && nc.MembershipType != "standard" {
		return Channel{}, errcode.New(errcode.BadRequest, "Only standard channels are supported (membershipType \"standard\").")
	}
	c := Channel{ID: NewChannelID(), TeamID: t.ID, CreatedBy: actor.ID, CreatedAt: s.Now()}
	if c.DisplayName, err = channelName(nc.DisplayName); err != nil {
		return Channel{}, err
	}
	if c.Description, err = text("description", nc.Description, MaxDescriptionRunes, false); err != nil {
		return Channel{}, err
	}
	evs, err := s.Store.CreateChannel(ctx, c, s.channelDrafts(&t, members, event.ChannelCreated, &c))
	if err != nil {
		return Channel{}, fmt.Errorf("create channel in %s: %w", id, err)
	}
	s.publish(ctx, evs)
	s.audit(ctx, &t, actor, AuditChannelCreated, string(c.ID), map[string]any{"teamId": string(t.ID), "displayName": c.DisplayName})
	s.channelHook(ctx, actor, &t, &c, event.ChannelCreated)
	return c, nil
}

// ChannelUpdate is a change of a channel; nil fields stay.
type ChannelUpdate struct {
	DisplayName *string
	Description *string
}

// UpdateChannel renames a channel or changes its description; General
// keeps its name. Errors: notFound, forbidden, badRequest, conflict.
func (s *Service) UpdateChannel(ctx context.Context, actor *identity.User, id ID, cid ChannelID, u ChannelUpdate) (Channel, error) {
	t, members, c, err := s.channel(ctx, actor, id, cid, ManageChannels)
	if err != nil {
		return Channel{}, err
	}
	oldName := c.DisplayName
	if u.DisplayName != nil {
		name, err := channelName(*u.DisplayName)
		if err != nil {
			return Channel{}, err
		}
		if c.General && name != c.DisplayName {
			return Channel{}, errcode.New(errcode.BadRequest, "The General channel cannot be renamed.")
		}
		c.DisplayName = name
	}
	if u.Description != nil {
		if c.Description, err = text("description", *u.Description, MaxDescriptionRunes, false); err != nil {
			return Channel{}, err
		}
	}
	evs, err := s.Store.UpdateChannel(ctx, c, s.channelDrafts(&t, members, event.ChannelUpdated, &c))
	if err != nil {
		return Channel{}, fmt.Errorf("update channel %s: %w", cid, err)
	}
	s.publish(ctx, evs)
	if c.DisplayName != oldName {
		s.channelHook(ctx, actor, &t, &c, event.ChannelUpdated)
	}
	return c, nil
}

// DeleteChannel deletes a channel (General cannot be deleted); its
// messages go with it. Errors: notFound, forbidden, badRequest.
func (s *Service) DeleteChannel(ctx context.Context, actor *identity.User, id ID, cid ChannelID) error {
	t, members, c, err := s.channel(ctx, actor, id, cid, ManageChannels)
	if err != nil {
		return err
	}
	if c.General {
		return errcode.New(errcode.BadRequest, "The General channel cannot be deleted.")
	}
	c.DeletedAt = s.Now()
	evs, err := s.Store.DeleteChannel(ctx, c, s.channelDrafts(&t, members, event.ChannelDeleted, &c))
	if err != nil {
		return fmt.Errorf("delete channel %s: %w", cid, err)
	}
	s.publish(ctx, evs)
	s.audit(ctx, &t, actor, AuditChannelDeleted, string(c.ID), map[string]any{"teamId": string(t.ID), "displayName": c.DisplayName})
	s.channelHook(ctx, actor, &t, &c, event.ChannelDeleted)
	return nil
}

// message returns a message of the channel at the path's place: a
// top-level message when replyOf is 0, else a reply to replyOf.
func (s *Service) message(ctx context.Context, cid ChannelID, replyOf, mid chat.MessageID) (Message, error) {
	m, err := s.Store.FindChannelMessage(ctx, cid, mid)
	if err == nil && m.ReplyTo != replyOf {
		err = errcode.New(errcode.NotFound, "No message %d here.", mid)
	}
	if errcode.Is(err, errcode.NotFound) {
		return Message{}, errcode.New(errcode.NotFound, "No message %d here.", mid)
	}
	return m, err
}

// Messages returns a page of a channel's top-level messages (replyOf 0)
// or of the replies to one, newest first, from before (0: the newest),
// and where the next page starts (0: none). Errors: notFound.
func (s *Service) Messages(ctx context.Context, actor *identity.User, id ID, cid ChannelID, replyOf, before chat.MessageID, limit int) ([]Message, chat.MessageID, error) {
	if _, _, _, err := s.channel(ctx, actor, id, cid, Read); err != nil {
		return nil, 0, err
	}
	if replyOf != 0 {
		if _, err := s.message(ctx, cid, 0, replyOf); err != nil {
			return nil, 0, err
		}
	}
	limit = clampPage(limit)
	msgs, err := s.Store.FindChannelMessages(ctx, cid, replyOf, before, limit+1)
	if err != nil {
		return nil, 0, fmt.Errorf("list messages of %s: %w", cid, err)
	}
	var next chat.MessageID
	if len(msgs) > limit {
		msgs = msgs[:limit]
		next = msgs[limit-1].ID
	}
	return msgs, next, nil
}

// Message returns one message: top-level (replyOf 0) or a reply to
// replyOf. Errors: notFound.
func (s *Service) Message(ctx context.Context, actor *identity.User, id ID, cid ChannelID, replyOf, mid chat.MessageID) (Message, error) {
	if _, _, _, err := s.channel(ctx, actor, id, cid, Read); err != nil {
		return Message{}, err
	}
	return s.message(ctx, cid, replyOf, mid)
}

// clean checks a body: @team and @channel mentions must name this team
// and channel, mentioned people must be in the team, and the rest is the
// chat rules (Bodies).
func (s *Service) clean(t *Team, c *Channel, members []Member, b chat.Body) (chat.Body, error) {
	if len(b.Mentions) > chat.MaxMentions {
		return chat.Body{}, errcode.New(errcode.BadRequest, "A message may mention at most %d people.", chat.MaxMentions)
	}
	all := b.Mentions
	var people []chat.Mention
	for _, mn := range all {
		switch mn.Conversation {
		case "":
			people = append(people, mn)
		case "team":
			if mn.ConversationID != string(t.ID) {
				return chat.Body{}, errcode.New(errcode.BadRequest, "An @team mention must name this team (%s).", t.ID)
			}
		case "channel":
			if mn.ConversationID != string(c.ID) {
				return chat.Body{}, errcode.New(errcode.BadRequest, "An @channel mention must name this channel (%s).", c.ID)
			}
		default:
			return chat.Body{}, errcode.New(errcode.BadRequest, "mentioned.conversation.conversationIdentityType must be team or channel.")
		}
	}
	cms := make([]chat.Member, len(members))
	for i := range members {
		cms[i] = chat.Member{ID: members[i].ID, UserID: members[i].UserID, State: chat.Accepted}
	}
	b.Mentions = people
	b, err := s.Bodies.CleanBody(b, cms)
	if err != nil {
		if errcode.Of(err) == errcode.BadRequest && strings.Contains(errcode.Message(err), "members of this chat") {
			return chat.Body{}, errcode.New(errcode.BadRequest, "Mentions may name members of this team only.")
		}
		return chat.Body{}, err
	}
	b.Mentions = all
	return b, nil
}

// Send posts a top-level message (replyTo 0) or a reply to replyTo in a
// channel. Errors: notFound, forbidden, badRequest.
func (s *Service) Send(ctx context.Context, actor *identity.User, id ID, cid ChannelID, replyTo chat.MessageID, b chat.Body) (Message, error) {
	t, members, c, err := s.channel(ctx, actor, id, cid, Post)
	if err != nil {
		return Message{}, err
	}
	if replyTo != 0 {
		if _, err := s.message(ctx, cid, 0, replyTo); err != nil {
			return Message{}, err
		}
	}
	if b, err = s.clean(&t, &c, members, b); err != nil {
		return Message{}, err
	}
	if b.Via.ID != "" {
		if s.Via == nil {
			return Message{}, errcode.New(errcode.BadRequest, "viaAppId names no app installed in this team.")
		}
		if b.Via, err = s.Via(ctx, actor, &t, b.Via.ID); err != nil {
			return Message{}, err
		}
	}
	now := s.Now()
	m := Message{Message: chat.Message{ChatID: chat.ID(c.ID), SenderID: actor.ID, Sender: *actor, CreatedAt: now, ModifiedAt: now,
		ContentType: b.ContentType, Content: b.Content, Mentions: b.Mentions, Attachments: b.Attachments, Via: b.Via}, ReplyTo: replyTo}
	evs, err := s.Store.CreateChannelMessage(ctx, &m, func(stored *Message) []event.Draft {
		return s.messageDrafts(&t, members, event.MessageCreated, &c, stored)
	})
	if err != nil {
		return Message{}, fmt.Errorf("send to channel %s: %w", cid, err)
	}
	s.publish(ctx, evs)
	if s.Hooks.Sent != nil {
		s.Hooks.Sent(ctx, actor, &t, &c, &m)
	}
	return m, nil
}

func (s *Service) own(ctx context.Context, actor *identity.User, id ID, cid ChannelID, replyOf, mid chat.MessageID) (Team, []Member, Channel, Message, error) {
	t, members, c, err := s.channel(ctx, actor, id, cid, Post)
	if err != nil {
		return Team{}, nil, Channel{}, Message{}, err
	}
	m, err := s.message(ctx, cid, replyOf, mid)
	if err != nil {
		return Team{}, nil, Channel{}, Message{}, err
	}
	if m.SenderID != actor.ID {
		return Team{}, nil, Channel{}, Message{}, errcode.New(errcode.Forbidden, "Only the sender may change a message.")
	}
	if m.Deleted() {
		return Team{}, nil, Channel{}, Message{}, errcode.New(errcode.NotFound, "The message was deleted.")
	}
	return t, members, c, m, nil
}

// Edit replaces the body of the actor's own message. Errors: notFound,
// forbidden, badRequest.
func (s *Service) Edit(ctx context.Context, actor *identity.User, id ID, cid ChannelID, replyOf, mid chat.MessageID, b chat.Body) (Message, error) {
	t, members, c, m, err := s.own(ctx, actor, id, cid, replyOf, mid)
	if err != nil {
		return Message{}, err
	}
	return s.saveEdit(ctx, &t, members, &c, m, b)
}

// saveEdit gives a channel message a new body, checked and sanitised as a
// new one would be, stores it and tells the team: the one tail of a
// person's edit (Edit) and a bot's (EditAsApp).
func (s *Service) saveEdit(ctx context.Context, t *Team, members []Member, c *Channel, m Message, b chat.Body) (Message, error) {
	b, err := s.clean(t, c, members, b)
	if err != nil {
		return Message{}, err
	}
	m.ContentType, m.Content, m.Mentions, m.Attachments = b.ContentType, b.Content, b.Mentions, b.Attachments
	m.ModifiedAt = s.Now()
	evs, err := s.Store.UpdateMessage(ctx, m.Message, s.messageDrafts(t, members, event.MessageUpdated, c, &m))
	if err != nil {
		return Message{}, fmt.Errorf("edit message %d: %w", m.ID, err)
	}
	s.publish(ctx, evs)
	return m, nil
}

// Delete soft-deletes the actor's own message: it stays in the list with
// its deletion time and no content (a thread keeps its replies). Errors:
// notFound, forbidden.
func (s *Service) Delete(ctx context.Context, actor *identity.User, id ID, cid ChannelID, replyOf, mid chat.MessageID) error {
	t, members, c, m, err := s.own(ctx, actor, id, cid, replyOf, mid)
	if err != nil {
		return err
	}
	now := s.Now()
	m.DeletedAt, m.ModifiedAt = now, now
	m.Content, m.Mentions, m.Attachments = "", nil, nil
	evs, err := s.Store.UpdateMessage(ctx, m.Message, s.messageDrafts(&t, members, event.MessageDeleted, &c, &m))
	if err != nil {
		return fmt.Errorf("delete message %d: %w", mid, err)
	}
	s.publish(ctx, evs)
	return nil
}

// MarkRead sets the actor's read mark on a channel to now (read=true) or
// clears it. Errors: notFound.
func (s *Service) MarkRead(ctx context.Context, actor *identity.User, id ID, cid ChannelID, read bool) error {
	t, _, c, err := s.channel(ctx, actor, id, cid, Read)
	if err != nil {
		return err
	}
	var at time.Time
	if read {
		at = s.Now()
	}
	c.LastReadAt, c.Unread = at, 0
	d := event.Draft{UserID: actor.ID, Type: event.ChannelRead, ChatID: string(c.ID), Payload: s.Encoder.ChannelEvent(actor, event.ChannelRead, &t, &c)}
	evs, err := s.Store.MarkChannelRead(ctx, c.ID, actor.ID, at, []event.Draft{d})
	if err != nil {
		return fmt.Errorf("mark %s read: %w", cid, err)
	}
	s.publish(ctx, evs)
	return nil
}

// React sets (set=true) or removes the actor's reaction typ on a channel
// message (top-level when replyOf is 0, else a reply to replyOf), as in
// chats: the same reaction types and limits; setting one that is there or
// removing one that is not changes nothing. Everyone in the team gets the
// message again (messageUpdated). Errors: notFound, badRequest.
func (s *Service) React(ctx context.Context, actor *identity.User, id ID, cid ChannelID, replyOf, mid chat.MessageID, typ string, set bool) error {
	t, members, c, err := s.channel(ctx, actor, id, cid, Post)
	if err != nil {
		return err
	}
	if err := chat.CheckReactionType(typ); err != nil {
		return err
	}
	target, err := s.message(ctx, cid, replyOf, mid)
	if err != nil {
		return err
	}
	now := s.Now()
	changed := false
	evs, err := s.Store.UpdateReactions(ctx, chat.ID(cid), mid, func(m *chat.Message) error {
		if m.Deleted() {
			return errcode.New(errcode.NotFound, "No message %d here.", mid)
		}
		var err error
		m.Reactions, changed, err = chat.ApplyReaction(m.Reactions, actor, typ, set, now)
		return err
	}, func(m *chat.Message) []event.Draft {
		if !changed {
			return nil
		}
		msg := Message{Message: *m, ReplyTo: replyOf}
		return s.messageDrafts(&t, members, event.MessageUpdated, &c, &msg)
	})
	if err != nil {
		return fmt.Errorf("react to %d: %w", mid, err)
	}
	s.publish(ctx, evs)
	if changed && target.App.ID != "" && s.Hooks.Reacted != nil {
		s.Hooks.Reacted(ctx, actor, &t, &c, &target, typ, set)
	}
	return nil
}

// Typing tells the team's other members that the actor is typing in a
// channel. It is ephemeral: published, not stored, not replayed.
// Errors: notFound.
func (s *Service) Typing(ctx context.Context, actor *identity.User, id ID, cid ChannelID) error {
	t, members, c, err := s.channel(ctx, actor, id, cid, Post)
	if err != nil {
		return err
	}
	now := s.Now()
	evs := make([]event.Event, 0, len(members))
	for i := range members {
		o := &members[i]
		if o.UserID == actor.ID {
			continue
		}
		evs = append(evs, event.Event{UserID: o.UserID, Type: event.Typing, ChatID: string(c.ID), Payload: s.Encoder.ChannelTypingEvent(&o.User, &t, &c, actor, now), CreatedAt: now})
	}
	s.publish(ctx, evs)
	return nil
}

// MaxExpandedReplies caps the replies each top-level message carries in a
// list with its replies (Replies).
const MaxExpandedReplies = 50

// Replies returns, for each of the given top-level messages of a channel,
// its newest replies (at most MaxExpandedReplies, newest first), for a
// list of messages with their threads. Errors: notFound.
func (s *Service) Replies(ctx context.Context, actor *identity.User, id ID, cid ChannelID, roots []Message) (map[chat.MessageID][]Message, error) {
	if _, _, _, err := s.channel(ctx, actor, id, cid, Read); err != nil {
		return nil, err
	}
	out := make(map[chat.MessageID][]Message, len(roots))
	for _, r := range roots {
		if r.ReplyTo != 0 || chat.ID(cid) != r.ChatID {
			continue
		}
		rs, err := s.Store.FindChannelMessages(ctx, cid, r.ID, 0, MaxExpandedReplies)
		if err != nil {
			return nil, fmt.Errorf("replies of %d: %w", r.ID, err)
		}
		out[r.ID] = rs
	}
	return out, nil
}

// ChannelMembers returns a page of a channel's members: everyone in the
// team, since every channel is standard, paged as ListMembers. Errors:
// notFound.
func (s *Service) ChannelMembers(ctx context.Context, actor *identity.User, id ID, cid ChannelID, after *Member, limit int) ([]Member, bool, error) {
	_, members, _, err := s.channel(ctx, actor, id, cid, Read)
	if err != nil {
		return nil, false, err
	}
	page, more := pageMembers(members, after, limit)
	return page, more, nil
}
