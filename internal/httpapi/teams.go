package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/team"
)

// routesTeams lists teams, their members, channels and channel messages
// (Graph v1.0 shapes), channel read marks, and the admin's list of the
// organisation's teams.
func (a *API) routesTeams() {
	a.handle("POST /v1.0/teams", a.authed(a.createTeam))
	a.handle("GET /v1.0/teams", a.authed(a.listJoinedTeams))
	a.handle("GET /v1.0/me/joinedTeams", a.authed(a.listJoinedTeams))
	a.handle("GET /v1.0/teams/{id}", a.authed(a.getTeam))
	a.handle("PATCH /v1.0/teams/{id}", a.authed(a.updateTeam))
	a.handle("GET /v1.0/teams/{id}/members", a.authed(a.listTeamMembers))
	a.handle("POST /v1.0/teams/{id}/members", a.authed(a.addTeamMember))
	a.handle("GET /v1.0/teams/{id}/members/{mid}", a.authed(a.getTeamMember))
	a.handle("PATCH /v1.0/teams/{id}/members/{mid}", a.authed(a.updateTeamMember))
	a.handle("DELETE /v1.0/teams/{id}/members/{mid}", a.authed(a.removeTeamMember))
	a.handle("GET /v1.0/teams/{id}/primaryChannel", a.authed(a.getPrimaryChannel))
	a.handle("GET /v1.0/teams/{id}/channels", a.authed(a.listChannels))
	a.handle("POST /v1.0/teams/{id}/channels", a.authed(a.createChannel))
	a.handle("GET /v1.0/teams/{id}/channels/{cid}", a.authed(a.getChannel))
	a.handle("PATCH /v1.0/teams/{id}/channels/{cid}", a.authed(a.updateChannel))
	a.handle("DELETE /v1.0/teams/{id}/channels/{cid}", a.authed(a.deleteChannel))
	a.handle("GET /v1.0/teams/{id}/channels/{cid}/members", a.authed(a.listChannelMembers))
	const msgs = "/v1.0/teams/{id}/channels/{cid}/messages"
	a.handle("GET "+msgs, a.authed(a.listChannelMessages(false)))
	a.handle("POST "+msgs, a.authed(a.sendChannelMessage(false)))
	a.handle("GET "+msgs+"/{mid}", a.authed(a.getChannelMessage(false)))
	a.handle("PATCH "+msgs+"/{mid}", a.authed(a.editChannelMessage(false)))
	a.handle("DELETE "+msgs+"/{mid}", a.authed(a.deleteChannelMessage(false)))
	a.handle("POST "+msgs+"/{mid}/softDelete", a.authed(a.deleteChannelMessage(false)))
	a.handle("GET "+msgs+"/{mid}/replies", a.authed(a.listChannelMessages(true)))
	a.handle("POST "+msgs+"/{mid}/replies", a.authed(a.sendChannelMessage(true)))
	a.handle("GET "+msgs+"/{mid}/replies/{rid}", a.authed(a.getChannelMessage(true)))
	a.handle("PATCH "+msgs+"/{mid}/replies/{rid}", a.authed(a.editChannelMessage(true)))
	a.handle("DELETE "+msgs+"/{mid}/replies/{rid}", a.authed(a.deleteChannelMessage(true)))
	a.handle("POST "+msgs+"/{mid}/replies/{rid}/softDelete", a.authed(a.deleteChannelMessage(true)))
	a.handle("POST "+msgs+"/{mid}/setReaction", a.authed(a.reactChannelMessage(false, true)))
	a.handle("POST "+msgs+"/{mid}/unsetReaction", a.authed(a.reactChannelMessage(false, false)))
	a.handle("POST "+msgs+"/{mid}/replies/{rid}/setReaction", a.authed(a.reactChannelMessage(true, true)))
	a.handle("POST "+msgs+"/{mid}/replies/{rid}/unsetReaction", a.authed(a.reactChannelMessage(true, false)))
	a.handle("POST /parley/v1/teams/{id}/channels/{cid}/typing", a.authed(a.channelTyping))
	a.handle("POST /parley/v1/teams/{id}/channels/{cid}/markRead", a.authed(a.markChannelRead(true)))
	a.handle("POST /parley/v1/teams/{id}/channels/{cid}/markUnread", a.authed(a.markChannelRead(false)))
	a.handle("GET /parley/v1/admin/teams", a.authed(a.listTenantTeams))
	a.handle("GET /parley/v1/admin/teams/{id}/members", a.authed(a.listTenantTeamMembers))
}

