package policy_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/policy"
)

// Fixtures: contoso and fabrikam are tenants, outlook.com hosts personal
// addresses.
const (
	contoso  = "contoso"
	fabrikam = "fabrikam"
)

func settings(mods ...func(*policy.Settings)) *policy.Settings {
	s := policy.DefaultSettings()
	for _, m := range mods {
		m(&s)
	}
	return &s
}

func noConsumer(s *policy.Settings)   { s.AllowTeamsConsumer = false }
func noInbound(s *policy.Settings)    { s.AllowTeamsConsumerInbound = false }
func noFederation(s *policy.Settings) { s.AllowFederatedUsers = false }
func onlyDomains(ds ...string) func(*policy.Settings) {
	return func(s *policy.Settings) { s.AllowAllKnownDomains, s.AllowedDomains = false, ds }
}
func blockDomains(ds ...string) func(*policy.Settings) {
	return func(s *policy.Settings) { s.BlockedDomains = ds }
}
func allowDomains(ds ...string) func(*policy.Settings) {
	return func(s *policy.Settings) { s.AllowedDomains = ds }
}

func global() *policy.Policy {
	p := policy.GlobalDefault()
	return &p
}

func custom(name string, mods ...func(*policy.Policy)) *policy.Policy {
	p := policy.GlobalDefault()
	p.Name = name
	for _, m := range mods {
		m(&p)
	}
	return &p
}

func noFederationAccess(p *policy.Policy) { p.EnableFederationAccess = false }
func noConsumerAccess(p *policy.Policy)   { p.EnableTeamsConsumerAccess = false }
func noConsumerInbound(p *policy.Policy)  { p.EnableTeamsConsumerInbound = false }

func member(tenant string, s *policy.Settings, p *policy.Policy) *policy.Party {
	return &policy.Party{Kind: policy.Member, TenantID: tenant, Domain: tenant + ".com", Settings: s, Policy: p}
}

// guest is a guest account hosted by tenant; its address is at home.
func guest(host string, s *policy.Settings) *policy.Party {
	return &policy.Party{Kind: policy.Guest, TenantID: host, Domain: "home.example", Settings: s, Policy: global()}
}

func personal(allowOrgs bool) *policy.Party {
	return &policy.Party{Kind: policy.Personal, Domain: "outlook.com", AllowChatsFromOrganizations: allowOrgs}
}

func anonymous(meetingHost string) *policy.Party {
	return &policy.Party{Kind: policy.Anonymous, TenantID: meetingHost}
}

// result is what a test compares: the decision and its deciding check.
type result struct {
	Outcome policy.Outcome
	Code    errcode.Code
	Side    policy.Side
	Rule    string // Rule of the first failing check; "" when Allowed
	Message string
}

func summarise(d policy.Decision) result {
	r := result{Outcome: d.Outcome, Code: d.Code, Side: d.Side, Message: d.Message}
	for _, c := range d.Checks() {
		if !c.Value {
			r.Rule = c.Rule
			break
		}
	}
	return r
}

func allowed() result { return result{Outcome: policy.Allowed} }

func forbidden(rule, msg string) result {
	return result{Outcome: policy.Refused, Code: errcode.ForbiddenByPolicy, Side: policy.OwnSide, Rule: rule, Message: msg}
}

func unavailable(rule string) result {
	return result{Outcome: policy.Refused, Code: errcode.RecipientUnavailable, Side: policy.OtherSide, Rule: rule, Message: policy.UnavailableMessage}
}

func held(rule string) result {
	return result{Outcome: policy.Held, Side: policy.OtherSide, Rule: rule}
}

type decideFunc func(i, t *policy.Party, rel policy.Relation) policy.Decision

type testCase struct {
	name string
	f    decideFunc // MayStart when nil
	i, t *policy.Party
	rel  policy.Relation
	want result
}

