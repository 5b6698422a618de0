package policy_test

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/policy"
)

// The exhaustive test enumerates every combination of party kinds, both
// tenants' switches and domain-list states, both users' policy switches, the
// personal switches and every Relation, and compares MayStart and MayTalk
// with an oracle written separately, straight from the table of docs/rules.md §4: it
// collects which priority classes fail and picks the first. It shares no code
// with the package (not even Admits): domain lists are a state the oracle
// reads as such.

// role is a party of the exhaustive world, relative to tenant x.
type role struct {
	name   string
	kind   policy.Kind
	tenant int    // 0 none, 1 x, 2 y
	domain string // domain of the address
}

var (
	initiatorRoles = []role{
		{"memberX", policy.Member, 1, "x.example"},
		{"guestX", policy.Guest, 1, "guest-of-x.example"},
		{"personal", policy.Personal, 0, "mail.example"},
		{"anonymousX", policy.Anonymous, 1, ""},
	}
	targetRoles = []role{
		{"memberX", policy.Member, 1, "x2.example"},
		{"guestX", policy.Guest, 1, "guest2-of-x.example"},
		{"memberY", policy.Member, 2, "y.example"},
		{"guestY", policy.Guest, 2, "guest-of-y.example"},
		{"personal", policy.Personal, 0, "mail2.example"},
		{"anonymousX", policy.Anonymous, 1, ""},
		{"anonymousY", policy.Anonymous, 2, ""},
	}
)

// listState is the state of a tenant's domain lists with respect to the
// other party's domain. allowAllKnownDomains is a separate switch.
type listState int

const (
	listsEmpty        listState = iota // both lists empty
	allowListAdmits                    // allowedDomains holds the domain; blockedDomains holds another
	allowListExcludes                  // allowedDomains holds only other domains
	blockListBlocks                    // blockedDomains holds the domain
	blockedAndAllowed                  // both lists hold the domain: block wins
	numListStates
)

// tenantState is one tenant's settings as the oracle reads them.
type tenantState struct {
	consumer, inbound, federated, allKnown bool
	lists                                  listState
}

// policyState is one user's policy switches.
type policyState struct{ federation, consumer, inbound bool }

// exhaustCase is one enumerated case, as the oracle reads it.
type exhaustCase struct {
	i, t       role
	tenant     [3]tenantState // by role.tenant
	ipol, tpol policyState
	iOrgs      bool // initiator's allowChatsFromOrganizations (personal)
	tOrgs      bool // target's allowChatsFromOrganizations (personal)
	rel        policy.Relation
}

// admitted reads a domain-list state as docs/rules.md §2 describes it: blocked
// domains never, then everything under allowAllKnownDomains, otherwise only
// the allowed list.
func (s tenantState) admitted() bool {
	if s.lists == blockListBlocks || s.lists == blockedAndAllowed {
		return false
	}
	if s.allKnown {
		return true
	}
	return s.lists == allowListAdmits
}

// oracle decides from the docs/rules.md §4 table. directed is mayStart; mayTalk
// drops the inbound switches.
func oracle(c *exhaustCase, directed bool) (policy.Outcome, errcode.Code, policy.Side) {
	isManaged := func(k policy.Kind) bool { return k == policy.Member || k == policy.Guest }
	// Failing classes: (a) own side, (b) other side organisation-wide,
	// (c) visible decline/block, (d) account-level on the target.
	var a, b, cc, d bool

	sameTenant := c.i.kind != policy.Personal && c.t.kind != policy.Personal &&
		c.i.tenant != 0 && c.i.tenant == c.t.tenant
	if !sameTenant { // rule 1 says yes to the same tenant; the rest apply otherwise
		x, y := c.tenant[c.i.tenant], c.tenant[c.t.tenant]
		// Rule 7: guests and anonymous participants stay inside.
		if c.i.kind == policy.Guest || c.i.kind == policy.Anonymous {
			a = true
		}
		if c.t.kind == policy.Guest || c.t.kind == policy.Anonymous {
			d = true
		}
		switch {
		case isManaged(c.i.kind) && c.t.kind == policy.Personal: // rule 2
			if !x.consumer || !c.ipol.consumer {
				a = true
			}
			if directed && !c.tOrgs {
				d = true
			}
		case c.i.kind == policy.Personal && isManaged(c.t.kind): // rule 3
			if !y.consumer || (directed && !y.inbound) {
				b = true
			}
			if !c.tpol.consumer || (directed && !c.tpol.inbound) {
				d = true
			}
		case isManaged(c.i.kind) && isManaged(c.t.kind): // rule 4
			if !x.federated || !x.admitted() || !c.ipol.federation {
				a = true
			}
			if !y.federated || !y.admitted() {
				b = true
			}
			if !c.tpol.federation {
				d = true
			}
		case c.i.kind == policy.Personal && c.t.kind == policy.Personal: // rule 5
		}
	}
	// Rule 6 and docs/rules.md §5.
	switch c.rel.InitiatorBlocked {
	case policy.SilentBlock, policy.VisibleBlock:
		a = true
	}
	switch c.rel.TargetBlocked {
	case policy.VisibleBlock:
		cc = true
	case policy.SilentBlock:
		d = true
	}
	if c.rel.Declined && !sameTenant { // docs/rules.md §5: requests, so declines, exist only across tenants
		cc = true
	}

	switch {
	case a:
		return policy.Refused, errcode.ForbiddenByPolicy, policy.OwnSide
	case b, cc:
		return policy.Refused, errcode.RecipientUnavailable, policy.OtherSide
	case d:
		return policy.Held, "", policy.OtherSide
	}
	return policy.Allowed, "", policy.NoSide
}

