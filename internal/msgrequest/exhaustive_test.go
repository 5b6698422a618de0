package msgrequest_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
	"github.com/parleychat/parley/internal/policy"
)

// The exhaustive tests enumerate every combination of the facts the
// request rules read (chat type, internal or external, the sender's
// state, the first pair that may not talk, and each other member's
// account, state, hold, whose request it is and how policy decided it) and
// compare the package's decisions with an oracle written separately from
// the text of docs/rules.md §4–§6. The oracle shares no code with the
// package: it reads the policy outcome, side and answer as the rules name
// them, collects every reason a send is refused in the order the rules
// give them, and takes the first.

// verdicts are every Verdict policy can give, and the zero one (not
// decided, which allows).
var verdicts = []msgrequest.Verdict{
	{},
	{Outcome: policy.Allowed},
	{Outcome: policy.Held, Side: policy.OtherSide},
	{Outcome: policy.Refused, Side: policy.OwnSide},
	{Outcome: policy.Refused, Side: policy.OtherSide},
	{Outcome: policy.Refused, Side: policy.OwnSide, Answered: true},
	{Outcome: policy.Refused, Side: policy.OtherSide, Answered: true},
}

func vname(v msgrequest.Verdict) string {
	s := v.Outcome.String()
	if v.Outcome == 0 {
		s = "undecided"
	}
	if v.Outcome == policy.Refused {
		s += "/" + v.Side.String()
		if v.Answered {
			s += "+answered"
		}
	}
	return s
}

// The people of the enumerated chats.
const (
	sender = identity.UserID("sender")
	third  = identity.UserID("third") // an accepted member, sender of other requests
	other  = identity.UserID("other")
	gone   = identity.UserID("gone") // sent a request, no longer an accepted member
)

var (
	senderParty = msgrequest.Blame{Kind: msgrequest.Organisation, Tenant: "contoso"}
	thirdParty  = msgrequest.Blame{Kind: msgrequest.Organisation, Tenant: "contoso"}
	addrParty   = msgrequest.DomainBlame("fabrikam.com")
	talkP       = msgrequest.Blame{Kind: msgrequest.Organisation, Tenant: "p-tenant"}
	talkQ       = msgrequest.Blame{Kind: msgrequest.Organisation, Tenant: "q-tenant"}
)

// otherMember is one enumerated member beside the sender.
type otherMember struct {
	account bool
	state   msgrequest.State
	held    bool
	from    identity.UserID // "", sender, third, gone
	request msgrequest.Verdict
}

func (o otherMember) member(i int) msgrequest.Member {
	m := msgrequest.Member{State: o.state, Held: o.held, RequestFrom: o.from, Request: o.request, Party: addrParty}
	if o.account {
		m.User = identity.UserID(fmt.Sprintf("%s%d", other, i))
		m.Party = msgrequest.Blame{Kind: msgrequest.PersonalAccount, User: m.User}
	}
	return m
}

func (o otherMember) String() string {
	return fmt.Sprintf("{account=%v %s held=%v from=%q %s}", o.account, o.state, o.held, o.from, vname(o.request))
}

var states = []msgrequest.State{msgrequest.Accepted, msgrequest.Pending, msgrequest.Declined}

// allOthers enumerates every member beside the sender.
func allOthers() []otherMember {
	var out []otherMember
	for _, account := range []bool{false, true} {
		for _, st := range states {
			for _, held := range []bool{false, true} {
				for _, from := range []identity.UserID{"", sender, third, gone} {
					for _, v := range verdicts {
						out = append(out, otherMember{account, st, held, from, v})
					}
				}
			}
		}
	}
	return out
}

// sendCase is one enumerated send.
type sendCase struct {
	oneOnOne, external bool
	senderState        msgrequest.State
	talk               msgrequest.Verdict
	others             []otherMember
}

// facts builds the package's facts: the sender first, then the others,
// then (in a group) the accepted third member.
func (c *sendCase) facts() msgrequest.Facts {
	f := msgrequest.Facts{Sender: sender, OneOnOne: c.oneOnOne, External: c.external,
		Talk: msgrequest.Pair{Verdict: c.talk, P: talkP, Q: talkQ}}
	f.Members = append(f.Members, msgrequest.Member{User: sender, Party: senderParty, State: c.senderState})
	for i, o := range c.others {
		f.Members = append(f.Members, o.member(i))
	}
	if !c.oneOnOne {
		f.Members = append(f.Members, msgrequest.Member{User: third, Party: thirdParty, State: msgrequest.Accepted})
	}
	return f
}

// want is what the oracle expects of a send.
type want struct {
	refusal msgrequest.Refusal
	blame   msgrequest.Blame
	cap     int
	changes []msgrequest.Change
}