func run(t *testing.T, cases []testCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f
			if f == nil {
				f = policy.MayStart
			}
			got := summarise(f(tc.i, tc.t, tc.rel))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decision mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// Messages of ForbiddenByPolicy decisions, as the caller sees them.
const (
	msgTenantConsumer   = "your organisation does not allow chats with personal accounts"
	msgPolicyConsumer   = "your policy does not allow chats with personal accounts"
	msgTenantFederation = "your organisation does not allow chats with other organisations"
	msgPolicyFederation = "your policy does not allow chats with other organisations"
	msgBlockedDomain    = "your organisation has blocked chats with this person's domain"
	msgNotAllowedDomain = "your organisation allows chats only with the domains on its allowed list"
	msgGuest            = "guests can chat only inside their host organisation"
	msgAnonymous        = "anonymous participants can chat only inside their meeting"
	msgOwnBlock         = "you have blocked this person"
)

func TestDefaults_S2_S3(t *testing.T) {
	wantS := policy.Settings{AllowTeamsConsumer: true, AllowTeamsConsumerInbound: true, AllowFederatedUsers: true, AllowAllKnownDomains: true}
	if diff := cmp.Diff(wantS, policy.DefaultSettings()); diff != "" {
		t.Errorf("DefaultSettings (-want +got):\n%s", diff)
	}
	wantP := policy.Policy{Name: "Global", EnableFederationAccess: true, EnableTeamsConsumerAccess: true, EnableTeamsConsumerInbound: true}
	if diff := cmp.Diff(wantP, policy.GlobalDefault()); diff != "" {
		t.Errorf("GlobalDefault (-want +got):\n%s", diff)
	}
	if policy.GlobalName != "Global" {
		t.Errorf("GlobalName: got %q, want %q", policy.GlobalName, "Global")
	}
}

func TestAdmits_S2_DomainLists(t *testing.T) {
	tests := []struct {
		name   string
		s      *policy.Settings
		domain string
		want   bool
	}{
		{"default admits all", settings(), "fabrikam.com", true},
		{"empty domain under allow all", settings(), "", true},
		{"blocked", settings(blockDomains("x.com", "fabrikam.com")), "fabrikam.com", false},
		{"blocked wins over allowed list", settings(onlyDomains("fabrikam.com"), blockDomains("fabrikam.com")), "fabrikam.com", false},
		{"blocked wins over allow all", settings(allowDomains("fabrikam.com"), blockDomains("fabrikam.com")), "fabrikam.com", false},
		{"allow list admits", settings(onlyDomains("x.com", "fabrikam.com")), "fabrikam.com", true},
		{"allow list does not admit", settings(onlyDomains("x.com")), "fabrikam.com", false},
		{"empty allow list admits nothing", settings(onlyDomains()), "fabrikam.com", false},
		{"allow list ignored under allow all", settings(allowDomains("x.com")), "fabrikam.com", true},
		{"case-insensitive input on allow list", settings(onlyDomains("fabrikam.com")), "FabriKAM.COM", true},
		{"case-insensitive input on block list", settings(blockDomains("fabrikam.com")), "FABRIKAM.com", false},
		{"case-insensitive list entry", settings(blockDomains("Fabrikam.com")), "fabrikam.com", false},
		{"exact match, not suffix", settings(onlyDomains("fabrikam.com")), "sub.fabrikam.com", false},
		{"exact match, not prefix", settings(blockDomains("fabrikam.com")), "fabrikam.co", true},
		{"no Unicode folding (Kelvin sign)", settings(onlyDomains("kelvin.com")), "\u212aelvin.com", false},
		{"nil settings admit nothing", nil, "fabrikam.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := policy.Admits(tt.s, tt.domain); got != tt.want {
				t.Errorf("Admits(%q): got %v, want %v", tt.domain, got, tt.want)
			}
		})
	}
}

func TestMayStart_S4_Rule1_SameTenant(t *testing.T) {
	off := settings(noConsumer, noInbound, noFederation, onlyDomains(), blockDomains("contoso.com"))
	allOff := custom("Locked", noFederationAccess, noConsumerAccess, noConsumerInbound)
	run(t, []testCase{
		{name: "member to member with every switch off", i: member(contoso, off, allOff), t: member(contoso, off, allOff), want: allowed()},
		{name: "member to guest", i: member(contoso, off, allOff), t: guest(contoso, off), want: allowed()},
		{name: "guest to member", i: guest(contoso, off), t: member(contoso, off, allOff), want: allowed()},
		{name: "guest to guest", i: guest(contoso, off), t: guest(contoso, off), want: allowed()},
		{name: "anonymous to host member in the meeting", i: anonymous(contoso), t: member(contoso, off, allOff), want: allowed()},
		{name: "member to anonymous in own meeting", i: member(contoso, off, allOff), t: anonymous(contoso), want: allowed()},
		{name: "own block refuses", i: member(contoso, off, allOff), t: member(contoso, off, allOff), rel: policy.Relation{InitiatorBlocked: policy.SilentBlock}, want: forbidden("block", msgOwnBlock)},
		{name: "target's list block is silent", i: member(contoso, off, allOff), t: member(contoso, off, allOff), rel: policy.Relation{TargetBlocked: policy.SilentBlock}, want: held("block")},
		{name: "target's request block is told", i: member(contoso, off, allOff), t: member(contoso, off, allOff), rel: policy.Relation{TargetBlocked: policy.VisibleBlock}, want: unavailable("block")},
		{name: "no requests inside a tenant, so no decline", i: member(contoso, off, allOff), t: guest(contoso, off), rel: policy.Relation{Declined: true}, want: allowed()},
		{name: "personal users share no tenant", i: &policy.Party{Kind: policy.Personal, TenantID: contoso}, t: &policy.Party{Kind: policy.Personal, TenantID: contoso}, want: allowed()},
		{name: "empty tenant ids are not one tenant", i: member("", settings(noFederation), global()), t: member("", settings(), global()), want: forbidden("tenant.allowFederatedUsers", msgTenantFederation)},
	})
}

