package team_test

import (
	"fmt"
	"testing"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/team"
)

// TestMay checks every role against every action (docs/rules.md §8:
// owners manage members and channels, members and guests post; §10: to
// someone not in the team it does not exist).
func TestMay(t *testing.T) {
	// The oracle, written out: the code each role gets for each action.
	want := map[team.Role]map[team.Action]errcode.Code{
		team.Owner: {team.Read: "", team.Post: "", team.Leave: "", team.Update: "", team.ManageMembers: "", team.ManageChannels: ""},
		team.MemberRole: {team.Read: "", team.Post: "", team.Leave: "",
			team.Update: errcode.Forbidden, team.ManageMembers: errcode.Forbidden, team.ManageChannels: errcode.Forbidden},
		team.GuestRole: {team.Read: "", team.Post: "", team.Leave: "",
			team.Update: errcode.Forbidden, team.ManageMembers: errcode.Forbidden, team.ManageChannels: errcode.Forbidden},
		team.None: {team.Read: errcode.NotFound, team.Post: errcode.NotFound, team.Leave: errcode.NotFound,
			team.Update: errcode.NotFound, team.ManageMembers: errcode.NotFound, team.ManageChannels: errcode.NotFound},
	}
	for _, r := range team.Roles {
		for _, a := range team.Actions {
			t.Run(fmt.Sprintf("%q/%s", r, a), func(t *testing.T) {
				w, ok := want[r][a]
				if !ok {
					t.Fatalf("the oracle has no answer for %q %s", r, a)
				}
				err := team.May(r, a)
				if got := codeOf(err); got != w {
					t.Fatalf("May(%q, %s) = %v, want code %q", r, a, err, w)
				}
			})
		}
	}
}

func codeOf(err error) errcode.Code {
	if err == nil {
		return ""
	}
	return errcode.Of(err)
}

var (
	contoso  = identity.TenantID("contoso")
	fabrikam = identity.TenantID("fabrikam")
	member   = identity.User{ID: "m", TenantID: contoso, Kind: identity.Member, Role: identity.RoleMember}
	admin    = identity.User{ID: "a", TenantID: contoso, Kind: identity.Member, Role: identity.RoleAdmin}
	guest    = identity.User{ID: "g", TenantID: contoso, Kind: identity.Guest, Role: identity.RoleMember}
	outsider = identity.User{ID: "o", TenantID: fabrikam, Kind: identity.Member, Role: identity.RoleMember}
	// A guest of another organisation: docs/rules.md §4 rule 7.
	foreignGuest = identity.User{ID: "fg", TenantID: fabrikam, Kind: identity.Guest, Role: identity.RoleMember}
	personal     = identity.User{ID: "p", Kind: identity.Personal}
)

func TestMayCreate(t *testing.T) {
	for _, tc := range []struct {
		name string
		u    identity.User
		want errcode.Code
	}{
		{"member", member, ""},
		{"admin", admin, ""},
		{"guest", guest, errcode.Forbidden},
		{"personal account", personal, errcode.Forbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := codeOf(team.MayCreate(&tc.u)); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMayJoin(t *testing.T) {
	for _, tc := range []struct {
		name string
		u    identity.User
		want errcode.Code
	}{
		{"member of the tenant", member, ""},
		{"admin of the tenant", admin, ""},
		{"guest of the tenant", guest, ""},
		{"member of another tenant", outsider, errcode.ExternalMemberNotAllowed},
		{"guest of another tenant", foreignGuest, errcode.ExternalMemberNotAllowed},
		{"personal account", personal, errcode.ExternalMemberNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := codeOf(team.MayJoin(contoso, &tc.u)); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	// A team with no tenant admits no one.
	if team.MayJoin("", &personal) == nil {
		t.Fatal("a personal account joined a team of no tenant")
	}
}

func TestRolesFor(t *testing.T) {
	for _, tc := range []struct {
		name  string
		u     identity.User
		asked []string
		want  string // fmt of the roles, or the error code
	}{
		{"member", member, nil, "[]"},
		{"member asked as owner", member, []string{"owner"}, "[owner]"},
		{"member asked as guest", member, []string{"guest"}, "badRequest"},
		{"guest", guest, nil, "[guest]"},
		{"guest asked as guest", guest, []string{"guest"}, "[guest]"},
		{"guest asked as owner", guest, []string{"owner"}, "badRequest"},
		{"unknown role", member, []string{"admin"}, "badRequest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			roles, err := team.RolesFor(&tc.u, tc.asked)
			got := fmt.Sprint(roles)
			if err != nil {
				got = string(errcode.Of(err))
			}
			if got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestMemberRole(t *testing.T) {
	for _, tc := range []struct {
		m    team.Member
		want team.Role
	}{
		{team.Member{User: member, Roles: []string{"owner"}}, team.Owner},
		{team.Member{User: member, Roles: []string{}}, team.MemberRole},
		{team.Member{User: guest, Roles: []string{"guest"}}, team.GuestRole},
		{team.Member{User: guest}, team.GuestRole},
	} {
		if got := tc.m.Role(); got != tc.want {
			t.Errorf("Role of %v = %q, want %q", tc.m, got, tc.want)
		}
	}
	ms := []team.Member{{UserID: "m", User: member, Roles: []string{"owner"}}}
	if team.RoleOf(ms, "m") != team.Owner || team.RoleOf(ms, "x") != team.None {
		t.Error("RoleOf")
	}
}
