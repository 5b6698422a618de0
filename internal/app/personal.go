package app

import (
	"context"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

// OpenBotChat opens a person's 1:1 chat with an app's bot, as Teams does
// when someone opens a bot's personal app: the app is installed in their
// personal scope first if it is not there yet (installed, or by their setup
// policy), decided as an install from a shared link (docs/rules.md §9:
// guests may, in their personal scope only); then its use there is
// decided by May. The chat is the one the bot's proactive
// POST /v3/conversations opens (BotCreateConversation), so both meet in
// one chat. The bot is told (conversationUpdate, membersAdded: the bot) by
// the call that created the chat, once. created reports that call.
// Errors: notFound, forbiddenByPolicy, badRequest (an app without a bot,
// or whose manifest lacks the personal scope).
func (s *Service) OpenBotChat(ctx context.Context, actor *identity.User, appID string) (c chat.Chat, created bool, err error) {
	p := place{host: actor.TenantID, context: Personal}
	f, err := s.facts(ctx, actor, p, DeepLink, nil)
	if err != nil {
		return chat.Chat{}, false, err
	}
	a, err := s.Store.FindApp(ctx, p.host, appID)
	if err != nil || p.host == "" {
		if rerr := roleRefusal(f); rerr != nil {
			return chat.Chat{}, false, rerr
		}
		return chat.Chat{}, false, errcode.New(errcode.NotFound, "No app %s in this organisation's catalog.", appID)
	}
	installed, err := s.installedFor(ctx, actor, p, a.ID)
	if err != nil {
		return chat.Chat{}, false, err
	}
	if !installed {
		// Of calls racing to install it, one wins; the others find it
		// installed (conflict), which is all they need.
		if _, err := s.Install(ctx, actor, Target{InUser, string(actor.ID)}, a.ID, true); err != nil && !errcode.Is(err, errcode.Conflict) {
			return chat.Chat{}, false, err
		}
	}
	if f, err = s.facts(ctx, actor, p, Use, &a); err != nil {
		return chat.Chat{}, false, err
	}
	f.Installed = true
	if d := May(&f); !d.Allowed {
		return chat.Chat{}, false, d.Err()
	}
	if a.BotID == "" {
		return chat.Chat{}, false, errcode.New(errcode.BadRequest, "App %s has no bot to chat with.", appID)
	}
	b, err := s.Store.FindBot(ctx, a.BotID)
	if err != nil {
		return chat.Chat{}, false, errcode.New(errcode.NotFound, "The bot of app %s is gone.", appID)
	}
	c, created, err = s.Chats.AppChat(ctx, b.TenantID, b.ID, chat.Application{ID: a.ID, DisplayName: a.DisplayName}, actor)
	if err != nil {
		return chat.Chat{}, false, err
	}
	if created && s.Notify != nil {
		s.Notify.Installed(ctx, InstallEvent{Bot: b, App: a, Install: Install{ID: "personal-" + string(c.ID), TenantID: p.host, AppID: a.ID,
			Target: Target{InUser, string(actor.ID)}, App: a}, Actor: *actor, Chat: &c})
	}
	return c, created, nil
}
