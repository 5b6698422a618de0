package app

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/team"
)

// PolicyPatch holds what an admin sets on an app policy; nil leaves a
// field as is (on a new permission policy the mode is allowAll).
type PolicyPatch struct {
	Mode   *Mode
	Apps   *[]string
	Pinned *[]string
}

func checkPolicyName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 64 || strings.TrimSpace(name) != name {
		return errcode.New(errcode.BadRequest, "A policy name has 1 to 64 characters without leading or trailing spaces.")
	}
	for _, r := range name {
		if r < ' ' || r == '/' || r == '?' || r == '#' || r == '%' {
			return errcode.New(errcode.BadRequest, "A policy name may not contain control characters or / ? # %%.")
		}
	}
	return nil
}

// apply sets the patch on p, checking that every app is in the tenant's catalog.
func (s *Service) apply(ctx context.Context, tenant identity.TenantID, p *StoredPolicy, in PolicyPatch) error {
	if in.Mode != nil {
		if p.Kind != PermissionKind {
			return errcode.New(errcode.BadRequest, "mode belongs to app permission policies.")
		}
		if !in.Mode.Valid() {
			return errcode.New(errcode.BadRequest, "mode must be allowAll, allowListed or blockListed.")
		}
		p.Mode = *in.Mode
	}
	if in.Pinned != nil && p.Kind != SetupKind {
		return errcode.New(errcode.BadRequest, "pinnedAppIds belongs to app setup policies.")
	}
	for _, l := range []*[]string{in.Apps, in.Pinned} {
		if l == nil {
			continue
		}
		if len(*l) > 200 {
			return errcode.New(errcode.BadRequest, "A policy may list at most 200 apps.")
		}
		for _, id := range *l {
			if _, err := s.Store.FindApp(ctx, tenant, id); err != nil {
				return errcode.New(errcode.BadRequest, "App %q is not in this organisation's catalog.", id)
			}
		}
	}
	if in.Apps != nil {
		p.Apps = slices.Compact(slices.Sorted(slices.Values(*in.Apps)))
	}
	if in.Pinned != nil {
		p.Pinned = slices.Clone(*in.Pinned)
	}
	return nil
}

// AppPolicies lists a tenant's policies of a kind, Global first. Errors: forbidden.
func (s *Service) AppPolicies(ctx context.Context, actor *identity.User, k PolicyKind) ([]StoredPolicy, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	return s.Store.FindAppPolicies(ctx, actor.TenantID, k)
}

// AppPolicy returns one policy. Errors: forbidden, notFound.
func (s *Service) AppPolicy(ctx context.Context, actor *identity.User, k PolicyKind, name string) (StoredPolicy, error) {
	if err := requireAdmin(actor); err != nil {
		return StoredPolicy{}, err
	}
	return s.Store.FindAppPolicy(ctx, actor.TenantID, k, name)
}

// CreateAppPolicy creates a custom policy. Errors: forbidden, badRequest, conflict.
func (s *Service) CreateAppPolicy(ctx context.Context, actor *identity.User, k PolicyKind, name string, in PolicyPatch) (StoredPolicy, error) {
	if err := requireAdmin(actor); err != nil {
		return StoredPolicy{}, err
	}
	if err := checkPolicyName(name); err != nil {
		return StoredPolicy{}, err
	}
	p := DefaultPolicy(k)
	p.Name = name
	if err := s.apply(ctx, actor.TenantID, &p, in); err != nil {
		return StoredPolicy{}, err
	}
	if err := s.Store.SaveAppPolicy(ctx, actor.TenantID, p, true); err != nil {
		return StoredPolicy{}, err
	}
	s.audit(ctx, actor, "app"+title(k)+"Policy.create", name, PolicyMap(p))
	return p, nil
}

func title(k PolicyKind) string { return strings.ToUpper(string(k[:1])) + string(k[1:]) }

// PolicyMap renders a policy for audit.
func PolicyMap(p StoredPolicy) map[string]any {
	m := map[string]any{"name": p.Name, "appIds": p.Apps}
	if p.Kind == PermissionKind {
		m["mode"] = string(p.Mode)
	} else {
		m["pinnedAppIds"] = p.Pinned
	}
	return m
}

// UpdateAppPolicy changes a policy. Errors: forbidden, notFound, badRequest.
func (s *Service) UpdateAppPolicy(ctx context.Context, actor *identity.User, k PolicyKind, name string, in PolicyPatch) (StoredPolicy, error) {
	p, err := s.AppPolicy(ctx, actor, k, name)
	if err != nil {
		return StoredPolicy{}, err
	}
	before := PolicyMap(p)
	if err := s.apply(ctx, actor.TenantID, &p, in); err != nil {
		return StoredPolicy{}, err
	}
	if err := s.Store.SaveAppPolicy(ctx, actor.TenantID, p, false); err != nil {
		return StoredPolicy{}, err
	}
	s.audit(ctx, actor, "app"+title(k)+"Policy.update", name, map[string]any{"before": before, "after": PolicyMap(p)})
	return p, nil
}

