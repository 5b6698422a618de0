package msgrequest

import (
	"strings"

	"github.com/parleychat/parley/internal/identity"
)

// BlameKind is whose setting a Blame names.
type BlameKind uint8

// The kinds of Blame.
const (
	// Nobody: the chat is writable.
	Nobody BlameKind = iota
	// Organisation: a tenant's setting or one of its users' policies.
	Organisation
	// PersonalAccount: a personal account's own setting.
	PersonalAccount
	// Domain: the organisation behind an address no account owns, known
	// by the address's domain alone ("" for a phone number).
	Domain
)

// Blame is whose setting made a chat read-only (docs/rules.md §4: "the
// reason says whose side's setting it is"). The zero Blame is Nobody.
type Blame struct {
	Kind   BlameKind
	Tenant identity.TenantID // Organisation
	User   identity.UserID   // PersonalAccount
	Domain string            // Domain
}

// BlameOf is the party whose setting it is when u's side refuses: u's
// organisation, or u when u has none.
func BlameOf(u *identity.User) Blame {
	if u.TenantID == "" {
		return Blame{Kind: PersonalAccount, User: u.ID}
	}
	return Blame{Kind: Organisation, Tenant: u.TenantID}
}

// DomainBlame is the party behind an address no account owns.
func DomainBlame(domain string) Blame { return Blame{Kind: Domain, Domain: domain} }

// IsZero reports whether b names nobody (the chat is writable).
func (b Blame) IsZero() bool { return b.Kind == Nobody }

// Own reports whether b names viewer's own side: viewer's organisation, or
// viewer's personal account. The read-only reason a viewer is shown says
// which (docs/rules.md §4).
func (b Blame) Own(viewer *identity.User) bool {
	switch b.Kind {
	case Organisation:
		return viewer.TenantID != "" && b.Tenant == viewer.TenantID
	case PersonalAccount:
		return b.User == viewer.ID
	}
	return false
}

// The prefixes of Blame's stored form; a tenant id is stored as itself.
const (
	personalPrefix = "personal:"
	domainPrefix   = "domain:"
)

// String is b's stored form: "" for Nobody, the tenant id, "personal:"
// and the user id, or "domain:" and the domain. ParseBlame reads it.
func (b Blame) String() string {
	switch b.Kind {
	case Organisation:
		return string(b.Tenant)
	case PersonalAccount:
		return personalPrefix + string(b.User)
	case Domain:
		return domainPrefix + b.Domain
	}
	return ""
}

// ParseBlame reads the stored form of a Blame (String).
func ParseBlame(s string) Blame {
	switch {
	case s == "":
		return Blame{}
	case strings.HasPrefix(s, personalPrefix):
		return Blame{Kind: PersonalAccount, User: identity.UserID(s[len(personalPrefix):])}
	case strings.HasPrefix(s, domainPrefix):
		return DomainBlame(s[len(domainPrefix):])
	}
	return Blame{Kind: Organisation, Tenant: identity.TenantID(s)}
}
