package policy

// Settings is a tenant's external access configuration (docs/rules.md §2). There is
// one per tenant. Domains in the lists are lower-case.
type Settings struct {
	// AllowTeamsConsumer is the master switch for chats between the tenant's
	// users and personal users, in both directions.
	AllowTeamsConsumer bool
	// AllowTeamsConsumerInbound lets personal users start chats with the
	// tenant's users. It has no effect when AllowTeamsConsumer is false.
	AllowTeamsConsumerInbound bool
	// AllowFederatedUsers allows chats with managed users of other tenants.
	AllowFederatedUsers bool
	// AllowAllKnownDomains admits every other tenant's domain unless blocked.
	AllowAllKnownDomains bool
	// AllowedDomains are the only domains admitted when AllowAllKnownDomains
	// is false.
	AllowedDomains []string
	// BlockedDomains are never admitted; they win over everything else.
	BlockedDomains []string
}

// DefaultSettings returns the settings of a new tenant (docs/rules.md §2 defaults):
// every switch on, both domain lists empty.
func DefaultSettings() Settings {
	return Settings{
		AllowTeamsConsumer:        true,
		AllowTeamsConsumerInbound: true,
		AllowFederatedUsers:       true,
		AllowAllKnownDomains:      true,
	}
}

// Admits reports whether the domain lists of s admit domain (docs/rules.md §2): a
// blocked domain is never admitted; otherwise AllowAllKnownDomains admits
// every domain, and without it only AllowedDomains are admitted. Matching is
// exact and ASCII case-insensitive; Admits allocates nothing. A nil s admits
// nothing.
func Admits(s *Settings, domain string) bool {
	if s == nil || blocks(s, domain) {
		return false
	}
	return allows(s, domain)
}

// blocks reports whether domain is on s's blocked list.
func blocks(s *Settings, domain string) bool {
	return listed(s.BlockedDomains, domain)
}

// allows reports whether s admits domain before the blocked list is applied.
func allows(s *Settings, domain string) bool {
	return s.AllowAllKnownDomains || listed(s.AllowedDomains, domain)
}

func listed(list []string, domain string) bool {
	for _, d := range list {
		if equalFoldASCII(d, domain) {
			return true
		}
	}
	return false
}

// equalFoldASCII compares two domain names ignoring ASCII case. Domain names
// on the wire are ASCII (IDNA); strings.EqualFold would also fold Unicode
// look-alikes such as the Kelvin sign into "k", which a domain must not match.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	if a == b { // the usual match: both already lower-case
		return true
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}