// DeleteAppPolicy deletes a custom policy. Errors: forbidden, conflict
// (Global), notFound, policyInUse.
func (s *Service) DeleteAppPolicy(ctx context.Context, actor *identity.User, k PolicyKind, name string, resetUsers bool) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	if name == GlobalName {
		return errcode.New(errcode.Conflict, "The Global policy cannot be deleted; change it instead.")
	}
	n, err := s.Store.DeleteAppPolicy(ctx, actor.TenantID, k, name, resetUsers)
	if err != nil {
		return err
	}
	s.audit(ctx, actor, "app"+title(k)+"Policy.delete", name, map[string]any{"usersReset": n})
	return nil
}

// GrantAppPolicy grants a policy to users of the actor's tenant; Global
// resets them. Guests always have Global and cannot be granted another
// (docs/rules.md §9). Errors: forbidden, notFound, badRequest.
func (s *Service) GrantAppPolicy(ctx context.Context, actor *identity.User, k PolicyKind, name string, users []identity.UserID) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	if len(users) == 0 || len(users) > 1000 {
		return errcode.New(errcode.BadRequest, "userIds must list between 1 and 1000 users.")
	}
	if _, err := s.Store.FindAppPolicy(ctx, actor.TenantID, k, name); err != nil {
		return err
	}
	for _, id := range users {
		u, err := s.Store.FindUserByID(ctx, id)
		if err != nil || u.TenantID != actor.TenantID {
			return errcode.New(errcode.BadRequest, "No user %s in this organisation.", id)
		}
		if u.Kind == identity.Guest && name != GlobalName {
			return errcode.New(errcode.BadRequest, "Guests always have the Global app %s policy; %s is a guest. To keep an app from guests, grant a custom policy to internal people instead.", k, id)
		}
	}
	if err := s.Store.GrantAppPolicy(ctx, actor.TenantID, k, name, users); err != nil {
		return err
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = string(u)
	}
	s.audit(ctx, actor, "app"+title(k)+"Policy.grant", name, map[string]any{"userIds": ids})
	return nil
}

// AppGrants returns who holds which policy of a kind (users without a
// grant hold Global and are not listed). Errors: forbidden.
func (s *Service) AppGrants(ctx context.Context, actor *identity.User, k PolicyKind) (map[identity.UserID]string, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	return s.Store.FindAppGrants(ctx, actor.TenantID, k)
}

// Explanation answers "can this person use this app here, and why".
type Explanation struct {
	Who     Who
	Action  Action
	Context Context
	Allowed bool
	Message string
	Checks  []Check
	// Team is the team of a team or channel conversation, Channel the
	// channel when one was named, and Role the person's role in the team
	// (owner, member or guest).
	Team    team.ID
	Channel team.ChannelID
	Role    team.Role
}

// Explain explains May for a person, an app of the admin's catalog, an
// action and a conversation the admin's tenant hosts: a chat, a team, a
// channel or a channel's thread (as bots name it), or "" for the person's
// personal scope. The person is a user of the admin's tenant for the
// personal scope, else in that conversation (a team's owner, member or
// guest; a team never has anyone else). Errors: forbidden, notFound.
func (s *Service) Explain(ctx context.Context, actor *identity.User, userID identity.UserID, appID, conversationID string, action Action) (Explanation, error) {
	if err := requireAdmin(actor); err != nil {
		return Explanation{}, err
	}
	a, err := s.Store.FindApp(ctx, actor.TenantID, appID)
	if err != nil {
		return Explanation{}, err
	}
	var ex Explanation
	var p place
	var u identity.User
	if conversationID == "" {
		u, err = s.Store.FindUserByID(ctx, userID)
		if err != nil || u.TenantID != actor.TenantID {
			return Explanation{}, errcode.New(errcode.NotFound, "No user %s in this organisation.", userID)
		}
		p = place{host: actor.TenantID, context: Personal}
	} else if c, members, err := s.Store.FindChatAny(ctx, chat.ID(conversationID)); err == nil {
		if c.TenantID != actor.TenantID {
			return Explanation{}, errcode.New(errcode.NotFound, "No conversation %s in this organisation.", conversationID)
		}
		i := slices.IndexFunc(members, func(m chat.Member) bool { return m.UserID == userID && m.State == chat.Accepted })
		if i < 0 {
			return Explanation{}, errcode.New(errcode.NotFound, "User %s is not in conversation %s.", userID, conversationID)
		}
		u = members[i].User
		p = composePlace(&u, &c, members)
	} else {
		t, ch, m, err := s.explainTeam(ctx, actor, userID, conversationID)
		if err != nil {
			return Explanation{}, err
		}
		u, ex.Team, ex.Channel, ex.Role = m.User, t.ID, ch, m.Role()
		p = place{host: t.TenantID, context: Channel, team: t.ID}
	}
	if action == 0 {
		action = Use
	}
	f, err := s.facts(ctx, &u, p, action, &a)
	if err != nil {
		return Explanation{}, err
	}
	if action.uses() {
		installed := s.installedFor
		if action == MessageExtension {
			installed = s.extensionInstalled
		}
		if f.Installed, err = installed(ctx, &u, p, a.ID); err != nil {
			return Explanation{}, err
		}
	}
	d := May(&f)
	ex.Who, ex.Action, ex.Context, ex.Allowed, ex.Message, ex.Checks = f.Who, action, f.Context, d.Allowed, d.Message, slices.Clone(d.Checks())
	return ex, nil
}

