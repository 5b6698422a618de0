package msgrequest

import (
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/policy"
)

// Member is what the rules need of one member of a chat.
type Member struct {
	// User is the member's account; "" for a member known only by the
	// address typed (an invitation, or an address no account owns).
	User identity.UserID
	// Party is whose setting it is when this member's side refuses:
	// BlameOf the account, or DomainBlame of the address.
	Party Blame
	State State
	// Held: the request to this member is held silently (docs/rules.md §4).
	Held bool
	// RequestFrom is who sent the request a pending member has to answer
	// ("" for none).
	RequestFrom identity.UserID
	// Request is whether RequestFrom may still make the request: MayStart
	// with the inbound switches (the target has not accepted), or
	// StartAddress for a member without an account. The loader sets it for
	// pending members whose RequestFrom is the sender or an accepted member.
	Request Verdict
}

// Pair is a pair of accepted members that may no longer talk
// (docs/rules.md §4 mayTalk), as decided from P's side.
type Pair struct {
	Verdict Verdict
	P, Q    Blame
}

// Facts are what the send and read-only rules need of a chat, loaded by
// chat.
type Facts struct {
	// Sender is who sends or changes the chat; "" when the chat is
	// re-decided after a change of settings.
	Sender   identity.UserID
	OneOnOne bool
	// External: the chat has (or was created with) a member external to
	// its creator (docs/rules.md §7). An internal chat is never decided.
	External bool
	// Talk is the first pair of accepted members, the sender's pairs
	// first, whose policy.MayTalk does not allow; its Verdict is zero when
	// every pair may talk. Only external chats are decided.
	Talk    Pair
	Members []Member
}

// Refusal is how a send or change is refused.
type Refusal uint8

// The refusals.
const (
	// NotRefused: the send goes ahead.
	NotRefused Refusal = iota
	// NotAccepted: the sender has not accepted the request to them; they
	// send and change nothing until they do (forbidden, docs/rules.md §5).
	NotAccepted
	// ReadOnly: a setting no longer allows the chat; Send.Blame says
	// whose (chatReadOnly, docs/rules.md §4).
	ReadOnly
	// Unavailable: the recipient declined the request or blocked the
	// sender on it (recipientUnavailable, docs/rules.md §4 (c), §5).
	Unavailable
)

// String returns the refusal's name, for test output.
func (r Refusal) String() string {
	switch r {
	case NotRefused:
		return "none"
	case NotAccepted:
		return "notAccepted"
	case ReadOnly:
		return "readOnly"
	case Unavailable:
		return "unavailable"
	}
	return "invalid"
}

// Send is the decision on a send.
type Send struct {
	Refusal Refusal
	// Blame is whose setting made the chat read-only (Refusal ReadOnly).
	Blame Blame
	// Cap is how many messages the sender may have in the chat, this one
	// included, counted inside the write: PendingCap while a request of
	// theirs is pending there, 0 for no cap.
	Cap int
}

// Change is a member whose silent hold changes at a send or a
// re-evaluation.
type Change struct {
	// Index is the member's index in Facts.Members.
	Index int
	// Hold: the request is now held silently. Otherwise it is released:
	// delivered from now on, showing only the messages sent after this
	// moment (docs/rules.md §4).
	Hold bool
}

// DecideSend decides a send by f.Sender (docs/rules.md §4, §5) and appends
// to changes the requests of the sender whose hold changes, which the
// caller stores before the message; a refused send changes nothing. It
// allocates only when changes grows.
//
// In order: a sender who has not accepted sends nothing; an internal chat
// is never decided; a pair of accepted members that may no longer talk
// makes the chat read-only, except that in a oneOnOne chat a recipient's
// answer answers recipientUnavailable; then each other member in turn: a
// declined member of a oneOnOne chat answers recipientUnavailable; another
// member's request its (accepted) sender may no longer make by a setting
// makes the chat read-only for everyone; the sender's own request answers
// recipientUnavailable when the recipient answered it, makes the chat
// read-only when a setting refuses it, and is held or released as the
// rule of silence says. While a request of the sender's is pending the
// sender is capped at PendingCap messages.
func DecideSend(f *Facts, changes []Change) (Send, []Change) {
	me := f.member(f.Sender)
	if me == nil || me.State != Accepted {
		return Send{Refusal: NotAccepted}, changes
	}
	if !f.External {
		return Send{}, changes // docs/rules.md §7: an internal chat never has external people
	}
	if b, answered := f.talk(); !b.IsZero() {
		if f.OneOnOne && answered {
			return Send{Refusal: Unavailable}, changes
		}
		return Send{Refusal: ReadOnly, Blame: b}, changes
	}
	mine, base := false, len(changes)
	for i := range f.Members {
		m := &f.Members[i]
		if m.User == f.Sender {
			continue
		}
		switch {
		case m.State == Declined && f.OneOnOne:
			return Send{Refusal: Unavailable}, changes[:base]
		case m.State != Pending || m.RequestFrom == "":
		case m.RequestFrom != f.Sender:
			// Another member's request.
			if b := f.requestBlame(m); !b.IsZero() {
				return Send{Refusal: ReadOnly, Blame: b}, changes[:base]
			}
		default:
			mine = true
			d, hold, change := ownRequest(me, m)
			if d.Refusal != NotRefused {
				return d, changes[:base]
			}
			if change {
				changes = append(changes, Change{Index: i, Hold: hold})
			}
		}
	}
	if mine {
		return Send{Cap: PendingCap}, changes
	}
	return Send{}, changes
}

