package server_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// appManifest returns a valid Teams app manifest for a bot; change edits it.
func appManifest(id, botID, version string, change func(m map[string]any)) map[string]any {
	m := map[string]any{
		"$schema":         "https://developer.microsoft.com/json-schemas/teams/v1.17/MicrosoftTeams.schema.json",
		"manifestVersion": "1.17", "version": version, "id": id,
		"developer":   map[string]any{"name": "Contoso", "websiteUrl": "https://contoso.com", "privacyUrl": "https://contoso.com/privacy", "termsOfUseUrl": "https://contoso.com/terms"},
		"name":        map[string]any{"short": "Polls"},
		"description": map[string]any{"short": "Quick polls", "full": "Quick polls in chats and meetings."},
		"icons":       map[string]any{"outline": "outline.png", "color": "color.png"},
		"accentColor": "#4464EE",
		"bots":        []any{map[string]any{"botId": botID, "scopes": []string{"personal", "groupChat", "team"}}},
		"composeExtensions": []any{map[string]any{"botId": botID, "commands": []any{
			map[string]any{"id": "searchPolls", "title": "Search polls", "type": "query"},
			map[string]any{"id": "createPoll", "title": "Create a poll", "type": "action", "context": []string{"compose"}}}}},
	}
	if change != nil {
		change(m)
	}
	return m
}

