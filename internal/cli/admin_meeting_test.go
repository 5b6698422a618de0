package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestAdminMeetingConfigCLI: meeting-config get and set mirror
// /parley/v1/admin/meetingConfiguration (docs/rules.md §8); bad flags change nothing.
func TestAdminMeetingConfigCLI(t *testing.T) {
	s := parleytest.StartStore(t, "sqlite")
	contoso := s.CreateTenant("Contoso", "contoso.com")
	run := adminCLI(t, s.URL())
	type config struct {
		AllowAnonymousUsersToJoinMeeting  bool
		LobbyBypass                       string
		AnonymousUsersCanInteractWithApps bool
	}
	var c config
	if err := json.Unmarshal([]byte(run(0, "meeting-config", "get")), &c); err != nil || c != (config{true, "organization", true}) {
		t.Fatalf("get: %v %+v", err, c)
	}
	if err := json.Unmarshal([]byte(run(0, "meeting-config", "set", "--allow-anonymous=false", "--lobby-bypass", "everyone")), &c); err != nil || c != (config{false, "everyone", true}) {
		t.Fatalf("set: %v %+v", err, c)
	}
	run(2, "meeting-config", "set", "--lobby-bypass", "nobody")
	run(2, "meeting-config", "set")
	run(2, "meeting-config", "show")
	run(2, "meeting-config")
	var api config
	contoso.Admin.Must(200, "GET", "/parley/v1/admin/meetingConfiguration", nil).JSON(t, &api)
	if api != (config{false, "everyone", true}) {
		t.Fatalf("the API after the CLI: %+v", api)
	}
	if out := run(0, "help"); !strings.Contains(out, "meeting-config set") {
		t.Fatalf("admin help does not list meeting-config: %s", out)
	}
}