var relations = func() []policy.Relation {
	var rs []policy.Relation
	for _, ib := range []policy.Block{policy.NoBlock, policy.SilentBlock, policy.VisibleBlock} {
		for _, tb := range []policy.Block{policy.NoBlock, policy.SilentBlock, policy.VisibleBlock} {
			for _, dec := range []bool{false, true} {
				rs = append(rs, policy.Relation{InitiatorBlocked: ib, TargetBlocked: tb, Declined: dec})
			}
		}
	}
	return rs
}()

// hasTenant reports whether the role carries its tenant's settings.
func (r role) hasTenant() bool { return r.kind == policy.Member || r.kind == policy.Guest }

// lists returns the domain lists of a state for the other party's domain.
func lists(s listState, other string) (allowed, blocked []string) {
	if other == "" {
		other = "none.example"
	}
	switch s {
	case allowListAdmits:
		return []string{"unrelated.example", other}, []string{"bad.example"}
	case allowListExcludes:
		return []string{"unrelated.example"}, nil
	case blockListBlocks:
		return nil, []string{"bad.example", other}
	case blockedAndAllowed:
		return []string{other}, []string{other}
	}
	return nil, nil
}

// exhaust runs every case of one pair of roles and returns how many it ran.
func exhaust(t *testing.T, ir, tr role) int {
	// Each tenant with settings in play: its Settings, and the domain the
	// lists are written against (the other party's).
	type tenantSlot struct {
		idx      int
		settings *policy.Settings
		allowed  [numListStates][]string
		blocked  [numListStates][]string
	}
	var slots []*tenantSlot
	slotFor := map[int]*tenantSlot{}
	addTenant := func(r role, other role) {
		if !r.hasTenant() || slotFor[r.tenant] != nil {
			return
		}
		s := &tenantSlot{idx: r.tenant, settings: &policy.Settings{}}
		for ls := listState(0); ls < numListStates; ls++ {
			s.allowed[ls], s.blocked[ls] = lists(ls, other.domain)
		}
		slotFor[r.tenant] = s
		slots = append(slots, s)
	}
	addTenant(ir, tr)
	addTenant(tr, ir)

	ip := &policy.Party{Kind: ir.kind, TenantID: tenantID(ir.tenant), Domain: ir.domain}
	tp := &policy.Party{Kind: tr.kind, TenantID: tenantID(tr.tenant), Domain: tr.domain}
	var ipol, tpol policy.Policy
	if ir.hasTenant() {
		ip.Settings, ip.Policy = slotFor[ir.tenant].settings, &ipol
		ipol.Name = policy.GlobalName
	}
	if tr.hasTenant() {
		tp.Settings, tp.Policy = slotFor[tr.tenant].settings, &tpol
		tpol.Name = policy.GlobalName
	}

	const tenantStates = 16 * int(numListStates)
	total := len(relations)
	for range slots {
		total *= tenantStates
	}
	if ir.hasTenant() {
		total *= 8
	}
	if tr.hasTenant() {
		total *= 8
	}
	if ir.kind == policy.Personal {
		total *= 2
	}
	if tr.kind == policy.Personal {
		total *= 2
	}

	c := exhaustCase{i: ir, t: tr}
	failures := 0
	// The relation varies fastest, inside; everything else is decoded from
	// one mixed-radix number. Under the race detector only every stride-th
	// number of the large pairs runs: stride is prime to every radix and
	// smaller than each, so every value of every digit still occurs, and the
	// test says so in its log.
	stride := 1
	if raceBuild && total > 1_000_000 {
		stride = 13
	}
	ran := 0
	for n := 0; n < total/len(relations); n += stride {
		k := n
		ran += len(relations)
		for _, s := range slots {
			v := k % tenantStates
			k /= tenantStates
			ts := tenantState{
				consumer:  v&1 != 0,
				inbound:   v&2 != 0,
				federated: v&4 != 0,
				allKnown:  v&8 != 0,
				lists:     listState(v >> 4),
			}
			c.tenant[s.idx] = ts
			*s.settings = policy.Settings{
				AllowTeamsConsumer:        ts.consumer,
				AllowTeamsConsumerInbound: ts.inbound,
				AllowFederatedUsers:       ts.federated,
				AllowAllKnownDomains:      ts.allKnown,
				AllowedDomains:            s.allowed[ts.lists],
				BlockedDomains:            s.blocked[ts.lists],
			}
		}
		if ir.hasTenant() {
			v := k % 8
			k /= 8
			c.ipol = policyState{federation: v&1 != 0, consumer: v&2 != 0, inbound: v&4 != 0}
			ipol.EnableFederationAccess, ipol.EnableTeamsConsumerAccess, ipol.EnableTeamsConsumerInbound = c.ipol.federation, c.ipol.consumer, c.ipol.inbound
		}
		if tr.hasTenant() {
			v := k % 8
			k /= 8
			c.tpol = policyState{federation: v&1 != 0, consumer: v&2 != 0, inbound: v&4 != 0}
			tpol.EnableFederationAccess, tpol.EnableTeamsConsumerAccess, tpol.EnableTeamsConsumerInbound = c.tpol.federation, c.tpol.consumer, c.tpol.inbound
		}
		if ir.kind == policy.Personal {
			c.iOrgs = k%2 != 0
			k /= 2
			ip.AllowChatsFromOrganizations = c.iOrgs
		}
		if tr.kind == policy.Personal {
			c.tOrgs = k%2 != 0
			tp.AllowChatsFromOrganizations = c.tOrgs
		}

		for _, rel := range relations {
			c.rel = rel
			ds := policy.MayStart(ip, tp, rel)
			dt := policy.MayTalk(ip, tp, rel)
			if !agrees(t, "MayStart", &c, &ds, true) || !agrees(t, "MayTalk", &c, &dt, false) {
				if failures++; failures >= 10 {
					t.Fatalf("stopping after %d failures", failures)
				}
			}
		}
	}
	return ran
}

