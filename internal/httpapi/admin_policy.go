package httpapi

import (
	"net/http"

	"github.com/parleychat/parley/internal/address"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/policy"
)

// routesAdminPolicy registers the tenant admin's external access routes.
func (a *API) routesAdminPolicy() {
	a.handle("GET /parley/v1/admin/federationConfiguration", a.authed(a.getFederation))
	a.handle("PATCH /parley/v1/admin/federationConfiguration", a.authed(a.updateFederation))
	a.handle("GET /parley/v1/admin/externalAccessPolicies", a.authed(a.listPolicies))
	a.handle("POST /parley/v1/admin/externalAccessPolicies", a.authed(a.createPolicy))
	a.handle("GET /parley/v1/admin/externalAccessPolicies/{name}", a.authed(a.getPolicy))
	a.handle("PATCH /parley/v1/admin/externalAccessPolicies/{name}", a.authed(a.updatePolicy))
	a.handle("DELETE /parley/v1/admin/externalAccessPolicies/{name}", a.authed(a.deletePolicy))
	a.handle("POST /parley/v1/admin/externalAccessPolicies/{name}/grant", a.authed(a.grantPolicy))
	a.handle("GET /parley/v1/admin/users/{id}/externalAccessPolicy", a.authed(a.userPolicy))
	a.handle("GET /parley/v1/admin/explain", a.authed(a.explain))
}

type federationOut struct {
	AllowTeamsConsumer        bool     `json:"allowTeamsConsumer"`
	AllowTeamsConsumerInbound bool     `json:"allowTeamsConsumerInbound"`
	AllowFederatedUsers       bool     `json:"allowFederatedUsers"`
	AllowAllKnownDomains      bool     `json:"allowAllKnownDomains"`
	AllowedDomains            []string `json:"allowedDomains"`
	BlockedDomains            []string `json:"blockedDomains"`
}

