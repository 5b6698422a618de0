package msgrequest

import (
	"time"

	"github.com/parleychat/parley/internal/policy"
)

// State is a member's state toward a message request (docs/rules.md §5).
type State string

// The states, with the API's values.
const (
	// Accepted: a member of the chat; also the sender of a request.
	Accepted State = "accepted"
	// Pending: the target of a request that has not been answered.
	Pending State = "pending"
	// Declined: the target declined, blocked or reported the request.
	Declined State = "declined"
)

// PendingCap is how many messages a sender may send in a chat while their
// request there is pending (docs/rules.md §5); the next one is refused with
// messageRequestLimitReached. Messages sent to an address before its owner
// registers count too (docs/rules.md §6).
const PendingCap = 10

// PreviewCount is how many of a request's messages its target is shown in
// the requests list (docs/rules.md §5 "previews of the messages").
const PreviewCount = 10

// DeclineCoolDown is how long a decline refuses further sends in the chat
// and new requests from the same sender (docs/rules.md §5 default: 30 days).
const DeclineCoolDown = 30 * 24 * time.Hour

// Answer is the target's answer to a request.
type Answer uint8

// Answers (docs/rules.md §5).
const (
	Accept Answer = iota + 1
	Decline
	Block
	ReportSpam
)

// String returns the answer's name as the API spells it.
func (a Answer) String() string {
	switch a {
	case Accept:
		return "accept"
	case Decline:
		return "decline"
	case Block:
		return "block"
	case ReportSpam:
		return "reportSpam"
	}
	return "invalid"
}

// Answered is everything an answer changes (docs/rules.md §5).
type Answered struct {
	// State is the target's new state.
	State State
	// DeclinedUntil ends the cool-down of a decline (zero on accept):
	// until then further sends in the chat and new requests from the same
	// sender fail with recipientUnavailable.
	DeclinedUntil time.Time
	// Block is the block the target makes on the request: visible, so the
	// sender is told recipientUnavailable (docs/rules.md §4 (c)).
	Block policy.Block
	// Report sends a spam report to the platform and the target's admins.
	Report bool
	// TellSender: the sender hears of the answer at once (accept). After
	// a decline the sender learns only at their next send.
	TellSender bool
}

// DecideAnswer returns what answer a, given at now, changes; false for an
// answer that is not one of the four.
func DecideAnswer(a Answer, now time.Time) (Answered, bool) {
	switch a {
	case Accept:
		return Answered{State: Accepted, TellSender: true}, true
	case Decline, Block, ReportSpam:
		r := Answered{State: Declined, DeclinedUntil: now.Add(DeclineCoolDown)}
		if a != Decline {
			r.Block = policy.VisibleBlock
		}
		r.Report = a == ReportSpam
		return r, true
	}
	return Answered{}, false
}

// Action is the audit action of an answer.
func (a Answer) Action() string {
	switch a {
	case Accept:
		return "request.accepted"
	case Decline:
		return "request.declined"
	case Block:
		return "request.blocked"
	case ReportSpam:
		return "request.reportedSpam"
	}
	return ""
}