// agrees compares one decision with the oracle and reports a mismatch.
func agrees(t *testing.T, name string, c *exhaustCase, d *policy.Decision, directed bool) bool {
	wo, wc, ws := oracle(c, directed)
	err := consistent(d)
	if err == nil && d.Outcome == wo && d.Code == wc && d.Side == ws {
		return true
	}
	if err != nil {
		t.Errorf("%s %+v: %v", name, *c, err)
	} else {
		t.Errorf("%s %+v:\ngot  %v %q side %v (checks %+v)\nwant %v %q side %v",
			name, *c, d.Outcome, d.Code, d.Side, slices.Clone(d.Checks()), wo, wc, ws)
	}
	return false
}

func tenantID(i int) string {
	switch i {
	case 1:
		return "x"
	case 2:
		return "y"
	}
	return ""
}

// consistent checks what holds for every decision: the first failing check
// decides it, held decisions tell nothing, and recipientUnavailable is one
// neutral message (docs/rules.md §4 rule of silence).
func consistent(d *policy.Decision) error {
	// first is a copy: nothing may keep a pointer into d, or d would be
	// allocated on the heap for every case.
	var first policy.Check
	failing := false
	for _, c := range d.Checks() {
		if !c.Value {
			first, failing = c, true
			break
		}
	}
	switch d.Outcome {
	case policy.Allowed:
		if failing || d.Code != "" || d.Message != "" || d.Side != policy.NoSide || !d.Allowed() {
			return fmt.Errorf("allowed with failing check %+v, code %q, message %q, side %v", first, d.Code, d.Message, d.Side)
		}
		return nil
	case policy.Held:
		if d.Code != "" || d.Message != "" {
			return fmt.Errorf("held decision tells: code %q, message %q, want both empty", d.Code, d.Message)
		}
	case policy.Refused:
		switch d.Code {
		case errcode.RecipientUnavailable:
			if d.Message != policy.UnavailableMessage {
				return fmt.Errorf("recipientUnavailable message: got %q, want %q", d.Message, policy.UnavailableMessage)
			}
		case errcode.ForbiddenByPolicy:
			if d.Message == "" {
				return fmt.Errorf("forbiddenByPolicy without a message")
			}
		default:
			return fmt.Errorf("refused with code %q", d.Code)
		}
	default:
		return fmt.Errorf("outcome %v", d.Outcome)
	}
	if !failing {
		return fmt.Errorf("%v without a failing check", d.Outcome)
	}
	if first.Side != d.Side {
		return fmt.Errorf("side: got %v, first failing check %+v", d.Side, first)
	}
	if d.Allowed() {
		return fmt.Errorf("Allowed() true for %v", d.Outcome)
	}
	return nil
}

