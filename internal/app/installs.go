package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/team"
)

// place is a target resolved for a person: the host tenant, the context
// of the decision, and the chat when the target is one.
type place struct {
	host    identity.TenantID
	context Context
	chat    *chat.Chat
	members []chat.Member
	// team is the team of a channel place (its installs are the team's).
	team team.ID
}

// resolve finds a target as actor sees it: a chat they are in, their own
// personal scope (or, for an admin, that of a user of their tenant).
// Errors: notFound.
func (s *Service) resolve(ctx context.Context, actor *identity.User, t Target) (place, error) {
	switch t.Kind {
	case InChat:
		c, err := s.Chats.Get(ctx, actor, chat.ID(t.ID))
		if err != nil {
			return place{}, err
		}
		_, members, err := s.Store.FindChatAny(ctx, c.ID)
		if err != nil {
			return place{}, err
		}
		return place{host: c.TenantID, context: contextOf(&c), chat: &c, members: members}, nil
	case InTeam:
		if s.Teams != nil {
			tm, err := s.Teams.Get(ctx, actor, team.ID(t.ID))
			if err != nil {
				return place{}, err
			}
			return place{host: tm.TenantID, context: Channel, team: tm.ID}, nil
		}
	case InUser:
		if t.ID == string(actor.ID) {
			return place{host: actor.TenantID, context: Personal}, nil
		}
		if actor.IsAdmin() {
			u, err := s.Store.FindUserByID(ctx, identity.UserID(t.ID))
			if err == nil && u.TenantID == actor.TenantID {
				return place{host: actor.TenantID, context: Personal}, nil
			}
		}
		return place{}, errcode.New(errcode.NotFound, "No user %s.", t.ID)
	}
	return place{}, errcode.New(errcode.NotFound, "No %s %s.", t.Kind, t.ID)
}

// facts loads what May needs for actor, an action and an app in a place.
func (s *Service) facts(ctx context.Context, actor *identity.User, p place, action Action, a *App) (Facts, error) {
	f := Facts{Who: whoIn(actor, p.host), Action: action, Context: p.context, AnonymousCanInteract: true}
	if a != nil {
		f.AppID, f.Scopes, f.BlockedTenantWide = a.ID, a.Scopes, a.Blocked
	}
	if p.host == "" {
		return f, nil
	}
	pol, err := s.permission(ctx, actor, p.host)
	if err != nil {
		return Facts{}, err
	}
	if f.Who == HostUser {
		f.OwnPolicy = &pol
	} else {
		f.HostGlobal = &pol
	}
	if f.Who == Anonymous && s.AnonymousCanInteract != nil {
		on, err := s.AnonymousCanInteract(ctx, p.host)
		if err != nil {
			return Facts{}, fmt.Errorf("meeting settings of %s: %w", p.host, err)
		}
		f.AnonymousCanInteract = on
	}
	return f, nil
}

// roleRefusal is the table's answer for a person and an action before any
// app is known, so that a person who may not install learns nothing of
// which app ids exist in another organisation's catalog.
func roleRefusal(f Facts) error {
	f.Scopes, f.AppID = ScopePersonal|ScopeGroupChat|ScopeTeam|ScopeMeeting, "any"
	all := PermissionPolicy{Name: GlobalName, Mode: AllowAll}
	f.OwnPolicy, f.HostGlobal, f.BlockedTenantWide, f.Installed = &all, &all, false, true
	d := May(&f)
	return d.Err()
}

// Installs lists the apps installed in a target: for a personal scope,
// the installs and the apps of the person's setup policy.
// Errors: notFound.
func (s *Service) Installs(ctx context.Context, actor *identity.User, t Target) ([]Install, error) {
	p, err := s.resolve(ctx, actor, t)
	if err != nil {
		return nil, err
	}
	ins, err := s.Store.FindInstalls(ctx, t)
	if err != nil {
		return nil, err
	}
	if t.Kind == InUser {
		return s.withSetup(ctx, identity.UserID(t.ID), p.host, ins)
	}
	return ins, nil
}

// AllowedUses answers, for each install of a target, the actions the actor
// may take with it there (docs/rules.md §9), each asked of May as the
// invocation itself would be, so that a client offers only what the server
// would accept and never works the table out itself. The answer is a hint:
// every invocation is still decided when it is made.
func (s *Service) AllowedUses(ctx context.Context, actor *identity.User, t Target, ins []Install) ([][]Action, error) {
	p, err := s.resolve(ctx, actor, t)
	if err != nil {
		return nil, err
	}
	out := make([][]Action, len(ins))
	for i := range ins {
		out[i] = []Action{}
		for _, action := range []Action{Remove, Use, Mention, Card, OpenTab, MessageExtension} {
			f, err := s.facts(ctx, actor, p, action, &ins[i].App)
			if err != nil {
				return nil, err
			}
			f.Installed = true
			if d := May(&f); d.Allowed {
				out[i] = append(out[i], action)
			}
		}
	}
	return out, nil
}

