package httpapi

import (
	"cmp"
	"net/http"
	"strings"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/meeting"
)

// routesMeetings registers online meetings (Graph onlineMeeting), the
// anonymous join, the lobby, the roster and the tenant's meeting settings.
func (a *API) routesMeetings() {
	a.handle("POST /v1.0/me/onlineMeetings", a.authed(a.createMeeting))
	a.handle("GET /v1.0/me/onlineMeetings", a.authed(a.listMeetings))
	a.handle("GET /v1.0/me/onlineMeetings/{id}", a.authed(a.getMeeting))
	a.handle("PATCH /v1.0/me/onlineMeetings/{id}", a.authed(a.updateMeeting))
	a.handle("DELETE /v1.0/me/onlineMeetings/{id}", a.authed(a.endMeeting))
	a.handle("POST /parley/v1/meetings/join", a.joinMeeting)
	a.handle("POST /parley/v1/meetings/{id}/renewJoinLink", a.authed(a.renewJoinLink))
	a.handle("POST /parley/v1/meetings/{id}/participants", a.authed(a.inviteToMeeting))
	a.handle("DELETE /parley/v1/meetings/{id}/participants/{pid}", a.authed(a.removeFromMeeting))
	a.handle("GET /parley/v1/meetings/{id}/attendance", a.authed(a.meetingAttendance))
	a.handle("GET /parley/v1/meetings/{id}/lobby", a.authed(a.meetingLobby))
	a.handle("POST /parley/v1/meetings/{id}/lobby/{pid}/admit", a.authed(a.lobbyDecision(true)))
	a.handle("POST /parley/v1/meetings/{id}/lobby/{pid}/deny", a.authed(a.lobbyDecision(false)))
	a.handle("GET /parley/v1/admin/meetingConfiguration", a.authed(a.getMeetingConfig))
	a.handle("PATCH /parley/v1/admin/meetingConfiguration", a.authed(a.updateMeetingConfig))
}

// anonymousRoutes are what an anonymous meeting session may call, and only
// on its own meeting's chat (docs/rules.md §8): the chat, its members and its
// messages. Every other route answers as for no token.
var anonymousRoutes = map[string]bool{
	"GET /v1.0/chats/{id}":                               true,
	"GET /v1.0/chats/{id}/members":                       true,
	"GET /v1.0/chats/{id}/messages":                      true,
	"POST /v1.0/chats/{id}/messages":                     true,
	"GET /v1.0/chats/{id}/messages/{mid}":                true,
	"PATCH /v1.0/chats/{id}/messages/{mid}":              true,
	"DELETE /v1.0/chats/{id}/messages/{mid}":             true,
	"POST /v1.0/chats/{id}/messages/{mid}/softDelete":    true,
	"POST /v1.0/chats/{id}/markChatReadForUser":          true,
	"POST /v1.0/chats/{id}/markChatUnreadForUser":        true,
	"POST /parley/v1/chats/{id}/typing":                  true,
	"POST /v1.0/chats/{id}/messages/{mid}/setReaction":   true,
	"POST /v1.0/chats/{id}/messages/{mid}/unsetReaction": true,
	// Apps (docs/rules.md §9): anonymous people see the meeting's apps and
	// act on cards; an install is refused by the table, not the scope.
	"GET /v1.0/chats/{id}/installedApps":                             true,
	"POST /v1.0/chats/{id}/installedApps":                            true,
	"POST /parley/v1/chats/{id}/messages/{mid}/cardActions":          true,
	"POST /parley/v1/chats/{id}/apps/{appId}/composeExtensionQuery":  true,
	"POST /parley/v1/chats/{id}/apps/{appId}/composeExtensionAction": true,
}

// anonymousScope holds an anonymous session to its meeting's chat
// (docs/rules.md §8): any other route, or another chat, is unauthenticated, as
// for no token; its own chat is forbidden while they wait in the lobby; a
// session that ended is unauthenticated everywhere.
func (a *API) anonymousScope(r *http.Request, u *identity.User) error {
	none := errcode.New(errcode.Unauthenticated, "A valid bearer token is required.")
	if a.Meetings == nil || !anonymousRoutes[r.Pattern] {
		return none
	}
	sc, err := a.Meetings.ScopeOf(r.Context(), u)
	if err != nil {
		return err
	}
	if chat.ID(r.PathValue("id")) != sc.ChatID {
		return none
	}
	if sc.State != meeting.Admitted {
		return errcode.New(errcode.Forbidden, "You are waiting in the lobby; someone in the meeting will let you in.")
	}
	return nil
}