func TestMayStart_S4_Exhaustive(t *testing.T) {
	var cases atomic.Int64
	t.Cleanup(func() { t.Logf("%d cases, each decided by MayStart and MayTalk", cases.Load()) })
	if raceBuild {
		t.Log("race build: for the pairs of two tenants, every 13th combination of settings and policies (with every relation), not all")
	}
	for _, ir := range initiatorRoles {
		for _, tr := range targetRoles {
			t.Run(ir.name+"_to_"+tr.name, func(t *testing.T) {
				t.Parallel()
				cases.Add(int64(exhaust(t, ir, tr)))
			})
		}
	}
}

// TestOracle_S4_Sanity pins the oracle itself to a few rows of the SPEC
// table, so that a wrong oracle cannot agree with a wrong package.
func TestOracle_S4_Sanity(t *testing.T) {
	on := tenantState{consumer: true, inbound: true, federated: true, allKnown: true}
	all := policyState{true, true, true}
	base := exhaustCase{tenant: [3]tenantState{{}, on, on}, ipol: all, tpol: all, tOrgs: true}
	memberX, memberY, pers := initiatorRoles[0], targetRoles[2], targetRoles[4]
	tests := []struct {
		name     string
		mod      func(*exhaustCase)
		directed bool
		want     policy.Outcome
		code     errcode.Code
	}{
		{"federation allowed", func(c *exhaustCase) { c.i, c.t = memberX, memberY }, true, policy.Allowed, ""},
		{"other blocks domain", func(c *exhaustCase) { c.i, c.t = memberX, memberY; c.tenant[2].lists = blockedAndAllowed }, true, policy.Refused, errcode.RecipientUnavailable},
		{"own allow-list excludes", func(c *exhaustCase) {
			c.i, c.t = memberX, memberY
			c.tenant[1].allKnown, c.tenant[1].lists = false, allowListExcludes
		}, true, policy.Refused, errcode.ForbiddenByPolicy},
		{"inbound off, personal starts", func(c *exhaustCase) { c.i, c.t = role{kind: policy.Personal}, memberY; c.tenant[2].inbound = false }, true, policy.Refused, errcode.RecipientUnavailable},
		{"inbound off, personal talks", func(c *exhaustCase) { c.i, c.t = role{kind: policy.Personal}, memberY; c.tenant[2].inbound = false }, false, policy.Allowed, ""},
		{"personal switch off", func(c *exhaustCase) { c.i, c.t = memberX, pers; c.tOrgs = false }, true, policy.Held, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.mod(&c)
			o, code, _ := oracle(&c, tt.directed)
			if o != tt.want || code != tt.code {
				t.Errorf("oracle: got %v %q, want %v %q", o, code, tt.want, tt.code)
			}
		})
	}
}

// meetRoles are the parties MayMeet is enumerated over: every kind in and
// out of tenant x, an account of unknown kind, and (nil) none at all.
var meetRoles = []*role{
	{"memberX", policy.Member, 1, "x.example"},
	{"memberX2", policy.Member, 1, "x2.example"},
	{"guestX", policy.Guest, 1, "guest-of-x.example"},
	{"guestX2", policy.Guest, 1, "guest2-of-x.example"},
	{"memberY", policy.Member, 2, "y.example"},
	{"guestY", policy.Guest, 2, "guest-of-y.example"},
	{"personal", policy.Personal, 0, "mail.example"},
	{"personal2", policy.Personal, 0, "mail2.example"},
	{"anonymousX", policy.Anonymous, 1, ""},
	{"anonymousY", policy.Anonymous, 2, ""},
	{"anonymousNone", policy.Anonymous, 0, ""},
	{"unknownX", 0, 1, "x.example"},
	{"unknownNone", 0, 0, ""},
	nil,
}

