// Package internal_test holds the layout rules of docs/decisions.md "Tests" as a test:
// dependencies point one way, and domain packages never reach storage, SQL,
// HTTP, mail or the composition root, directly or through another package.
// The check reads `go list -deps`, so an edge that arrives through a third
// package (chat → outbox → sms → net/http) fails as surely as a direct
// import; the failure names the chain. tailscale's tstest/deptest works the
// same way.
package internal_test

import (
	"errors"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/parleychat/parley/internal/"

// edge lists the packages outside the domain, each with why it may depend on
// transport, storage or the outside world; an entry covers the packages
// below it too (store/storetest, mail/mailtest). Every other package under
// internal/ is a domain package and is checked against bans, so a new
// package (team, bot) is checked from its first commit unless it is added
// here on purpose.
var edge = map[string]string{
	"cli":        "the command line: flags, subcommands, exit codes",
	"config":     "settings from flags, files and PARLEY_* env, read by cli and server",
	"server":     "the composition root: opens the store and bus, builds every service",
	"httpapi":    "HTTP handlers, routing and the error shape",
	"realtime":   "the WebSocket endpoint",
	"store":      "SQLite and PostgreSQL persistence, the only SQL",
	"natsbus":    "event.Bus over NATS",
	"mail":       "the SMTP sender the outbox is given",
	"sms":        "the SMS sender over HTTP the outbox is given",
	"web":        "the embedded web client",
	"parleytest": "the test harness: a server on 127.0.0.1:0",
	"loadtest":   "the load tool, which drives the public API",
	"objstore":   "the S3-compatible object store uploaded files are kept in",
	"bot":        "the Bot Framework client: posts Activities to bots over HTTP, signs and checks their tokens",
}

// isEdge reports whether rel (a path below internal/) is an edge package.
func isEdge(rel string) bool {
	for e := range edge {
		if rel == e || strings.HasPrefix(rel, e+"/") {
			return true
		}
	}
	return false
}

// mustCheck are domain packages that must exist, so that a rename cannot
// make the check pass by checking nothing.
var mustCheck = []string{"identity", "auth", "policy", "msgrequest", "invite", "chat", "safety", "audit", "event", "outbox", "address", "errcode", "limit"}

// A ban is a package no domain package may reach. A pattern ending in "/..."
// also bans the packages below it.
type ban struct {
	pattern string
	why     string
}

var bans = []ban{
	{"net/http/...", "domain packages hold rules, not transport: no net/http (HTTP is httpapi's, realtime's and sms's)"},
	{"database/sql", "no database/sql: the store is the only SQL (database/sql/driver, an interface package, is allowed)"},
	{"github.com/jackc/pgx/...", "the store owns the PostgreSQL driver"},
	{"modernc.org/sqlite/...", "the store owns the SQLite driver"},
	{"github.com/wneessen/go-mail/...", "no github.com/wneessen/go-mail: mail is sent by internal/mail at the edge; the outbox only queues it"},
	{"github.com/nats-io/...", "domains publish to event.Bus; NATS is natsbus's, chosen in server"},
	{"github.com/coder/websocket/...", "WebSockets are realtime's"},
	{"github.com/gobwas/ws/...", "WebSockets are realtime's"},
	{module + "store/...", "domains declare the storage they need as an interface (chat.Store); store implements it"},
	{module + "httpapi/...", "handlers call services, never the other way round"},
	{module + "server", "the composition root builds the domains; they do not know it"},
	{module + "cli", "the command line is the outermost layer"},
	{module + "config", "domains take their settings as Service fields; flags, files and env are read by cli and server"},
	{module + "realtime", "the WebSocket endpoint reads event.Bus; domains only publish"},
	{module + "natsbus", "domains see event.Bus; the NATS implementation is picked in server"},
	{module + "web", "the web client is served at the edge"},
	{module + "mail/...", "domains enqueue mail to the outbox; internal/mail sends it at the edge"},
	{module + "sms/...", "domains enqueue SMS to the outbox; internal/sms sends it at the edge"},
	{module + "parleytest", "the test harness drives the server from outside"},
	{module + "loadtest", "the load tool drives the server from outside"},
}

func (b ban) match(pkg string) bool {
	if tree, ok := strings.CutSuffix(b.pattern, "/..."); ok {
		return pkg == tree || strings.HasPrefix(pkg, tree+"/")
	}
	return pkg == b.pattern
}

// importGraph returns every package that the module's internal packages
// depend on, with its direct imports (non-test builds, as they ship).
func importGraph(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list -deps: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	g := map[string][]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		g[f[0]] = f[1:]
	}
	return g
}

