package app_test

import (
	"testing"

	"github.com/parleychat/parley/internal/app"
	"github.com/parleychat/parley/internal/errcode"
)

// oracle is docs/rules.md §9's table written out person by person, apart
// from May's structure: it answers whether the action is allowed, with
// which error code when not, and whether a guest's deep link lands in
// personal scope only.
func oracle(f *app.Facts) (allowed bool, code errcode.Code, personalOnly bool) {
	no := func() (bool, errcode.Code, bool) { return false, errcode.ForbiddenByPolicy, false }
	validWho := f.Who >= app.HostUser && f.Who <= app.Anonymous
	validAction := f.Action >= app.Browse && f.Action <= app.MessageExtension
	validContext := f.Context >= app.Personal && f.Context <= app.Meeting
	if !validWho || !validAction || !validContext {
		return no()
	}
	// Who can be where at all.
	var where []app.Context
	switch f.Who {
	case app.HostUser, app.Guest:
		where = []app.Context{app.Personal, app.OneOnOne, app.Group, app.Channel, app.Meeting}
	case app.External, app.PersonalAccount:
		where = []app.Context{app.OneOnOne, app.Group, app.Meeting}
	case app.Anonymous:
		where = []app.Context{app.Meeting}
	}
	here := false
	for _, c := range where {
		here = here || c == f.Context
	}
	if f.Action != app.Browse && !here {
		return no()
	}
	// The app's manifest scope for an install into the context.
	scoped := false
	switch f.Context {
	case app.Personal:
		scoped = f.Scopes&app.ScopePersonal != 0
	case app.OneOnOne, app.Group:
		scoped = f.Scopes&app.ScopeGroupChat != 0
	case app.Channel:
		scoped = f.Scopes&app.ScopeTeam != 0
	case app.Meeting:
		scoped = f.Scopes&app.ScopeGroupChat != 0 || f.Scopes&app.ScopeMeeting != 0
	}
	// "whose permission policy applies": their own, or the host's Global.
	pol := f.HostGlobal
	if f.Who == app.HostUser {
		pol = f.OwnPolicy
	}
	permitted := func() bool {
		if pol == nil {
			return false
		}
		listed := false
		for _, a := range pol.Apps {
			listed = listed || a == f.AppID
		}
		return pol.Mode == app.AllowAll || (pol.Mode == app.AllowListed && listed) || (pol.Mode == app.BlockListed && !listed)
	}
	install := func() (bool, errcode.Code, bool) {
		switch {
		case !scoped:
			return false, errcode.BadRequest, false
		case f.BlockedTenantWide || !permitted():
			return no()
		}
		return true, "", false
	}
	use := func(settingGates bool) (bool, errcode.Code, bool) {
		switch {
		case f.BlockedTenantWide || !permitted():
			return no()
		case settingGates && !f.AnonymousCanInteract:
			return no()
		case !f.Installed:
			return false, errcode.NotFound, false
		}
		return true, "", false
	}
	isUse := f.Action == app.Use || f.Action == app.Mention || f.Action == app.Card || f.Action == app.OpenTab || f.Action == app.MessageExtension
	switch f.Who {
	case app.HostUser: // "per their permission policy", "yes", "yes", "yes"
		switch {
		case f.Action == app.Browse && f.AppID == "":
			return true, "", false
		case f.Action == app.Browse:
			if f.BlockedTenantWide || !permitted() {
				return no()
			}
			return true, "", false
		case f.Action == app.Remove:
			return true, "", false
		case f.Action == app.Add, f.Action == app.Update, f.Action == app.DeepLink:
			return install()
		case isUse:
			return use(false)
		}
	case app.Guest: // "no", "no", "personal scope only, no app-bar icon", "yes"
		switch {
		case f.Action == app.DeepLink && f.Context == app.Personal:
			ok, code, _ := install()
			return ok, code, ok
		case isUse:
			return use(false)
		}
		return no()
	case app.External, app.PersonalAccount: // "no", "no", "no", "yes"
		if isUse {
			return use(false)
		}
		return no()
	case app.Anonymous: // "no", "no", "no", "cards yes; apps only if the host allows"
		if isUse {
			return use(f.Action != app.Card)
		}
		return no()
	}
	return no()
}

