package store_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/policy"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// TestSettingsStore: a tenant reads the defaults until its admin saves,
// then exactly what was saved, domain lists included; tenants are apart.
func TestSettingsStore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustTenantUsers(t, db, "contoso.com", 1)[0].TenantID
		b := mustTenantUsers(t, db, "fabrikam.com", 1)[0].TenantID
		if s, err := db.FindSettings(ctx, a); err != nil || !cmp.Equal(s, policy.DefaultSettings()) {
			t.Errorf("before any save: %+v, %v; want the defaults", s, err)
		}
		want := policy.Settings{AllowTeamsConsumer: true, AllowedDomains: []string{"fabrikam.com", "northwind.com"}, BlockedDomains: []string{"spam.example"}}
		for range 2 { // saving again replaces
			if err := db.SaveSettings(ctx, a, want); err != nil {
				t.Fatal(err)
			}
		}
		if s, err := db.FindSettings(ctx, a); err != nil || !cmp.Equal(s, want) {
			t.Errorf("after a save: %+v, %v; want %+v", s, err, want)
		}
		if s, err := db.FindSettings(ctx, b); err != nil || !cmp.Equal(s, policy.DefaultSettings()) {
			t.Errorf("another tenant: %+v, %v; want the defaults", s, err)
		}
	})
}

// TestPoliciesStore: Global is always listed first (the default until
// saved), names are unique per tenant, a granted policy is not deleted
// unless its users are moved to Global, and a grant names members of the
// tenant only.
func TestPoliciesStore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		users := mustTenantUsers(t, db, "contoso.com", 3)
		outsider := mustTenantUsers(t, db, "fabrikam.com", 1)[0]
		tn := users[0].TenantID
		names := func() []string {
			ps, err := db.FindPolicies(ctx, tn)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, p := range ps {
				out = append(out, p.Name)
			}
			return out
		}
		if got := names(); !cmp.Equal(got, []string{"Global"}) {
			t.Errorf("a new tenant's policies: %v", got)
		}
		if p, err := db.FindPolicy(ctx, tn, "Global"); err != nil || p != policy.GlobalDefault() {
			t.Errorf("Global before a save: %+v, %v", p, err)
		}
		partners := policy.Policy{Name: "Partners", EnableFederationAccess: true}
		for _, p := range []policy.Policy{partners, {Name: "Alpha"}} {
			if err := db.SavePolicy(ctx, tn, p, true); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range []string{"Partners", "Global"} {
			if err := db.SavePolicy(ctx, tn, policy.Policy{Name: name}, true); !errcode.Is(err, errcode.Conflict) {
				t.Errorf("create %s again: %v, want conflict", name, err)
			}
		}
		global := policy.Policy{Name: "Global", EnableTeamsConsumerAccess: true}
		if err := db.SavePolicy(ctx, tn, global, false); err != nil {
			t.Fatal(err)
		}
		if got := names(); !cmp.Equal(got, []string{"Global", "Alpha", "Partners"}) {
			t.Errorf("policies: %v, want Global first, then by name", got)
		}
		if p, err := db.FindPolicy(ctx, tn, "Global"); err != nil || p != global {
			t.Errorf("Global after a save: %+v, %v", p, err)
		}
		if _, err := db.FindPolicy(ctx, outsider.TenantID, "Partners"); !errcode.Is(err, errcode.NotFound) {
			t.Errorf("another tenant's policy: %v, want notFound", err)
		}

		if err := db.GrantPolicy(ctx, tn, "Partners", []identity.UserID{users[1].ID, users[2].ID}); err != nil {
			t.Fatal(err)
		}
		if err := db.GrantPolicy(ctx, tn, "Partners", []identity.UserID{outsider.ID}); !errcode.Is(err, errcode.NotFound) {
			t.Errorf("a grant to another tenant's member: %v, want notFound", err)
		}
		if got, err := db.FindGrant(ctx, users[1].ID); err != nil || got != "Partners" {
			t.Errorf("FindGrant: %q, %v", got, err)
		}
		if got, err := db.FindGrant(ctx, users[0].ID); err != nil || got != "Global" {
			t.Errorf("FindGrant without a grant: %q, %v; want Global", got, err)
		}
		if err := db.GrantPolicy(ctx, tn, "Global", []identity.UserID{users[2].ID}); err != nil {
			t.Fatal(err)
		}
		grants, err := db.FindGrants(ctx, tn)
		if err != nil || !cmp.Equal(grants, map[identity.UserID]string{users[1].ID: "Partners"}) {
			t.Errorf("FindGrants: %v, %v", grants, err)
		}
		if _, err := db.DeletePolicy(ctx, tn, "Partners", false); !errcode.Is(err, errcode.PolicyInUse) {
			t.Errorf("delete a granted policy: %v, want policyInUse", err)
		}
		if n, err := db.DeletePolicy(ctx, tn, "Partners", true); err != nil || n != 1 {
			t.Errorf("delete with resetUsers: %d, %v; want 1 user moved", n, err)
		}
		if got, err := db.FindGrant(ctx, users[1].ID); err != nil || got != "Global" {
			t.Errorf("after the delete: %q, %v; want Global", got, err)
		}
		if _, err := db.DeletePolicy(ctx, tn, "Partners", true); !errcode.Is(err, errcode.NotFound) {
			t.Errorf("delete again: %v, want notFound", err)
		}
	})
}

// TestBlocksStore: a block is silent or visible, replaced by a later one,
// removed by NoBlock, and listed per blocker.
func TestBlocksStore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		u := mustTenantUsers(t, db, "contoso.com", 3)
		at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		steps := []struct {
			blocked identity.UserID
			b       policy.Block
		}{{u[1].ID, policy.SilentBlock}, {u[2].ID, policy.VisibleBlock}, {u[1].ID, policy.VisibleBlock}, {u[2].ID, policy.NoBlock}}
		for _, s := range steps {
			if err := db.SaveBlock(ctx, u[0].ID, s.blocked, s.b, at); err != nil {
				t.Fatal(err)
			}
			if got, err := db.FindBlock(ctx, u[0].ID, s.blocked); err != nil || got != s.b {
				t.Errorf("after saving %v: FindBlock %v, %v", s.b, got, err)
			}
		}
		got, err := db.FindBlocked(ctx, u[0].ID)
		if err != nil || !cmp.Equal(got, map[identity.UserID]policy.Block{u[1].ID: policy.VisibleBlock}) {
			t.Errorf("FindBlocked: %v, %v", got, err)
		}
		if has, err := db.HasBlocked(ctx, u[1].ID, u[0].ID); err != nil || has {
			t.Errorf("a block is one-way: %v, %v", has, err)
		}
		if until, err := db.DeclinedUntil(ctx, u[0].ID, u[1].ID); err != nil || !until.IsZero() {
			t.Errorf("DeclinedUntil without a decline: %v, %v", until, err)
		}
		if ok, err := db.AreContacts(ctx, u[0].ID, u[1].ID); err != nil || ok {
			t.Errorf("AreContacts without an accept: %v, %v", ok, err)
		}
	})
}
