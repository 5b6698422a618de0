package app

import (
	"context"
	"encoding/json"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/team"
)

// Mentions reports whether a message's content @mentions a bot by its
// name: <at>Name</at>, with or without attributes, as Teams writes it.
func Mentions(content, name string) bool {
	if name == "" || !strings.Contains(content, "<at") {
		return false
	}
	re, err := regexp.Compile(`(?i)<at(\s[^>]*)?>\s*` + regexp.QuoteMeta(html.EscapeString(name)) + `\s*</at>`)
	return err == nil && re.MatchString(content)
}

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

// Conv is a conversation a bot may write to: a chat (its app installed
// there, or the bot's 1:1 chat with a person), or a channel of a team its
// app is installed in, with the thread a conversation id names.
type Conv struct {
	App App
	// Chat and Members for a chat.
	Chat    *chat.Chat
	Members []chat.Member
	// Team, TeamMembers, Channel and Thread for a channel.
	Team        *team.Team
	TeamMembers []team.Member
	Channel     *team.Channel
	Thread      chat.MessageID
}

// Host is the organisation that hosts the conversation.
func (c *Conv) Host() identity.TenantID {
	if c.Team != nil {
		return c.Team.TenantID
	}
	return c.Chat.TenantID
}

// People are the conversation's people: a chat's accepted members (a
// pending request's target is not yet in it), a channel's team.
func (c *Conv) People() []identity.User {
	var out []identity.User
	if c.Team != nil {
		for _, m := range c.TeamMembers {
			out = append(out, m.User)
		}
		return out
	}
	for _, m := range c.Members {
		if m.UserID != "" && m.State == chat.Accepted {
			out = append(out, m.User)
		}
	}
	return out
}

// splitConversation splits a conversation id into the chat or channel and
// the thread ("{channel};messageid={id}", as Teams names a channel thread).
func splitConversation(id string) (string, chat.MessageID, bool) {
	base, thread, ok := strings.Cut(id, ";messageid=")
	if !ok {
		return id, 0, true
	}
	n, err := strconv.ParseInt(thread, 10, 64)
	return base, chat.MessageID(n), err == nil && n > 0
}

// BotConversation returns a conversation a bot may write to. Errors:
// notFound, forbiddenByPolicy (the app is blocked for the whole tenant).
func (s *Service) BotConversation(ctx context.Context, b *Bot, id string) (Conv, error) {
	a, err := s.botApp(ctx, b)
	if err != nil {
		return Conv{}, err
	}
	none := errcode.New(errcode.NotFound, "No conversation %s for this bot.", id)
	base, thread, ok := splitConversation(id)
	if !ok {
		return Conv{}, none
	}
	var cv Conv
	if c, members, err := s.Store.FindChatAny(ctx, chat.ID(base)); err == nil {
		if thread != 0 {
			return Conv{}, none // chats have no threads
		}
		if !botChatKey(&c, b.ID) {
			ins, err := s.Store.FindInstalls(ctx, Target{InChat, string(c.ID)})
			if err != nil {
				return Conv{}, err
			}
			if !slices.ContainsFunc(ins, func(in Install) bool { return in.AppID == a.ID }) {
				return Conv{}, none
			}
		}
		cv = Conv{App: a, Chat: &c, Members: members}
	} else {
		tid, err := s.Store.FindChannelTeam(ctx, team.ChannelID(base))
		if err != nil || s.Teams == nil {
			return Conv{}, none
		}
		t, members, err := s.Store.FindTeam(ctx, tid)
		if err != nil {
			return Conv{}, none
		}
		ch, err := s.Store.FindChannel(ctx, tid, team.ChannelID(base), "")
		if err != nil {
			return Conv{}, none
		}
		ins, err := s.Store.FindInstalls(ctx, Target{InTeam, string(tid)})
		if err != nil {
			return Conv{}, err
		}
		if !slices.ContainsFunc(ins, func(in Install) bool { return in.AppID == a.ID }) {
			return Conv{}, none
		}
		cv = Conv{App: a, Team: &t, TeamMembers: members, Channel: &ch, Thread: thread}
	}
	if a.Blocked {
		return Conv{}, errcode.New(errcode.ForbiddenByPolicy, "%s", Sentence(msgTenantBlock))
	}
	return cv, nil
}

