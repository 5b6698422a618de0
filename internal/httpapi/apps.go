package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/parleychat/parley/internal/app"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
)

// routesApps registers the app catalog, bot registrations, installs, app
// policies and the deep link (docs/rules.md §9).
func (a *API) routesApps() {
	a.handle("GET /v1.0/appCatalogs/teamsApps", a.authed(a.listCatalog))
	a.handle("POST /v1.0/appCatalogs/teamsApps", a.authed(a.uploadApp))
	a.handle("GET /v1.0/appCatalogs/teamsApps/{id}", a.authed(a.getCatalogApp))
	a.handle("DELETE /v1.0/appCatalogs/teamsApps/{id}", a.authed(a.deleteCatalogApp))
	a.handle("POST /v1.0/appCatalogs/teamsApps/{id}/appDefinitions", a.authed(a.updateCatalogApp))
	a.handle("PATCH /parley/v1/admin/teamsApps/{id}", a.authed(a.blockApp))

	a.handle("GET /parley/v1/admin/bots", a.authed(a.listBots))
	a.handle("POST /parley/v1/admin/bots", a.authed(a.registerBot))
	a.handle("GET /parley/v1/admin/bots/{id}", a.authed(a.getBot))
	a.handle("PATCH /parley/v1/admin/bots/{id}", a.authed(a.updateBot))
	a.handle("DELETE /parley/v1/admin/bots/{id}", a.authed(a.deleteBot))
	a.handle("POST /parley/v1/admin/bots/{id}/secret", a.authed(a.rotateBotSecret))

	for _, base := range []string{"/v1.0/chats/{id}/installedApps", "/v1.0/teams/{id}/installedApps", "/v1.0/users/{id}/teamwork/installedApps"} {
		a.handle("GET "+base, a.authed(a.listInstalls))
		a.handle("POST "+base, a.authed(a.installApp))
		a.handle("GET "+base+"/{iid}", a.authed(a.getInstall))
		a.handle("DELETE "+base+"/{iid}", a.authed(a.uninstallApp))
		a.handle("POST "+base+"/{iid}/upgrade", a.authed(a.upgradeApp))
	}
	a.handle("POST /l/app/{appId}", a.authed(a.deepLinkInstall))
	a.handle("POST /parley/v1/me/apps/{appId}/chat", a.authed(a.openBotChat))
	a.handle("GET /v1.0/users/{id}/teamwork/installedApps/{iid}/chat", a.authed(a.installedAppChat))

	for _, k := range []app.PolicyKind{app.PermissionKind, app.SetupKind} {
		base := "/parley/v1/admin/app" + strings.ToUpper(string(k[:1])) + string(k[1:]) + "Policies"
		a.handle("GET "+base, a.authed(a.listAppPolicies(k)))
		a.handle("POST "+base, a.authed(a.createAppPolicy(k)))
		a.handle("GET "+base+"/{name}", a.authed(a.getAppPolicy(k)))
		a.handle("PATCH "+base+"/{name}", a.authed(a.updateAppPolicy(k)))
		a.handle("DELETE "+base+"/{name}", a.authed(a.deleteAppPolicy(k)))
		a.handle("POST "+base+"/{name}/grant", a.authed(a.grantAppPolicy(k)))
	}
}

// --- Catalog -----------------------------------------------------------

type teamsAppBot struct {
	ID string `json:"id"`
}

type teamsAppDefinition struct {
	ID               string       `json:"id"`
	TeamsAppID       string       `json:"teamsAppId"`
	DisplayName      string       `json:"displayName"`
	Version          string       `json:"version"`
	Description      string       `json:"description"`
	ShortDescription string       `json:"shortDescription"`
	PublishingState  string       `json:"publishingState"`
	Bot              *teamsAppBot `json:"bot"`
	LastModified     *string      `json:"lastModifiedDateTime"`
}

type teamsAppOut struct {
	ID                 string               `json:"id"`
	ExternalID         string               `json:"externalId"`
	DisplayName        string               `json:"displayName"`
	DistributionMethod string               `json:"distributionMethod"`
	AppDefinitions     []teamsAppDefinition `json:"appDefinitions"`
	// Parley's: the scopes the manifest declares, and the tenant-wide block.
	Scopes    []string `json:"scopes"`
	IsBlocked bool     `json:"isBlocked"`
	// Parley's: the manifest's tabs and message-extension commands, which
	// clients show (a tab as a framed https URL).
	Tabs     []tabOut     `json:"tabs"`
	Commands []commandOut `json:"composeExtensionCommands"`
}