func TestMayStart_S4_Rule2_ManagedToPersonal(t *testing.T) {
	run(t, []testCase{
		{name: "defaults", i: member(contoso, settings(), global()), t: personal(true), want: allowed()},
		{name: "tenant allowTeamsConsumer off", i: member(contoso, settings(noConsumer), global()), t: personal(true), want: forbidden("tenant.allowTeamsConsumer", msgTenantConsumer)},
		{name: "policy enableTeamsConsumerAccess off", i: member(contoso, settings(), custom("Sales", noConsumerAccess)), t: personal(true), want: forbidden("policy.enableTeamsConsumerAccess", msgPolicyConsumer)},
		{name: "personal allowChatsFromOrganizations off is silent", i: member(contoso, settings(), global()), t: personal(false), want: held("target.allowChatsFromOrganizations")},
		{name: "own inbound switch does not matter", i: member(contoso, settings(noInbound), custom("Out", noConsumerInbound)), t: personal(true), want: allowed()},
		{name: "federation switches do not matter", i: member(contoso, settings(noFederation, onlyDomains()), custom("NoFed", noFederationAccess)), t: personal(true), want: allowed()},
		{name: "own side told before personal switch", i: member(contoso, settings(noConsumer), global()), t: personal(false), want: forbidden("tenant.allowTeamsConsumer", msgTenantConsumer)},
		{name: "tenant before policy", i: member(contoso, settings(noConsumer), custom("Sales", noConsumerAccess)), t: personal(true), want: forbidden("tenant.allowTeamsConsumer", msgTenantConsumer)},
		{name: "phone-only personal", i: member(contoso, settings(), global()), t: &policy.Party{Kind: policy.Personal, AllowChatsFromOrganizations: true}, want: allowed()},
	})
}

func TestMayStart_S4_Rule3_PersonalToManaged(t *testing.T) {
	run(t, []testCase{
		{name: "defaults", i: personal(true), t: member(fabrikam, settings(), global()), want: allowed()},
		{name: "tenant allowTeamsConsumer off", i: personal(true), t: member(fabrikam, settings(noConsumer), global()), want: unavailable("tenant.allowTeamsConsumer")},
		{name: "tenant allowTeamsConsumerInbound off", i: personal(true), t: member(fabrikam, settings(noInbound), global()), want: unavailable("tenant.allowTeamsConsumerInbound")},
		{name: "policy enableTeamsConsumerAccess off is silent", i: personal(true), t: member(fabrikam, settings(), custom("Sales", noConsumerAccess)), want: held("policy.enableTeamsConsumerAccess")},
		{name: "policy enableTeamsConsumerInbound off is silent", i: personal(true), t: member(fabrikam, settings(), custom("Sales", noConsumerInbound)), want: held("policy.enableTeamsConsumerInbound")},
		{name: "organisation-wide told before account-level", i: personal(true), t: member(fabrikam, settings(noConsumer), custom("Sales", noConsumerAccess)), want: unavailable("tenant.allowTeamsConsumer")},
		{name: "initiator's own switch does not matter", i: personal(false), t: member(fabrikam, settings(), global()), want: allowed()},
		{name: "federation switches do not matter", i: personal(true), t: member(fabrikam, settings(noFederation, onlyDomains()), custom("NoFed", noFederationAccess)), want: allowed()},
	})
}

// TestMayStart_S4_Rule3_InboundOnly: allowTeamsConsumerInbound off makes a
// tenant outbound-only (docs/rules.md §2): its users may start chats with personal
// users, personal users may not start chats with them, and chats once
// started stay writable both ways (mayTalk has no inbound switches).
func TestMayStart_S4_Rule3_InboundOnly(t *testing.T) {
	outbound := settings(noInbound)
	run(t, []testCase{
		{name: "personal to managed refused", i: personal(true), t: member(fabrikam, outbound, global()), want: unavailable("tenant.allowTeamsConsumerInbound")},
		{name: "managed to personal allowed", i: member(fabrikam, outbound, global()), t: personal(true), want: allowed()},
		{name: "talk personal to managed", f: policy.MayTalk, i: personal(true), t: member(fabrikam, outbound, global()), want: allowed()},
		{name: "talk managed to personal", f: policy.MayTalk, i: member(fabrikam, outbound, global()), t: personal(true), want: allowed()},
		{name: "policy inbound off: personal to managed held", i: personal(true), t: member(fabrikam, settings(), custom("Out", noConsumerInbound)), want: held("policy.enableTeamsConsumerInbound")},
		{name: "policy inbound off: managed to personal allowed", i: member(fabrikam, settings(), custom("Out", noConsumerInbound)), t: personal(true), want: allowed()},
		{name: "inbound on but master switch off", i: member(fabrikam, settings(noConsumer), global()), t: personal(true), want: forbidden("tenant.allowTeamsConsumer", msgTenantConsumer)},
	})
}

