package meeting

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/limit"
)

// Limits on what a caller may send.
const (
	MaxSubjectRunes     = 250
	MaxDisplayNameRunes = 64
	// MaxDuration bounds a meeting's scheduled length.
	MaxDuration = 31 * 24 * time.Hour
)

// Store is the persistence meetings need.
type Store interface {
	limit.Store
	// CreateMeeting stores a meeting.
	CreateMeeting(ctx context.Context, m Meeting) error
	// DeleteMeeting forgets a meeting whose chat could not be created.
	DeleteMeeting(ctx context.Context, id ID) error
	// FindMeeting returns a meeting, ended or not. Errors: notFound.
	FindMeeting(ctx context.Context, id ID) (Meeting, error)
	// FindOrganisedMeetings returns the meetings organiser organises and
	// did not end, oldest first by (CreatedAt, ID), after the cursor (zero:
	// from the start), at most limit.
	FindOrganisedMeetings(ctx context.Context, organizer identity.UserID, after Cursor, limit int) ([]Meeting, error)
	// FindMeetingByChat returns the meeting whose chat is id. Errors:
	// notFound.
	FindMeetingByChat(ctx context.Context, id chat.ID) (Meeting, error)
	// FindMeetingByToken returns the meeting whose join link holds token.
	// Errors: notFound.
	FindMeetingByToken(ctx context.Context, token string) (Meeting, error)
	// UpdateMeeting stores a meeting's subject, times and join token.
	// Errors: notFound.
	UpdateMeeting(ctx context.Context, m Meeting) error
	// FindMeetingConfig returns a tenant's meeting settings (the defaults
	// when never set).
	FindMeetingConfig(ctx context.Context, tenant identity.TenantID) (Config, error)
	// SaveMeetingConfig stores a tenant's meeting settings.
	SaveMeetingConfig(ctx context.Context, tenant identity.TenantID, c Config) error
	// CreateParticipant stores an anonymous participant's account and
	// participation, with events, in one write.
	CreateParticipant(ctx context.Context, u identity.User, p Participant, drafts []event.Draft) ([]event.Event, error)
	// FindParticipant returns the participation of an anonymous account.
	// Errors: notFound.
	FindParticipant(ctx context.Context, user identity.UserID) (Participant, error)
	// FindParticipants returns a meeting's anonymous participants, in order
	// of arrival.
	FindParticipants(ctx context.Context, meeting ID) ([]Participant, error)
	// MoveParticipant stores p (its new State and times) if it is still in
	// state from, decided inside the write; when the new state is not live
	// the account's tokens are deleted in the same write. Errors: notFound
	// (not in state from).
	MoveParticipant(ctx context.Context, p Participant, from State, drafts []event.Draft) ([]event.Event, error)
	// EndParticipants ends every live participant of a meeting at at
	// (state Over), deleting their tokens, and every person waiting in its
	// lobby, with events, in one write; it returns those it ended. The
	// meeting itself stays.
	EndParticipants(ctx context.Context, id ID, at time.Time, drafts func(ended []Participant, people []Person) []event.Draft) ([]Participant, []Person, []event.Event, error)
	// FindOverdueMeetings returns meetings not ended whose end is before
	// before and that still have live participants or people waiting in
	// the lobby, at most limit.
	FindOverdueMeetings(ctx context.Context, before time.Time, limit int) ([]Meeting, error)
	// EndMeeting stores the meeting as ended at m.EndedAt, every live
	// participant of it as ended, deleting their tokens, and every wait in
	// its lobby as ended, in one write.
	EndMeeting(ctx context.Context, m Meeting, drafts []event.Draft) ([]event.Event, error)
	// EnterLobby puts a signed-in person in a meeting's lobby (state
	// InLobby, at p.ArrivedAt) unless they wait there already, decided
	// inside the write; drafts are stored only when they enter. It reports
	// whether they entered.
	EnterLobby(ctx context.Context, p Person, drafts []event.Draft) (bool, []event.Event, error)
	// FindLobbyPerson returns a signed-in person's place in a meeting's lobby.
	// Errors: notFound.
	FindLobbyPerson(ctx context.Context, id ID, user identity.UserID) (Person, error)
	// FindLobbyPeople returns the signed-in people who came to a meeting's
	// lobby, in order of arrival.
	FindLobbyPeople(ctx context.Context, id ID) ([]Person, error)
	// MovePerson stores p's State and DecidedAt if it is still in state
	// from, decided inside the write. Errors: notFound.
	MovePerson(ctx context.Context, p Person, from State, drafts []event.Draft) ([]event.Event, error)
}

// Chats is what meetings need of internal/chat: the meeting chat and its
// members, decided there by docs/rules.md §4–§6 as for any chat.
type Chats interface {
	CreateMeetingChat(ctx context.Context, actor *identity.User, topic string, invitees []chat.NewMember) (chat.Chat, []chat.Member, error)
	InviteToMeeting(ctx context.Context, actor *identity.User, id chat.ID, nm chat.NewMember) (chat.Member, error)
	CheckMeetingInvite(ctx context.Context, actor *identity.User, id chat.ID, nm chat.NewMember) error
	MeetingMembers(ctx context.Context, id chat.ID) (chat.Chat, []chat.Member, error)
	AdmitAnonymous(ctx context.Context, id chat.ID, u *identity.User, by identity.UserID) (chat.Member, error)
	RemoveFromMeeting(ctx context.Context, id chat.ID, key string, extra []event.Draft) error
	RenameMeetingChat(ctx context.Context, id chat.ID, topic string) error
	Publish(ctx context.Context, evs []event.Event)
}

// Limits are the rate limits of anonymous joins (docs/rules.md §10): per join link
// and per client address, taken together, atomically, before the link is
// looked up, so guessing links is slowed as much as crowding one.
type Limits struct {
	PerLink   limit.Bucket
	PerClient limit.Bucket
}

// DefaultLimits: per link 50 joins at once, then one every 6 s (600 an
// hour); per client address 30 at once, then one every 6 s (a shared
// office address still brings a class in, a guesser is slowed).
func DefaultLimits() Limits {
	return Limits{PerLink: limit.Bucket{Burst: 50, Every: 6 * time.Second}, PerClient: limit.Bucket{Burst: 30, Every: 6 * time.Second}}
}

// Service runs meetings.
type Service struct {
	Store  Store
	Chats  Chats
	Limits Limits
	// Issue issues a bearer token for an anonymous participant's account
	// that expires at until at the latest.
	Issue func(ctx context.Context, user identity.UserID, until time.Time) (token string, ttl time.Duration, err error)
	// Grace is how long after its endDateTime a meeting ends by itself
	// (0: DefaultGrace).
	Grace time.Duration
	// Forget drops cached tokens of an account whose session ended.
	Forget func(user identity.UserID)
	// Audit records in a tenant's audit log (may be nil).
	Audit func(ctx context.Context, tenant identity.TenantID, actor identity.UserID, action, target string, details map[string]any)
	// Changed is told after an admin changed a tenant's meeting settings
	// (may be nil).
	Changed func(ctx context.Context, tenant identity.TenantID)
	// LinkBase is the public base URL join links start with.
	LinkBase func() string
	Now      func() time.Time
	Log      *slog.Logger // may be nil
}

