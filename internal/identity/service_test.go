package identity_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/address"
	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/policy"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

const pw = "correct-horse-battery"

// audits records the Audit hook's calls.
type audits struct {
	mu  sync.Mutex
	got []string
}

func (a *audits) record(_ context.Context, tenant identity.TenantID, actor identity.UserID, action, target string, _ map[string]any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, fmt.Sprintf("%s %s %s", actor, action, target))
}

// newService is the identity service over a fresh store of d, with a fast
// stand-in for the password hash (auth's argon2id has tests of its own).
func newService(t *testing.T, d store.Dialect) (*identity.Service, *store.DB, *audits) {
	t.Helper()
	db := storetest.Open(t, d)
	a := &audits{}
	now := t0
	return &identity.Service{Store: db, Now: func() time.Time { now = now.Add(time.Second); return now },
		Hash:           func(_ context.Context, p string) (string, error) { return "test:" + p, nil },
		NormalizePhone: func(p string) (string, error) { a, err := address.ParsePhone(p, "US"); return a.Value, err },
		Audit:          a.record}, db, a
}

func account(name, upn string, kind identity.Kind) identity.NewAccount {
	return identity.NewAccount{DisplayName: name, UPN: upn, Password: pw, Kind: kind}
}

// TestCreateTenantRules: a tenant needs a name and 1 to 50 valid domains
// (kept lower-case, once each), its first admin signs in at one of them,
// and a domain names one organisation only (docs/rules.md §1).
func TestCreateTenantRules(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		ids, _, _ := newService(t, d)
		ctx := t.Context()
		tn, admin, err := ids.CreateTenant(ctx, identity.NewTenant{DisplayName: " Contoso ", Domains: []string{"Contoso.com", "contoso.com", "contoso.org"},
			Admin: account("Ada", "Ada@Contoso.com", "")})
		if err != nil {
			t.Fatalf("allowed: %v", err)
		}
		if tn.DisplayName != "Contoso" || !slices.Equal(tn.Domains, []string{"contoso.com", "contoso.org"}) {
			t.Errorf("tenant %q %v, want Contoso [contoso.com contoso.org]", tn.DisplayName, tn.Domains)
		}
		if admin.UPN != "ada@contoso.com" || !admin.IsAdmin() || admin.TenantID != tn.ID {
			t.Errorf("admin %+v, want an admin ada@contoso.com of the tenant", admin)
		}
		many := make([]string, 51)
		for i := range many {
			many[i] = fmt.Sprintf("d%d.example", i)
		}
		refused := []struct {
			name string
			nt   identity.NewTenant
			code errcode.Code
		}{
			{"no name", identity.NewTenant{DisplayName: " ", Domains: []string{"a.example"}, Admin: account("A", "a@a.example", "")}, errcode.BadRequest},
			{"no domain", identity.NewTenant{DisplayName: "A", Admin: account("A", "a@a.example", "")}, errcode.BadRequest},
			{"51 domains", identity.NewTenant{DisplayName: "A", Domains: many, Admin: account("A", "a@d0.example", "")}, errcode.BadRequest},
			{"bad domain", identity.NewTenant{DisplayName: "A", Domains: []string{"not a domain"}, Admin: account("A", "a@a.example", "")}, errcode.BadRequest},
			{"admin outside the domains", identity.NewTenant{DisplayName: "A", Domains: []string{"a.example"}, Admin: account("A", "a@b.example", "")}, errcode.BadRequest},
			{"admin without a name", identity.NewTenant{DisplayName: "A", Domains: []string{"a.example"}, Admin: account("", "a@a.example", "")}, errcode.BadRequest},
			{"domain of another tenant", identity.NewTenant{DisplayName: "B", Domains: []string{"b.example", "CONTOSO.org"}, Admin: account("B", "b@b.example", "")}, errcode.DomainTaken},
		}
		for _, tc := range refused {
			if _, _, err := ids.CreateTenant(ctx, tc.nt); !errcode.Is(err, tc.code) {
				t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
			}
		}
		ts, err := ids.Tenants(ctx)
		if err != nil || len(ts) != 1 {
			t.Fatalf("after the refusals: %d tenants (%v), want 1: a refusal stores nothing", len(ts), err)
		}
	})
}