// appPackage zips a manifest with its two icons.
func appPackage(tb testing.TB, manifest any, extra map[string][]byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := map[string][]byte{"outline.png": []byte("png"), "color.png": []byte("png")}
	if manifest != nil {
		b, err := json.Marshal(manifest)
		if err != nil {
			tb.Fatal(err)
		}
		files["manifest.json"] = b
	}
	for k, v := range extra {
		files[k] = v
	}
	for name, b := range files {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

var zipHeader = map[string]string{"Content-Type": "application/zip"}

// registerBot registers a bot in the admin's tenant and returns its id and secret.
func registerBot(tb testing.TB, admin *parleytest.Client, name, endpoint string) (string, string) {
	tb.Helper()
	var b struct{ ID, Secret string }
	admin.Must(201, "POST", "/parley/v1/admin/bots", map[string]any{"displayName": name, "messagingEndpoint": endpoint}).JSON(tb, &b)
	if b.ID == "" || b.Secret == "" {
		tb.Fatalf("bot registration without id or secret: %+v", b)
	}
	return b.ID, b.Secret
}

// uploadApp uploads a bot's app package and returns the catalog id.
func uploadApp(tb testing.TB, admin *parleytest.Client, manifestID, botID string) string {
	tb.Helper()
	r := admin.DoHeader("POST", "/v1.0/appCatalogs/teamsApps", appPackage(tb, appManifest(manifestID, botID, "1.0.0", nil), nil), zipHeader)
	if r.Status != 201 {
		tb.Fatalf("upload app: %d %s", r.Status, r.Body)
	}
	return r.Map(tb)["id"].(string)
}

func bindApp(id string) map[string]any {
	return map[string]any{"teamsApp@odata.bind": "https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/" + id}
}

func wantError(tb testing.TB, r *parleytest.Response, status int, code string, words ...string) {
	tb.Helper()
	if r.Status != status || r.ErrorCode() != code {
		tb.Fatalf("got %d %s, want %d %s", r.Status, r.Body, status, code)
	}
	for _, w := range words {
		if !strings.Contains(string(r.Body), w) {
			tb.Errorf("error %s does not name %q", r.Body, w)
		}
	}
}

const pollsManifestID = "6f1a6a3e-52b3-4f0b-9a47-0f1b2e6c4d11"

// TestApps_Catalog: docs/rules.md §9 app catalog and bot registrations:
// admins upload packages validated against the manifest schema's required
// fields and register bots whose secret is shown once; members browse;
// guests cannot.
func TestApps_Catalog(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		admin := contoso.Admin
		alice := s.User(contoso, "alice", false)
		gina := s.User(contoso, "gina@outside.example", true)

		botID, secret := registerBot(t, admin, "Polls bot", "https://bots.example/api/messages")
		got := admin.Must(200, "GET", "/parley/v1/admin/bots/"+botID, nil).Map(t)
		if _, ok := got["secret"]; ok || got["messagingEndpoint"] != "https://bots.example/api/messages" {
			t.Errorf("GET bot: %v, want the endpoint and no secret", got)
		}
		wantError(t, alice.Do("POST", "/parley/v1/admin/bots", map[string]any{"displayName": "x", "messagingEndpoint": "https://x.example"}), 403, "forbidden")
		wantError(t, admin.Do("POST", "/parley/v1/admin/bots", map[string]any{"displayName": "x", "messagingEndpoint": "ftp://x.example"}), 400, "badRequest", "messagingEndpoint")
		var rotated struct{ Secret string }
		admin.Must(200, "POST", "/parley/v1/admin/bots/"+botID+"/secret", nil).JSON(t, &rotated)
		if rotated.Secret == "" || rotated.Secret == secret {
			t.Errorf("rotated secret %q, want a new one", rotated.Secret)
		}

		t.Run("bad packages", func(t *testing.T) {
			for _, tc := range []struct {
				name, field string
				change      func(m map[string]any)
			}{
				{"no privacy URL", "developer.privacyUrl", func(m map[string]any) { delete(m["developer"].(map[string]any), "privacyUrl") }},
				{"no short name", "name.short", func(m map[string]any) { m["name"] = map[string]any{"full": "Polls"} }},
				{"no full description", "description.full", func(m map[string]any) { delete(m["description"].(map[string]any), "full") }},
				{"no accent colour", "accentColor", func(m map[string]any) { delete(m, "accentColor") }},
				{"no manifest version", "manifestVersion", func(m map[string]any) { delete(m, "manifestVersion") }},
				{"id not a GUID", "id", func(m map[string]any) { m["id"] = "polls" }},
				{"bot without id", "bots[0].botId", func(m map[string]any) { m["bots"] = []any{map[string]any{"scopes": []string{"personal"}}} }},
				{"unknown scope", "bots[0].scopes", func(m map[string]any) {
					m["bots"] = []any{map[string]any{"botId": botID, "scopes": []string{"everywhere"}}}
				}},
				{"unregistered bot", "bots[0].botId", func(m map[string]any) {
					m["bots"] = []any{map[string]any{"botId": "00000000-0000-0000-0000-000000000001", "scopes": []string{"personal"}}}
				}},
				{"icon not in package", "icons.color", func(m map[string]any) { m["icons"] = map[string]any{"outline": "outline.png", "color": "missing.png"} }},
			} {
				t.Run(tc.name, func(t *testing.T) {
					pkg := appPackage(t, appManifest(pollsManifestID, botID, "1.0.0", tc.change), nil)
					wantError(t, admin.DoHeader("POST", "/v1.0/appCatalogs/teamsApps", pkg, zipHeader), 400, "badRequest", tc.field)
				})
			}
			wantError(t, admin.DoHeader("POST", "/v1.0/appCatalogs/teamsApps", []byte("not a zip"), zipHeader), 400, "badRequest", "zip")
			wantError(t, admin.DoHeader("POST", "/v1.0/appCatalogs/teamsApps", appPackage(t, nil, nil), zipHeader), 400, "badRequest", "manifest.json")
			wantError(t, admin.Do("POST", "/v1.0/appCatalogs/teamsApps", appManifest(pollsManifestID, botID, "1.0.0", nil)), 400, "badRequest", "application/zip")
			// A zip bomb: 5 MiB of zeros compress to a few KiB.
			bomb := appPackage(t, appManifest(pollsManifestID, botID, "1.0.0", nil), map[string][]byte{"zeros.bin": make([]byte, 5<<20)})
			if len(bomb) > 1<<20 {
				t.Fatalf("the bomb is %d bytes; it should compress", len(bomb))
			}
			wantError(t, admin.DoHeader("POST", "/v1.0/appCatalogs/teamsApps", bomb, zipHeader), 413, "payloadTooLarge")
			if n := len(admin.Must(200, "GET", "/v1.0/appCatalogs/teamsApps", nil).Map(t)["value"].([]any)); n != 0 {
				t.Errorf("after refused uploads the catalog has %d apps, want 0", n)
			}
		})

		appID := uploadApp(t, admin, pollsManifestID, botID)
		wantError(t, admin.DoHeader("POST", "/v1.0/appCatalogs/teamsApps", appPackage(t, appManifest(pollsManifestID, botID, "1.0.0", nil), nil), zipHeader), 409, "conflict")
		wantError(t, alice.DoHeader("POST", "/v1.0/appCatalogs/teamsApps", appPackage(t, appManifest("6f1a6a3e-52b3-4f0b-9a47-0f1b2e6c4d12", botID, "1.0.0", nil), nil), zipHeader), 403, "forbidden")

		var list struct {
			Value []struct {
				ID, ExternalID, DisplayName string
				AppDefinitions              []struct {
					Version string
					Bot     struct{ ID string }
				}
				Scopes []string
			}
		}
		alice.Must(200, "GET", "/v1.0/appCatalogs/teamsApps", nil).JSON(t, &list)
		if len(list.Value) != 1 || list.Value[0].ID != appID || list.Value[0].ExternalID != pollsManifestID || list.Value[0].AppDefinitions[0].Bot.ID != botID {
			t.Fatalf("catalog as a member sees it: %+v", list)
		}
		// docs/rules.md §9: guests cannot browse the host's store.
		wantError(t, gina.Do("GET", "/v1.0/appCatalogs/teamsApps", nil), 403, "forbiddenByPolicy", "Guests")

		admin.DoHeader("POST", "/v1.0/appCatalogs/teamsApps/"+appID+"/appDefinitions", appPackage(t, appManifest(pollsManifestID, botID, "1.1.0", nil), nil), zipHeader)
		var app struct {
			AppDefinitions []struct{ Version string }
		}
		alice.Must(200, "GET", "/v1.0/appCatalogs/teamsApps/"+appID, nil).JSON(t, &app)
		if app.AppDefinitions[0].Version != "1.1.0" {
			t.Errorf("after update: version %v, want 1.1.0", app.AppDefinitions)
		}
		wantError(t, admin.DoHeader("POST", "/v1.0/appCatalogs/teamsApps/"+appID+"/appDefinitions",
			appPackage(t, appManifest("6f1a6a3e-52b3-4f0b-9a47-0f1b2e6c4d13", botID, "2.0.0", nil), nil), zipHeader), 400, "badRequest", "id")

		// Another organisation sees none of it.
		fabrikam := s.CreateTenant("Fabrikam", "fabrikam.com")
		wantError(t, fabrikam.Admin.Do("GET", "/v1.0/appCatalogs/teamsApps/"+appID, nil), 404, "notFound")
		wantError(t, fabrikam.Admin.Do("GET", "/parley/v1/admin/bots/"+botID, nil), 404, "notFound")
		wantError(t, fabrikam.Admin.Do("DELETE", "/v1.0/appCatalogs/teamsApps/"+appID, nil), 404, "notFound")

		admin.Must(204, "DELETE", "/v1.0/appCatalogs/teamsApps/"+appID, nil)
		wantError(t, alice.Do("GET", "/v1.0/appCatalogs/teamsApps/"+appID, nil), 404, "notFound")
		admin.Must(204, "DELETE", "/parley/v1/admin/bots/"+botID, nil)
		wantError(t, admin.Do("GET", "/parley/v1/admin/bots/"+botID, nil), 404, "notFound")
	})
}

