package policy_test

import (
	"testing"

	"github.com/parleychat/parley/internal/policy"
)

// fedParties are two members of different tenants whose domain lists are
// non-empty and admit each other only after a full scan: the most work a
// decision does.
func fedParties() (i, t *policy.Party) {
	sx := policy.Settings{
		AllowTeamsConsumer: true, AllowTeamsConsumerInbound: true, AllowFederatedUsers: true,
		AllowedDomains: []string{"northwind.com", "adatum.com", "litware.com", "tailspin.com", "wingtip.com", "fabrikam.com"},
		BlockedDomains: []string{"evil.example", "spam.example", "phish.example"},
	}
	sy := policy.Settings{
		AllowTeamsConsumer: true, AllowTeamsConsumerInbound: true, AllowFederatedUsers: true, AllowAllKnownDomains: true,
		AllowedDomains: []string{"northwind.com"},
		BlockedDomains: []string{"evil.example", "spam.example", "phish.example", "bad.example", "worse.example"},
	}
	px, py := policy.GlobalDefault(), policy.GlobalDefault()
	py.Name = "Legal"
	i = &policy.Party{Kind: policy.Member, TenantID: "contoso", Domain: "contoso.com", Settings: &sx, Policy: &px}
	t = &policy.Party{Kind: policy.Member, TenantID: "fabrikam", Domain: "fabrikam.com", Settings: &sy, Policy: &py}
	return i, t
}

var sink policy.Decision

func BenchmarkMayStart(b *testing.B) {
	i, t := fedParties()
	if d := policy.MayStart(i, t, policy.Relation{}); !d.Allowed() {
		b.Fatalf("got %v, want allowed", d.Outcome)
	}
	b.ReportAllocs()
	for b.Loop() {
		sink = policy.MayStart(i, t, policy.Relation{})
	}
}

func BenchmarkMayTalk(b *testing.B) {
	i, t := fedParties()
	if d := policy.MayTalk(t, i, policy.Relation{}); !d.Allowed() {
		b.Fatalf("got %v, want allowed", d.Outcome)
	}
	b.ReportAllocs()
	for b.Loop() {
		sink = policy.MayTalk(t, i, policy.Relation{})
	}
}

func BenchmarkAdmits(b *testing.B) {
	i, _ := fedParties()
	b.ReportAllocs()
	for b.Loop() {
		if !policy.Admits(i.Settings, "FABRIKAM.com") {
			b.Fatal("got false, want true")
		}
	}
}

// TestMayStart_ZeroAllocs: deciding allocates nothing (docs/decisions.md "Tests": the
// decision is on every send), custom policy names included.
func TestMayStart_ZeroAllocs(t *testing.T) {
	i, tg := fedParties()
	custom := *i.Policy
	custom.Name = "Sales"
	ic := *i
	ic.Policy = &custom
	p := &policy.Party{Kind: policy.Personal, Domain: "outlook.com"}
	rel := policy.Relation{TargetBlocked: policy.SilentBlock}
	cases := []struct {
		name string
		f    func()
	}{
		{"MayStart federation", func() { sink = policy.MayStart(i, tg, policy.Relation{}) }},
		{"MayStart custom policy", func() { sink = policy.MayStart(&ic, tg, rel) }},
		{"MayStart personal to managed", func() { sink = policy.MayStart(p, tg, policy.Relation{}) }},
		{"MayStart managed to personal", func() { sink = policy.MayStart(&ic, p, rel) }},
		{"MayStart guest", func() { sink = policy.MayStart(tg, &policy.Party{Kind: policy.Guest, TenantID: "contoso"}, rel) }},
		{"MayMeet guest and outsider", func() {
			sink = policy.MayMeet(&policy.Party{Kind: policy.Guest, TenantID: "contoso"}, tg)
		}},
		{"MayMeet nil", func() { sink = policy.MayMeet(nil, tg) }},
		{"MayTalk federation", func() { sink = policy.MayTalk(tg, i, policy.Relation{}) }},
		{"MayTalk personal", func() { sink = policy.MayTalk(p, &ic, rel) }},
		{"Admits", func() { _ = policy.Admits(i.Settings, "FABRIKAM.COM") }},
		{"Checks with Global policies", func() {
			d := policy.MayStart(i, p, policy.Relation{})
			_ = d.Checks()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tc.f); got != 0 {
				t.Errorf("allocations: got %v, want 0", got)
			}
		})
	}
}
