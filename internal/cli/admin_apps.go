package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
)

const adminAppsUsage = `App and bot commands (docs/rules.md §9), under 'parley admin':
  app list
  app upload       FILE.zip                      (a Teams app package)
  app update       ID FILE.zip
  app block        ID [--unblock]                (for the whole organisation)
  app delete       ID
  bot list
  bot register     --name NAME --endpoint URL    (prints the secret once)
  bot set          ID [--name NAME] [--endpoint URL]
  bot rotate-secret ID
  bot delete       ID
  app-policy list   permission|setup
  app-policy show   permission|setup NAME
  app-policy create permission|setup NAME [--mode allowAll|allowListed|blockListed] [--apps ID,…] [--pinned ID,…]
  app-policy set    permission|setup NAME [--mode …] [--apps ID,…] [--pinned ID,…]
  app-policy delete permission|setup NAME [--reset-users]
  app-policy grant  permission|setup NAME --users ID|ADDRESS[,…]   (guests keep Global)
  explain-app      --for ID|ADDRESS --app ID [--conversation CHAT|TEAM|CHANNEL_ID] [--action use|add|card|…]
`

// isAppsCommand reports whether an admin command is one of the apps commands.
func isAppsCommand(cmd string) bool {
	return cmd == "app" || cmd == "bot" || cmd == "app-policy" || cmd == "explain-app"
}

// runAdminApps runs the app, bot, app-policy and explain-app admin
// commands: it finds the command in adminAppCommands, takes its positional
// arguments (they come before the flags), parses the connection flags and
// the command's own, checks them before connecting and runs it.
func runAdminApps(ctx context.Context, e env, args []string) error {
	name, rest := args[0], args[1:]
	if name != "explain-app" {
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			fmt.Fprintf(e.stderr, "parley admin %s needs a subcommand\n\n%s", name, adminAppsUsage)
			return errUsage
		}
		name, rest = name+" "+rest[0], rest[1:]
	}
	var pos []string
	for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		pos, rest = append(pos, rest[0]), rest[1:]
	}
	cmds := adminAppCommands()
	i := slices.IndexFunc(cmds, func(c adminAppCommand) bool { return c.name == name })
	fs := newFlagSet(e, "admin "+name, "[flags]")
	var af adminFlags
	af.register(fs, e)
	if i < 0 {
		fmt.Fprintf(e.stderr, "parley admin: unknown command %q\n\n%s", name, adminAppsUsage)
		return errUsage
	}
	cmd := cmds[i]
	act := cmd.define(fs)
	if err := parse(fs, rest); err != nil {
		return err
	}
	if len(pos) != cmd.args {
		fmt.Fprintf(e.stderr, "parley admin %s takes %d argument(s), got %d\n\n%s", name, cmd.args, len(pos), adminAppsUsage)
		return errUsage
	}
	if act.check != nil {
		if err := act.check(fs); err != nil {
			return err
		}
	}
	if strings.HasPrefix(name, "app-policy ") {
		if _, ok := appPolicyPath(pos[0]); !ok {
			fmt.Fprintf(e.stderr, "parley admin %s: the kind is permission or setup, not %q\n", name, pos[0])
			return errUsage
		}
	}
	c, err := af.connect(ctx)
	if err != nil {
		return err
	}
	return act.run(ctx, adminCall{c: c, out: e.stdout, args: pos})
}

// adminAppCommand is one app, bot, app-policy or explain-app command: its
// name, how many positional arguments it takes, and its flags and action.
type adminAppCommand struct {
	name   string
	args   int
	define func(fs *flag.FlagSet) adminAction
}

const appCatalogPath = "/v1.0/appCatalogs/teamsApps"

// appPolicyPath is the path of the app policies of a kind (permission or
// setup).
func appPolicyPath(kind string) (string, bool) {
	switch kind {
	case "permission":
		return "/parley/v1/admin/appPermissionPolicies", true
	case "setup":
		return "/parley/v1/admin/appSetupPolicies", true
	}
	return "", false
}

// appPolicy is the path of the app policies of the command's KIND, or of
// the one it names (KIND NAME).
func (x adminCall) appPolicy() string {
	p, _ := appPolicyPath(x.args[0])
	if len(x.args) > 1 {
		p += "/" + url.PathEscape(x.args[1])
	}
	return p
}

