package policy

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/keyset"
)

// Store is the persistence the policy service needs.
type Store interface {
	FindSettings(ctx context.Context, tenant identity.TenantID) (Settings, error)
	SaveSettings(ctx context.Context, tenant identity.TenantID, s Settings) error
	FindPolicies(ctx context.Context, tenant identity.TenantID) ([]Policy, error)
	// FindPolicy returns a policy. Errors: notFound.
	FindPolicy(ctx context.Context, tenant identity.TenantID, name string) (Policy, error)
	// SavePolicy creates (conflict when it exists) or replaces a policy.
	SavePolicy(ctx context.Context, tenant identity.TenantID, p Policy, create bool) error
	// DeletePolicy deletes a policy. Errors: notFound, policyInUse.
	DeletePolicy(ctx context.Context, tenant identity.TenantID, name string, resetUsers bool) (int, error)
	// GrantPolicy grants name (Global: no grant) to users. Errors: notFound.
	GrantPolicy(ctx context.Context, tenant identity.TenantID, name string, users []identity.UserID) error
	FindGrant(ctx context.Context, user identity.UserID) (string, error)
	FindGrants(ctx context.Context, tenant identity.TenantID) (map[identity.UserID]string, error)
	FindBlock(ctx context.Context, blocker, blocked identity.UserID) (Block, error)
	DeclinedUntil(ctx context.Context, decliner, sender identity.UserID) (time.Time, error)
	FindUserByID(ctx context.Context, id identity.UserID) (identity.User, error)
	FindTenantByDomain(ctx context.Context, domain string) (identity.Tenant, error)
}

// Service loads the facts a decision needs and runs the admin side of
// docs/rules.md §2–§3: settings, policies, grants and Explain. It never decides a
// rule itself: MayStart and MayTalk do.
type Service struct {
	Store Store
	Now   func() time.Time
	// Changes is told after an admin change of a tenant's settings,
	// policies or grants, so chats turn read-only or writable at once (nil:
	// nobody is told).
	Changes *Changes
	// Audit records an admin change (may be nil).
	Audit func(ctx context.Context, tenant identity.TenantID, actor identity.UserID, action, target string, details map[string]any)
}

func (s *Service) changed(ctx context.Context, t identity.TenantID) {
	s.Changes.Publish(ctx, Change{Tenant: t})
}

func (s *Service) audit(ctx context.Context, actor *identity.User, action, target string, details map[string]any) {
	if s.Audit != nil {
		s.Audit(ctx, actor.TenantID, actor.ID, action, target, details)
	}
}

// Membership returns the facts of a user that need no loading: kind,
// tenant, address domain and the personal switch, without tenant settings or
// policy. It is all MayMeet (docs/rules.md §4 rule 7) reads.
func Membership(u *identity.User) Party {
	p := Party{TenantID: string(u.TenantID), Domain: u.Domain(), AllowChatsFromOrganizations: u.AllowChatsFromOrganizations}
	switch u.Kind {
	case identity.Personal:
		p.Kind = Personal
	case identity.Guest:
		p.Kind = Guest
	case identity.Anonymous:
		p.Kind = Anonymous
	default:
		p.Kind = Member
	}
	return p
}

// Party loads the facts of one user: tenant settings and effective policy,
// or the personal switch.
func (s *Service) Party(ctx context.Context, u *identity.User) (Party, error) {
	p := Membership(u)
	if p.Kind == Personal || p.Kind == Anonymous {
		return p, nil
	}
	st, err := s.Store.FindSettings(ctx, u.TenantID)
	if err != nil {
		return Party{}, err
	}
	p.Settings = &st
	name := GlobalName
	if u.Kind == identity.Member {
		if name, err = s.Store.FindGrant(ctx, u.ID); err != nil {
			return Party{}, err
		}
	}
	// docs/rules.md §9: guests always have the host's Global.
	pol, err := s.Store.FindPolicy(ctx, u.TenantID, name)
	if errcode.Is(err, errcode.NotFound) {
		pol, err = s.Store.FindPolicy(ctx, u.TenantID, GlobalName)
	}
	if err != nil {
		return Party{}, err
	}
	p.Policy = &pol
	return p, nil
}

