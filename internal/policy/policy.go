package policy

// GlobalName is the name of the policy every tenant has and cannot delete
// (docs/rules.md §3). A user with no grant gets it.
const GlobalName = "Global"

// Policy is a per-user external access policy (docs/rules.md §3). A user's effective
// right is the tenant setting AND the user's policy.
type Policy struct {
	Name                       string
	EnableFederationAccess     bool
	EnableTeamsConsumerAccess  bool
	EnableTeamsConsumerInbound bool
}

// GlobalDefault returns the Global policy as a new tenant has it: every
// switch on.
func GlobalDefault() Policy {
	return Policy{
		Name:                       GlobalName,
		EnableFederationAccess:     true,
		EnableTeamsConsumerAccess:  true,
		EnableTeamsConsumerInbound: true,
	}
}

// Kind is the kind of an account (docs/rules.md §1).
type Kind uint8

// The kinds of account. The zero Kind is invalid; a party of an unknown kind
// is refused everything outside its own tenant.
const (
	// Member is a managed user of a tenant, tenant admins included.
	Member Kind = iota + 1
	// Guest has a guest account in a host tenant and chats only there (docs/rules.md §4 rule 7).
	Guest
	// Personal belongs to no tenant.
	Personal
	// Anonymous joined one meeting by its link and exists only inside it (docs/rules.md §8).
	Anonymous
)

// String returns the kind's name, for logs and test output.
func (k Kind) String() string {
	switch k {
	case Member:
		return "member"
	case Guest:
		return "guest"
	case Personal:
		return "personal"
	case Anonymous:
		return "anonymous"
	}
	return "unknown"
}

// Party is one side of a decision, with everything the rules need already
// loaded by the caller.
type Party struct {
	Kind Kind
	// TenantID is the tenant of a Member, the host tenant of a Guest and the
	// meeting's host tenant of an Anonymous participant; "" for Personal.
	TenantID string
	// Domain is the lower-case domain of the user's address (email or UPN);
	// "" for phone-only personal accounts. For a Guest it is the domain of
	// its own address, not of its host.
	Domain string
	// Settings are the tenant's settings (Member and Guest); nil for
	// Personal. A Member without settings is refused as if every switch
	// were off.
	Settings *Settings
	// Policy is the effective per-user policy (Member; a Guest may carry
	// the host's Global); nil for Personal. A Member without a policy is
	// refused as if every switch were off.
	Policy *Policy
	// AllowChatsFromOrganizations is a Personal user's own switch (docs/rules.md §3).
	AllowChatsFromOrganizations bool
}

// Block says whether and how one party blocked the other (docs/rules.md §4, §5).
type Block uint8

// The kinds of block.
const (
	// NoBlock: not blocked.
	NoBlock Block = iota
	// SilentBlock was made from the blocked-people list: account-level, so
	// silent to the blocked party (docs/rules.md §4 rule of silence).
	SilentBlock
	// VisibleBlock was made on a request, or by reporting spam: the blocked
	// party is told recipientUnavailable (docs/rules.md §5).
	VisibleBlock
)

// Relation holds the state of a pair that lives outside the parties.
type Relation struct {
	// InitiatorBlocked: the initiator (or sender) blocked the target.
	InitiatorBlocked Block
	// TargetBlocked: the target (or recipient) blocked the initiator.
	TargetBlocked Block
	// Declined: the target declined a request from the initiator and the
	// cool-down is still running (docs/rules.md §5). The caller applies the clock.
	Declined bool
}