// acceptRequest has target accept the request of chatID.
func acceptRequest(tb testing.TB, target *parleytest.Client, chatID string) {
	tb.Helper()
	target.Must(204, "POST", "/parley/v1/me/requests/"+chatID+"/accept", nil)
}

// TestApps_Installs: docs/rules.md §9's table at every install, upgrade and
// removal: host users add apps to their chats (one with an external person
// included) as their own permission policy allows; guests and external
// people cannot; a guest's deep link lands in personal scope only, unpinned;
// a tenant-wide block stops everyone; guests keep Global.
func TestApps_Installs(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		admin := contoso.Admin
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		gina := s.User(contoso, "gina@outside.example", true)
		fabrikam := s.CreateTenant("Fabrikam", "fabrikam.com")
		frank := s.User(fabrikam, "frank", false)

		botID, _ := registerBot(t, admin, "Polls bot", "https://bots.example/api/messages")
		appID := uploadApp(t, admin, pollsManifestID, botID)

		group := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Plans",
			"members": []any{parleytest.Bind(alice.UserID, true), parleytest.Bind(bob.UserID, true), parleytest.Bind(gina.UserID, false)}}).Map(t)["id"].(string)
		external := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.ByEmail("frank@fabrikam.com")}}).Map(t)["id"].(string)
		acceptRequest(t, frank, external)

		// Host users add apps, in a chat with an external person too.
		var inst struct {
			ID       string
			IsPinned bool
			TeamsApp struct{ ID string }
		}
		alice.Must(201, "POST", "/v1.0/chats/"+external+"/installedApps", bindApp(appID)).JSON(t, &inst)
		if inst.TeamsApp.ID != appID {
			t.Fatalf("install: %+v", inst)
		}
		wantError(t, alice.Do("POST", "/v1.0/chats/"+external+"/installedApps", bindApp(appID)), 409, "conflict")
		var list struct{ Value []struct{ ID string } }
		frank.Must(200, "GET", "/v1.0/chats/"+external+"/installedApps", nil).JSON(t, &list)
		if len(list.Value) != 1 || list.Value[0].ID != inst.ID {
			t.Errorf("the external member lists %+v, want the install", list)
		}
		// External people cannot add, update or remove (docs/rules.md §9).
		wantError(t, frank.Do("POST", "/v1.0/chats/"+external+"/installedApps", bindApp(appID)), 403, "forbiddenByPolicy")
		wantError(t, frank.Do("POST", "/v1.0/chats/"+external+"/installedApps/"+inst.ID+"/upgrade", nil), 403, "forbiddenByPolicy")
		wantError(t, frank.Do("DELETE", "/v1.0/chats/"+external+"/installedApps/"+inst.ID, nil), 403, "forbiddenByPolicy")
		// Nor can guests, in their own host's chat.
		wantError(t, gina.Do("POST", "/v1.0/chats/"+group+"/installedApps", bindApp(appID)), 403, "forbiddenByPolicy", "Guests")
		// Someone outside a chat learns nothing of it.
		wantError(t, bob.Do("POST", "/v1.0/chats/"+external+"/installedApps", bindApp(appID)), 404, "notFound")
		wantError(t, bob.Do("GET", "/v1.0/chats/"+external+"/installedApps", nil), 404, "notFound")
		// Bad binds and unknown apps.
		wantError(t, alice.Do("POST", "/v1.0/chats/"+group+"/installedApps", map[string]any{"teamsApp@odata.bind": "nope"}), 400, "badRequest", "teamsApp@odata.bind")
		wantError(t, alice.Do("POST", "/v1.0/chats/"+group+"/installedApps", bindApp("00000000-0000-0000-0000-00000000dead")), 404, "notFound")

		alice.Must(204, "POST", "/v1.0/chats/"+external+"/installedApps/"+inst.ID+"/upgrade", nil)
		alice.Must(204, "DELETE", "/v1.0/chats/"+external+"/installedApps/"+inst.ID, nil)
		wantError(t, alice.Do("DELETE", "/v1.0/chats/"+external+"/installedApps/"+inst.ID, nil), 404, "notFound")

		// A host user's own permission policy decides for them.
		admin.Must(201, "POST", "/parley/v1/admin/appPermissionPolicies", map[string]any{"name": "NoPolls", "mode": "blockListed", "appIds": []string{appID}})
		admin.Must(204, "POST", "/parley/v1/admin/appPermissionPolicies/NoPolls/grant", map[string]any{"userIds": []string{alice.UserID}})
		wantError(t, alice.Do("POST", "/v1.0/chats/"+group+"/installedApps", bindApp(appID)), 403, "forbiddenByPolicy", "permission policy")
		if n := len(alice.Must(200, "GET", "/v1.0/appCatalogs/teamsApps", nil).Map(t)["value"].([]any)); n != 0 {
			t.Errorf("alice's catalog lists %d apps, want 0 (her policy blocks the one)", n)
		}
		var groupInst struct{ ID string }
		bob.Must(201, "POST", "/v1.0/chats/"+group+"/installedApps", bindApp(appID)).JSON(t, &groupInst)
		// Guests always have Global (docs/rules.md §9).
		wantError(t, admin.Do("POST", "/parley/v1/admin/appPermissionPolicies/NoPolls/grant", map[string]any{"userIds": []string{gina.UserID}}), 400, "badRequest", "Global")
		admin.Must(201, "POST", "/parley/v1/admin/appSetupPolicies", map[string]any{"name": "Staff", "appIds": []string{appID}, "pinnedAppIds": []string{appID}})
		wantError(t, admin.Do("POST", "/parley/v1/admin/appSetupPolicies/Staff/grant", map[string]any{"userIds": []string{gina.UserID}}), 400, "badRequest", "guest")
		admin.Must(204, "POST", "/parley/v1/admin/appSetupPolicies/Staff/grant", map[string]any{"userIds": []string{bob.UserID}})
		var personal struct {
			Value []struct {
				ID       string
				IsPinned bool
				TeamsApp struct{ ID string }
			}
		}
		bob.Must(200, "GET", "/v1.0/users/"+bob.UserID+"/teamwork/installedApps", nil).JSON(t, &personal)
		if len(personal.Value) != 1 || personal.Value[0].TeamsApp.ID != appID || !personal.Value[0].IsPinned {
			t.Errorf("bob's personal apps by setup policy: %+v, want the app, pinned", personal)
		}
		wantError(t, admin.Do("DELETE", "/parley/v1/admin/appSetupPolicies/Staff", nil), 409, "policyInUse")
		wantError(t, admin.Do("DELETE", "/parley/v1/admin/appSetupPolicies/Global", nil), 409, "conflict")
		wantError(t, alice.Do("GET", "/v1.0/users/"+bob.UserID+"/teamwork/installedApps", nil), 404, "notFound")

		// A guest's deep-link install: personal scope only, no app-bar icon.
		var deep struct{ IsPinned bool }
		gina.Must(201, "POST", "/l/app/"+appID, nil).JSON(t, &deep)
		if deep.IsPinned {
			t.Error("a guest's deep-link install is pinned, want unpinned")
		}
		wantError(t, gina.Do("POST", "/l/app/"+appID, map[string]any{"chatId": group}), 403, "forbiddenByPolicy", "personal scope")
		wantError(t, frank.Do("POST", "/l/app/"+appID, map[string]any{"chatId": external}), 403, "forbiddenByPolicy")
		// The guest still uses what host users added.
		gina.Must(200, "GET", "/v1.0/chats/"+group+"/installedApps", nil)
		wantError(t, gina.Do("DELETE", "/v1.0/chats/"+group+"/installedApps/"+groupInst.ID, nil), 403, "forbiddenByPolicy")

		// Explain, apps mode.
		ex := admin.Must(200, "GET", "/parley/v1/admin/explain?userId="+frank.UserID+"&appId="+appID+"&conversationId="+external+"&action=add", nil).Map(t)
		if ex["allowed"] != false || ex["who"] != "external" {
			t.Errorf("explain frank adding: %v, want refused as external", ex)
		}
		ex = admin.Must(200, "GET", "/parley/v1/admin/explain?userId="+alice.UserID+"&appId="+appID, nil).Map(t)
		if ex["allowed"] != false || !strings.Contains(fmt.Sprint(ex["checks"]), "NoPolls") {
			t.Errorf("explain alice: %v, want refused by NoPolls", ex)
		}
		wantError(t, admin.Do("GET", "/parley/v1/admin/explain?userId="+frank.UserID+"&appId="+appID, nil), 404, "notFound")
		wantError(t, alice.Do("GET", "/parley/v1/admin/explain?userId="+frank.UserID+"&appId="+appID, nil), 403, "forbidden")

		// Blocked for the whole organisation: nobody adds it.
		admin.Must(200, "PATCH", "/parley/v1/admin/teamsApps/"+appID, map[string]any{"isBlocked": true})
		admin.Must(204, "POST", "/parley/v1/admin/appPermissionPolicies/Global/grant", map[string]any{"userIds": []string{alice.UserID}})
		wantError(t, alice.Do("POST", "/v1.0/chats/"+external+"/installedApps", bindApp(appID)), 403, "forbiddenByPolicy", "blocked")
		// Removing a blocked app is always allowed.
		bob.Must(204, "DELETE", "/v1.0/chats/"+group+"/installedApps/"+groupInst.ID, nil)

		// The audit log has the changes.
		audit := admin.Must(200, "GET", "/parley/v1/admin/audit?action=app", nil).Body2()
		for _, action := range []string{"app.upload", "app.install", "app.uninstall", "appPermissionPolicy.create", "appPermissionPolicy.grant", "app.block"} {
			if !strings.Contains(audit, `"`+action+`"`) {
				t.Errorf("audit lacks %s", action)
			}
		}
	})
}