// TestCreateUserRules: only an admin creates users; a member signs in at
// one of the tenant's domains, a guest outside them and outside every
// other organisation's (one address, one account); a phone number is kept
// in E.164; the creation is audited with the admin as actor.
func TestCreateUserRules(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		ids, _, au := newService(t, d)
		ctx := t.Context()
		_, admin, err := ids.CreateTenant(ctx, identity.NewTenant{DisplayName: "Contoso", Domains: []string{"contoso.com"}, Admin: account("Ada", "ada@contoso.com", "")})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := ids.CreateTenant(ctx, identity.NewTenant{DisplayName: "Fabrikam", Domains: []string{"fabrikam.com"}, Admin: account("Fi", "fi@fabrikam.com", "")}); err != nil {
			t.Fatal(err)
		}
		bob := account("Bob", "bob@contoso.com", identity.Member)
		bob.Phone = "(415) 555-0100"
		u, err := ids.CreateUser(ctx, &admin, bob)
		if err != nil {
			t.Fatalf("a member: %v", err)
		}
		if u.Phone != "+14155550100" || u.Kind != identity.Member || u.Role != identity.RoleMember || !u.AllowChatsFromOrganizations {
			t.Errorf("member %+v: want phone +14155550100, a plain member", u)
		}
		gus, err := ids.CreateUser(ctx, &admin, account("Gus", "gus@example.org", identity.Guest))
		if err != nil {
			t.Fatalf("a guest: %v", err)
		}
		if want := []string{
			fmt.Sprintf("%s user.created %s", admin.ID, u.ID),
			fmt.Sprintf("%s user.created %s", admin.ID, gus.ID),
		}; !slices.Equal(au.got, want) {
			t.Errorf("audit %q, want %q", au.got, want)
		}
		refused := []struct {
			name  string
			actor identity.User
			na    identity.NewAccount
			code  errcode.Code
		}{
			{"by a member", u, account("Cy", "cy@contoso.com", identity.Member), errcode.Forbidden},
			{"by a guest", gus, account("Cy", "cy@contoso.com", identity.Member), errcode.Forbidden},
			{"member outside the domains", admin, account("Cy", "cy@example.org", identity.Member), errcode.BadRequest},
			{"guest at an own domain", admin, account("Cy", "cy@contoso.com", identity.Guest), errcode.BadRequest},
			{"guest at another organisation's domain", admin, account("Erin", "erin@fabrikam.com", identity.Guest), errcode.Conflict},
			{"personal kind", admin, account("Pat", "pat@example.net", identity.Personal), errcode.BadRequest},
			{"not an address", admin, account("Cy", "cy", identity.Member), errcode.BadRequest},
			{"a name too long", admin, account(strings.Repeat("n", 257), "cy@contoso.com", identity.Member), errcode.BadRequest},
			{"the same sign-in name", admin, account("Bob 2", "BOB@contoso.com", identity.Member), errcode.Conflict},
		}
		for _, tc := range refused {
			if _, err := ids.CreateUser(ctx, &tc.actor, tc.na); !errcode.Is(err, tc.code) {
				t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
			}
		}
		if len(au.got) != 2 {
			t.Errorf("refusals were audited: %q", au.got)
		}
	})
}

// TestSeesAndVisible: a member sees its own organisation; a guest sees
// only itself and the people it shares a chat with; anyone sees the people
// they share an accepted chat with and those they blocked; a user one may
// not see answers exactly as one that does not exist.
func TestSeesAndVisible(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		ids, db, _ := newService(t, d)
		ctx := t.Context()
		tc, ada, err := ids.CreateTenant(ctx, identity.NewTenant{DisplayName: "Contoso", Domains: []string{"contoso.com"}, Admin: account("Ada", "ada@contoso.com", "")})
		if err != nil {
			t.Fatal(err)
		}
		_, fi, err := ids.CreateTenant(ctx, identity.NewTenant{DisplayName: "Fabrikam", Domains: []string{"fabrikam.com"}, Admin: account("Fi", "fi@fabrikam.com", "")})
		if err != nil {
			t.Fatal(err)
		}
		bob, err := ids.CreateUserInTenant(ctx, &tc, account("Bob", "bob@contoso.com", identity.Member))
		if err != nil {
			t.Fatal(err)
		}
		gus, err := ids.CreateUserInTenant(ctx, &tc, account("Gus", "gus@example.org", identity.Guest))
		if err != nil {
			t.Fatal(err)
		}
		sees := func(a, b identity.User) bool {
			t.Helper()
			ok, err := ids.Sees(ctx, &a, &b)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		check := func(when string, want map[[2]string]bool) {
			t.Helper()
			people := map[string]identity.User{"ada": ada, "bob": bob, "gus": gus, "fi": fi}
			for pair, w := range want {
				if got := sees(people[pair[0]], people[pair[1]]); got != w {
					t.Errorf("%s: %s sees %s = %v, want %v", when, pair[0], pair[1], got, w)
				}
			}
		}
		check("at first", map[[2]string]bool{
			{"ada", "bob"}: true, {"bob", "ada"}: true, {"ada", "gus"}: true, {"gus", "gus"}: true,
			{"gus", "ada"}: false, {"gus", "bob"}: false, {"ada", "fi"}: false, {"fi", "ada"}: false,
		})

		// Gus and Fi share an accepted chat with Bob.
		c := chat.Chat{ID: chat.NewID(), Type: chat.Group, TenantID: tc.ID, CreatedBy: bob.ID, CreatedAt: t0, UpdatedAt: t0, External: true}
		var ms []chat.Member
		for _, u := range []identity.User{bob, gus, fi} {
			ms = append(ms, chat.Member{ID: chat.NewMemberID(), ChatID: c.ID, UserID: u.ID, State: chat.Accepted, JoinedAt: t0, VisibleFrom: t0, AddedBy: bob.ID})
		}
		if _, err := db.CreateChat(ctx, c, ms, nil, nil); err != nil {
			t.Fatal(err)
		}
		// Ada blocked Fi.
		if err := db.SaveBlock(ctx, ada.ID, fi.ID, policy.SilentBlock, t0); err != nil {
			t.Fatal(err)
		}
		check("after a chat and a block", map[[2]string]bool{
			{"gus", "bob"}: true, {"bob", "fi"}: true, {"fi", "bob"}: true, {"fi", "gus"}: true,
			{"gus", "ada"}: false, {"ada", "fi"}: true, {"fi", "ada"}: false,
		})

		// Visible: one not seen and one that does not exist answer alike.
		_, hidden := ids.Visible(ctx, &gus, ada.ID)
		_, missing := ids.Visible(ctx, &gus, "0190e1e2-aaaa-7bbb-8ccc-000000000000")
		if !errcode.Is(hidden, errcode.NotFound) || !errcode.Is(missing, errcode.NotFound) ||
			strings.ReplaceAll(errcode.Message(hidden), string(ada.ID), "ID") != strings.ReplaceAll(errcode.Message(missing), "0190e1e2-aaaa-7bbb-8ccc-000000000000", "ID") {
			t.Errorf("hidden %v, missing %v: want the same notFound", hidden, missing)
		}
		if u, err := ids.Visible(ctx, &gus, bob.ID); err != nil || u.ID != bob.ID {
			t.Errorf("Visible(gus, bob) = %v, %v; want bob", u.ID, err)
		}
		if u, err := ids.Visible(ctx, &gus, gus.ID); err != nil || u.ID != gus.ID {
			t.Errorf("Visible(gus, gus) = %v, %v; want gus", u.ID, err)
		}
	})
}

