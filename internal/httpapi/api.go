// Package httpapi is Parley's HTTP surface: the router, middleware, the one
// function that writes the error shape, and the handlers for /v1.0 (Graph),
// /parley/v1, /oauth2 and the OpenAPI document. Handlers decode, call one
// service method and encode; they never talk to the store and never check a
// rule themselves. Only internal/server imports it.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/parleychat/parley/internal/app"
	"github.com/parleychat/parley/internal/audit"
	"github.com/parleychat/parley/internal/auth"
	"github.com/parleychat/parley/internal/bot"
	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/file"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/invite"
	"github.com/parleychat/parley/internal/meeting"
	"github.com/parleychat/parley/internal/outbox"
	"github.com/parleychat/parley/internal/policy"
	"github.com/parleychat/parley/internal/presence"
	"github.com/parleychat/parley/internal/search"
	"github.com/parleychat/parley/internal/team"
)

// Deps are the services the API calls.
type Deps struct {
	Log         *slog.Logger
	Auth        *auth.Service
	Identity    *identity.Service
	Chats       *chat.Service
	Teams       *team.Service
	Policy      *policy.Service
	Users       *policy.UserService
	Requests    *chat.Requests
	Invites     *invite.Service
	Meetings    *meeting.Service
	PhoneRegion string
	Audit       *audit.Service
	Outbox      *outbox.Service
	Apps        *app.Service // nil: no apps
	Search      *search.Service
	Presence    *presence.Service
	Files       *file.Service
	// Activity notes that a person acted (presence; may be nil).
	Activity func(identity.UserID)
	Setup    Setup
	Events   http.Handler // the WebSocket endpoint (realtime)
	Web      http.Handler // the web client, served at / (nil: a plain page)
	// BotKeys sign and check the Bot Framework tokens; BotBase is the base
	// URL bots are given (issuer, serviceUrl).
	BotKeys *bot.Keys
	BotBase func() string
	// Stats adds the node's counters to the operator's stats (may be nil).
	Stats func() map[string]any
	// Demo lists the demo sign-ins when the server runs with --demo.
	Demo          []DemoAccount
	OperatorToken string
	// PublicURL, when configured, is the base of links (behind a proxy).
	PublicURL    string
	MaxBodyBytes int64
	Now          func() time.Time
	// Ready reports whether the node should get traffic (GET /readyz); nil
	// means always.
	Ready func(ctx context.Context) error
	// TrustedProxies are the direct peers (reverse proxies) whose
	// X-Forwarded-For and X-Forwarded-Proto are believed (clientOf).
	TrustedProxies []netip.Prefix
	// AccessLog logs every request at Info (otherwise at Debug; 5xx at Warn).
	AccessLog bool
	// Observe, when set, is told of every request's route pattern, status
	// and duration (metrics). It runs on the request path: keep it cheap.
	Observe func(route string, status int, took time.Duration)
}

// Setup creates the first organisation with the one-time setup token.
type Setup interface {
	Complete(ctx context.Context, token string, nt identity.NewTenant) (identity.Tenant, identity.User, error)
	// Needed reports whether no organisation exists yet.
	Needed(ctx context.Context) (bool, error)
}

// DemoAccount is one sign-in seeded by --demo.
type DemoAccount struct {
	Description string `json:"description"`
	Username    string `json:"username"`
	Password    string `json:"password"`
}

// API serves the HTTP surface.
type API struct {
	Deps
	mux       *http.ServeMux
	routeList []Route
}

// New returns the API's handler with every route registered.
func New(d Deps) *API {
	a := &API{Deps: d, mux: http.NewServeMux()}
	a.routes()
	return a
}

// ServeHTTP runs the middleware chain, then the router.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.middleware(a.mux).ServeHTTP(w, r)
}

// Route is one documented route; Routes lists them for the OpenAPI check.
type Route struct {
	Method, Path string
}

