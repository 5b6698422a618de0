package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/cli"
	"github.com/parleychat/parley/internal/parleytest"
)

// TestAdminFilesCLI: files get and set mirror
// /parley/v1/admin/fileConfiguration; a missing flag changes nothing.
func TestAdminFilesCLI(t *testing.T) {
	s := parleytest.StartStore(t, "sqlite")
	contoso := s.CreateTenant("Contoso", "contoso.com")
	env := func(k string) string {
		return map[string]string{"PARLEY_URL": s.URL(), "PARLEY_ADMIN_USER": "admin@contoso.com", "PARLEY_ADMIN_PASSWORD": parleytest.Password}[k]
	}
	run := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := cli.Run(context.Background(), append([]string{"admin"}, args...), env, &out, &errb); code != want {
			t.Fatalf("parley admin %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}
	if out := run(0, "files", "get"); !strings.Contains(out, `"allowExternalFileSharing": true`) {
		t.Fatalf("get: %s", out)
	}
	if out := run(2, "files", "set"); !strings.Contains(out, "--allow-external is required") {
		t.Fatalf("set without the flag: %s", out)
	}
	if out := run(0, "files", "set", "--allow-external=false"); !strings.Contains(out, `"allowExternalFileSharing": false`) {
		t.Fatalf("set: %s", out)
	}
	if got := contoso.Admin.Must(200, "GET", "/parley/v1/admin/fileConfiguration", nil).Map(t); got["allowExternalFileSharing"] != false {
		t.Fatalf("API after set: %v", got)
	}
}