func (s *Service) audit(ctx context.Context, tenant identity.TenantID, actor identity.UserID, action, target string, details map[string]any) {
	if s.Audit != nil && tenant != "" {
		s.Audit(ctx, tenant, actor, action, target, details)
	}
}

// JoinWebURL is a meeting's join link.
func (s *Service) JoinWebURL(m *Meeting) string {
	return strings.TrimRight(s.LinkBase(), "/") + "/meet/" + m.JoinToken
}

// View is a meeting with its join link, organiser and invited people.
type View struct {
	Meeting
	JoinWebURL string
	// LobbyBypass is the host's setting, as the meeting's
	// lobbyBypassSettings shows it.
	LobbyBypass Bypass
	Organizer   chat.Member
	// Attendees are the people invited (chat members other than the
	// organiser and anonymous participants), as chat members: a pending
	// person shows only the address typed (docs/rules.md §4 rule of silence).
	Attendees []chat.Member
}

// NewMeeting describes a meeting to create.
type NewMeeting struct {
	Subject    string
	Start, End *time.Time
	Invitees   []chat.NewMember
}

// Create creates a meeting that actor organises, with its chat and the
// people invited. Errors: badRequest, forbidden (anonymous), and the
// codes of inviting (docs/rules.md §4).
func (s *Service) Create(ctx context.Context, actor *identity.User, nm NewMeeting) (View, error) {
	if actor.Kind == identity.Anonymous {
		return View{}, errcode.New(errcode.Forbidden, "Anonymous participants cannot organise meetings.")
	}
	now := s.Now()
	m := Meeting{ID: NewID(), TenantID: actor.TenantID, OrganizerID: actor.ID, JoinToken: NewJoinToken(), CreatedAt: now}
	subject, err := cleanSubject(nm.Subject)
	if err != nil {
		return View{}, err
	}
	m.Subject = subject
	m.Start, m.End = now, now.Add(time.Hour)
	if nm.Start != nil {
		m.Start = nm.Start.UTC()
		if nm.End == nil {
			m.End = m.Start.Add(time.Hour)
		}
	}
	if nm.End != nil {
		m.End = nm.End.UTC()
	}
	if err := checkTimes(m.Start, m.End); err != nil {
		return View{}, err
	}
	c, _, err := s.Chats.CreateMeetingChat(ctx, actor, subject, nm.Invitees)
	if err != nil {
		return View{}, err
	}
	m.ChatID = c.ID
	if err := s.Store.CreateMeeting(ctx, m); err != nil {
		return View{}, fmt.Errorf("create meeting: %w", err)
	}
	v, err := s.view(ctx, &m)
	if err != nil {
		return View{}, err
	}
	if ext := externals(v.Attendees, actor); ext > 0 {
		s.audit(ctx, m.TenantID, actor.ID, "meeting.externalCreated", string(m.ID), map[string]any{"chatId": string(m.ChatID), "external": ext, "attendees": len(v.Attendees)})
	}
	return v, nil
}

// externals counts the attendees external to the organiser.
func externals(ms []chat.Member, organizer *identity.User) int {
	n := 0
	for i := range ms {
		if ms[i].UserID == "" || ms[i].User.ExternalTo(organizer) {
			n++
		}
	}
	return n
}

func cleanSubject(s string) (string, error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > MaxSubjectRunes {
		return "", errcode.New(errcode.BadRequest, "The subject may have at most %d characters.", MaxSubjectRunes)
	}
	return s, nil
}

func checkTimes(start, end time.Time) error {
	switch {
	case end.Before(start):
		return errcode.New(errcode.BadRequest, "endDateTime must not be before startDateTime.")
	case end.Sub(start) > MaxDuration:
		return errcode.New(errcode.BadRequest, "A meeting may last at most %d days.", int(MaxDuration/(24*time.Hour)))
	}
	return nil
}

func (s *Service) view(ctx context.Context, m *Meeting) (View, error) {
	_, members, err := s.Chats.MeetingMembers(ctx, m.ChatID)
	if err != nil {
		return View{}, fmt.Errorf("load meeting %s: %w", m.ID, err)
	}
	cfg, err := s.Store.FindMeetingConfig(ctx, m.TenantID)
	if err != nil {
		return View{}, fmt.Errorf("load meeting %s: %w", m.ID, err)
	}
	v := View{Meeting: *m, JoinWebURL: s.JoinWebURL(m), LobbyBypass: cfg.LobbyBypass, Attendees: []chat.Member{}}
	for _, mb := range members {
		switch {
		case mb.UserID == m.OrganizerID:
			v.Organizer = mb
		case mb.User.Kind == identity.Anonymous:
		default:
			v.Attendees = append(v.Attendees, mb)
		}
	}
	return v, nil
}

// organised returns a live meeting actor organises. Anyone else, and a
// meeting that ended, is notFound (docs/rules.md §10: no object-level gaps).
func (s *Service) organised(ctx context.Context, actor *identity.User, id ID) (Meeting, error) {
	m, err := s.Store.FindMeeting(ctx, id)
	if err != nil && !errcode.Is(err, errcode.NotFound) {
		return Meeting{}, fmt.Errorf("load meeting %s: %w", id, err)
	}
	if err != nil || m.OrganizerID != actor.ID || m.Ended() {
		return Meeting{}, errcode.New(errcode.NotFound, "No meeting %s.", id)
	}
	return m, nil
}

// Get returns a meeting its organiser asks for. Errors: notFound.
func (s *Service) Get(ctx context.Context, actor *identity.User, id ID) (View, error) {
	m, err := s.organised(ctx, actor, id)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, &m)
}

// Cursor is the sort key of a meeting in the organiser's list.
type Cursor struct {
	CreatedAt time.Time
	ID        ID
}

// Page sizes of the organiser's list.
const (
	DefaultPageSize = 20
	MaxPageSize     = 50
)