// Relation loads the pair state of initiator i and target t.
func (s *Service) Relation(ctx context.Context, i, t identity.UserID) (Relation, error) {
	var r Relation
	var err error
	if r.InitiatorBlocked, err = s.Store.FindBlock(ctx, i, t); err != nil {
		return r, err
	}
	if r.TargetBlocked, err = s.Store.FindBlock(ctx, t, i); err != nil {
		return r, err
	}
	until, err := s.Store.DeclinedUntil(ctx, t, i)
	if err != nil {
		return r, err
	}
	r.Declined = s.Now().Before(until)
	return r, nil
}

// Start decides whether i may start a chat with, or add, t (docs/rules.md §4).
func (s *Service) Start(ctx context.Context, i, t *identity.User) (Decision, error) {
	pi, err := s.Party(ctx, i)
	if err != nil {
		return Decision{}, fmt.Errorf("decide start: %w", err)
	}
	pt, err := s.Party(ctx, t)
	if err != nil {
		return Decision{}, fmt.Errorf("decide start: %w", err)
	}
	rel, err := s.Relation(ctx, i.ID, t.ID)
	if err != nil {
		return Decision{}, fmt.Errorf("decide start: %w", err)
	}
	return MayStart(&pi, &pt, rel), nil
}

// StartAddress decides for an address no account owns (docs/rules.md §6): an
// address in a tenant's verified domain is judged as an unknown member of
// that tenant (held silently if the organisations admit each other), any
// other address as a personal account to invite.
func (s *Service) StartAddress(ctx context.Context, i *identity.User, domain string) (Decision, error) {
	pi, err := s.Party(ctx, i)
	if err != nil {
		return Decision{}, fmt.Errorf("decide start: %w", err)
	}
	pt, err := s.AddressParty(ctx, domain)
	if err != nil {
		return Decision{}, fmt.Errorf("decide start: %w", err)
	}
	return MayStart(&pi, &pt, Relation{}), nil
}

// AddressParty is the party an address no account owns stands for, from
// its domain alone ("" for a phone number): an unknown member of the tenant
// that verified the domain, with that tenant's settings and no policy (which
// the decision treats as account-level, so silent), or else the personal
// account an invitation would make of it (docs/rules.md §6).
func (s *Service) AddressParty(ctx context.Context, domain string) (Party, error) {
	if domain != "" {
		t, err := s.Store.FindTenantByDomain(ctx, domain)
		switch {
		case err == nil:
			st, err := s.Store.FindSettings(ctx, t.ID)
			if err != nil {
				return Party{}, err
			}
			return Party{Kind: Member, TenantID: string(t.ID), Domain: domain, Settings: &st}, nil
		case !errcode.Is(err, errcode.NotFound):
			return Party{}, err
		}
	}
	return Party{Kind: Personal, Domain: domain, AllowChatsFromOrganizations: true}, nil
}

// Talk decides whether p may send to q in an existing chat (docs/rules.md §4 mayTalk).
func (s *Service) Talk(ctx context.Context, p, q *identity.User) (Decision, error) {
	pp, err := s.Party(ctx, p)
	if err != nil {
		return Decision{}, fmt.Errorf("decide talk: %w", err)
	}
	pq, err := s.Party(ctx, q)
	if err != nil {
		return Decision{}, fmt.Errorf("decide talk: %w", err)
	}
	rel, err := s.Relation(ctx, p.ID, q.ID)
	if err != nil {
		return Decision{}, fmt.Errorf("decide talk: %w", err)
	}
	return MayTalk(&pp, &pq, rel), nil
}

func requireAdmin(actor *identity.User) error {
	if !actor.IsAdmin() {
		return errcode.New(errcode.Forbidden, "Only organisation admins can do this.")
	}
	return nil
}

// Settings returns the actor's tenant settings. Errors: forbidden.
func (s *Service) Settings(ctx context.Context, actor *identity.User) (Settings, error) {
	if err := requireAdmin(actor); err != nil {
		return Settings{}, err
	}
	return s.Store.FindSettings(ctx, actor.TenantID)
}

// SettingsPatch holds the fields an admin changes; nil leaves one as is.
type SettingsPatch struct {
	AllowTeamsConsumer, AllowTeamsConsumerInbound, AllowFederatedUsers, AllowAllKnownDomains *bool
	AllowedDomains, BlockedDomains                                                           *[]string
}

