package app

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/team"
)

// Message extensions (docs/rules.md §9 "run a message extension"), as Teams
// has them: a search command (type query) is a composeExtension/query
// invoke; an action command (type action) is a composeExtension/fetchTask
// invoke, whose answer is a task module (a card to fill in, or a message),
// then a composeExtension/submitAction invoke with what the person filled
// in, whose answer is the result to post (or another task module). Each is
// decided by May (MessageExtension) where it is run, a chat or a channel.

// Where is the conversation a person uses an app in: a chat, or a channel
// of a team (Team and Channel).
type Where struct {
	Chat    chat.ID
	Team    team.ID
	Channel team.ChannelID
}

// The invokes of message extensions.
const (
	ExtensionQuery  = "composeExtension/query"
	ExtensionFetch  = "composeExtension/fetchTask"
	ExtensionSubmit = "composeExtension/submitAction"
)

// at resolves a conversation as actor sees it: the place for May and the
// conversation of the activities sent from there. A chat or team the actor
// is not in is notFound (docs/rules.md §4, the rule of silence).
func (s *Service) at(ctx context.Context, actor *identity.User, w Where) (place, MessageEvent, error) {
	if w.Chat != "" {
		c, err := s.Chats.Get(ctx, actor, w.Chat)
		if err != nil {
			return place{}, MessageEvent{}, err
		}
		_, members, err := s.Store.FindChatAny(ctx, c.ID)
		if err != nil {
			return place{}, MessageEvent{}, err
		}
		return composePlace(actor, &c, members), MessageEvent{Chat: c}, nil
	}
	if s.Teams == nil {
		return place{}, MessageEvent{}, errcode.New(errcode.NotFound, "No team %s.", w.Team)
	}
	t, err := s.Teams.Get(ctx, actor, w.Team)
	if err != nil {
		return place{}, MessageEvent{}, err
	}
	c, err := s.Store.FindChannel(ctx, t.ID, w.Channel, "")
	if err != nil {
		return place{}, MessageEvent{}, err
	}
	g, err := s.general(ctx, t.ID)
	if err != nil {
		return place{}, MessageEvent{}, err
	}
	return place{host: t.TenantID, context: Channel, team: t.ID}, MessageEvent{Team: &t, Channel: &c, General: &g}, nil
}

// composePlace is a chat as the place a person composes in: a bot's 1:1
// chat is the personal scope of the bot's organisation's people (its
// installs are theirs, see installedFor), any other chat its own context.
func composePlace(actor *identity.User, c *chat.Chat, members []chat.Member) place {
	p := place{host: c.TenantID, context: contextOf(c), chat: c, members: members}
	if w := whoIn(actor, c.TenantID); isBotChat(c) && (w == HostUser || w == Guest) {
		p.context = Personal
	}
	return p
}

// MessageExtension runs a message-extension command of an app installed
// where the person is (a chat, or a channel's team) as the invoke name
// says (ExtensionQuery, ExtensionFetch, ExtensionSubmit), with value the
// invoke's value as Teams sends it ({"commandId",…}), and returns the bot's
// answer as is. A fetch or submit must name an action command of the app's
// manifest. Errors: notFound, forbiddenByPolicy, badRequest, badGateway.
func (s *Service) MessageExtension(ctx context.Context, actor *identity.User, w Where, appID, name string, value []byte) ([]byte, error) {
	p, ev, err := s.at(ctx, actor, w)
	if err != nil {
		return nil, err
	}
	var in struct {
		CommandID string `json:"commandId"`
	}
	if json.Unmarshal(value, &in) != nil || in.CommandID == "" {
		return nil, errcode.New(errcode.BadRequest, "The invoke must be a JSON object with commandId.")
	}
	a, err := s.Store.FindApp(ctx, p.host, appID)
	if err != nil {
		return nil, errcode.New(errcode.NotFound, "No app %s is installed here.", appID)
	}
	f, err := s.facts(ctx, actor, p, MessageExtension, &a)
	if err != nil {
		return nil, err
	}
	if f.Installed, err = s.extensionInstalled(ctx, actor, p, a.ID); err != nil {
		return nil, err
	}
	if d := May(&f); !d.Allowed {
		return nil, d.Err()
	}
	if a.BotID == "" || len(a.Commands) == 0 || s.Notify == nil {
		return nil, errcode.New(errcode.BadRequest, "App %s has no message extension.", appID)
	}
	if name != ExtensionQuery && !slices.ContainsFunc(a.Commands, func(c Command) bool { return c.ID == in.CommandID && c.Kind() == CommandAction }) {
		return nil, errcode.New(errcode.BadRequest, "App %s has no action command %q.", appID, in.CommandID)
	}
	b, err := s.Store.FindBot(ctx, a.BotID)
	if err != nil {
		return nil, errcode.New(errcode.NotFound, "The bot of app %s is gone.", appID)
	}
	ev.Bot, ev.App, ev.From, ev.Who, ev.Value, ev.Name = b, a, *actor, f.Who, value, name
	res, err := s.Notify.Invoke(ctx, ev)
	if err != nil {
		return nil, err
	}
	if res.Status >= 400 {
		return nil, errcode.New(errcode.BadRequest, "The bot refused the command (status %d).", res.Status)
	}
	return res.Body, nil
}

// ChatVia checks the app a person's chat message names as the source of
// its card (chat.Deps.Via): an app of the chat's host catalog installed in
// the chat that May lets the person run (MessageExtension). It returns the
// app (its catalog id and name). Errors: badRequest (not installed there),
// forbiddenByPolicy.
func (s *Service) ChatVia(ctx context.Context, actor *identity.User, c *chat.Chat, appID string) (chat.Application, error) {
	_, members, err := s.Store.FindChatAny(ctx, c.ID)
	if err != nil {
		return chat.Application{}, err
	}
	return s.via(ctx, actor, composePlace(actor, c, members), appID)
}

// TeamVia is ChatVia for a channel message of a team (team.Service.Via).
func (s *Service) TeamVia(ctx context.Context, actor *identity.User, t *team.Team, appID string) (chat.Application, error) {
	return s.via(ctx, actor, place{host: t.TenantID, context: Channel, team: t.ID}, appID)
}

func (s *Service) via(ctx context.Context, actor *identity.User, p place, appID string) (chat.Application, error) {
	none := errcode.New(errcode.BadRequest, "viaAppId names no app installed in this conversation.")
	if p.host == "" {
		return chat.Application{}, none
	}
	a, err := s.Store.FindApp(ctx, p.host, appID)
	if err != nil {
		return chat.Application{}, none
	}
	installed, err := s.extensionInstalled(ctx, actor, p, a.ID)
	if err != nil {
		return chat.Application{}, err
	}
	if !installed {
		return chat.Application{}, none
	}
	f, err := s.facts(ctx, actor, p, MessageExtension, &a)
	if err != nil {
		return chat.Application{}, err
	}
	f.Installed = true
	if d := May(&f); !d.Allowed {
		return chat.Application{}, d.Err()
	}
	return chat.Application{ID: a.ID, DisplayName: a.DisplayName}, nil
}
