package msgrequest_test

import (
	"testing"
	"time"

	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
	"github.com/parleychat/parley/internal/policy"
)

// The named cases of docs/rules.md §4–§5 that matter most, each on its
// own; the exhaustive tests cover the rest.

var (
	alice = identity.User{ID: "alice", TenantID: "contoso", Kind: identity.Member}
	pat   = identity.User{ID: "pat", Kind: identity.Personal}
)

// request is a 1:1 external chat of alice with pat, pat's request pending.
func request(v msgrequest.Verdict, held bool) msgrequest.Facts {
	return msgrequest.Facts{Sender: alice.ID, OneOnOne: true, External: true, Members: []msgrequest.Member{
		{User: alice.ID, Party: msgrequest.BlameOf(&alice), State: msgrequest.Accepted},
		{User: pat.ID, Party: msgrequest.BlameOf(&pat), State: msgrequest.Pending, Held: held, RequestFrom: alice.ID, Request: v},
	}}
}

var (
	allowed    = msgrequest.Verdict{Outcome: policy.Allowed}
	heldV      = msgrequest.Verdict{Outcome: policy.Held, Side: policy.OtherSide}
	ownRefusal = msgrequest.Verdict{Outcome: policy.Refused, Side: policy.OwnSide}
	orgRefusal = msgrequest.Verdict{Outcome: policy.Refused, Side: policy.OtherSide}
	declined   = msgrequest.Verdict{Outcome: policy.Refused, Side: policy.OtherSide, Answered: true}
)

func TestCapAndPreviewCount(t *testing.T) {
	// docs/rules.md §5: at most 10 messages while pending; the request
	// shows previews of them. Two names, two meanings.
	if msgrequest.PendingCap != 10 {
		t.Errorf("PendingCap = %d, want 10", msgrequest.PendingCap)
	}
	if msgrequest.PreviewCount < 1 {
		t.Errorf("PreviewCount = %d, want at least one message", msgrequest.PreviewCount)
	}
	if msgrequest.DeclineCoolDown != 30*24*time.Hour {
		t.Errorf("DeclineCoolDown = %v, want 30 days", msgrequest.DeclineCoolDown)
	}
}

func TestSend_PendingRequestIsCapped(t *testing.T) {
	f := request(allowed, false)
	d, changes := msgrequest.DecideSend(&f, nil)
	if d.Refusal != msgrequest.NotRefused || d.Cap != msgrequest.PendingCap || len(changes) != 0 {
		t.Fatalf("got %+v %v, want allowed, capped at %d, no change", d, changes, msgrequest.PendingCap)
	}
}

func TestSend_AcceptedChatIsNotCapped(t *testing.T) {
	f := request(allowed, false)
	f.Members[1].State = msgrequest.Accepted
	if d, _ := msgrequest.DecideSend(&f, nil); d.Refusal != msgrequest.NotRefused || d.Cap != 0 {
		t.Fatalf("got %+v, want allowed without a cap", d)
	}
}

func TestSend_TargetMustAcceptBeforeReplying(t *testing.T) {
	f := request(allowed, false)
	f.Sender = pat.ID
	if d, _ := msgrequest.DecideSend(&f, nil); d.Refusal != msgrequest.NotAccepted {
		t.Fatalf("got %+v, want notAccepted", d)
	}
}

func TestSend_SilentRefusalHoldsTheRequest(t *testing.T) {
	// docs/rules.md §4 rule of silence: the sender sees no difference; the
	// message is accepted (and counts toward the cap) and nothing reaches
	// the target.
	f := request(heldV, false)
	d, changes := msgrequest.DecideSend(&f, nil)
	if d.Refusal != msgrequest.NotRefused || d.Cap != msgrequest.PendingCap {
		t.Fatalf("got %+v, want allowed and capped", d)
	}
	if len(changes) != 1 || changes[0] != (msgrequest.Change{Index: 1, Hold: true}) {
		t.Fatalf("changes %v, want the request held", changes)
	}
	// Already held: nothing more to store.
	f = request(heldV, true)
	if _, changes := msgrequest.DecideSend(&f, nil); len(changes) != 0 {
		t.Fatalf("changes %v, want none", changes)
	}
}

func TestSend_LiftedRefusalReleasesTheRequest(t *testing.T) {
	f := request(allowed, true)
	_, changes := msgrequest.DecideSend(&f, nil)
	if len(changes) != 1 || changes[0] != (msgrequest.Change{Index: 1}) {
		t.Fatalf("changes %v, want the request released", changes)
	}
}