// chain returns the shortest import chain from pkg to a package that
// matches b, or nil when pkg does not reach one. Imports are visited in
// go list's (sorted) order, so the chain is the same on every run.
func chain(g map[string][]string, pkg string, b ban) []string {
	from := map[string]string{pkg: ""}
	queue := []string{pkg}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p != pkg && b.match(p) {
			var path []string
			for ; p != ""; p = from[p] {
				path = append(path, strings.TrimPrefix(p, module))
			}
			slices.Reverse(path)
			return path
		}
		for _, imp := range g[p] {
			if _, seen := from[imp]; !seen {
				from[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return nil
}

func TestLayout_DomainDependencies(t *testing.T) {
	g := importGraph(t)
	var checked []string
	for _, pkg := range slices.Sorted(maps.Keys(g)) {
		rel, ok := strings.CutPrefix(pkg, module)
		if !ok {
			continue // standard library or another module
		}
		if isEdge(rel) {
			continue
		}
		checked = append(checked, rel)
		for _, b := range bans {
			if path := chain(g, pkg, b); path != nil {
				t.Errorf("domain package %s reaches %s: %s\n\t(%s)", rel, path[len(path)-1], strings.Join(path, " → "), b.why)
			}
		}
	}
	for _, d := range mustCheck {
		if !slices.Contains(checked, d) {
			t.Errorf("domain package %s was not found (renamed? update mustCheck)", d)
		}
	}
}

// TestLayout_Chain: a banned package reached through others is reported
// with the whole chain, the shortest one.
func TestLayout_Chain(t *testing.T) {
	g := map[string][]string{
		module + "chat":   {module + "event", module + "outbox"},
		module + "event":  {"context"},
		module + "outbox": {module + "sms", "net/http"},
		module + "sms":    {"net/http"},
		"net/http":        {"net/http/httptrace"},
	}
	if got, want := chain(g, module+"chat", bans[0]), []string{"chat", "outbox", "net/http"}; !slices.Equal(got, want) {
		t.Errorf("chain(chat, net/http/...) = %q, want %q", got, want)
	}
	if got := chain(g, module+"event", bans[0]); got != nil {
		t.Errorf("chain(event, net/http/...) = %q, want none", got)
	}
	b := ban{pattern: "database/sql"}
	if b.match("database/sql/driver") || !b.match("database/sql") {
		t.Error(`ban "database/sql" must match database/sql only, not database/sql/driver`)
	}
}

// TestLayout_WhoImportsServerAndStore: nothing but cmd/, cli and tests
// import the composition root, and only server, cli and tests import store.
func TestLayout_WhoImportsServerAndStore(t *testing.T) {
	for pkg, deps := range importGraph(t) {
		rel, ok := strings.CutPrefix(pkg, module)
		if !ok {
			continue
		}
		for _, imp := range deps {
			switch imp {
			case module + "server":
				if rel != "cli" && rel != "loadtest" && !strings.HasSuffix(rel, "test") {
					t.Errorf("%s imports server", rel)
				}
			case module + "store":
				if rel != "server" && rel != "cli" && !strings.HasSuffix(rel, "test") {
					t.Errorf("%s imports store", rel)
				}
			}
		}
	}
}