func newFederationOut(s policy.Settings) federationOut {
	return federationOut{s.AllowTeamsConsumer, s.AllowTeamsConsumerInbound, s.AllowFederatedUsers, s.AllowAllKnownDomains, nonNil(s.AllowedDomains), nonNil(s.BlockedDomains)}
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func (a *API) getFederation(w http.ResponseWriter, r *http.Request) error {
	s, err := a.Policy.Settings(r.Context(), userOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newFederationOut(s))
	return nil
}

func (a *API) updateFederation(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		AllowTeamsConsumer        *bool     `json:"allowTeamsConsumer"`
		AllowTeamsConsumerInbound *bool     `json:"allowTeamsConsumerInbound"`
		AllowFederatedUsers       *bool     `json:"allowFederatedUsers"`
		AllowAllKnownDomains      *bool     `json:"allowAllKnownDomains"`
		AllowedDomains            *[]string `json:"allowedDomains"`
		BlockedDomains            *[]string `json:"blockedDomains"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.Policy.UpdateSettings(r.Context(), userOf(r), policy.SettingsPatch{AllowTeamsConsumer: in.AllowTeamsConsumer,
		AllowTeamsConsumerInbound: in.AllowTeamsConsumerInbound, AllowFederatedUsers: in.AllowFederatedUsers,
		AllowAllKnownDomains: in.AllowAllKnownDomains, AllowedDomains: in.AllowedDomains, BlockedDomains: in.BlockedDomains})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newFederationOut(s))
	return nil
}

type policyOut struct {
	Name                       string `json:"name"`
	EnableFederationAccess     bool   `json:"enableFederationAccess"`
	EnableTeamsConsumerAccess  bool   `json:"enableTeamsConsumerAccess"`
	EnableTeamsConsumerInbound bool   `json:"enableTeamsConsumerInbound"`
	UserCount                  *int   `json:"userCount,omitempty"`
}

func newPolicyOut(p policy.Policy) policyOut {
	return policyOut{p.Name, p.EnableFederationAccess, p.EnableTeamsConsumerAccess, p.EnableTeamsConsumerInbound, nil}
}

type policyIn struct {
	Name                       string `json:"name"`
	EnableFederationAccess     *bool  `json:"enableFederationAccess"`
	EnableTeamsConsumerAccess  *bool  `json:"enableTeamsConsumerAccess"`
	EnableTeamsConsumerInbound *bool  `json:"enableTeamsConsumerInbound"`
}

func (in policyIn) patch() policy.PolicyPatch {
	return policy.PolicyPatch{EnableFederationAccess: in.EnableFederationAccess, EnableTeamsConsumerAccess: in.EnableTeamsConsumerAccess, EnableTeamsConsumerInbound: in.EnableTeamsConsumerInbound}
}

// listPolicies lists policies with how many users hold each (who holds
// which: GET …/users/{id}/externalAccessPolicy, or ?expand=users), Global
// first, then by name; all of them without $top. The service returns the
// whole list, so it is paged here (paging.go).
func (a *API) listPolicies(w http.ResponseWriter, r *http.Request) error {
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	keys, err := skipToken(r, 1)
	if err != nil {
		return err
	}
	var after string
	if keys != nil {
		if after = keys[0]; after == "" {
			return errcode.New(errcode.BadRequest, "$skiptoken is not valid.")
		}
	}
	ps, more, err := a.Policy.ListPolicies(r.Context(), userOf(r), after, limit)
	if err != nil {
		return err
	}
	type withUsers struct {
		policyOut
		UserIDs []identity.UserID `json:"userIds,omitempty"`
	}
	out := make([]withUsers, 0, len(ps))
	for _, p := range ps {
		po := newPolicyOut(p.Policy)
		if p.Name != policy.GlobalName {
			n := len(p.Holders)
			po.UserCount = &n
		}
		wu := withUsers{policyOut: po}
		if r.URL.Query().Get("expand") == "users" {
			wu.UserIDs = p.Holders
		}
		out = append(out, wu)
	}
	res := page[withUsers]{Value: out}
	if more {
		res.NextLink = a.nextLink(r, makeSkipToken(ps[len(ps)-1].Name))
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (a *API) createPolicy(w http.ResponseWriter, r *http.Request) error {
	var in policyIn
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.Policy.CreatePolicy(r.Context(), userOf(r), in.Name, in.patch())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newPolicyOut(p))
	return nil
}

func (a *API) getPolicy(w http.ResponseWriter, r *http.Request) error {
	p, err := a.Policy.GetPolicy(r.Context(), userOf(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPolicyOut(p))
	return nil
}

func (a *API) updatePolicy(w http.ResponseWriter, r *http.Request) error {
	var in policyIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Name != "" && in.Name != r.PathValue("name") {
		return errcode.New(errcode.BadRequest, "A policy cannot be renamed; create a new one and grant it instead.")
	}
	p, err := a.Policy.UpdatePolicy(r.Context(), userOf(r), r.PathValue("name"), in.patch())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPolicyOut(p))
	return nil
}

func (a *API) deletePolicy(w http.ResponseWriter, r *http.Request) error {
	reset := false
	switch r.URL.Query().Get("resetUsers") {
	case "", "false":
	case "true":
		reset = true
	default:
		return errcode.New(errcode.BadRequest, "resetUsers must be true or false.")
	}
	if err := a.Policy.DeletePolicy(r.Context(), userOf(r), r.PathValue("name"), reset); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) grantPolicy(w http.ResponseWriter, r *http.Request) error {
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
	if err := a.Policy.Grant(r.Context(), userOf(r), r.PathValue("name"), ids); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) userPolicy(w http.ResponseWriter, r *http.Request) error {
	name, err := a.Policy.UserPolicy(r.Context(), userOf(r), identity.UserID(r.PathValue("id")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"name": name})
	return nil
}

// checkOut is one check of an explanation. Value is API.md's original
// field and means the same as Passed (did the rule allow it); Passed names
// it plainly, and Setting is the value of the on/off setting the rule read,
// absent when the rule reads no such switch (domain lists, blocks, account
// kinds) or the setting could not be read. So "tenant.blockedDomains" with
// passed false means the domain is on the blocked list, never that the
// list is off.
type checkOut struct {
	Rule    string `json:"rule"`
	Value   bool   `json:"value"`
	Passed  bool   `json:"passed"`
	Setting *bool  `json:"setting,omitempty"`
	Source  string `json:"source"`
}

// switchRules are the rules that pass exactly when their setting is on.
var switchRules = map[string]bool{
	policy.RuleAllowTeamsConsumer: true, policy.RuleAllowTeamsConsumerInbound: true, policy.RuleAllowFederatedUsers: true,
	policy.RuleEnableFederationAccess: true, policy.RuleEnableTeamsConsumerAccess: true, policy.RuleEnableTeamsConsumerInbound: true,
	policy.RuleAllowChatsFromOrganizations: true,
}

func newCheckOut(c policy.Check) checkOut {
	out := checkOut{Rule: c.Rule, Value: c.Value, Passed: c.Value, Source: c.Source}
	if switchRules[c.Rule] && c.Source != policy.SourceTenantMissing && c.Source != policy.SourcePolicyMissing {
		v := c.Value
		out.Setting = &v
	}
	return out
}

// explain answers "can this user chat with this address, and why not?"
// from the admin's own side (docs/rules.md §4). The answer depends on the
// address's domain alone, never on whether an account owns it.
func (a *API) explain(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Has("appId") && a.Apps != nil {
		return a.explainApp(w, r)
	}
	uid, raw := q.Get("userId"), q.Get("address")
	if uid == "" || raw == "" {
		return errcode.New(errcode.BadRequest, "userId and address are required.")
	}
	addr, err := address.Parse(raw, a.PhoneRegion)
	if err != nil {
		return err
	}
	ex, err := a.Policy.Explain(r.Context(), userOf(r), identity.UserID(uid), nil, addr.Domain())
	if err != nil {
		return err
	}
	checks := make([]checkOut, 0, len(ex.Checks))
	for _, c := range ex.Checks {
		checks = append(checks, newCheckOut(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"allowed": ex.Allowed, "checks": checks})
	return nil
}