func TestMayStart_S4_Rule4_Federation(t *testing.T) {
	x := func(mods ...func(*policy.Settings)) *policy.Party {
		return member(contoso, settings(mods...), global())
	}
	y := func(mods ...func(*policy.Settings)) *policy.Party {
		return member(fabrikam, settings(mods...), global())
	}
	run(t, []testCase{
		{name: "defaults", i: x(), t: y(), want: allowed()},
		{name: "own allowFederatedUsers off", i: x(noFederation), t: y(), want: forbidden("tenant.allowFederatedUsers", msgTenantFederation)},
		{name: "other allowFederatedUsers off", i: x(), t: y(noFederation), want: unavailable("tenant.allowFederatedUsers")},
		{name: "own blockedDomains", i: x(blockDomains("evil.com", "fabrikam.com")), t: y(), want: forbidden("tenant.blockedDomains", msgBlockedDomain)},
		{name: "other blockedDomains", i: x(), t: y(blockDomains("contoso.com")), want: unavailable("tenant.blockedDomains")},
		{name: "own allow-list admits", i: x(onlyDomains("northwind.com", "fabrikam.com")), t: y(), want: allowed()},
		{name: "own allow-list does not admit", i: x(onlyDomains("northwind.com")), t: y(), want: forbidden("tenant.allowedDomains", msgNotAllowedDomain)},
		{name: "other allow-list admits", i: x(), t: y(onlyDomains("contoso.com")), want: allowed()},
		{name: "other allow-list does not admit", i: x(), t: y(onlyDomains("northwind.com")), want: unavailable("tenant.allowedDomains")},
		{name: "both allow-lists admit, other blocks something else", i: x(onlyDomains("fabrikam.com")), t: y(onlyDomains("contoso.com"), blockDomains("evil.com")), want: allowed()},
		{name: "own blocked and allowed: block wins", i: x(onlyDomains("fabrikam.com"), blockDomains("fabrikam.com")), t: y(), want: forbidden("tenant.blockedDomains", msgBlockedDomain)},
		{name: "other blocked and allowed: block wins", i: x(), t: y(onlyDomains("contoso.com"), blockDomains("contoso.com")), want: unavailable("tenant.blockedDomains")},
		{name: "allow-list ignored under allowAllKnownDomains", i: x(allowDomains("northwind.com")), t: y(), want: allowed()},
		{name: "own policy enableFederationAccess off", i: member(contoso, settings(), custom("Internal", noFederationAccess)), t: y(), want: forbidden("policy.enableFederationAccess", msgPolicyFederation)},
		{name: "other policy enableFederationAccess off is silent", i: x(), t: member(fabrikam, settings(), custom("Internal", noFederationAccess)), want: held("policy.enableFederationAccess")},
		{name: "consumer switches do not matter", i: member(contoso, settings(noConsumer, noInbound), custom("P", noConsumerAccess, noConsumerInbound)), t: member(fabrikam, settings(noConsumer, noInbound), custom("P", noConsumerAccess, noConsumerInbound)), want: allowed()},
		{name: "upper-case domain still blocked", i: x(blockDomains("fabrikam.com")), t: &policy.Party{Kind: policy.Member, TenantID: fabrikam, Domain: "FABRIKAM.COM", Settings: settings(), Policy: global()}, want: forbidden("tenant.blockedDomains", msgBlockedDomain)},
		{name: "own tenant before own policy", i: member(contoso, settings(noFederation), custom("Internal", noFederationAccess)), t: y(), want: forbidden("tenant.allowFederatedUsers", msgTenantFederation)},
		{name: "missing settings fail closed", i: member(contoso, nil, global()), t: y(), want: forbidden("tenant.allowFederatedUsers", msgTenantFederation)},
		{name: "missing target policy fails closed, silently", i: x(), t: member(fabrikam, settings(), nil), want: held("policy.enableFederationAccess")},
	})
}

func TestMayStart_S4_Rule5_PersonalToPersonal(t *testing.T) {
	run(t, []testCase{
		{name: "always", i: personal(false), t: personal(false), want: allowed()},
		{name: "phone-only", i: &policy.Party{Kind: policy.Personal}, t: &policy.Party{Kind: policy.Personal}, want: allowed()},
		{name: "list block silent", i: personal(true), t: personal(true), rel: policy.Relation{TargetBlocked: policy.SilentBlock}, want: held("block")},
		{name: "declined told", i: personal(true), t: personal(true), rel: policy.Relation{Declined: true}, want: unavailable("request.declined")},
	})
}

