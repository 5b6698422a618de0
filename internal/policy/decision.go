package policy

import "github.com/parleychat/parley/internal/errcode"

// Outcome is the result of a decision.
type Outcome uint8

// The outcomes. The zero Outcome is invalid.
const (
	// Allowed: the chat may be started, the member added, the message sent.
	Allowed Outcome = iota + 1
	// Refused: the caller is told. Code is ForbiddenByPolicy when the
	// deciding rule is on the caller's own side (docs/rules.md §4 (a)), RecipientUnavailable
	// when it is the other side's organisation-wide setting (b) or the
	// recipient's visible decline or block (c).
	Refused
	// Held: an account-level refusal on the target's side (docs/rules.md §4 (d)). It is
	// silent: the caller must not learn it, so the chat is created and the
	// member shows pending (docs/rules.md §4 rule of silence, §6 anti-enumeration).
	Held
)

// String returns the outcome's name, for logs and test output.
func (o Outcome) String() string {
	switch o {
	case Allowed:
		return "allowed"
	case Refused:
		return "refused"
	case Held:
		return "held"
	}
	return "invalid"
}

// Side is whose side a rule belongs to, seen from the initiator (or sender).
type Side uint8

// The sides.
const (
	NoSide Side = iota
	// OwnSide: the initiator's tenant, policy or block.
	OwnSide
	// OtherSide: the target's tenant, policy, switch, block or decline.
	OtherSide
)

// String returns the side's name, for logs and test output.
func (s Side) String() string {
	switch s {
	case NoSide:
		return "none"
	case OwnSide:
		return "own"
	case OtherSide:
		return "other"
	}
	return "invalid"
}

// Check is one rule evaluated for a decision, with its value and where the
// value came from. Explain and audit show them.
type Check struct {
	// Rule is a stable machine name, one of the Rule constants.
	Rule string
	// Side is whose side the rule belongs to.
	Side Side
	// Value reports whether the check passed.
	Value bool
	// Source is where the value came from: "tenant setting", "policy Global",
	// "policy <name>", "personal setting", "block list", "request block",
	// "request decline", ...
	Source string
}

// The rule names of Check.Rule. They are stable: audit records keep them.
// RuleSameTenant is recorded only when rule 1 applies, with NoSide and true;
// RuleBlock appears up to three times, told apart by Side and Source (the
// initiator's own block; the target's block made on a request; the target's
// block from its blocked-people list).
const (
	RuleSameTenant                  = "sameTenant"
	RuleGuestHostOnly               = "guest.hostOnly"
	RuleAnonymousMeetingOnly        = "anonymous.meetingOnly"
	RuleAccountKind                 = "account.kind"
	RuleAccountMissing              = "account.missing"
	RuleAllowTeamsConsumer          = "tenant.allowTeamsConsumer"
	RuleAllowTeamsConsumerInbound   = "tenant.allowTeamsConsumerInbound"
	RuleAllowFederatedUsers         = "tenant.allowFederatedUsers"
	RuleBlockedDomains              = "tenant.blockedDomains"
	RuleAllowedDomains              = "tenant.allowedDomains"
	RuleEnableFederationAccess      = "policy.enableFederationAccess"
	RuleEnableTeamsConsumerAccess   = "policy.enableTeamsConsumerAccess"
	RuleEnableTeamsConsumerInbound  = "policy.enableTeamsConsumerInbound"
	RuleAllowChatsFromOrganizations = "target.allowChatsFromOrganizations"
	RuleBlock                       = "block"
	RuleDeclined                    = "request.declined"
)

// Sources of Check.Source. A custom policy's source is "policy <name>".
const (
	SourceTenant           = "tenant setting"
	SourceTenantMissing    = "tenant settings not loaded"
	SourceGlobalPolicy     = "policy " + GlobalName
	SourceUnnamedPolicy    = "policy (unnamed)"
	SourcePolicyMissing    = "policy not loaded"
	SourcePersonal         = "personal setting"
	SourceBlockList        = "block list"
	SourceRequestBlock     = "request block"
	SourceRequestDecline   = "request decline"
	SourceMembership       = "tenant membership"
	SourceGuestAccount     = "guest account"
	SourceAnonymousAccount = "anonymous participant"
	SourceAccountKind      = "account kind"
	SourceDirectory        = "directory"
)

// Placeholders for a custom policy's source, which Checks turns into
// "policy <name>" so that deciding never concatenates (and so never
// allocates). They cannot collide with a real source.
const (
	sourceOwnPolicy   = "\x00own policy"
	sourceOtherPolicy = "\x00other policy"
)

