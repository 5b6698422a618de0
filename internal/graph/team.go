package graph

import (
	"time"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/team"
)

// Team is Graph's team.
type Team struct {
	ID              string  `json:"id"`
	DisplayName     string  `json:"displayName"`
	Description     *string `json:"description"`
	CreatedDateTime *string `json:"createdDateTime"`
	TenantID        string  `json:"tenantId"`
	Visibility      string  `json:"visibility"`
	IsArchived      bool    `json:"isArchived"`
	WebURL          *string `json:"webUrl"`
	Summary         Summary `json:"summary"`
}

// Summary is Graph's teamSummary: owners, members who are not owners, and
// guests.
type Summary struct {
	OwnersCount  int `json:"ownersCount"`
	MembersCount int `json:"membersCount"`
	GuestsCount  int `json:"guestsCount"`
}

// NewTeam converts a team.
func NewTeam(t *team.Team) Team {
	return Team{ID: string(t.ID), DisplayName: t.DisplayName, Description: strPtr(t.Description), CreatedDateTime: Time(t.CreatedAt),
		TenantID: string(t.TenantID), Visibility: "private",
		Summary: Summary{OwnersCount: t.Summary.Owners, MembersCount: t.Summary.Members, GuestsCount: t.Summary.Guests}}
}

// Channel is Graph's channel, plus Parley's read state: the viewer's read
// mark and the count of others' messages after it (at most 100).
type Channel struct {
	ID              string    `json:"id"`
	DisplayName     string    `json:"displayName"`
	Description     *string   `json:"description"`
	CreatedDateTime *string   `json:"createdDateTime"`
	MembershipType  string    `json:"membershipType"`
	TenantID        string    `json:"tenantId"`
	IsArchived      bool      `json:"isArchived"`
	WebURL          *string   `json:"webUrl"`
	IsGeneral       bool      `json:"isGeneral"`
	Viewpoint       Viewpoint `json:"viewpoint"`
	UnreadCount     int       `json:"unreadCount"`
}

// NewChannel converts a channel of t.
func NewChannel(t *team.Team, c *team.Channel) Channel {
	return Channel{ID: string(c.ID), DisplayName: c.DisplayName, Description: strPtr(c.Description), CreatedDateTime: Time(c.CreatedAt),
		MembershipType: "standard", TenantID: string(t.TenantID), IsGeneral: c.General,
		Viewpoint: Viewpoint{LastMessageReadDateTime: Time(c.LastReadAt)}, UnreadCount: c.Unread}
}

// TeamMember is Graph's aadUserConversationMember in a team, plus
// Parley's identity fields.
type TeamMember struct {
	ODataType                   string   `json:"@odata.type"`
	ID                          string   `json:"id"`
	Roles                       []string `json:"roles"`
	DisplayName                 string   `json:"displayName"`
	VisibleHistoryStartDateTime *string  `json:"visibleHistoryStartDateTime"`
	UserID                      string   `json:"userId"`
	Email                       *string  `json:"email"`
	TenantID                    string   `json:"tenantId"`
	UserIdentityType            string   `json:"userIdentityType"`
	UserType                    string   `json:"userType"`
	IsExternal                  bool     `json:"isExternal"`
}

// NewTeamMember converts a team member as seen by viewer. Every member of
// a team is of the team's tenant, so no one in it is external to another.
func NewTeamMember(m *team.Member, viewer *identity.User) TeamMember {
	roles := m.Roles
	if roles == nil {
		roles = []string{}
	}
	u := &m.User
	// visibleHistoryStartDateTime is null: a channel's history is open to
	// every member of the team, whenever they joined.
	return TeamMember{ODataType: "#microsoft.graph.aadUserConversationMember", ID: m.ID, Roles: roles, DisplayName: u.DisplayName,
		UserID: string(u.ID), Email: strPtr(u.Mail), TenantID: string(u.TenantID),
		UserIdentityType: u.IdentityType(viewer), UserType: UserType(u), IsExternal: u.ExternalTo(viewer)}
}

// ChannelIdentity is Graph's channelIdentity.
type ChannelIdentity struct {
	TeamID    string `json:"teamId"`
	ChannelID string `json:"channelId"`
}