// meetingIn is Graph's onlineMeeting as clients send it.
type meetingIn struct {
	Subject       *string `json:"subject"`
	StartDateTime *string `json:"startDateTime"`
	EndDateTime   *string `json:"endDateTime"`
	Participants  *struct {
		Attendees []participantIn `json:"attendees"`
	} `json:"participants"`
}

// participantIn is Graph's meetingParticipantInfo (identity.user.id or
// upn), or Parley's email / phoneNumber / userId.
type participantIn struct {
	Identity *struct {
		User *struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"identity"`
	UPN                         string `json:"upn"`
	UserID                      string `json:"userId"`
	Email                       string `json:"email"`
	PhoneNumber                 string `json:"phoneNumber"`
	VisibleHistoryStartDateTime string `json:"visibleHistoryStartDateTime"`
}

func (p participantIn) domain() (chat.NewMember, error) {
	var nm chat.NewMember
	switch {
	case p.Identity != nil && p.Identity.User != nil && p.Identity.User.ID != "":
		nm.UserID = identity.UserID(p.Identity.User.ID)
	case p.UserID != "":
		nm.UserID = identity.UserID(p.UserID)
	case p.Email != "" || p.PhoneNumber != "":
		nm.Email, nm.Phone = p.Email, p.PhoneNumber
	case strings.Contains(p.UPN, "@"):
		nm.Email = p.UPN
	case p.UPN != "":
		nm.Phone = p.UPN
	default:
		return chat.NewMember{}, errcode.New(errcode.BadRequest, "Each participant needs identity.user.id, upn, email or phoneNumber.")
	}
	if p.VisibleHistoryStartDateTime != "" {
		t, err := time.Parse(time.RFC3339Nano, p.VisibleHistoryStartDateTime)
		if err != nil {
			return chat.NewMember{}, errcode.New(errcode.BadRequest, "visibleHistoryStartDateTime must be an ISO 8601 date-time.")
		}
		nm.VisibleFrom = &t
	}
	return nm, nil
}

func parseTime(v *string, field string) (*time.Time, error) {
	if v == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *v)
	if err != nil {
		return nil, errcode.New(errcode.BadRequest, "%s must be an ISO 8601 date-time with a time zone (2026-05-01T09:00:00Z).", field)
	}
	return &t, nil
}

// participantInfo is Graph's meetingParticipantInfo, plus Parley's fields.
type participantInfo struct {
	Identity struct {
		User *graph.Identity `json:"user"`
	} `json:"identity"`
	UPN          *string `json:"upn"`
	Role         string  `json:"role"`
	RequestState string  `json:"requestState,omitempty"`
	IsExternal   bool    `json:"isExternal"`
}

// newParticipantInfo shows a meeting chat member as viewer may see them:
// a pending person only by the address typed (docs/rules.md §4 rule of silence).
func newParticipantInfo(m *chat.Member, viewer *identity.User, role string) participantInfo {
	gm := graph.NewMember(m, viewer)
	out := participantInfo{UPN: gm.Email, Role: role, RequestState: gm.RequestState, IsExternal: gm.IsExternal}
	id := ""
	if gm.UserID != nil {
		id = *gm.UserID
	}
	out.Identity.User = &graph.Identity{ID: id, DisplayName: gm.DisplayName, UserIdentityType: gm.UserIdentityType, TenantID: gm.TenantID, IsExternal: gm.IsExternal}
	return out
}

type meetingOut struct {
	ID               string  `json:"id"`
	Subject          string  `json:"subject"`
	StartDateTime    *string `json:"startDateTime"`
	EndDateTime      *string `json:"endDateTime"`
	CreationDateTime *string `json:"creationDateTime"`
	JoinWebURL       string  `json:"joinWebUrl"`
	ChatInfo         struct {
		ThreadID  string `json:"threadId"`
		MessageID string `json:"messageId"`
	} `json:"chatInfo"`
	Participants struct {
		Organizer participantInfo   `json:"organizer"`
		Attendees []participantInfo `json:"attendees"`
	} `json:"participants"`
	LobbyBypassSettings struct {
		Scope string `json:"scope"`
	} `json:"lobbyBypassSettings"`
}

func (a *API) newMeetingOut(r *http.Request, v *meeting.View) meetingOut {
	me := userOf(r)
	out := meetingOut{ID: string(v.ID), Subject: v.Subject, StartDateTime: graph.Time(v.Start), EndDateTime: graph.Time(v.End),
		CreationDateTime: graph.Time(v.CreatedAt), JoinWebURL: v.JoinWebURL}
	out.ChatInfo.ThreadID, out.ChatInfo.MessageID = string(v.ChatID), "0"
	out.Participants.Organizer = newParticipantInfo(&v.Organizer, me, "presenter")
	out.Participants.Attendees = make([]participantInfo, 0, len(v.Attendees))
	for i := range v.Attendees {
		out.Participants.Attendees = append(out.Participants.Attendees, newParticipantInfo(&v.Attendees[i], me, "attendee"))
	}
	out.LobbyBypassSettings.Scope = string(v.LobbyBypass)
	return out
}

func (a *API) writeMeeting(w http.ResponseWriter, r *http.Request, status int, v meeting.View) error {
	writeJSON(w, status, a.newMeetingOut(r, &v))
	return nil
}

func (a *API) createMeeting(w http.ResponseWriter, r *http.Request) error {
	var in meetingIn
	if err := decode(r, &in); err != nil {
		return err
	}
	var nm meeting.NewMeeting
	if in.Subject != nil {
		nm.Subject = *in.Subject
	}
	var err error
	if nm.Start, err = parseTime(in.StartDateTime, "startDateTime"); err != nil {
		return err
	}
	if nm.End, err = parseTime(in.EndDateTime, "endDateTime"); err != nil {
		return err
	}
	if in.Participants != nil {
		for _, p := range in.Participants.Attendees {
			m, err := p.domain()
			if err != nil {
				return err
			}
			nm.Invitees = append(nm.Invitees, m)
		}
	}
	v, err := a.Meetings.Create(r.Context(), userOf(r), nm)
	if err != nil {
		return err
	}
	return a.writeMeeting(w, r, http.StatusCreated, v)
}

// listMeetings lists the meetings the caller organises, oldest first,
// paged by $top and @odata.nextLink.
func (a *API) listMeetings(w http.ResponseWriter, r *http.Request) error {
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	var after meeting.Cursor
	t, id, ok, err := timeIDSkipToken(r)
	if err != nil {
		return err
	}
	if ok {
		after = meeting.Cursor{CreatedAt: t, ID: meeting.ID(id)}
	}
	vs, more, err := a.Meetings.List(r.Context(), userOf(r), after, limit)
	if err != nil {
		return err
	}
	out := page[meetingOut]{Value: make([]meetingOut, 0, len(vs))}
	for i := range vs {
		out.Value = append(out.Value, a.newMeetingOut(r, &vs[i]))
	}
	if more {
		last := vs[len(vs)-1]
		out.NextLink = a.nextLink(r, makeSkipToken(timeKey(last.CreatedAt), string(last.ID)))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getMeeting(w http.ResponseWriter, r *http.Request) error {
	v, err := a.Meetings.Get(r.Context(), userOf(r), meeting.ID(r.PathValue("id")))
	if err != nil {
		return err
	}
	return a.writeMeeting(w, r, http.StatusOK, v)
}

func (a *API) updateMeeting(w http.ResponseWriter, r *http.Request) error {
	var in meetingIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Participants != nil {
		return errcode.New(errcode.BadRequest, "Invite people with POST /parley/v1/meetings/{id}/participants or the meeting chat's members.")
	}
	var p meeting.Patch
	p.Subject = in.Subject
	var err error
	if p.Start, err = parseTime(in.StartDateTime, "startDateTime"); err != nil {
		return err
	}
	if p.End, err = parseTime(in.EndDateTime, "endDateTime"); err != nil {
		return err
	}
	v, err := a.Meetings.Update(r.Context(), userOf(r), meeting.ID(r.PathValue("id")), p)
	if err != nil {
		return err
	}
	return a.writeMeeting(w, r, http.StatusOK, v)
}

func (a *API) endMeeting(w http.ResponseWriter, r *http.Request) error {
	if err := a.Meetings.End(r.Context(), userOf(r), meeting.ID(r.PathValue("id"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) renewJoinLink(w http.ResponseWriter, r *http.Request) error {
	v, err := a.Meetings.RenewLink(r.Context(), userOf(r), meeting.ID(r.PathValue("id")))
	if err != nil {
		return err
	}
	return a.writeMeeting(w, r, http.StatusOK, v)
}

func (a *API) inviteToMeeting(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		UserID                      string `json:"userId"`
		Email                       string `json:"email"`
		PhoneNumber                 string `json:"phoneNumber"`
		VisibleHistoryStartDateTime string `json:"visibleHistoryStartDateTime"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	nm, err := participantIn{UserID: in.UserID, Email: in.Email, PhoneNumber: in.PhoneNumber, VisibleHistoryStartDateTime: in.VisibleHistoryStartDateTime}.domain()
	if err != nil {
		return err
	}
	me := userOf(r)
	m, err := a.Meetings.Invite(r.Context(), me, meeting.ID(r.PathValue("id")), nm)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, graph.NewMember(&m, me))
	return nil
}