// UpdateSettings changes the actor's tenant settings. Errors: forbidden, badRequest.
func (s *Service) UpdateSettings(ctx context.Context, actor *identity.User, p SettingsPatch) (Settings, error) {
	if err := requireAdmin(actor); err != nil {
		return Settings{}, err
	}
	st, err := s.Store.FindSettings(ctx, actor.TenantID)
	if err != nil {
		return Settings{}, fmt.Errorf("update settings: %w", err)
	}
	before := st
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&st.AllowTeamsConsumer, p.AllowTeamsConsumer)
	set(&st.AllowTeamsConsumerInbound, p.AllowTeamsConsumerInbound)
	set(&st.AllowFederatedUsers, p.AllowFederatedUsers)
	set(&st.AllowAllKnownDomains, p.AllowAllKnownDomains)
	for _, l := range []struct {
		dst *[]string
		src *[]string
		f   string
	}{{&st.AllowedDomains, p.AllowedDomains, "allowedDomains"}, {&st.BlockedDomains, p.BlockedDomains, "blockedDomains"}} {
		if l.src == nil {
			continue
		}
		if len(*l.src) > 1000 {
			return Settings{}, errcode.New(errcode.BadRequest, "%s may hold at most 1000 domains.", l.f)
		}
		var out []string
		for _, d := range *l.src {
			nd, err := identity.NormalizeDomain(d)
			if err != nil {
				return Settings{}, errcode.New(errcode.BadRequest, "%s: %v.", l.f, err)
			}
			if !slices.Contains(out, nd) {
				out = append(out, nd)
			}
		}
		*l.dst = out
	}
	if err := s.Store.SaveSettings(ctx, actor.TenantID, st); err != nil {
		return Settings{}, fmt.Errorf("update settings: %w", err)
	}
	s.audit(ctx, actor, "federationConfiguration.update", string(actor.TenantID), map[string]any{"before": SettingsMap(before), "after": SettingsMap(st)})
	s.changed(ctx, actor.TenantID)
	return st, nil
}

// SettingsMap renders settings for audit details.
func SettingsMap(s Settings) map[string]any {
	return map[string]any{"allowTeamsConsumer": s.AllowTeamsConsumer, "allowTeamsConsumerInbound": s.AllowTeamsConsumerInbound,
		"allowFederatedUsers": s.AllowFederatedUsers, "allowAllKnownDomains": s.AllowAllKnownDomains,
		"allowedDomains": orEmpty(s.AllowedDomains), "blockedDomains": orEmpty(s.BlockedDomains)}
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// Listed is a policy as the admin lists it: with the users granted it
// (in id order; Global's holders, everyone without a grant, are not
// listed).
type Listed struct {
	Policy
	Holders []identity.UserID
}

// ComparePolicies is the order policies are listed in: Global first, then
// by name.
func ComparePolicies(a, b Policy) int {
	return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a.Name, b.Name))
}

func rank(p Policy) int {
	if p.Name == GlobalName {
		return 0
	}
	return 1
}

// ListPolicies returns a page of the actor's tenant policies in
// ComparePolicies order: those after the policy named after ("": from the
// start), at most limit of them (0: all), each with its holders, and
// whether more follow. Errors: forbidden.
func (s *Service) ListPolicies(ctx context.Context, actor *identity.User, after string, limit int) ([]Listed, bool, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, false, err
	}
	ps, err := s.Store.FindPolicies(ctx, actor.TenantID)
	if err != nil {
		return nil, false, err
	}
	var cursor *Policy
	if after != "" {
		cursor = &Policy{Name: after}
	}
	ps, more := keyset.Page(ps, ComparePolicies, cursor, limit)
	grants, err := s.Store.FindGrants(ctx, actor.TenantID)
	if err != nil {
		return nil, false, err
	}
	holders := map[string][]identity.UserID{}
	for u, name := range grants {
		holders[name] = append(holders[name], u)
	}
	out := make([]Listed, len(ps))
	for i, p := range ps {
		hs := holders[p.Name]
		slices.Sort(hs)
		out[i] = Listed{Policy: p, Holders: hs}
	}
	return out, more, nil
}

