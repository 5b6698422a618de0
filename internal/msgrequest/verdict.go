package msgrequest

import "github.com/parleychat/parley/internal/policy"

// Verdict is a docs/rules.md §4 decision (policy.MayStart, MayTalk or
// StartAddress) reduced to what the request rules read. The zero Verdict
// allows.
type Verdict struct {
	// Outcome is the decision's outcome; zero counts as Allowed.
	Outcome policy.Outcome
	// Side is the side of the deciding rule (Refused: OwnSide for the
	// sender's own side (a), OtherSide for the other side (b), (c)).
	Side policy.Side
	// Answered: the recipient declined a request of this sender, or
	// blocked them on one (docs/rules.md §4 (c)), whether or not that rule
	// decided. Such a refusal answers recipientUnavailable, and it is the
	// recipient's answer, not a setting, so it makes no chat read-only.
	Answered bool
}

// VerdictOf reduces a policy decision. It allocates only when the refused
// decision consulted a custom policy (policy.Decision.Checks).
func VerdictOf(d *policy.Decision) Verdict {
	v := Verdict{Outcome: d.Outcome, Side: d.Side}
	if d.Outcome != policy.Refused {
		return v
	}
	for _, c := range d.Checks() {
		if !c.Value && c.Side == policy.OtherSide &&
			(c.Rule == policy.RuleDeclined || (c.Rule == policy.RuleBlock && c.Source == policy.SourceRequestBlock)) {
			v.Answered = true
			break
		}
	}
	return v
}

// Refused reports whether v refuses (and so is told to the sender in some
// form); a held request is not refused.
func (v Verdict) Refused() bool { return v.Outcome == policy.Refused }

// Allowed reports whether v allows without holding.
func (v Verdict) Allowed() bool { return v.Outcome != policy.Refused && v.Outcome != policy.Held }

// Held reports whether v holds the request silently (docs/rules.md §4 (d)).
func (v Verdict) Held() bool { return v.Outcome == policy.Held }

// settingRefusal reports whether v is a refusal by a setting (the
// sender's side, or the other side's organisation): what a read-only chat
// names. A recipient's answer is not a setting.
func (v Verdict) settingRefusal() bool { return v.Refused() && !v.Answered }
