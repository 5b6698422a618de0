package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/address"
	"github.com/parleychat/parley/internal/errcode"
)

// Store is the persistence identity needs.
type Store interface {
	// CreateTenant stores a tenant with its admin. Errors: domainTaken, conflict.
	CreateTenant(ctx context.Context, t Tenant, admin User, passwordHash string) error
	// CreateUser stores a user. Errors: conflict when the sign-in name is taken.
	CreateUser(ctx context.Context, u User, passwordHash string) error
	// CreateUsers stores users that share one password hash, all or none.
	// Errors: conflict when a sign-in name or phone number is taken.
	CreateUsers(ctx context.Context, us []User, passwordHash string) error
	// FindUserByID returns a user. Errors: notFound.
	FindUserByID(ctx context.Context, id UserID) (User, error)
	// FindTenantByID returns a tenant. Errors: notFound.
	FindTenantByID(ctx context.Context, id TenantID) (Tenant, error)
	// FindTenantByDomain returns the tenant owning a domain. Errors: notFound.
	FindTenantByDomain(ctx context.Context, domain string) (Tenant, error)
	// FindUsers returns up to limit users of a tenant matching f, oldest
	// first, starting after f.After.
	FindUsers(ctx context.Context, tenant TenantID, f UserFilter, limit int) ([]User, error)
	// FindTenants returns every tenant, oldest first.
	FindTenants(ctx context.Context) ([]Tenant, error)
	// SharesChat reports whether two users are in a common chat.
	SharesChat(ctx context.Context, a, b UserID) (bool, error)
	// HasBlocked reports whether blocker has blocked blocked (from a request
	// or from the blocked-people list).
	HasBlocked(ctx context.Context, blocker, blocked UserID) (bool, error)
	// SetDisplayName renames a user. Errors: notFound.
	SetDisplayName(ctx context.Context, id UserID, name string) error
}

// Service creates tenants and users and decides who may see whom.
type Service struct {
	Store Store
	// Hash turns a password into its stored form (auth.HashPassword).
	Hash func(ctx context.Context, password string) (string, error)
	// NormalizePhone turns a typed phone number into E.164.
	NormalizePhone func(s string) (string, error)
	Now            func() time.Time
	// Audit records user creation in the tenant's log (may be nil).
	Audit func(ctx context.Context, tenant TenantID, actor UserID, action, target string, details map[string]any)
}

// NewAccount describes a user to create.
type NewAccount struct {
	DisplayName string
	UPN         string
	Password    string
	Phone       string
	Kind        Kind
	Role        Role
}

// NewTenant describes a tenant to create with its first admin.
type NewTenant struct {
	DisplayName string
	Domains     []string
	Admin       NewAccount
}

func cleanName(s, what string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errcode.New(errcode.BadRequest, "%s is required.", what)
	}
	if utf8.RuneCountInString(s) > 256 || !utf8.ValidString(s) {
		return "", errcode.New(errcode.BadRequest, "%s is too long.", what)
	}
	return s, nil
}

// CreateTenant creates a tenant with verified domains and its first admin,
// whose sign-in name must be in one of the domains. Errors: badRequest,
// domainTaken.
func (s *Service) CreateTenant(ctx context.Context, nt NewTenant) (Tenant, User, error) {
	name, err := cleanName(nt.DisplayName, "displayName")
	if err != nil {
		return Tenant{}, User{}, err
	}
	if len(nt.Domains) == 0 || len(nt.Domains) > 50 {
		return Tenant{}, User{}, errcode.New(errcode.BadRequest, "A tenant needs between 1 and 50 domains.")
	}
	var domains []string
	for _, d := range nt.Domains {
		nd, err := NormalizeDomain(d)
		if err != nil {
			return Tenant{}, User{}, errcode.Wrap(err, errcode.BadRequest, err.Error())
		}
		if !slices.Contains(domains, nd) {
			domains = append(domains, nd)
		}
	}
	t := Tenant{ID: NewTenantID(), DisplayName: name, Domains: domains, CreatedAt: s.Now()}
	nt.Admin.Kind, nt.Admin.Role = Member, RoleAdmin
	admin, hash, err := s.newUser(ctx, &t, nt.Admin)
	if err != nil {
		return Tenant{}, User{}, err
	}
	if err := s.Store.CreateTenant(ctx, t, admin, hash); err != nil {
		return Tenant{}, User{}, fmt.Errorf("create tenant %s: %w", name, err)
	}
	return t, admin, nil
}

// newUser validates an account of tenant t and hashes its password.
func (s *Service) newUser(ctx context.Context, t *Tenant, na NewAccount) (User, string, error) {
	u, err := s.newAccount(ctx, t, na)
	if err != nil {
		return User{}, "", err
	}
	hash, err := s.Hash(ctx, na.Password)
	if err != nil {
		return User{}, "", err
	}
	return u, hash, nil
}