// BotSend posts a bot's message: to a chat, to a channel (a new thread),
// or in a channel's thread. It returns the message's id and the
// conversation it is in (a new channel post: its thread). Errors:
// notFound, forbiddenByPolicy, badRequest.
func (s *Service) BotSend(ctx context.Context, b *Bot, convID string, body chat.Body) (chat.MessageID, string, error) {
	cv, err := s.BotConversation(ctx, b, convID)
	if err != nil {
		return 0, "", err
	}
	as := chat.Application{ID: b.ID, DisplayName: b.DisplayName}
	if cv.Channel != nil {
		m, err := s.Teams.SendAsApp(ctx, cv.Channel.ID, cv.Thread, as, body)
		if err != nil {
			return 0, "", err
		}
		thread := cv.Thread
		if thread == 0 {
			thread = m.ID
		}
		return m.ID, string(cv.Channel.ID) + ";messageid=" + strconv.FormatInt(int64(thread), 10), nil
	}
	m, err := s.Chats.SendAsApp(ctx, cv.Chat.ID, as, body)
	if err != nil {
		return 0, "", err
	}
	return m.ID, string(cv.Chat.ID), nil
}

// BotUpdate replaces a bot's own message. Errors: notFound, forbiddenByPolicy, badRequest.
func (s *Service) BotUpdate(ctx context.Context, b *Bot, convID string, mid chat.MessageID, body chat.Body) (chat.MessageID, error) {
	cv, err := s.BotConversation(ctx, b, convID)
	if err != nil {
		return 0, err
	}
	if cv.Channel != nil {
		m, err := s.Teams.EditAsApp(ctx, cv.Channel.ID, mid, b.ID, body)
		return m.ID, err
	}
	m, err := s.Chats.EditAsApp(ctx, cv.Chat.ID, mid, b.ID, body)
	return m.ID, err
}

// BotDelete deletes a bot's own message. Errors: notFound, forbiddenByPolicy.
func (s *Service) BotDelete(ctx context.Context, b *Bot, convID string, mid chat.MessageID) error {
	cv, err := s.BotConversation(ctx, b, convID)
	if err != nil {
		return err
	}
	if cv.Channel != nil {
		return s.Teams.DeleteAsApp(ctx, cv.Channel.ID, mid, b.ID)
	}
	return s.Chats.DeleteAsApp(ctx, cv.Chat.ID, mid, b.ID)
}

// BotMembers lists the people of a bot's conversation and the
// organisation that hosts it. Errors: notFound, forbiddenByPolicy.
func (s *Service) BotMembers(ctx context.Context, b *Bot, convID string) (identity.TenantID, []identity.User, error) {
	cv, err := s.BotConversation(ctx, b, convID)
	if err != nil {
		return "", nil, err
	}
	return cv.Host(), cv.People(), nil
}

// botReaches reports whether a bot may open a 1:1 conversation with a
// person: they share a conversation its app is installed in (a chat, or a
// team, whose channels all its members are in), or its app is installed
// for them personally (by them, or by their setup policy).
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
		case InTeam:
			_, members, err := s.Store.FindTeam(ctx, team.ID(in.Target.ID))
			if err != nil {
				continue
			}
			if slices.ContainsFunc(members, func(m team.Member) bool { return m.UserID == u.ID }) {
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
	c, _, err := s.Chats.AppChat(ctx, b.TenantID, b.ID, chat.Application{ID: a.ID, DisplayName: a.DisplayName}, &u)
	return c, err
}

// isBotChat reports whether c is a bot's 1:1 chat, where the bot gets
// every message without an install.
func isBotChat(c *chat.Chat) bool { return strings.Contains(c.PairKey, "|28:") }

