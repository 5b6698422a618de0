package app

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

// What a bot does through the Connector API (docs/rules.md §9): a bot may
// message everyone in a conversation its app is installed in, external
// people included, and the people its app is installed for personally;
// never anyone else.

// botApp returns the app of a bot's tenant that names the bot.
func (s *Service) botApp(ctx context.Context, b *Bot) (App, error) {
	apps, err := s.Store.FindAppsByBot(ctx, b.ID)
	if err != nil {
		return App{}, err
	}
	for _, a := range apps {
		if a.TenantID == b.TenantID {
			return a, nil
		}
	}
	return App{}, errcode.New(errcode.Forbidden, "No app of this bot's organisation names it; upload its app package first.")
}

// botChatKey is the pair key of a bot's 1:1 chat with a person.
func botChatKey(c *chat.Chat, botID string) bool {
	return strings.HasSuffix(c.PairKey, "|28:"+botID)
}

// BotConversation returns a conversation a bot may write to: a chat its
// app is installed in, or its 1:1 chat with a person. Errors: notFound,
// forbiddenByPolicy (the app is blocked for the whole tenant).
func (s *Service) BotConversation(ctx context.Context, b *Bot, id string) (chat.Chat, []chat.Member, App, error) {
	a, err := s.botApp(ctx, b)
	if err != nil {
		return chat.Chat{}, nil, App{}, err
	}
	c, members, err := s.Store.FindChatAny(ctx, chat.ID(id))
	if err != nil {
		return chat.Chat{}, nil, App{}, errcode.New(errcode.NotFound, "No conversation %s for this bot.", id)
	}
	if !botChatKey(&c, b.ID) {
		ins, err := s.Store.FindInstalls(ctx, Target{InChat, string(c.ID)})
		if err != nil {
			return chat.Chat{}, nil, App{}, err
		}
		if !slices.ContainsFunc(ins, func(in Install) bool { return in.AppID == a.ID }) {
			return chat.Chat{}, nil, App{}, errcode.New(errcode.NotFound, "No conversation %s for this bot.", id)
		}
	}
	if a.Blocked {
		return chat.Chat{}, nil, App{}, errcode.New(errcode.ForbiddenByPolicy, "%s", Sentence(msgTenantBlock))
	}
	return c, members, a, nil
}

// BotSend posts a bot's message. Errors: notFound, forbiddenByPolicy, badRequest.
func (s *Service) BotSend(ctx context.Context, b *Bot, convID string, body chat.Body) (chat.Message, error) {
	c, _, _, err := s.BotConversation(ctx, b, convID)
	if err != nil {
		return chat.Message{}, err
	}
	return s.Chats.SendAsApp(ctx, c.ID, chat.Application{ID: b.ID, DisplayName: b.DisplayName}, body)
}

// BotUpdate replaces a bot's own message. Errors: notFound, forbiddenByPolicy, badRequest.
func (s *Service) BotUpdate(ctx context.Context, b *Bot, convID string, mid chat.MessageID, body chat.Body) (chat.Message, error) {
	c, _, _, err := s.BotConversation(ctx, b, convID)
	if err != nil {
		return chat.Message{}, err
	}
	return s.Chats.EditAsApp(ctx, c.ID, mid, b.ID, body)
}

// BotDelete deletes a bot's own message. Errors: notFound, forbiddenByPolicy.
func (s *Service) BotDelete(ctx context.Context, b *Bot, convID string, mid chat.MessageID) error {
	c, _, _, err := s.BotConversation(ctx, b, convID)
	if err != nil {
		return err
	}
	return s.Chats.DeleteAsApp(ctx, c.ID, mid, b.ID)
}

// BotMembers lists the people of a bot's conversation (accepted members:
// a pending request's target is not yet in it). Errors: notFound.
func (s *Service) BotMembers(ctx context.Context, b *Bot, convID string) (chat.Chat, []chat.Member, error) {
	c, members, _, err := s.BotConversation(ctx, b, convID)
	if err != nil {
		return chat.Chat{}, nil, err
	}
	out := members[:0:0]
	for _, m := range members {
		if m.UserID != "" && m.State == chat.Accepted {
			out = append(out, m)
		}
	}
	return c, out, nil
}