// GetPolicy returns one policy. Errors: forbidden, notFound.
func (s *Service) GetPolicy(ctx context.Context, actor *identity.User, name string) (Policy, error) {
	if err := requireAdmin(actor); err != nil {
		return Policy{}, err
	}
	return s.Store.FindPolicy(ctx, actor.TenantID, name)
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

// PolicyPatch holds the switches an admin sets; nil leaves one as is (on a
// new policy: true, the default).
type PolicyPatch struct {
	EnableFederationAccess, EnableTeamsConsumerAccess, EnableTeamsConsumerInbound *bool
}

func (p PolicyPatch) apply(pol *Policy) {
	if p.EnableFederationAccess != nil {
		pol.EnableFederationAccess = *p.EnableFederationAccess
	}
	if p.EnableTeamsConsumerAccess != nil {
		pol.EnableTeamsConsumerAccess = *p.EnableTeamsConsumerAccess
	}
	if p.EnableTeamsConsumerInbound != nil {
		pol.EnableTeamsConsumerInbound = *p.EnableTeamsConsumerInbound
	}
}

// CreatePolicy creates a custom policy. Errors: forbidden, badRequest, conflict.
func (s *Service) CreatePolicy(ctx context.Context, actor *identity.User, name string, p PolicyPatch) (Policy, error) {
	if err := requireAdmin(actor); err != nil {
		return Policy{}, err
	}
	if err := checkPolicyName(name); err != nil {
		return Policy{}, err
	}
	pol := GlobalDefault()
	pol.Name = name
	p.apply(&pol)
	if err := s.Store.SavePolicy(ctx, actor.TenantID, pol, true); err != nil {
		return Policy{}, err
	}
	s.audit(ctx, actor, "externalAccessPolicy.create", name, map[string]any{"policy": PolicyMap(pol)})
	return pol, nil
}

// PolicyMap renders a policy for the wire and audit.
func PolicyMap(p Policy) map[string]any {
	return map[string]any{"name": p.Name, "enableFederationAccess": p.EnableFederationAccess,
		"enableTeamsConsumerAccess": p.EnableTeamsConsumerAccess, "enableTeamsConsumerInbound": p.EnableTeamsConsumerInbound}
}

// UpdatePolicy changes a policy's switches. Errors: forbidden, notFound.
func (s *Service) UpdatePolicy(ctx context.Context, actor *identity.User, name string, p PolicyPatch) (Policy, error) {
	if err := requireAdmin(actor); err != nil {
		return Policy{}, err
	}
	pol, err := s.Store.FindPolicy(ctx, actor.TenantID, name)
	if err != nil {
		return Policy{}, err
	}
	before := pol
	p.apply(&pol)
	if err := s.Store.SavePolicy(ctx, actor.TenantID, pol, false); err != nil {
		return Policy{}, err
	}
	s.audit(ctx, actor, "externalAccessPolicy.update", name, map[string]any{"before": PolicyMap(before), "after": PolicyMap(pol)})
	s.changed(ctx, actor.TenantID)
	return pol, nil
}

// DeletePolicy deletes a custom policy; Global cannot be deleted. Errors:
// forbidden, conflict (Global), notFound, policyInUse.
func (s *Service) DeletePolicy(ctx context.Context, actor *identity.User, name string, resetUsers bool) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	if name == GlobalName {
		return errcode.New(errcode.Conflict, "The Global policy cannot be deleted; change its switches instead.")
	}
	n, err := s.Store.DeletePolicy(ctx, actor.TenantID, name, resetUsers)
	if err != nil {
		return err
	}
	s.audit(ctx, actor, "externalAccessPolicy.delete", name, map[string]any{"usersReset": n})
	if n > 0 {
		s.changed(ctx, actor.TenantID)
	}
	return nil
}

// Grant grants a policy to users of the actor's tenant; Global resets them.
// Errors: forbidden, notFound, badRequest.
func (s *Service) Grant(ctx context.Context, actor *identity.User, name string, users []identity.UserID) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	if len(users) == 0 || len(users) > 1000 {
		return errcode.New(errcode.BadRequest, "userIds must list between 1 and 1000 users.")
	}
	if _, err := s.Store.FindPolicy(ctx, actor.TenantID, name); err != nil {
		return err
	}
	if err := s.Store.GrantPolicy(ctx, actor.TenantID, name, users); err != nil {
		return err
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = string(u)
	}
	s.audit(ctx, actor, "externalAccessPolicy.grant", name, map[string]any{"userIds": ids})
	s.changed(ctx, actor.TenantID)
	return nil
}

