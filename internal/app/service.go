package app

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/team"
)

// PolicyKind tells the two kinds of app policy apart.
type PolicyKind string

// The kinds of app policy.
const (
	PermissionKind PolicyKind = "permission"
	SetupKind      PolicyKind = "setup"
)

// StoredPolicy is an app policy of either kind as stored.
type StoredPolicy struct {
	Kind   PolicyKind
	Name   string
	Mode   Mode // permission policies
	Apps   []string
	Pinned []string // setup policies
}

// Permission returns p as a permission policy.
func (p StoredPolicy) Permission() PermissionPolicy {
	return PermissionPolicy{Name: p.Name, Mode: p.Mode, Apps: p.Apps}
}

// DefaultPolicy is the Global policy of a kind as a new tenant has it.
func DefaultPolicy(k PolicyKind) StoredPolicy {
	if k == PermissionKind {
		return StoredPolicy{Kind: k, Name: GlobalName, Mode: AllowAll}
	}
	return StoredPolicy{Kind: k, Name: GlobalName}
}

// InstallKind is what an app is installed in.
type InstallKind string

// The install targets of Graph: a chat (meeting chats included), a team, a
// user's personal scope.
const (
	InChat InstallKind = "chat"
	InTeam InstallKind = "team"
	InUser InstallKind = "user"
)

// Target is where an app is installed.
type Target struct {
	Kind InstallKind
	ID   string
}

// Install is an app installed in a chat, team or personal scope.
type Install struct {
	ID          string
	TenantID    identity.TenantID
	AppID       string
	Target      Target
	Version     string
	InstalledBy identity.UserID
	// Pinned shows the app on the holder's app bar (personal scope);
	// a guest's deep-link install is never pinned (docs/rules.md §9).
	Pinned    bool
	CreatedAt time.Time
	App       App // loaded with the install
}

// Store is the persistence of apps.
type Store interface {
	// CreateBot stores a registration.
	CreateBot(ctx context.Context, b Bot) error
	// FindBot returns a registration. Errors: notFound.
	FindBot(ctx context.Context, id string) (Bot, error)
	FindBots(ctx context.Context, tenant identity.TenantID) ([]Bot, error)
	// UpdateBot stores a registration's name, endpoint and secret hash. Errors: notFound.
	UpdateBot(ctx context.Context, b Bot) error
	// DeleteBot deletes a registration. Errors: notFound.
	DeleteBot(ctx context.Context, id string) error
	// CreateApp stores a catalog app. Errors: conflict (same manifest id).
	CreateApp(ctx context.Context, a App) error
	// FindApp returns an app of a tenant's catalog. Errors: notFound.
	FindApp(ctx context.Context, tenant identity.TenantID, id string) (App, error)
	FindApps(ctx context.Context, tenant identity.TenantID) ([]App, error)
	// FindAppsByBot returns the apps that name a bot.
	FindAppsByBot(ctx context.Context, botID string) ([]App, error)
	// UpdateApp stores a new definition or the block. Errors: notFound.
	UpdateApp(ctx context.Context, a App) error
	// DeleteApp deletes an app and its installs, and stores the drafts'
	// events in the same transaction. Errors: notFound.
	DeleteApp(ctx context.Context, tenant identity.TenantID, id string, drafts []event.Draft) ([]event.Event, error)
	// CreateInstall stores an install and the drafts' events. Errors:
	// conflict (installed already).
	CreateInstall(ctx context.Context, in Install, drafts []event.Draft) ([]event.Event, error)
	// FindInstalls lists what is installed in a target, apps loaded.
	FindInstalls(ctx context.Context, t Target) ([]Install, error)
	// FindInstallsOfApps lists where any of the apps is installed.
	FindInstallsOfApps(ctx context.Context, appIDs []string) ([]Install, error)
	// UpdateInstall stores an install's version and the drafts' events.
	// Errors: notFound.
	UpdateInstall(ctx context.Context, in Install, drafts []event.Draft) ([]event.Event, error)
	// DeleteInstall deletes an install and stores the drafts' events.
	// Errors: notFound.
	DeleteInstall(ctx context.Context, t Target, id string, drafts []event.Draft) ([]event.Event, error)
	FindAppPolicies(ctx context.Context, tenant identity.TenantID, k PolicyKind) ([]StoredPolicy, error)
	// FindAppPolicy returns one policy (Global always). Errors: notFound.
	FindAppPolicy(ctx context.Context, tenant identity.TenantID, k PolicyKind, name string) (StoredPolicy, error)
	// SaveAppPolicy creates (conflict when it exists) or replaces a policy.
	SaveAppPolicy(ctx context.Context, tenant identity.TenantID, p StoredPolicy, create bool) error
	// DeleteAppPolicy deletes a policy. Errors: notFound, policyInUse.
	DeleteAppPolicy(ctx context.Context, tenant identity.TenantID, k PolicyKind, name string, resetUsers bool) (int, error)
	// GrantAppPolicy grants a policy (Global: no grant). Errors: notFound.
	GrantAppPolicy(ctx context.Context, tenant identity.TenantID, k PolicyKind, name string, users []identity.UserID) error
	// FindAppGrant returns the name of the policy granted to a user (Global when none).
	FindAppGrant(ctx context.Context, user identity.UserID, k PolicyKind) (string, error)
	FindAppGrants(ctx context.Context, tenant identity.TenantID, k PolicyKind) (map[identity.UserID]string, error)
	FindUserByID(ctx context.Context, id identity.UserID) (identity.User, error)
	// FindChatAny returns a chat and its members whoever looks. Errors: notFound.
	FindChatAny(ctx context.Context, id chat.ID) (chat.Chat, []chat.Member, error)
	// FindChatInstalled returns a chat without its members and whether any
	// app is installed in it, current like FindChatAny's answer.
	FindChatInstalled(ctx context.Context, id chat.ID) (chat.Chat, bool, error)
	// FindTeam returns a team and its members. Errors: notFound.
	FindTeam(ctx context.Context, id team.ID) (team.Team, []team.Member, error)
	// FindChannels returns a team's live channels, General first.
	FindChannels(ctx context.Context, teamID team.ID, viewer identity.UserID) ([]team.Channel, error)
	// FindChannel returns a live channel of a team. Errors: notFound.
	FindChannel(ctx context.Context, teamID team.ID, id team.ChannelID, viewer identity.UserID) (team.Channel, error)
	// FindChannelTeam returns the team of a live channel. Errors: notFound.
	FindChannelTeam(ctx context.Context, id team.ChannelID) (team.ID, error)
}