// ownRequest decides the sender's pending request to m at a send: the
// recipient's answer is recipientUnavailable; a setting's refusal makes
// the chat read-only, naming the sender's side or m's; a silent refusal
// holds the request and a lifted one releases it (change, with hold the
// new state). A member without an account has no hold.
func ownRequest(me, m *Member) (d Send, hold, change bool) {
	v := m.Request
	switch {
	case v.Refused() && v.Answered:
		return Send{Refusal: Unavailable}, false, false
	case v.Refused() && v.Side == policy.OwnSide:
		return Send{Refusal: ReadOnly, Blame: me.Party}, false, false
	case v.Refused():
		return Send{Refusal: ReadOnly, Blame: m.Party}, false, false
	}
	hold = v.Held()
	return Send{}, hold, m.User != "" && hold != m.Held
}

// DecideChange decides a change of an external chat's topic by f.Sender:
// read-only when a pair of accepted members may no longer talk, as a send
// is told (docs/rules.md §4). Whether the sender accepted is MayChange's.
func DecideChange(f *Facts) Send {
	if !f.External {
		return Send{}
	}
	if b, _ := f.talk(); !b.IsZero() {
		return Send{Refusal: ReadOnly, Blame: b}
	}
	return Send{}
}

// MayChange reports whether a member in state s may change a chat (its
// topic, its members): while a request to them is pending the sender
// learns nothing from them, so they change nothing, as they send nothing
// (docs/rules.md §5).
func MayChange(s State) bool { return s == Accepted }

// ReadOnlyBy decides whether a chat is read-only and whose setting made it
// so (docs/rules.md §4), as a change of settings re-decides it: a pair of
// accepted members that may no longer talk (whatever the reason, the
// recipient's answers included, since a read-only chat of accepted members
// is no news to either), or else a pending request its sender may no
// longer make by a setting. A held request is silent, and a recipient's
// answer to a request is told to its sender alone.
func ReadOnlyBy(f *Facts) Blame {
	if b, _ := f.talk(); !b.IsZero() {
		return b
	}
	for i := range f.Members {
		m := &f.Members[i]
		if m.State != Pending || m.RequestFrom == "" {
			continue
		}
		if b := f.requestBlame(m); !b.IsZero() {
			return b
		}
	}
	return Blame{}
}

// Rehold decides, at a re-evaluation, whether the hold of the request to
// m changes: v is whether m's sender may still make it. A refused request
// keeps its hold (ReadOnlyBy tells the chat's members); a lifted refusal
// releases the request, which is delivered from then on.
func Rehold(m *Member, v Verdict) (hold, changed bool) {
	if m.State != Pending || m.User == "" || m.RequestFrom == "" || v.Refused() {
		return m.Held, false
	}
	return v.Held(), v.Held() != m.Held
}

// Reopen decides asking again for a pair's oneOnOne chat, which is a new
// request to the other person (docs/rules.md §5): while their decline of a
// request from the asker, or their block on one, holds, it is refused
// (recipientUnavailable) as sends in the chat are. A chat that a setting
// made read-only is still returned, readable. v is policy.MayStart from
// the asker to the other member.
func Reopen(v Verdict) Refusal {
	if v.Refused() && v.Answered {
		return Unavailable
	}
	return NotRefused
}

// TakeUp decides whether an asker who is not an accepted member of a
// pair's existing oneOnOne chat (a request to them is pending, held or was
// declined) starts it anew, as a new chat is decided (v is policy.MayStart
// to the other member): when allowed they join it, the pair become
// contacts (starting a chat is consent), and a member who was held or had
// declined sees history from now on.
func TakeUp(state State, held bool, v Verdict) (join, fromNow bool) {
	if v.Refused() {
		return false, false
	}
	return true, held || state == Declined
}

func (f *Facts) member(id identity.UserID) *Member {
	if id == "" {
		return nil
	}
	for i := range f.Members {
		if f.Members[i].User == id {
			return &f.Members[i]
		}
	}
	return nil
}

// talk returns whose side refused the first pair that may no longer talk
// (the party of the deciding rule's side), and whether the recipient's
// answer is among the reasons; zero when every pair may talk.
func (f *Facts) talk() (Blame, bool) {
	v := f.Talk.Verdict
	if v.Allowed() {
		return Blame{}, false
	}
	if v.Side == policy.OwnSide {
		return f.Talk.P, v.Answered
	}
	return f.Talk.Q, v.Answered
}

// requestBlame is whose setting refuses the pending request to m, or
// Nobody when it may stand: its sender's own side, or the target's
// organisation (by its account, or by the domain of the address). A
// request whose sender is no longer an accepted member is no pair of the
// chat's members.
func (f *Facts) requestBlame(m *Member) Blame {
	from := f.member(m.RequestFrom)
	if from == nil || from.State != Accepted || !m.Request.settingRefusal() {
		return Blame{}
	}
	if m.Request.Side == policy.OwnSide {
		return from.Party
	}
	return m.Party
}
