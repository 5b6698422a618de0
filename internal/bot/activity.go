package bot

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley/internal/app"
	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/team"
)

// ChannelID is the channel Parley's activities name: Teams', so bots written
// for Teams (and TeamsActivityHandler) treat them as Teams activities.
const ChannelID = "msteams"

// Account is a Bot Framework ChannelAccount with the Teams fields.
type Account struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	AADObjectID string `json:"aadObjectId,omitempty"`
	// ObjectID repeats aadObjectId: TeamsInfo copies objectId over it.
	ObjectID          string `json:"objectId,omitempty"`
	Role              string `json:"role,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	Email             string `json:"email,omitempty"`
	TenantID          string `json:"tenantId,omitempty"`
	// UserRole is Teams' user, guest or anonymous; ParleyKind tells
	// external people and personal accounts apart too.
	UserRole   string `json:"userRole,omitempty"`
	ParleyKind string `json:"parleyKind,omitempty"`
}

// Conversation is a ConversationAccount.
type Conversation struct {
	ID               string `json:"id"`
	ConversationType string `json:"conversationType"`
	TenantID         string `json:"tenantId,omitempty"`
	IsGroup          bool   `json:"isGroup"`
	Name             string `json:"name,omitempty"`
}

// Activity is the part of a Bot Framework Activity Parley sends and reads.
type Activity struct {
	Type             string            `json:"type"`
	ID               string            `json:"id,omitempty"`
	Name             string            `json:"name,omitempty"`
	Timestamp        string            `json:"timestamp,omitempty"`
	ServiceURL       string            `json:"serviceUrl,omitempty"`
	ChannelID        string            `json:"channelId,omitempty"`
	From             *Account          `json:"from,omitempty"`
	Conversation     *Conversation     `json:"conversation,omitempty"`
	Recipient        *Account          `json:"recipient,omitempty"`
	Text             string            `json:"text,omitempty"`
	TextFormat       string            `json:"textFormat,omitempty"`
	Locale           string            `json:"locale,omitempty"`
	Attachments      []Attachment      `json:"attachments,omitempty"`
	Entities         []json.RawMessage `json:"entities,omitempty"`
	ReplyToID        string            `json:"replyToId,omitempty"`
	Value            json.RawMessage   `json:"value,omitempty"`
	MembersAdded     []Account         `json:"membersAdded,omitempty"`
	ReactionsAdded   []Reaction        `json:"reactionsAdded,omitempty"`
	ReactionsRemoved []Reaction        `json:"reactionsRemoved,omitempty"`
	MembersRemoved   []Account         `json:"membersRemoved,omitempty"`
	ChannelData      json.RawMessage   `json:"channelData,omitempty"`
}

// Reaction is a MessageReaction of an activity.
type Reaction struct {
	Type string `json:"type"`
}

// Attachment is an Activity attachment.
type Attachment struct {
	ContentType string          `json:"contentType"`
	Content     json.RawMessage `json:"content,omitempty"`
	ContentURL  string          `json:"contentUrl,omitempty"`
	Name        string          `json:"name,omitempty"`
}

// UserID is a person's channel account id, the id bots send back.
func UserID(u identity.UserID) string { return "29:" + string(u) }

// BotAccountID is a bot's channel account id.
func BotAccountID(botID string) string { return "28:" + botID }

// ParseUserID reads a person's id out of a channel account id ("29:…" or
// the plain id, as aadObjectId gives it).
func ParseUserID(id string) identity.UserID { return identity.UserID(strings.TrimPrefix(id, "29:")) }

var whoNames = map[app.Who][2]string{
	app.HostUser: {"user", "hostUser"}, app.Guest: {"guest", "guest"}, app.External: {"user", "external"},
	app.PersonalAccount: {"user", "personal"}, app.Anonymous: {"anonymous", "anonymous"},
}

// PersonAccount is a person as a bot sees them.
func PersonAccount(u *identity.User, who app.Who) Account {
	n := whoNames[who]
	a := Account{ID: UserID(u.ID), Name: u.DisplayName, AADObjectID: string(u.ID), ObjectID: string(u.ID), Role: "user",
		TenantID: string(u.TenantID), UserRole: n[0], ParleyKind: n[1]}
	if who != app.Anonymous {
		a.UserPrincipalName, a.Email = u.UPN, u.Mail
	}
	return a
}

func conversationOf(c *chat.Chat, botID string) *Conversation {
	typ, group := "groupChat", true
	if c.Type == chat.OneOnOne && strings.HasSuffix(c.PairKey, "|28:"+botID) {
		typ, group = "personal", false
	}
	return &Conversation{ID: string(c.ID), ConversationType: typ, TenantID: string(c.TenantID), IsGroup: group, Name: c.Topic}
}

// ChannelConversationID is the conversation id of a channel, or of one of
// its threads (Teams' "{channel};messageid={top-level message}").
func ChannelConversationID(c team.ChannelID, thread chat.MessageID) string {
	if thread == 0 {
		return string(c)
	}
	return string(c) + ";messageid=" + msgID(thread)
}

func channelConversation(t *team.Team, c *team.Channel, thread chat.MessageID) *Conversation {
	return &Conversation{ID: ChannelConversationID(c.ID, thread), ConversationType: "channel", TenantID: string(t.TenantID), IsGroup: true, Name: c.DisplayName}
}

// conversation is the conversation of a message event: its chat, or its
// channel's thread.
func conversation(ev *app.MessageEvent) *Conversation {
	if ev.Channel != nil {
		return channelConversation(ev.Team, ev.Channel, ev.Thread)
	}
	return conversationOf(&ev.Chat, ev.Bot.ID)
}

func channelData(c *chat.Chat, who app.Who) json.RawMessage {
	d := map[string]any{"tenant": map[string]string{"id": string(c.TenantID)}}
	if c.Type == chat.Meeting {
		d["meeting"] = map[string]string{"id": string(c.ID)}
	}
	if who != 0 {
		d["parleyKind"] = whoNames[who][1]
	}
	b, _ := json.Marshal(d) // plain values: cannot fail
	return b
}

// teamData is the channelData of a team's activities: the tenant, the team
// and the channel (Teams' shape), and extra fields (eventType, parleyKind).
// As in Teams, team.id is the General channel's id, the conversation the
// SDK's TeamsInfo asks for the team's members, and aadGroupId the team's
// own (Graph) id.
func teamData(t *team.Team, general, c *team.Channel, who app.Who, extra map[string]any) json.RawMessage {
	d := map[string]any{"tenant": map[string]string{"id": string(t.TenantID)},
		"team":    map[string]string{"id": string(general.ID), "name": t.DisplayName, "aadGroupId": string(t.ID)},
		"channel": map[string]string{"id": string(c.ID), "name": c.DisplayName}}
	if who != 0 {
		d["parleyKind"] = whoNames[who][1]
	}
	for k, v := range extra {
		d[k] = v
	}
	b, _ := json.Marshal(d) // plain values: cannot fail
	return b
}

var tags = regexp.MustCompile(`<[^>]*>`)

// plainText is a message's text as a bot reads it: HTML without tags,
// except <at> mentions, which Teams keeps (without Graph's id attribute).
func plainText(m *chat.Message) (string, string) {
	if m.ContentType != "html" {
		return m.Content, "plain"
	}
	t := tags.ReplaceAllStringFunc(m.Content, func(s string) string {
		if s == "</at>" {
			return s
		}
		if strings.HasPrefix(s, "<at ") || s == "<at>" {
			return "<at>" // as Teams writes it, without Graph's id
		}
		return ""
	})
	return t, "xml"
}

// messageActivity turns a person's message (or card action) into the
// activity its bot gets.
func messageActivity(base string, ev *app.MessageEvent, now time.Time) Activity {
	from := PersonAccount(&ev.From, ev.Who)
	a := Activity{Type: "message", Timestamp: now.UTC().Format(time.RFC3339Nano), ServiceURL: ServiceURL(base), ChannelID: ChannelID,
		From: &from, Conversation: conversation(ev), Recipient: &Account{ID: BotAccountID(ev.Bot.ID), Name: ev.Bot.DisplayName, Role: "bot"},
		Locale: "en-US"}
	if ev.Channel != nil {
		a.ChannelData = teamData(ev.Team, ev.General, ev.Channel, ev.Who, nil)
	} else {
		a.ChannelData = channelData(&ev.Chat, ev.Who)
	}
	if ev.Reaction != "" {
		a.Type, a.ID, a.ReplyToID = "messageReaction", "reaction-"+now.Format("150405.000000"), msgID(ev.Message.ID)
		r := []Reaction{{Type: ev.Reaction}}
		if ev.Unreacted {
			a.ReactionsRemoved = r
		} else {
			a.ReactionsAdded = r
		}
		return a
	}
	if strings.HasPrefix(ev.Name, "composeExtension/") {
		a.Type, a.Name, a.ID = "invoke", ev.Name, "extension-"+now.Format("150405.000000")
		a.Value = json.RawMessage(ev.Value)
		return a
	}
	if ev.Value != nil {
		// A card action on the bot's message.
		a.ID = msgID(ev.Message.ID) + "-" + now.Format("150405.000000")
		a.ReplyToID = msgID(ev.Message.ID)
		a.Value = json.RawMessage(ev.Value)
		if ev.Name != "" {
			a.Type, a.Name = "invoke", ev.Name
			v, _ := json.Marshal(map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": ev.Verb, "data": json.RawMessage(ev.Value)}, "trigger": "manual"})
			a.Value = v
		}
		return a
	}
	a.ID = msgID(ev.Message.ID)
	a.Text, a.TextFormat = plainText(&ev.Message)
	if app.Mentions(ev.Message.Content, ev.Bot.DisplayName) {
		e, _ := json.Marshal(map[string]any{"type": "mention", "text": "<at>" + ev.Bot.DisplayName + "</at>",
			"mentioned": map[string]string{"id": BotAccountID(ev.Bot.ID), "name": ev.Bot.DisplayName}})
		a.Entities = append(a.Entities, e)
	}
	for _, att := range ev.Message.Attachments {
		if att.ContentType == chat.AdaptiveCardType {
			a.Attachments = append(a.Attachments, Attachment{ContentType: att.ContentType, Content: json.RawMessage(att.Content)})
		}
	}
	return a
}

// installActivity is the conversationUpdate of a bot added to (or removed
// from) a chat or a team (Teams tells a team's bot in its General channel,
// eventType teamMemberAdded / teamMemberRemoved).
func installActivity(base string, ev *app.InstallEvent, added bool, now time.Time) Activity {
	from := PersonAccount(&ev.Actor, 0)
	bot := Account{ID: BotAccountID(ev.Bot.ID), Name: ev.Bot.DisplayName, Role: "bot"}
	a := Activity{Type: "conversationUpdate", ID: "install-" + ev.Install.ID, Timestamp: now.UTC().Format(time.RFC3339Nano), ServiceURL: ServiceURL(base), ChannelID: ChannelID,
		From: &from, Recipient: &bot}
	eventType := "botAdded"
	if !added {
		eventType = "botRemoved"
	}
	if ev.Team != nil {
		eventType = "teamMemberAdded"
		if !added {
			eventType = "teamMemberRemoved"
		}
		a.Conversation = channelConversation(ev.Team, ev.General, 0)
		a.ChannelData = teamData(ev.Team, ev.General, ev.General, 0, map[string]any{"eventType": eventType})
	} else {
		a.Conversation = conversationOf(ev.Chat, ev.Bot.ID)
		var cd map[string]any
		_ = json.Unmarshal(channelData(ev.Chat, 0), &cd) // ours
		cd["eventType"] = eventType
		a.ChannelData, _ = json.Marshal(cd)
	}
	if added {
		a.MembersAdded = []Account{bot}
	} else {
		a.MembersRemoved = []Account{bot}
		a.ID = "uninstall-" + ev.Install.ID
	}
	return a
}

// membersActivity is the conversationUpdate of people added to or removed
// from a team a bot is installed in.
func membersActivity(base string, ev *app.MembersEvent, now time.Time) Activity {
	from := PersonAccount(&ev.Actor, 0)
	bot := Account{ID: BotAccountID(ev.Bot.ID), Name: ev.Bot.DisplayName, Role: "bot"}
	eventType := "teamMemberAdded"
	if ev.Removed {
		eventType = "teamMemberRemoved"
	}
	people := make([]Account, 0, len(ev.People))
	for i := range ev.People {
		people = append(people, PersonAccount(&ev.People[i].User, ev.People[i].Who))
	}
	a := Activity{Type: "conversationUpdate", ID: eventType + "-" + now.UTC().Format("20060102150405.000000"), Timestamp: now.UTC().Format(time.RFC3339Nano),
		ServiceURL: ServiceURL(base), ChannelID: ChannelID, From: &from, Recipient: &bot,
		Conversation: channelConversation(&ev.Team, &ev.General, 0), ChannelData: teamData(&ev.Team, &ev.General, &ev.General, 0, map[string]any{"eventType": eventType})}
	if ev.Removed {
		a.MembersRemoved = people
	} else {
		a.MembersAdded = people
	}
	return a
}

// channelEventTypes are Teams' eventType of each channel change.
var channelEventTypes = map[event.Type]string{event.ChannelCreated: "channelCreated", event.ChannelUpdated: "channelRenamed", event.ChannelDeleted: "channelDeleted"}

// channelActivity is the conversationUpdate of a channel created, renamed
// or deleted in a team a bot is installed in, as Teams sends it: in the
// team's conversation (General), channelData.channel the channel (its new
// name when renamed), channelData.team the team, and no members added or
// removed (TeamsActivityHandler dispatches on eventType only then).
func channelActivity(base string, ev *app.ChannelEvent, now time.Time) Activity {
	from := PersonAccount(&ev.Actor, 0)
	eventType := channelEventTypes[ev.Change]
	return Activity{Type: "conversationUpdate", ID: eventType + "-" + string(ev.Channel.ID) + "-" + now.UTC().Format("20060102150405.000000"),
		Timestamp: now.UTC().Format(time.RFC3339Nano), ServiceURL: ServiceURL(base), ChannelID: ChannelID, From: &from,
		Recipient:    &Account{ID: BotAccountID(ev.Bot.ID), Name: ev.Bot.DisplayName, Role: "bot"},
		Conversation: channelConversation(&ev.Team, &ev.General, 0),
		ChannelData:  teamData(&ev.Team, &ev.General, &ev.Channel, 0, map[string]any{"eventType": eventType})}
}

func msgID(id chat.MessageID) string { return strconv.FormatInt(int64(id), 10) }