// newAccount validates an account of tenant t (not its password).
func (s *Service) newAccount(ctx context.Context, t *Tenant, na NewAccount) (User, error) {
	name, err := cleanName(na.DisplayName, "displayName")
	if err != nil {
		return User{}, err
	}
	addr, err := address.ParseEmail(na.UPN)
	upn := addr.Value
	if err != nil {
		// The parser's message says what is wrong (a lookalike, an invisible character).
		return User{}, errcode.New(errcode.BadRequest, "userPrincipalName: %s.", errcode.Message(err))
	}
	domain := upn[strings.LastIndexByte(upn, '@')+1:]
	switch na.Kind {
	case Member:
		// docs/rules.md §1: a managed user signs in with an address in its tenant's domains.
		if !slices.Contains(t.Domains, domain) {
			return User{}, errcode.New(errcode.BadRequest, "userPrincipalName must be in one of the organisation's domains (%s).", strings.Join(t.Domains, ", "))
		}
	case Guest:
		if slices.Contains(t.Domains, domain) {
			return User{}, errcode.New(errcode.BadRequest, "Guests come from outside: %s is one of the organisation's own domains.", domain)
		}
		// docs/rules.md §1, one address one account: an address of an organisation's
		// verified domain is that organisation's person, reached through
		// external access. A guest for it would be a second account for the
		// address, with a password its host chose. The answer depends on the
		// domain alone, so it says nothing about who has an account.
		if _, err := s.Store.FindTenantByDomain(ctx, domain); err == nil {
			return User{}, errcode.New(errcode.Conflict, "%s is a domain of another organisation on this server: its people are reached through external access, not as guests.", domain)
		} else if !errcode.Is(err, errcode.NotFound) {
			return User{}, fmt.Errorf("check guest domain %s: %w", domain, err)
		}
	default:
		return User{}, errcode.New(errcode.BadRequest, "userType must be Member or Guest.")
	}
	if na.Role == "" {
		na.Role = RoleMember
	}
	u := User{ID: NewUserID(), TenantID: t.ID, Kind: na.Kind, Role: na.Role, DisplayName: name, UPN: upn, Mail: upn,
		AllowChatsFromOrganizations: true, CreatedAt: s.Now()}
	if na.Phone != "" {
		if u.Phone, err = s.NormalizePhone(na.Phone); err != nil {
			return User{}, err
		}
	}
	return u, nil
}

// CreateUser creates a member or guest in the actor's tenant; only tenant
// admins may. Errors: forbidden, badRequest, conflict (the sign-in name or
// phone number is another account's in the tenant; a guest at another
// organisation's domain).
func (s *Service) CreateUser(ctx context.Context, actor *User, na NewAccount) (User, error) {
	if !actor.IsAdmin() {
		return User{}, errcode.New(errcode.Forbidden, "Only organisation admins can create users.")
	}
	t, err := s.Store.FindTenantByID(ctx, actor.TenantID)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	u, err := s.CreateUserInTenant(ctx, &t, na)
	if err == nil && s.Audit != nil {
		s.Audit(ctx, t.ID, actor.ID, "user.created", string(u.ID), map[string]any{"userPrincipalName": u.UPN, "userType": string(u.Kind)})
	}
	return u, err
}

// CreateUserInTenant creates a user in t (operator and CLI path).
func (s *Service) CreateUserInTenant(ctx context.Context, t *Tenant, na NewAccount) (User, error) {
	u, hash, err := s.newUser(ctx, t, na)
	if err != nil {
		return User{}, err
	}
	if err := s.Store.CreateUser(ctx, u, hash); err != nil {
		return User{}, fmt.Errorf("create user %s: %w", u.UPN, err)
	}
	return u, nil
}

// MaxBulkUsers bounds one CreateUsersInTenant call.
const MaxBulkUsers = 1000