// Chats are the chats as a person sees them, and a bot's writes.
type Chats interface {
	// Get returns a chat the actor is in. Errors: notFound.
	Get(ctx context.Context, actor *identity.User, id chat.ID) (chat.Chat, error)
	// Message returns a message of a chat the actor is in. Errors: notFound.
	Message(ctx context.Context, actor *identity.User, id chat.ID, mid chat.MessageID) (chat.Message, error)
	SendAsApp(ctx context.Context, id chat.ID, a chat.Application, b chat.Body) (chat.Message, error)
	EditAsApp(ctx context.Context, id chat.ID, mid chat.MessageID, appID string, b chat.Body) (chat.Message, error)
	DeleteAsApp(ctx context.Context, id chat.ID, mid chat.MessageID, appID string) error
	// AppChat returns (or creates: created) the 1:1 chat of a bot and a person.
	AppChat(ctx context.Context, tenant identity.TenantID, botID string, app chat.Application, u *identity.User) (c chat.Chat, created bool, err error)
}

// Notifier tells bots what happened (internal/bot posts Activities).
// Installed, Removed and Message must not block: delivery is queued per
// bot. Invoke waits for the bot's answer, within a timeout.
type Notifier interface {
	Installed(ctx context.Context, ev InstallEvent)
	Removed(ctx context.Context, ev InstallEvent)
	Message(ctx context.Context, ev MessageEvent)
	Invoke(ctx context.Context, ev MessageEvent) (InvokeResponse, error)
	// TeamMembers tells a bot installed in a team of people added to or
	// removed from it.
	TeamMembers(ctx context.Context, ev MembersEvent)
	// TeamChannel tells a bot installed in a team of a channel created,
	// renamed or deleted there.
	TeamChannel(ctx context.Context, ev ChannelEvent)
}

