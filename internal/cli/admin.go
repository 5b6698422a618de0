package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// adminClient calls the admin API of a running server as a tenant admin,
// so a change acts at once on open chats exactly as through the API.
type adminClient struct {
	base  string
	token string
	http  *http.Client
}

// adminFlags are the connection flags every admin command takes.
type adminFlags struct {
	url, user, password, token string
}

func (f *adminFlags) register(fs *flag.FlagSet, e env) {
	fs.StringVar(&f.url, "url", firstNonEmpty(e.getenv("PARLEY_URL"), "http://127.0.0.1:8080"), "URL of the running server (env PARLEY_URL)")
	fs.StringVar(&f.user, "user", e.getenv("PARLEY_ADMIN_USER"), "sign-in address of a tenant admin (env PARLEY_ADMIN_USER)")
	fs.StringVar(&f.password, "password", "", "the admin's password (or env PARLEY_ADMIN_PASSWORD)")
	fs.StringVar(&f.token, "token", e.getenv("PARLEY_TOKEN"), "an access token instead of --user/--password (env PARLEY_TOKEN)")
	if f.password == "" {
		f.password = e.getenv("PARLEY_ADMIN_PASSWORD")
	}
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (f *adminFlags) connect(ctx context.Context) (*adminClient, error) {
	c := &adminClient{base: strings.TrimRight(f.url, "/"), token: f.token, http: &http.Client{Timeout: 30 * time.Second}}
	if c.token != "" {
		return c, nil
	}
	if f.user == "" || f.password == "" {
		return nil, fmt.Errorf("sign in with --user and --password (or PARLEY_ADMIN_PASSWORD), or give --token")
	}
	form := url.Values{"grant_type": {"password"}, "username": {f.user}, "password": {f.password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach the server at %s (is 'parley serve' running?): %w", c.base, err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil || tok.AccessToken == "" {
		if tok.Error == "invalid_grant" {
			return nil, fmt.Errorf("sign in as %s: wrong address or password", f.user)
		}
		return nil, fmt.Errorf("sign in as %s: server answered %s", f.user, resp.Status)
	}
	c.token = tok.AccessToken
	return c, nil
}

// do calls the API and decodes a JSON answer into out (when not nil).
func (c *adminClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			return &apiError{Code: e.Error.Code, Message: e.Error.Message}
		}
		return fmt.Errorf("%s %s: server answered %s", method, path, resp.Status)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
	}
	return nil
}

// apiError is an error answer of the API: its message and code.
type apiError struct{ Code, Message string }

func (e *apiError) Error() string { return fmt.Sprintf("%s (%s)", e.Message, e.Code) }

func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// optBool is a flag that remembers whether it was given.
type optBool struct {
	set bool
	v   bool
}

func (o *optBool) String() string { return fmt.Sprint(o.v) }
func (o *optBool) Set(s string) error {
	switch s {
	case "true", "1", "on", "yes":
		o.v = true
	case "false", "0", "off", "no":
		o.v = false
	default:
		return fmt.Errorf("want true or false, got %q", s)
	}
	o.set = true
	return nil
}
func (o *optBool) IsBoolFlag() bool { return true }

// optList is a comma-separated list flag that remembers whether it was given.
type optList struct {
	set bool
	v   []string
}

func (o *optList) String() string { return strings.Join(o.v, ",") }
func (o *optList) Set(s string) error {
	o.set, o.v = true, []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.v = append(o.v, p)
		}
	}
	return nil
}

const adminUsage = `Usage: parley admin <command> [flags]

Commands (they call the admin API of a running server as a tenant admin):
  federation show
  federation set   [--allow-teams-consumer=BOOL] [--allow-teams-consumer-inbound=BOOL]
                   [--allow-federated-users=BOOL] [--allow-all-known-domains=BOOL]
                   [--allowed-domains a.com,b.com] [--blocked-domains c.com]
  policy list      [--users]
  policy show      NAME
  policy create    NAME [--federation=BOOL] [--consumer=BOOL] [--consumer-inbound=BOOL]
  policy set       NAME [--federation=BOOL] [--consumer=BOOL] [--consumer-inbound=BOOL]
  policy delete    NAME [--reset-users]
  policy grant     NAME --users ID|ADDRESS[,…]     (NAME Global resets them)
  policy of        ID|ADDRESS
  explain          --for ID|ADDRESS --address ADDRESS [--json]
  outbox           [--status all|failed|pending|sent|logged]   (default all, newest first)
  audit list       [--action PREFIX] [--since T] [--top N]
  audit export     --tenant DOMAIN|ID …   (operator; reads the data directory)
  meeting-config get
  meeting-config set [--allow-anonymous=BOOL] [--lobby-bypass organizer|organization|everyone]
                     [--anonymous-apps=BOOL]
  files get
  files set        --allow-external=BOOL   (file sharing in chats with people outside the organisation)
  teams list       (every team of the organisation, with its owners, members and guests counted)
  teams members    ID   (a team's members; guests have roles ["guest"])

  app, bot, app-policy, explain-app   (apps and bots: see below)

Connection flags (every command): --url, --user, --password, --token
(env PARLEY_URL, PARLEY_ADMIN_USER, PARLEY_ADMIN_PASSWORD, PARLEY_TOKEN).
`

