package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
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
  explain-app      --for ID|ADDRESS --app ID [--conversation CHAT_ID] [--action use|add|card|…]
`

// isAppsCommand reports whether an admin command is one of the apps commands.
func isAppsCommand(cmd string) bool {
	return cmd == "app" || cmd == "bot" || cmd == "app-policy" || cmd == "explain-app"
}

// runAdminApps runs the app, bot, app-policy and explain-app admin commands.
func runAdminApps(ctx context.Context, e env, args []string) error {
	cmd, rest := args[0], args[1:]
	if cmd != "explain-app" {
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			fmt.Fprintf(e.stderr, "parley admin %s needs a subcommand\n\n%s", cmd, adminAppsUsage)
			return errUsage
		}
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	// Positional arguments come before the flags.
	var pos []string
	for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		pos, rest = append(pos, rest[0]), rest[1:]
	}
	fs := newFlagSet(e, "admin "+cmd, "[flags]")
	var af adminFlags
	af.register(fs, e)
	var name, endpoint, mode, forUser, appID, conv, action string
	var apps, pinned, users optList
	var unblock, resetUsers bool
	want := 0
	switch cmd {
	case "app list", "bot list":
	case "app upload", "app delete", "bot rotate-secret", "bot delete":
		want = 1
	case "app update":
		want = 2
	case "app block":
		want = 1
		fs.BoolVar(&unblock, "unblock", false, "lift the block")
	case "bot register", "bot set":
		if cmd == "bot set" {
			want = 1
		}
		fs.StringVar(&name, "name", "", "the bot's display name")
		fs.StringVar(&endpoint, "endpoint", "", "the bot's messaging endpoint (https://…/api/messages)")
	case "app-policy list":
		want = 1
	case "app-policy show", "app-policy delete", "app-policy create", "app-policy set", "app-policy grant":
		want = 2
		fs.StringVar(&mode, "mode", "", "permission policies: allowAll, allowListed or blockListed")
		fs.Var(&apps, "apps", "comma-separated catalog app ids")
		fs.Var(&pinned, "pinned", "setup policies: comma-separated app ids pinned to the app bar")
		fs.Var(&users, "users", "comma-separated user ids or sign-in addresses")
		fs.BoolVar(&resetUsers, "reset-users", false, "move the users holding it to Global, then delete")
	case "explain-app":
		fs.StringVar(&forUser, "for", "", "the person (id or sign-in address)")
		fs.StringVar(&appID, "app", "", "the catalog app id")
		fs.StringVar(&conv, "conversation", "", "the chat id (default: the person's personal scope)")
		fs.StringVar(&action, "action", "", "browse, add, update, remove, deepLink, use, mention, card, tab or messageExtension (default use)")
	default:
		fmt.Fprintf(e.stderr, "parley admin: unknown command %q\n\n%s", cmd, adminAppsUsage)
		return errUsage
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	if len(pos) != want {
		fmt.Fprintf(e.stderr, "parley admin %s takes %d argument(s), got %d\n\n%s", cmd, want, len(pos), adminAppsUsage)
		return errUsage
	}
	switch cmd {
	case "bot register":
		if err := require(fs, need{"--name", name}, need{"--endpoint", endpoint}); err != nil {
			return err
		}
	case "app-policy grant":
		if err := require(fs, need{"--users", users.String()}); err != nil {
			return err
		}
	case "explain-app":
		if err := require(fs, need{"--for", forUser}, need{"--app", appID}); err != nil {
			return err
		}
	}
	var kindPath string
	if strings.HasPrefix(cmd, "app-policy ") {
		switch pos[0] {
		case "permission":
			kindPath = "/parley/v1/admin/appPermissionPolicies"
		case "setup":
			kindPath = "/parley/v1/admin/appSetupPolicies"
		default:
			fmt.Fprintf(e.stderr, "parley admin %s: the kind is permission or setup, not %q\n", cmd, pos[0])
			return errUsage
		}
	}
	c, err := af.connect(ctx)
	if err != nil {
		return err
	}
	const catalog = "/v1.0/appCatalogs/teamsApps"
	var out any
	switch cmd {
	case "app list":
		err = c.do(ctx, "GET", catalog, nil, &out)
	case "app upload":
		err = c.upload(ctx, catalog, pos[0], &out)
	case "app update":
		err = c.upload(ctx, catalog+"/"+url.PathEscape(pos[0])+"/appDefinitions", pos[1], &out)
	case "app block":
		err = c.do(ctx, "PATCH", "/parley/v1/admin/teamsApps/"+url.PathEscape(pos[0]), map[string]any{"isBlocked": !unblock}, &out)
	case "app delete":
		if err = c.do(ctx, "DELETE", catalog+"/"+url.PathEscape(pos[0]), nil, nil); err == nil {
			_, err = fmt.Fprintf(e.stdout, "Deleted app %s.\n", pos[0])
		}
		return err
	case "bot list":
		err = c.do(ctx, "GET", "/parley/v1/admin/bots", nil, &out)
	case "bot register":
		err = c.do(ctx, "POST", "/parley/v1/admin/bots", map[string]any{"displayName": name, "messagingEndpoint": endpoint}, &out)
	case "bot set":
		body := map[string]any{}
		if name != "" {
			body["displayName"] = name
		}
		if endpoint != "" {
			body["messagingEndpoint"] = endpoint
		}
		err = c.do(ctx, "PATCH", "/parley/v1/admin/bots/"+url.PathEscape(pos[0]), body, &out)
	case "bot rotate-secret":
		err = c.do(ctx, "POST", "/parley/v1/admin/bots/"+url.PathEscape(pos[0])+"/secret", nil, &out)
	case "bot delete":
		if err = c.do(ctx, "DELETE", "/parley/v1/admin/bots/"+url.PathEscape(pos[0]), nil, nil); err == nil {
			_, err = fmt.Fprintf(e.stdout, "Deleted bot %s.\n", pos[0])
		}
		return err
	case "app-policy list":
		err = c.do(ctx, "GET", kindPath, nil, &out)
	case "app-policy show":
		err = c.do(ctx, "GET", kindPath+"/"+url.PathEscape(pos[1]), nil, &out)
	case "app-policy create", "app-policy set":
		body := map[string]any{}
		if mode != "" {
			body["mode"] = mode
		}
		if apps.set {
			body["appIds"] = apps.v
		}
		if pinned.set {
			body["pinnedAppIds"] = pinned.v
		}
		if cmd == "app-policy create" {
			body["name"] = pos[1]
			err = c.do(ctx, "POST", kindPath, body, &out)
		} else {
			err = c.do(ctx, "PATCH", kindPath+"/"+url.PathEscape(pos[1]), body, &out)
		}
	case "app-policy delete":
		path := kindPath + "/" + url.PathEscape(pos[1])
		if resetUsers {
			path += "?resetUsers=true"
		}
		if err = c.do(ctx, "DELETE", path, nil, nil); err == nil {
			_, err = fmt.Fprintf(e.stdout, "Deleted app %s policy %s.\n", pos[0], pos[1])
		}
		return err
	case "app-policy grant":
		var ids []string
		if ids, err = c.userIDs(ctx, users.v); err != nil {
			return err
		}
		if err = c.do(ctx, "POST", kindPath+"/"+url.PathEscape(pos[1])+"/grant", map[string]any{"userIds": ids}, nil); err == nil {
			_, err = fmt.Fprintf(e.stdout, "Granted app %s policy %s to %d user(s).\n", pos[0], pos[1], len(ids))
		}
		return err
	case "explain-app":
		var ids []string
		if ids, err = c.userIDs(ctx, []string{forUser}); err != nil {
			return err
		}
		q := url.Values{"userId": {ids[0]}, "appId": {appID}}
		if conv != "" {
			q.Set("conversationId", conv)
		}
		if action != "" {
			q.Set("action", action)
		}
		err = c.do(ctx, "GET", "/parley/v1/admin/explain?"+q.Encode(), nil, &out)
	}
	if err != nil {
		return err
	}
	return printJSON(e.stdout, out)
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
