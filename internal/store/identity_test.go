package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/auth"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// TestTenantsAndUsers: tenants are found by id and by any of their domains
// (any case), a domain names one tenant, and a sign-in name one account of
// a kind in a tenant; users read back as written.
func TestTenantsAndUsers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		now := time.Date(2026, 3, 1, 9, 0, 0, 123000, time.UTC)
		tn := identity.Tenant{ID: identity.NewTenantID(), DisplayName: "Contoso", Domains: []string{"contoso.org", "contoso.com"}, CreatedAt: now}
		ada := identity.User{ID: identity.NewUserID(), TenantID: tn.ID, Kind: identity.Member, Role: identity.RoleAdmin, DisplayName: "Ada",
			UPN: "ada@contoso.com", Mail: "ada@contoso.com", Phone: "+14155550100", AllowChatsFromOrganizations: true, CreatedAt: now}
		if err := db.CreateTenant(ctx, tn, ada, "hash-a"); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindTenantByID(ctx, tn.ID)
		if err != nil || got.DisplayName != "Contoso" || !slices.Equal(got.Domains, []string{"contoso.com", "contoso.org"}) || !got.CreatedAt.Equal(now) {
			t.Errorf("FindTenantByID: %+v, %v", got, err)
		}
		if got, err := db.FindTenantByDomain(ctx, "CONTOSO.org"); err != nil || got.ID != tn.ID {
			t.Errorf("FindTenantByDomain: %+v, %v", got, err)
		}
		if _, err := db.FindTenantByDomain(ctx, "fabrikam.com"); !errcode.Is(err, errcode.NotFound) {
			t.Errorf("an unknown domain: %v, want notFound", err)
		}
		if _, err := db.FindTenantByID(ctx, "nope"); !errcode.Is(err, errcode.NotFound) {
			t.Errorf("an unknown tenant: %v, want notFound", err)
		}
		other := identity.Tenant{ID: identity.NewTenantID(), DisplayName: "Copycat", Domains: []string{"copycat.com", "contoso.com"}, CreatedAt: now}
		cat := identity.User{ID: identity.NewUserID(), TenantID: other.ID, Kind: identity.Member, Role: identity.RoleAdmin, DisplayName: "Cat", UPN: "cat@copycat.com", CreatedAt: now}
		if err := db.CreateTenant(ctx, other, cat, "h"); !errcode.Is(err, errcode.DomainTaken) {
			t.Fatalf("a taken domain: %v, want domainTaken", err)
		}
		if n, err := db.CountTenants(ctx); err != nil || n != 1 {
			t.Errorf("CountTenants after the refusal: %d, %v; want 1 (nothing of it stored)", n, err)
		}

		u, err := db.FindUserByID(ctx, ada.ID)
		if err != nil || u != ada {
			t.Errorf("FindUserByID: %+v, %v; want %+v", u, err, ada)
		}
		dup := ada
		dup.ID = identity.NewUserID()
		if err := db.CreateUser(ctx, dup, "h"); !errcode.Is(err, errcode.Conflict) {
			t.Errorf("the same sign-in name twice in a tenant: %v, want conflict", err)
		}
		pat := identity.User{ID: identity.NewUserID(), Kind: identity.Personal, Role: identity.RoleMember, DisplayName: "Pat", UPN: "ada@contoso.com", Mail: "ada@contoso.com", CreatedAt: now.Add(time.Second)}
		if err := db.CreateUser(ctx, pat, "hash-p"); err != nil {
			t.Fatalf("a personal account (no tenant) with a member's sign-in name: %v", err)
		}
		creds, err := db.FindCredentials(ctx, "ada@contoso.com")
		if err != nil || len(creds) != 2 || creds[0] != (auth.Credential{UserID: ada.ID, PasswordHash: "hash-a"}) || creds[1].UserID != pat.ID {
			t.Errorf("FindCredentials: %+v, %v; want the member first, then the personal account", creds, err)
		}
		byAddr, err := db.FindUsersByAddress(ctx, "+14155550100")
		if err != nil || len(byAddr) != 1 || byAddr[0].ID != ada.ID {
			t.Errorf("FindUsersByAddress(phone): %+v, %v", byAddr, err)
		}
		if err := db.SetAllowChatsFromOrganizations(ctx, pat.ID, false); err != nil {
			t.Fatal(err)
		}
		if u, err := db.FindUserByID(ctx, pat.ID); err != nil || u.AllowChatsFromOrganizations {
			t.Errorf("after switching off: %+v, %v", u, err)
		}
	})
}

// TestTokensAndSettings: a token is found by its hash until deleted;
// settings are read back, replaced, and deleted by an empty value.
func TestTokensAndSettings(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		users := mustTenantUsers(t, db, "contoso.com", 1)
		_, hash := auth.NewToken()
		exp := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		if err := db.CreateToken(ctx, hash, users[0].ID, exp); err != nil {
			t.Fatal(err)
		}
		uid, got, err := db.FindToken(ctx, hash)
		if err != nil || uid != users[0].ID || !got.Equal(exp) {
			t.Errorf("FindToken: %s %v %v", uid, got, err)
		}
		if err := db.DeleteToken(ctx, hash); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.FindToken(ctx, hash); !errcode.Is(err, errcode.NotFound) {
			t.Errorf("a deleted token: %v, want notFound", err)
		}
		if err := db.DeleteToken(ctx, hash); err != nil {
			t.Errorf("deleting an unknown token: %v", err)
		}

		if _, err := db.GetSetting(ctx, "k"); !errcode.Is(err, errcode.NotFound) {
			t.Errorf("an unset setting: %v, want notFound", err)
		}
		for _, v := range []string{"one", "two"} {
			if err := db.SetSetting(ctx, "k", v); err != nil {
				t.Fatal(err)
			}
			if got, err := db.GetSetting(ctx, "k"); err != nil || got != v {
				t.Errorf("GetSetting: %q, %v; want %q", got, err, v)
			}
		}
		if err := db.SetSetting(ctx, "k", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := db.GetSetting(ctx, "k"); !errcode.Is(err, errcode.NotFound) {
			t.Errorf("a setting set empty: %v, want notFound", err)
		}
	})
}
