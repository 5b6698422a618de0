package app

import "github.com/parleychat/parley/internal/errcode"

// Who is the kind of person acting, seen from the host tenant: the tenant
// that owns the chat, channel or meeting (docs/rules.md §9).
type Who uint8

// The kinds of person. The zero Who is invalid and refused everything.
const (
	// HostUser is a managed user of the host tenant.
	HostUser Who = iota + 1
	// Guest has a guest account in the host tenant.
	Guest
	// External is a managed user of another tenant.
	External
	// PersonalAccount belongs to no tenant; for apps it is external.
	PersonalAccount
	// Anonymous joined the host's meeting by its link.
	Anonymous
	numWho
)

// String returns the kind's name.
func (w Who) String() string {
	switch w {
	case HostUser:
		return "hostUser"
	case Guest:
		return "guest"
	case External:
		return "external"
	case PersonalAccount:
		return "personal"
	case Anonymous:
		return "anonymous"
	}
	return "invalid"
}

// Action is what the person wants to do with an app.
type Action uint8

// The actions, one per row of docs/rules.md §9's table (the last row split by
// what is used). The zero Action is invalid and refused.
const (
	// Browse is seeing an app in the host's store (the catalog).
	Browse Action = iota + 1
	// Add installs an app from the store into the context.
	Add
	// Update upgrades an installed app to the catalog's newest version.
	Update
	// Remove uninstalls an app from the context.
	Remove
	// DeepLink installs an app from a link someone shared.
	DeepLink
	// Use is any other use of an installed app (a bot's 1:1 message).
	Use
	// Mention is @mentioning an installed bot.
	Mention
	// Card is acting on an Adaptive Card an app sent (Action.Submit, Action.Execute).
	Card
	// OpenTab is opening an installed app's tab.
	OpenTab
	// MessageExtension is running an installed app's message extension.
	MessageExtension
	numAction
)

// String returns the action's name.
func (a Action) String() string {
	if a == 0 || a >= numAction {
		return "invalid"
	}
	return actionNames[a]
}

var actionNames = [numAction]string{"", "browse", "add", "update", "remove", "deepLink", "use", "mention", "card", "tab", "messageExtension"}

// uses reports whether a is a use of an installed app.
func (a Action) uses() bool { return a >= Use && a < numAction }

// Context is where the app is installed or used.
type Context uint8

// The contexts. The zero Context is invalid and refused.
const (
	// Personal is the person's own app scope.
	Personal Context = iota + 1
	// OneOnOne is a 1:1 chat.
	OneOnOne
	// Group is a group chat.
	Group
	// Channel is a team's channel.
	Channel
	// Meeting is a meeting's chat.
	Meeting
	numContext
)

// String returns the context's name.
func (c Context) String() string {
	if c == 0 || c >= numContext {
		return "invalid"
	}
	return contextNames[c]
}

var contextNames = [numContext]string{"", "personal", "oneOnOne", "group", "channel", "meeting"}

// Scope is the set of scopes an app's manifest declares.
type Scope uint8

// The scopes of a Teams app manifest.
const (
	ScopePersonal Scope = 1 << iota
	ScopeGroupChat
	ScopeTeam
	ScopeMeeting
)

// fits reports whether an app with scopes s may be installed in c: a 1:1
// or group chat needs groupChat, a channel team, a meeting chat groupChat
// or a meeting surface.
func (s Scope) fits(c Context) bool {
	switch c {
	case Personal:
		return s&ScopePersonal != 0
	case OneOnOne, Group:
		return s&ScopeGroupChat != 0
	case Channel:
		return s&ScopeTeam != 0
	case Meeting:
		return s&(ScopeGroupChat|ScopeMeeting) != 0
	}
	return false
}

// Facts are everything the decision needs, loaded by the caller.
type Facts struct {
	Who     Who
	Action  Action
	Context Context
	// AppID is the catalog id of the app; "" with Browse asks about the
	// store itself, not one app in it.
	AppID string
	// Scopes are the app's manifest scopes (checked on Add, Update and DeepLink).
	Scopes Scope
	// OwnPolicy is a host user's own app permission policy (Global when
	// none is granted). Only host users' own policies count.
	OwnPolicy *PermissionPolicy
	// HostGlobal is the host tenant's Global app permission policy, the one
	// that applies to guests, external and anonymous people.
	HostGlobal *PermissionPolicy
	// BlockedTenantWide: the host tenant blocked the app for everyone.
	BlockedTenantWide bool
	// AnonymousCanInteract is the host's meeting setting
	// anonymousUsersCanInteractWithApps (default true).
	AnonymousCanInteract bool
	// Installed: the app is installed in the context (checked on uses).
	Installed bool
}

