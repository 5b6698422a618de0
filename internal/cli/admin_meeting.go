package cli

import (
	"context"
	"flag"
	"fmt"
)

// meetingConfigPath is the tenant's meeting settings (docs/rules.md §8).
const meetingConfigPath = "/parley/v1/admin/meetingConfiguration"

// meetingConfigSet defines 'meeting-config set': a PATCH of the settings
// given, refused before connecting when none is or --lobby-bypass is not a
// value the API takes.
func meetingConfigSet(fs *flag.FlagSet) adminAction {
	var anon, apps optBool
	fs.Var(&anon, "allow-anonymous", "anonymous people may join meetings through their links (allowAnonymousUsersToJoinMeeting)")
	bypass := fs.String("lobby-bypass", "", "who goes past the lobby: organizer, organization or everyone")
	fs.Var(&apps, "anonymous-apps", "anonymous participants may use the meeting's apps (anonymousUsersCanInteractWithApps)")
	return adminAction{
		check: func(fs *flag.FlagSet) error {
			switch *bypass {
			case "", "organizer", "organization", "everyone":
			default:
				fmt.Fprintf(fs.Output(), "%s: --lobby-bypass %q: want organizer, organization or everyone\n", fs.Name(), *bypass)
				return errUsage
			}
			if !anon.set && !apps.set && *bypass == "" {
				fmt.Fprintf(fs.Output(), "%s: nothing to set: give --allow-anonymous, --lobby-bypass or --anonymous-apps\n", fs.Name())
				return errUsage
			}
			return nil
		},
		run: func(ctx context.Context, x adminCall) error {
			patch := map[string]any{}
			if anon.set {
				patch["allowAnonymousUsersToJoinMeeting"] = anon.v
			}
			if apps.set {
				patch["anonymousUsersCanInteractWithApps"] = apps.v
			}
			if *bypass != "" {
				patch["lobbyBypass"] = *bypass
			}
			return x.show(ctx, "PATCH", meetingConfigPath, patch)
		},
	}
}