// MessageEvent is a person's message, card action or extension query that
// reaches a bot.
type MessageEvent struct {
	Bot  Bot
	App  App
	Chat chat.Chat
	// Team and Channel are set for a channel message (Chat is then zero),
	// Thread is the top-level message of its thread, General the team's
	// General channel (the team's conversation, as Teams names it).
	Team    *team.Team
	Channel *team.Channel
	General *team.Channel
	Thread  chat.MessageID
	// From is the person and Who their kind toward the host tenant.
	From identity.User
	Who  Who
	// Message is the person's message (a message activity), or for a card
	// action the bot's message whose card was acted on (ReplyTo).
	Message chat.Message
	// Value is an Action.Submit's or Action.Execute's data; Name the
	// invoke's name (adaptiveCard/action, composeExtension/query) and Verb
	// an Action.Execute's verb.
	Value []byte
	Name  string
	Verb  string
	// Reaction is a reaction to the bot's message (a messageReaction
	// activity), Unreacted whether it was taken away.
	Reaction  string
	Unreacted bool
}

// InvokeResponse is a bot's answer to an invoke: its status and body.
type InvokeResponse struct {
	Status int
	// Type and Value of an adaptiveCard/action answer: a card
	// (application/vnd.microsoft.card.adaptive) replaces the message.
	Type  string
	Value []byte
	Body  []byte
}

// InstallEvent is a bot added to or removed from a conversation.
type InstallEvent struct {
	Bot     Bot
	App     App
	Install Install
	Actor   identity.User
	// Chat is the chat of a chat install; Team and General the team of a
	// team install and its General channel, where Teams tells a bot of
	// its team. Neither for a personal install.
	Chat    *chat.Chat
	Team    *team.Team
	General *team.Channel
}

// MembersEvent is people added to or removed from a team a bot is
// installed in.
type MembersEvent struct {
	Bot     Bot
	App     App
	Team    team.Team
	General team.Channel
	Actor   identity.User
	// People are the people added (or, with Removed, removed), each with
	// their kind toward the team's organisation.
	People  []Person
	Removed bool
}

// ChannelEvent is a channel created, renamed or deleted in a team a bot
// is installed in; Change is event.ChannelCreated, event.ChannelUpdated
// (renamed) or event.ChannelDeleted.
type ChannelEvent struct {
	Bot     Bot
	App     App
	Team    team.Team
	General team.Channel
	Channel team.Channel
	Actor   identity.User
	Change  event.Type
}

// Person is a person with their kind toward a host tenant.
type Person struct {
	User identity.User
	Who  Who
}

// Teams are the teams as a person sees them, and a bot's writes in
// channels.
type Teams interface {
	// Get returns a team the actor is in. Errors: notFound.
	Get(ctx context.Context, actor *identity.User, id team.ID) (team.Team, error)
	// Message returns a channel message (replyOf 0) or reply of a team the
	// actor is in. Errors: notFound.
	Message(ctx context.Context, actor *identity.User, id team.ID, cid team.ChannelID, replyOf, mid chat.MessageID) (team.Message, error)
	SendAsApp(ctx context.Context, cid team.ChannelID, replyTo chat.MessageID, a chat.Application, b chat.Body) (team.Message, error)
	EditAsApp(ctx context.Context, cid team.ChannelID, mid chat.MessageID, appID string, b chat.Body) (team.Message, error)
	DeleteAsApp(ctx context.Context, cid team.ChannelID, mid chat.MessageID, appID string) error
}

// Service runs the app catalog, bot registrations, installs and app
// policies, asking May (docs/rules.md §9) before every install, update,
// removal and use. It never decides a rule itself.
type Service struct {
	Store Store
	// Bus carries installedAppsChanged to the people of a conversation
	// (nil: nobody is told).
	Bus   event.Bus
	Chats Chats
	Teams Teams // nil: no team installs
	// Notify tells bots of installs and removals (nil: nobody).
	Notify Notifier
	// AnonymousCanInteract reads the host tenant's meeting setting
	// anonymousUsersCanInteractWithApps (nil: the default, true).
	AnonymousCanInteract func(ctx context.Context, tenant identity.TenantID) (bool, error)
	Audit                func(ctx context.Context, tenant identity.TenantID, actor identity.UserID, action, target string, details map[string]any)
	Now                  func() time.Time
}