// UnavailableMessage is the one neutral message of every RecipientUnavailable
// decision. It names no setting (docs/rules.md §4 rule of silence).
const UnavailableMessage = "This person can't be reached right now."

// Messages of ForbiddenByPolicy decisions: each names the rule on the
// caller's own side in words (docs/rules.md §4 (a)).
const (
	msgGuestHostOnly        = "guests can chat only inside their host organisation"
	msgAnonymousMeetingOnly = "anonymous participants can chat only inside their meeting"
	msgAccountKind          = "this account can chat only inside its organisation"
	msgNoInitiator          = "this account cannot start chats"
	msgTenantConsumer       = "your organisation does not allow chats with personal accounts"
	msgPolicyConsumer       = "your policy does not allow chats with personal accounts"
	msgTenantFederation     = "your organisation does not allow chats with other organisations"
	msgBlockedDomain        = "your organisation has blocked chats with this person's domain"
	msgNotAllowedDomain     = "your organisation allows chats only with the domains on its allowed list"
	msgPolicyFederation     = "your policy does not allow chats with other organisations"
	msgOwnBlock             = "you have blocked this person"
)

// rule is a Check.Rule as a small number, so that deciding compares bytes,
// not strings.
type rule uint8

const (
	ruleSameTenant rule = iota
	ruleGuestHostOnly
	ruleAnonymousMeetingOnly
	ruleAccountKind
	ruleAccountMissing
	ruleAllowTeamsConsumer
	ruleAllowTeamsConsumerInbound
	ruleAllowFederatedUsers
	ruleBlockedDomains
	ruleAllowedDomains
	ruleEnableFederationAccess
	ruleEnableTeamsConsumerAccess
	ruleEnableTeamsConsumerInbound
	ruleAllowChatsFromOrganizations
	ruleBlock
	ruleDeclined
	numRules
)

var ruleNames = [numRules]string{
	ruleSameTenant:                  RuleSameTenant,
	ruleGuestHostOnly:               RuleGuestHostOnly,
	ruleAnonymousMeetingOnly:        RuleAnonymousMeetingOnly,
	ruleAccountKind:                 RuleAccountKind,
	ruleAccountMissing:              RuleAccountMissing,
	ruleAllowTeamsConsumer:          RuleAllowTeamsConsumer,
	ruleAllowTeamsConsumerInbound:   RuleAllowTeamsConsumerInbound,
	ruleAllowFederatedUsers:         RuleAllowFederatedUsers,
	ruleBlockedDomains:              RuleBlockedDomains,
	ruleAllowedDomains:              RuleAllowedDomains,
	ruleEnableFederationAccess:      RuleEnableFederationAccess,
	ruleEnableTeamsConsumerAccess:   RuleEnableTeamsConsumerAccess,
	ruleEnableTeamsConsumerInbound:  RuleEnableTeamsConsumerInbound,
	ruleAllowChatsFromOrganizations: RuleAllowChatsFromOrganizations,
	ruleBlock:                       RuleBlock,
	ruleDeclined:                    RuleDeclined,
}

// ownMessages name each rule in words, for a ForbiddenByPolicy decision on
// the caller's own side (docs/rules.md §4 (a)).
var ownMessages = [numRules]string{
	ruleGuestHostOnly:             msgGuestHostOnly,
	ruleAnonymousMeetingOnly:      msgAnonymousMeetingOnly,
	ruleAccountKind:               msgAccountKind,
	ruleAccountMissing:            msgNoInitiator,
	ruleAllowTeamsConsumer:        msgTenantConsumer,
	ruleEnableTeamsConsumerAccess: msgPolicyConsumer,
	ruleAllowFederatedUsers:       msgTenantFederation,
	ruleBlockedDomains:            msgBlockedDomain,
	ruleAllowedDomains:            msgNotAllowedDomain,
	ruleEnableFederationAccess:    msgPolicyFederation,
	ruleBlock:                     msgOwnBlock,
}

// maxChecks bounds the checks of one decision. The longest list, a guest
// reaching a guest of another tenant, has 14.
const maxChecks = 16

