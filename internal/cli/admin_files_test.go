package cli_test

import (
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestAdminFilesCLI: files get and set mirror
// /parley/v1/admin/fileConfiguration; a missing flag changes nothing.
func TestAdminFilesCLI(t *testing.T) {
	s := parleytest.StartStore(t, "sqlite")
	contoso := s.CreateTenant("Contoso", "contoso.com")
	run := adminCLI(t, s.URL())
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