func TestMayStart_S4_Rule6_Blocks(t *testing.T) {
	x, y := member(contoso, settings(), global()), member(fabrikam, settings(), global())
	r := func(ib, tb policy.Block, declined bool) policy.Relation {
		return policy.Relation{InitiatorBlocked: ib, TargetBlocked: tb, Declined: declined}
	}
	run(t, []testCase{
		{name: "none", i: x, t: y, rel: r(policy.NoBlock, policy.NoBlock, false), want: allowed()},
		{name: "own list block", i: x, t: y, rel: r(policy.SilentBlock, policy.NoBlock, false), want: forbidden("block", msgOwnBlock)},
		{name: "own request block", i: x, t: y, rel: r(policy.VisibleBlock, policy.NoBlock, false), want: forbidden("block", msgOwnBlock)},
		{name: "target request block told", i: x, t: y, rel: r(policy.NoBlock, policy.VisibleBlock, false), want: unavailable("block")},
		{name: "target list block silent", i: x, t: y, rel: r(policy.NoBlock, policy.SilentBlock, false), want: held("block")},
		{name: "declined during cool-down", i: x, t: y, rel: r(policy.NoBlock, policy.NoBlock, true), want: unavailable("request.declined")},
		{name: "declined and list-blocked: decline told", i: x, t: y, rel: r(policy.NoBlock, policy.SilentBlock, true), want: unavailable("request.declined")},
		{name: "both blocked: own told", i: x, t: y, rel: r(policy.SilentBlock, policy.VisibleBlock, true), want: forbidden("block", msgOwnBlock)},
		{name: "managed to personal, list block", i: x, t: personal(true), rel: r(policy.NoBlock, policy.SilentBlock, false), want: held("block")},
		{name: "personal to managed, request block", i: personal(true), t: y, rel: r(policy.NoBlock, policy.VisibleBlock, false), want: unavailable("block")},
		{name: "talk: own block", f: policy.MayTalk, i: x, t: y, rel: r(policy.SilentBlock, policy.NoBlock, false), want: forbidden("block", msgOwnBlock)},
		{name: "talk: target list block silent", f: policy.MayTalk, i: x, t: personal(true), rel: r(policy.NoBlock, policy.SilentBlock, false), want: held("block")},
	})
}

func TestMayStart_S4_Rule7_GuestHostOnly(t *testing.T) {
	run(t, []testCase{
		{name: "guest to other tenant", i: guest(contoso, settings()), t: member(fabrikam, settings(), global()), want: forbidden("guest.hostOnly", msgGuest)},
		{name: "guest to personal", i: guest(contoso, settings()), t: personal(true), want: forbidden("guest.hostOnly", msgGuest)},
		{name: "guest to guest of other tenant", i: guest(contoso, settings()), t: guest(fabrikam, settings()), want: forbidden("guest.hostOnly", msgGuest)},
		{name: "guest rule before own block", i: guest(contoso, settings()), t: personal(true), rel: policy.Relation{InitiatorBlocked: policy.SilentBlock}, want: forbidden("guest.hostOnly", msgGuest)},
		{name: "other tenant to guest is silent", i: member(fabrikam, settings(), global()), t: guest(contoso, settings()), want: held("guest.hostOnly")},
		{name: "personal to guest is silent", i: personal(true), t: guest(contoso, settings()), want: held("guest.hostOnly")},
		{name: "own side told before guest silence", i: member(fabrikam, settings(noFederation), global()), t: guest(contoso, settings()), want: forbidden("tenant.allowFederatedUsers", msgTenantFederation)},
		{name: "host organisation-wide told before guest silence", i: personal(true), t: guest(contoso, settings(noConsumer)), want: unavailable("tenant.allowTeamsConsumer")},
		{name: "talk: guest to other tenant", f: policy.MayTalk, i: guest(contoso, settings()), t: member(fabrikam, settings(), global()), want: forbidden("guest.hostOnly", msgGuest)},
	})
}

// TestMayMeet_S4_Rule7_GuestNeverInExternalChat: whoever adds them, a guest
// and a person outside its host tenant never share a chat (forbiddenByPolicy,
// naming the rule), while inside the tenant everyone may, and people outside
// it meet freely when no guest is involved (their pairs are MayStart's).
func TestMayMeet_S4_Rule7_GuestNeverInExternalChat(t *testing.T) {
	meet := func(p, q *policy.Party, _ policy.Relation) policy.Decision { return policy.MayMeet(p, q) }
	run(t, []testCase{
		{name: "guest with host member", f: meet, i: guest(contoso, settings()), t: member(contoso, settings(), global()), want: allowed()},
		{name: "guest with guest of host", f: meet, i: guest(contoso, settings()), t: guest(contoso, settings()), want: allowed()},
		{name: "guest with other tenant", f: meet, i: guest(contoso, settings()), t: member(fabrikam, settings(), global()), want: forbidden("guest.hostOnly", msgGuest)},
		{name: "other tenant with guest", f: meet, i: member(fabrikam, settings(), global()), t: guest(contoso, settings()), want: forbidden("guest.hostOnly", msgGuest)},
		{name: "personal with guest", f: meet, i: personal(true), t: guest(contoso, settings()), want: forbidden("guest.hostOnly", msgGuest)},
		{name: "guest with guest of other tenant", f: meet, i: guest(contoso, settings()), t: guest(fabrikam, settings()), want: forbidden("guest.hostOnly", msgGuest)},
		{name: "switches do not matter", f: meet, i: guest(contoso, settings(noConsumer, noFederation)), t: member(contoso, settings(noConsumer), custom("Closed", noFederationAccess)), want: allowed()},
		{name: "members of two tenants", f: meet, i: member(contoso, settings(noFederation), global()), t: member(fabrikam, settings(), global()), want: allowed()},
		{name: "member and personal", f: meet, i: member(contoso, nil, nil), t: personal(false), want: allowed()},
		{name: "anonymous outside its meeting", f: meet, i: anonymous(contoso), t: personal(true), want: forbidden("anonymous.meetingOnly", msgAnonymous)},
		{name: "nil is an unknown kind", f: meet, i: nil, t: personal(true), want: forbidden("account.kind", "this account can chat only inside its organisation")},
	})
}