// BotReaches reports whether a bot may open a 1:1 conversation with a
// person: they share a conversation its app is installed in, or its app is
// installed for them personally (by them, or by their setup policy).
func (s *Service) botReaches(ctx context.Context, b *Bot, a *App, u *identity.User) (bool, error) {
	ins, err := s.Store.FindInstallsOfApps(ctx, []string{a.ID})
	if err != nil {
		return false, err
	}
	for _, in := range ins {
		switch in.Target.Kind {
		case InUser:
			if in.Target.ID == string(u.ID) {
				return true, nil
			}
		case InChat:
			_, members, err := s.Store.FindChatAny(ctx, chat.ID(in.Target.ID))
			if err != nil {
				continue
			}
			if slices.ContainsFunc(members, func(m chat.Member) bool { return m.UserID == u.ID && m.State == chat.Accepted }) {
				return true, nil
			}
		}
	}
	if u.TenantID == b.TenantID {
		personal, err := s.withSetup(ctx, u.ID, b.TenantID, nil)
		if err != nil {
			return false, err
		}
		if slices.ContainsFunc(personal, func(in Install) bool { return in.AppID == a.ID }) {
			return true, nil
		}
	}
	return false, nil
}

// BotCreateConversation opens (or finds) a bot's 1:1 conversation with a
// person it may reach (proactive messaging). Errors: forbiddenByPolicy
// (a person the bot shares no conversation with, or a blocked app).
func (s *Service) BotCreateConversation(ctx context.Context, b *Bot, userID identity.UserID) (chat.Chat, error) {
	a, err := s.botApp(ctx, b)
	if err != nil {
		return chat.Chat{}, err
	}
	refused := errcode.New(errcode.ForbiddenByPolicy, "This bot may message only the people of the conversations it is installed in.")
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return chat.Chat{}, refused
	}
	if a.Blocked {
		return chat.Chat{}, errcode.New(errcode.ForbiddenByPolicy, "%s", Sentence(msgTenantBlock))
	}
	ok, err := s.botReaches(ctx, b, &a, &u)
	if err != nil {
		return chat.Chat{}, err
	}
	if !ok {
		return chat.Chat{}, refused
	}
	return s.Chats.AppChat(ctx, b.TenantID, b.ID, &u)
}

// botsOf returns the apps with a registered bot installed in a chat.
func (s *Service) botsOf(ctx context.Context, c *chat.Chat) ([]Install, error) {
	if strings.Contains(c.PairKey, "|28:") {
		// A bot's 1:1 chat: its bot, as an install of its app.
		botID := c.PairKey[strings.Index(c.PairKey, "|28:")+4:]
		b, err := s.Store.FindBot(ctx, botID)
		if err != nil {
			return nil, nil
		}
		a, err := s.botApp(ctx, &b)
		if err != nil {
			return nil, nil
		}
		return []Install{{AppID: a.ID, Target: Target{InChat, string(c.ID)}, App: a}}, nil
	}
	ins, err := s.Store.FindInstalls(ctx, Target{InChat, string(c.ID)})
	if err != nil {
		return nil, err
	}
	out := ins[:0]
	for _, in := range ins {
		if in.App.BotID != "" {
			out = append(out, in)
		}
	}
	return out, nil
}