// adminAppCommands are the app commands, in the order of adminAppsUsage.
func adminAppCommands() []adminAppCommand {
	return []adminAppCommand{
		{"app list", 0, getter(func(adminCall) string { return appCatalogPath })},
		{"app upload", 1, appUpload(false)},
		{"app update", 2, appUpload(true)},
		{"app block", 1, appBlock},
		{"app delete", 1, deleter(func(x adminCall) string { return appCatalogPath + "/" + url.PathEscape(x.args[0]) }, "Deleted app %[1]s.\n")},
		{"bot list", 0, getter(func(adminCall) string { return "/parley/v1/admin/bots" })},
		{"bot register", 0, botWrite(false)},
		{"bot set", 1, botWrite(true)},
		{"bot rotate-secret", 1, func(*flag.FlagSet) adminAction {
			return adminAction{run: func(ctx context.Context, x adminCall) error {
				return x.show(ctx, "POST", "/parley/v1/admin/bots/"+url.PathEscape(x.args[0])+"/secret", nil)
			}}
		}},
		{"bot delete", 1, deleter(func(x adminCall) string { return "/parley/v1/admin/bots/" + url.PathEscape(x.args[0]) }, "Deleted bot %[1]s.\n")},
		{"app-policy list", 1, getter(adminCall.appPolicy)},
		{"app-policy show", 2, func(fs *flag.FlagSet) adminAction {
			new(appPolicyFlags).register(fs) // taken, as by every app-policy command on a policy, and unused
			return getter(adminCall.appPolicy)(fs)
		}},
		{"app-policy create", 2, appPolicyWrite(true)},
		{"app-policy set", 2, appPolicyWrite(false)},
		{"app-policy delete", 2, appPolicyDelete},
		{"app-policy grant", 2, appPolicyGrant},
		{"explain-app", 0, explainApp},
	}
}

// deleter defines a command without flags that DELETEs and says so (done
// is a format over the command's arguments).
func deleter(path func(adminCall) string, done string) func(*flag.FlagSet) adminAction {
	return func(*flag.FlagSet) adminAction {
		return adminAction{run: func(ctx context.Context, x adminCall) error {
			if err := x.c.do(ctx, "DELETE", path(x), nil, nil); err != nil {
				return err
			}
			args := make([]any, len(x.args))
			for i, a := range x.args {
				args[i] = a
			}
			_, err := fmt.Fprintf(x.out, done, args...)
			return err
		}}
	}
}

// appUpload defines app upload FILE and (update) app update ID FILE.
func appUpload(update bool) func(*flag.FlagSet) adminAction {
	return func(*flag.FlagSet) adminAction {
		return adminAction{run: func(ctx context.Context, x adminCall) error {
			path, file := appCatalogPath, x.args[0]
			if update {
				path, file = appCatalogPath+"/"+url.PathEscape(x.args[0])+"/appDefinitions", x.args[1]
			}
			var out any
			if err := x.c.upload(ctx, path, file, &out); err != nil {
				return err
			}
			return printJSON(x.out, out)
		}}
	}
}

func appBlock(fs *flag.FlagSet) adminAction {
	unblock := fs.Bool("unblock", false, "lift the block")
	return adminAction{run: func(ctx context.Context, x adminCall) error {
		return x.show(ctx, "PATCH", "/parley/v1/admin/teamsApps/"+url.PathEscape(x.args[0]), map[string]any{"isBlocked": !*unblock})
	}}
}

// botWrite defines bot register and (set) bot set ID.
func botWrite(set bool) func(*flag.FlagSet) adminAction {
	return func(fs *flag.FlagSet) adminAction {
		name := fs.String("name", "", "the bot's display name")
		endpoint := fs.String("endpoint", "", "the bot's messaging endpoint (https://…/api/messages)")
		act := adminAction{run: func(ctx context.Context, x adminCall) error {
			if !set {
				return x.show(ctx, "POST", "/parley/v1/admin/bots", map[string]any{"displayName": *name, "messagingEndpoint": *endpoint})
			}
			body := map[string]any{}
			if *name != "" {
				body["displayName"] = *name
			}
			if *endpoint != "" {
				body["messagingEndpoint"] = *endpoint
			}
			return x.show(ctx, "PATCH", "/parley/v1/admin/bots/"+url.PathEscape(x.args[0]), body)
		}}
		if !set {
			act.check = func(fs *flag.FlagSet) error { return require(fs, need{"--name", *name}, need{"--endpoint", *endpoint}) }
		}
		return act
	}
}