// runAdmin runs 'parley admin <command>': it finds the command in
// adminCommands, parses the connection flags and the command's own, checks
// them before connecting, signs in and runs the command.
func runAdmin(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, adminUsage+"\n"+adminAppsUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	if isAppsCommand(args[0]) {
		return runAdminApps(ctx, e, args)
	}
	if args[0] == "audit" && len(args) > 1 && args[1] == "export" {
		return runAdminAudit(ctx, e, args)
	}
	cmds := adminCommands()
	name, rest := args[0], args[1:]
	if len(rest) > 0 && slices.ContainsFunc(cmds, func(c adminCommand) bool { return strings.HasPrefix(c.name, name+" ") }) {
		name, rest = name+" "+rest[0], rest[1:]
	}
	i := slices.IndexFunc(cmds, func(c adminCommand) bool { return c.name == name })
	if i < 0 {
		fmt.Fprintf(e.stderr, "parley admin: unknown command %q\n\n%s", name, adminUsage)
		return errUsage
	}
	cmd := cmds[i]
	fs := newFlagSet(e, "admin "+cmd.name, "[flags]")
	var af adminFlags
	af.register(fs, e)
	var arg string
	if cmd.needName {
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			fmt.Fprintf(e.stderr, "parley admin %s needs a name\n\n%s", cmd.name, adminUsage)
			return errUsage
		}
		arg, rest = rest[0], rest[1:]
	}
	act := cmd.define(fs)
	if err := parse(fs, rest); err != nil {
		return err
	}
	if act.check != nil {
		if err := act.check(fs); err != nil {
			return err
		}
	}
	c, err := af.connect(ctx)
	if err != nil {
		return err
	}
	return act.run(ctx, adminCall{c: c, out: e.stdout, name: arg})
}

// adminCommand is one 'parley admin' command.
type adminCommand struct {
	name     string // "policy grant"
	needName bool   // takes NAME (or ID|ADDRESS) before its flags
	// define registers the command's flags and returns its action, which
	// reads them once parsed.
	define func(fs *flag.FlagSet) adminAction
}

// adminAction is what a command does with its parsed flags: check refuses
// bad or missing ones before connecting (nil: none), run calls the API.
type adminAction struct {
	check func(fs *flag.FlagSet) error
	run   func(ctx context.Context, x adminCall) error
}

// adminCall is a running command's connection, output and arguments
// (NAME, or the app commands' positional arguments).
type adminCall struct {
	c    *adminClient
	out  io.Writer
	name string
	args []string
}

// show calls the API and prints its JSON answer.
func (x adminCall) show(ctx context.Context, method, path string, body any) error {
	var out any
	if err := x.c.do(ctx, method, path, body, &out); err != nil {
		return err
	}
	return printJSON(x.out, out)
}

const (
	federationPath = "/parley/v1/admin/federationConfiguration"
	policiesPath   = "/parley/v1/admin/externalAccessPolicies"
)

// policyPath is the path of the policy the command names.
func (x adminCall) policyPath() string { return policiesPath + "/" + url.PathEscape(x.name) }

// adminCommands are the admin commands, in the order of adminUsage (the
// apps commands and 'audit export' have their own runners).
func adminCommands() []adminCommand {
	return []adminCommand{
		{"federation show", false, getter(func(adminCall) string { return federationPath })},
		{"federation set", false, federationSet},
		{"policy list", false, policyList},
		{"policy show", true, getter(adminCall.policyPath)},
		{"policy create", true, policyWrite(true)},
		{"policy set", true, policyWrite(false)},
		{"policy delete", true, policyDelete},
		{"policy grant", true, policyGrant},
		{"policy of", true, policyOf},
		{"explain", false, explain},
		{"outbox", false, outboxList},
		{"audit list", false, auditList},
		{"meeting-config get", false, getter(func(adminCall) string { return meetingConfigPath })},
		{"meeting-config set", false, meetingConfigSet},
		{"files get", false, getter(func(adminCall) string { return fileConfigPath })},
		{"files set", false, fileConfigSet},
		{"teams list", false, teamsList},
		{"teams members", true, getter(func(x adminCall) string { return "/parley/v1/admin/teams/" + url.PathEscape(x.name) + "/members" })},
	}
}