// Decision is the result of MayStart, MayTalk or MayMeet. It is a plain value: a
// decision allocates nothing.
type Decision struct {
	Outcome Outcome
	// Code is ForbiddenByPolicy or RecipientUnavailable when Refused, and
	// "" when Allowed or Held.
	Code errcode.Code
	// Side is the side of the deciding (first failing) check; NoSide when
	// Allowed. A Held decision has OtherSide, for audit only: like the rest
	// of a held decision it must not reach the caller.
	Side Side
	// Message is safe to show to the caller when Refused: for
	// ForbiddenByPolicy it names the rule in words, for RecipientUnavailable
	// it is UnavailableMessage. It is "" when Allowed or Held.
	Message string

	// checks are the ordered checks evaluated, in a fixed-size array so that
	// a decision allocates nothing.
	checks [maxChecks]Check
	n      uint8
	// first is the class of the first failing check and firstRule its rule.
	first     class
	firstRule rule
	// ownPolicy and otherPolicy name the custom policies whose checks carry
	// a placeholder source; Checks formats them.
	ownPolicy, otherPolicy string
}

// Allowed reports whether the decision allows.
func (d *Decision) Allowed() bool { return d.Outcome == Allowed }

// Checks returns the checks evaluated, in order of priority: the
// initiator's own side (docs/rules.md §4 (a)), the other side's organisation-wide settings
// (b), the pair's visible decline or block (c), the target's account-level
// rules (d). The first failing check decided. The caller must not modify
// the slice; when a custom policy was consulted Checks returns a fresh copy
// naming it (the only allocation of this package).
func (d *Decision) Checks() []Check {
	cs := d.checks[:d.n]
	if d.ownPolicy == "" && d.otherPolicy == "" {
		return cs
	}
	out := make([]Check, len(cs))
	copy(out, cs)
	for k := range out {
		switch out[k].Source {
		case sourceOwnPolicy:
			out[k].Source = "policy " + d.ownPolicy
		case sourceOtherPolicy:
			out[k].Source = "policy " + d.otherPolicy
		}
	}
	return out
}

// MayStart decides whether initiator i may start a chat with target t, or
// add t to a chat (docs/rules.md §4 rules 1–7), and how a refusal is told (the rule of
// silence). rel is the pair's block and decline state, seen from i. A nil t
// stands for an address no account owns: it is held like any account-level
// refusal (docs/rules.md §6 anti-enumeration).
func MayStart(i, t *Party, rel Relation) Decision {
	var d Decision
	d.decide(i, t, rel, true)
	return d
}

// MayTalk is the undirected form of MayStart (docs/rules.md §4): it must hold for p
// and every other member q of a chat for p to send there. It is rules 2 and 3
// without the inbound switches (allowTeamsConsumerInbound,
// enableTeamsConsumerInbound and the personal allowChatsFromOrganizations),
// since who started the chat no longer matters. p is the sender: the
// classification of a refusal and its Side are seen from p, so that a
// read-only chat can say whose side's setting it is.
func MayTalk(p, q *Party, rel Relation) Decision {
	var d Decision
	d.decide(p, q, rel, false)
	return d
}

// MayMeet decides whether p and q may be members of one chat, whoever
// brings them together (docs/rules.md §4 rule 7): a guest chats only inside its host
// tenant and is never a party to an external chat, so a guest (like an
// anonymous participant, or an account of unknown kind) may share a chat
// only with members and guests of its own tenant. MayStart decides the pair
// of the one who adds and the one added; MayMeet decides the newcomer with
// every other member of the chat, so that adding a guest to a chat with an
// outside person, an outside person to a chat holding a guest, or creating
// a group with both, is refused.
//
// Only the parties' Kind and TenantID count: settings, policies and the
// pair's relation do not. A nil party stands for an account of unknown kind.
// A refusal is ForbiddenByPolicy on OwnSide, naming the rule: it binds the
// tenant that brought the guest in, and it follows from facts the caller
// sees (who is in the chat, whom it adds), so telling it reveals nothing of
// an account (docs/rules.md §4 rule of silence). MayMeet is symmetric.
func MayMeet(p, q *Party) Decision {
	var d Decision
	d.meet(p, q)
	return d
}

func (d *Decision) meet(p, q *Party) {
	var unknown Party
	if p == nil {
		p = &unknown
	}
	if q == nil {
		q = &unknown
	}
	if sameTenant(p, q) {
		d.checks[0] = Check{Rule: RuleSameTenant, Side: NoSide, Value: true, Source: SourceMembership}
		d.n = 1
		d.finish()
		return
	}
	d.confine(p.Kind)
	d.confine(q.Kind)
	d.finish()
}

// confine is rule 7 for one party of a pair outside one tenant: a member or
// a personal account may be there, any other kind may not.
func (d *Decision) confine(k Kind) {
	switch k {
	case Member, Personal:
		d.add(classOwn, ruleGuestHostOnly, true, SourceAccountKind)
	default:
		d.kind(classOwn, k)
	}
}