// UserPolicy returns the name of the policy in effect for a user of the
// actor's tenant. Errors: forbidden, notFound.
func (s *Service) UserPolicy(ctx context.Context, actor *identity.User, id identity.UserID) (string, error) {
	if err := requireAdmin(actor); err != nil {
		return "", err
	}
	u, err := s.Store.FindUserByID(ctx, id)
	if err != nil || u.TenantID != actor.TenantID {
		return "", errcode.New(errcode.NotFound, "No user %s in this organisation.", id)
	}
	if u.Kind != identity.Member {
		return GlobalName, nil
	}
	return s.Store.FindGrant(ctx, id)
}

// Explanation answers "can this user chat with this address, and why not?"
// with the admin's own side only (docs/rules.md §4 explain).
type Explanation struct {
	Allowed bool
	Checks  []Check
}

// OtherOrganizationRule is the one check that stands for the other side's
// organisation-wide settings in an explanation.
const OtherOrganizationRule = "otherOrganization"

// Explain explains, for a user of the actor's tenant and a target user (or
// an address no account owns: target nil, domain given), the rules on the
// actor's side with their values and sources. The other side shows only as
// "the other side's organisation does not accept this" when its
// organisation-wide settings refuse; account-level rules never show.
// Errors: forbidden, notFound.
func (s *Service) Explain(ctx context.Context, actor *identity.User, userID identity.UserID, target *identity.User, domain string) (Explanation, error) {
	if err := requireAdmin(actor); err != nil {
		return Explanation{}, err
	}
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil || u.TenantID != actor.TenantID {
		return Explanation{}, errcode.New(errcode.NotFound, "No user %s in this organisation.", userID)
	}
	var d Decision
	if target != nil {
		pi, err := s.Party(ctx, &u)
		if err != nil {
			return Explanation{}, err
		}
		pt, err := s.Party(ctx, target)
		if err != nil {
			return Explanation{}, err
		}
		// Only the user's own block is their side's; the target's blocks
		// and declines are account-level and never shown.
		own, err := s.Store.FindBlock(ctx, u.ID, target.ID)
		if err != nil {
			return Explanation{}, err
		}
		// Account-level facts of the target are replaced by permissive
		// ones so that they cannot change the answer.
		if pt.Policy != nil {
			open := GlobalDefault()
			open.Name = "(other side)"
			pt.Policy = &open
		}
		pt.AllowChatsFromOrganizations = true
		if pt.Kind == Guest {
			pt.Kind = Member
		}
		d = MayStart(&pi, &pt, Relation{InitiatorBlocked: own})
	} else {
		if d, err = s.StartAddress(ctx, &u, domain); err != nil {
			return Explanation{}, err
		}
	}
	// The verdict follows from what the admin may see: their own side's
	// checks and the other organisation's settings as a whole.
	ex := Explanation{Allowed: true}
	otherRefuses := false
	for _, c := range d.Checks() {
		switch {
		case c.Side == OwnSide || c.Rule == RuleSameTenant:
			ex.Checks = append(ex.Checks, c)
			ex.Allowed = ex.Allowed && c.Value
		case c.Side == OtherSide && strings.HasPrefix(c.Rule, "tenant.") && !c.Value:
			otherRefuses = true
		}
	}
	if otherRefuses {
		ex.Checks = append(ex.Checks, Check{Rule: OtherOrganizationRule, Side: OtherSide, Value: false, Source: "the other side's organisation does not accept this"})
		ex.Allowed = false
	}
	return ex, nil
}

// PersonalStore is the persistence of a personal user's own switches.
type PersonalStore interface {
	SetAllowChatsFromOrganizations(ctx context.Context, user identity.UserID, allow bool) error
	SaveBlock(ctx context.Context, blocker, blocked identity.UserID, b Block, at time.Time) error
	FindBlocked(ctx context.Context, blocker identity.UserID) (map[identity.UserID]Block, error)
}

// Directory finds people as a user may see them (identity.Service).
type Directory interface {
	// Visible returns a user as actor may see them. Errors: notFound, the
	// same for users actor may not see as for ids that name nobody.
	Visible(ctx context.Context, actor *identity.User, id identity.UserID) (identity.User, error)
}

// UserService runs a user's own switches: the personal
// allowChatsFromOrganizations and the blocked-people list (docs/rules.md §3, §4).
// The list shows no more than the directory: a person is blocked by id only
// when the caller may see them, and listed as the caller sees them.
type UserService struct {
	Store PersonalStore
	Users Directory
	Now   func() time.Time
	// Changes is told after a user's switch or block list changed, so held
	// requests are delivered and chats re-decided at once (nil: nobody is
	// told).
	Changes *Changes
	Audit   func(ctx context.Context, tenant identity.TenantID, actor identity.UserID, action, target string, details map[string]any)
}