// getter defines a command without flags that prints the answer of a GET.
func getter(path func(adminCall) string) func(*flag.FlagSet) adminAction {
	return func(*flag.FlagSet) adminAction {
		return adminAction{run: func(ctx context.Context, x adminCall) error { return x.show(ctx, "GET", path(x), nil) }}
	}
}

func federationSet(fs *flag.FlagSet) adminAction {
	var tc, tci, fed, all optBool
	var allowed, blocked optList
	fs.Var(&tc, "allow-teams-consumer", "chat between your users and personal accounts")
	fs.Var(&tci, "allow-teams-consumer-inbound", "personal accounts may start chats with your users")
	fs.Var(&fed, "allow-federated-users", "chat with other organisations")
	fs.Var(&all, "allow-all-known-domains", "admit every domain not blocked (false: only --allowed-domains)")
	fs.Var(&allowed, "allowed-domains", "comma-separated domains admitted when --allow-all-known-domains=false")
	fs.Var(&blocked, "blocked-domains", "comma-separated domains never admitted")
	return adminAction{run: func(ctx context.Context, x adminCall) error {
		patch := map[string]any{}
		for k, o := range map[string]*optBool{"allowTeamsConsumer": &tc, "allowTeamsConsumerInbound": &tci, "allowFederatedUsers": &fed, "allowAllKnownDomains": &all} {
			if o.set {
				patch[k] = o.v
			}
		}
		for k, o := range map[string]*optList{"allowedDomains": &allowed, "blockedDomains": &blocked} {
			if o.set {
				patch[k] = o.v
			}
		}
		if len(patch) == 0 {
			return fmt.Errorf("nothing to set: give at least one setting flag")
		}
		return x.show(ctx, "PATCH", federationPath, patch)
	}}
}

func policyList(fs *flag.FlagSet) adminAction {
	withUsers := fs.Bool("users", false, "list who holds each policy")
	return adminAction{run: func(ctx context.Context, x adminCall) error {
		path := policiesPath
		if *withUsers {
			path += "?expand=users"
		}
		return x.show(ctx, "GET", path, nil)
	}}
}

// policyWrite defines policy create (create) and policy set.
func policyWrite(create bool) func(*flag.FlagSet) adminAction {
	return func(fs *flag.FlagSet) adminAction {
		var pFed, pCon, pIn optBool
		fs.Var(&pFed, "federation", "enableFederationAccess")
		fs.Var(&pCon, "consumer", "enableTeamsConsumerAccess")
		fs.Var(&pIn, "consumer-inbound", "enableTeamsConsumerInbound")
		return adminAction{run: func(ctx context.Context, x adminCall) error {
			body := map[string]any{}
			for k, o := range map[string]*optBool{"enableFederationAccess": &pFed, "enableTeamsConsumerAccess": &pCon, "enableTeamsConsumerInbound": &pIn} {
				if o.set {
					body[k] = o.v
				}
			}
			if create {
				body["name"] = x.name
				return x.show(ctx, "POST", policiesPath, body)
			}
			return x.show(ctx, "PATCH", x.policyPath(), body)
		}}
	}
}