// TestMayStart_S4_Rule7_Anonymous: anonymous participants exist only inside
// their meeting (docs/rules.md §1, §8).
func TestMayStart_S4_Rule7_Anonymous(t *testing.T) {
	run(t, []testCase{
		{name: "anonymous to other tenant", i: anonymous(contoso), t: member(fabrikam, settings(), global()), want: forbidden("anonymous.meetingOnly", msgAnonymous)},
		{name: "anonymous to personal", i: anonymous(contoso), t: personal(true), want: forbidden("anonymous.meetingOnly", msgAnonymous)},
		{name: "anonymous without meeting", i: anonymous(""), t: anonymous(""), want: forbidden("anonymous.meetingOnly", msgAnonymous)},
		{name: "other tenant to anonymous is silent", i: member(fabrikam, settings(), global()), t: anonymous(contoso), want: held("anonymous.meetingOnly")},
		{name: "personal to anonymous is silent", i: personal(true), t: anonymous(contoso), want: held("anonymous.meetingOnly")},
		{name: "unknown kind fails closed", i: &policy.Party{TenantID: contoso}, t: personal(true), want: forbidden("account.kind", "this account can chat only inside its organisation")},
		{name: "unknown target kind held", i: personal(true), t: &policy.Party{Kind: 99}, want: held("account.kind")},
	})
}

// TestMayStart_S4_RuleOfSilence_Priority: the deciding check is the first
// failing one in the order own side (a), other side organisation-wide (b),
// visible decline or block (c), account-level (d).
func TestMayStart_S4_RuleOfSilence_Priority(t *testing.T) {
	off := custom("Internal", noFederationAccess)
	every := policy.Relation{InitiatorBlocked: policy.SilentBlock, TargetBlocked: policy.VisibleBlock, Declined: true}
	run(t, []testCase{
		{name: "a before b, c, d", i: member(contoso, settings(noFederation), global()), t: member(fabrikam, settings(noFederation), off), rel: policy.Relation{TargetBlocked: policy.VisibleBlock}, want: forbidden("tenant.allowFederatedUsers", msgTenantFederation)},
		{name: "own block is (a)", i: member(contoso, settings(), global()), t: member(fabrikam, settings(noFederation), off), rel: every, want: forbidden("block", msgOwnBlock)},
		{name: "b before c, d", i: member(contoso, settings(), global()), t: member(fabrikam, settings(blockDomains("contoso.com")), off), rel: policy.Relation{TargetBlocked: policy.VisibleBlock}, want: unavailable("tenant.blockedDomains")},
		{name: "c before d", i: member(contoso, settings(), global()), t: member(fabrikam, settings(), off), rel: policy.Relation{Declined: true}, want: unavailable("request.declined")},
		{name: "d alone", i: member(contoso, settings(), global()), t: member(fabrikam, settings(), off), rel: policy.Relation{TargetBlocked: policy.SilentBlock}, want: held("policy.enableFederationAccess")},
		{name: "nil target is an address without account", i: member(contoso, settings(), global()), t: nil, want: held("account.missing")},
		{name: "nil initiator", i: nil, t: member(contoso, settings(), global()), want: forbidden("account.missing", "this account cannot start chats")},
	})
}

// settingNames are words a RecipientUnavailable message must not contain: it
// is one neutral code that does not say which setting refused (docs/rules.md §4 (b)).
var settingNames = []string{
	"allowTeamsConsumer", "Inbound", "allowFederatedUsers", "allowAllKnownDomains",
	"allowedDomains", "blockedDomains", "enableFederationAccess", "enableTeamsConsumerAccess",
	"allowChatsFromOrganizations", "polic", "setting", "domain", "block", "declin",
	"organisation", "organization", "tenant", "personal", "federat", "guest", "anonymous",
}