// List returns a page of the meetings actor organises (and did not end),
// oldest first, after the cursor (zero: from the start), at most limit
// (0: DefaultPageSize; at most MaxPageSize), and whether more follow.
// Meetings over by their times are listed: their organiser may move them.
func (s *Service) List(ctx context.Context, actor *identity.User, after Cursor, limit int) ([]View, bool, error) {
	if actor.Kind == identity.Anonymous {
		return nil, false, errcode.New(errcode.Unauthenticated, "A valid bearer token is required.")
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	ms, err := s.Store.FindOrganisedMeetings(ctx, actor.ID, after, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list meetings: %w", err)
	}
	more := len(ms) > limit
	if more {
		ms = ms[:limit]
	}
	out := make([]View, 0, len(ms))
	for i := range ms {
		v, err := s.view(ctx, &ms[i])
		if err != nil {
			return nil, false, err
		}
		out = append(out, v)
	}
	return out, more, nil
}

// Patch is a change of a meeting; nil fields stay.
type Patch struct {
	Subject    *string
	Start, End *time.Time
}

// Update changes a meeting's subject and times (the organiser only); the
// chat's topic follows the subject. Errors: notFound, badRequest.
func (s *Service) Update(ctx context.Context, actor *identity.User, id ID, p Patch) (View, error) {
	m, err := s.organised(ctx, actor, id)
	if err != nil {
		return View{}, err
	}
	if p.Subject != nil {
		subj, err := cleanSubject(*p.Subject)
		if err != nil {
			return View{}, err
		}
		m.Subject = subj
	}
	if p.Start != nil {
		m.Start = p.Start.UTC()
	}
	if p.End != nil {
		m.End = p.End.UTC()
	}
	if err := checkTimes(m.Start, m.End); err != nil {
		return View{}, err
	}
	if err := s.Store.UpdateMeeting(ctx, m); err != nil {
		return View{}, fmt.Errorf("update meeting %s: %w", id, err)
	}
	if p.Subject != nil {
		if err := s.Chats.RenameMeetingChat(ctx, m.ChatID, m.Subject); err != nil {
			return View{}, err
		}
	}
	// Moved into the past: it is over now, and so are its anonymous
	// sessions.
	s.over(ctx, &m)
	return s.view(ctx, &m)
}

// RenewLink gives a meeting a new join link; the old one stops working at
// once (docs/rules.md §8). Anonymous people already in the meeting stay.
// Errors: notFound.
func (s *Service) RenewLink(ctx context.Context, actor *identity.User, id ID) (View, error) {
	m, err := s.organised(ctx, actor, id)
	if err != nil {
		return View{}, err
	}
	m.JoinToken = NewJoinToken()
	if err := s.Store.UpdateMeeting(ctx, m); err != nil {
		return View{}, fmt.Errorf("renew link of %s: %w", id, err)
	}
	s.audit(ctx, m.TenantID, actor.ID, "meeting.linkRenewed", string(m.ID), nil)
	return s.view(ctx, &m)
}

// End ends a meeting (Graph's DELETE): it is gone for its organiser, every
// anonymous session ends at once (their tokens are refused, their open
// connections closed), and anonymous people leave the chat. The meeting
// chat stays with the people invited, as in Teams. Errors: notFound.
func (s *Service) End(ctx context.Context, actor *identity.User, id ID) error {
	m, err := s.organised(ctx, actor, id)
	if err != nil {
		return err
	}
	ps, err := s.Store.FindParticipants(ctx, m.ID)
	if err != nil {
		return fmt.Errorf("end meeting %s: %w", id, err)
	}
	people, err := s.Store.FindLobbyPeople(ctx, m.ID)
	if err != nil {
		return fmt.Errorf("end meeting %s: %w", id, err)
	}
	m.EndedAt = s.Now()
	var drafts []event.Draft
	var live []Participant
	for _, p := range ps {
		if p.State.Live() {
			live = append(live, p)
			drafts = append(drafts, s.endDraft(&m, p.UserID, "meetingEnded"))
		}
	}
	for _, p := range people {
		if p.State == InLobby {
			drafts = append(drafts, s.decidedDraft(&m, p.User.ID, Over))
		}
	}
	evs, err := s.Store.EndMeeting(ctx, m, drafts)
	if err != nil {
		return fmt.Errorf("end meeting %s: %w", id, err)
	}
	s.Chats.Publish(ctx, evs)
	for _, p := range live {
		s.forget(p.UserID)
		if p.State == Admitted {
			if err := s.Chats.RemoveFromMeeting(ctx, m.ChatID, string(p.UserID), nil); err != nil {
				return err
			}
		}
	}
	s.audit(ctx, m.TenantID, actor.ID, "meeting.ended", string(m.ID), map[string]any{"anonymousSessionsEnded": len(live)})
	return nil
}

func (s *Service) grace() time.Duration {
	if s.Grace > 0 {
		return s.Grace
	}
	return DefaultGrace
}

// over reports whether m is over (Meeting.Over); one that is over by its
// times but still has anonymous sessions has them ended first, so every
// anonymous request and join ends them as the sweep does.
func (s *Service) over(ctx context.Context, m *Meeting) bool {
	if m.Ended() {
		return true
	}
	if !m.Over(s.Now(), s.grace()) {
		return false
	}
	if err := s.expire(ctx, m); err != nil && s.Log != nil {
		s.Log.Error("end the sessions of a meeting that is over", "meeting", string(m.ID), "err", err)
	}
	return true
}

// expire ends the anonymous sessions of a meeting that is over by its
// times: their tokens go, their connections close, admitted people leave
// the chat. The meeting stays for its organiser.
func (s *Service) expire(ctx context.Context, m *Meeting) error {
	ctx = context.WithoutCancel(ctx)
	ended, people, evs, err := s.Store.EndParticipants(ctx, m.ID, s.Now(), func(ps []Participant, people []Person) []event.Draft {
		drafts := make([]event.Draft, 0, len(ps)+len(people))
		for _, p := range ps {
			drafts = append(drafts, s.endDraft(m, p.UserID, "meetingEnded"))
		}
		for _, p := range people {
			drafts = append(drafts, s.decidedDraft(m, p.User.ID, Over))
		}
		return drafts
	})
	if err != nil {
		return fmt.Errorf("end sessions of meeting %s: %w", m.ID, err)
	}
	if len(ended) == 0 && len(people) == 0 {
		return nil
	}
	s.Chats.Publish(ctx, evs)
	for _, p := range ended {
		s.forget(p.UserID)
		if p.State == Admitted {
			if err := s.Chats.RemoveFromMeeting(ctx, m.ChatID, string(p.UserID), nil); err != nil {
				return err
			}
		}
	}
	s.audit(ctx, m.TenantID, "", "meeting.over", string(m.ID), map[string]any{"anonymousSessionsEnded": len(ended), "lobbyWaitsEnded": len(people)})
	return nil
}

// Sweep ends the anonymous sessions and the lobby waits of every meeting
// over by its times (a connection that sends nothing is closed too); it
// returns how many meetings it handled.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	ms, err := s.Store.FindOverdueMeetings(ctx, s.Now().Add(-s.grace()), 100)
	if err != nil {
		return 0, fmt.Errorf("sweep meetings: %w", err)
	}
	for i := range ms {
		if err := s.expire(ctx, &ms[i]); err != nil {
			return i, err
		}
	}
	return len(ms), nil
}

// DefaultSweepInterval is how often Run sweeps.
const DefaultSweepInterval = time.Minute

// Run sweeps every interval (0: DefaultSweepInterval) until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil && s.Log != nil {
			s.Log.Error("meetings: sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) forget(u identity.UserID) {
	if s.Forget != nil {
		s.Forget(u)
	}
}