// ChannelMessage is Graph's chatMessage in a channel: chatId is null and
// channelIdentity names the team and channel; a reply names its thread's
// top-level message in replyToId.
type ChannelMessage struct {
	Message
	ChatID          *string         `json:"chatId"`
	ChannelIdentity ChannelIdentity `json:"channelIdentity"`
	// Replies is set in a list asked with $expand=replies.
	Replies *[]ChannelMessage `json:"replies,omitempty"`
}

// NewChannelMessage converts a channel message as seen by viewer.
func NewChannelMessage(teamID team.ID, m *team.Message, viewer *identity.User) ChannelMessage {
	w := ChannelMessage{Message: NewMessage(&m.Message, viewer), ChannelIdentity: ChannelIdentity{TeamID: string(teamID), ChannelID: string(m.ChatID)}}
	if m.ReplyTo != 0 {
		id := MessageIDString(m.ReplyTo)
		w.ReplyToID = &id
	}
	return w
}

type teamEvent struct {
	Type   event.Type `json:"type"`
	TeamID string     `json:"teamId"`
	Team   Team       `json:"team"`
}

type teamMemberEvent struct {
	Type   event.Type `json:"type"`
	TeamID string     `json:"teamId"`
	Team   Team       `json:"team"`
	Member TeamMember `json:"member"`
}

type channelEvent struct {
	Type      event.Type `json:"type"`
	TeamID    string     `json:"teamId"`
	ChannelID string     `json:"channelId"`
	ChatID    string     `json:"chatId"`
	Channel   Channel    `json:"channel"`
}

type channelMessageEvent struct {
	Type      event.Type     `json:"type"`
	TeamID    string         `json:"teamId"`
	ChannelID string         `json:"channelId"`
	ChatID    string         `json:"chatId"`
	Message   ChannelMessage `json:"message"`
}

// TeamEvent returns the payload of a team event (teamUpdated).
func (Encoder) TeamEvent(_ *identity.User, typ event.Type, t *team.Team) []byte {
	return mustJSON(teamEvent{Type: typ, TeamID: string(t.ID), Team: NewTeam(t)})
}

// TeamMemberEvent returns the payload of memberAdded, memberUpdated and
// memberRemoved in a team: the team, so a new member can show it, and the
// member.
func (Encoder) TeamMemberEvent(viewer *identity.User, typ event.Type, t *team.Team, m *team.Member) []byte {
	return mustJSON(teamMemberEvent{Type: typ, TeamID: string(t.ID), Team: NewTeam(t), Member: NewTeamMember(m, viewer)})
}

// ChannelEvent returns the payload of a channel event; chatId repeats the
// channel id, as for chats.
func (Encoder) ChannelEvent(_ *identity.User, typ event.Type, t *team.Team, c *team.Channel) []byte {
	return mustJSON(channelEvent{Type: typ, TeamID: string(t.ID), ChannelID: string(c.ID), ChatID: string(c.ID), Channel: NewChannel(t, c)})
}

// ChannelMessageEvent returns the payload of a channel message event.
func (Encoder) ChannelMessageEvent(viewer *identity.User, typ event.Type, t *team.Team, c *team.Channel, m *team.Message) []byte {
	return mustJSON(channelMessageEvent{Type: typ, TeamID: string(t.ID), ChannelID: string(c.ID), ChatID: string(c.ID), Message: NewChannelMessage(t.ID, m, viewer)})
}

// ChannelTypingEvent returns the payload of typing in a channel: the
// team, the channel, who and when.
func (Encoder) ChannelTypingEvent(viewer *identity.User, t *team.Team, c *team.Channel, who *identity.User, at time.Time) []byte {
	id := NewIdentity(who, viewer)
	return mustJSON(struct {
		Type      event.Type `json:"type"`
		TeamID    string     `json:"teamId"`
		ChannelID string     `json:"channelId"`
		ChatID    string     `json:"chatId"`
		User      Identity   `json:"user"`
		At        *string    `json:"dateTime"`
	}{event.Typing, string(t.ID), string(c.ID), string(c.ID), id, Time(at)})
}