// SetAllowChatsFromOrganizations sets a personal user's switch. Errors:
// forbidden for managed users and guests (their admins decide).
func (s *UserService) SetAllowChatsFromOrganizations(ctx context.Context, actor *identity.User, allow bool) error {
	if actor.Kind != identity.Personal {
		return errcode.New(errcode.Forbidden, "Only personal accounts have this setting; your organisation's admins decide for work accounts.")
	}
	if err := s.Store.SetAllowChatsFromOrganizations(ctx, actor.ID, allow); err != nil {
		return err
	}
	actor.AllowChatsFromOrganizations = allow
	s.Changes.Publish(ctx, Change{User: actor.ID})
	return nil
}

// Block puts a user on the actor's blocked-people list. Such a block is
// silent to the blocked person (docs/rules.md §4). Only people the actor may see can
// be blocked by id; any other id answers as one that names nobody, so
// blocking confirms no id (issue 11 item 5). Errors: badRequest, notFound.
func (s *UserService) Block(ctx context.Context, actor *identity.User, id identity.UserID) error {
	if id == actor.ID {
		return errcode.New(errcode.BadRequest, "You cannot block yourself.")
	}
	if _, err := s.Users.Visible(ctx, actor, id); err != nil {
		if errcode.Is(err, errcode.NotFound) {
			return errcode.New(errcode.NotFound, "No user %s.", id)
		}
		return err
	}
	blocked, err := s.Store.FindBlocked(ctx, actor.ID)
	if err != nil {
		return err
	}
	if blocked[id] == VisibleBlock {
		return nil // already blocked on a request; keep that kind
	}
	if err := s.Store.SaveBlock(ctx, actor.ID, id, SilentBlock, s.Now()); err != nil {
		return err
	}
	if s.Audit != nil && actor.TenantID != "" {
		s.Audit(ctx, actor.TenantID, actor.ID, "user.blocked", string(id), nil)
	}
	s.Changes.Publish(ctx, Change{User: actor.ID})
	return nil
}

// Unblock removes a user from the actor's blocked-people list (also a block
// made on a request). Errors: notFound when not blocked.
func (s *UserService) Unblock(ctx context.Context, actor *identity.User, id identity.UserID) error {
	blocked, err := s.Store.FindBlocked(ctx, actor.ID)
	if err != nil {
		return err
	}
	if blocked[id] == NoBlock {
		return errcode.New(errcode.NotFound, "%s is not blocked.", id)
	}
	if err := s.Store.SaveBlock(ctx, actor.ID, id, NoBlock, s.Now()); err != nil {
		return err
	}
	if s.Audit != nil && actor.TenantID != "" {
		s.Audit(ctx, actor.TenantID, actor.ID, "user.unblocked", string(id), nil)
	}
	s.Changes.Publish(ctx, Change{User: actor.ID})
	return nil
}

// Blocked lists the users the actor blocked, as the actor may see them
// (a person one blocked stays visible to one, identity.Service.Sees).
// A page holds those after the user after (by display name and id; nil:
// from the start), at most limit of them (0: all), and says whether more
// follow.
func (s *UserService) Blocked(ctx context.Context, actor *identity.User, after *identity.User, limit int) ([]identity.User, bool, error) {
	blocked, err := s.Store.FindBlocked(ctx, actor.ID)
	if err != nil {
		return nil, false, err
	}
	out := make([]identity.User, 0, len(blocked))
	for id := range blocked {
		u, err := s.Users.Visible(ctx, actor, id)
		if errcode.Is(err, errcode.NotFound) {
			continue // deleted since
		}
		if err != nil {
			return nil, false, fmt.Errorf("list blocked users: %w", err)
		}
		out = append(out, u)
	}
	out, more := keyset.Page(out, compareBlocked, after, limit)
	return out, more, nil
}

// compareBlocked is the order of the blocked-people list: by display name,
// then id.
func compareBlocked(a, b identity.User) int {
	return cmp.Or(strings.Compare(a.DisplayName, b.DisplayName), strings.Compare(string(a.ID), string(b.ID)))
}