// decidedDraft tells a signed-in person what became of their wait in a
// meeting's lobby.
func (s *Service) decidedDraft(m *Meeting, u identity.UserID, st State) event.Draft {
	return event.Draft{UserID: u, Type: event.LobbyDecided, ChatID: string(m.ChatID), Payload: payload(event.LobbyDecided, m, map[string]any{"state": string(st)})}
}

// endDraft is the last event of an anonymous session.
func (s *Service) endDraft(m *Meeting, u identity.UserID, reason string) event.Draft {
	return event.Draft{UserID: u, Type: event.SessionEnded, ChatID: string(m.ChatID), Payload: payload(event.SessionEnded, m, map[string]any{"reason": reason})}
}

func payload(typ event.Type, m *Meeting, extra map[string]any) []byte {
	v := map[string]any{"type": string(typ), "chatId": string(m.ChatID), "meetingId": string(m.ID)}
	for k, x := range extra {
		v[k] = x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{"type":"` + string(typ) + `"}`) // unreachable: strings only
	}
	return b
}

// Invite invites one more person, by id or address, as the organiser; the
// person is decided by docs/rules.md §4–§6 as when added to a chat (a refusal
// the organiser may not learn leaves them pending, silently). Errors:
// notFound, conflict, badRequest and the codes of docs/rules.md §4.
func (s *Service) Invite(ctx context.Context, actor *identity.User, id ID, nm chat.NewMember) (chat.Member, error) {
	m, err := s.organised(ctx, actor, id)
	if err != nil {
		return chat.Member{}, err
	}
	mb, err := s.Chats.InviteToMeeting(ctx, actor, m.ChatID, nm)
	if err != nil {
		return chat.Member{}, err
	}
	if mb.UserID == "" || mb.User.ExternalTo(actor) {
		s.audit(ctx, m.TenantID, actor.ID, "meeting.externalInvited", string(m.ID), map[string]any{"chatId": string(m.ChatID), "memberId": mb.ID})
	}
	return mb, nil
}

// Remove removes someone from a meeting (the organiser only): an anonymous
// participant's session ends at once, waiting or admitted; an invited
// person leaves the meeting chat. who is a user id, or the member id of
// the meeting chat (a pending person invited by address has only that).
// Errors: notFound, badRequest (the organiser).
func (s *Service) Remove(ctx context.Context, actor *identity.User, id ID, who identity.UserID) error {
	m, err := s.organised(ctx, actor, id)
	if err != nil {
		return err
	}
	return s.remove(ctx, actor, &m, string(who))
}

// RemoveChatMember is Graph's way to remove someone from a meeting: DELETE
// on a member of the meeting's chat, by member or user id. When chatID is
// the chat of a live meeting that actor organises it removes them as
// Remove does (ending an anonymous person's session) and reports handled;
// otherwise it leaves the request to the chat (handled false): a person
// leaving, or a chat that is no meeting's or whose meeting ended.
func (s *Service) RemoveChatMember(ctx context.Context, actor *identity.User, chatID chat.ID, key string) (handled bool, err error) {
	if actor.Kind == identity.Anonymous {
		return false, nil
	}
	m, err := s.Store.FindMeetingByChat(ctx, chatID)
	if errcode.Is(err, errcode.NotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remove from meeting chat %s: %w", chatID, err)
	}
	if m.OrganizerID != actor.ID || m.Ended() {
		return false, nil
	}
	return true, s.remove(ctx, actor, &m, key)
}

func (s *Service) remove(ctx context.Context, actor *identity.User, m *Meeting, key string) error {
	if key == "" {
		return errcode.New(errcode.NotFound, "No participant in this meeting.")
	}
	_, members, err := s.Chats.MeetingMembers(ctx, m.ChatID)
	if err != nil {
		return err
	}
	who := identity.UserID(key)
	var target *chat.Member
	for i := range members {
		if members[i].ID == key || (members[i].UserID != "" && string(members[i].UserID) == key) {
			target = &members[i]
			who = members[i].UserID
		}
	}
	if who == actor.ID {
		return errcode.New(errcode.BadRequest, "The organiser cannot be removed; end the meeting instead.")
	}
	p, err := s.Store.FindParticipant(ctx, who)
	switch {
	case err == nil && p.MeetingID == m.ID:
		if !p.State.Live() {
			return errcode.New(errcode.NotFound, "No participant %s in this meeting.", key)
		}
		from := p.State
		p.State, p.LeftAt = Removed, s.Now()
		evs, err := s.Store.MoveParticipant(ctx, p, from, append(s.lobbyDrafts(ctx, m), s.endDraft(m, p.UserID, "removed")))
		if errcode.Is(err, errcode.NotFound) {
			return errcode.New(errcode.NotFound, "No participant %s in this meeting.", key)
		}
		if err != nil {
			return fmt.Errorf("remove %s: %w", key, err)
		}
		s.Chats.Publish(ctx, evs)
		s.forget(p.UserID)
		if from == Admitted {
			if err := s.Chats.RemoveFromMeeting(ctx, m.ChatID, string(p.UserID), nil); err != nil {
				return err
			}
		}
		s.audit(ctx, m.TenantID, actor.ID, "meeting.anonymousRemoved", string(m.ID), map[string]any{"participantId": string(p.UserID), "displayName": p.DisplayName})
		return nil
	case err != nil && !errcode.Is(err, errcode.NotFound):
		return fmt.Errorf("remove %s: %w", key, err)
	}
	if target == nil {
		// A signed-in person waiting in the lobby leaves it, told so.
		pp, err := s.Store.FindLobbyPerson(ctx, m.ID, who)
		if err != nil && !errcode.Is(err, errcode.NotFound) {
			return fmt.Errorf("remove %s: %w", key, err)
		}
		if err != nil || pp.State != InLobby {
			return errcode.New(errcode.NotFound, "No participant %s in this meeting.", key)
		}
		pp.State, pp.DecidedAt = Removed, s.Now()
		evs, err := s.Store.MovePerson(ctx, pp, InLobby, append(s.lobbyDrafts(ctx, m), s.decidedDraft(m, pp.User.ID, Removed)))
		if errcode.Is(err, errcode.NotFound) {
			return errcode.New(errcode.NotFound, "No participant %s in this meeting.", key)
		}
		if err != nil {
			return fmt.Errorf("remove %s: %w", key, err)
		}
		s.Chats.Publish(ctx, evs)
		return nil
	}
	return s.Chats.RemoveFromMeeting(ctx, m.ChatID, target.ID, nil)
}

// Joined is the answer to an anonymous join.
type Joined struct {
	Token       string
	TTL         time.Duration
	Participant Participant
	Meeting     Meeting
}

// linkToken returns the secret of a join link given whole or alone.
func linkToken(link string) string {
	link = strings.TrimSpace(link)
	if i := strings.IndexAny(link, "?#"); i >= 0 {
		link = link[:i]
	}
	if i := strings.LastIndex(link, "/meet/"); i >= 0 {
		link = link[i+len("/meet/"):]
	}
	return strings.TrimRight(link, "/")
}

// cleanDisplayName checks the name an anonymous person typed.
func cleanDisplayName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errcode.New(errcode.BadRequest, "displayName is required: type the name others will see.")
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxDisplayNameRunes {
		return "", errcode.New(errcode.BadRequest, "displayName may have at most %d characters.", MaxDisplayNameRunes)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", errcode.New(errcode.BadRequest, "displayName may not hold control or invisible characters.")
		}
	}
	return s, nil
}

// limitKeys are the rate-limit keys of a join: the link (hashed: the
// limits table never holds a usable link) and the client address.
func limitKeys(token, client string) []string {
	h := sha256.Sum256([]byte(token))
	return []string{"meeting.join.link:" + hex.EncodeToString(h[:16]), "meeting.join.client:" + client}
}

// Join lets an anonymous person into a meeting through its link under the
// name they typed (docs/rules.md §8): when the host allows anonymous people, they
// get a session scoped to that meeting, waiting in the lobby unless the
// host's lobbyBypass lets them in. Errors: rateLimited (per link and per
// client address), badRequest, notFound (no such link, or the meeting
// ended), forbiddenByPolicy (the host does not allow anonymous people).
func (s *Service) Join(ctx context.Context, link, displayName, client string) (Joined, error) {
	token := linkToken(link)
	if token == "" || len(token) > 128 {
		return Joined{}, errcode.New(errcode.BadRequest, "joinWebUrl or token is required.")
	}
	name, err := cleanDisplayName(displayName)
	if err != nil {
		return Joined{}, err
	}
	now := s.Now()
	if err := s.take(ctx, now, token, client); err != nil {
		return Joined{}, err
	}
	m, err := s.Store.FindMeetingByToken(ctx, token)
	if err != nil && !errcode.Is(err, errcode.NotFound) {
		return Joined{}, fmt.Errorf("join meeting: %w", err)
	}
	if err != nil || s.over(ctx, &m) {
		return Joined{}, errcode.New(errcode.NotFound, "This meeting link is not valid: the meeting ended or the link was renewed.")
	}
	cfg, err := s.Store.FindMeetingConfig(ctx, m.TenantID)
	if err != nil {
		return Joined{}, fmt.Errorf("join meeting: %w", err)
	}
	if !cfg.AllowAnonymous {
		return Joined{}, errcode.New(errcode.ForbiddenByPolicy, "The organiser's organisation does not allow anonymous people to join its meetings; sign in to join.")
	}
	u := identity.User{ID: identity.NewUserID(), TenantID: m.TenantID, Kind: identity.Anonymous, Role: identity.RoleMember,
		DisplayName: name + identity.UnverifiedSuffix, CreatedAt: now}
	u.UPN = "anonymous:" + string(u.ID)
	p := Participant{UserID: u.ID, MeetingID: m.ID, DisplayName: u.DisplayName, State: InLobby, ArrivedAt: now}
	admitted := BypassesLobby(cfg.LobbyBypass, ArrivesAnonymous)
	var drafts []event.Draft
	if admitted {
		p.State, p.AdmittedAt = Admitted, now
	} else {
		drafts = s.lobbyDrafts(ctx, &m)
	}
	evs, err := s.Store.CreateParticipant(ctx, u, p, drafts)
	if err != nil {
		return Joined{}, fmt.Errorf("join meeting: %w", err)
	}
	s.Chats.Publish(ctx, evs)
	if admitted {
		if _, err := s.Chats.AdmitAnonymous(ctx, m.ChatID, &u, m.OrganizerID); err != nil {
			return Joined{}, err
		}
	}
	tok, ttl, err := s.Issue(ctx, u.ID, m.SessionEnd(s.grace()))
	if err != nil {
		return Joined{}, fmt.Errorf("join meeting: %w", err)
	}
	s.audit(ctx, m.TenantID, u.ID, "meeting.anonymousJoined", string(m.ID), map[string]any{"displayName": u.DisplayName, "state": string(p.State)})
	return Joined{Token: tok, TTL: ttl, Participant: p, Meeting: m}, nil
}

// SignedInJoin is the answer to a signed-in person's join by link.
type SignedInJoin struct {
	Meeting Meeting
	// State is "admitted" (in the meeting chat), "pending" (a message
	// request for the meeting chat waits for their answer, docs/rules.md
	// §4) or "lobby" (waiting for someone to admit them).
	State string
}

// JoinSignedIn lets a signed-in person into a meeting through its link
// (docs/rules.md §8): the organiser and people already in its chat are in;
// anyone else whom the host's lobbyBypass lets past the lobby is added to
// the meeting chat as if the organiser added them, decided by
// docs/rules.md §4–§6 through the chat's own path (an external person gets
// a message request; a refusal is told to the joiner as forbiddenByPolicy,
// and a silent refusal looks like a request, so nobody learns more than
// the rule of silence allows). Anyone lobbyBypass keeps waiting is first
// decided the same way without being added (a refusal answers the same),
// then waits in the lobby until someone who may admit lets them in
// (Admit) or not. Errors: unauthenticated (an anonymous session),
// rateLimited, badRequest, notFound, forbiddenByPolicy.
func (s *Service) JoinSignedIn(ctx context.Context, u *identity.User, link, client string) (SignedInJoin, error) {
	if u.Kind == identity.Anonymous {
		return SignedInJoin{}, errcode.New(errcode.Unauthenticated, "A valid bearer token is required.")
	}
	token := linkToken(link)
	if token == "" || len(token) > 128 {
		return SignedInJoin{}, errcode.New(errcode.BadRequest, "joinWebUrl or token is required.")
	}
	now := s.Now()
	if err := s.take(ctx, now, token, client); err != nil {
		return SignedInJoin{}, err
	}
	m, err := s.Store.FindMeetingByToken(ctx, token)
	if err != nil && !errcode.Is(err, errcode.NotFound) {
		return SignedInJoin{}, fmt.Errorf("join meeting: %w", err)
	}
	if err != nil || s.over(ctx, &m) {
		return SignedInJoin{}, errcode.New(errcode.NotFound, "This meeting link is not valid: the meeting ended or the link was renewed.")
	}
	_, members, err := s.Chats.MeetingMembers(ctx, m.ChatID)
	if err != nil {
		return SignedInJoin{}, err
	}
	var org *identity.User
	for i := range members {
		mb := &members[i]
		if mb.UserID == m.OrganizerID {
			org = &mb.User
		}
		if mb.UserID == u.ID {
			return SignedInJoin{Meeting: m, State: joinState(mb)}, nil
		}
	}
	if org == nil {
		return SignedInJoin{}, errcode.New(errcode.NotFound, "This meeting link is not valid: the meeting ended or the link was renewed.")
	}
	waiting, err := s.Store.FindLobbyPerson(ctx, m.ID, u.ID)
	if err != nil && !errcode.Is(err, errcode.NotFound) {
		return SignedInJoin{}, fmt.Errorf("join meeting: %w", err)
	}
	isWaiting := err == nil && waiting.State == InLobby
	cfg, err := s.Store.FindMeetingConfig(ctx, m.TenantID)
	if err != nil {
		return SignedInJoin{}, fmt.Errorf("join meeting: %w", err)
	}
	arrival := ArrivalOf(u, &m)
	nm := joinerMember(u, &m)
	if !BypassesLobby(cfg.LobbyBypass, arrival) {
		if isWaiting {
			return SignedInJoin{Meeting: m, State: string(InLobby)}, nil
		}
		// Decided now as the invitation the admission will be, so that a
		// person the organiser could not invite never waits, and the
		// organiser never sees them.
		if err := s.Chats.CheckMeetingInvite(ctx, org, m.ChatID, nm); err != nil && !errcode.Is(err, errcode.Conflict) {
			return SignedInJoin{}, refusedJoin(err)
		}
		entered, evs, err := s.Store.EnterLobby(ctx, Person{MeetingID: m.ID, User: *u, State: InLobby, ArrivedAt: now}, s.lobbyDrafts(ctx, &m))
		if err != nil {
			return SignedInJoin{}, fmt.Errorf("join meeting: %w", err)
		}
		s.Chats.Publish(ctx, evs)
		if entered && arrival != ArrivesHostMember {
			s.audit(ctx, m.TenantID, u.ID, "meeting.joinedByLink", string(m.ID), map[string]any{"chatId": string(m.ChatID), "userId": string(u.ID), "state": string(InLobby)})
		}
		return SignedInJoin{Meeting: m, State: string(InLobby)}, nil
	}
	mb, err := s.Chats.InviteToMeeting(ctx, org, m.ChatID, nm)
	switch {
	case errcode.Is(err, errcode.Conflict):
		return SignedInJoin{Meeting: m, State: "admitted"}, nil // joined twice at once
	case err != nil:
		return SignedInJoin{}, refusedJoin(err)
	}
	if isWaiting {
		// The setting changed while they waited: they are in, and out of
		// the lobby.
		waiting.State, waiting.DecidedAt = Admitted, s.Now()
		if evs, err := s.Store.MovePerson(ctx, waiting, InLobby, s.lobbyDrafts(ctx, &m)); err == nil {
			s.Chats.Publish(ctx, evs)
		}
	}
	if arrival != ArrivesHostMember {
		s.audit(ctx, m.TenantID, u.ID, "meeting.joinedByLink", string(m.ID), map[string]any{"chatId": string(m.ChatID), "memberId": mb.ID, "userId": string(u.ID), "state": joinState(&mb)})
	}
	return SignedInJoin{Meeting: m, State: joinState(&mb)}, nil
}

// joinerMember names a person joining by link as the organiser would
// invite them: a host member or guest by id, anyone else by their own
// address, since an id of another organisation names nobody to the
// organiser.
func joinerMember(u *identity.User, m *Meeting) chat.NewMember {
	if u.TenantID == m.TenantID {
		return chat.NewMember{UserID: u.ID}
	}
	if strings.Contains(u.UPN, "@") {
		return chat.NewMember{Email: u.UPN}
	}
	return chat.NewMember{Phone: u.UPN}
}

// refusedJoin is what a joiner learns of a refusal of their invitation:
// one answer whatever rule of docs/rules.md §4 refused it and on whichever
// side. Other errors (bad input, a full meeting) pass.
func refusedJoin(err error) error {
	switch {
	case errcode.Is(err, errcode.ForbiddenByPolicy), errcode.Is(err, errcode.RecipientUnavailable), errcode.Is(err, errcode.NotFound),
		errcode.Is(err, errcode.Forbidden), errcode.Is(err, errcode.ExternalMemberNotAllowed):
		return errcode.New(errcode.ForbiddenByPolicy, "You cannot join this meeting.")
	}
	return err
}

// joinState is where a member of a meeting chat stands: in it, or with a
// request waiting for their answer (held or not: the joiner is told the
// same, docs/rules.md §4 rule of silence).
func joinState(mb *chat.Member) string {
	if mb.State == chat.Accepted {
		return "admitted"
	}
	return "pending"
}

// take counts a join against the link's and the client's limits, both or
// neither, or answers rateLimited with the wait.
func (s *Service) take(ctx context.Context, now time.Time, token, client string) error {
	var retry time.Duration
	err := s.Store.UpdateLimits(ctx, limitKeys(token, client), now, func(st []limit.State) {
		l, c := st[0], st[1]
		w1, ok1 := s.Limits.PerLink.Take(&l, now, 1)
		w2, ok2 := s.Limits.PerClient.Take(&c, now, 1)
		if ok1 && ok2 {
			st[0], st[1] = l, c
			return
		}
		retry = max(w1, w2, time.Second)
	})
	if err != nil {
		return fmt.Errorf("limit joins: %w", err)
	}
	if retry > 0 {
		return errcode.RateLimit(retry, "Too many attempts to join; try again later.")
	}
	return nil
}

// lobbyDrafts tell the people who may admit (the organiser and host
// members in the meeting) that the lobby changed.
func (s *Service) lobbyDrafts(ctx context.Context, m *Meeting) []event.Draft {
	_, members, err := s.Chats.MeetingMembers(ctx, m.ChatID)
	if err != nil {
		return nil // best effort: clients also read the lobby
	}
	var drafts []event.Draft
	for i := range members {
		mb := &members[i]
		if mb.UserID == "" || mb.State != chat.Accepted || !MayAdmit(&mb.User, m, true) {
			continue
		}
		drafts = append(drafts, event.Draft{UserID: mb.UserID, Type: event.LobbyUpdated, ChatID: string(m.ChatID), Payload: payload(event.LobbyUpdated, m, nil)})
	}
	return drafts
}

// admitter returns a live meeting that actor may see the lobby of: its
// organiser, or a host member in it. Others in the meeting are forbidden;
// anyone else gets notFound.
func (s *Service) admitter(ctx context.Context, actor *identity.User, id ID) (Meeting, error) {
	m, err := s.Store.FindMeeting(ctx, id)
	if err != nil && !errcode.Is(err, errcode.NotFound) {
		return Meeting{}, fmt.Errorf("load meeting %s: %w", id, err)
	}
	if err != nil || m.Ended() || actor.Kind == identity.Anonymous {
		return Meeting{}, errcode.New(errcode.NotFound, "No meeting %s.", id)
	}
	if m.OrganizerID == actor.ID {
		return m, nil
	}
	_, members, err := s.Chats.MeetingMembers(ctx, m.ChatID)
	if err != nil {
		return Meeting{}, err
	}
	in := false
	for _, mb := range members {
		if mb.UserID == actor.ID && mb.State == chat.Accepted {
			in = true
		}
	}
	if !in {
		return Meeting{}, errcode.New(errcode.NotFound, "No meeting %s.", id)
	}
	if !MayAdmit(actor, &m, true) {
		return Meeting{}, errcode.New(errcode.Forbidden, "Only the organiser and people of the organiser's organisation can manage the lobby.")
	}
	return m, nil
}

// Waiting is one person in a meeting's lobby: an anonymous participant
// or a signed-in person who joined by the link.
type Waiting struct {
	Anonymous *Participant
	Person    *Person
}

// ID is the lobby entry's id: the waiting person's account id.
func (w *Waiting) ID() identity.UserID {
	if w.Anonymous != nil {
		return w.Anonymous.UserID
	}
	return w.Person.User.ID
}

func (w *Waiting) arrived() time.Time {
	if w.Anonymous != nil {
		return w.Anonymous.ArrivedAt
	}
	return w.Person.ArrivedAt
}

// Lobby lists the people waiting in a meeting's lobby, anonymous and
// signed in, first come first. Errors: notFound, forbidden.
func (s *Service) Lobby(ctx context.Context, actor *identity.User, id ID) ([]Waiting, error) {
	m, err := s.admitter(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	ps, err := s.Store.FindParticipants(ctx, m.ID)
	if err != nil {
		return nil, fmt.Errorf("lobby of %s: %w", id, err)
	}
	people, err := s.Store.FindLobbyPeople(ctx, m.ID)
	if err != nil {
		return nil, fmt.Errorf("lobby of %s: %w", id, err)
	}
	out := []Waiting{}
	for i := range ps {
		if ps[i].State == InLobby {
			out = append(out, Waiting{Anonymous: &ps[i]})
		}
	}
	if len(people) > 0 {
		_, members, err := s.Chats.MeetingMembers(ctx, m.ChatID)
		if err != nil {
			return nil, err
		}
		in := map[identity.UserID]bool{}
		for _, mb := range members {
			in[mb.UserID] = mb.UserID != ""
		}
		for i := range people {
			// Invited while they waited: they are in already.
			if people[i].State == InLobby && !in[people[i].User.ID] {
				out = append(out, Waiting{Person: &people[i]})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Waiting) int { return a.arrived().Compare(b.arrived()) })
	return out, nil
}

// Admit lets a waiting person into the meeting: they join its chat.
// Errors: notFound (no such person waiting), forbidden.
func (s *Service) Admit(ctx context.Context, actor *identity.User, id ID, who identity.UserID) error {
	return s.decideLobby(ctx, actor, id, who, true)
}

// Deny sends a waiting person away: their session ends. Errors: notFound,
// forbidden.
func (s *Service) Deny(ctx context.Context, actor *identity.User, id ID, who identity.UserID) error {
	return s.decideLobby(ctx, actor, id, who, false)
}

func (s *Service) decideLobby(ctx context.Context, actor *identity.User, id ID, who identity.UserID, admit bool) error {
	m, err := s.admitter(ctx, actor, id)
	if err != nil {
		return err
	}
	p, err := s.Store.FindParticipant(ctx, who)
	if err != nil && !errcode.Is(err, errcode.NotFound) {
		return fmt.Errorf("lobby of %s: %w", id, err)
	}
	if errcode.Is(err, errcode.NotFound) {
		return s.decidePerson(ctx, actor, &m, who, admit)
	}
	if p.MeetingID != m.ID || p.State != InLobby {
		return errcode.New(errcode.NotFound, "Nobody %s is waiting in this lobby.", who)
	}
	now := s.Now()
	drafts := s.lobbyDrafts(ctx, &m)
	action := "meeting.lobbyAdmitted"
	if admit {
		p.State, p.AdmittedAt = Admitted, now
	} else {
		p.State, p.LeftAt = Denied, now
		drafts = append(drafts, s.endDraft(&m, p.UserID, "denied"))
		action = "meeting.lobbyDenied"
	}
	// Moved only from the lobby, inside the write: of two admits (or an
	// admit and a deny) arriving together, one decides.
	evs, err := s.Store.MoveParticipant(ctx, p, InLobby, drafts)
	if errcode.Is(err, errcode.NotFound) {
		return errcode.New(errcode.NotFound, "Nobody %s is waiting in this lobby.", who)
	}
	if err != nil {
		return fmt.Errorf("lobby of %s: %w", id, err)
	}
	s.Chats.Publish(ctx, evs)
	if admit {
		u := identity.User{ID: p.UserID, TenantID: m.TenantID, Kind: identity.Anonymous, Role: identity.RoleMember, DisplayName: p.DisplayName, UPN: "anonymous:" + string(p.UserID), CreatedAt: p.ArrivedAt}
		if _, err := s.Chats.AdmitAnonymous(ctx, m.ChatID, &u, actor.ID); err != nil {
			return err
		}
	} else {
		s.forget(p.UserID)
	}
	s.audit(ctx, m.TenantID, actor.ID, action, string(m.ID), map[string]any{"participantId": string(p.UserID), "displayName": p.DisplayName})
	return nil
}

// decidePerson admits or denies a signed-in person waiting in m's lobby.
// Admitting moves them out of the lobby first (of two decisions at once,
// one wins; the other is notFound), then adds them to the meeting chat as
// the organiser's invitation, decided by docs/rules.md §4 again since a
// policy may have changed while they waited: a refusal then sends them
// away (denied) and answers the admitter as an invitation would.
func (s *Service) decidePerson(ctx context.Context, actor *identity.User, m *Meeting, who identity.UserID, admit bool) error {
	p, err := s.Store.FindLobbyPerson(ctx, m.ID, who)
	if err != nil && !errcode.Is(err, errcode.NotFound) {
		return fmt.Errorf("lobby of %s: %w", m.ID, err)
	}
	if err != nil || p.State != InLobby {
		return errcode.New(errcode.NotFound, "Nobody %s is waiting in this lobby.", who)
	}
	p.State, p.DecidedAt = Denied, s.Now()
	action := "meeting.lobbyDenied"
	if admit {
		p.State, action = Admitted, "meeting.lobbyAdmitted"
	}
	drafts := append(s.lobbyDrafts(ctx, m), s.decidedDraft(m, p.User.ID, p.State))
	evs, err := s.Store.MovePerson(ctx, p, InLobby, drafts)
	if errcode.Is(err, errcode.NotFound) {
		return errcode.New(errcode.NotFound, "Nobody %s is waiting in this lobby.", who)
	}
	if err != nil {
		return fmt.Errorf("lobby of %s: %w", m.ID, err)
	}
	s.Chats.Publish(ctx, evs)
	details := map[string]any{"participantId": string(p.User.ID), "userId": string(p.User.ID), "displayName": p.User.DisplayName}
	if admit {
		org, err := s.organizer(ctx, m)
		if err == nil {
			_, err = s.Chats.InviteToMeeting(ctx, org, m.ChatID, joinerMember(&p.User, m))
		}
		if err != nil && !errcode.Is(err, errcode.Conflict) {
			p.State = Denied
			if evs, err2 := s.Store.MovePerson(ctx, p, Admitted, []event.Draft{s.decidedDraft(m, p.User.ID, Denied)}); err2 == nil {
				s.Chats.Publish(ctx, evs)
			} else if s.Log != nil {
				s.Log.Error("meetings: send away a person whose admission was refused", "meeting", string(m.ID), "err", err2)
			}
			return err
		}
	}
	s.audit(ctx, m.TenantID, actor.ID, action, string(m.ID), details)
	return nil
}

// organizer returns the organiser of m as its chat knows them.
func (s *Service) organizer(ctx context.Context, m *Meeting) (*identity.User, error) {
	_, members, err := s.Chats.MeetingMembers(ctx, m.ChatID)
	if err != nil {
		return nil, err
	}
	for i := range members {
		if members[i].UserID == m.OrganizerID {
			return &members[i].User, nil
		}
	}
	return nil, errcode.New(errcode.NotFound, "No meeting %s.", m.ID)
}

// Attendee is one line of a meeting's roster.
type Attendee struct {
	// Member is the invited person's (or admitted anonymous person's)
	// membership of the meeting chat; zero for an anonymous person who
	// is not (or no longer) in it.
	Member chat.Member
	// Participant is set for anonymous people.
	Participant *Participant
	// Person is set for signed-in people who came to the lobby and were
	// not let in (waiting, denied, removed, or the meeting ended while
	// they waited).
	Person    *Person
	Organizer bool
}

// Attendance is a meeting's roster: the organiser, every person invited
// (with their state: pending, accepted) and every anonymous person who
// came (waiting, admitted, denied, removed), with when they joined and
// left. For the organiser and host members in the meeting. Errors:
// notFound, forbidden.
func (s *Service) Attendance(ctx context.Context, actor *identity.User, id ID) (Meeting, []Attendee, error) {
	m, err := s.admitter(ctx, actor, id)
	if err != nil {
		return Meeting{}, nil, err
	}
	_, members, err := s.Chats.MeetingMembers(ctx, m.ChatID)
	if err != nil {
		return Meeting{}, nil, err
	}
	ps, err := s.Store.FindParticipants(ctx, m.ID)
	if err != nil {
		return Meeting{}, nil, fmt.Errorf("attendance of %s: %w", id, err)
	}
	var out []Attendee
	byUser := map[identity.UserID]chat.Member{}
	for _, mb := range members {
		if mb.User.Kind == identity.Anonymous {
			byUser[mb.UserID] = mb
			continue
		}
		out = append(out, Attendee{Member: mb, Organizer: mb.UserID == m.OrganizerID})
	}
	for i := range ps {
		out = append(out, Attendee{Member: byUser[ps[i].UserID], Participant: &ps[i]})
	}
	people, err := s.Store.FindLobbyPeople(ctx, m.ID)
	if err != nil {
		return Meeting{}, nil, fmt.Errorf("attendance of %s: %w", id, err)
	}
	for i := range people {
		// Admitted, they are (or were, as anyone invited) the chat's.
		if people[i].State != Admitted && !slices.ContainsFunc(members, func(mb chat.Member) bool { return mb.UserID == people[i].User.ID }) {
			out = append(out, Attendee{Person: &people[i]})
		}
	}
	return m, out, nil
}

// Scope is what an anonymous session reaches: one meeting chat, once
// admitted (docs/rules.md §8).
type Scope struct {
	ChatID    chat.ID
	MeetingID ID
	State     State
}

// ScopeOf returns the scope of an anonymous account's session. A session
// that ended (the meeting ended, they were denied or removed) is
// unauthenticated, as a token that does not exist.
func (s *Service) ScopeOf(ctx context.Context, u *identity.User) (Scope, error) {
	p, err := s.Store.FindParticipant(ctx, u.ID)
	if errcode.Is(err, errcode.NotFound) || (err == nil && !p.State.Live()) {
		return Scope{}, errcode.New(errcode.Unauthenticated, "The access token is not valid.")
	}
	if err != nil {
		return Scope{}, fmt.Errorf("session scope: %w", err)
	}
	m, err := s.Store.FindMeeting(ctx, p.MeetingID)
	if errcode.Is(err, errcode.NotFound) || (err == nil && s.over(ctx, &m)) {
		return Scope{}, errcode.New(errcode.Unauthenticated, "The access token is not valid.")
	}
	if err != nil {
		return Scope{}, fmt.Errorf("session scope: %w", err)
	}
	return Scope{ChatID: m.ChatID, MeetingID: m.ID, State: p.State}, nil
}

// ConfigPatch is a change of a tenant's meeting settings; nil fields stay.
type ConfigPatch struct {
	AllowAnonymous *bool
	LobbyBypass    *Bypass
	AnonymousApps  *bool
}

func requireAdmin(actor *identity.User) error {
	if !actor.IsAdmin() {
		return errcode.New(errcode.Forbidden, "Only organisation admins can do this.")
	}
	return nil
}

// Config returns the admin's tenant's meeting settings. Errors: forbidden.
func (s *Service) Config(ctx context.Context, actor *identity.User) (Config, error) {
	if err := requireAdmin(actor); err != nil {
		return Config{}, err
	}
	c, err := s.Store.FindMeetingConfig(ctx, actor.TenantID)
	if err != nil {
		return Config{}, fmt.Errorf("meeting settings: %w", err)
	}
	return c, nil
}

// UpdateConfig changes the admin's tenant's meeting settings, audited; they
// act on the next join and lobby decision. Errors: forbidden, badRequest.
func (s *Service) UpdateConfig(ctx context.Context, actor *identity.User, p ConfigPatch) (Config, error) {
	if err := requireAdmin(actor); err != nil {
		return Config{}, err
	}
	if p.LobbyBypass != nil && !p.LobbyBypass.Valid() {
		return Config{}, errcode.New(errcode.BadRequest, "lobbyBypass must be organizer, organization or everyone.")
	}
	c, err := s.Store.FindMeetingConfig(ctx, actor.TenantID)
	if err != nil {
		return Config{}, fmt.Errorf("meeting settings: %w", err)
	}
	before := c
	if p.AllowAnonymous != nil {
		c.AllowAnonymous = *p.AllowAnonymous
	}
	if p.LobbyBypass != nil {
		c.LobbyBypass = *p.LobbyBypass
	}
	if p.AnonymousApps != nil {
		c.AnonymousApps = *p.AnonymousApps
	}
	if err := s.Store.SaveMeetingConfig(ctx, actor.TenantID, c); err != nil {
		return Config{}, fmt.Errorf("meeting settings: %w", err)
	}
	s.audit(ctx, actor.TenantID, actor.ID, "meetingConfiguration.updated", string(actor.TenantID), map[string]any{"before": ConfigMap(before), "after": ConfigMap(c)})
	if s.Changed != nil {
		s.Changed(ctx, actor.TenantID)
	}
	return c, nil
}

// ConfigMap is the settings as the API names them (audit details, CLI).
func ConfigMap(c Config) map[string]any {
	return map[string]any{"allowAnonymousUsersToJoinMeeting": c.AllowAnonymous, "lobbyBypass": string(c.LobbyBypass), "anonymousUsersCanInteractWithApps": c.AnonymousApps}
}