// sendOracle decides a send from the rules' text.
func sendOracle(c *sendCase) want {
	// §5: "while pending the sender learns nothing from the target": a
	// target who has not accepted (or has declined) sends nothing.
	if c.senderState != msgrequest.Accepted {
		return want{refusal: msgrequest.NotAccepted}
	}
	// §7: an internal chat has no external people; §4 and §5 decide nothing.
	if !c.external {
		return want{}
	}
	refusedBySetting := func(v msgrequest.Verdict) bool { return v.Outcome == policy.Refused && !v.Answered }
	// §4: mayTalk must hold for every pair of accepted members. When it
	// does not, the chat is read-only and says whose side's setting it
	// is; in a 1:1 chat a refusal that is the recipient's answer to a
	// request (decline, block) is recipientUnavailable for further sends
	// (§4 (c), §5).
	if t := c.talk; t.Outcome == policy.Refused || t.Outcome == policy.Held {
		if c.oneOnOne && t.Outcome == policy.Refused && t.Answered {
			return want{refusal: msgrequest.Unavailable}
		}
		b := talkQ
		if t.Outcome == policy.Refused && t.Side == policy.OwnSide {
			b = talkP
		}
		return want{refusal: msgrequest.ReadOnly, blame: b}
	}
	var w want
	for i, o := range c.others {
		idx := i + 1
		m := o.member(i)
		switch {
		case o.state == msgrequest.Declined && c.oneOnOne:
			// §5 decline: further sends in it fail with recipientUnavailable.
			return want{refusal: msgrequest.Unavailable}
		case o.state != msgrequest.Pending || o.from == "":
			// accepted, or declined in a group: nothing to decide here.
		case o.from == third && c.oneOnOne, o.from == gone:
			// The request's sender is no accepted member of the chat: no
			// pair of its members.
		case o.from == third:
			// Another member's request that a setting no longer allows:
			// the chat is read-only for everyone (§4).
			if refusedBySetting(o.request) {
				b := m.Party
				if o.request.Side == policy.OwnSide {
					b = thirdParty
				}
				return want{refusal: msgrequest.ReadOnly, blame: b}
			}
		case o.from == sender:
			// §5: at most 10 messages while the sender's request is pending.
			w.cap = 10
			switch {
			case o.request.Outcome == policy.Refused && o.request.Answered:
				return want{refusal: msgrequest.Unavailable}
			case o.request.Outcome == policy.Refused && o.request.Side == policy.OwnSide:
				return want{refusal: msgrequest.ReadOnly, blame: senderParty}
			case o.request.Outcome == policy.Refused:
				return want{refusal: msgrequest.ReadOnly, blame: m.Party}
			case o.request.Outcome == policy.Held:
				// §4 rule of silence: an account-level refusal holds the
				// request; nothing reaches anyone.
				if o.account && !o.held {
					w.changes = append(w.changes, msgrequest.Change{Index: idx, Hold: true})
				}
			default:
				// A lifted refusal delivers the request from now on.
				if o.account && o.held {
					w.changes = append(w.changes, msgrequest.Change{Index: idx})
				}
			}
		}
	}
	return w
}

func checkSend(t *testing.T, c *sendCase) bool {
	t.Helper()
	f := c.facts()
	got, changes := msgrequest.DecideSend(&f, nil)
	w := sendOracle(c)
	if w.refusal != msgrequest.NotRefused {
		w.cap, w.changes = 0, nil
	}
	if got.Refusal != w.refusal || got.Blame != w.blame || got.Cap != w.cap || !slices.Equal(changes, w.changes) {
		t.Errorf("oneOnOne=%v external=%v sender=%s talk=%s others=%v:\n got %s %+v cap %d changes %v\nwant %s %+v cap %d changes %v",
			c.oneOnOne, c.external, c.senderState, vname(c.talk), c.others,
			got.Refusal, got.Blame, got.Cap, changes, w.refusal, w.blame, w.cap, w.changes)
		return false
	}
	return true
}

