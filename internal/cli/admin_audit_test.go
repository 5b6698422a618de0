package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/audit"
	"github.com/parleychat/parley/internal/config"
	"github.com/parleychat/parley/internal/identity"
)

// runAdminAudit is tested in-package until it is in the command table.
func TestAdminAuditExport(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Store.DataDir = dir
	services, err := openServices(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := services.DB
	ta, admin, err := services.Identity.CreateTenant(ctx, identity.NewTenant{DisplayName: "Contoso", Domains: []string{"contoso.com"},
		Admin: identity.NewAccount{DisplayName: "Ada Admin", UPN: "ada@contoso.com", Password: "correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	svc := services.Audit
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, action := range []string{audit.PolicyCreate, audit.RequestAccepted, audit.PolicyGrant} {
		if err := svc.Append(ctx, audit.Entry{TenantID: ta.ID, Time: at.Add(time.Duration(i) * 24 * time.Hour), Actor: string(admin.ID), Action: action, Target: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Append(ctx, audit.Entry{TenantID: "other", Actor: "system", Action: audit.PolicyCreate, Target: "secret"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	run := func(args ...string) (string, string, error) {
		var stdout, stderr bytes.Buffer
		e := env{getenv: func(k string) string { return map[string]string{"PARLEY_DATA": dir}[k] }, stdout: &stdout, stderr: &stderr}
		err := runAdminAudit(ctx, e, args)
		return stdout.String(), stderr.String(), err
	}
	actions := func(out string) []string {
		var got []string
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var l struct{ TenantID, Action string }
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			if l.TenantID != string(ta.ID) {
				t.Errorf("line of another tenant: %q", sc.Text())
			}
			got = append(got, l.Action)
		}
		return got
	}

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"by domain", []string{"audit", "export", "--tenant", "contoso.com"}, []string{audit.PolicyCreate, audit.RequestAccepted, audit.PolicyGrant}},
		{"by id", []string{"audit", "export", "--tenant", string(ta.ID)}, []string{audit.PolicyCreate, audit.RequestAccepted, audit.PolicyGrant}},
		{"action", []string{"audit", "export", "--tenant", "contoso.com", "--action", "externalAccessPolicy."}, []string{audit.PolicyCreate, audit.PolicyGrant}},
		{"since date", []string{"audit", "export", "--tenant", "contoso.com", "--since", "2025-03-02"}, []string{audit.RequestAccepted, audit.PolicyGrant}},
		{"until time", []string{"audit", "export", "--tenant", "contoso.com", "--until", "2025-03-02T09:00:00Z"}, []string{audit.PolicyCreate}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, err := run(tt.args...)
			if err != nil {
				t.Fatalf("got %v (%s)", err, stderr)
			}
			if got := actions(out); strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("actions: got %v, want %v", got, tt.want)
			}
		})
	}

	for _, tt := range []struct {
		name  string
		args  []string
		usage bool
	}{
		{"no subcommand", []string{"audit"}, true},
		{"wrong subcommand", []string{"audit", "list"}, true},
		{"no tenant", []string{"audit", "export"}, true},
		{"unknown tenant", []string{"audit", "export", "--tenant", "nowhere.example"}, false},
		{"bad since", []string{"audit", "export", "--tenant", "contoso.com", "--since", "yesterday"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := run(tt.args...)
			if err == nil || errors.Is(err, errUsage) != tt.usage {
				t.Errorf("got %v, want an error (usage: %v)", err, tt.usage)
			}
			if out != "" {
				t.Errorf("stdout: got %q, want nothing", out)
			}
		})
	}
}