// class is the priority class of a check under the rule of silence (docs/rules.md §4).
type class uint8

const (
	classOwn      class = iota + 1 // (a) own side: forbiddenByPolicy, naming the rule
	classOrg                       // (b) other side, organisation-wide: recipientUnavailable
	classRelation                  // (c) recipient's visible decline or block: recipientUnavailable
	classAccount                   // (d) other side, account-level: held, silent
)

// route is which of the docs/rules.md §4 rules 2–5 applies to a pair outside one tenant.
type route uint8

const (
	routeNone         route = iota // anonymous or unknown kind: only rule 7 and blocks
	routeToPersonal                // rule 2: managed → personal
	routeFromPersonal              // rule 3: personal → managed
	routeFederation                // rule 4: managed → managed of another tenant
	routePersonal                  // rule 5: personal → personal
)

// inTenant reports whether k is a kind that belongs to a tenant for rules
// 2–4. A Guest counts as its host tenant's user there; rule 7 then refuses it.
func inTenant(k Kind) bool { return k == Member || k == Guest }

func routeOf(i, t Kind) route {
	switch {
	case inTenant(i) && inTenant(t):
		return routeFederation
	case inTenant(i) && t == Personal:
		return routeToPersonal
	case i == Personal && inTenant(t):
		return routeFromPersonal
	case i == Personal && t == Personal:
		return routePersonal
	}
	return routeNone
}

// sameTenant is docs/rules.md §4 rule 1: members, guests and a meeting's anonymous
// participants of one tenant.
func sameTenant(i, t *Party) bool {
	return i.Kind != Personal && t.Kind != Personal &&
		i.TenantID != "" && i.TenantID == t.TenantID
}

func (d *Decision) decide(i, t *Party, rel Relation, inbound bool) {
	switch {
	case i == nil:
		d.add(classOwn, ruleAccountMissing, false, SourceDirectory)
		d.finish()
		return
	case t == nil:
		d.add(classAccount, ruleAccountMissing, false, SourceDirectory)
		d.finish()
		return
	}

	if sameTenant(i, t) {
		// Rule 1; only blocks (rule 6) can refuse. There are no requests
		// inside a tenant (docs/rules.md §5: only an external target gets one), so no
		// decline either.
		d.checks[0] = Check{Rule: RuleSameTenant, Side: NoSide, Value: true, Source: SourceMembership}
		d.n = 1
		d.ownBlock(rel)
		d.requestBlock(rel)
		d.silentBlock(rel)
		d.finish()
		return
	}

	r := routeOf(i.Kind, t.Kind)

	// (a) The initiator's own side.
	d.kind(classOwn, i.Kind)
	switch r {
	case routeToPersonal:
		d.tenant(classOwn, i.Settings, ruleAllowTeamsConsumer, "")
		d.policy(classOwn, i.Policy, ruleEnableTeamsConsumerAccess)
	case routeFederation:
		d.tenant(classOwn, i.Settings, ruleAllowFederatedUsers, "")
		d.tenant(classOwn, i.Settings, ruleBlockedDomains, t.Domain)
		d.tenant(classOwn, i.Settings, ruleAllowedDomains, t.Domain)
		d.policy(classOwn, i.Policy, ruleEnableFederationAccess)
	}
	d.ownBlock(rel)

	// (b) The other side's organisation-wide settings: they depend on the
	// address's domain alone, so telling them reveals no account.
	switch r {
	case routeFromPersonal:
		d.tenant(classOrg, t.Settings, ruleAllowTeamsConsumer, "")
		if inbound {
			d.tenant(classOrg, t.Settings, ruleAllowTeamsConsumerInbound, "")
		}
	case routeFederation:
		d.tenant(classOrg, t.Settings, ruleAllowFederatedUsers, "")
		d.tenant(classOrg, t.Settings, ruleBlockedDomains, i.Domain)
		d.tenant(classOrg, t.Settings, ruleAllowedDomains, i.Domain)
	}

	// (c) The recipient's own action on a request that reached them.
	d.requestBlock(rel)
	d.add(classRelation, ruleDeclined, !rel.Declined, SourceRequestDecline)

	// (d) Account-level rules of the target: silent.
	switch r {
	case routeToPersonal:
		if inbound {
			d.add(classAccount, ruleAllowChatsFromOrganizations, t.AllowChatsFromOrganizations, SourcePersonal)
		}
	case routeFromPersonal:
		d.policy(classAccount, t.Policy, ruleEnableTeamsConsumerAccess)
		if inbound {
			d.policy(classAccount, t.Policy, ruleEnableTeamsConsumerInbound)
		}
	case routeFederation:
		d.policy(classAccount, t.Policy, ruleEnableFederationAccess)
	}
	d.silentBlock(rel)
	d.kind(classAccount, t.Kind)
	d.finish()
}