// meetOracle decides docs/rules.md §4 rule 7 for two members of one chat, straight
// from the text: a guest chats only inside its host tenant, never in an
// external chat (anonymous participants and accounts of unknown kind alike
// stay inside). It returns the outcome and the rule that refuses.
func meetOracle(p, q *role) (policy.Outcome, errcode.Code, policy.Side, string) {
	if p == nil {
		p = &role{name: "nil"}
	}
	if q == nil {
		q = &role{name: "nil"}
	}
	if p.kind != policy.Personal && q.kind != policy.Personal && p.tenant != 0 && p.tenant == q.tenant {
		return policy.Allowed, "", policy.NoSide, ""
	}
	for _, r := range []*role{p, q} {
		switch r.kind {
		case policy.Member, policy.Personal:
		case policy.Guest:
			return policy.Refused, errcode.ForbiddenByPolicy, policy.OwnSide, policy.RuleGuestHostOnly
		case policy.Anonymous:
			return policy.Refused, errcode.ForbiddenByPolicy, policy.OwnSide, policy.RuleAnonymousMeetingOnly
		default:
			return policy.Refused, errcode.ForbiddenByPolicy, policy.OwnSide, policy.RuleAccountKind
		}
	}
	return policy.Allowed, "", policy.NoSide, ""
}

// TestMayMeet_S4_Rule7_Exhaustive enumerates every pair of meetRoles, in
// both orders, with every tenant and policy state that could matter (none,
// all switches off, defaults, domain lists blocking the other's domain) and
// every personal switch, and compares MayMeet with meetOracle: only kinds
// and tenants decide, the answer is symmetric, and every decision is
// consistent (the first failing check decides; a refusal names its rule).
func TestMayMeet_S4_Rule7_Exhaustive(t *testing.T) {
	off := policy.Settings{}
	blocking := policy.DefaultSettings()
	blocking.AllowAllKnownDomains = false
	blocking.BlockedDomains = []string{"x.example", "y.example", "mail.example", "guest-of-x.example"}
	on := policy.DefaultSettings()
	settingsStates := []*policy.Settings{nil, &off, &on, &blocking}
	noPolicy, global := policy.Policy{Name: "Closed"}, policy.GlobalDefault()
	policyStates := []*policy.Policy{nil, &noPolicy, &global}

	party := func(r *role, s *policy.Settings, p *policy.Policy, orgs bool) *policy.Party {
		if r == nil {
			return nil
		}
		pt := &policy.Party{Kind: r.kind, TenantID: tenantID(r.tenant), Domain: r.domain, AllowChatsFromOrganizations: orgs}
		if r.hasTenant() {
			pt.Settings, pt.Policy = s, p
		}
		return pt
	}
	name := func(r *role) string {
		if r == nil {
			return "nil"
		}
		return r.name
	}
	cases := 0
	for _, rp := range meetRoles {
		for _, rq := range meetRoles {
			wo, wc, ws, wr := meetOracle(rp, rq)
			for _, sp := range settingsStates {
				for _, sq := range settingsStates {
					for _, pp := range policyStates {
						for _, pq := range policyStates {
							for _, orgs := range []bool{false, true} {
								p, q := party(rp, sp, pp, orgs), party(rq, sq, pq, !orgs)
								d := policy.MayMeet(p, q)
								cases++
								if err := consistent(&d); err != nil {
									t.Fatalf("MayMeet(%s, %s): %v", name(rp), name(rq), err)
								}
								rule := ""
								for _, c := range d.Checks() {
									if !c.Value {
										rule = c.Rule
										break
									}
								}
								if d.Outcome != wo || d.Code != wc || d.Side != ws || rule != wr {
									t.Fatalf("MayMeet(%s, %s) settings %v/%v policies %v/%v:\ngot  %v %q side %v rule %q (checks %+v)\nwant %v %q side %v rule %q",
										name(rp), name(rq), sp, sq, pp, pq, d.Outcome, d.Code, d.Side, rule, slices.Clone(d.Checks()), wo, wc, ws, wr)
								}
								if back := policy.MayMeet(q, p); back.Outcome != d.Outcome || back.Code != d.Code {
									t.Fatalf("MayMeet is not symmetric for %s, %s: %v %q, back %v %q", name(rp), name(rq), d.Outcome, d.Code, back.Outcome, back.Code)
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d cases", cases)
}