// withSetup adds the apps of a user's setup policy to their personal
// installs (docs/rules.md §9: guests always have Global's).
func (s *Service) withSetup(ctx context.Context, user identity.UserID, host identity.TenantID, ins []Install) ([]Install, error) {
	if host == "" {
		return ins, nil
	}
	name, err := s.Store.FindAppGrant(ctx, user, SetupKind)
	if err != nil {
		return nil, err
	}
	sp, err := s.Store.FindAppPolicy(ctx, host, SetupKind, name)
	if err != nil {
		return nil, err
	}
	for _, id := range sp.Apps {
		if slices.ContainsFunc(ins, func(in Install) bool { return in.AppID == id }) {
			continue
		}
		a, err := s.Store.FindApp(ctx, host, id)
		if err != nil {
			continue // deleted from the catalog since
		}
		ins = append(ins, Install{ID: "setup-" + id, TenantID: host, AppID: id, Target: Target{InUser, string(user)}, Version: a.Version,
			Pinned: slices.Contains(sp.Pinned, id), CreatedAt: a.CreatedAt, App: a})
	}
	return ins, nil
}

// Install adds an app of the host's catalog to a target, as May allows
// (docs/rules.md §9), and tells its bot. deepLink marks an install from a
// shared link: a guest's lands in their personal scope only, unpinned.
// Errors: notFound, forbiddenByPolicy, badRequest (scope), conflict.
func (s *Service) Install(ctx context.Context, actor *identity.User, t Target, appID string, deepLink bool) (Install, error) {
	p, err := s.resolve(ctx, actor, t)
	if err != nil {
		return Install{}, err
	}
	action := Add
	if deepLink {
		action = DeepLink
	}
	f, err := s.facts(ctx, actor, p, action, nil)
	if err != nil {
		return Install{}, err
	}
	a, err := s.Store.FindApp(ctx, p.host, appID)
	if err != nil || p.host == "" {
		if rerr := roleRefusal(f); rerr != nil {
			return Install{}, rerr
		}
		return Install{}, errcode.New(errcode.NotFound, "No app %s in this organisation's catalog.", appID)
	}
	f.AppID, f.Scopes, f.BlockedTenantWide = a.ID, a.Scopes, a.Blocked
	d := May(&f)
	if !d.Allowed {
		return Install{}, d.Err()
	}
	in := Install{ID: NewID(), TenantID: p.host, AppID: a.ID, Target: t, Version: a.Version, InstalledBy: actor.ID,
		Pinned: t.Kind == InUser && !d.NoPin, CreatedAt: s.Now(), App: a}
	evs, err := s.Store.CreateInstall(ctx, in, s.changeDrafts(ctx, t, a.ID, ChangeAdded))
	if err != nil {
		return Install{}, err
	}
	s.publish(ctx, evs)
	s.audit(ctx, actor, "app.install", a.ID, map[string]any{"target": string(t.Kind), "targetId": t.ID, "deepLink": deepLink})
	s.notifyInstalled(ctx, actor, in)
	return in, nil
}

// Upgrade moves an install to the catalog's current version. Errors:
// notFound, forbiddenByPolicy.
func (s *Service) Upgrade(ctx context.Context, actor *identity.User, t Target, id string) (Install, error) {
	in, p, err := s.install(ctx, actor, t, id)
	if err != nil {
		return Install{}, err
	}
	f, err := s.facts(ctx, actor, p, Update, &in.App)
	if err != nil {
		return Install{}, err
	}
	if d := May(&f); !d.Allowed {
		return Install{}, d.Err()
	}
	in.Version = in.App.Version
	evs, err := s.Store.UpdateInstall(ctx, in, s.changeDrafts(ctx, t, in.AppID, ChangeUpdated))
	if err != nil {
		return Install{}, err
	}
	s.publish(ctx, evs)
	s.audit(ctx, actor, "app.upgrade", in.AppID, map[string]any{"target": string(t.Kind), "targetId": t.ID, "version": in.Version})
	return in, nil
}