// Delivered hands a person's new message to the bots installed in its chat
// that the table lets the person use (docs/rules.md §9): the message reaches
// a bot it mentions (Mention) or, in the bot's 1:1 chat and in chats where
// it is installed, every message (Use). A refusal is silent: the message
// was sent to the people; the bot does not get it.
func (s *Service) Delivered(ctx context.Context, actor *identity.User, m *chat.Message) {
	if s.Notify == nil || m.App.ID != "" {
		return
	}
	c, members, err := s.Store.FindChatAny(ctx, m.ChatID)
	if err != nil {
		return
	}
	ins, err := s.botsOf(ctx, &c)
	if err != nil || len(ins) == 0 {
		return
	}
	p := place{host: c.TenantID, context: contextOf(&c), chat: &c, members: members}
	if p.host == "" {
		return
	}
	for _, in := range ins {
		b, err := s.Store.FindBot(ctx, in.App.BotID)
		if err != nil {
			continue
		}
		action := Use
		if strings.Contains(m.Content, "<at>"+b.DisplayName+"</at>") {
			action = Mention
		}
		f, err := s.facts(ctx, actor, p, action, &in.App)
		if err != nil {
			continue
		}
		f.Installed = true
		if d := May(&f); !d.Allowed {
			continue
		}
		s.Notify.Message(ctx, MessageEvent{Bot: b, App: in.App, Chat: c, From: *actor, Who: f.Who, Message: *m})
	}
}

// Card action kinds.
const (
	Submit  = "Action.Submit"
	Execute = "Action.Execute"
)