func TestSend_AddressIsNeverHeldOrReleased(t *testing.T) {
	// A member known only by the typed address has no account to hold.
	f := request(heldV, false)
	f.Members[1].User, f.Members[1].Party = "", msgrequest.DomainBlame("fabrikam.com")
	if d, changes := msgrequest.DecideSend(&f, nil); d.Cap != msgrequest.PendingCap || len(changes) != 0 {
		t.Fatalf("got %+v %v, want capped and no change", d, changes)
	}
}

func TestSend_DeclineIsRecipientUnavailable(t *testing.T) {
	// docs/rules.md §5: after a decline or a block on the request, further
	// sends fail with recipientUnavailable, never naming a setting.
	f := request(declined, false)
	if d, _ := msgrequest.DecideSend(&f, nil); d.Refusal != msgrequest.Unavailable {
		t.Fatalf("got %+v, want unavailable", d)
	}
	f = request(allowed, false)
	f.Members[1].State = msgrequest.Declined
	if d, _ := msgrequest.DecideSend(&f, nil); d.Refusal != msgrequest.Unavailable {
		t.Fatalf("declined member: got %+v, want unavailable", d)
	}
	// In a group a declined member does not stop the others' chat.
	f.OneOnOne = false
	if d, _ := msgrequest.DecideSend(&f, nil); d.Refusal != msgrequest.NotRefused {
		t.Fatalf("group: got %+v, want allowed", d)
	}
}

func TestSend_SettingRefusalIsReadOnlyAndSaysWhose(t *testing.T) {
	f := request(ownRefusal, false)
	d, _ := msgrequest.DecideSend(&f, nil)
	if d.Refusal != msgrequest.ReadOnly || !d.Blame.Own(&alice) {
		t.Fatalf("own side: got %+v, want read-only by alice's organisation", d)
	}
	f = request(orgRefusal, false)
	d, _ = msgrequest.DecideSend(&f, nil)
	if d.Refusal != msgrequest.ReadOnly || d.Blame.Own(&alice) || !d.Blame.Own(&pat) {
		t.Fatalf("other side: got %+v, want read-only by pat's side", d)
	}
}

func TestSend_PairThatMayNotTalkMakesTheChatReadOnly(t *testing.T) {
	f := request(allowed, false)
	f.Members[1].State = msgrequest.Accepted
	f.Talk = msgrequest.Pair{Verdict: ownRefusal, P: msgrequest.BlameOf(&alice), Q: msgrequest.BlameOf(&pat)}
	if d, _ := msgrequest.DecideSend(&f, nil); d.Refusal != msgrequest.ReadOnly || d.Blame != msgrequest.BlameOf(&alice) {
		t.Fatalf("got %+v, want read-only by alice's organisation", d)
	}
	// A held pair (an account-level rule between accepted members) names
	// the other side: both accepted, so it is no news to either.
	f.Talk.Verdict = heldV
	if d, _ := msgrequest.DecideSend(&f, nil); d.Refusal != msgrequest.ReadOnly || d.Blame != msgrequest.BlameOf(&pat) {
		t.Fatalf("held pair: got %+v, want read-only by pat", d)
	}
	// A block on a request in a 1:1 chat is the recipient's answer.
	f.Talk.Verdict = declined
	if d, _ := msgrequest.DecideSend(&f, nil); d.Refusal != msgrequest.Unavailable {
		t.Fatalf("answered pair: got %+v, want unavailable", d)
	}
}

func TestSend_InternalChatIsNotDecided(t *testing.T) {
	f := request(ownRefusal, false)
	f.External = false
	if d, _ := msgrequest.DecideSend(&f, nil); d != (msgrequest.Send{}) {
		t.Fatalf("got %+v, want allowed", d)
	}
}

func TestReadOnlyBy_AnswerIsNotASetting(t *testing.T) {
	// The recipient's decline makes no chat read-only: the sender is told
	// at their next send, and no one else.
	f := request(declined, false)
	f.Sender = ""
	if b := msgrequest.ReadOnlyBy(&f); !b.IsZero() {
		t.Fatalf("got %+v, want writable", b)
	}
	f = request(heldV, false)
	f.Sender = ""
	if b := msgrequest.ReadOnlyBy(&f); !b.IsZero() {
		t.Fatalf("held: got %+v, want writable (silence)", b)
	}
	f = request(orgRefusal, false)
	f.Sender = ""
	if b := msgrequest.ReadOnlyBy(&f); b != msgrequest.BlameOf(&pat) {
		t.Fatalf("refused: got %+v, want pat's side", b)
	}
}

