package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/parleytest"
)

// federationJSON is the body of /parley/v1/admin/federationConfiguration.
type federationJSON struct {
	AllowTeamsConsumer        bool     `json:"allowTeamsConsumer"`
	AllowTeamsConsumerInbound bool     `json:"allowTeamsConsumerInbound"`
	AllowFederatedUsers       bool     `json:"allowFederatedUsers"`
	AllowAllKnownDomains      bool     `json:"allowAllKnownDomains"`
	AllowedDomains            []string `json:"allowedDomains"`
	BlockedDomains            []string `json:"blockedDomains"`
}

func getFederation(t *testing.T, admin *parleytest.Client) federationJSON {
	t.Helper()
	var f federationJSON
	admin.Must(http.StatusOK, "GET", "/parley/v1/admin/federationConfiguration", nil).JSON(t, &f)
	return f
}

// TestS2_AdminFederationConfiguration: the tenant's external access
// settings have docs/rules.md §2's defaults, change field by field, refuse bad
// domains and belong to the tenant's admins only.
func TestS2_AdminFederationConfiguration(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		admin := contoso.Admin
		alice := s.User(contoso, "alice", false)
		const path = "/parley/v1/admin/federationConfiguration"

		want := federationJSON{true, true, true, true, []string{}, []string{}}
		if d := cmp.Diff(want, getFederation(t, admin)); d != "" {
			t.Fatalf("defaults (-want +got):\n%s", d)
		}
		// The lists are [] on the wire, never null.
		raw := admin.Must(http.StatusOK, "GET", path, nil).Map(t)
		for _, k := range []string{"allowedDomains", "blockedDomains"} {
			if l, ok := raw[k].([]any); !ok || len(l) != 0 {
				t.Errorf("%s = %#v, want []", k, raw[k])
			}
		}

		t.Run("partial updates", func(t *testing.T) {
			var got federationJSON
			admin.Must(http.StatusOK, "PATCH", path, map[string]any{"allowTeamsConsumerInbound": false}).JSON(t, &got)
			want.AllowTeamsConsumerInbound = false
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("PATCH answer (-want +got):\n%s", d)
			}
			admin.Must(http.StatusOK, "PATCH", path, map[string]any{"allowAllKnownDomains": false, "allowedDomains": []string{"Fabrikam.com", "fabrikam.com", "northwind.example"}, "blockedDomains": []string{" Evil.Example "}})
			want.AllowAllKnownDomains, want.AllowedDomains, want.BlockedDomains = false, []string{"fabrikam.com", "northwind.example"}, []string{"evil.example"}
			if d := cmp.Diff(want, getFederation(t, admin)); d != "" {
				t.Errorf("after PATCH (-want +got):\n%s", d)
			}
			admin.Must(http.StatusOK, "PATCH", path, map[string]any{"blockedDomains": []string{}})
			want.BlockedDomains = []string{}
			if d := cmp.Diff(want, getFederation(t, admin)); d != "" {
				t.Errorf("after emptying blockedDomains (-want +got):\n%s", d)
			}
		})

		t.Run("bad input changes nothing", func(t *testing.T) {
			before := getFederation(t, admin)
			for _, tc := range []struct {
				name string
				body any
			}{
				{"not a domain", map[string]any{"blockedDomains": []string{"not a domain"}}},
				{"empty domain", map[string]any{"allowedDomains": []string{""}, "allowTeamsConsumer": false}},
				{"leading dot", map[string]any{"allowedDomains": []string{".contoso.com"}}},
				{"wrong type", map[string]any{"allowTeamsConsumer": "no"}},
				{"list of numbers", map[string]any{"blockedDomains": []int{1}}},
				{"not JSON", "{"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := admin.Do("PATCH", path, tc.body)
					if r.Status != http.StatusBadRequest || r.ErrorCode() != "badRequest" {
						t.Errorf("got %d %s, want 400 badRequest", r.Status, r.Body)
					}
				})
			}
			if d := cmp.Diff(before, getFederation(t, admin)); d != "" {
				t.Errorf("settings changed (-before +after):\n%s", d)
			}
		})

		t.Run("members may not read or change it", func(t *testing.T) {
			before := getFederation(t, admin)
			if r := alice.Do("GET", path, nil); r.Status != http.StatusForbidden {
				t.Errorf("member GET: got %d %s, want 403", r.Status, r.Body)
			}
			if r := alice.Do("PATCH", path, map[string]any{"allowTeamsConsumer": false}); r.Status != http.StatusForbidden {
				t.Errorf("member PATCH: got %d %s, want 403", r.Status, r.Body)
			}
			if r := s.Anonymous().Do("GET", path, nil); r.Status != http.StatusUnauthorized {
				t.Errorf("anonymous GET: got %d %s, want 401", r.Status, r.Body)
			}
			if d := cmp.Diff(before, getFederation(t, admin)); d != "" {
				t.Errorf("settings changed (-before +after):\n%s", d)
			}
		})

		t.Run("each tenant has its own", func(t *testing.T) {
			fabrikam := s.CreateTenant("Fabrikam", "fabrikam.com")
			if d := cmp.Diff(federationJSON{true, true, true, true, []string{}, []string{}}, getFederation(t, fabrikam.Admin)); d != "" {
				t.Errorf("a new tenant's settings (-want +got):\n%s", d)
			}
		})
	})
}

