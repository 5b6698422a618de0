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

  app, bot, app-policy, explain-app   (apps and bots: see below)

Connection flags (every command): --url, --user, --password, --token
(env PARLEY_URL, PARLEY_ADMIN_USER, PARLEY_ADMIN_PASSWORD, PARLEY_TOKEN).
`

// runAdmin dispatches the admin commands.
func runAdmin(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, adminUsage+"\n"+adminAppsUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	cmd := args[0]
	rest := args[1:]
	if isAppsCommand(cmd) {
		return runAdminApps(ctx, e, args)
	}
	if cmd == "audit" && len(rest) > 0 && rest[0] == "export" {
		return runAdminAudit(ctx, e, args)
	}
	if (cmd == "federation" || cmd == "policy" || cmd == "audit") && len(rest) > 0 {
		cmd += " " + rest[0]
		rest = rest[1:]
	}
	fs := newFlagSet(e, "admin "+cmd, "[flags]")
	var af adminFlags
	af.register(fs, e)
	var name string
	needName := map[string]bool{"policy show": true, "policy create": true, "policy set": true, "policy delete": true, "policy grant": true, "policy of": true}
	if needName[cmd] {
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			fmt.Fprintf(e.stderr, "parley admin %s needs a name\n\n%s", cmd, adminUsage)
			return errUsage
		}
		name, rest = rest[0], rest[1:]
	}
	var tc, tci, fed, all, pFed, pCon, pIn optBool
	var allowed, blocked, users optList
	var resetUsers, withUsers, asJSON bool
	var forUser, addr, status, action, since string
	var top int
	switch cmd {
	case "federation set":
		fs.Var(&tc, "allow-teams-consumer", "chat between your users and personal accounts")
		fs.Var(&tci, "allow-teams-consumer-inbound", "personal accounts may start chats with your users")
		fs.Var(&fed, "allow-federated-users", "chat with other organisations")
		fs.Var(&all, "allow-all-known-domains", "admit every domain not blocked (false: only --allowed-domains)")
		fs.Var(&allowed, "allowed-domains", "comma-separated domains admitted when --allow-all-known-domains=false")
		fs.Var(&blocked, "blocked-domains", "comma-separated domains never admitted")
	case "policy create", "policy set":
		fs.Var(&pFed, "federation", "enableFederationAccess")
		fs.Var(&pCon, "consumer", "enableTeamsConsumerAccess")
		fs.Var(&pIn, "consumer-inbound", "enableTeamsConsumerInbound")
	case "policy delete":
		fs.BoolVar(&resetUsers, "reset-users", false, "move the users holding it to Global, then delete")
	case "policy grant":
		fs.Var(&users, "users", "comma-separated user ids or sign-in addresses")
	case "policy list":
		fs.BoolVar(&withUsers, "users", false, "list who holds each policy")
	case "explain":
		fs.StringVar(&forUser, "for", "", "the user (id or sign-in address) whose side to explain")
		fs.StringVar(&addr, "address", "", "the e-mail address or phone number they want to chat with")
		fs.BoolVar(&asJSON, "json", false, "print the API's JSON answer instead of the verdict and one line per rule")
	case "outbox":
		fs.StringVar(&status, "status", "all", "all, failed, pending, sent or logged")
	case "audit list":
		fs.StringVar(&action, "action", "", "action prefix, e.g. request. or externalAccessPolicy.")
		fs.StringVar(&since, "since", "", "only entries since this time (RFC 3339 or YYYY-MM-DD)")
		fs.IntVar(&top, "top", 50, "how many entries")
	case "federation show", "policy show", "policy of":
	default:
		fmt.Fprintf(e.stderr, "parley admin: unknown command %q\n\n%s", cmd, adminUsage)
		return errUsage
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	switch cmd {
	case "explain":
		if err := require(fs, need{"--for", forUser}, need{"--address", addr}); err != nil {
			return err
		}
	case "policy grant":
		if err := require(fs, need{"--users", users.String()}); err != nil {
			return err
		}
	case "outbox":
		switch status {
		case "all", "failed", "pending", "sent", "logged":
		default:
			fmt.Fprintf(fs.Output(), "%s: --status %q: want all, failed, pending, sent or logged\n", fs.Name(), status)
			return errUsage
		}
	}
	c, err := af.connect(ctx)
	if err != nil {
		return err
	}
	var out any
	switch cmd {
	case "federation show":
		err = c.do(ctx, "GET", "/parley/v1/admin/federationConfiguration", nil, &out)
	case "federation set":
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
		err = c.do(ctx, "PATCH", "/parley/v1/admin/federationConfiguration", patch, &out)
	case "policy list":
		path := "/parley/v1/admin/externalAccessPolicies"
		if withUsers {
			path += "?expand=users"
		}
		err = c.do(ctx, "GET", path, nil, &out)
	case "policy show":
		err = c.do(ctx, "GET", "/parley/v1/admin/externalAccessPolicies/"+url.PathEscape(name), nil, &out)
	case "policy create", "policy set":
		body := map[string]any{}
		for k, o := range map[string]*optBool{"enableFederationAccess": &pFed, "enableTeamsConsumerAccess": &pCon, "enableTeamsConsumerInbound": &pIn} {
			if o.set {
				body[k] = o.v
			}
		}
		if cmd == "policy create" {
			body["name"] = name
			err = c.do(ctx, "POST", "/parley/v1/admin/externalAccessPolicies", body, &out)
		} else {
			err = c.do(ctx, "PATCH", "/parley/v1/admin/externalAccessPolicies/"+url.PathEscape(name), body, &out)
		}
	case "policy delete":
		path := "/parley/v1/admin/externalAccessPolicies/" + url.PathEscape(name)
		if resetUsers {
			path += "?resetUsers=true"
		}
		err = c.do(ctx, "DELETE", path, nil, nil)
		var ae *apiError
		if errors.As(err, &ae) && ae.Code == "policyInUse" {
			// The API names its query parameter; here it is a flag.
			msg := strings.ReplaceAll(ae.Message, "resetUsers=true", "--reset-users")
			if msg == ae.Message {
				msg += " Run again with --reset-users to move them to Global."
			}
			return &apiError{Code: ae.Code, Message: msg}
		}
		if err == nil {
			_, err = fmt.Fprintf(e.stdout, "Deleted policy %s.\n", name)
		}
		return err
	case "policy grant":
		var ids []string
		if ids, err = c.userIDs(ctx, users.v); err != nil {
			return err
		}
		if err = c.do(ctx, "POST", "/parley/v1/admin/externalAccessPolicies/"+url.PathEscape(name)+"/grant", map[string]any{"userIds": ids}, nil); err == nil {
			_, err = fmt.Fprintf(e.stdout, "Granted %s to %d user(s).\n", name, len(ids))
		}
		return err
	case "policy of":
		var ids []string
		if ids, err = c.userIDs(ctx, []string{name}); err != nil {
			return err
		}
		err = c.do(ctx, "GET", "/parley/v1/admin/users/"+url.PathEscape(ids[0])+"/externalAccessPolicy", nil, &out)
	case "explain":
		var ids []string
		if ids, err = c.userIDs(ctx, []string{forUser}); err != nil {
			return err
		}
		var raw json.RawMessage
		if err = c.do(ctx, "GET", "/parley/v1/admin/explain?userId="+url.QueryEscape(ids[0])+"&address="+url.QueryEscape(addr), nil, &raw); err != nil {
			return err
		}
		if asJSON {
			return printJSON(e.stdout, raw)
		}
		var ex explanation
		if err := json.Unmarshal(raw, &ex); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
		return ex.print(e.stdout, forUser, addr)
	case "outbox":
		path := "/parley/v1/admin/outbox"
		if status != "all" {
			path += "?status=" + url.QueryEscape(status)
		}
		err = c.do(ctx, "GET", path, nil, &out)
	case "audit list":
		q := url.Values{"$top": {fmt.Sprint(top)}}
		if action != "" {
			q.Set("action", action)
		}
		if since != "" {
			q.Set("since", since)
		}
		err = c.do(ctx, "GET", "/parley/v1/admin/audit?"+q.Encode(), nil, &out)
	}
	if err != nil {
		return err
	}
	return printJSON(e.stdout, out)
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
