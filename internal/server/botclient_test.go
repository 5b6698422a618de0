package server_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// botClientDir is the Node project of the unmodified Bot Framework SDK bot,
// relative to this package's directory.
var botClientDir = filepath.Join("..", "..", "test", "botclient")

// TestBotFrameworkSDK runs an unmodified botbuilder bot (test/botclient/run.mjs)
// against a server over HTTPS (docs/rules.md §9): installed by a host user in
// a chat with a person of another organisation (who may not install it), it
// greets on conversationUpdate, answers the external person, lists the
// members, sends an Adaptive Card whose Action.Submit and Action.Execute
// reach it (the card updated in place), messages the external person
// proactively and is refused for someone it shares no conversation with; a
// tenant-wide block stops card actions; the external person runs its
// message extension's action command (fetchTask returns its task module,
// submitAction its result, through handleTeamsMessagingExtensionFetchTask
// and …SubmitAction) and posts the result via the app, whose card's
// Action.Submit then reaches the bot; alice opens her own 1:1 chat with it
// (POST /parley/v1/me/apps/{appId}/chat) and it greets there (personal
// conversationUpdate), and runs its search and an action command there
// (her personal install); the Connector API refuses a call without a valid
// token. In a team: it greets in General when added, gets
// only the channel messages that @mention it and answers in their thread,
// a guest acts on its card in a thread (Action.Submit) and a host user
// updates it (Action.Execute), it lists the team's members, welcomes a
// person added to the team and may then message them proactively; a guest
// runs its search in a channel (handleTeamsMessagingExtensionQuery sees the
// team), and its onTeamsChannelCreatedEvent, …RenamedEvent and
// …DeletedEvent handlers answer a channel created, renamed and deleted. It needs Node and `npm ci --prefix test/botclient`;
// it fails, never skips, without them.
func TestBotFrameworkSDK(t *testing.T) {
	node, dir := mustNodeProject(t, botClientDir, filepath.Join("botbuilder", "package.json"), "runs a Bot Framework SDK bot")

	s := MustStartTLS(t)
	contoso := s.CreateTenant("Contoso", "contoso.com")
	admin := s.Client(contoso.Admin.Token)
	alice := s.User(contoso, "alice")
	bob := s.User(contoso, "bob")
	fabrikam := s.CreateTenant("Fabrikam", "fabrikam.com")
	frank := s.User(fabrikam, "frank")

	botID, secret := registerBot(t, admin, "Poll bot", "https://127.0.0.1:9/api/messages")
	catalogID := uploadApp(t, admin, pollsManifestID, botID)
	chatID := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.ByEmail("frank@fabrikam.com")}}).Map(t)["id"].(string)
	acceptRequest(t, frank, chatID)
	admin.Must(201, "POST", "/v1.0/users", map[string]any{"displayName": "Gina", "userPrincipalName": "gina@outside.example",
		"passwordProfile": map[string]string{"password": parleytest.Password}, "userType": "Guest"})
	gina := s.SignIn("gina@outside.example", parleytest.Password)
	carol := s.User(contoso, "carol")
	teamID := alice.Must(201, "POST", "/v1.0/teams", map[string]any{"displayName": "Plans"}).Map(t)["id"].(string)
	guest := parleytest.Bind(gina.UserID, false)
	guest["roles"] = []string{"guest"}
	alice.Must(201, "POST", "/v1.0/teams/"+teamID+"/members", guest)
	general := alice.Must(200, "GET", "/v1.0/teams/"+teamID+"/primaryChannel", nil).Map(t)["id"].(string)

	runNodeScript(t, node, dir, "botclient", 2*time.Minute,
		"BASE="+s.URL(),
		"APP_ID="+botID,
		"APP_PASSWORD="+secret,
		"ADMIN_TOKEN="+admin.Token,
		"ALICE_TOKEN="+alice.Token,
		"FRANK_TOKEN="+frank.Token,
		"FRANK_ID="+frank.UserID,
		"BOB_ID="+bob.UserID,
		"CHAT_ID="+chatID,
		"CATALOG_ID="+catalogID,
		"TEAM_ID="+teamID,
		"GENERAL_ID="+general,
		"GINA_TOKEN="+gina.Token,
		"CAROL_ID="+carol.UserID,
		"NODE_EXTRA_CA_CERTS="+s.Cert.CertFile,
		"NO_PROXY=127.0.0.1,localhost",
	)
}