// TestApps_TeamInstalls: docs/rules.md §9 in a team: host users add apps to
// a team, guests in it use them but cannot add or remove them, and someone
// outside the team learns nothing of it.
func TestApps_TeamInstalls(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		gina := s.User(contoso, "gina@outside.example", true)
		botID, _ := registerBot(t, contoso.Admin, "Polls bot", "https://bots.example/api/messages")
		appID := uploadApp(t, contoso.Admin, pollsManifestID, botID)

		tm := alice.Must(201, "POST", "/v1.0/teams", map[string]any{"displayName": "Plans"}).Map(t)["id"].(string)
		m := parleytest.Bind(gina.UserID, false)
		m["roles"] = []string{"guest"}
		alice.Must(201, "POST", "/v1.0/teams/"+tm+"/members", m)

		wantError(t, gina.Do("POST", "/v1.0/teams/"+tm+"/installedApps", bindApp(appID)), 403, "forbiddenByPolicy", "Guests")
		wantError(t, bob.Do("POST", "/v1.0/teams/"+tm+"/installedApps", bindApp(appID)), 404, "notFound")
		var inst struct{ ID string }
		alice.Must(201, "POST", "/v1.0/teams/"+tm+"/installedApps", bindApp(appID)).JSON(t, &inst)
		var list struct{ Value []struct{ ID string } }
		gina.Must(200, "GET", "/v1.0/teams/"+tm+"/installedApps", nil).JSON(t, &list)
		if len(list.Value) != 1 || list.Value[0].ID != inst.ID {
			t.Errorf("the guest lists %+v, want the install", list)
		}
		wantError(t, gina.Do("DELETE", "/v1.0/teams/"+tm+"/installedApps/"+inst.ID, nil), 403, "forbiddenByPolicy")
		wantError(t, bob.Do("GET", "/v1.0/teams/"+tm+"/installedApps", nil), 404, "notFound")
		alice.Must(204, "DELETE", "/v1.0/teams/"+tm+"/installedApps/"+inst.ID, nil)
	})
}