// unavailableCases produce RecipientUnavailable by every (b) and (c) rule.
func unavailableCases() []testCase {
	x := member(contoso, settings(), global())
	return []testCase{
		{name: "other allowTeamsConsumer", i: personal(true), t: member(fabrikam, settings(noConsumer), global())},
		{name: "other allowTeamsConsumerInbound", i: personal(true), t: member(fabrikam, settings(noInbound), global())},
		{name: "other allowFederatedUsers", i: x, t: member(fabrikam, settings(noFederation), global())},
		{name: "other blockedDomains", i: x, t: member(fabrikam, settings(blockDomains("contoso.com")), global())},
		{name: "other allowedDomains", i: x, t: member(fabrikam, settings(onlyDomains()), global())},
		{name: "request block", i: x, t: personal(true), rel: policy.Relation{TargetBlocked: policy.VisibleBlock}},
		{name: "decline", i: personal(true), t: personal(true), rel: policy.Relation{Declined: true}},
		{name: "talk: other allowTeamsConsumer", f: policy.MayTalk, i: personal(true), t: member(fabrikam, settings(noConsumer), global())},
	}
}

// heldCases produce Held by every (d) rule.
func heldCases() []testCase {
	x := member(contoso, settings(), global())
	return []testCase{
		{name: "personal allowChatsFromOrganizations", i: x, t: personal(false)},
		{name: "policy enableTeamsConsumerAccess", i: personal(true), t: member(fabrikam, settings(), custom("S", noConsumerAccess))},
		{name: "policy enableTeamsConsumerInbound", i: personal(true), t: member(fabrikam, settings(), custom("S", noConsumerInbound))},
		{name: "policy enableFederationAccess", i: x, t: member(fabrikam, settings(), custom("S", noFederationAccess))},
		{name: "list block", i: x, t: member(contoso, settings(), global()), rel: policy.Relation{TargetBlocked: policy.SilentBlock}},
		{name: "guest target", i: x, t: guest(fabrikam, settings())},
		{name: "anonymous target", i: x, t: anonymous(fabrikam)},
		{name: "no account", i: x, t: nil},
		{name: "talk: policy enableTeamsConsumerAccess", f: policy.MayTalk, i: personal(true), t: member(fabrikam, settings(), custom("S", noConsumerAccess))},
	}
}

func decideCase(tc testCase) policy.Decision {
	if tc.f == nil {
		return policy.MayStart(tc.i, tc.t, tc.rel)
	}
	return tc.f(tc.i, tc.t, tc.rel)
}

func TestMayStart_S4_RuleOfSilence_UnavailableIsNeutral(t *testing.T) {
	for _, tc := range unavailableCases() {
		t.Run(tc.name, func(t *testing.T) {
			d := decideCase(tc)
			if d.Outcome != policy.Refused || d.Code != errcode.RecipientUnavailable {
				t.Fatalf("got %v %q, want refused %q", d.Outcome, d.Code, errcode.RecipientUnavailable)
			}
			if d.Message != policy.UnavailableMessage {
				t.Errorf("message: got %q, want %q", d.Message, policy.UnavailableMessage)
			}
			assertNeutral(t, d.Message)
		})
	}
}

func assertNeutral(t *testing.T, msg string) {
	t.Helper()
	if msg == "" {
		t.Errorf("recipientUnavailable without a message")
	}
	for _, w := range settingNames {
		if strings.Contains(strings.ToLower(msg), strings.ToLower(w)) {
			t.Errorf("recipientUnavailable message %q names %q", msg, w)
		}
	}
}

func TestMayStart_S4_RuleOfSilence_HeldHasNoCode(t *testing.T) {
	for _, tc := range heldCases() {
		t.Run(tc.name, func(t *testing.T) {
			d := decideCase(tc)
			if d.Outcome != policy.Held {
				t.Fatalf("outcome: got %v, want held", d.Outcome)
			}
			if d.Code != "" || d.Message != "" {
				t.Errorf("held decision tells the caller: got code %q message %q, want both empty", d.Code, d.Message)
			}
			if d.Allowed() {
				t.Errorf("Allowed(): got true, want false")
			}
		})
	}
}

// TestMayTalk_S4_Undirected: mayTalk is mayStart without the inbound
// switches, seen from the sender, so a read-only chat can say whose side's
// setting it is.
func TestMayTalk_S4_Undirected(t *testing.T) {
	y := func(s *policy.Settings, p *policy.Policy) *policy.Party { return member(fabrikam, s, p) }
	run(t, []testCase{
		{name: "personal sender, tenant inbound off", f: policy.MayTalk, i: personal(true), t: y(settings(noInbound), global()), want: allowed()},
		{name: "personal sender, policy inbound off", f: policy.MayTalk, i: personal(true), t: y(settings(), custom("Out", noConsumerInbound)), want: allowed()},
		{name: "managed sender, personal switch off", f: policy.MayTalk, i: y(settings(), global()), t: personal(false), want: allowed()},
		{name: "managed sender, own tenant consumer off", f: policy.MayTalk, i: y(settings(noConsumer), global()), t: personal(true), want: forbidden("tenant.allowTeamsConsumer", msgTenantConsumer)},
		{name: "personal sender, other tenant consumer off", f: policy.MayTalk, i: personal(true), t: y(settings(noConsumer), global()), want: unavailable("tenant.allowTeamsConsumer")},
		{name: "managed sender, own policy consumer off", f: policy.MayTalk, i: y(settings(), custom("S", noConsumerAccess)), t: personal(true), want: forbidden("policy.enableTeamsConsumerAccess", msgPolicyConsumer)},
		{name: "personal sender, other policy consumer off", f: policy.MayTalk, i: personal(true), t: y(settings(), custom("S", noConsumerAccess)), want: held("policy.enableTeamsConsumerAccess")},
		{name: "federation, own side off", f: policy.MayTalk, i: member(contoso, settings(noFederation), global()), t: y(settings(), global()), want: forbidden("tenant.allowFederatedUsers", msgTenantFederation)},
		{name: "federation, other side off", f: policy.MayTalk, i: member(contoso, settings(), global()), t: y(settings(noFederation), global()), want: unavailable("tenant.allowFederatedUsers")},
		{name: "federation, other domain list", f: policy.MayTalk, i: member(contoso, settings(), global()), t: y(settings(onlyDomains("northwind.com")), global()), want: unavailable("tenant.allowedDomains")},
		{name: "same tenant", f: policy.MayTalk, i: member(fabrikam, settings(noFederation), global()), t: guest(fabrikam, settings()), want: allowed()},
	})
}