func teamID(r *http.Request) team.ID { return team.ID(r.PathValue("id")) }

func channelID(r *http.Request) team.ChannelID { return team.ChannelID(r.PathValue("cid")) }

type teamIn struct {
	DisplayName *string    `json:"displayName"`
	Description *string    `json:"description"`
	Members     []memberIn `json:"members"`
}

func (a *API) createTeam(w http.ResponseWriter, r *http.Request) error {
	var in teamIn
	if err := decode(r, &in); err != nil {
		return err
	}
	me := userOf(r)
	// Graph lets a creator list itself as the owner; others are added
	// afterwards, each decided on its own (POST …/members).
	for _, m := range in.Members {
		nm, err := m.teamMember()
		if err != nil || (nm.UserID != me.ID && (nm.Email == "" || !strings.EqualFold(nm.Email, me.UPN))) {
			return errcode.New(errcode.BadRequest, "A team is created with its creator as owner; add other members with POST /v1.0/teams/{id}/members.")
		}
	}
	nt := team.NewTeam{}
	if in.DisplayName != nil {
		nt.DisplayName = *in.DisplayName
	}
	if in.Description != nil {
		nt.Description = *in.Description
	}
	t, err := a.Teams.Create(r.Context(), me, nt)
	if err != nil {
		return err
	}
	loc := "/teams('" + string(t.ID) + "')"
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Location", loc)
	writeJSON(w, http.StatusCreated, graph.NewTeam(&t))
	return nil
}

// teamMember reads a Graph member of a team: a user by id, or by sign-in
// name or e-mail address (in user@odata.bind or email).
func (m memberIn) teamMember() (team.NewMember, error) {
	nm := team.NewMember{Roles: m.Roles}
	switch {
	case m.UserBind != "":
		key, err := bindKey(m.UserBind)
		if err != nil {
			return team.NewMember{}, err
		}
		if strings.Contains(key, "@") {
			nm.Email = key
		} else {
			nm.UserID = identity.UserID(key)
		}
	case m.UserID != "":
		nm.UserID = identity.UserID(m.UserID)
	case m.Email != "":
		nm.Email = m.Email
	default:
		return team.NewMember{}, errcode.New(errcode.BadRequest, "Name the member with user@odata.bind (or userId) or email; team members are people of the organisation and its guests.")
	}
	return nm, nil
}

func (a *API) writeTeams(w http.ResponseWriter, r *http.Request, ts []team.Team, next team.Cursor) {
	out := page[graph.Team]{Value: make([]graph.Team, 0, len(ts))}
	for i := range ts {
		out.Value = append(out.Value, graph.NewTeam(&ts[i]))
	}
	if next.ID != "" {
		out.NextLink = a.nextLink(r, makeSkipToken(timeKey(next.CreatedAt), string(next.ID)))
	}
	writeJSON(w, http.StatusOK, out)
}

func teamCursor(r *http.Request) (team.Cursor, int, error) {
	limit, err := pageSize(r)
	if err != nil {
		return team.Cursor{}, 0, err
	}
	t, id, ok, err := timeIDSkipToken(r)
	if err != nil || !ok {
		return team.Cursor{}, limit, err
	}
	return team.Cursor{CreatedAt: t, ID: team.ID(id)}, limit, nil
}

// listJoinedTeams lists the teams the caller is in, oldest first: GET
// /v1.0/teams answers the same (a guest sees only the teams it is in, and
// so does everyone; an admin lists all with /parley/v1/admin/teams).
func (a *API) listJoinedTeams(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := teamCursor(r)
	if err != nil {
		return err
	}
	ts, next, err := a.Teams.Joined(r.Context(), userOf(r), after, limit)
	if err != nil {
		return err
	}
	a.writeTeams(w, r, ts, next)
	return nil
}

func (a *API) listTenantTeams(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := teamCursor(r)
	if err != nil {
		return err
	}
	ts, next, err := a.Teams.Tenant(r.Context(), userOf(r), after, limit)
	if err != nil {
		return err
	}
	a.writeTeams(w, r, ts, next)
	return nil
}

