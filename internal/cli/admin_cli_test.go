package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/cli"
	"github.com/parleychat/parley/internal/parleytest"
)

// TestAdminCLI: the admin commands mirror the admin API against a running
// server, and a change made with them acts at once on open chats.
func TestAdminCLI(t *testing.T) {
	w := parleytest.StartWorld(t, "sqlite")
	contoso := w.CreateTenant("Contoso", "contoso.com")
	alice := w.User(contoso, "alice", false)
	pat := w.Personal("pat@gmail.com")
	id := alice.ChatWith(parleytest.ByEmail("pat@gmail.com")).Map(t)["id"].(string)
	pat.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
	ev := pat.Events(-1)

	env := func(k string) string {
		return map[string]string{"PARLEY_URL": w.URL(), "PARLEY_ADMIN_USER": "admin@contoso.com", "PARLEY_ADMIN_PASSWORD": parleytest.Password}[k]
	}
	run := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := cli.Run(context.Background(), append([]string{"admin"}, args...), env, &out, &errb); code != want {
			t.Fatalf("parley admin %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}

	out := run(0, "federation", "set", "--allow-teams-consumer=false", "--blocked-domains", "evil.com,spam.org")
	var fc map[string]any
	if err := json.Unmarshal([]byte(out), &fc); err != nil || fc["allowTeamsConsumer"] != false || len(fc["blockedDomains"].([]any)) != 2 {
		t.Fatalf("federation set: %s", out)
	}
	ev.WaitCount("chatReadOnly", 1, time.Second)
	if r := pat.Do("POST", "/v1.0/chats/"+id+"/messages", map[string]any{"body": map[string]string{"content": "x"}}); r.ErrorCode() != "chatReadOnly" {
		t.Fatalf("after CLI change: %d %s", r.Status, r.Body)
	}
	if out := run(0, "federation", "show"); !strings.Contains(out, `"allowTeamsConsumer": false`) {
		t.Fatalf("federation show: %s", out)
	}
	out = run(0, "explain", "--for", "alice@contoso.com", "--address", "someone@gmail.com")
	if !strings.Contains(out, `"allowed": false`) || !strings.Contains(out, "tenant.allowTeamsConsumer") {
		t.Fatalf("explain: %s", out)
	}
	run(0, "federation", "set", "--allow-teams-consumer=true")
	ev.WaitCount("chatWritable", 1, time.Second)

	run(0, "policy", "create", "NoFed", "--federation=false")
	run(0, "policy", "grant", "NoFed", "--users", "alice@contoso.com")
	if out := run(0, "policy", "of", "alice@contoso.com"); !strings.Contains(out, `"NoFed"`) {
		t.Fatalf("policy of: %s", out)
	}
	if out := run(1, "policy", "delete", "NoFed"); !strings.Contains(out, "policyInUse") {
		t.Fatalf("delete in use: %s", out)
	}
	run(0, "policy", "delete", "NoFed", "--reset-users")
	if out := run(0, "policy", "of", "alice@contoso.com"); !strings.Contains(out, `"Global"`) {
		t.Fatalf("after reset: %s", out)
	}
	if out := run(0, "audit", "list", "--action", "externalAccessPolicy."); !strings.Contains(out, "externalAccessPolicy.delete") {
		t.Fatalf("audit list: %s", out)
	}
	// Wrong credentials and unknown commands fail clearly.
	var out2, errb bytes.Buffer
	bad := func(k string) string {
		if k == "PARLEY_ADMIN_PASSWORD" {
			return "wrong password"
		}
		return env(k)
	}
	if code := cli.Run(context.Background(), []string{"admin", "federation", "show"}, bad, &out2, &errb); code != 1 || !strings.Contains(errb.String(), "wrong address or password") {
		t.Fatalf("bad password: %d %s", code, errb.String())
	}
	run(2, "frobnicate")
}