type tabOut struct {
	EntityID   string `json:"entityId"`
	Name       string `json:"name"`
	ContentURL string `json:"contentUrl"`
}

type commandOut struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Type  string `json:"type"`
}

func scopeNames(s app.Scope) []string {
	out := []string{}
	for _, x := range []struct {
		s    app.Scope
		name string
	}{{app.ScopePersonal, "personal"}, {app.ScopeGroupChat, "groupChat"}, {app.ScopeTeam, "team"}, {app.ScopeMeeting, "meeting"}} {
		if s&x.s != 0 {
			out = append(out, x.name)
		}
	}
	return out
}

func newDefinition(ap *app.App, version string) teamsAppDefinition {
	d := teamsAppDefinition{ID: ap.ID + "@" + version, TeamsAppID: ap.ID, DisplayName: ap.DisplayName, Version: version, Description: ap.Description,
		ShortDescription: ap.Description, PublishingState: "published", LastModified: graph.Time(ap.UpdatedAt)}
	if ap.BotID != "" {
		d.Bot = &teamsAppBot{ID: ap.BotID}
	}
	return d
}

func newTeamsApp(ap *app.App) teamsAppOut {
	out := teamsAppOut{ID: ap.ID, ExternalID: ap.ExternalID, DisplayName: ap.DisplayName, DistributionMethod: "organization",
		AppDefinitions: []teamsAppDefinition{newDefinition(ap, ap.Version)}, Scopes: scopeNames(ap.Scopes), IsBlocked: ap.Blocked,
		Tabs: make([]tabOut, len(ap.Tabs)), Commands: make([]commandOut, len(ap.Commands))}
	for i, t := range ap.Tabs {
		out.Tabs[i] = tabOut{EntityID: t.EntityID, Name: t.Name, ContentURL: t.ContentURL}
	}
	for i, c := range ap.Commands {
		out.Commands[i] = commandOut{ID: c.ID, Title: c.Title, Type: c.Kind()}
	}
	return out
}

