package cli_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestAdminAppsCLI: the app, bot, app-policy and explain-app commands
// mirror the apps API (docs/rules.md §9).
func TestAdminAppsCLI(t *testing.T) {
	s := parleytest.StartStore(t, "sqlite")
	contoso := s.CreateTenant("Contoso", "contoso.com")
	alice := s.User(contoso, "alice", false)
	gina := s.User(contoso, "gina@outside.example", true)
	run := adminCLI(t, s.URL())
	var bot struct{ ID, Secret string }
	if err := json.Unmarshal([]byte(run(0, "bot", "register", "--name", "Polls", "--endpoint", "https://bots.example/api/messages")), &bot); err != nil || bot.Secret == "" {
		t.Fatalf("bot register: %v %+v", err, bot)
	}
	pkg := filepath.Join(t.TempDir(), "polls.zip")
	writePackage(t, pkg, bot.ID)
	var app struct{ ID string }
	if err := json.Unmarshal([]byte(run(0, "app", "upload", pkg)), &app); err != nil || app.ID == "" {
		t.Fatalf("app upload: %v", err)
	}
	if out := run(0, "app", "list"); !strings.Contains(out, app.ID) {
		t.Fatalf("app list: %s", out)
	}
	if out := run(1, "app", "upload", pkg); !strings.Contains(out, "conflict") {
		t.Fatalf("second upload: %s", out)
	}
	run(0, "app-policy", "create", "permission", "NoPolls", "--mode", "blockListed", "--apps", app.ID)
	run(0, "app-policy", "grant", "permission", "NoPolls", "--users", "alice@contoso.com")
	if out := run(1, "app-policy", "grant", "setup", "Global", "--users", gina.UserID+",nobody@contoso.com"); !strings.Contains(out, "nobody@contoso.com") {
		t.Fatalf("grant to an unknown user: %s", out)
	}
	if out := run(0, "explain-app", "--for", "alice@contoso.com", "--app", app.ID); !strings.Contains(out, `"allowed": false`) || !strings.Contains(out, "NoPolls") {
		t.Fatalf("explain-app: %s", out)
	}
	// A team's channel, for a guest of the team.
	tm := alice.Must(201, "POST", "/v1.0/teams", map[string]any{"displayName": "Plans"}).Map(t)["id"].(string)
	guest := parleytest.Bind(gina.UserID, false)
	guest["roles"] = []string{"guest"}
	alice.Must(201, "POST", "/v1.0/teams/"+tm+"/members", guest)
	general := alice.Must(200, "GET", "/v1.0/teams/"+tm+"/primaryChannel", nil).Map(t)["id"].(string)
	if out := run(0, "explain-app", "--for", gina.UserID, "--app", app.ID, "--conversation", general, "--action", "messageExtension"); !strings.Contains(out, `"teamRole": "guest"`) ||
		!strings.Contains(out, `"context": "channel"`) || !strings.Contains(out, `"teamId": "`+tm+`"`) {
		t.Fatalf("explain-app in a channel: %s", out)
	}
	if out := run(0, "app-policy", "list", "permission"); !strings.Contains(out, "NoPolls") {
		t.Fatalf("app-policy list: %s", out)
	}
	run(0, "app-policy", "delete", "permission", "NoPolls", "--reset-users")
	run(0, "app", "block", app.ID)
	run(0, "bot", "rotate-secret", bot.ID)
	run(0, "app", "delete", app.ID)
	run(0, "bot", "delete", bot.ID)
	run(2, "app-policy", "list", "sideways")
	run(2, "bot")
}

func writePackage(tb testing.TB, file, botID string) {
	tb.Helper()
	manifest := map[string]any{"manifestVersion": "1.17", "version": "1.0.0", "id": "0b6f9d0e-6a51-4f55-9c36-64c9b1f1e7a2",
		"developer":   map[string]any{"name": "Contoso", "websiteUrl": "https://contoso.com", "privacyUrl": "https://contoso.com/p", "termsOfUseUrl": "https://contoso.com/t"},
		"name":        map[string]any{"short": "Polls"},
		"description": map[string]any{"short": "Polls", "full": "Quick polls."},
		"icons":       map[string]any{"outline": "o.png", "color": "c.png"}, "accentColor": "#FFFFFF",
		"bots": []any{map[string]any{"botId": botID, "scopes": []string{"personal", "groupChat"}}}}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	m, _ := json.Marshal(manifest)
	for name, b := range map[string][]byte{"manifest.json": m, "o.png": []byte("png"), "c.png": []byte("png")} {
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
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
}