// Uninstall removes an install and tells its bot. Errors: notFound,
// forbiddenByPolicy.
func (s *Service) Uninstall(ctx context.Context, actor *identity.User, t Target, id string) error {
	in, p, err := s.install(ctx, actor, t, id)
	if err != nil {
		return err
	}
	f, err := s.facts(ctx, actor, p, Remove, &in.App)
	if err != nil {
		return err
	}
	if d := May(&f); !d.Allowed {
		return d.Err()
	}
	evs, err := s.Store.DeleteInstall(ctx, t, id, s.changeDrafts(ctx, t, in.AppID, ChangeRemoved))
	if err != nil {
		return err
	}
	s.publish(ctx, evs)
	s.audit(ctx, actor, "app.uninstall", in.AppID, map[string]any{"target": string(t.Kind), "targetId": t.ID})
	s.notifyRemoved(ctx, actor, in)
	return nil
}

func (s *Service) install(ctx context.Context, actor *identity.User, t Target, id string) (Install, place, error) {
	p, err := s.resolve(ctx, actor, t)
	if err != nil {
		return Install{}, place{}, err
	}
	ins, err := s.Store.FindInstalls(ctx, t)
	if err != nil {
		return Install{}, place{}, err
	}
	for _, in := range ins {
		if in.ID == id {
			return in, p, nil
		}
	}
	return Install{}, place{}, errcode.New(errcode.NotFound, "No installed app %s here.", id)
}

func (s *Service) notifyInstalled(ctx context.Context, actor *identity.User, in Install) {
	if ev, ok := s.event(ctx, actor, in); ok {
		s.Notify.Installed(ctx, ev)
	}
}

func (s *Service) notifyRemoved(ctx context.Context, actor *identity.User, in Install) {
	if ev, ok := s.event(ctx, actor, in); ok {
		s.Notify.Removed(ctx, ev)
	}
}

func (s *Service) event(ctx context.Context, actor *identity.User, in Install) (InstallEvent, bool) {
	if s.Notify == nil || in.App.BotID == "" {
		return InstallEvent{}, false
	}
	b, err := s.Store.FindBot(ctx, in.App.BotID)
	if err != nil {
		return InstallEvent{}, false // unregistered since: nobody to tell
	}
	ev := InstallEvent{Bot: b, App: in.App, Install: in, Actor: *actor}
	switch in.Target.Kind {
	case InChat:
		c, _, err := s.Store.FindChatAny(ctx, chat.ID(in.Target.ID))
		if err != nil {
			return InstallEvent{}, false
		}
		ev.Chat = &c
	case InTeam:
		t, _, err := s.Store.FindTeam(ctx, team.ID(in.Target.ID))
		if err != nil {
			return InstallEvent{}, false
		}
		g, err := s.general(ctx, t.ID)
		if err != nil {
			return InstallEvent{}, false
		}
		ev.Team, ev.General = &t, &g
	}
	return ev, true
}

// The changes installedAppsChanged names.
const (
	ChangeAdded   = "added"
	ChangeUpdated = "updated"
	ChangeRemoved = "removed"
)

// changeDrafts are the installedAppsChanged events of an app added,
// upgraded or removed in a chat (to its accepted members) or a team (to
// all its members): {"type","chatId"|"teamId","appId","change"}. A
// personal install tells nobody: only its holder lists it. A failed read
// of the members costs the live update only; clients still read the list.
func (s *Service) changeDrafts(ctx context.Context, t Target, appID, change string) []event.Draft {
	if s.Bus == nil {
		return nil
	}
	var users []identity.UserID
	key := "chatId"
	switch t.Kind {
	case InChat:
		_, members, err := s.Store.FindChatAny(ctx, chat.ID(t.ID))
		if err != nil {
			return nil
		}
		for _, m := range members {
			if m.UserID != "" && m.State == chat.Accepted {
				users = append(users, m.UserID)
			}
		}
	case InTeam:
		key = "teamId"
		_, members, err := s.Store.FindTeam(ctx, team.ID(t.ID))
		if err != nil {
			return nil
		}
		for _, m := range members {
			users = append(users, m.UserID)
		}
	default:
		return nil
	}
	payload, err := json.Marshal(map[string]string{"type": string(event.InstalledAppsChanged), key: t.ID, "appId": appID, "change": change})
	if err != nil {
		return nil // unreachable: strings only
	}
	out := make([]event.Draft, 0, len(users))
	for _, u := range users {
		out = append(out, event.Draft{UserID: u, Type: event.InstalledAppsChanged, ChatID: t.ID, Payload: payload})
	}
	return out
}

// publish wakes the connections of committed events; a failed publish
// loses nothing (events are stored, clients replay).
func (s *Service) publish(ctx context.Context, evs []event.Event) {
	if s.Bus != nil && len(evs) > 0 {
		_ = s.Bus.Publish(ctx, evs)
	}
}