// policyJSON is an external access policy on the wire.
type policyJSON struct {
	Name                       string `json:"name"`
	EnableFederationAccess     bool   `json:"enableFederationAccess"`
	EnableTeamsConsumerAccess  bool   `json:"enableTeamsConsumerAccess"`
	EnableTeamsConsumerInbound bool   `json:"enableTeamsConsumerInbound"`
}

func userPolicy(t *testing.T, admin *parleytest.Client, userID string) string {
	t.Helper()
	var p struct {
		Name string `json:"name"`
	}
	admin.Must(http.StatusOK, "GET", "/parley/v1/admin/users/"+userID+"/externalAccessPolicy", nil).JSON(t, &p)
	return p.Name
}

func errMessageOf(t *testing.T, r *parleytest.Response) string {
	t.Helper()
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	r.JSON(t, &e)
	return e.Error.Message
}

// TestS3_AdminExternalAccessPolicies: per-user policies are created,
// changed, granted and deleted as docs/rules.md §3 says, and a user's effective
// right is the tenant setting AND their policy.
func TestS3_AdminExternalAccessPolicies(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartWorld(t, store)
		contoso := w.CreateTenant("Contoso", "contoso.com")
		admin := contoso.Admin
		alice := w.User(contoso, "alice", false)
		bob := w.User(contoso, "bob", false)
		fabrikam := w.CreateTenant("Fabrikam", "fabrikam.com")
		eve := w.User(fabrikam, "eve", false)
		w.Personal("pat@gmail.com")
		const base = "/parley/v1/admin/externalAccessPolicies"

		var list struct {
			Value []policyJSON `json:"value"`
		}
		admin.Must(http.StatusOK, "GET", base, nil).JSON(t, &list)
		if len(list.Value) != 1 || list.Value[0] != (policyJSON{"Global", true, true, true}) {
			t.Fatalf("policies of a new tenant = %+v, want Global with every switch on", list.Value)
		}

		var created policyJSON
		admin.Must(http.StatusCreated, "POST", base, map[string]any{"name": "NoConsumer", "enableTeamsConsumerAccess": false}).JSON(t, &created)
		noConsumer := policyJSON{"NoConsumer", true, false, true}
		if created != noConsumer {
			t.Errorf("created = %+v, want %+v", created, noConsumer)
		}
		for _, name := range []string{"NoConsumer", "Global"} {
			if r := admin.Do("POST", base, map[string]any{"name": name}); r.Status != http.StatusConflict {
				t.Errorf("create %s again: got %d %s, want 409", name, r.Status, r.Body)
			}
		}
		var got policyJSON
		admin.Must(http.StatusOK, "GET", base+"/NoConsumer", nil).JSON(t, &got)
		if got != noConsumer {
			t.Errorf("GET = %+v, want %+v", got, noConsumer)
		}
		admin.Must(http.StatusOK, "PATCH", base+"/NoConsumer", map[string]any{"enableTeamsConsumerInbound": false}).JSON(t, &got)
		if want := (policyJSON{"NoConsumer", true, false, false}); got != want {
			t.Errorf("PATCH = %+v, want %+v", got, want)
		}
		admin.Must(http.StatusOK, "PATCH", base+"/NoConsumer", map[string]any{"enableTeamsConsumerInbound": true})
		if r := admin.Do("GET", base+"/Nope", nil); r.Status != http.StatusNotFound {
			t.Errorf("GET unknown policy: got %d %s, want 404", r.Status, r.Body)
		}

		admin.Must(http.StatusNoContent, "POST", base+"/NoConsumer/grant", map[string]any{"userIds": []string{bob.UserID}})
		if got := userPolicy(t, admin, bob.UserID); got != "NoConsumer" {
			t.Errorf("bob's policy = %q, want NoConsumer", got)
		}
		if got := userPolicy(t, admin, alice.UserID); got != "Global" {
			t.Errorf("alice's policy = %q, want Global", got)
		}

		t.Run("effect on starting chats", func(t *testing.T) {
			r := bob.ChatWith(parleytest.ByEmail("pat@gmail.com"))
			if r.Status != http.StatusForbidden || r.ErrorCode() != "forbiddenByPolicy" {
				t.Fatalf("bob (NoConsumer) → personal: got %d %s, want 403 forbiddenByPolicy", r.Status, r.Body)
			}
			if msg := strings.ToLower(errMessageOf(t, r)); !strings.Contains(msg, "policy") || !strings.Contains(msg, "personal account") {
				t.Errorf("refusal message %q does not name the rule (your policy, personal accounts)", msg)
			}
			if r := alice.ChatWith(parleytest.ByEmail("pat@gmail.com")); r.Status != http.StatusCreated {
				t.Errorf("alice (Global) → personal: got %d %s, want 201", r.Status, r.Body)
			}
			var ex explanation
			admin.Must(http.StatusOK, "GET", explainPath(bob.UserID, "pat@gmail.com"), nil).JSON(t, &ex)
			if ex.Allowed || !ex.has(explainCheck{"policy.enableTeamsConsumerAccess", false, "policy NoConsumer"}) {
				t.Errorf("explain bob → personal = %+v, want refused by policy NoConsumer", ex)
			}
		})

		r := admin.Do("DELETE", base+"/NoConsumer", nil)
		if r.Status != http.StatusConflict || r.ErrorCode() != "policyInUse" {
			t.Fatalf("delete a granted policy: got %d %s, want 409 policyInUse", r.Status, r.Body)
		}
		if msg := errMessageOf(t, r); !strings.Contains(msg, "1 user") {
			t.Errorf("policyInUse message %q does not say 1 user holds it", msg)
		}
		if got := userPolicy(t, admin, bob.UserID); got != "NoConsumer" {
			t.Errorf("after the refused delete bob's policy = %q, want NoConsumer", got)
		}
		if r := admin.Do("DELETE", base+"/NoConsumer?resetUsers=maybe", nil); r.Status != http.StatusBadRequest {
			t.Errorf("resetUsers=maybe: got %d %s, want 400", r.Status, r.Body)
		}
		admin.Must(http.StatusNoContent, "DELETE", base+"/NoConsumer?resetUsers=true", nil)
		if got := userPolicy(t, admin, bob.UserID); got != "Global" {
			t.Errorf("after delete with resetUsers bob's policy = %q, want Global", got)
		}
		if r := admin.Do("GET", base+"/NoConsumer", nil); r.Status != http.StatusNotFound {
			t.Errorf("GET deleted policy: got %d %s, want 404", r.Status, r.Body)
		}
		if r := bob.ChatWith(parleytest.ByEmail("pat@gmail.com")); r.Status != http.StatusCreated {
			t.Errorf("bob (Global again) → personal: got %d %s, want 201", r.Status, r.Body)
		}
		if r := admin.Do("DELETE", base+"/Global", nil); r.Status != http.StatusConflict {
			t.Errorf("delete Global: got %d %s, want 409", r.Status, r.Body)
		}
		if r := admin.Do("DELETE", base+"/Global?resetUsers=true", nil); r.Status != http.StatusConflict {
			t.Errorf("delete Global with resetUsers: got %d %s, want 409", r.Status, r.Body)
		}

		t.Run("granting Global resets", func(t *testing.T) {
			admin.Must(http.StatusCreated, "POST", base, map[string]any{"name": "NoFederation", "enableFederationAccess": false})
			admin.Must(http.StatusNoContent, "POST", base+"/NoFederation/grant", map[string]any{"userIds": []string{bob.UserID}})
			admin.Must(http.StatusNoContent, "POST", base+"/Global/grant", map[string]any{"userIds": []string{bob.UserID}})
			if got := userPolicy(t, admin, bob.UserID); got != "Global" {
				t.Errorf("bob's policy = %q, want Global", got)
			}
			// Nobody holds it any more: it can be deleted without resetUsers.
			admin.Must(http.StatusNoContent, "DELETE", base+"/NoFederation", nil)
		})

		t.Run("grants stay inside the tenant", func(t *testing.T) {
			admin.Must(http.StatusCreated, "POST", base, map[string]any{"name": "Strict", "enableFederationAccess": false})
			if r := admin.Do("POST", base+"/Strict/grant", map[string]any{"userIds": []string{eve.UserID}}); r.Status != http.StatusNotFound {
				t.Errorf("grant to another tenant's user: got %d %s, want 404", r.Status, r.Body)
			}
			if r := admin.Do("POST", base+"/Strict/grant", map[string]any{"userIds": []string{bob.UserID, eve.UserID}}); r.Status != http.StatusNotFound {
				t.Errorf("grant to a mix: got %d %s, want 404", r.Status, r.Body)
			}
			if got := userPolicy(t, admin, bob.UserID); got != "Global" {
				t.Errorf("a refused grant changed bob's policy to %q", got)
			}
			if r := admin.Do("POST", base+"/Nope/grant", map[string]any{"userIds": []string{bob.UserID}}); r.Status != http.StatusNotFound {
				t.Errorf("grant an unknown policy: got %d %s, want 404", r.Status, r.Body)
			}
			if r := admin.Do("GET", "/parley/v1/admin/users/"+eve.UserID+"/externalAccessPolicy", nil); r.Status != http.StatusNotFound {
				t.Errorf("another tenant's user's policy: got %d %s, want 404", r.Status, r.Body)
			}
			if r := fabrikam.Admin.Do("GET", base+"/Strict", nil); r.Status != http.StatusNotFound {
				t.Errorf("another tenant's admin sees the policy: got %d %s, want 404", r.Status, r.Body)
			}
		})

		t.Run("members may not manage policies", func(t *testing.T) {
			for _, c := range []struct{ method, path string }{
				{"GET", base}, {"POST", base}, {"GET", base + "/Global"}, {"PATCH", base + "/Global"},
				{"DELETE", base + "/Strict"}, {"POST", base + "/Global/grant"},
				{"GET", "/parley/v1/admin/users/" + alice.UserID + "/externalAccessPolicy"},
			} {
				var body any
				switch {
				case c.path == base+"/Global/grant":
					body = map[string]any{"userIds": []string{alice.UserID}}
				case c.method == "POST":
					body = map[string]any{"name": "Mine"}
				case c.method == "PATCH":
					body = map[string]any{"enableFederationAccess": false}
				}
				if r := alice.Do(c.method, c.path, body); r.Status != http.StatusForbidden {
					t.Errorf("member %s %s: got %d %s, want 403", c.method, c.path, r.Status, r.Body)
				}
			}
			var g policyJSON
			admin.Must(http.StatusOK, "GET", base+"/Global", nil).JSON(t, &g)
			if g != (policyJSON{"Global", true, true, true}) {
				t.Errorf("Global changed: %+v", g)
			}
		})
	})
}