func (a *API) listCatalog(w http.ResponseWriter, r *http.Request) error {
	apps, err := a.Apps.Catalog(r.Context(), userOf(r))
	if err != nil {
		return err
	}
	out := make([]teamsAppOut, len(apps))
	for i := range apps {
		out[i] = newTeamsApp(&apps[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": out})
	return nil
}

func (a *API) getCatalogApp(w http.ResponseWriter, r *http.Request) error {
	ap, err := a.Apps.CatalogApp(r.Context(), userOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newTeamsApp(&ap))
	return nil
}

// readPackage reads an app package upload: the zip as the body,
// Content-Type application/zip (or application/x-zip-compressed, as some
// tools send), at most app.MaxPackageBytes.
func readPackage(r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/zip" && mt != "application/x-zip-compressed" && mt != "application/octet-stream") {
		return nil, errcode.New(errcode.BadRequest, "The body must be the app package zip (Content-Type: application/zip).")
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, app.MaxPackageBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, errcode.New(errcode.BadRequest, "The app package could not be read.")
	}
	if len(b) > app.MaxPackageBytes {
		return nil, errcode.New(errcode.PayloadTooLarge, "An app package may be at most %d bytes.", app.MaxPackageBytes)
	}
	return b, nil
}

func (a *API) uploadApp(w http.ResponseWriter, r *http.Request) error {
	pkg, err := readPackage(r)
	if err != nil {
		return err
	}
	ap, err := a.Apps.Upload(r.Context(), userOf(r), pkg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newTeamsApp(&ap))
	return nil
}

// updateCatalogApp is Graph's update: POST a new package as the app's
// definition; the catalog keeps one definition, the newest.
func (a *API) updateCatalogApp(w http.ResponseWriter, r *http.Request) error {
	pkg, err := readPackage(r)
	if err != nil {
		return err
	}
	ap, err := a.Apps.UpdatePackage(r.Context(), userOf(r), r.PathValue("id"), pkg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newDefinition(&ap, ap.Version))
	return nil
}

func (a *API) deleteCatalogApp(w http.ResponseWriter, r *http.Request) error {
	if err := a.Apps.DeleteApp(r.Context(), userOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) blockApp(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		IsBlocked *bool `json:"isBlocked"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.IsBlocked == nil {
		return errcode.New(errcode.BadRequest, "isBlocked is required.")
	}
	ap, err := a.Apps.SetBlocked(r.Context(), userOf(r), r.PathValue("id"), *in.IsBlocked)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newTeamsApp(&ap))
	return nil
}

// --- Bots --------------------------------------------------------------

type botOut struct {
	ID                string  `json:"id"`
	DisplayName       string  `json:"displayName"`
	MessagingEndpoint string  `json:"messagingEndpoint"`
	CreatedDateTime   *string `json:"createdDateTime"`
	Secret            string  `json:"secret,omitempty"`
}

func newBotOut(b *app.Bot, secret string) botOut {
	return botOut{ID: b.ID, DisplayName: b.DisplayName, MessagingEndpoint: b.Endpoint, CreatedDateTime: graph.Time(b.CreatedAt), Secret: secret}
}

func (a *API) listBots(w http.ResponseWriter, r *http.Request) error {
	bots, err := a.Apps.Bots(r.Context(), userOf(r))
	if err != nil {
		return err
	}
	out := make([]botOut, len(bots))
	for i := range bots {
		out[i] = newBotOut(&bots[i], "")
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": out})
	return nil
}

func (a *API) registerBot(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		DisplayName       string `json:"displayName"`
		MessagingEndpoint string `json:"messagingEndpoint"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	b, secret, err := a.Apps.RegisterBot(r.Context(), userOf(r), in.DisplayName, in.MessagingEndpoint)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newBotOut(&b, secret))
	return nil
}

func (a *API) getBot(w http.ResponseWriter, r *http.Request) error {
	b, err := a.Apps.Bot(r.Context(), userOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newBotOut(&b, ""))
	return nil
}

func (a *API) updateBot(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		DisplayName       *string `json:"displayName"`
		MessagingEndpoint *string `json:"messagingEndpoint"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	b, err := a.Apps.UpdateBot(r.Context(), userOf(r), r.PathValue("id"), in.DisplayName, in.MessagingEndpoint)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newBotOut(&b, ""))
	return nil
}

func (a *API) deleteBot(w http.ResponseWriter, r *http.Request) error {
	if err := a.Apps.DeleteBot(r.Context(), userOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) rotateBotSecret(w http.ResponseWriter, r *http.Request) error {
	b, secret, err := a.Apps.RotateSecret(r.Context(), userOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newBotOut(&b, secret))
	return nil
}

// --- Installs ----------------------------------------------------------

type installOut struct {
	ID                 string             `json:"id"`
	TeamsApp           teamsAppOut        `json:"teamsApp"`
	TeamsAppDefinition teamsAppDefinition `json:"teamsAppDefinition"`
	// Parley's: shown on the holder's app bar (personal scope).
	IsPinned bool `json:"isPinned"`
	// Parley's: what the caller may do with the app here (remove, use,
	// mention, card, tab, messageExtension), as app.May answers it; a hint
	// for clients, every call is still decided when it is made.
	AllowedActions []string `json:"allowedActions,omitempty"`
}

func newInstallOut(in *app.Install) installOut {
	return installOut{ID: in.ID, TeamsApp: newTeamsApp(&in.App), TeamsAppDefinition: newDefinition(&in.App, in.Version), IsPinned: in.Pinned}
}

func targetOf(r *http.Request) app.Target {
	if strings.HasPrefix(r.URL.Path, "/v1.0/users/") {
		return app.Target{Kind: app.InUser, ID: r.PathValue("id")}
	}
	if strings.HasPrefix(r.URL.Path, "/v1.0/teams/") {
		return app.Target{Kind: app.InTeam, ID: r.PathValue("id")}
	}
	return app.Target{Kind: app.InChat, ID: r.PathValue("id")}
}

func (a *API) listInstalls(w http.ResponseWriter, r *http.Request) error {
	ins, err := a.Apps.Installs(r.Context(), userOf(r), targetOf(r))
	if err != nil {
		return err
	}
	allowed, err := a.Apps.AllowedUses(r.Context(), userOf(r), targetOf(r), ins)
	if err != nil {
		return err
	}
	out := make([]installOut, len(ins))
	for i := range ins {
		out[i] = newInstallOut(&ins[i])
		out[i].AllowedActions = make([]string, len(allowed[i]))
		for j, act := range allowed[i] {
			out[i].AllowedActions[j] = act.String()
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": out})
	return nil
}

func (a *API) getInstall(w http.ResponseWriter, r *http.Request) error {
	ins, err := a.Apps.Installs(r.Context(), userOf(r), targetOf(r))
	if err != nil {
		return err
	}
	for i := range ins {
		if ins[i].ID == r.PathValue("iid") {
			writeJSON(w, http.StatusOK, newInstallOut(&ins[i]))
			return nil
		}
	}
	return errcode.New(errcode.NotFound, "No installed app %s here.", r.PathValue("iid"))
}

// catalogRef reads the app id out of "…/appCatalogs/teamsApps/{id}" or
// "…/appCatalogs/teamsApps('{id}')".
var catalogRef = regexp.MustCompile(`/appCatalogs/teamsApps(?:/|\(')([0-9A-Za-z-]{1,64})(?:'\))?/?$`)

func (a *API) installApp(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Bind string `json:"teamsApp@odata.bind"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	m := catalogRef.FindStringSubmatch(in.Bind)
	if m == nil {
		return errcode.New(errcode.BadRequest, "teamsApp@odata.bind must name an app of the catalog: https://…/v1.0/appCatalogs/teamsApps/{id}.")
	}
	inst, err := a.Apps.Install(r.Context(), userOf(r), targetOf(r), m[1], false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newInstallOut(&inst))
	return nil
}

// deepLinkInstall installs the app a shared link /l/app/{appId} names: in
// the chat given, or else the caller's personal scope (for a guest always
// the personal scope, without an app-bar icon: docs/rules.md §9).
func (a *API) deepLinkInstall(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		ChatID string `json:"chatId"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	u := userOf(r)
	t := app.Target{Kind: app.InUser, ID: string(u.ID)}
	if in.ChatID != "" {
		t = app.Target{Kind: app.InChat, ID: in.ChatID}
	}
	inst, err := a.Apps.Install(r.Context(), u, t, r.PathValue("appId"), true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newInstallOut(&inst))
	return nil
}

// openBotChat opens the caller's 1:1 chat with an app's bot: 201
// {"chatId"} when this call created it, 200 when it existed.
func (a *API) openBotChat(w http.ResponseWriter, r *http.Request) error {
	c, created, err := a.Apps.OpenBotChat(r.Context(), userOf(r), r.PathValue("appId"))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]string{"chatId": string(c.ID)})
	return nil
}

// installedAppChat is Graph's way to a person's 1:1 chat with an app
// installed for them: the chat openBotChat opens (created on first use,
// the bot told once), answered as a chat. Only the person may ask: an admin
// may read someone's installs but is not a member of their chat.
func (a *API) installedAppChat(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	ins, err := a.Apps.Installs(r.Context(), me, targetOf(r))
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ins, func(in app.Install) bool { return in.ID == r.PathValue("iid") })
	if i < 0 {
		return errcode.New(errcode.NotFound, "No installed app %s here.", r.PathValue("iid"))
	}
	if r.PathValue("id") != string(me.ID) {
		return errcode.New(errcode.Forbidden, "Only the person an app is installed for can open their chat with it.")
	}
	c, _, err := a.Apps.OpenBotChat(r.Context(), me, ins[i].AppID)
	if err != nil {
		return err
	}
	c, err = a.Chats.GetWithUnread(r.Context(), me, c.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, graph.NewChat(&c, me))
	return nil
}

func (a *API) uninstallApp(w http.ResponseWriter, r *http.Request) error {
	if err := a.Apps.Uninstall(r.Context(), userOf(r), targetOf(r), r.PathValue("iid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) upgradeApp(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.Apps.Upgrade(r.Context(), userOf(r), targetOf(r), r.PathValue("iid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- App policies ------------------------------------------------------

type appPolicyOut struct {
	Name         string   `json:"name"`
	Mode         string   `json:"mode,omitempty"`
	AppIDs       []string `json:"appIds"`
	PinnedAppIDs []string `json:"pinnedAppIds,omitempty"`
	UserIDs      []string `json:"userIds,omitempty"`
}

func newAppPolicyOut(p app.StoredPolicy) appPolicyOut {
	out := appPolicyOut{Name: p.Name, Mode: string(p.Mode), AppIDs: nonNil(p.Apps)}
	if p.Kind == app.SetupKind {
		out.PinnedAppIDs = nonNil(p.Pinned)
	}
	return out
}

type appPolicyIn struct {
	Name         string    `json:"name"`
	Mode         *string   `json:"mode"`
	AppIDs       *[]string `json:"appIds"`
	PinnedAppIDs *[]string `json:"pinnedAppIds"`
}

func (in appPolicyIn) patch() app.PolicyPatch {
	p := app.PolicyPatch{Apps: in.AppIDs, Pinned: in.PinnedAppIDs}
	if in.Mode != nil {
		m := app.Mode(*in.Mode)
		p.Mode = &m
	}
	return p
}

func (a *API) listAppPolicies(k app.PolicyKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ps, err := a.Apps.AppPolicies(r.Context(), userOf(r), k)
		if err != nil {
			return err
		}
		grants, err := a.Apps.AppGrants(r.Context(), userOf(r), k)
		if err != nil {
			return err
		}
		holders := map[string][]string{}
		for u, n := range grants {
			holders[n] = append(holders[n], string(u))
		}
		out := make([]appPolicyOut, len(ps))
		for i, p := range ps {
			out[i] = newAppPolicyOut(p)
			out[i].UserIDs = holders[p.Name]
		}
		writeJSON(w, http.StatusOK, map[string]any{"value": out})
		return nil
	}
}

func (a *API) createAppPolicy(k app.PolicyKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in appPolicyIn
		if err := decode(r, &in); err != nil {
			return err
		}
		p, err := a.Apps.CreateAppPolicy(r.Context(), userOf(r), k, in.Name, in.patch())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, newAppPolicyOut(p))
		return nil
	}
}

func (a *API) getAppPolicy(k app.PolicyKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := a.Apps.AppPolicy(r.Context(), userOf(r), k, r.PathValue("name"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newAppPolicyOut(p))
		return nil
	}
}

func (a *API) updateAppPolicy(k app.PolicyKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in appPolicyIn
		if err := decode(r, &in); err != nil {
			return err
		}
		if in.Name != "" && in.Name != r.PathValue("name") {
			return errcode.New(errcode.BadRequest, "A policy cannot be renamed.")
		}
		p, err := a.Apps.UpdateAppPolicy(r.Context(), userOf(r), k, r.PathValue("name"), in.patch())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newAppPolicyOut(p))
		return nil
	}
}

func (a *API) deleteAppPolicy(k app.PolicyKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		reset := r.URL.Query().Get("resetUsers") == "true"
		if err := a.Apps.DeleteAppPolicy(r.Context(), userOf(r), k, r.PathValue("name"), reset); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (a *API) grantAppPolicy(k app.PolicyKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			UserIDs []string `json:"userIds"`
		}
		if err := decode(r, &in); err != nil {
			return err
		}
		ids := make([]identity.UserID, len(in.UserIDs))
		for i, u := range in.UserIDs {
			ids[i] = identity.UserID(u)
		}
		if err := a.Apps.GrantAppPolicy(r.Context(), userOf(r), k, r.PathValue("name"), ids); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// explainApp is explain's apps mode: ?userId=…&appId=…[&conversationId=…][&action=…]
// ("can Pat use the Polls app in this meeting, and why"); conversationId
// names a chat, a team, a channel or a channel's thread.
func (a *API) explainApp(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("userId") == "" {
		return errcode.New(errcode.BadRequest, "userId is required.")
	}
	var action app.Action
	if s := q.Get("action"); s != "" {
		if action = app.ParseAction(s); action == 0 {
			return errcode.New(errcode.BadRequest, "action must be one of browse, add, update, remove, deepLink, use, mention, card, tab, messageExtension.")
		}
	}
	ex, err := a.Apps.Explain(r.Context(), userOf(r), identity.UserID(q.Get("userId")), q.Get("appId"), q.Get("conversationId"), action)
	if err != nil {
		return err
	}
	checks := make([]map[string]any, len(ex.Checks))
	for i, c := range ex.Checks {
		m := map[string]any{"rule": c.Rule, "value": c.Value, "passed": c.Value, "source": c.Source}
		if c.Policy != "" {
			m["policy"] = c.Policy
		}
		checks[i] = m
	}
	out := map[string]any{"allowed": ex.Allowed, "who": ex.Who.String(), "action": ex.Action.String(), "context": ex.Context.String(), "checks": checks}
	if !ex.Allowed {
		out["message"] = ex.Message
	}
	if ex.Team != "" {
		out["teamId"], out["teamRole"] = ex.Team, ex.Role
		if ex.Channel != "" {
			out["channelId"] = ex.Channel
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