func (a *API) getTeam(w http.ResponseWriter, r *http.Request) error {
	t, err := a.Teams.Get(r.Context(), userOf(r), teamID(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, graph.NewTeam(&t))
	return nil
}

func (a *API) updateTeam(w http.ResponseWriter, r *http.Request) error {
	var in teamIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Members != nil {
		return errcode.New(errcode.BadRequest, "Change members with /v1.0/teams/{id}/members.")
	}
	if in.DisplayName == nil && in.Description == nil {
		return errcode.New(errcode.BadRequest, "Give displayName or description to change.")
	}
	if _, err := a.Teams.Update(r.Context(), userOf(r), teamID(r), team.TeamUpdate{DisplayName: in.DisplayName, Description: in.Description}); err != nil {
		return err
	}
	// Graph answers an update with 204 No Content.
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listTeamMembers lists a team's members in the order they joined.
func (a *API) listTeamMembers(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	t, id, ok, err := timeIDSkipToken(r)
	if err != nil {
		return err
	}
	var after *team.Member
	if ok {
		after = &team.Member{JoinedAt: t, ID: id}
	}
	members, more, err := a.Teams.ListMembers(r.Context(), me, teamID(r), after, limit)
	if err != nil {
		return err
	}
	a.writeTeamMembers(w, r, me, members, more)
	return nil
}

// writeTeamMembers writes one page of members in the order they joined.
func (a *API) writeTeamMembers(w http.ResponseWriter, r *http.Request, me *identity.User, members []team.Member, more bool) {
	out := page[graph.TeamMember]{Value: make([]graph.TeamMember, 0, len(members))}
	for i := range members {
		out.Value = append(out.Value, graph.NewTeamMember(&members[i], me))
	}
	if more {
		last := members[len(members)-1]
		out.NextLink = a.nextLink(r, makeSkipToken(timeKey(last.JoinedAt), last.ID))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) listTenantTeamMembers(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	_, members, err := a.Teams.TenantMembers(r.Context(), me, teamID(r))
	if err != nil {
		return err
	}
	out := page[graph.TeamMember]{Value: make([]graph.TeamMember, 0, len(members))}
	for i := range members {
		out.Value = append(out.Value, graph.NewTeamMember(&members[i], me))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listChannelMembers lists a channel's members: everyone in the team
// (standard channels), in the order they joined, paged as team members.
func (a *API) listChannelMembers(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	t, id, ok, err := timeIDSkipToken(r)
	if err != nil {
		return err
	}
	var after *team.Member
	if ok {
		after = &team.Member{JoinedAt: t, ID: id}
	}
	members, more, err := a.Teams.ChannelMembers(r.Context(), me, teamID(r), channelID(r), after, limit)
	if err != nil {
		return err
	}
	a.writeTeamMembers(w, r, me, members, more)
	return nil
}

func (a *API) getTeamMember(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	members, err := a.Teams.Members(r.Context(), me, teamID(r))
	if err != nil {
		return err
	}
	for i := range members {
		if members[i].ID == r.PathValue("mid") || string(members[i].UserID) == r.PathValue("mid") {
			writeJSON(w, http.StatusOK, graph.NewTeamMember(&members[i], me))
			return nil
		}
	}
	return errcode.New(errcode.NotFound, "No member %s in this team.", r.PathValue("mid"))
}

func (a *API) addTeamMember(w http.ResponseWriter, r *http.Request) error {
	var in memberIn
	if err := decode(r, &in); err != nil {
		return err
	}
	nm, err := in.teamMember()
	if err != nil {
		return err
	}
	me := userOf(r)
	m, err := a.Teams.AddMember(r.Context(), me, teamID(r), nm)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, graph.NewTeamMember(&m, me))
	return nil
}

func (a *API) updateTeamMember(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Roles *[]string `json:"roles"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Roles == nil {
		return errcode.New(errcode.BadRequest, "Only roles can be changed: {\"roles\":[\"owner\"]} or {\"roles\":[]}.")
	}
	me := userOf(r)
	m, err := a.Teams.UpdateMember(r.Context(), me, teamID(r), r.PathValue("mid"), *in.Roles)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, graph.NewTeamMember(&m, me))
	return nil
}

func (a *API) removeTeamMember(w http.ResponseWriter, r *http.Request) error {
	if err := a.Teams.RemoveMember(r.Context(), userOf(r), teamID(r), r.PathValue("mid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listChannels lists a team's channels, General first, paged here over
// the whole list (at most team.MaxChannels).
func (a *API) listChannels(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	keys, err := skipToken(r, 1)
	if err != nil {
		return err
	}
	t, err := a.Teams.Get(r.Context(), me, teamID(r))
	if err != nil {
		return err
	}
	cs, err := a.Teams.Channels(r.Context(), me, teamID(r))
	if err != nil {
		return err
	}
	// The store's order (General, then oldest first) is the page order.
	start := 0
	if keys != nil {
		start = len(cs)
		for i := range cs {
			if string(cs[i].ID) == keys[0] {
				start = i + 1
			}
		}
	}
	cs = cs[start:]
	more := limit > 0 && len(cs) > limit
	if more {
		cs = cs[:limit]
	}
	out := page[graph.Channel]{Value: make([]graph.Channel, 0, len(cs))}
	for i := range cs {
		out.Value = append(out.Value, graph.NewChannel(&t, &cs[i]))
	}
	if more {
		out.NextLink = a.nextLink(r, makeSkipToken(string(cs[len(cs)-1].ID)))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getChannel(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	t, err := a.Teams.Get(r.Context(), me, teamID(r))
	if err != nil {
		return err
	}
	c, err := a.Teams.Channel(r.Context(), me, teamID(r), channelID(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, graph.NewChannel(&t, &c))
	return nil
}

// getPrimaryChannel answers Graph's primaryChannel: the General channel.
func (a *API) getPrimaryChannel(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	t, err := a.Teams.Get(r.Context(), me, teamID(r))
	if err != nil {
		return err
	}
	cs, err := a.Teams.Channels(r.Context(), me, teamID(r))
	if err != nil {
		return err
	}
	for i := range cs {
		if cs[i].General {
			writeJSON(w, http.StatusOK, graph.NewChannel(&t, &cs[i]))
			return nil
		}
	}
	return errcode.New(errcode.NotFound, "This team has no General channel.")
}

type channelIn struct {
	DisplayName    *string `json:"displayName"`
	Description    *string `json:"description"`
	MembershipType string  `json:"membershipType"`
}

func (a *API) createChannel(w http.ResponseWriter, r *http.Request) error {
	var in channelIn
	if err := decode(r, &in); err != nil {
		return err
	}
	nc := team.NewChannel{MembershipType: in.MembershipType}
	if in.DisplayName != nil {
		nc.DisplayName = *in.DisplayName
	}
	if in.Description != nil {
		nc.Description = *in.Description
	}
	me := userOf(r)
	c, err := a.Teams.CreateChannel(r.Context(), me, teamID(r), nc)
	if err != nil {
		return err
	}
	t, err := a.Teams.Get(r.Context(), me, teamID(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, graph.NewChannel(&t, &c))
	return nil
}

func (a *API) updateChannel(w http.ResponseWriter, r *http.Request) error {
	var in channelIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.MembershipType != "" {
		return errcode.New(errcode.BadRequest, "A channel's membershipType cannot be changed.")
	}
	if in.DisplayName == nil && in.Description == nil {
		return errcode.New(errcode.BadRequest, "Give displayName or description to change.")
	}
	if _, err := a.Teams.UpdateChannel(r.Context(), userOf(r), teamID(r), channelID(r), team.ChannelUpdate{DisplayName: in.DisplayName, Description: in.Description}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteChannel(w http.ResponseWriter, r *http.Request) error {
	if err := a.Teams.DeleteChannel(r.Context(), userOf(r), teamID(r), channelID(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// channelMessageIDs returns the path's thread (the top-level message a
// reply belongs to, 0 for a top-level message) and message ids. An id
// that is not a number names no message: notFound.
func channelMessageIDs(r *http.Request, reply, withMessage bool) (replyOf, mid chat.MessageID, err error) {
	parse := func(name string) (chat.MessageID, error) {
		n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
		if err != nil || n <= 0 {
			return 0, errcode.New(errcode.NotFound, "No message %s here.", r.PathValue(name))
		}
		return chat.MessageID(n), nil
	}
	if reply {
		if replyOf, err = parse("mid"); err != nil {
			return 0, 0, err
		}
		if withMessage {
			mid, err = parse("rid")
		}
		return replyOf, mid, err
	}
	if withMessage {
		mid, err = parse("mid")
	}
	return 0, mid, err
}

// listChannelMessages lists a channel's top-level messages, or (replies)
// the replies to one, newest first, paged as chat messages are.
func (a *API) listChannelMessages(replies bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		limit, err := pageSize(r)
		if err != nil {
			return err
		}
		n, _, err := idSkipToken(r)
		if err != nil {
			return err
		}
		before := chat.MessageID(n)
		replyOf, _, err := channelMessageIDs(r, replies, false)
		if err != nil {
			return err
		}
		// $expand=replies (top-level messages only) gives each message its
		// newest replies, as Graph does.
		expand := false
		switch e := r.URL.Query().Get("$expand"); {
		case e == "":
		case e == "replies" && !replies:
			expand = true
		default:
			return errcode.New(errcode.BadRequest, "$expand may only be replies, on a channel's messages.")
		}
		me := userOf(r)
		msgs, next, err := a.Teams.Messages(r.Context(), me, teamID(r), channelID(r), replyOf, before, limit)
		if err != nil {
			return err
		}
		var threads map[chat.MessageID][]team.Message
		if expand {
			if threads, err = a.Teams.Replies(r.Context(), me, teamID(r), channelID(r), msgs); err != nil {
				return err
			}
		}
		out := page[graph.ChannelMessage]{Value: make([]graph.ChannelMessage, 0, len(msgs))}
		for i := range msgs {
			m := graph.NewChannelMessage(teamID(r), &msgs[i], me)
			if expand {
				rs := make([]graph.ChannelMessage, 0, len(threads[msgs[i].ID]))
				for j := range threads[msgs[i].ID] {
					rs = append(rs, graph.NewChannelMessage(teamID(r), &threads[msgs[i].ID][j], me))
				}
				m.Replies = &rs
			}
			out.Value = append(out.Value, m)
		}
		if next > 0 {
			out.NextLink = a.nextLink(r, makeSkipToken(idKey(int64(next))))
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func (a *API) sendChannelMessage(reply bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		replyOf, _, err := channelMessageIDs(r, reply, false)
		if err != nil {
			return err
		}
		var in messageIn
		if err := decode(r, &in); err != nil {
			return err
		}
		b, err := in.domain()
		if err != nil {
			return err
		}
		me := userOf(r)
		m, err := a.Teams.Send(r.Context(), me, teamID(r), channelID(r), replyOf, b)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, graph.NewChannelMessage(teamID(r), &m, me))
		return nil
	}
}

func (a *API) getChannelMessage(reply bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		replyOf, mid, err := channelMessageIDs(r, reply, true)
		if err != nil {
			return err
		}
		me := userOf(r)
		m, err := a.Teams.Message(r.Context(), me, teamID(r), channelID(r), replyOf, mid)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, graph.NewChannelMessage(teamID(r), &m, me))
		return nil
	}
}

func (a *API) editChannelMessage(reply bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		replyOf, mid, err := channelMessageIDs(r, reply, true)
		if err != nil {
			return err
		}
		var in messageIn
		if err := decode(r, &in); err != nil {
			return err
		}
		b, err := in.domain()
		if err != nil {
			return err
		}
		if _, err := a.Teams.Edit(r.Context(), userOf(r), teamID(r), channelID(r), replyOf, mid, b); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (a *API) deleteChannelMessage(reply bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		replyOf, mid, err := channelMessageIDs(r, reply, true)
		if err != nil {
			return err
		}
		if err := a.Teams.Delete(r.Context(), userOf(r), teamID(r), channelID(r), replyOf, mid); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (a *API) markChannelRead(read bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.ContentLength != 0 {
			var in struct{}
			if err := decode(r, &in); err != nil {
				return err
			}
		}
		if err := a.Teams.MarkRead(r.Context(), userOf(r), teamID(r), channelID(r), read); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// reactChannelMessage sets or removes the caller's reaction on a channel
// message or reply (Graph setReaction, unsetReaction): 204 either way.
func (a *API) reactChannelMessage(reply, set bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		replyOf, mid, err := channelMessageIDs(r, reply, true)
		if err != nil {
			return err
		}
		var in struct {
			ReactionType *string `json:"reactionType"`
		}
		if err := decode(r, &in); err != nil {
			return err
		}
		if in.ReactionType == nil {
			return errcode.New(errcode.BadRequest, "reactionType is required: an emoji, or like, heart, laugh, surprised, sad, angry.")
		}
		if err := a.Teams.React(r.Context(), userOf(r), teamID(r), channelID(r), replyOf, mid, *in.ReactionType, set); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// channelTyping tells the team's other members the caller is typing.
func (a *API) channelTyping(w http.ResponseWriter, r *http.Request) error {
	if err := a.Teams.Typing(r.Context(), userOf(r), teamID(r), channelID(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