// explainCheck is one entry of an explanation.
type explainCheck struct {
	Rule   string `json:"rule"`
	Value  bool   `json:"value"`
	Source string `json:"source"`
}

// explanation is the answer of /parley/v1/admin/explain.
type explanation struct {
	Allowed bool           `json:"allowed"`
	Checks  []explainCheck `json:"checks"`
}

func (e explanation) has(c explainCheck) bool {
	for _, x := range e.Checks {
		if x == c {
			return true
		}
	}
	return false
}

func explainPath(userID, addr string) string {
	return "/parley/v1/admin/explain?" + url.Values{"userId": {userID}, "address": {addr}}.Encode()
}

// TestS4_AdminExplain: explain lists the rules of the admin's own side with
// their values and sources; the other side appears only as one
// organisation-wide check, and never depends on whether an account owns
// the address or on that account's own settings (docs/rules.md §4).
func TestS4_AdminExplain(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartWorld(t, store)
		contoso := w.CreateTenant("Contoso", "contoso.com")
		admin := contoso.Admin
		alice := w.User(contoso, "alice", false)
		fabrikam := w.CreateTenant("Fabrikam", "fabrikam.com")
		frank := w.User(fabrikam, "frank", false)
		closed := w.Personal("closed@gmail.com")
		mustBlockFromList(t, closed, "closed@gmail.com", alice)
		closed.Must(http.StatusOK, "PATCH", "/parley/v1/me/settings", map[string]any{"allowChatsFromOrganizations": false})

		explain := func(addr string) (explanation, string) {
			t.Helper()
			r := admin.Must(http.StatusOK, "GET", explainPath(alice.UserID, addr), nil)
			var ex explanation
			r.JSON(t, &ex)
			return ex, string(r.Body)
		}

		t.Run("personal address allowed", func(t *testing.T) {
			ex, _ := explain("someone@gmail.com")
			if !ex.Allowed || len(ex.Checks) == 0 {
				t.Fatalf("explain = %+v, want allowed with its checks", ex)
			}
			for _, c := range ex.Checks {
				if !c.Value || c.Source == "" {
					t.Errorf("check %+v, want passed with a source", c)
				}
			}
			if !ex.has(explainCheck{"tenant.allowTeamsConsumer", true, "tenant setting"}) || !ex.has(explainCheck{"policy.enableTeamsConsumerAccess", true, "policy Global"}) {
				t.Errorf("explain = %+v, want the tenant setting and the Global policy", ex)
			}
		})

		t.Run("account-level facts of a personal address never show", func(t *testing.T) {
			_, unknown := explain("someone@gmail.com")
			_, owned := explain("closed@gmail.com")
			if owned != unknown {
				t.Errorf("explain differs for an account that refuses and blocks:\n%s\nvs an unknown address:\n%s", owned, unknown)
			}
		})

		t.Run("own tenant setting", func(t *testing.T) {
			admin.Must(http.StatusOK, "PATCH", "/parley/v1/admin/federationConfiguration", map[string]any{"allowTeamsConsumer": false})
			defer admin.Must(http.StatusOK, "PATCH", "/parley/v1/admin/federationConfiguration", map[string]any{"allowTeamsConsumer": true})
			ex, _ := explain("someone@gmail.com")
			if ex.Allowed || !ex.has(explainCheck{"tenant.allowTeamsConsumer", false, "tenant setting"}) {
				t.Errorf("explain = %+v, want refused by tenant.allowTeamsConsumer false from the tenant setting", ex)
			}
		})

		t.Run("other organisation refuses", func(t *testing.T) {
			fabrikam.Admin.Must(http.StatusOK, "PATCH", "/parley/v1/admin/federationConfiguration", map[string]any{"allowFederatedUsers": false})
			defer fabrikam.Admin.Must(http.StatusOK, "PATCH", "/parley/v1/admin/federationConfiguration", map[string]any{"allowFederatedUsers": true})
			ex, unknown := explain("nobody@fabrikam.com")
			if ex.Allowed {
				t.Errorf("explain = %+v, want refused", ex)
			}
			var failed []explainCheck
			for _, c := range ex.Checks {
				if !c.Value {
					failed = append(failed, c)
				}
			}
			if len(failed) != 1 || failed[0].Rule != "otherOrganization" {
				t.Errorf("failed checks = %+v, want exactly one, otherOrganization", failed)
			}
			for _, c := range ex.Checks {
				if c.Rule == "otherOrganization" && (strings.Contains(c.Source, "allowFederatedUsers") || strings.Contains(strings.ToLower(c.Source), "fabrikam")) {
					t.Errorf("the other side's check %+v names its setting", c)
				}
			}
			if n := strings.Count(unknown, "otherOrganization"); n != 1 {
				t.Errorf("otherOrganization appears %d times in %s", n, unknown)
			}
			if _, owned := explain("frank@fabrikam.com"); owned != unknown {
				t.Errorf("explain for an existing user:\n%s\nvs an unknown address of the same domain:\n%s", owned, unknown)
			}
		})

		t.Run("the other side's per-user policy never shows", func(t *testing.T) {
			fabrikam.Admin.Must(http.StatusCreated, "POST", "/parley/v1/admin/externalAccessPolicies", map[string]any{"name": "NoFederation", "enableFederationAccess": false})
			fabrikam.Admin.Must(http.StatusNoContent, "POST", "/parley/v1/admin/externalAccessPolicies/NoFederation/grant", map[string]any{"userIds": []string{frank.UserID}})
			ex, owned := explain("frank@fabrikam.com")
			_, unknown := explain("nobody@fabrikam.com")
			if !ex.Allowed || owned != unknown {
				t.Errorf("explain for a user whose policy refuses:\n%s\nvs an unknown address:\n%s\nwant both allowed and identical", owned, unknown)
			}
			if !ex.has(explainCheck{"tenant.allowFederatedUsers", true, "tenant setting"}) || !ex.has(explainCheck{"policy.enableFederationAccess", true, "policy Global"}) {
				t.Errorf("explain = %+v, want the own side's federation checks", ex)
			}
		})

		t.Run("bad calls", func(t *testing.T) {
			for _, c := range []struct {
				name   string
				client *parleytest.Client
				path   string
				status int
			}{
				{"member", alice, explainPath(alice.UserID, "someone@gmail.com"), http.StatusForbidden},
				{"user of another tenant", admin, explainPath(frank.UserID, "someone@gmail.com"), http.StatusNotFound},
				{"no address", admin, "/parley/v1/admin/explain?userId=" + alice.UserID, http.StatusBadRequest},
				{"no user", admin, "/parley/v1/admin/explain?address=someone@gmail.com", http.StatusBadRequest},
				{"bad address", admin, explainPath(alice.UserID, "not an address"), http.StatusBadRequest},
			} {
				if r := c.client.Do("GET", c.path, nil); r.Status != c.status {
					t.Errorf("%s: got %d %s, want %d", c.name, r.Status, r.Body, c.status)
				}
			}
		})
	})
}