// The rule names of Check.Rule. They are stable: audit keeps them.
const (
	RulePresence    = "context.presence"
	RuleRole        = "role.action"
	RuleScope       = "app.scope"
	RuleTenantBlock = "tenant.blockedApps"
	RulePermission  = "policy.appPermission"
	RuleAnonymous   = "meeting.anonymousUsersCanInteractWithApps"
	RuleInstalled   = "app.installed"
)

// Sources of Check.Source.
const (
	SourceAccountKind = "account kind"
	SourceManifest    = "app manifest"
	SourceTenant      = "tenant app setting"
	SourceOwnPolicy   = "own app permission policy"
	SourceHostGlobal  = "host's Global app permission policy"
	SourceMeeting     = "meeting setting"
	SourceInstalls    = "installed apps"
	SourceNoPolicy    = "policy not loaded"
)

// Check is one rule evaluated, with its outcome and where the value came
// from. Policy names the permission policy consulted (RulePermission only).
type Check struct {
	Rule   string
	Value  bool
	Source string
	Policy string
}

const maxChecks = 8

// Decision is the result of May. It is a plain value: deciding allocates nothing.
type Decision struct {
	Allowed bool
	// Code is ForbiddenByPolicy (or BadRequest for an app whose manifest
	// lacks the context's scope, NotFound for an app not installed there)
	// when refused, "" when allowed.
	Code errcode.Code
	// Message names the deciding rule in words; "" when allowed.
	Message string
	// PersonalOnly and NoPin: a guest's deep-link install lands in its
	// personal scope only, without an app-bar icon (docs/rules.md §9).
	PersonalOnly, NoPin bool

	checks [maxChecks]Check
	n      uint8
}

// Checks returns the checks evaluated, in order; the first failing one decided.
// The caller must not modify the slice.
func (d *Decision) Checks() []Check { return d.checks[:d.n] }

// Err returns the refusal as an error, nil when allowed.
func (d *Decision) Err() error {
	if d.Allowed {
		return nil
	}
	return errcode.New(d.Code, "%s", Sentence(d.Message))
}

// Sentence capitalises a decision's message and ends it with a full stop.
func Sentence(s string) string {
	if s == "" || (s[0] < 'a' || s[0] > 'z') {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:] + "."
}

func (d *Decision) add(c Check) bool {
	d.checks[d.n] = c
	d.n++
	return c.Value
}

func (d *Decision) refuse(code errcode.Code, msg string) Decision {
	d.Allowed, d.Code, d.Message = false, code, msg
	return *d
}

// present reports whether a person of kind w can be in context c at all:
// anonymous people exist only in meetings; people of other organisations
// are in chats and meetings, never in the host's channels or personal scope.
func present(w Who, c Context) bool {
	switch w {
	case HostUser, Guest:
		return true
	case External, PersonalAccount:
		return c == OneOnOne || c == Group || c == Meeting
	case Anonymous:
		return c == Meeting
	}
	return false
}

// role is the table of docs/rules.md §9 for one person, action and context,
// before policies: whether the row allows it at all.
func role(w Who, a Action, c Context) bool {
	switch a {
	case Browse, Add, Update, Remove:
		return w == HostUser
	case DeepLink:
		return w == HostUser || (w == Guest && c == Personal)
	case Card:
		return true
	case Use, Mention, OpenTab, MessageExtension:
		return true // anonymous people: the meeting setting decides, below
	}
	return false
}