// botsOf returns the apps with a registered bot installed in a chat.
func (s *Service) botsOf(ctx context.Context, c *chat.Chat) ([]Install, error) {
	if isBotChat(c) {
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
	c, installed, err := s.Store.FindChatInstalled(ctx, m.ChatID)
	if err != nil {
		return
	}
	if !installed && !isBotChat(&c) {
		// The common case: no app in the chat, so no bot to tell, no
		// installs to read and no members to copy. The answer is as
		// current as the chat's members (docs/decisions.md, "Bots: the
		// installs of a chat").
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
		if Mentions(m.Content, b.DisplayName) {
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
	if err := checkCardAction(kind, verb); err != nil {
		return nil, err
	}
	c, err := s.Chats.Get(ctx, actor, chatID)
	if err != nil {
		return nil, err
	}
	m, err := s.Chats.Message(ctx, actor, chatID, mid)
	if err != nil {
		return nil, err
	}
	_, members, err := s.Store.FindChatAny(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	w := cardPlace{p: place{host: c.TenantID, context: contextOf(&c), chat: &c, members: members},
		ev: MessageEvent{Chat: c},
		edit: func(botID string, b chat.Body) error {
			_, err := s.Chats.EditAsApp(ctx, c.ID, mid, botID, b)
			return err
		}}
	return s.cardAction(ctx, actor, w, m, kind, data, verb)
}

// cardBot returns the bot a card's actions reach, with its app: the bot
// that sent the message, or for a person's message whose card came from an
// app's message extension (via), that app's bot.
func (s *Service) cardBot(ctx context.Context, p place, m *chat.Message) (Bot, App, bool, error) {
	if !hasCard(m) || (m.App.ID == "" && m.Via.ID == "") {
		return Bot{}, App{}, false, errcode.New(errcode.BadRequest, "Message %d has no card of a bot to act on.", m.ID)
	}
	if m.App.ID != "" {
		b, err := s.Store.FindBot(ctx, m.App.ID)
		if err != nil {
			return Bot{}, App{}, false, errcode.New(errcode.NotFound, "The bot of message %d is gone.", m.ID)
		}
		a, err := s.botApp(ctx, &b)
		return b, a, false, err
	}
	a, err := s.Store.FindApp(ctx, p.host, m.Via.ID)
	if err != nil {
		return Bot{}, App{}, true, errcode.New(errcode.NotFound, "The app %s this card came from is no longer in the catalog.", m.Via.DisplayName)
	}
	b, err := s.Store.FindBot(ctx, a.BotID)
	if a.BotID == "" || err != nil {
		return Bot{}, App{}, true, errcode.New(errcode.NotFound, "The app %s this card came from has no bot.", a.DisplayName)
	}
	return b, a, true, nil
}

// cardAction decides and delivers a card action on message m wherever it
// is: a bot's card, or a card a person posted from an app's message
// extension (its actions reach that app's bot while the app is installed
// there; the bot's answer card is returned and the person's message is
// left as it is).
func (s *Service) cardAction(ctx context.Context, actor *identity.User, w cardPlace, m chat.Message, kind string, data []byte, verb string) ([]byte, error) {
	b, a, via, err := s.cardBot(ctx, w.p, &m)
	if err != nil {
		return nil, err
	}
	f, err := s.facts(ctx, actor, w.p, Card, &a)
	if err != nil {
		return nil, err
	}
	if via {
		// A card from an extension's result acts for those who have that
		// extension there, as its poster did.
		if f.Installed, err = s.extensionInstalled(ctx, actor, w.p, a.ID); err != nil {
			return nil, err
		}
	} else {
		// The bot wrote here, so it is installed here (or it is the
		// bot's 1:1 chat).
		f.Installed = true
	}
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
	ev := w.ev
	ev.Bot, ev.App, ev.From, ev.Who, ev.Message, ev.Value, ev.Verb = b, a, *actor, f.Who, m, data, verb
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
		if via {
			return res.Value, nil
		}
		att := chat.Attachment{ContentType: chat.AdaptiveCardType, Content: string(res.Value)}
		if err := w.edit(b.ID, chat.Body{ContentType: m.ContentType, Content: m.Content, Attachments: []chat.Attachment{att}}); err != nil {
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

// Reacted tells a bot that a person reacted to (or took a reaction off)
// one of its messages, when the table lets the person use it; silent
// otherwise, like Delivered. The chat service calls it (chat.Deps.Reacted)
// once the reaction is stored.
func (s *Service) Reacted(ctx context.Context, actor *identity.User, m *chat.Message, reaction string, added bool) {
	if s.Notify == nil || m.App.ID == "" {
		return
	}
	chatID := m.ChatID
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
	s.Notify.Message(ctx, MessageEvent{Bot: b, App: a, Chat: c, From: *actor, Who: f.Who, Message: *m, Reaction: reaction, Unreacted: !added})
}