// TestApps_Concurrent: installs of one app in one chat sent together from
// a barrier land once (the others 409 conflict); both stores.
func TestApps_Concurrent(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		botID, _ := registerBot(t, contoso.Admin, "Polls bot", "https://bots.example/api/messages")
		appID := uploadApp(t, contoso.Admin, pollsManifestID, botID)
		chatID := alice.OneOnOne(bob.UserID)

		body := mustJSON(t, bindApp(appID))
		reqs := make([]parleytest.Req, 8)
		for i := range reqs {
			tok := alice.Token
			if i%2 == 1 {
				tok = bob.Token
			}
			reqs[i] = parleytest.Req{Method: "POST", URL: s.URL() + "/v1.0/chats/" + chatID + "/installedApps", Token: tok, JSON: body}
		}
		created, conflicts := 0, 0
		for _, r := range parleytest.Burst(t, reqs) {
			switch r.Status {
			case 201:
				created++
			case 409:
				conflicts++
			default:
				t.Errorf("concurrent install: %d %s", r.Status, r.Body)
			}
		}
		if created != 1 || conflicts != 7 {
			t.Errorf("concurrent installs: %d created, %d conflicts; want 1 and 7", created, conflicts)
		}
		var list struct{ Value []any }
		alice.Must(200, "GET", "/v1.0/chats/"+chatID+"/installedApps", nil).JSON(t, &list)
		if len(list.Value) != 1 {
			t.Errorf("installs after the burst: %d, want 1", len(list.Value))
		}
	})
}

