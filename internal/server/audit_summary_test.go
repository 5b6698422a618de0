package server_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestS10_AuditSummaries: every audit record carries a sentence naming
// people, teams and apps (never their ids) and, for a change, only what
// changed, for the actions of teams, meetings and files as for the older
// ones; a non-admin still cannot read the log.
func TestS10_AuditSummaries(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		d := newDaily(t, store)
		admin := d.contoso.Admin
		admin.Must(200, "PATCH", "/parley/v1/admin/fileConfiguration", map[string]any{"allowExternalFileSharing": false})
		admin.Must(200, "PATCH", "/parley/v1/admin/meetingConfiguration", map[string]any{"lobbyBypass": "everyone"})
		team, _ := createTeam(t, d.alice, "Marketing")
		addMember(t, d.alice, team, d.bob.UserID, "owner")
		d.alice.Must(201, "POST", "/v1.0/teams/"+team+"/channels", map[string]any{"displayName": "Launch"})
		id := d.erin.ChatWith(parleytest.ByEmail("bob@contoso.com")).Map(t)["id"].(string)
		d.erin.Send(id, "hello")
		d.bob.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)

		var out struct {
			Value []struct {
				Action  string `json:"action"`
				Summary string `json:"summary"`
			} `json:"value"`
		}
		admin.Must(200, "GET", "/parley/v1/admin/audit", nil).JSON(t, &out)
		got := map[string]string{}
		uuid := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-`)
		for _, r := range out.Value {
			if strings.Contains(r.Summary, " did ") || uuid.MatchString(r.Summary) || !strings.HasSuffix(r.Summary, ".") {
				t.Errorf("%s: %q", r.Action, r.Summary)
			}
			got[r.Action] = r.Summary
		}
		for action, want := range map[string]string{
			"fileConfiguration.update":     "Contoso Admin turned file sharing with people outside the organisation off.",
			"meetingConfiguration.updated": "Contoso Admin changed the meeting settings: who skips the lobby organization → everyone.",
			"team.created":                 "Alice created the team Marketing.",
			"team.memberAdded":             "Alice added Bob to the team Marketing as an owner.",
			"team.channelCreated":          "Alice created the channel Launch in the team Marketing.",
			"request.accepted":             "Bob accepted a message request from someone outside the organisation.",
		} {
			if got[action] != want {
				t.Errorf("%s: got %q, want %q", action, got[action], want)
			}
		}
		if r := d.alice.Do("GET", "/parley/v1/admin/audit", nil); r.Status != 403 {
			t.Errorf("non-admin read the audit log: %d", r.Status)
		}
	})
}