// Messages naming each refusal in words.
const (
	msgInvalid      = "this action on apps is not known"
	msgAbsent       = "this person cannot be in this conversation"
	msgStoreGuest   = "guests cannot browse or add apps from the organisation's store"
	msgStoreOther   = "only people of the organisation that owns this conversation can browse or add its apps"
	msgManageGuest  = "guests cannot add, update or remove apps in a chat, channel or meeting"
	msgManageOther  = "only people of the organisation that owns this conversation can add, update or remove its apps"
	msgDeepGuest    = "guests can install apps from a link in their personal scope only"
	msgDeepOther    = "only people of the organisation can install its apps from a link"
	msgScope        = "this app cannot be installed here: its manifest does not declare this scope"
	msgTenantBlock  = "this app is blocked for the whole organisation"
	msgOwnPolicy    = "your app permission policy does not allow this app"
	msgHostGlobal   = "the organisation's Global app permission policy does not allow this app"
	msgNoPolicy     = "no app permission policy is loaded"
	msgAnonymousOff = "the organisation does not let anonymous participants use apps in meetings"
	msgNotInstalled = "this app is not installed here"
)

// May decides whether a person may do an action with an app in a context
// (docs/rules.md §9): the table's row for the person, the app's scopes, the
// host's tenant-wide block, the permission policy that applies (the
// actor's own for host users, the host tenant's Global for everyone
// else), the meeting setting for anonymous people (never for cards), and
// for uses that the app is installed there. Pure: no I/O, no clock, no
// allocation.
func May(f *Facts) Decision {
	d := Decision{Allowed: true}
	if f.Who == 0 || f.Who >= numWho || f.Action == 0 || f.Action >= numAction || f.Context == 0 || f.Context >= numContext {
		d.add(Check{Rule: RuleRole, Value: false, Source: SourceAccountKind})
		return d.refuse(errcode.ForbiddenByPolicy, msgInvalid)
	}
	// Browse is about the store, not a place: presence does not apply.
	if f.Action != Browse && !d.add(Check{Rule: RulePresence, Value: present(f.Who, f.Context), Source: SourceAccountKind}) {
		return d.refuse(errcode.ForbiddenByPolicy, msgAbsent)
	}
	if !d.add(Check{Rule: RuleRole, Value: role(f.Who, f.Action, f.Context), Source: SourceAccountKind}) {
		return d.refuse(errcode.ForbiddenByPolicy, roleMessage(f.Who, f.Action))
	}
	// Removing needs no permission: a host user may always take an app
	// away, a blocked one included.
	if f.Action == Remove || (f.Action == Browse && f.AppID == "") {
		return d
	}
	if f.Action == Add || f.Action == Update || f.Action == DeepLink {
		if !d.add(Check{Rule: RuleScope, Value: f.Scopes.fits(f.Context), Source: SourceManifest}) {
			return d.refuse(errcode.BadRequest, msgScope)
		}
	}
	if !d.add(Check{Rule: RuleTenantBlock, Value: !f.BlockedTenantWide, Source: SourceTenant}) {
		return d.refuse(errcode.ForbiddenByPolicy, msgTenantBlock)
	}
	pol, src, msg := f.HostGlobal, SourceHostGlobal, msgHostGlobal
	if f.Who == HostUser {
		pol, src, msg = f.OwnPolicy, SourceOwnPolicy, msgOwnPolicy
	}
	if pol == nil {
		d.add(Check{Rule: RulePermission, Value: false, Source: SourceNoPolicy})
		return d.refuse(errcode.ForbiddenByPolicy, msgNoPolicy)
	}
	if !d.add(Check{Rule: RulePermission, Value: pol.Permits(f.AppID), Source: src, Policy: pol.Name}) {
		return d.refuse(errcode.ForbiddenByPolicy, msg)
	}
	if f.Who == Anonymous && f.Action.uses() && f.Action != Card {
		if !d.add(Check{Rule: RuleAnonymous, Value: f.AnonymousCanInteract, Source: SourceMeeting}) {
			return d.refuse(errcode.ForbiddenByPolicy, msgAnonymousOff)
		}
	}
	if f.Action.uses() {
		if !d.add(Check{Rule: RuleInstalled, Value: f.Installed, Source: SourceInstalls}) {
			return d.refuse(errcode.NotFound, msgNotInstalled)
		}
	}
	if f.Action == DeepLink && f.Who == Guest {
		d.PersonalOnly, d.NoPin = true, true
	}
	return d
}

func roleMessage(w Who, a Action) string {
	guest := w == Guest
	switch a {
	case Browse:
		if guest {
			return msgStoreGuest
		}
		return msgStoreOther
	case Add, Update, Remove:
		if guest {
			return msgManageGuest
		}
		return msgManageOther
	case DeepLink:
		if guest {
			return msgDeepGuest
		}
		return msgDeepOther
	}
	return msgInvalid
}