// TestApps_ExplainTeam: docs/rules.md §9, GET /parley/v1/admin/explain in
// a team's conversations: conversationId names the team, a channel or a
// channel's thread, and the answer is May's for the person there (the
// context channel, the install in the team, the person's role in the
// team, their own permission policy or, for a guest, the host's Global,
// the tenant-wide block). Someone not in the team, a person of another
// organisation (a team never has one) and another organisation's team are
// 404. Both stores.
func TestApps_ExplainTeam(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := startPolls(t, store)
		s, contoso, appID := w.s, w.contoso, w.appID
		admin := contoso.Admin
		alice, bob, carol, gina, fabrikam, frank := appsCast(s, contoso)
		tm, general := teamWithGuest(t, alice, gina)
		alice.Must(201, "POST", "/v1.0/teams/"+tm+"/members", parleytest.Bind(bob.UserID, false))
		// frank shares a chat with alice, so Contoso knows him.
		ext := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.ByEmail("frank@fabrikam.com")}}).Map(t)["id"].(string)
		acceptRequest(t, frank, ext)
		theirs := fabrikam.Admin.Must(201, "POST", "/v1.0/teams", map[string]any{"displayName": "Fabrikam plans"}).Map(t)["id"].(string)

		explain := func(u *parleytest.Client, conv, action string) map[string]any {
			t.Helper()
			q := url.Values{"userId": {u.UserID}, "appId": {appID}, "conversationId": {conv}}
			if action != "" {
				q.Set("action", action)
			}
			return admin.Must(200, "GET", "/parley/v1/admin/explain?"+q.Encode(), nil).Map(t)
		}
		// check returns the check of a rule, nil when it was not reached.
		check := func(ex map[string]any, rule string) map[string]any {
			checks, _ := ex["checks"].([]any)
			for _, c := range checks {
				if m := c.(map[string]any); m["rule"] == rule {
					return m
				}
			}
			return nil
		}

		ex := explain(bob, tm, "")
		if ex["allowed"] != false || ex["context"] != "channel" || ex["teamId"] != tm || ex["teamRole"] != "member" ||
			check(ex, "app.installed")["value"] != false || !strings.Contains(fmt.Sprint(ex["message"]), "not installed") {
			t.Errorf("explain before the team has the app: %s", mustString(ex))
		}
		alice.Must(201, "POST", "/v1.0/teams/"+tm+"/installedApps", bindApp(appID))
		ex = explain(alice, tm, "")
		if ex["allowed"] != true || ex["who"] != "hostUser" || ex["teamRole"] != "owner" || ex["channelId"] != nil ||
			check(ex, "policy.appPermission")["source"] != "own app permission policy" || check(ex, "policy.appPermission")["policy"] != "Global" {
			t.Errorf("explain alice in the team: %s", mustString(ex))
		}
		ex = explain(gina, general, "messageExtension")
		if ex["allowed"] != true || ex["who"] != "guest" || ex["teamRole"] != "guest" || ex["channelId"] != general || ex["teamId"] != tm ||
			ex["action"] != "messageExtension" || check(ex, "policy.appPermission")["source"] != "host's Global app permission policy" {
			t.Errorf("explain gina in General: %s", mustString(ex))
		}
		if ex = explain(bob, general+";messageid=1", "mention"); ex["allowed"] != true || ex["channelId"] != general {
			t.Errorf("explain bob in a thread: %s", mustString(ex))
		}

		admin.Must(201, "POST", "/parley/v1/admin/appPermissionPolicies", map[string]any{"name": "NoPolls", "mode": "blockListed", "appIds": []string{appID}})
		admin.Must(204, "POST", "/parley/v1/admin/appPermissionPolicies/NoPolls/grant", map[string]any{"userIds": []string{alice.UserID}})
		ex = explain(alice, general, "")
		if c := check(ex, "policy.appPermission"); ex["allowed"] != false || c["policy"] != "NoPolls" || c["value"] != false {
			t.Errorf("explain alice under NoPolls: %s", mustString(ex))
		}
		admin.Must(200, "PATCH", "/parley/v1/admin/appPermissionPolicies/Global", map[string]any{"mode": "blockListed", "appIds": []string{appID}})
		ex = explain(gina, tm, "card")
		if c := check(ex, "policy.appPermission"); ex["allowed"] != false || c["source"] != "host's Global app permission policy" || c["value"] != false {
			t.Errorf("explain gina under a Global that blocks the app: %s", mustString(ex))
		}
		admin.Must(200, "PATCH", "/parley/v1/admin/appPermissionPolicies/Global", map[string]any{"mode": "allowAll", "appIds": []string{}})
		admin.Must(200, "PATCH", "/parley/v1/admin/teamsApps/"+appID, map[string]any{"isBlocked": true})
		ex = explain(bob, general, "")
		if c := check(ex, "tenant.blockedApps"); ex["allowed"] != false || c == nil || c["value"] != false || check(ex, "policy.appPermission") != nil {
			t.Errorf("explain bob with the app blocked: %s", mustString(ex))
		}

		for name, q := range map[string]string{
			"not in the team":      "userId=" + carol.UserID + "&conversationId=" + tm,
			"another organisation": "userId=" + frank.UserID + "&conversationId=" + url.QueryEscape(general),
			"their team":           "userId=" + alice.UserID + "&conversationId=" + theirs,
			"no such conversation": "userId=" + alice.UserID + "&conversationId=nope",
		} {
			r := admin.Do("GET", "/parley/v1/admin/explain?appId="+appID+"&"+q, nil)
			if r.Status != 404 {
				t.Errorf("%s: %d %s, want 404", name, r.Status, r.Body)
			}
		}
		// frank is explained where he is: the chat he shares with alice.
		if ex = explain(frank, ext, ""); ex["who"] != "external" || ex["teamId"] != nil {
			t.Errorf("explain frank in the shared chat: %s", mustString(ex))
		}
	})
}