func (s *Service) audit(ctx context.Context, actor *identity.User, action, target string, details map[string]any) {
	if s.Audit != nil {
		s.Audit(ctx, actor.TenantID, actor.ID, action, target, details)
	}
}

func requireAdmin(actor *identity.User) error {
	if !actor.IsAdmin() {
		return errcode.New(errcode.Forbidden, "Only organisation admins can do this.")
	}
	return nil
}

// --- Bot registrations -------------------------------------------------

func checkName(field, name string, max int) error {
	if strings.TrimSpace(name) == "" || utf8.RuneCountInString(name) > max || !utf8.ValidString(name) {
		return errcode.New(errcode.BadRequest, "%s must have 1 to %d characters.", field, max)
	}
	return nil
}

// RegisterBot registers a bot of the actor's tenant and returns it with
// its client secret, which is shown this once. Errors: forbidden, badRequest.
func (s *Service) RegisterBot(ctx context.Context, actor *identity.User, name, endpoint string) (Bot, string, error) {
	if err := requireAdmin(actor); err != nil {
		return Bot{}, "", err
	}
	if err := checkName("displayName", name, 128); err != nil {
		return Bot{}, "", err
	}
	if err := CheckEndpoint(endpoint); err != nil {
		return Bot{}, "", err
	}
	secret, hash := NewSecret()
	now := s.Now()
	b := Bot{ID: NewID(), TenantID: actor.TenantID, DisplayName: strings.TrimSpace(name), Endpoint: endpoint, SecretHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateBot(ctx, b); err != nil {
		return Bot{}, "", err
	}
	s.audit(ctx, actor, "bot.register", b.ID, map[string]any{"displayName": b.DisplayName, "messagingEndpoint": endpoint})
	return b, secret, nil
}

// Bots lists the actor's tenant's bots. Errors: forbidden.
func (s *Service) Bots(ctx context.Context, actor *identity.User) ([]Bot, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	return s.Store.FindBots(ctx, actor.TenantID)
}

// Bot returns one of the actor's tenant's bots. Errors: forbidden, notFound.
func (s *Service) Bot(ctx context.Context, actor *identity.User, id string) (Bot, error) {
	if err := requireAdmin(actor); err != nil {
		return Bot{}, err
	}
	b, err := s.Store.FindBot(ctx, id)
	if err != nil || b.TenantID != actor.TenantID {
		return Bot{}, errcode.New(errcode.NotFound, "No bot %s in this organisation.", id)
	}
	return b, nil
}

// UpdateBot changes a bot's name or endpoint (nil: unchanged). Errors:
// forbidden, notFound, badRequest.
func (s *Service) UpdateBot(ctx context.Context, actor *identity.User, id string, name, endpoint *string) (Bot, error) {
	b, err := s.Bot(ctx, actor, id)
	if err != nil {
		return Bot{}, err
	}
	if name != nil {
		if err := checkName("displayName", *name, 128); err != nil {
			return Bot{}, err
		}
		b.DisplayName = strings.TrimSpace(*name)
	}
	if endpoint != nil {
		if err := CheckEndpoint(*endpoint); err != nil {
			return Bot{}, err
		}
		b.Endpoint = *endpoint
	}
	b.UpdatedAt = s.Now()
	if err := s.Store.UpdateBot(ctx, b); err != nil {
		return Bot{}, err
	}
	s.audit(ctx, actor, "bot.update", b.ID, map[string]any{"displayName": b.DisplayName, "messagingEndpoint": b.Endpoint})
	return b, nil
}

// RotateSecret gives a bot a new secret (the old one stops working) and
// returns it, shown this once. Errors: forbidden, notFound.
func (s *Service) RotateSecret(ctx context.Context, actor *identity.User, id string) (Bot, string, error) {
	b, err := s.Bot(ctx, actor, id)
	if err != nil {
		return Bot{}, "", err
	}
	secret, hash := NewSecret()
	b.SecretHash, b.UpdatedAt = hash, s.Now()
	if err := s.Store.UpdateBot(ctx, b); err != nil {
		return Bot{}, "", err
	}
	s.audit(ctx, actor, "bot.rotateSecret", b.ID, nil)
	return b, secret, nil
}

// DeleteBot deletes a registration; apps naming it stay in the catalog but
// their bot no longer answers. Errors: forbidden, notFound.
func (s *Service) DeleteBot(ctx context.Context, actor *identity.User, id string) error {
	if _, err := s.Bot(ctx, actor, id); err != nil {
		return err
	}
	if err := s.Store.DeleteBot(ctx, id); err != nil {
		return err
	}
	s.audit(ctx, actor, "bot.delete", id, nil)
	return nil
}

// AuthenticateBot checks a bot's client credentials. Errors: unauthenticated.
func (s *Service) AuthenticateBot(ctx context.Context, id, secret string) (Bot, error) {
	b, err := s.Store.FindBot(ctx, strings.ToLower(id))
	if err != nil || !SecretMatches(secret, b.SecretHash) {
		return Bot{}, errcode.New(errcode.Unauthenticated, "The client id or secret is wrong.")
	}
	return b, nil
}

// --- Catalog -----------------------------------------------------------

// Upload adds an app package to the actor's tenant's catalog. The bot the
// manifest names must be registered in the tenant. Errors: forbidden,
// badRequest, payloadTooLarge, conflict (an app with the manifest's id).
func (s *Service) Upload(ctx context.Context, actor *identity.User, pkg []byte) (App, error) {
	if err := requireAdmin(actor); err != nil {
		return App{}, err
	}
	a, err := s.readPackage(ctx, actor, pkg)
	if err != nil {
		return App{}, err
	}
	now := s.Now()
	a.ID, a.TenantID, a.CreatedAt, a.UpdatedAt = NewID(), actor.TenantID, now, now
	if err := s.Store.CreateApp(ctx, a); err != nil {
		return App{}, err
	}
	s.audit(ctx, actor, "app.upload", a.ID, map[string]any{"externalId": a.ExternalID, "displayName": a.DisplayName, "version": a.Version})
	return a, nil
}

func (s *Service) readPackage(ctx context.Context, actor *identity.User, pkg []byte) (App, error) {
	a, err := ReadPackage(pkg)
	if err != nil {
		return App{}, err
	}
	if a.BotID != "" {
		b, err := s.Store.FindBot(ctx, a.BotID)
		if err != nil || b.TenantID != actor.TenantID {
			return App{}, errcode.New(errcode.BadRequest, "manifest.json: bots[0].botId names no bot registered in this organisation (POST /parley/v1/admin/bots).")
		}
	}
	return a, nil
}

// UpdatePackage replaces an app's definition with a new package of the
// same manifest id; installs keep their version until upgraded. Errors:
// forbidden, notFound, badRequest.
func (s *Service) UpdatePackage(ctx context.Context, actor *identity.User, id string, pkg []byte) (App, error) {
	if err := requireAdmin(actor); err != nil {
		return App{}, err
	}
	old, err := s.Store.FindApp(ctx, actor.TenantID, id)
	if err != nil {
		return App{}, err
	}
	a, err := s.readPackage(ctx, actor, pkg)
	if err != nil {
		return App{}, err
	}
	if a.ExternalID != old.ExternalID {
		return App{}, errcode.New(errcode.BadRequest, "manifest.json: id must stay %s for an update of this app.", old.ExternalID)
	}
	a.ID, a.TenantID, a.Blocked, a.CreatedAt, a.UpdatedAt = old.ID, old.TenantID, old.Blocked, old.CreatedAt, s.Now()
	if err := s.Store.UpdateApp(ctx, a); err != nil {
		return App{}, err
	}
	s.audit(ctx, actor, "app.update", a.ID, map[string]any{"version": a.Version, "previousVersion": old.Version})
	return a, nil
}

// SetBlocked blocks (or unblocks) an app for the whole tenant. Errors:
// forbidden, notFound.
func (s *Service) SetBlocked(ctx context.Context, actor *identity.User, id string, blocked bool) (App, error) {
	if err := requireAdmin(actor); err != nil {
		return App{}, err
	}
	a, err := s.Store.FindApp(ctx, actor.TenantID, id)
	if err != nil {
		return App{}, err
	}
	a.Blocked, a.UpdatedAt = blocked, s.Now()
	if err := s.Store.UpdateApp(ctx, a); err != nil {
		return App{}, err
	}
	s.audit(ctx, actor, "app.block", a.ID, map[string]any{"blocked": blocked})
	return a, nil
}

// DeleteApp removes an app from the catalog and from everywhere it is
// installed. Errors: forbidden, notFound.
func (s *Service) DeleteApp(ctx context.Context, actor *identity.User, id string) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	a, err := s.Store.FindApp(ctx, actor.TenantID, id)
	if err != nil {
		return err
	}
	installs, err := s.Store.FindInstallsOfApps(ctx, []string{a.ID})
	if err != nil {
		return err
	}
	var drafts []event.Draft
	for _, in := range installs {
		drafts = append(drafts, s.changeDrafts(ctx, in.Target, a.ID, ChangeRemoved)...)
	}
	evs, err := s.Store.DeleteApp(ctx, actor.TenantID, id, drafts)
	if err != nil {
		return err
	}
	s.publish(ctx, evs)
	s.audit(ctx, actor, "app.delete", a.ID, map[string]any{"externalId": a.ExternalID, "installs": len(installs)})
	for _, in := range installs {
		in.App = a
		s.notifyRemoved(ctx, actor, in)
	}
	return nil
}

