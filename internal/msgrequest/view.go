package msgrequest

// Form is what a member sees of a message of a chat (docs/rules.md §5).
type Form uint8

// The forms.
const (
	// Hidden: nothing; the chat does not exist for the member.
	Hidden Form = iota
	// PreviewForm: the message as a request shows it until its target
	// accepts: links as plain text, not links, and no images from the
	// sender (so no cards, which may hold them).
	PreviewForm
	// Full: the message as sent.
	Full
)

// String returns the form's name, for test output.
func (f Form) String() string {
	switch f {
	case Hidden:
		return "hidden"
	case PreviewForm:
		return "preview"
	case Full:
		return "full"
	}
	return "invalid"
}

// MessageForm is the form in which a member in state s, held or not, sees
// a chat's messages: nothing while a request to them is held silently
// (docs/rules.md §4) or after they declined it, the preview form while it
// is pending, the messages once they accepted.
func MessageForm(s State, held bool) Form {
	switch {
	case held || s == Declined:
		return Hidden
	case s == Pending:
		return PreviewForm
	case s == Accepted:
		return Full
	}
	return Hidden
}

// SeesChat reports whether a member in state s, held or not, sees the
// chat at all: not while a request to them is held silently, nor after
// they declined it (docs/rules.md §4, §5).
func SeesChat(s State, held bool) bool { return MessageForm(s, held) != Hidden }

// Arrival is what a member is told when they join a chat.
type Arrival uint8

// The arrivals.
const (
	// Silent: nothing (a held request, or an address with no account).
	Silent Arrival = iota
	// ChatArrives: the chat joins their list (chatCreated).
	ChatArrives
	// RequestArrives: a message request reaches them (requestReceived).
	RequestArrives
)

// ArrivalOf is what a member in state s, held or not, with an account or
// not, is told on joining a chat (docs/rules.md §4 rule of silence, §5).
func ArrivalOf(s State, held, account bool) Arrival {
	if !account || held {
		return Silent
	}
	switch s {
	case Accepted:
		return ChatArrives
	case Pending:
		return RequestArrives
	}
	return Silent
}

// SharesPresence reports whether read receipts and typing pass from a
// member in state from to a member in state to: only between accepted
// members, so a sender learns nothing from a target who has not accepted
// (docs/rules.md §5), and the target hears nothing of a chat they have not
// joined.
func SharesPresence(from, to State) bool { return from == Accepted && to == Accepted }

// HearsMembers reports whether a member in state s, with an account or
// not, is told of people added to or removed from a chat: only accepted
// members with an account, so a person a request is pending for learns
// nothing of the chat's members before accepting (docs/rules.md §5), and an
// address with no account is told nothing.
func HearsMembers(s State, account bool) bool { return account && s == Accepted }