var (
	allowAll   = &app.PermissionPolicy{Name: "Global", Mode: app.AllowAll}
	blockPolls = &app.PermissionPolicy{Name: "NoPolls", Mode: app.BlockListed, Apps: []string{"other", "polls"}}
	onlyOther  = &app.PermissionPolicy{Name: "OnlyOther", Mode: app.AllowListed, Apps: []string{"other"}}
	onlyPolls  = &app.PermissionPolicy{Name: "OnlyPolls", Mode: app.AllowListed, Apps: []string{"polls"}}
	badMode    = &app.PermissionPolicy{Name: "Broken", Mode: "bogus"}
)

// TestMay_Exhaustive compares May with the oracle on every combination of
// person, action, context, app, scopes, both policies, the tenant-wide
// block, the meeting setting and the install state, invalid values included.
func TestMay_Exhaustive(t *testing.T) {
	policies := []*app.PermissionPolicy{nil, allowAll, blockPolls, onlyOther, onlyPolls, badMode}
	scopes := []app.Scope{0, app.ScopePersonal, app.ScopeGroupChat, app.ScopeTeam, app.ScopeMeeting, app.ScopePersonal | app.ScopeTeam, 15}
	n, allowed := 0, 0
	for who := app.Who(0); who <= app.Anonymous+1; who++ {
		for action := app.Action(0); action <= app.MessageExtension+1; action++ {
			for ctx := app.Context(0); ctx <= app.Meeting+1; ctx++ {
				for _, appID := range []string{"", "polls"} {
					for _, sc := range scopes {
						for _, own := range policies {
							for _, global := range policies {
								for bits := range 8 {
									f := app.Facts{Who: who, Action: action, Context: ctx, AppID: appID, Scopes: sc, OwnPolicy: own, HostGlobal: global,
										BlockedTenantWide: bits&1 != 0, AnonymousCanInteract: bits&2 != 0, Installed: bits&4 != 0}
									d := app.May(&f)
									ok, code, personal := oracle(&f)
									n++
									if ok {
										allowed++
									}
									if d.Allowed != ok || d.Code != code || d.PersonalOnly != personal || d.NoPin != personal {
										t.Fatalf("%+v (own %v, global %v): got allowed=%v code=%q personalOnly=%v noPin=%v, want %v %q %v",
											f, name(own), name(global), d.Allowed, d.Code, d.PersonalOnly, d.NoPin, ok, code, personal)
									}
									if !d.Allowed && d.Message == "" {
										t.Fatalf("%+v: refused without a message", f)
									}
									if cs := d.Checks(); !d.Allowed && (len(cs) == 0 || cs[len(cs)-1].Value) {
										t.Fatalf("%+v: refused, but the last check %v did not fail", f, cs)
									}
								}
							}
						}
					}
				}
			}
		}
	}
	if allowed == 0 || allowed == n {
		t.Fatalf("got %d allowed of %d, want some of each", allowed, n)
	}
	t.Logf("%d combinations, %d allowed", n, allowed)
}

func name(p *app.PermissionPolicy) string {
	if p == nil {
		return "nil"
	}
	return p.Name
}

// base is a host user's use of an installed bot in a group chat with every
// policy allowing it; each named cell below differs from it.
func base() app.Facts {
	return app.Facts{Who: app.HostUser, Action: app.Use, Context: app.Group, AppID: "polls", Scopes: app.ScopePersonal | app.ScopeGroupChat | app.ScopeTeam,
		OwnPolicy: allowAll, HostGlobal: allowAll, AnonymousCanInteract: true, Installed: true}
}