// CreateUsersInTenant creates up to MaxBulkUsers users of a tenant that share one
// password, all or none (operator path: the load tool and imports). The
// password is hashed once, so n users cost one argon2id hash, not n.
// Errors: notFound (no such tenant), badRequest (an account is invalid,
// names repeat, too many), conflict (a sign-in name or phone number is taken).
func (s *Service) CreateUsersInTenant(ctx context.Context, tenant TenantID, password string, nas []NewAccount) ([]User, error) {
	if len(nas) == 0 || len(nas) > MaxBulkUsers {
		return nil, errcode.New(errcode.BadRequest, "users must hold between 1 and %d accounts.", MaxBulkUsers)
	}
	t, err := s.Store.FindTenantByID(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("create users: %w", err)
	}
	us := make([]User, 0, len(nas))
	seen := make(map[string]int, len(nas))
	for i, na := range nas {
		u, err := s.newAccount(ctx, &t, na)
		if err != nil {
			if _, ok := errors.AsType[*errcode.Error](err); ok {
				return nil, errcode.Wrap(err, errcode.Of(err), fmt.Sprintf("users[%d]: %s", i, errcode.Message(err)))
			}
			return nil, fmt.Errorf("users[%d]: %w", i, err)
		}
		if j, dup := seen[u.UPN]; dup {
			return nil, errcode.New(errcode.BadRequest, "users[%d]: userPrincipalName %s repeats users[%d].", i, u.UPN, j)
		}
		seen[u.UPN] = i
		us = append(us, u)
	}
	hash, err := s.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	if err := s.Store.CreateUsers(ctx, us, hash); err != nil {
		return nil, fmt.Errorf("create %d users in %s: %w", len(us), t.ID, err)
	}
	return us, nil
}

// Visible returns user id as actor may see it (Sees). Errors: notFound,
// also for users that exist but are not visible, with the same message and
// the same lookups: no existence leak.
func (s *Service) Visible(ctx context.Context, actor *User, id UserID) (User, error) {
	if id == actor.ID {
		return *actor, nil
	}
	u, err := s.Store.FindUserByID(ctx, id)
	found := err == nil
	if err != nil && !errcode.Is(err, errcode.NotFound) {
		return User{}, fmt.Errorf("get user %s: %w", id, err)
	}
	if !found {
		u = User{ID: id} // judged like an invisible outsider: the same work
	}
	ok, err := s.Sees(ctx, actor, &u)
	if err != nil {
		return User{}, fmt.Errorf("get user %s: %w", id, err)
	}
	if !found || !ok {
		return User{}, errcode.New(errcode.NotFound, "No user %s.", id)
	}
	return u, nil
}

// Sees reports whether actor may see u (docs/decisions.md "Who sees
// whom"): a member sees the people of its own organisation; everyone sees
// themselves, the people they share a chat with, and the people they
// blocked (they could see them, or their request, when they blocked them).
// A guest does not see its host's directory, only the people it shares a
// chat with (issue 11 item 6, as in Teams and Slack Connect).
func (s *Service) Sees(ctx context.Context, actor, u *User) (bool, error) {
	if u.ID == actor.ID || (actor.TenantID != "" && actor.Kind != Guest && u.Kind != Anonymous && u.TenantID == actor.TenantID) {
		return true, nil
	}
	ok, err := s.Store.SharesChat(ctx, actor.ID, u.ID)
	if err != nil || ok {
		return ok, err
	}
	return s.Store.HasBlocked(ctx, actor.ID, u.ID)
}

// Tenants returns every tenant (operator use).
func (s *Service) Tenants(ctx context.Context) ([]Tenant, error) {
	ts, err := s.Store.FindTenants(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return ts, nil
}

// Page sizes of the user list: Graph's for /users.
const (
	DefaultPageSize = 100
	MaxPageSize     = 999
)

// UserCursor marks a position in a tenant's user list (oldest first).
type UserCursor struct {
	CreatedAt time.Time
	ID        UserID
}

// UserFilter narrows a user list.
type UserFilter struct {
	UPN   string     // only the user with this sign-in name ("" for all)
	After UserCursor // only users after this position (zero: from the start)
	// SharesChatWith keeps only this user and the people who share a chat
	// with it, as Sees counts them ("" for all).
	SharesChatWith UserID
}

// Users returns a page of the people of the actor's tenant (members and
// guests) matching f, oldest first, and the cursor of the next page (zero
// when there is none); a personal account sees only itself, a guest itself
// and the people it shares a chat with (Sees). limit is clamped to
// 1…MaxPageSize (DefaultPageSize when 0).
func (s *Service) Users(ctx context.Context, actor *User, f UserFilter, limit int) ([]User, UserCursor, error) {
	if actor.TenantID == "" {
		if f.After.ID != "" || (f.UPN != "" && f.UPN != actor.UPN) {
			return []User{}, UserCursor{}, nil
		}
		return []User{*actor}, UserCursor{}, nil
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	f.SharesChatWith = ""
	if actor.Kind == Guest {
		f.SharesChatWith = actor.ID
	}
	us, err := s.Store.FindUsers(ctx, actor.TenantID, f, limit+1)
	if err != nil {
		return nil, UserCursor{}, fmt.Errorf("list users: %w", err)
	}
	var next UserCursor
	if len(us) > limit {
		us = us[:limit]
		last := us[limit-1]
		next = UserCursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	return us, next, nil
}