// Catalog lists the apps of the actor's tenant's store the actor may see:
// every app for an admin, the apps their permission policy allows for other
// members (docs/rules.md §9 "browse / add from the host's store"); guests
// and people of other organisations have no access. Errors: forbiddenByPolicy.
func (s *Service) Catalog(ctx context.Context, actor *identity.User) ([]App, error) {
	f := Facts{Who: whoIn(actor, actor.TenantID), Action: Browse, Context: Personal}
	if d := May(&f); !d.Allowed {
		return nil, d.Err()
	}
	apps, err := s.Store.FindApps(ctx, actor.TenantID)
	if err != nil || actor.IsAdmin() {
		return apps, err
	}
	own, err := s.permission(ctx, actor, actor.TenantID)
	if err != nil {
		return nil, err
	}
	out := apps[:0]
	for _, a := range apps {
		f := Facts{Who: HostUser, Action: Browse, Context: Personal, AppID: a.ID, OwnPolicy: &own, BlockedTenantWide: a.Blocked}
		if d := May(&f); d.Allowed {
			out = append(out, a)
		}
	}
	return out, nil
}

// CatalogApp returns one app of the actor's tenant's store, as Catalog
// would list it. Errors: notFound, forbiddenByPolicy.
func (s *Service) CatalogApp(ctx context.Context, actor *identity.User, id string) (App, error) {
	apps, err := s.Catalog(ctx, actor)
	if err != nil {
		return App{}, err
	}
	for _, a := range apps {
		if a.ID == id {
			return a, nil
		}
	}
	return App{}, errcode.New(errcode.NotFound, "No app %s in this organisation's catalog.", id)
}