// TestS10_AdminAudit: settings changes, policy creation and deletion and
// grants are in the tenant's audit log with the admin as actor (docs/rules.md §10).
func TestS10_AdminAudit(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		admin := contoso.Admin
		bob := s.User(contoso, "bob", false)
		const base = "/parley/v1/admin/externalAccessPolicies"
		admin.Must(http.StatusOK, "PATCH", "/parley/v1/admin/federationConfiguration", map[string]any{"allowTeamsConsumerInbound": false})
		admin.Must(http.StatusCreated, "POST", base, map[string]any{"name": "Audited", "enableTeamsConsumerAccess": false})
		admin.Must(http.StatusNoContent, "POST", base+"/Audited/grant", map[string]any{"userIds": []string{bob.UserID}})
		admin.Must(http.StatusNoContent, "DELETE", base+"/Audited?resetUsers=true", nil)

		first := admin.Must(http.StatusOK, "GET", "/parley/v1/admin/audit", nil)
		type record struct {
			ID      string         `json:"id"`
			Time    string         `json:"time"`
			Actor   string         `json:"actor"`
			Action  string         `json:"action"`
			Target  string         `json:"target"`
			Details map[string]any `json:"details"`
		}
		var all []record
		r := first
		for pages := 0; ; pages++ {
			if r.Status != http.StatusOK {
				t.Fatalf("GET audit: got %d %s, want 200", r.Status, r.Body)
			}
			var page struct {
				Value    []record `json:"value"`
				NextLink string   `json:"@odata.nextLink"`
			}
			r.JSON(t, &page)
			all = append(all, page.Value...)
			if page.NextLink == "" || pages > 100 {
				break
			}
			r = admin.Do("GET", page.NextLink, nil)
		}
		for _, want := range []struct {
			what string
			ok   func(record) bool
		}{
			{"settings change", func(r record) bool { return strings.Contains(strings.ToLower(r.Action), "federation") }},
			{"policy created", func(r record) bool {
				return strings.Contains(r.Action, "olicy") && strings.Contains(r.Action, "create") && r.Target == "Audited"
			}},
			{"policy granted", func(r record) bool { return strings.Contains(r.Action, "grant") && r.Target == "Audited" }},
			{"policy deleted", func(r record) bool {
				return strings.Contains(r.Action, "olicy") && strings.Contains(r.Action, "delete") && r.Target == "Audited"
			}},
		} {
			found := false
			for _, rec := range all {
				if want.ok(rec) {
					found = true
					if rec.Actor != admin.UserID || rec.ID == "" || rec.Time == "" {
						t.Errorf("%s: record %+v, want actor %s with id and time", want.what, rec, admin.UserID)
					}
				}
			}
			if !found {
				t.Errorf("no audit record of the %s in %+v", want.what, all)
			}
		}
		if r := bob.Do("GET", "/parley/v1/admin/audit", nil); r.Status != http.StatusForbidden {
			t.Errorf("member GET audit: got %d %s, want 403", r.Status, r.Body)
		}
	})
}
