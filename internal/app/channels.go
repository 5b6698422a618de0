package app

import (
	"context"
	"slices"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/team"
)

// Bots in channels (docs/rules.md §9), as Teams has them: a bot installed
// in a team gets the channel messages that @mention it (in chats it gets
// every message), is told when it is added to or removed from the team and
// when people join or leave it, and writes to the team's channels and their
// threads. Every person's use is decided by May in the Channel context: the
// team's members and guests as the table says; people of other
// organisations and anonymous people are never in a channel.

// teamBots returns the installs of a team whose app has a registered bot,
// with the bot.
func (s *Service) teamBots(ctx context.Context, tid team.ID) ([]Install, []Bot, error) {
	ins, err := s.Store.FindInstalls(ctx, Target{InTeam, string(tid)})
	if err != nil {
		return nil, nil, err
	}
	var out []Install
	var bots []Bot
	for _, in := range ins {
		if in.App.BotID == "" {
			continue
		}
		b, err := s.Store.FindBot(ctx, in.App.BotID)
		if err != nil {
			continue // unregistered since
		}
		out, bots = append(out, in), append(bots, b)
	}
	return out, bots, nil
}

// general returns a team's General channel (where Teams tells a bot of
// its team).
func (s *Service) general(ctx context.Context, tid team.ID) (team.Channel, error) {
	chs, err := s.Store.FindChannels(ctx, tid, "")
	if err != nil {
		return team.Channel{}, err
	}
	for _, c := range chs {
		if c.General {
			return c, nil
		}
	}
	return team.Channel{}, errcode.New(errcode.NotFound, "Team %s has no General channel.", tid)
}

// ChannelSent hands a person's new channel message (or reply) to the bots
// installed in the team that it @mentions, when the table lets the sender
// mention them; a refusal is silent, as in chats.
func (s *Service) ChannelSent(ctx context.Context, actor *identity.User, t *team.Team, c *team.Channel, m *team.Message) {
	if s.Notify == nil || m.App.ID != "" || !stringsContainsAt(m.Content) {
		return
	}
	ins, bots, err := s.teamBots(ctx, t.ID)
	if err != nil || len(ins) == 0 {
		return
	}
	g, err := s.general(ctx, t.ID)
	if err != nil {
		return
	}
	thread := m.ReplyTo
	if thread == 0 {
		thread = m.ID
	}
	p := place{host: t.TenantID, context: Channel, team: t.ID}
	for i, in := range ins {
		if !Mentions(m.Content, bots[i].DisplayName) {
			continue // in channels a bot gets only what mentions it
		}
		f, err := s.facts(ctx, actor, p, Mention, &in.App)
		if err != nil {
			continue
		}
		f.Installed = true
		if d := May(&f); !d.Allowed {
			continue
		}
		s.Notify.Message(ctx, MessageEvent{Bot: bots[i], App: in.App, Team: t, Channel: c, General: &g, Thread: thread, From: *actor, Who: f.Who, Message: m.Message})
	}
}

func stringsContainsAt(s string) bool {
	for i := 0; i+3 <= len(s); i++ {
		if s[i] == '<' && (s[i+1] == 'a' || s[i+1] == 'A') && (s[i+2] == 't' || s[i+2] == 'T') {
			return true
		}
	}
	return false
}

// eachTeamBot calls tell for each bot of the apps installed in a team,
// except apps blocked for the whole tenant (told nothing), with the team's
// General channel (where Teams tells a bot of its team).
func (s *Service) eachTeamBot(ctx context.Context, tid team.ID, tell func(in Install, b Bot, general team.Channel)) {
	if s.Notify == nil {
		return
	}
	ins, bots, err := s.teamBots(ctx, tid)
	if err != nil || len(ins) == 0 {
		return
	}
	g, err := s.general(ctx, tid)
	if err != nil {
		return
	}
	for i, in := range ins {
		if !in.App.Blocked {
			tell(in, bots[i], g)
		}
	}
}

// TeamMembersChanged tells the bots installed in a team of people added to
// or removed from it (conversationUpdate, teamMemberAdded/Removed).
func (s *Service) TeamMembersChanged(ctx context.Context, actor *identity.User, t *team.Team, people []team.Member, removed bool) {
	ps := make([]Person, 0, len(people))
	for _, m := range people {
		ps = append(ps, Person{User: m.User, Who: whoIn(&m.User, t.TenantID)})
	}
	s.eachTeamBot(ctx, t.ID, func(in Install, b Bot, g team.Channel) {
		s.Notify.TeamMembers(ctx, MembersEvent{Bot: b, App: in.App, Team: *t, General: g, Actor: *actor, People: ps, Removed: removed})
	})
}