func (a *API) removeFromMeeting(w http.ResponseWriter, r *http.Request) error {
	if err := a.Meetings.Remove(r.Context(), userOf(r), meeting.ID(r.PathValue("id")), identity.UserID(r.PathValue("pid"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type joinOut struct {
	AccessToken   string `json:"access_token,omitempty"`
	TokenType     string `json:"token_type,omitempty"`
	ExpiresIn     int64  `json:"expires_in,omitempty"`
	State         string `json:"state"`
	MeetingID     string `json:"meetingId"`
	ParticipantID string `json:"participantId"`
	DisplayName   string `json:"displayName"`
	ChatInfo      struct {
		ThreadID string `json:"threadId"`
	} `json:"chatInfo"`
}

// joinMeeting is the anonymous join through a meeting's link: no token.
func (a *API) joinMeeting(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		JoinWebURL  string `json:"joinWebUrl"`
		Token       string `json:"token"`
		DisplayName string `json:"displayName"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.JoinWebURL != "" && in.Token != "" {
		return errcode.New(errcode.BadRequest, "Give either joinWebUrl or token, not both.")
	}
	if bearer := BearerToken(r, false); bearer != "" {
		// A signed-in person joins as themselves (no displayName, no new
		// token): an invalid or anonymous token is 401.
		u, err := a.Auth.Authenticate(r.Context(), bearer)
		if err != nil {
			return err
		}
		j, err := a.Meetings.JoinSignedIn(r.Context(), &u, in.JoinWebURL+in.Token, clientAddr(r))
		if err != nil {
			return err
		}
		out := joinOut{State: j.State, MeetingID: string(j.Meeting.ID), ParticipantID: string(u.ID), DisplayName: u.DisplayName}
		out.ChatInfo.ThreadID = string(j.Meeting.ChatID)
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	j, err := a.Meetings.Join(r.Context(), in.JoinWebURL+in.Token, in.DisplayName, clientAddr(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	out := joinOut{AccessToken: j.Token, TokenType: "Bearer", ExpiresIn: int64(j.TTL.Seconds()), State: string(j.Participant.State),
		MeetingID: string(j.Meeting.ID), ParticipantID: string(j.Participant.UserID), DisplayName: j.Participant.DisplayName}
	out.ChatInfo.ThreadID = string(j.Meeting.ChatID)
	writeJSON(w, http.StatusAccepted, out)
	return nil
}

// lobbyEntry is one person waiting in a meeting's lobby. userId is null
// for an anonymous person (userIdentityType anonymousGuest), and the
// account's id for a signed-in person (then also the entry's id), shown
// with their address, organisation and marks as a chat member is.
type lobbyEntry struct {
	ID               string  `json:"id"`
	DisplayName      string  `json:"displayName"`
	UserIdentityType string  `json:"userIdentityType"`
	JoinedDateTime   *string `json:"joinedDateTime"`
	UserID           *string `json:"userId"`
	Email            *string `json:"email"`
	TenantID         *string `json:"tenantId"`
	IsExternal       bool    `json:"isExternal"`
	IsGuest          bool    `json:"isGuest"`
}

func newLobbyEntry(w *meeting.Waiting, viewer *identity.User) lobbyEntry {
	if p := w.Anonymous; p != nil {
		return lobbyEntry{ID: string(p.UserID), DisplayName: p.DisplayName, UserIdentityType: "anonymousGuest", JoinedDateTime: graph.Time(p.ArrivedAt), IsExternal: true}
	}
	u := &w.Person.User
	id := string(u.ID)
	e := lobbyEntry{ID: id, DisplayName: u.DisplayName, UserIdentityType: u.IdentityType(viewer), JoinedDateTime: graph.Time(w.Person.ArrivedAt),
		UserID: &id, IsExternal: u.ExternalTo(viewer), IsGuest: u.Kind == identity.Guest}
	if addr := cmp.Or(u.Mail, u.Phone, u.UPN); addr != "" {
		e.Email = &addr
	}
	if u.TenantID != "" {
		t := string(u.TenantID)
		e.TenantID = &t
	}
	return e
}

func (a *API) meetingLobby(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	ws, err := a.Meetings.Lobby(r.Context(), me, meeting.ID(r.PathValue("id")))
	if err != nil {
		return err
	}
	out := page[lobbyEntry]{Value: make([]lobbyEntry, 0, len(ws))}
	for i := range ws {
		out.Value = append(out.Value, newLobbyEntry(&ws[i], me))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) lobbyDecision(admit bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, who := meeting.ID(r.PathValue("id")), identity.UserID(r.PathValue("pid"))
		var err error
		if admit {
			err = a.Meetings.Admit(r.Context(), userOf(r), id, who)
		} else {
			err = a.Meetings.Deny(r.Context(), userOf(r), id, who)
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// attendanceEntry is one line of the roster.
type attendanceEntry struct {
	ID               string  `json:"id"`
	DisplayName      string  `json:"displayName"`
	Email            *string `json:"email"`
	UserIdentityType string  `json:"userIdentityType"`
	TenantID         *string `json:"tenantId"`
	IsExternal       bool    `json:"isExternal"`
	Role             string  `json:"role"`
	State            string  `json:"state"`
	InvitedDateTime  *string `json:"invitedDateTime"`
	JoinedDateTime   *string `json:"joinedDateTime"`
	LeftDateTime     *string `json:"leftDateTime"`
}

func (a *API) meetingAttendance(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	_, as, err := a.Meetings.Attendance(r.Context(), me, meeting.ID(r.PathValue("id")))
	if err != nil {
		return err
	}
	out := page[attendanceEntry]{Value: make([]attendanceEntry, 0, len(as))}
	for _, at := range as {
		if p := at.Participant; p != nil {
			e := attendanceEntry{ID: string(p.UserID), DisplayName: p.DisplayName, UserIdentityType: "anonymousGuest", IsExternal: true,
				Role: "anonymous", State: string(p.State), JoinedDateTime: graph.Time(p.AdmittedAt), LeftDateTime: graph.Time(p.LeftAt)}
			out.Value = append(out.Value, e)
			continue
		}
		if p := at.Person; p != nil {
			le := newLobbyEntry(&meeting.Waiting{Person: p}, me)
			e := attendanceEntry{ID: le.ID, DisplayName: le.DisplayName, Email: le.Email, UserIdentityType: le.UserIdentityType, TenantID: le.TenantID,
				IsExternal: le.IsExternal, Role: "attendee", State: string(p.State)}
			if p.State != meeting.InLobby {
				e.LeftDateTime = graph.Time(p.DecidedAt)
			}
			out.Value = append(out.Value, e)
			continue
		}
		gm := graph.NewMember(&at.Member, me)
		e := attendanceEntry{ID: at.Member.ID, DisplayName: gm.DisplayName, Email: gm.Email, UserIdentityType: gm.UserIdentityType,
			TenantID: gm.TenantID, IsExternal: gm.IsExternal, Role: "attendee", State: gm.RequestState, InvitedDateTime: graph.Time(at.Member.JoinedAt)}
		if gm.UserID != nil {
			e.ID = *gm.UserID
		}
		if at.Organizer {
			e.Role = "organizer"
		}
		if at.Member.State == chat.Accepted {
			e.JoinedDateTime = graph.Time(at.Member.JoinedAt)
		}
		out.Value = append(out.Value, e)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type meetingConfigOut struct {
	AllowAnonymousUsersToJoinMeeting  bool   `json:"allowAnonymousUsersToJoinMeeting"`
	LobbyBypass                       string `json:"lobbyBypass"`
	AnonymousUsersCanInteractWithApps bool   `json:"anonymousUsersCanInteractWithApps"`
}

func newMeetingConfigOut(c meeting.Config) meetingConfigOut {
	return meetingConfigOut{c.AllowAnonymous, string(c.LobbyBypass), c.AnonymousApps}
}

func (a *API) getMeetingConfig(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Meetings.Config(r.Context(), userOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newMeetingConfigOut(c))
	return nil
}

func (a *API) updateMeetingConfig(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		AllowAnonymousUsersToJoinMeeting  *bool   `json:"allowAnonymousUsersToJoinMeeting"`
		LobbyBypass                       *string `json:"lobbyBypass"`
		AnonymousUsersCanInteractWithApps *bool   `json:"anonymousUsersCanInteractWithApps"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	p := meeting.ConfigPatch{AllowAnonymous: in.AllowAnonymousUsersToJoinMeeting, AnonymousApps: in.AnonymousUsersCanInteractWithApps}
	if in.LobbyBypass != nil {
		b := meeting.Bypass(*in.LobbyBypass)
		p.LobbyBypass = &b
	}
	c, err := a.Meetings.UpdateConfig(r.Context(), userOf(r), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newMeetingConfigOut(c))
	return nil
}