func policyDelete(fs *flag.FlagSet) adminAction {
	resetUsers := fs.Bool("reset-users", false, "move the users holding it to Global, then delete")
	return adminAction{run: func(ctx context.Context, x adminCall) error {
		path := x.policyPath()
		if *resetUsers {
			path += "?resetUsers=true"
		}
		err := x.c.do(ctx, "DELETE", path, nil, nil)
		var ae *apiError
		if errors.As(err, &ae) && ae.Code == "policyInUse" {
			// The API names its query parameter; here it is a flag.
			msg := strings.ReplaceAll(ae.Message, "resetUsers=true", "--reset-users")
			if msg == ae.Message {
				msg += " Run again with --reset-users to move them to Global."
			}
			return &apiError{Code: ae.Code, Message: msg}
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(x.out, "Deleted policy %s.\n", x.name)
		return err
	}}
}

func policyGrant(fs *flag.FlagSet) adminAction {
	var users optList
	fs.Var(&users, "users", "comma-separated user ids or sign-in addresses")
	return adminAction{
		check: func(fs *flag.FlagSet) error { return require(fs, need{"--users", users.String()}) },
		run: func(ctx context.Context, x adminCall) error {
			ids, err := x.c.userIDs(ctx, users.v)
			if err != nil {
				return err
			}
			if err := x.c.do(ctx, "POST", x.policyPath()+"/grant", map[string]any{"userIds": ids}, nil); err != nil {
				return err
			}
			_, err = fmt.Fprintf(x.out, "Granted %s to %d user(s).\n", x.name, len(ids))
			return err
		},
	}
}

func policyOf(*flag.FlagSet) adminAction {
	return adminAction{run: func(ctx context.Context, x adminCall) error {
		ids, err := x.c.userIDs(ctx, []string{x.name})
		if err != nil {
			return err
		}
		return x.show(ctx, "GET", "/parley/v1/admin/users/"+url.PathEscape(ids[0])+"/externalAccessPolicy", nil)
	}}
}

func explain(fs *flag.FlagSet) adminAction {
	forUser := fs.String("for", "", "the user (id or sign-in address) whose side to explain")
	addr := fs.String("address", "", "the e-mail address or phone number they want to chat with")
	asJSON := fs.Bool("json", false, "print the API's JSON answer instead of the verdict and one line per rule")
	return adminAction{
		check: func(fs *flag.FlagSet) error { return require(fs, need{"--for", *forUser}, need{"--address", *addr}) },
		run: func(ctx context.Context, x adminCall) error {
			ids, err := x.c.userIDs(ctx, []string{*forUser})
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := x.c.do(ctx, "GET", "/parley/v1/admin/explain?userId="+url.QueryEscape(ids[0])+"&address="+url.QueryEscape(*addr), nil, &raw); err != nil {
				return err
			}
			if *asJSON {
				return printJSON(x.out, raw)
			}
			var ex explanation
			if err := json.Unmarshal(raw, &ex); err != nil {
				return fmt.Errorf("decode answer: %w", err)
			}
			return ex.print(x.out, *forUser, *addr)
		},
	}
}

func outboxList(fs *flag.FlagSet) adminAction {
	status := fs.String("status", "all", "all, failed, pending, sent or logged")
	return adminAction{
		check: func(fs *flag.FlagSet) error {
			switch *status {
			case "all", "failed", "pending", "sent", "logged":
				return nil
			}
			fmt.Fprintf(fs.Output(), "%s: --status %q: want all, failed, pending, sent or logged\n", fs.Name(), *status)
			return errUsage
		},
		run: func(ctx context.Context, x adminCall) error {
			path := "/parley/v1/admin/outbox"
			if *status != "all" {
				path += "?status=" + url.QueryEscape(*status)
			}
			return x.show(ctx, "GET", path, nil)
		},
	}
}

func auditList(fs *flag.FlagSet) adminAction {
	action := fs.String("action", "", "action prefix, e.g. request. or externalAccessPolicy.")
	since := fs.String("since", "", "only entries since this time (RFC 3339 or YYYY-MM-DD)")
	top := fs.Int("top", 50, "how many entries")
	return adminAction{run: func(ctx context.Context, x adminCall) error {
		q := url.Values{"$top": {fmt.Sprint(*top)}}
		if *action != "" {
			q.Set("action", *action)
		}
		if *since != "" {
			q.Set("since", *since)
		}
		return x.show(ctx, "GET", "/parley/v1/admin/audit?"+q.Encode(), nil)
	}}
}

// userIDs turns user ids or sign-in addresses into ids.
func (c *adminClient) userIDs(ctx context.Context, refs []string) ([]string, error) {
	if len(refs) == 0 {
		return nil, fmt.Errorf("give at least one user")
	}
	var ids []string
	for _, r := range refs {
		if !strings.Contains(r, "@") {
			ids = append(ids, r)
			continue
		}
		var page struct {
			Value []struct{ ID string } `json:"value"`
		}
		if err := c.do(ctx, "GET", "/v1.0/users?$filter="+url.QueryEscape("userPrincipalName eq '"+strings.ToLower(r)+"'"), nil, &page); err != nil {
			return nil, err
		}
		if len(page.Value) != 1 {
			return nil, fmt.Errorf("no user %s in your organisation", r)
		}
		ids = append(ids, page.Value[0].ID)
	}
	return ids, nil
}

// teamsList prints every team of the organisation, following the pages.
func teamsList(*flag.FlagSet) adminAction {
	return adminAction{run: func(ctx context.Context, x adminCall) error {
		all := []json.RawMessage{}
		next := "/parley/v1/admin/teams?$top=50"
		for next != "" {
			var page struct {
				Value    []json.RawMessage `json:"value"`
				NextLink string            `json:"@odata.nextLink"`
			}
			if err := x.c.do(ctx, "GET", next, nil, &page); err != nil {
				return err
			}
			all = append(all, page.Value...)
			next = ""
			if page.NextLink != "" {
				u, err := url.Parse(page.NextLink)
				if err != nil {
					return fmt.Errorf("list teams: next page: %w", err)
				}
				next = u.RequestURI()
			}
		}
		return printJSON(x.out, map[string]any{"value": all})
	}}
}