// CardAction is a person acting on a bot's Adaptive Card (docs/rules.md §9:
// anonymous people always may, others as the table says). Action.Submit
// reaches the bot as a message with the data as its value; Action.Execute
// as an adaptiveCard/action invoke whose answer card replaces the message.
// It returns the bot's answer card (Execute) or nil. Errors: notFound,
// forbiddenByPolicy, badRequest, and a bot that does not answer in time.
func (s *Service) CardAction(ctx context.Context, actor *identity.User, chatID chat.ID, mid chat.MessageID, kind string, data []byte, verb string) ([]byte, error) {
	if kind != Submit && kind != Execute {
		return nil, errcode.New(errcode.BadRequest, "type must be Action.Submit or Action.Execute.")
	}
	if kind == Execute && verb == "" {
		return nil, errcode.New(errcode.BadRequest, "verb is required for Action.Execute.")
	}
	c, err := s.Chats.Get(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	m, err := s.Chats.Message(ctx, actor, chatID, mid)
	if err != nil {
		return nil, err
	}
	noCard := errcode.New(errcode.BadRequest, "Message %d has no card of a bot to act on.", mid)
	if m.App.ID == "" || !slices.ContainsFunc(m.Attachments, func(a chat.Attachment) bool { return a.ContentType == chat.AdaptiveCardType }) {
		return nil, noCard
	}
	b, err := s.Store.FindBot(ctx, m.App.ID)
	if err != nil {
		return nil, errcode.New(errcode.NotFound, "The bot of message %d is gone.", mid)
	}
	a, err := s.botApp(ctx, &b)
	if err != nil {
		return nil, err
	}
	_, members, err := s.Store.FindChatAny(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	p := place{host: c.TenantID, context: contextOf(&c), chat: &c, members: members}
	f, err := s.facts(ctx, actor, p, Card, &a)
	if err != nil {
		return nil, err
	}
	// The card is there: its bot wrote in this chat, so it is installed
	// here (or it is the bot's 1:1 chat).
	f.Installed = true
	if d := May(&f); !d.Allowed {
		return nil, d.Err()
	}
	if s.Notify == nil {
		return nil, errcode.New(errcode.NotFound, "No bot answers here.")
	}
	if len(data) == 0 {
		data = []byte("{}")
	}
	if !json.Valid(data) {
		return nil, errcode.New(errcode.BadRequest, "data must be a JSON object.")
	}
	ev := MessageEvent{Bot: b, App: a, Chat: c, From: *actor, Who: f.Who, Message: m, Value: data, Verb: verb}
	if kind == Submit {
		s.Notify.Message(ctx, ev)
		return nil, nil
	}
	ev.Name = "adaptiveCard/action"
	res, err := s.Notify.Invoke(ctx, ev)
	if err != nil {
		return nil, err
	}
	if res.Status >= 400 {
		return nil, errcode.New(errcode.BadRequest, "The bot refused the action (status %d).", res.Status)
	}
	if res.Type == chat.AdaptiveCardType && len(res.Value) > 0 {
		att := chat.Attachment{ContentType: chat.AdaptiveCardType, Content: string(res.Value)}
		if _, err := s.Chats.EditAsApp(ctx, c.ID, mid, b.ID, chat.Body{ContentType: m.ContentType, Content: m.Content, Attachments: []chat.Attachment{att}}); err != nil {
			return nil, err
		}
		return res.Value, nil
	}
	return res.Body, nil
}

// BotByID returns the bot a valid token names. Errors: unauthenticated (a
// bot deleted since).
func (s *Service) BotByID(ctx context.Context, id string) (Bot, error) {
	b, err := s.Store.FindBot(ctx, id)
	if err != nil {
		return Bot{}, errcode.New(errcode.Unauthenticated, "The bot token names no registered bot.")
	}
	return b, nil
}

// WhoIn is a person's kind toward a host tenant (docs/rules.md §9).
func (s *Service) WhoIn(u *identity.User, host identity.TenantID) Who { return whoIn(u, host) }

// MessageExtension runs a message-extension search command of an app
// installed in a chat (docs/rules.md §9 "run a message extension") as a
// composeExtension/query invoke, and returns the bot's answer. Errors:
// notFound, forbiddenByPolicy, badRequest, badGateway.
func (s *Service) MessageExtension(ctx context.Context, actor *identity.User, chatID chat.ID, appID string, query []byte) ([]byte, error) {
	c, err := s.Chats.Get(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	if !json.Valid(query) {
		return nil, errcode.New(errcode.BadRequest, "The query must be a JSON object with commandId and parameters.")
	}
	_, members, err := s.Store.FindChatAny(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	p := place{host: c.TenantID, context: contextOf(&c), chat: &c, members: members}
	a, err := s.Store.FindApp(ctx, c.TenantID, appID)
	if err != nil {
		return nil, errcode.New(errcode.NotFound, "No app %s is installed here.", appID)
	}
	f, err := s.facts(ctx, actor, p, MessageExtension, &a)
	if err != nil {
		return nil, err
	}
	if f.Installed, err = s.installedFor(ctx, actor, p, a.ID); err != nil {
		return nil, err
	}
	if d := May(&f); !d.Allowed {
		return nil, d.Err()
	}
	if a.BotID == "" || len(a.Commands) == 0 || s.Notify == nil {
		return nil, errcode.New(errcode.BadRequest, "App %s has no message extension.", appID)
	}
	b, err := s.Store.FindBot(ctx, a.BotID)
	if err != nil {
		return nil, errcode.New(errcode.NotFound, "The bot of app %s is gone.", appID)
	}
	res, err := s.Notify.Invoke(ctx, MessageEvent{Bot: b, App: a, Chat: c, From: *actor, Who: f.Who, Value: query, Name: "composeExtension/query"})
	if err != nil {
		return nil, err
	}
	if res.Status >= 400 {
		return nil, errcode.New(errcode.BadRequest, "The bot refused the query (status %d).", res.Status)
	}
	return res.Body, nil
}

// Reacted tells a bot that a person reacted to (or took a reaction off)
// one of its messages, when the table lets the person use it; silent
// otherwise, like Delivered.
func (s *Service) Reacted(ctx context.Context, actor *identity.User, chatID chat.ID, mid chat.MessageID, reaction string, added bool) {
	if s.Notify == nil {
		return
	}
	m, err := s.Chats.Message(ctx, actor, chatID, mid)
	if err != nil || m.App.ID == "" {
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
	c, members, err := s.Store.FindChatAny(ctx, chatID)
	if err != nil || c.TenantID == "" {
		return
	}
	p := place{host: c.TenantID, context: contextOf(&c), chat: &c, members: members}
	f, err := s.facts(ctx, actor, p, Use, &a)
	if err != nil {
		return
	}
	f.Installed = true // its message is here
	if d := May(&f); !d.Allowed {
		return
	}
	s.Notify.Message(ctx, MessageEvent{Bot: b, App: a, Chat: c, From: *actor, Who: f.Who, Message: m, Reaction: reaction, Unreacted: !added})
}
