package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/cli"
	"github.com/parleychat/parley/internal/parleytest"
)

// adminEnv is the environment of `parley admin` against the server at
// base, signed in as the harness's admin of contoso.com.
func adminEnv(base string) func(string) string {
	env := map[string]string{"PARLEY_URL": base, "PARLEY_ADMIN_USER": "admin@contoso.com", "PARLEY_ADMIN_PASSWORD": parleytest.Password}
	return func(k string) string { return env[k] }
}

// adminCLI returns a function that runs `parley admin args…` in-process
// against the server at base (adminEnv), fails the test unless it exits
// with want, and returns its standard output and error.
func adminCLI(t *testing.T, base string) func(want int, args ...string) string {
	return func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := cli.Run(context.Background(), append([]string{"admin"}, args...), adminEnv(base), &out, &errb); code != want {
			t.Fatalf("parley admin %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}
}

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

	run := adminCLI(t, w.URL())

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
	out = run(0, "explain", "--for", "alice@contoso.com", "--address", "someone@gmail.com", "--json")
	if !strings.Contains(out, `"allowed": false`) || !strings.Contains(out, "tenant.allowTeamsConsumer") {
		t.Fatalf("explain --json: %s", out)
	}
	run(0, "federation", "set", "--allow-teams-consumer=true")
	ev.WaitCount("chatWritable", 1, time.Second)

	run(0, "policy", "create", "NoFed", "--federation=false")
	run(0, "policy", "grant", "NoFed", "--users", "alice@contoso.com")
	if out := run(0, "policy", "of", "alice@contoso.com"); !strings.Contains(out, `"NoFed"`) {
		t.Fatalf("policy of: %s", out)
	}
	if out := run(1, "policy", "delete", "NoFed"); !strings.Contains(out, "policyInUse") || !strings.Contains(out, "--reset-users") || strings.Contains(out, "resetUsers=") {
		t.Fatalf("delete in use: got %q, want policyInUse naming the flag --reset-users, not the API's resetUsers=true", out)
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
		return adminEnv(w.URL())(k)
	}
	if code := cli.Run(context.Background(), []string{"admin", "federation", "show"}, bad, &out2, &errb); code != 1 || !strings.Contains(errb.String(), "wrong address or password") {
		t.Fatalf("bad password: %d %s", code, errb.String())
	}
	run(2, "frobnicate")
}

// TestAdminCLIReadable: explain prints a verdict and one line per rule
// (--json the API's answer, where a check's outcome and a setting's value
// are separate fields), and outbox lists every delivery unless asked for
// one status.
func TestAdminCLIReadable(t *testing.T) {
	w := parleytest.StartWorld(t, "sqlite")
	contoso := w.CreateTenant("Contoso", "contoso.com")
	w.User(contoso, "alice", false)
	w.CreateTenant("Fabrikam", "fabrikam.com")
	run := adminCLI(t, w.URL())
	type check struct {
		Rule    string `json:"rule"`
		Value   bool   `json:"value"`
		Passed  *bool  `json:"passed"`
		Setting *bool  `json:"setting"`
		Source  string `json:"source"`
	}
	explainJSON := func(address string) map[string]check {
		t.Helper()
		var ex struct {
			Allowed bool    `json:"allowed"`
			Checks  []check `json:"checks"`
		}
		out := run(0, "explain", "--for", "alice@contoso.com", "--address", address, "--json")
		if err := json.Unmarshal([]byte(out), &ex); err != nil {
			t.Fatalf("explain --json: %v\n%s", err, out)
		}
		m := map[string]check{}
		for _, c := range ex.Checks {
			if c.Passed == nil || *c.Passed != c.Value {
				t.Errorf("explain --json %s: check %s: got passed %v, want present and equal to value %v", address, c.Rule, c.Passed, c.Value)
			}
			m[c.Rule] = c
		}
		return m
	}

	run(0, "federation", "set", "--allow-teams-consumer=false", "--blocked-domains", "fabrikam.com")
	out := run(0, "explain", "--for", "alice@contoso.com", "--address", "someone@gmail.com")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if want := "Not allowed: alice@contoso.com cannot start a chat with someone@gmail.com."; lines[0] != want {
		t.Errorf("explain: got first line %q, want %q\n%s", lines[0], want, out)
	}
	var rules []string
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 0 && (f[0] == "pass" || f[0] == "FAIL") {
			rules = append(rules, l)
		}
	}
	checks := explainJSON("someone@gmail.com")
	if len(rules) != len(checks) || len(rules) == 0 {
		t.Errorf("explain: got %d rule lines, want one per check (%d):\n%s", len(rules), len(checks), out)
	}
	for _, want := range []string{
		"FAIL  Your organisation allows chats with personal accounts  tenant.allowTeamsConsumer = false, tenant setting",
		"pass  Their policy allows chats with personal accounts",
		"policy.enableTeamsConsumerAccess = true, policy Global",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain: got\n%s\nwant a line containing %q", out, want)
		}
	}
	if c := checks["tenant.allowTeamsConsumer"]; c.Setting == nil || *c.Setting || *c.Passed {
		t.Errorf("explain --json: tenant.allowTeamsConsumer: got %+v, want passed false and setting false", c)
	}

	// A domain on the blocked list: the check fails, and no on/off setting
	// is shown that could read as "the list is off".
	checks = explainJSON("erin@fabrikam.com")
	if c, ok := checks["tenant.blockedDomains"]; !ok || *c.Passed || c.Setting != nil {
		t.Errorf("explain --json: tenant.blockedDomains: got %+v (present %v), want passed false and no setting", c, ok)
	}
	if c := checks["tenant.allowFederatedUsers"]; c.Setting == nil || !*c.Setting || !*c.Passed {
		t.Errorf("explain --json: tenant.allowFederatedUsers: got %+v, want passed true and setting true", c)
	}
	if out := run(0, "explain", "--for", "alice@contoso.com", "--address", "erin@fabrikam.com"); !strings.Contains(out, "FAIL  The address's domain is not blocked") {
		t.Errorf("explain to a blocked domain: got\n%s\nwant the failing tenant.blockedDomains rule in words", out)
	}

	// Outbox: without --status every delivery is listed (this one was
	// sent, not failed); --status failed lists none here.
	w.Anonymous().Must(http.StatusAccepted, "POST", "/parley/v1/passwordReset", map[string]any{"email": "alice@contoso.com"})
	w.MailTo("alice@contoso.com", 1)
	if out := run(0, "outbox"); !strings.Contains(out, "alice@contoso.com") {
		t.Errorf("outbox: got\n%s\nwant the reset mail to alice@contoso.com", out)
	}
	if out := run(0, "outbox", "--status", "failed"); strings.Contains(out, "alice@contoso.com") {
		t.Errorf("outbox --status failed: got\n%s\nwant no delivery to alice@contoso.com", out)
	}
	if out := run(2, "outbox", "--status", "broken"); !strings.Contains(out, "--status") {
		t.Errorf("outbox --status broken: got %q, want a message naming --status", out)
	}
}

