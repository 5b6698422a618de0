package msgrequest

// Target is what the rules need of one person being brought into a chat
// (a new chat, or an added member).
type Target struct {
	// Account: an account owns the address (one the actor may learn of),
	// or the person was named by id. Without one the person is the
	// address the actor typed.
	Account bool
	// External: the account is external to the actor (docs/rules.md §1).
	External bool
	// Contacts: the pair accepted each other before (docs/rules.md §5).
	Contacts bool
	// Verdict is policy.MayStart for the pair, or policy's StartAddress
	// for an address no account owns.
	Verdict Verdict
}

// Admission is how a target joins.
type Admission uint8

// The admissions.
const (
	// Refuse: the actor is told, with the policy decision's code and
	// message (docs/rules.md §4 (a)–(c)).
	Refuse Admission = iota + 1
	// HoldSilently: the member shows pending with the typed address, and
	// nothing reaches anyone (docs/rules.md §4 rule of silence, (d)).
	HoldSilently
	// Request: the target gets a message request (docs/rules.md §5).
	Request
	// Invite: a request to an address no account owns; an invitation is
	// sent to it (docs/rules.md §6).
	Invite
	// Join: accepted at once (the same organisation, or accepted contacts).
	Join
)

// String returns the admission's name, for test output.
func (a Admission) String() string {
	switch a {
	case Refuse:
		return "refuse"
	case HoldSilently:
		return "hold"
	case Request:
		return "request"
	case Invite:
		return "invite"
	case Join:
		return "join"
	}
	return "invalid"
}

// Admit decides how t joins (docs/rules.md §4–§6). A held address is held
// like a held account: an address in an organisation's verified domain that
// no account owns cannot be made a personal account by an invitation
// (docs/rules.md §6), and the sender's view must not differ.
func Admit(t Target) Admission {
	switch {
	case t.Verdict.Refused():
		return Refuse
	case t.Verdict.Held():
		return HoldSilently
	case !t.Account:
		return Invite
	case !t.External, t.Contacts:
		return Join
	}
	return Request
}

// Pending reports whether the admission leaves the target pending: a
// request from the actor, delivered, held or waiting for an account.
func (a Admission) Pending() bool { return a == HoldSilently || a == Request || a == Invite }