// TeamChannelChanged tells the bots installed in a team of a channel
// created, renamed or deleted there (conversationUpdate, channelCreated,
// channelRenamed, channelDeleted).
func (s *Service) TeamChannelChanged(ctx context.Context, actor *identity.User, t *team.Team, c *team.Channel, change event.Type) {
	s.eachTeamBot(ctx, t.ID, func(in Install, b Bot, g team.Channel) {
		s.Notify.TeamChannel(ctx, ChannelEvent{Bot: b, App: in.App, Team: *t, General: g, Channel: *c, Actor: *actor, Change: change})
	})
}

// ChannelCardAction is CardAction on a bot's card in a channel message
// (replyOf 0) or reply. Errors: notFound, forbiddenByPolicy, badRequest, badGateway.
func (s *Service) ChannelCardAction(ctx context.Context, actor *identity.User, tid team.ID, cid team.ChannelID, replyOf, mid chat.MessageID, kind string, data []byte, verb string) ([]byte, error) {
	if err := checkCardAction(kind, verb); err != nil {
		return nil, err
	}
	if s.Teams == nil {
		return nil, errcode.New(errcode.NotFound, "No team %s.", tid)
	}
	t, err := s.Teams.Get(ctx, actor, tid)
	if err != nil {
		return nil, err
	}
	m, err := s.Teams.Message(ctx, actor, tid, cid, replyOf, mid)
	if err != nil {
		return nil, err
	}
	c, err := s.Store.FindChannel(ctx, tid, cid, "")
	if err != nil {
		return nil, err
	}
	g, err := s.general(ctx, tid)
	if err != nil {
		return nil, err
	}
	thread := replyOf
	if thread == 0 {
		thread = mid
	}
	w := cardPlace{p: place{host: t.TenantID, context: Channel, team: t.ID},
		ev: MessageEvent{Team: &t, Channel: &c, General: &g, Thread: thread},
		edit: func(botID string, b chat.Body) error {
			_, err := s.Teams.EditAsApp(ctx, cid, mid, botID, b)
			return err
		}}
	return s.cardAction(ctx, actor, w, m.Message, kind, data, verb)
}

// cardPlace is where a card is acted on: the place for the decision, the
// event's conversation, and how the bot's message is updated in place.
type cardPlace struct {
	p    place
	ev   MessageEvent
	edit func(botID string, b chat.Body) error
}

func checkCardAction(kind, verb string) error {
	if kind != Submit && kind != Execute {
		return errcode.New(errcode.BadRequest, "type must be Action.Submit or Action.Execute.")
	}
	if kind == Execute && verb == "" {
		return errcode.New(errcode.BadRequest, "verb is required for Action.Execute.")
	}
	return nil
}

// hasCard reports whether a message has an Adaptive Card.
func hasCard(m *chat.Message) bool {
	return slices.ContainsFunc(m.Attachments, func(a chat.Attachment) bool { return a.ContentType == chat.AdaptiveCardType })
}

// ChannelReacted tells a bot that a person reacted to (or took a reaction
// off) one of its channel messages, when the table lets the person use it;
// silent otherwise, as in chats.
func (s *Service) ChannelReacted(ctx context.Context, actor *identity.User, t *team.Team, c *team.Channel, m *team.Message, reaction string, added bool) {
	if s.Notify == nil || m.App.ID == "" {
		return
	}
	b, err := s.Store.FindBot(ctx, m.App.ID)
	if err != nil {
		return
	}
	a, err := s.botApp(ctx, &b)
	if err != nil {
		return
	}
	g, err := s.general(ctx, t.ID)
	if err != nil {
		return
	}
	f, err := s.facts(ctx, actor, place{host: t.TenantID, context: Channel, team: t.ID}, Use, &a)
	if err != nil {
		return
	}
	f.Installed = true // its message is here
	if d := May(&f); !d.Allowed {
		return
	}
	thread := m.ReplyTo
	if thread == 0 {
		thread = m.ID
	}
	s.Notify.Message(ctx, MessageEvent{Bot: b, App: a, Team: t, Channel: c, General: &g, Thread: thread, From: *actor, Who: f.Who,
		Message: m.Message, Reaction: reaction, Unreacted: !added})
}