// routes lists the whole API, Go 1.22 patterns, one place.
func (a *API) routes() {
	a.handle("POST /oauth2/token", a.token)
	a.handle("POST /parley/v1/signout", a.authed(a.signOut))
	a.handle("POST /parley/v1/setup", a.setup)
	a.handle("GET /parley/v1/setup", a.setupStatus)
	a.handle("GET /parley/v1/demo", a.demo)
	a.handle("POST /parley/v1/operator/tenants", a.operator(a.createTenant))
	a.handle("GET /parley/v1/operator/tenants", a.operator(a.listTenants))

	a.handle("GET /v1.0/me", a.authed(a.getMe))
	a.handle("GET /v1.0/users/{id}", a.authed(a.getUser))
	a.handle("POST /v1.0/users", a.authed(a.createUser))
	a.handle("GET /v1.0/users", a.authed(a.listUsers))

	a.handle("POST /v1.0/chats", a.authed(a.createChat))
	a.handle("GET /v1.0/me/chats", a.authed(a.listChats))
	a.handle("GET /v1.0/chats", a.authed(a.listChats))
	a.handle("GET /v1.0/chats/{id}", a.authed(a.getChat))
	a.handle("PATCH /v1.0/chats/{id}", a.authed(a.updateChat))
	a.handle("GET /v1.0/chats/{id}/members", a.authed(a.listMembers))
	a.handle("POST /v1.0/chats/{id}/members", a.authed(a.addMember))
	a.handle("DELETE /v1.0/chats/{id}/members/{mid}", a.authed(a.removeMember))
	a.handle("POST /v1.0/chats/{id}/messages", a.authed(a.createMessage))
	a.handle("GET /v1.0/chats/{id}/messages", a.authed(a.listMessages))
	a.handle("GET /v1.0/chats/{id}/messages/{mid}", a.authed(a.getMessage))
	a.handle("PATCH /v1.0/chats/{id}/messages/{mid}", a.authed(a.updateMessage))
	a.handle("DELETE /v1.0/chats/{id}/messages/{mid}", a.authed(a.deleteMessage))
	a.handle("POST /v1.0/chats/{id}/messages/{mid}/softDelete", a.authed(a.deleteMessage))
	a.handle("POST /v1.0/chats/{id}/markChatReadForUser", a.authed(a.markRead(true)))
	a.handle("POST /v1.0/chats/{id}/markChatUnreadForUser", a.authed(a.markRead(false)))
	a.handle("POST /parley/v1/chats/{id}/typing", a.authed(a.typing))

	a.routesAdminPolicy()
	a.routesRequests()
	a.routesAccounts()
	a.routesOperatorDebug()
	a.routesAudit()
	a.routesOutbox()
	a.routesDaily()
	a.routesApps()
	a.routesMeetings()
	a.routesProfile()
	a.routesTeams()
	a.routesSearch()
	a.routesPresence()
	a.routesOperatorUsers()
	a.routesBotFramework()
	a.routesFiles()

	a.handle("GET /openapi.json", a.openAPI)
	a.routesOps() // GET /readyz, beside /healthz below
	a.handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/plain")
		_, err := w.Write([]byte("ok\n"))
		return err
	})
	if a.Events != nil {
		a.mux.Handle("GET /parley/v1/events", a.Events)
		a.routeList = append(a.routeList, Route{"GET", "/parley/v1/events"})
	}
	if a.Web != nil {
		// Method-less, so it does not conflict with the API prefixes below;
		// the client is read-only.
		a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				a.WriteError(w, r, errcode.New(errcode.NotFound, "No resource at %s %s.", r.Method, r.URL.Path))
				return
			}
			a.Web.ServeHTTP(w, r)
		})
	}
	// Unknown paths under the API prefixes get the error shape, not HTML;
	// known paths asked with another method get 405. These method-less
	// prefixes win over the router's own 405, so they answer it themselves.
	for _, p := range []string{"/v1.0/", "/parley/", "/oauth2/", "/v3/"} {
		a.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			if allow := a.allowedMethods(r); len(allow) > 0 {
				w.Header().Set("Allow", strings.Join(allow, ", "))
				a.WriteError(w, r, errcode.New(errcode.MethodNotAllowed, "%s does not take %s; it takes %s.", r.URL.Path, r.Method, strings.Join(allow, ", ")))
				return
			}
			a.WriteError(w, r, notFoundPath(r))
		})
	}
}

// probeMethods are the methods a path is tried with to build Allow.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// allowedMethods returns the methods registered for r's path (none: the
// path is unknown). The operator API does not exist without an operator
// token, so its paths stay unknown then.
func (a *API) allowedMethods(r *http.Request) []string {
	if a.OperatorToken == "" && strings.HasPrefix(r.URL.Path, "/parley/v1/operator/") {
		return nil
	}
	var out []string
	for _, m := range probeMethods {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		// A pattern with a method ("GET /v1.0/me") matched; the catch-all
		// prefixes and the web client's "/" have none.
		if _, pattern := a.mux.Handler(probe); strings.Contains(pattern, " ") {
			out = append(out, m)
		}
	}
	return out
}

func (a *API) handle(pattern string, h handlerFunc) {
	a.mux.Handle(pattern, h.with(a))
	method, path, _ := cut(pattern)
	a.routeList = append(a.routeList, Route{method, path})
}

func cut(p string) (string, string, bool) {
	for i := 0; i < len(p); i++ {
		if p[i] == ' ' {
			return p[:i], p[i+1:], true
		}
	}
	return "", p, false
}

// Routes returns every registered route.
func (a *API) Routes() []Route { return a.routeList }
