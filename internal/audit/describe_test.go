package audit_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/audit"
)

// names knows Ada, Bob, the team Marketing and the app Polls; anything
// else is unknown (a person the admin may not see).
type names struct{}

func (names) User(id string) string {
	return map[string]string{"u-ada": "Ada Admin", "u-bob": "Bob"}[id]
}
func (names) Team(id string) string { return map[string]string{"t-1": "Marketing"}[id] }
func (names) App(id string) string  { return map[string]string{"a-1": "Polls"}[id] }

// entry builds an entry whose details read back as the store gives them
// (through JSON: numbers float64, lists []any).
func entry(t *testing.T, actor, action, target, details string) audit.Entry {
	t.Helper()
	e := audit.Entry{Actor: actor, Action: action, Target: target}
	if details != "" {
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func TestDescribe(t *testing.T) {
	tests := []struct{ action, actor, target, details, want string }{
		{"federationConfiguration.update", "u-ada", "tenant", `{"before":{"allowTeamsConsumer":true,"blockedDomains":[]},"after":{"allowTeamsConsumer":false,"blockedDomains":[]}}`,
			"Ada Admin changed the external access settings: chat with personal accounts on → off."},
		{"externalAccessPolicy.grant", "u-ada", "Strict", `{"userIds":["u-bob","u-zz"]}`, "Ada Admin gave the policy Strict to Bob and someone."},
		{"request.accepted", "u-bob", "u-zz", `{}`, "Bob accepted a message request from someone outside the organisation."},
		{"team.created", "u-bob", "t-1", `{"displayName":"Marketing","generalChannelId":"c"}`, "Bob created the team Marketing."},
		{"team.memberAdded", "u-bob", "t-1", `{"userId":"u-ada","guest":false,"roles":["owner"]}`, "Bob added Ada Admin to the team Marketing as an owner."},
		{"team.memberRolesChanged", "u-bob", "t-1", `{"userId":"u-ada","before":["owner"],"after":[]}`, "Bob made Ada Admin a member of the team Marketing."},
		{"team.channelCreated", "u-bob", "c-1", `{"teamId":"t-1","displayName":"Launch"}`, "Bob created the channel Launch in the team Marketing."},
		{"meeting.anonymousJoined", "anon-1", "m-1", `{"displayName":"Anna","state":"lobby"}`, "Anna (Unverified) joined a meeting by its link without an account and waited in the lobby."},
		{"meeting.lobbyAdmitted", "u-bob", "m-1", `{"participantId":"p","displayName":"Anna"}`, "Bob let Anna (Unverified) into a meeting from the lobby."},
		{"meeting.over", "system", "m-1", `{"anonymousSessionsEnded":2}`, "Parley closed a meeting that was over, ending 2 sessions without an account."},
		{"meetingConfiguration.updated", "u-ada", "tenant", `{"before":{"lobbyBypass":"organization","allowAnonymousUsersToJoinMeeting":true},"after":{"lobbyBypass":"everyone","allowAnonymousUsersToJoinMeeting":true}}`,
			"Ada Admin changed the meeting settings: who skips the lobby organization → everyone."},
		{"fileConfiguration.update", "u-ada", "tenant", `{"allowExternalFileSharing":{"from":true,"to":false}}`, "Ada Admin turned file sharing with people outside the organisation off."},
		{"app.install", "u-bob", "a-1", `{"target":"chat","targetId":"19:x"}`, "Bob added the app Polls to a chat."},
		{"app.block", "u-ada", "a-2", `{"blocked":false}`, "Ada Admin unblocked an app."},
		{"appSetupPolicy.update", "u-ada", "Sales", `{"before":{"pinned":[]},"after":{"pinned":["a-1"]}}`, "Ada Admin changed the app setup policy Sales: pinned apps none → a-1."},
		{"externalAccessPolicy.update", "u-ada", "Strict", `{"before":{"enableFederationAccess":true},"after":{"enableFederationAccess":true}}`, "Ada Admin changed the policy Strict (nothing changed)."},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			e := entry(t, tt.actor, tt.action, tt.target, tt.details)
			if got := audit.Describe(&e, names{}); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestDescribeEveryAction: every action Parley records reads as a
// sentence of its own (not the fallback "did …"), even with no details
// and nobody named, and never shows an id in place of a person.
func TestDescribeEveryAction(t *testing.T) {
	id := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}`)
	seen := map[string]bool{}
	for _, a := range audit.Described {
		if seen[a] {
			t.Errorf("%s listed twice", a)
		}
		seen[a] = true
		e := audit.Entry{Actor: "0190a3b2-1111-7000-8000-000000000001", Action: a, Target: "0190a3b2-2222-7000-8000-000000000002"}
		got := audit.Describe(&e, names{})
		if strings.Contains(got, " did ") || !strings.HasSuffix(got, ".") || id.MatchString(got) && !strings.HasPrefix(a, "externalAccessPolicy.") && !strings.HasPrefix(a, "app") {
			t.Errorf("%s: %q", a, got)
		}
	}
	e := audit.Entry{Actor: "u-ada", Action: "something.new", Target: "x"}
	if got := audit.Describe(&e, names{}); got != "Ada Admin did something.new (x)." {
		t.Errorf("fallback: %q", got)
	}
}