// TestUsers: the user list pages oldest first with a cursor, clamps its
// page size, shows a guest only the people it shares a chat with (here:
// itself) and a personal account only itself.
func TestUsers(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		ids, _, _ := newService(t, d)
		ctx := t.Context()
		tc, ada, err := ids.CreateTenant(ctx, identity.NewTenant{DisplayName: "Contoso", Domains: []string{"contoso.com"}, Admin: account("Ada", "ada@contoso.com", "")})
		if err != nil {
			t.Fatal(err)
		}
		want := []identity.UserID{ada.ID}
		for _, n := range []string{"bob", "cy", "di", "ed"} {
			u, err := ids.CreateUserInTenant(ctx, &tc, account(n, n+"@contoso.com", identity.Member))
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, u.ID)
		}
		gus, err := ids.CreateUserInTenant(ctx, &tc, account("Gus", "gus@example.org", identity.Guest))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, gus.ID)
		var got []identity.UserID
		var f identity.UserFilter
		for pages := 1; ; pages++ {
			us, next, err := ids.Users(ctx, &ada, f, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(us) > 2 {
				t.Fatalf("page of %d, want at most 2", len(us))
			}
			for _, u := range us {
				got = append(got, u.ID)
			}
			if next.ID == "" {
				if pages != 3 {
					t.Errorf("%d pages of 2 for 6 people, want 3", pages)
				}
				break
			}
			f.After = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages hold %v, want %v (oldest first, once each)", got, want)
		}
		us, _, err := ids.Users(ctx, &ada, identity.UserFilter{UPN: "cy@contoso.com"}, 0)
		if err != nil || len(us) != 1 || us[0].UPN != "cy@contoso.com" {
			t.Errorf("filter by sign-in name: %v, %v", us, err)
		}
		us, _, err = ids.Users(ctx, &gus, identity.UserFilter{}, 0)
		if err != nil || len(us) != 1 || us[0].ID != gus.ID {
			t.Errorf("a guest's list: %v, %v; want only itself", us, err)
		}
		pat := identity.User{ID: identity.NewUserID(), Kind: identity.Personal, UPN: "pat@example.net"}
		us, _, err = ids.Users(ctx, &pat, identity.UserFilter{}, 0)
		if err != nil || len(us) != 1 || us[0].ID != pat.ID {
			t.Errorf("a personal account's list: %v, %v; want only itself", us, err)
		}
		if us, _, err = ids.Users(ctx, &pat, identity.UserFilter{UPN: "ada@contoso.com"}, 0); err != nil || len(us) != 0 {
			t.Errorf("a personal account filtering for another: %v, %v; want none", us, err)
		}
	})
}