// TestDecision_Checks_S4_Explain: the ordered list of checks with their
// values and sources, as Explain and audit show them.
func TestDecision_Checks_S4_Explain(t *testing.T) {
	own, other := policy.OwnSide, policy.OtherSide
	i := member(contoso, settings(onlyDomains("fabrikam.com")), custom("Sales", noConsumerAccess))
	tg := member(fabrikam, settings(blockDomains("evil.com")), custom("Legal", noFederationAccess))
	d := policy.MayStart(i, tg, policy.Relation{})
	want := []policy.Check{
		{Rule: "tenant.allowFederatedUsers", Side: own, Value: true, Source: "tenant setting"},
		{Rule: "tenant.blockedDomains", Side: own, Value: true, Source: "tenant setting"},
		{Rule: "tenant.allowedDomains", Side: own, Value: true, Source: "tenant setting"},
		{Rule: "policy.enableFederationAccess", Side: own, Value: true, Source: "policy Sales"},
		{Rule: "block", Side: own, Value: true, Source: "block list"},
		{Rule: "tenant.allowFederatedUsers", Side: other, Value: true, Source: "tenant setting"},
		{Rule: "tenant.blockedDomains", Side: other, Value: true, Source: "tenant setting"},
		{Rule: "tenant.allowedDomains", Side: other, Value: true, Source: "tenant setting"},
		{Rule: "block", Side: other, Value: true, Source: "request block"},
		{Rule: "request.declined", Side: other, Value: true, Source: "request decline"},
		{Rule: "policy.enableFederationAccess", Side: other, Value: false, Source: "policy Legal"},
		{Rule: "block", Side: other, Value: true, Source: "block list"},
	}
	if diff := cmp.Diff(want, d.Checks()); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	if got := summarise(d); got != held("policy.enableFederationAccess") {
		t.Errorf("got %+v, want held by the target's policy", got)
	}

	// Personal → managed with Global policies and a request block.
	d = policy.MayStart(personal(true), member(fabrikam, settings(), global()), policy.Relation{InitiatorBlocked: policy.VisibleBlock})
	want = []policy.Check{
		{Rule: "block", Side: own, Value: false, Source: "request block"},
		{Rule: "tenant.allowTeamsConsumer", Side: other, Value: true, Source: "tenant setting"},
		{Rule: "tenant.allowTeamsConsumerInbound", Side: other, Value: true, Source: "tenant setting"},
		{Rule: "block", Side: other, Value: true, Source: "request block"},
		{Rule: "request.declined", Side: other, Value: true, Source: "request decline"},
		{Rule: "policy.enableTeamsConsumerAccess", Side: other, Value: true, Source: "policy Global"},
		{Rule: "policy.enableTeamsConsumerInbound", Side: other, Value: true, Source: "policy Global"},
		{Rule: "block", Side: other, Value: true, Source: "block list"},
	}
	if diff := cmp.Diff(want, d.Checks()); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}

	// Checks of a copy are the same, and calling twice changes nothing.
	d = policy.MayStart(i, tg, policy.Relation{})
	c := d
	if diff := cmp.Diff(d.Checks(), c.Checks()); diff != "" {
		t.Errorf("checks of a copy (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(d.Checks(), d.Checks()); diff != "" {
		t.Errorf("checks twice (-first +second):\n%s", diff)
	}
}

// TestDecision_MaxChecks: the longest decision, a guest reaching a guest of
// another tenant, fits the fixed array.
func TestDecision_MaxChecks(t *testing.T) {
	d := policy.MayStart(guest(contoso, settings()), guest(fabrikam, settings()), policy.Relation{})
	if got, want := len(d.Checks()), 14; got != want {
		t.Errorf("checks: got %d, want %d", got, want)
	}
}