// --- Who is who --------------------------------------------------------

// whoIn classifies a person toward the host tenant of a conversation
// (docs/rules.md §9): host users and guests are the host tenant's; every
// other account is external; a conversation no tenant hosts has no host users.
func whoIn(u *identity.User, host identity.TenantID) Who {
	switch {
	case u.Kind == identity.Anonymous:
		return Anonymous
	case u.Kind == identity.Personal:
		return PersonalAccount
	case host == "" || u.TenantID != host:
		return External
	case u.Kind == identity.Guest:
		return Guest
	case u.Kind == identity.Member:
		return HostUser
	}
	return 0
}

// permission returns the permission policy that applies to u in host's
// conversations: a host user's own, everyone else's the host's Global.
func (s *Service) permission(ctx context.Context, u *identity.User, host identity.TenantID) (PermissionPolicy, error) {
	name := GlobalName
	if whoIn(u, host) == HostUser {
		n, err := s.Store.FindAppGrant(ctx, u.ID, PermissionKind)
		if err != nil {
			return PermissionPolicy{}, fmt.Errorf("app permission policy of %s: %w", u.ID, err)
		}
		name = n
	}
	p, err := s.Store.FindAppPolicy(ctx, host, PermissionKind, name)
	if err != nil {
		return PermissionPolicy{}, fmt.Errorf("app permission policy %q: %w", name, err)
	}
	return p.Permission(), nil
}

func contextOf(c *chat.Chat) Context {
	switch c.Type {
	case chat.OneOnOne:
		return OneOnOne
	case chat.Group:
		return Group
	case chat.Meeting:
		return Meeting
	}
	return Group
}