// add records a check. Checks are added in order of priority, so the first
// failing one decides; finish classifies it. add is small enough to inline.
func (d *Decision) add(c class, r rule, ok bool, source string) {
	k := &d.checks[d.n]
	k.Rule, k.Side, k.Value, k.Source = ruleNames[r], sideOf[c], ok, source
	d.n++
	if !ok && d.first == 0 {
		d.first, d.firstRule = c, r
	}
}

var sideOf = [...]Side{classOwn: OwnSide, classOrg: OtherSide, classRelation: OtherSide, classAccount: OtherSide}

// finish turns the first failing check into the outcome (docs/rules.md §4 rule of
// silence).
func (d *Decision) finish() {
	switch d.first {
	case 0:
		d.Outcome = Allowed
	case classOwn:
		d.Outcome, d.Code, d.Side, d.Message = Refused, errcode.ForbiddenByPolicy, OwnSide, ownMessages[d.firstRule]
	case classOrg, classRelation:
		d.Outcome, d.Code, d.Side, d.Message = Refused, errcode.RecipientUnavailable, OtherSide, UnavailableMessage
	default:
		d.Outcome, d.Side = Held, OtherSide
	}
}

// kind applies rule 7 to a party outside the other's tenant.
func (d *Decision) kind(c class, k Kind) {
	switch k {
	case Member, Personal:
	case Guest:
		d.add(c, ruleGuestHostOnly, false, SourceGuestAccount)
	case Anonymous:
		d.add(c, ruleAnonymousMeetingOnly, false, SourceAnonymousAccount)
	default:
		d.add(c, ruleAccountKind, false, SourceAccountKind)
	}
}

// tenant records one tenant setting; domain is the other party's domain for
// the domain-list rules.
func (d *Decision) tenant(c class, s *Settings, r rule, domain string) {
	if s == nil {
		d.add(c, r, false, SourceTenantMissing)
		return
	}
	var ok bool
	switch r {
	case ruleAllowTeamsConsumer:
		ok = s.AllowTeamsConsumer
	case ruleAllowTeamsConsumerInbound:
		ok = s.AllowTeamsConsumerInbound
	case ruleAllowFederatedUsers:
		ok = s.AllowFederatedUsers
	case ruleBlockedDomains:
		ok = !blocks(s, domain)
	case ruleAllowedDomains:
		ok = allows(s, domain)
	}
	d.add(c, r, ok, SourceTenant)
}

// policy records one switch of a per-user policy.
func (d *Decision) policy(c class, p *Policy, r rule) {
	if p == nil {
		d.add(c, r, false, SourcePolicyMissing)
		return
	}
	var ok bool
	switch r {
	case ruleEnableFederationAccess:
		ok = p.EnableFederationAccess
	case ruleEnableTeamsConsumerAccess:
		ok = p.EnableTeamsConsumerAccess
	case ruleEnableTeamsConsumerInbound:
		ok = p.EnableTeamsConsumerInbound
	}
	var source string
	switch {
	case p.Name == GlobalName:
		source = SourceGlobalPolicy
	case p.Name == "":
		source = SourceUnnamedPolicy
	case c == classOwn:
		d.ownPolicy, source = p.Name, sourceOwnPolicy
	default:
		d.otherPolicy, source = p.Name, sourceOtherPolicy
	}
	d.add(c, r, ok, source)
}

// ownBlock is rule 6 on the initiator's side: its own block, whichever way
// it was made, is no secret to it.
func (d *Decision) ownBlock(rel Relation) {
	source := SourceBlockList
	if rel.InitiatorBlocked == VisibleBlock {
		source = SourceRequestBlock
	}
	d.add(classOwn, ruleBlock, rel.InitiatorBlocked == NoBlock, source)
}

// requestBlock is rule 6 for a block the target made on a request (or by
// reporting spam): the sender is told recipientUnavailable (docs/rules.md §5).
func (d *Decision) requestBlock(rel Relation) {
	d.add(classRelation, ruleBlock, rel.TargetBlocked != VisibleBlock, SourceRequestBlock)
}

// silentBlock is rule 6 for a block the target made from its blocked-people
// list: account-level, so silent.
func (d *Decision) silentBlock(rel Relation) {
	d.add(classAccount, ruleBlock, rel.TargetBlocked != SilentBlock, SourceBlockList)
}