// TestAdminMissingFlags: an admin command without a required flag exits 2
// naming it, before it calls the server.
func TestAdminMissingFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"explain without --address", []string{"explain", "--for", "a@x.com"}, "--address is required"},
		{"explain without --for", []string{"explain", "--address", "b@y.com"}, "--for is required"},
		{"policy grant without --users", []string{"policy", "grant", "NoFed"}, "--users is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			args := append([]string{"admin"}, append(tt.args, "--url", "http://127.0.0.1:1", "--token", "t")...)
			code := cli.Run(context.Background(), args, func(string) string { return "" }, &out, &errb)
			if code != 2 || !strings.Contains(errb.String(), tt.want) || strings.Contains(errb.String(), "127.0.0.1:1") {
				t.Errorf("parley %s: got exit %d, stderr %q; want 2 and %q before any call to the server", strings.Join(args, " "), code, errb.String(), tt.want)
			}
		})
	}
}

// TestAdminCLITeams: 'parley admin teams list' lists every team of the
// admin's organisation (the admin need not be in them) with its people
// counted, and 'teams members' shows who is in one, guests marked.
func TestAdminCLITeams(t *testing.T) {
	s := parleytest.StartStore(t, "sqlite")
	contoso := s.CreateTenant("Contoso", "contoso.com")
	alice := s.User(contoso, "alice", false)
	gina := s.User(contoso, "gina@gmail.com", true)
	var ids []string
	for _, name := range []string{"Launch", "Ops"} {
		ids = append(ids, alice.Must(201, "POST", "/v1.0/teams", map[string]any{"displayName": name}).Map(t)["id"].(string))
	}
	alice.Must(201, "POST", "/v1.0/teams/"+ids[0]+"/members", parleytest.Bind(gina.UserID, false))
	fabrikam := s.CreateTenant("Fabrikam", "fabrikam.com")
	other := s.User(fabrikam, "erin", false).Must(201, "POST", "/v1.0/teams", map[string]any{"displayName": "Elsewhere"}).Map(t)["id"].(string)

	run := adminCLI(t, s.URL())
	var list struct {
		Value []struct {
			ID          string
			DisplayName string
			Summary     struct{ OwnersCount, MembersCount, GuestsCount int }
		}
	}
	if err := json.Unmarshal([]byte(run(0, "teams", "list")), &list); err != nil || len(list.Value) != 2 {
		t.Fatalf("teams list: %v %+v", err, list)
	}
	if v := list.Value[0]; v.ID != ids[0] || v.DisplayName != "Launch" || v.Summary.OwnersCount != 1 || v.Summary.GuestsCount != 1 || v.Summary.MembersCount != 0 {
		t.Fatalf("teams list: %+v", v)
	}
	out := run(0, "teams", "members", ids[0])
	if !strings.Contains(out, gina.UserID) || !strings.Contains(out, `"guest"`) {
		t.Fatalf("teams members: %s", out)
	}
	if out := run(1, "teams", "members", other); !strings.Contains(out, "notFound") {
		t.Fatalf("another organisation's team: %s", out)
	}
	run(2, "teams", "members")
}