// appPolicyFlags registers the flags every app-policy command takes.
type appPolicyFlags struct {
	mode         string
	apps, pinned optList
	users        optList
	resetUsers   bool
}

func (f *appPolicyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.mode, "mode", "", "permission policies: allowAll, allowListed or blockListed")
	fs.Var(&f.apps, "apps", "comma-separated catalog app ids")
	fs.Var(&f.pinned, "pinned", "setup policies: comma-separated app ids pinned to the app bar")
	fs.Var(&f.users, "users", "comma-separated user ids or sign-in addresses")
	fs.BoolVar(&f.resetUsers, "reset-users", false, "move the users holding it to Global, then delete")
}

// appPolicyWrite defines app-policy create (create) and app-policy set.
func appPolicyWrite(create bool) func(*flag.FlagSet) adminAction {
	return func(fs *flag.FlagSet) adminAction {
		var f appPolicyFlags
		f.register(fs)
		return adminAction{run: func(ctx context.Context, x adminCall) error {
			body := map[string]any{}
			if f.mode != "" {
				body["mode"] = f.mode
			}
			if f.apps.set {
				body["appIds"] = f.apps.v
			}
			if f.pinned.set {
				body["pinnedAppIds"] = f.pinned.v
			}
			if create {
				body["name"] = x.args[1]
				kind, _ := appPolicyPath(x.args[0])
				return x.show(ctx, "POST", kind, body)
			}
			return x.show(ctx, "PATCH", x.appPolicy(), body)
		}}
	}
}

func appPolicyDelete(fs *flag.FlagSet) adminAction {
	var f appPolicyFlags
	f.register(fs)
	return adminAction{run: func(ctx context.Context, x adminCall) error {
		path := x.appPolicy()
		if f.resetUsers {
			path += "?resetUsers=true"
		}
		if err := x.c.do(ctx, "DELETE", path, nil, nil); err != nil {
			return err
		}
		_, err := fmt.Fprintf(x.out, "Deleted app %s policy %s.\n", x.args[0], x.args[1])
		return err
	}}
}

func appPolicyGrant(fs *flag.FlagSet) adminAction {
	var f appPolicyFlags
	f.register(fs)
	return adminAction{
		check: func(fs *flag.FlagSet) error { return require(fs, need{"--users", f.users.String()}) },
		run: func(ctx context.Context, x adminCall) error {
			ids, err := x.c.userIDs(ctx, f.users.v)
			if err != nil {
				return err
			}
			if err := x.c.do(ctx, "POST", x.appPolicy()+"/grant", map[string]any{"userIds": ids}, nil); err != nil {
				return err
			}
			_, err = fmt.Fprintf(x.out, "Granted app %s policy %s to %d user(s).\n", x.args[0], x.args[1], len(ids))
			return err
		},
	}
}

func explainApp(fs *flag.FlagSet) adminAction {
	forUser := fs.String("for", "", "the person (id or sign-in address)")
	appID := fs.String("app", "", "the catalog app id")
	conv := fs.String("conversation", "", "a chat, team or channel id (default: the person's personal scope)")
	action := fs.String("action", "", "browse, add, update, remove, deepLink, use, mention, card, tab or messageExtension (default use)")
	return adminAction{
		check: func(fs *flag.FlagSet) error { return require(fs, need{"--for", *forUser}, need{"--app", *appID}) },
		run: func(ctx context.Context, x adminCall) error {
			ids, err := x.c.userIDs(ctx, []string{*forUser})
			if err != nil {
				return err
			}
			q := url.Values{"userId": {ids[0]}, "appId": {*appID}}
			if *conv != "" {
				q.Set("conversationId", *conv)
			}
			if *action != "" {
				q.Set("action", *action)
			}
			return x.show(ctx, "GET", "/parley/v1/admin/explain?"+q.Encode(), nil)
		},
	}
}

// upload posts an app package file.
func (c *adminClient) upload(ctx context.Context, path, file string, out any) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read the app package: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/zip")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return &apiError{Code: e.Error.Code, Message: e.Error.Message}
		}
		return fmt.Errorf("POST %s: server answered %s", path, resp.Status)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