// TestDecideSend_Exhaustive: one member beside the sender (and, in a
// group, an accepted third member), every combination.
func TestDecideSend_Exhaustive(t *testing.T) {
	n, fails := 0, 0
	for _, oneOnOne := range []bool{true, false} {
		for _, external := range []bool{true, false} {
			for _, st := range states {
				for _, talk := range verdicts {
					for _, o := range allOthers() {
						n++
						if !checkSend(t, &sendCase{oneOnOne, external, st, talk, []otherMember{o}}) {
							if fails++; fails > 20 {
								t.Fatal("too many failures")
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d cases", n)
}

// TestDecideSend_ExhaustivePairs: two members beside the sender in a
// group, every combination of the facts that order the refusals and the
// changes.
func TestDecideSend_ExhaustivePairs(t *testing.T) {
	var small []otherMember
	for _, st := range states {
		for _, held := range []bool{false, true} {
			for _, from := range []identity.UserID{sender, third} {
				for _, v := range verdicts[1:] {
					small = append(small, otherMember{true, st, held, from, v})
				}
			}
		}
	}
	n, fails := 0, 0
	for _, a := range small {
		for _, b := range small {
			n++
			if !checkSend(t, &sendCase{false, true, msgrequest.Accepted, msgrequest.Verdict{}, []otherMember{a, b}}) {
				if fails++; fails > 20 {
					t.Fatal("too many failures")
				}
			}
		}
	}
	t.Logf("%d cases", n)
}

// readOnlyOracle is docs/rules.md §4 for a chat re-decided after a change
// of settings: read-only when a pair of accepted members may no longer
// talk (for any reason: in a chat both sides accepted, that is no news),
// or when a pending request's (accepted) sender may no longer make it by
// a setting; a held request is silent and a recipient's answer is told
// to the request's sender alone.
func readOnlyOracle(c *sendCase) msgrequest.Blame {
	if t := c.talk; t.Outcome == policy.Refused || t.Outcome == policy.Held {
		if t.Outcome == policy.Refused && t.Side == policy.OwnSide {
			return talkP
		}
		return talkQ
	}
	for i, o := range c.others {
		if o.state != msgrequest.Pending || o.request.Outcome != policy.Refused || o.request.Answered {
			continue
		}
		var fromParty msgrequest.Blame
		switch {
		case o.from == sender:
			fromParty = senderParty
		case o.from == third && !c.oneOnOne:
			fromParty = thirdParty
		default:
			continue
		}
		if o.request.Side == policy.OwnSide {
			return fromParty
		}
		return o.member(i).Party
	}
	return msgrequest.Blame{}
}

func TestReadOnlyBy_Exhaustive(t *testing.T) {
	n := 0
	for _, oneOnOne := range []bool{true, false} {
		for _, talk := range verdicts {
			for _, o := range allOthers() {
				n++
				c := &sendCase{oneOnOne, true, msgrequest.Accepted, talk, []otherMember{o}}
				f := c.facts()
				f.Sender = ""
				if got, w := msgrequest.ReadOnlyBy(&f), readOnlyOracle(c); got != w {
					t.Fatalf("oneOnOne=%v talk=%s other=%v: got %+v, want %+v", oneOnOne, vname(talk), o, got, w)
				}
				// A change of the topic is refused by the pairs alone.
				f.Sender = sender
				d := msgrequest.DecideChange(&f)
				wantChange := msgrequest.Blame{}
				if talk.Outcome == policy.Refused || talk.Outcome == policy.Held {
					wantChange = readOnlyOracle(&sendCase{oneOnOne, true, msgrequest.Accepted, talk, nil})
				}
				if d.Blame != wantChange || (d.Refusal == msgrequest.ReadOnly) != !wantChange.IsZero() {
					t.Fatalf("change: oneOnOne=%v talk=%s: got %+v, want blame %+v", oneOnOne, vname(talk), d, wantChange)
				}
			}
		}
	}
	t.Logf("%d cases", n)
}

// admitOracle is docs/rules.md §4–§6 for one person brought into a chat.
func admitOracle(t msgrequest.Target) msgrequest.Admission {
	switch t.Verdict.Outcome {
	case policy.Refused:
		return msgrequest.Refuse // (a)–(c): told
	case policy.Held:
		return msgrequest.HoldSilently // (d): silent, whether or not an account owns it
	}
	if !t.Account {
		return msgrequest.Invite // §6: an invitation goes to the address
	}
	if t.External && !t.Contacts {
		return msgrequest.Request // §5: an external target that never accepted
	}
	return msgrequest.Join
}

func TestAdmit_Exhaustive(t *testing.T) {
	for _, account := range []bool{false, true} {
		for _, external := range []bool{false, true} {
			for _, contacts := range []bool{false, true} {
				for _, v := range verdicts {
					tg := msgrequest.Target{Account: account, External: external, Contacts: contacts, Verdict: v}
					if got, w := msgrequest.Admit(tg), admitOracle(tg); got != w {
						t.Errorf("%+v (%s): got %s, want %s", tg, vname(v), got, w)
					}
				}
			}
		}
	}
}

func TestRehold_Exhaustive(t *testing.T) {
	for _, o := range allOthers() {
		for _, v := range verdicts {
			m := o.member(0)
			hold, changed := msgrequest.Rehold(&m, v)
			// §4: a held request is delivered once its refusal is lifted,
			// and held while an account-level rule refuses it; a refused
			// one stays as it is (the chat turns read-only instead).
			wantHold, wantChanged := o.held, false
			if o.state == msgrequest.Pending && o.account && o.from != "" && v.Outcome != policy.Refused {
				wantHold = v.Outcome == policy.Held
				wantChanged = wantHold != o.held
			}
			if hold != wantHold || changed != wantChanged {
				t.Errorf("%v, %s: got hold=%v changed=%v, want %v %v", o, vname(v), hold, changed, wantHold, wantChanged)
			}
		}
	}
}

func TestReopenAndTakeUp_Exhaustive(t *testing.T) {
	for _, v := range verdicts {
		wantReopen := msgrequest.NotRefused
		if v.Outcome == policy.Refused && v.Answered {
			wantReopen = msgrequest.Unavailable // §5: a decline or block holds
		}
		if got := msgrequest.Reopen(v); got != wantReopen {
			t.Errorf("Reopen(%s) = %s, want %s", vname(v), got, wantReopen)
		}
		for _, st := range states {
			for _, held := range []bool{false, true} {
				join, fromNow := msgrequest.TakeUp(st, held, v)
				wantJoin := v.Outcome != policy.Refused
				wantFromNow := wantJoin && (held || st == msgrequest.Declined)
				if join != wantJoin || fromNow != wantFromNow {
					t.Errorf("TakeUp(%s, %v, %s) = %v %v, want %v %v", st, held, vname(v), join, fromNow, wantJoin, wantFromNow)
				}
			}
		}
	}
}

func TestViews_Exhaustive(t *testing.T) {
	for _, st := range append(states, "") {
		for _, held := range []bool{false, true} {
			// §4: a held request is silent; §5: a declined request
			// disappears; until accepted the target sees previews.
			want := msgrequest.Full
			switch {
			case held, st == msgrequest.Declined, st == "":
				want = msgrequest.Hidden
			case st == msgrequest.Pending:
				want = msgrequest.PreviewForm
			}
			if got := msgrequest.MessageForm(st, held); got != want {
				t.Errorf("MessageForm(%q, %v) = %s, want %s", st, held, got, want)
			}
			if got := msgrequest.SeesChat(st, held); got != (want != msgrequest.Hidden) {
				t.Errorf("SeesChat(%q, %v) = %v", st, held, got)
			}
			for _, account := range []bool{false, true} {
				wantArr := msgrequest.Silent
				if account && !held {
					switch st {
					case msgrequest.Accepted:
						wantArr = msgrequest.ChatArrives
					case msgrequest.Pending:
						wantArr = msgrequest.RequestArrives
					}
				}
				if got := msgrequest.ArrivalOf(st, held, account); got != wantArr {
					t.Errorf("ArrivalOf(%q, %v, %v) = %d, want %d", st, held, account, got, wantArr)
				}
			}
		}
		for _, to := range states {
			// §5: no read receipts, no typing while pending.
			want := st == msgrequest.Accepted && to == msgrequest.Accepted
			if got := msgrequest.SharesPresence(st, to); got != want {
				t.Errorf("SharesPresence(%q, %q) = %v", st, to, got)
			}
		}
		if got := msgrequest.MayChange(st); got != (st == msgrequest.Accepted) {
			t.Errorf("MayChange(%q) = %v", st, got)
		}
		for _, account := range []bool{false, true} {
			// §5: a pending target learns nothing of the members.
			if got := msgrequest.HearsMembers(st, account); got != (account && st == msgrequest.Accepted) {
				t.Errorf("HearsMembers(%q, %v) = %v", st, account, got)
			}
		}
	}
}

func TestDecideAnswer_Exhaustive(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for a := msgrequest.Answer(0); a <= msgrequest.ReportSpam+1; a++ {
		got, ok := msgrequest.DecideAnswer(a, now)
		var want msgrequest.Answered
		wantOK := true
		switch a {
		case msgrequest.Accept:
			want = msgrequest.Answered{State: msgrequest.Accepted, TellSender: true}
		case msgrequest.Decline:
			want = msgrequest.Answered{State: msgrequest.Declined, DeclinedUntil: now.AddDate(0, 0, 30)}
		case msgrequest.Block:
			want = msgrequest.Answered{State: msgrequest.Declined, DeclinedUntil: now.AddDate(0, 0, 30), Block: policy.VisibleBlock}
		case msgrequest.ReportSpam:
			want = msgrequest.Answered{State: msgrequest.Declined, DeclinedUntil: now.AddDate(0, 0, 30), Block: policy.VisibleBlock, Report: true}
		default:
			wantOK = false
		}
		if got != want || ok != wantOK {
			t.Errorf("DecideAnswer(%s) = %+v %v, want %+v %v", a, got, ok, want, wantOK)
		}
	}
}