// TestMay_Cells names each cell of docs/rules.md §9's table that differs.
func TestMay_Cells(t *testing.T) {
	cases := []struct {
		name   string
		change func(f *app.Facts)
		want   errcode.Code // "" allowed
		rule   string       // the deciding (failing) rule, when refused
		pinned bool         // PersonalOnly and NoPin
	}{
		{"HostUserUsesInstalledBot", func(f *app.Facts) {}, "", "", false},
		{"HostUserBrowsesStore", func(f *app.Facts) { f.Action, f.AppID = app.Browse, "" }, "", "", false},
		{"HostUserSeesAppTheirPolicyAllows", func(f *app.Facts) { f.Action = app.Browse }, "", "", false},
		{"HostUserDoesNotSeeAppTheirPolicyBlocks", func(f *app.Facts) { f.Action, f.OwnPolicy = app.Browse, blockPolls }, errcode.ForbiddenByPolicy, app.RulePermission, false},
		{"HostUserAddsToGroupChat", func(f *app.Facts) { f.Action = app.Add }, "", "", false},
		{"HostUserAddsToMeetingChatWithExternalPeople", func(f *app.Facts) { f.Action, f.Context = app.Add, app.Meeting }, "", "", false},
		{"HostUserAddsToChannel", func(f *app.Facts) { f.Action, f.Context = app.Add, app.Channel }, "", "", false},
		{"HostUserAddsPersonalApp", func(f *app.Facts) { f.Action, f.Context = app.Add, app.Personal }, "", "", false},
		{"HostUserUpdates", func(f *app.Facts) { f.Action = app.Update }, "", "", false},
		{"HostUserRemoves", func(f *app.Facts) { f.Action = app.Remove }, "", "", false},
		{"HostUserRemovesBlockedApp", func(f *app.Facts) { f.Action, f.BlockedTenantWide, f.OwnPolicy = app.Remove, true, blockPolls }, "", "", false},
		{"HostUserDeepLinkInChat", func(f *app.Facts) { f.Action = app.DeepLink }, "", "", false},
		{"HostUserOwnPolicyBlocksAdd", func(f *app.Facts) { f.Action, f.OwnPolicy = app.Add, blockPolls }, errcode.ForbiddenByPolicy, app.RulePermission, false},
		{"HostUserOwnPolicyAllowListWithoutApp", func(f *app.Facts) { f.OwnPolicy = onlyOther }, errcode.ForbiddenByPolicy, app.RulePermission, false},
		{"HostUserOwnPolicyCountsNotGlobal", func(f *app.Facts) { f.HostGlobal = blockPolls }, "", "", false},
		{"HostUserTenantBlock", func(f *app.Facts) { f.BlockedTenantWide = true }, errcode.ForbiddenByPolicy, app.RuleTenantBlock, false},
		{"HostUserNoPolicyLoaded", func(f *app.Facts) { f.OwnPolicy = nil }, errcode.ForbiddenByPolicy, app.RulePermission, false},
		{"HostUserAddWithoutScope", func(f *app.Facts) { f.Action, f.Scopes = app.Add, app.ScopePersonal }, errcode.BadRequest, app.RuleScope, false},
		{"HostUserAddToMeetingWithMeetingScope", func(f *app.Facts) { f.Action, f.Context, f.Scopes = app.Add, app.Meeting, app.ScopeMeeting }, "", "", false},
		{"HostUserUsesAppNotInstalled", func(f *app.Facts) { f.Installed = false }, errcode.NotFound, app.RuleInstalled, false},

		{"GuestCannotBrowse", func(f *app.Facts) { f.Who, f.Action, f.AppID = app.Guest, app.Browse, "" }, errcode.ForbiddenByPolicy, app.RuleRole, false},
		{"GuestCannotAddToChat", func(f *app.Facts) { f.Who, f.Action = app.Guest, app.Add }, errcode.ForbiddenByPolicy, app.RuleRole, false},
		{"GuestCannotAddPersonalFromStore", func(f *app.Facts) { f.Who, f.Action, f.Context = app.Guest, app.Add, app.Personal }, errcode.ForbiddenByPolicy, app.RuleRole, false},
		{"GuestCannotUpdate", func(f *app.Facts) { f.Who, f.Action = app.Guest, app.Update }, errcode.ForbiddenByPolicy, app.RuleRole, false},
		{"GuestCannotRemove", func(f *app.Facts) { f.Who, f.Action, f.Context = app.Guest, app.Remove, app.Channel }, errcode.ForbiddenByPolicy, app.RuleRole, false},
		{"GuestDeepLinkPersonalOnlyNoPin", func(f *app.Facts) { f.Who, f.Action, f.Context = app.Guest, app.DeepLink, app.Personal }, "", "", true},
		{"GuestDeepLinkIntoChatRefused", func(f *app.Facts) { f.Who, f.Action = app.Guest, app.DeepLink }, errcode.ForbiddenByPolicy, app.RuleRole, false},
		{"GuestDeepLinkHostGlobalBlocks", func(f *app.Facts) {
			f.Who, f.Action, f.Context, f.HostGlobal = app.Guest, app.DeepLink, app.Personal, blockPolls
		}, errcode.ForbiddenByPolicy, app.RulePermission, false},
		{"GuestUsesBotInChannel", func(f *app.Facts) { f.Who, f.Context = app.Guest, app.Channel }, "", "", false},
		{"GuestMentionsBot", func(f *app.Facts) { f.Who, f.Action = app.Guest, app.Mention }, "", "", false},
		{"GuestActsOnCard", func(f *app.Facts) { f.Who, f.Action = app.Guest, app.Card }, "", "", false},
		{"GuestHostGlobalCountsNotOwn", func(f *app.Facts) { f.Who, f.OwnPolicy = app.Guest, blockPolls }, "", "", false},
		{"GuestHostGlobalBlocks", func(f *app.Facts) { f.Who, f.HostGlobal = app.Guest, blockPolls }, errcode.ForbiddenByPolicy, app.RulePermission, false},
		{"GuestTenantBlock", func(f *app.Facts) { f.Who, f.BlockedTenantWide = app.Guest, true }, errcode.ForbiddenByPolicy, app.RuleTenantBlock, false},

		{"ExternalCannotBrowse", func(f *app.Facts) { f.Who, f.Action, f.AppID = app.External, app.Browse, "" }, errcode.ForbiddenByPolicy, app.RuleRole, false},
		{"ExternalCannotAddToMeetingChat", func(f *app.Facts) { f.Who, f.Action, f.Context = app.External, app.Add, app.Meeting }, errcode.ForbiddenByPolicy, app.RuleRole, false},
		{"ExternalCannotRemove", func(f *app.Facts) { f.Who, f.Action = app.External, app.Remove }, errcode.ForbiddenByPolicy, app.RuleRole, false},
		{"ExternalCannotDeepLink", func(f *app.Facts) { f.Who, f.Action, f.Context = app.External, app.DeepLink, app.OneOnOne }, errcode.ForbiddenByPolicy, app.RuleRole, false},
		{"ExternalUsesBotInMeetingChat", func(f *app.Facts) { f.Who, f.Context = app.External, app.Meeting }, "", "", false},
		{"ExternalRunsMessageExtension", func(f *app.Facts) { f.Who, f.Action = app.External, app.MessageExtension }, "", "", false},
		{"ExternalOpensTab", func(f *app.Facts) { f.Who, f.Action, f.Context = app.External, app.OpenTab, app.Meeting }, "", "", false},
		{"ExternalHostGlobalCountsNotOwn", func(f *app.Facts) { f.Who, f.OwnPolicy, f.HostGlobal = app.External, blockPolls, allowAll }, "", "", false},
		{"ExternalHostGlobalBlocks", func(f *app.Facts) { f.Who, f.HostGlobal = app.External, onlyOther }, errcode.ForbiddenByPolicy, app.RulePermission, false},
		{"ExternalNotInChannels", func(f *app.Facts) { f.Who, f.Context = app.External, app.Channel }, errcode.ForbiddenByPolicy, app.RulePresence, false},
		{"ExternalNoPersonalScopeAtHost", func(f *app.Facts) { f.Who, f.Context = app.External, app.Personal }, errcode.ForbiddenByPolicy, app.RulePresence, false},
		{"PersonalAccountUsesBotInOneOnOne", func(f *app.Facts) { f.Who, f.Context = app.PersonalAccount, app.OneOnOne }, "", "", false},
		{"PersonalAccountCannotAdd", func(f *app.Facts) { f.Who, f.Action = app.PersonalAccount, app.Add }, errcode.ForbiddenByPolicy, app.RuleRole, false},
		{"PersonalAccountHostGlobalBlocks", func(f *app.Facts) { f.Who, f.HostGlobal = app.PersonalAccount, blockPolls }, errcode.ForbiddenByPolicy, app.RulePermission, false},

		{"AnonymousActsOnCard", func(f *app.Facts) { f.Who, f.Action, f.Context = app.Anonymous, app.Card, app.Meeting }, "", "", false},
		{"AnonymousActsOnCardWithSettingOff", func(f *app.Facts) {
			f.Who, f.Action, f.Context, f.AnonymousCanInteract = app.Anonymous, app.Card, app.Meeting, false
		}, "", "", false},
		{"AnonymousMentionsBot", func(f *app.Facts) { f.Who, f.Action, f.Context = app.Anonymous, app.Mention, app.Meeting }, "", "", false},
		{"AnonymousMentionWithSettingOff", func(f *app.Facts) {
			f.Who, f.Action, f.Context, f.AnonymousCanInteract = app.Anonymous, app.Mention, app.Meeting, false
		}, errcode.ForbiddenByPolicy, app.RuleAnonymous, false},
		{"AnonymousTabWithSettingOff", func(f *app.Facts) {
			f.Who, f.Action, f.Context, f.AnonymousCanInteract = app.Anonymous, app.OpenTab, app.Meeting, false
		}, errcode.ForbiddenByPolicy, app.RuleAnonymous, false},
		{"AnonymousMessageExtensionWithSettingOff", func(f *app.Facts) {
			f.Who, f.Action, f.Context, f.AnonymousCanInteract = app.Anonymous, app.MessageExtension, app.Meeting, false
		}, errcode.ForbiddenByPolicy, app.RuleAnonymous, false},
		{"AnonymousCannotAdd", func(f *app.Facts) { f.Who, f.Action, f.Context = app.Anonymous, app.Add, app.Meeting }, errcode.ForbiddenByPolicy, app.RuleRole, false},
		{"AnonymousCannotBrowse", func(f *app.Facts) { f.Who, f.Action, f.AppID = app.Anonymous, app.Browse, "" }, errcode.ForbiddenByPolicy, app.RuleRole, false},
		{"AnonymousCardHostGlobalBlocks", func(f *app.Facts) {
			f.Who, f.Action, f.Context, f.HostGlobal = app.Anonymous, app.Card, app.Meeting, blockPolls
		}, errcode.ForbiddenByPolicy, app.RulePermission, false},
		{"AnonymousOnlyInMeetings", func(f *app.Facts) { f.Who, f.Action = app.Anonymous, app.Card }, errcode.ForbiddenByPolicy, app.RulePresence, false},
		{"InvalidWho", func(f *app.Facts) { f.Who = 0 }, errcode.ForbiddenByPolicy, app.RuleRole, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := base()
			tc.change(&f)
			d := app.May(&f)
			if got := d.Code; got != tc.want || d.Allowed != (tc.want == "") {
				t.Fatalf("got allowed=%v code %q (%s), want code %q", d.Allowed, got, d.Message, tc.want)
			}
			if d.PersonalOnly != tc.pinned || d.NoPin != tc.pinned {
				t.Errorf("got personalOnly=%v noPin=%v, want %v", d.PersonalOnly, d.NoPin, tc.pinned)
			}
			if tc.want != "" {
				cs := d.Checks()
				if last := cs[len(cs)-1]; last.Rule != tc.rule || last.Value {
					t.Errorf("deciding check: got %+v, want %s failing", last, tc.rule)
				}
			}
			if ok, code, _ := oracle(&f); ok != d.Allowed || code != d.Code {
				t.Errorf("oracle: got %v %q, May gave %v %q", ok, code, d.Allowed, d.Code)
			}
		})
	}
}

var sink app.Decision

// TestMay_ZeroAllocs: deciding allocates nothing (it runs on every bot
// message, card action and proactive send).
func TestMay_ZeroAllocs(t *testing.T) {
	f := base()
	g := base()
	g.Who, g.Action, g.Context, g.HostGlobal, g.AnonymousCanInteract = app.Anonymous, app.Mention, app.Meeting, blockPolls, false
	for _, f := range []*app.Facts{&f, &g} {
		if got := testing.AllocsPerRun(100, func() { sink = app.May(f) }); got != 0 {
			t.Errorf("allocations: got %v, want 0", got)
		}
	}
}

func BenchmarkMay(b *testing.B) {
	f := base()
	f.OwnPolicy = blockPolls
	f.OwnPolicy = &app.PermissionPolicy{Name: "Long", Mode: app.BlockListed, Apps: []string{"a", "b", "c", "d", "e", "f", "g", "h"}}
	b.ReportAllocs()
	for b.Loop() {
		sink = app.May(&f)
	}
}