func TestBlame_Own(t *testing.T) {
	bob := identity.User{ID: "bob", TenantID: "contoso", Kind: identity.Member}
	erin := identity.User{ID: "erin", TenantID: "fabrikam", Kind: identity.Member}
	org := msgrequest.BlameOf(&alice)
	for _, c := range []struct {
		b      msgrequest.Blame
		viewer *identity.User
		want   bool
	}{
		{org, &alice, true}, {org, &bob, true}, {org, &erin, false}, {org, &pat, false},
		{msgrequest.BlameOf(&pat), &pat, true}, {msgrequest.BlameOf(&pat), &alice, false},
		{msgrequest.DomainBlame("contoso.com"), &alice, false},
		{msgrequest.Blame{}, &alice, false}, {msgrequest.Blame{}, &pat, false},
	} {
		if got := c.b.Own(c.viewer); got != c.want {
			t.Errorf("%+v.Own(%s) = %v, want %v", c.b, c.viewer.ID, got, c.want)
		}
	}
}

func TestBlame_StoredForm(t *testing.T) {
	// The stored form is the one chats were always stored with, so a
	// stored read-only state reads back the same.
	for _, c := range []struct {
		b    msgrequest.Blame
		text string
	}{
		{msgrequest.Blame{}, ""},
		{msgrequest.BlameOf(&alice), "contoso"},
		{msgrequest.BlameOf(&pat), "personal:pat"},
		{msgrequest.DomainBlame("fabrikam.com"), "domain:fabrikam.com"},
		{msgrequest.DomainBlame(""), "domain:"},
	} {
		if got := c.b.String(); got != c.text {
			t.Errorf("%+v.String() = %q, want %q", c.b, got, c.text)
		}
		if got := msgrequest.ParseBlame(c.text); got != c.b {
			t.Errorf("ParseBlame(%q) = %+v, want %+v", c.text, got, c.b)
		}
	}
}

// TestVerdictOf reads real policy decisions: the recipient's answer wins
// over the side of the deciding rule.
func TestVerdictOf(t *testing.T) {
	settings := policy.DefaultSettings()
	pol := policy.GlobalDefault()
	x := &policy.Party{Kind: policy.Member, TenantID: "contoso", Domain: "contoso.com", Settings: &settings, Policy: &pol}
	p := &policy.Party{Kind: policy.Personal, Domain: "mail.example", AllowChatsFromOrganizations: true}
	for _, c := range []struct {
		name string
		d    policy.Decision
		want msgrequest.Verdict
	}{
		{"allowed", policy.MayStart(x, p, policy.Relation{}), msgrequest.Verdict{Outcome: policy.Allowed}},
		{"declined", policy.MayStart(x, p, policy.Relation{Declined: true}), msgrequest.Verdict{Outcome: policy.Refused, Side: policy.OtherSide, Answered: true}},
		{"blocked on a request", policy.MayStart(x, p, policy.Relation{TargetBlocked: policy.VisibleBlock}), msgrequest.Verdict{Outcome: policy.Refused, Side: policy.OtherSide, Answered: true}},
		{"blocked from the list", policy.MayStart(x, p, policy.Relation{TargetBlocked: policy.SilentBlock}), msgrequest.Verdict{Outcome: policy.Held, Side: policy.OtherSide}},
		{"own block and a decline", policy.MayStart(x, p, policy.Relation{InitiatorBlocked: policy.SilentBlock, Declined: true}), msgrequest.Verdict{Outcome: policy.Refused, Side: policy.OwnSide, Answered: true}},
		{"own block", policy.MayStart(x, p, policy.Relation{InitiatorBlocked: policy.SilentBlock}), msgrequest.Verdict{Outcome: policy.Refused, Side: policy.OwnSide}},
	} {
		if got := msgrequest.VerdictOf(&c.d); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestDecideSend_AllocatesNothing(t *testing.T) {
	f := request(allowed, false)
	var changes []msgrequest.Change
	if n := testing.AllocsPerRun(100, func() { _, changes = msgrequest.DecideSend(&f, changes[:0]) }); n != 0 {
		t.Fatalf("DecideSend allocates %v times, want 0", n)
	}
}

var sink msgrequest.Send

func BenchmarkDecideSend(b *testing.B) {
	f := request(allowed, false)
	b.ReportAllocs()
	for b.Loop() {
		sink, _ = msgrequest.DecideSend(&f, nil)
	}
}
