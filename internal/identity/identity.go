// Package identity holds docs/rules.md §1: tenants with their verified domains, and
// users — managed members and admins, guests, personal accounts — with the
// relation "is external to". It is a domain package: it imports no storage,
// HTTP or SQL package. Everything above it may import it.
package identity

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// TenantID identifies a tenant (an organisation).
type TenantID string

// UserID identifies a user of any kind.
type UserID string

// Kind is the kind of an account (docs/rules.md §1).
type Kind string

// Account kinds, as stored.
const (
	Member   Kind = "member"   // managed user of a tenant (work account)
	Guest    Kind = "guest"    // guest account in a host tenant
	Personal Kind = "personal" // self-registered, belongs to no tenant
	// Anonymous joined one meeting through its link under a name they
	// typed; TenantID is the meeting's host tenant (docs/rules.md §1, §8).
	Anonymous Kind = "anonymous"
)

// UnverifiedSuffix follows an anonymous participant's typed name wherever
// it shows (docs/rules.md §8: shown as unverified).
const UnverifiedSuffix = " (Unverified)"

// Role of a managed user inside its tenant.
type Role string

// Roles.
const (
	RoleMember Role = "member"
	RoleAdmin  Role = "admin"
)

// Tenant is an organisation with its verified domains.
type Tenant struct {
	ID          TenantID
	DisplayName string
	Domains     []string // lower-case, verified
	CreatedAt   time.Time
}

// User is an account of any kind.
type User struct {
	ID          UserID
	TenantID    TenantID // "" for personal accounts
	Kind        Kind
	Role        Role
	DisplayName string
	// UPN is the sign-in name: an e-mail address, or an E.164 phone number
	// for phone-only personal accounts. Lower-case.
	UPN   string
	Mail  string // "" when the account has no e-mail address
	Phone string // E.164 or ""
	// AllowChatsFromOrganizations is a personal account's own switch (docs/rules.md §3).
	AllowChatsFromOrganizations bool
	CreatedAt                   time.Time
}

// IsAdmin reports whether u administers its tenant.
func (u *User) IsAdmin() bool { return u.Kind == Member && u.Role == RoleAdmin }

// Domain returns the domain of the user's e-mail address, lower-case, or "".
func (u *User) Domain() string {
	addr := u.Mail
	if addr == "" {
		addr = u.UPN
	}
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}

// ExternalTo reports whether u is external to viewer (docs/rules.md §1): u is not a
// member (managed or guest) of the viewer's tenant. Personal users are
// external to everyone but themselves.
func (u *User) ExternalTo(viewer *User) bool {
	if u.ID == viewer.ID {
		return false
	}
	if u.Kind == Anonymous || viewer.Kind == Anonymous {
		return true // an anonymous participant belongs to no organisation
	}
	if u.TenantID == "" || viewer.TenantID == "" {
		return true
	}
	return u.TenantID != viewer.TenantID
}

// IdentityType is Graph's userIdentityType of u as seen by viewer (API.md).
func (u *User) IdentityType(viewer *User) string {
	switch {
	case u.Kind == Anonymous:
		return "anonymousGuest"
	case u.Kind == Personal:
		return "personalMicrosoftAccountUser"
	case viewer != nil && viewer.TenantID != "" && u.TenantID != viewer.TenantID:
		return "federatedUser"
	case viewer != nil && viewer.Kind == Personal:
		return "federatedUser"
	default:
		return "aadUser"
	}
}

// NewTenantID returns a fresh random tenant id.
func NewTenantID() TenantID { return TenantID(newUUID()) }

// NewUserID returns a fresh time-ordered user id.
func NewUserID() UserID { return UserID(newUUID()) }

func newUUID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// uuid.NewV7 fails only when crypto/rand fails, which Go treats as fatal anyway.
		return uuid.Must(uuid.NewRandomFromReader(rand.Reader)).String()
	}
	return id.String()
}

// NormalizeDomain lower-cases and checks a domain name as typed by an operator.
func NormalizeDomain(d string) (string, error) {
	d = strings.ToLower(strings.TrimSpace(d))
	if len(d) < 3 || len(d) > 253 || !strings.Contains(d, ".") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
		return "", fmt.Errorf("%q is not a domain name", d)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("%q is not a domain name", d)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return "", fmt.Errorf("%q is not a domain name", d)
			}
		}
	}
	return d, nil
}