// explainTeam finds the team a conversation id names (the team's id, one
// of its live channels, or a thread of one) among the admin's tenant's
// teams, and the person among its members. Errors: notFound.
func (s *Service) explainTeam(ctx context.Context, actor *identity.User, userID identity.UserID, id string) (team.Team, team.ChannelID, team.Member, error) {
	none := errcode.New(errcode.NotFound, "No conversation %s in this organisation.", id)
	t, members, err := s.Store.FindTeam(ctx, team.ID(id))
	var ch team.ChannelID
	if err != nil {
		base, _, ok := splitConversation(id)
		if !ok {
			return team.Team{}, "", team.Member{}, none
		}
		tid, err := s.Store.FindChannelTeam(ctx, team.ChannelID(base))
		if err != nil {
			return team.Team{}, "", team.Member{}, none
		}
		if t, members, err = s.Store.FindTeam(ctx, tid); err != nil {
			return team.Team{}, "", team.Member{}, none
		}
		ch = team.ChannelID(base)
	}
	if t.TenantID != actor.TenantID {
		return team.Team{}, "", team.Member{}, none
	}
	i := slices.IndexFunc(members, func(m team.Member) bool { return m.UserID == userID })
	if i < 0 {
		return team.Team{}, "", team.Member{}, errcode.New(errcode.NotFound, "User %s is not in conversation %s.", userID, id)
	}
	return t, ch, members[i], nil
}

// installedFor reports whether an app is installed where a person uses it:
// in the chat, in the channel's team, or in their personal scope (installed
// or by setup policy). A bot's 1:1 chat has no installs of its own: what is
// installed there is the person's personal scope, as in Teams, where a
// personal app's bot chat is part of the app.
func (s *Service) installedFor(ctx context.Context, u *identity.User, p place, appID string) (bool, error) {
	var ins []Install
	var err error
	switch {
	case p.chat != nil && !isBotChat(p.chat):
		ins, err = s.Store.FindInstalls(ctx, Target{InChat, string(p.chat.ID)})
	case p.team != "":
		ins, err = s.Store.FindInstalls(ctx, Target{InTeam, string(p.team)})
	default:
		return s.personallyInstalled(ctx, u, p.host, appID)
	}
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(ins, func(in Install) bool { return in.AppID == appID }), nil
}

// personallyInstalled reports whether an app of host's catalog is in a
// person's personal scope (installed, or by their setup policy). Only the
// host's own people (members and guests) have a personal scope there;
// anyone else, anonymous people included, has none.
func (s *Service) personallyInstalled(ctx context.Context, u *identity.User, host identity.TenantID, appID string) (bool, error) {
	if w := whoIn(u, host); w != HostUser && w != Guest {
		return false, nil
	}
	ins, err := s.Store.FindInstalls(ctx, Target{InUser, string(u.ID)})
	if err == nil {
		ins, err = s.withSetup(ctx, u.ID, host, ins)
	}
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(ins, func(in Install) bool { return in.AppID == appID }), nil
}

// extensionInstalled reports whether a person has an app's message
// extension where they compose: the app is installed in the conversation,
// or in their own personal scope and the conversation is hosted by their
// organisation. Teams' compose extensions are not bound to a conversation:
// once people have an app, its extension is in every compose box of their
// organisation (docs/decisions.md, "Message extensions of personal apps").
// May still decides the use in the conversation's context.
func (s *Service) extensionInstalled(ctx context.Context, u *identity.User, p place, appID string) (bool, error) {
	ok, err := s.installedFor(ctx, u, p, appID)
	if err != nil || ok || (p.chat == nil && p.team == "") {
		return ok, err
	}
	return s.personallyInstalled(ctx, u, p.host, appID)
}

// ParseAction reads an action's name (as String gives it); 0 when unknown.
func ParseAction(s string) Action {
	for a := Browse; a < numAction; a++ {
		if actionNames[a] == s {
			return a
		}
	}
	return 0
}
