package identity_test

import (
	"testing"

	"github.com/parleychat/parley/internal/identity"
)

// TestExternalTo checks "is external to" (docs/rules.md §1) for every pair
// of account kinds against the rule as written: nobody is external to
// themselves; an anonymous participant is external to everyone else; a
// personal account is external to everyone else; otherwise two people are
// external exactly when their tenants differ.
func TestExternalTo(t *testing.T) {
	people := []identity.User{
		{ID: "m1", TenantID: "t1", Kind: identity.Member},
		{ID: "a1", TenantID: "t1", Kind: identity.Member, Role: identity.RoleAdmin},
		{ID: "g1", TenantID: "t1", Kind: identity.Guest},
		{ID: "m2", TenantID: "t2", Kind: identity.Member},
		{ID: "g2", TenantID: "t2", Kind: identity.Guest},
		{ID: "p1", Kind: identity.Personal},
		{ID: "p2", Kind: identity.Personal},
		{ID: "x1", TenantID: "t1", Kind: identity.Anonymous},
	}
	oracle := func(u, v identity.User) bool {
		switch {
		case u.ID == v.ID:
			return false
		case u.Kind == identity.Anonymous || v.Kind == identity.Anonymous:
			return true
		case u.Kind == identity.Personal || v.Kind == identity.Personal:
			return true
		default:
			return u.TenantID != v.TenantID
		}
	}
	for _, u := range people {
		for _, v := range people {
			if got, want := u.ExternalTo(&v), oracle(u, v); got != want {
				t.Errorf("%s.ExternalTo(%s) = %v, want %v", u.ID, v.ID, got, want)
			}
			if u.ExternalTo(&v) != v.ExternalTo(&u) {
				t.Errorf("ExternalTo is not symmetric for %s and %s", u.ID, v.ID)
			}
		}
	}
}

// TestIdentityType: how a user shows to a viewer (Graph's userIdentityType).
func TestIdentityType(t *testing.T) {
	member1 := identity.User{ID: "m1", TenantID: "t1", Kind: identity.Member}
	guest1 := identity.User{ID: "g1", TenantID: "t1", Kind: identity.Guest}
	member2 := identity.User{ID: "m2", TenantID: "t2", Kind: identity.Member}
	personal := identity.User{ID: "p1", Kind: identity.Personal}
	anon := identity.User{ID: "x1", TenantID: "t1", Kind: identity.Anonymous}
	tests := []struct {
		u, viewer *identity.User
		want      string
	}{
		{&member1, &member1, "aadUser"},
		{&member1, &guest1, "aadUser"},
		{&guest1, &member1, "aadUser"},
		{&member2, &member1, "federatedUser"},
		{&member1, &member2, "federatedUser"},
		{&member1, &personal, "federatedUser"},
		{&personal, &member1, "personalMicrosoftAccountUser"},
		{&personal, &personal, "personalMicrosoftAccountUser"},
		{&anon, &member1, "anonymousGuest"},
		{&member1, nil, "aadUser"},
	}
	for _, tc := range tests {
		if got := tc.u.IdentityType(tc.viewer); got != tc.want {
			vid := identity.UserID("nil")
			if tc.viewer != nil {
				vid = tc.viewer.ID
			}
			t.Errorf("%s seen by %s: %q, want %q", tc.u.ID, vid, got, tc.want)
		}
	}
}

func TestNormalizeDomain(t *testing.T) {
	tests := []struct {
		in, want string // want "" = refused
	}{
		{"contoso.com", "contoso.com"},
		{"  Contoso.COM ", "contoso.com"},
		{"a-b.example.org", "a-b.example.org"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"localhost", ""},
		{"a.b", "a.b"},
		{".contoso.com", ""},
		{"contoso.com.", ""},
		{"contoso..com", ""},
		{"-contoso.com", ""},
		{"contoso-.com", ""},
		{"con_toso.com", ""},
		{"bücher.example", ""},
		{"x.", ""},
		{"", ""},
	}
	for _, tc := range tests {
		got, err := identity.NormalizeDomain(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("NormalizeDomain(%q) = %q, want a refusal", tc.in, got)
		case tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestDomainAndIsAdmin(t *testing.T) {
	tests := []struct {
		u       identity.User
		domain  string
		isAdmin bool
	}{
		{identity.User{UPN: "ada@Contoso.com", Mail: "ada@Contoso.com", Kind: identity.Member, Role: identity.RoleAdmin}, "contoso.com", true},
		{identity.User{UPN: "bob@contoso.com", Kind: identity.Member, Role: identity.RoleMember}, "contoso.com", false},
		{identity.User{UPN: "gus@example.org", Mail: "gus@example.org", Kind: identity.Guest, Role: identity.RoleAdmin}, "example.org", false},
		{identity.User{UPN: "+14155550100", Kind: identity.Personal}, "", false},
	}
	for _, tc := range tests {
		if got := tc.u.Domain(); got != tc.domain {
			t.Errorf("%s: Domain() = %q, want %q", tc.u.UPN, got, tc.domain)
		}
		if got := tc.u.IsAdmin(); got != tc.isAdmin {
			t.Errorf("%s: IsAdmin() = %v, want %v", tc.u.UPN, got, tc.isAdmin)
		}
	}
	if a, b := identity.NewUserID(), identity.NewUserID(); a == b || a == "" {
		t.Errorf("NewUserID gave %q and %q", a, b)
	}
}
