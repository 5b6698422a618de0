package httpapi

import (
	"errors"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/address"
	"github.com/parleychat/parley/internal/auth"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
)

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

type oauthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// token is the OAuth 2 resource-owner password grant (API.md "Sign-in").
// Its errors use the OAuth 2 shape, the one exception to the error shape.
func (a *API) token(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "The body must be application/x-www-form-urlencoded."})
		return nil
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "The form could not be read."})
		return nil
	}
	if !validForm(r.Form) {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "The form is not valid UTF-8."})
		return nil
	}
	if gt := r.PostForm.Get("grant_type"); gt != "password" {
		writeJSON(w, http.StatusBadRequest, oauthError{"unsupported_grant_type", "Only grant_type=password is supported."})
		return nil
	}
	user, pass := r.PostForm.Get("username"), r.PostForm.Get("password")
	if user == "" || pass == "" {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "username and password are required."})
		return nil
	}
	// Sign-in names are stored normalised: an address typed in any common
	// form (a phone number as "(415) 555-0100") signs in.
	if addr, err := address.Parse(user, a.PhoneRegion); err == nil {
		user = addr.Value
	}
	tok, err := a.Auth.SignIn(r.Context(), user, pass, clientAddr(r))
	if errors.Is(err, auth.ErrInvalidGrant) {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "The user name or password is incorrect."})
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tok.AccessToken, TokenType: "Bearer", ExpiresIn: int64(tok.ExpiresIn.Seconds())})
	return nil
}

// signOut revokes the caller's token.
func (a *API) signOut(w http.ResponseWriter, r *http.Request) error {
	if err := a.Auth.SignOut(r.Context(), BearerToken(r, false)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type accountIn struct {
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
	Password          string `json:"password"`
}

type tenantIn struct {
	DisplayName string    `json:"displayName"`
	Domains     []string  `json:"domains"`
	Admin       accountIn `json:"admin"`
}

type tenantOut struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	Domains     []string `json:"domains"`
	Admin       *struct {
		ID                string `json:"id"`
		UserPrincipalName string `json:"userPrincipalName"`
	} `json:"admin,omitempty"`
}

func newTenantOut(t identity.Tenant, admin *identity.User) tenantOut {
	out := tenantOut{ID: string(t.ID), DisplayName: t.DisplayName, Domains: t.Domains}
	if out.Domains == nil {
		out.Domains = []string{}
	}
	if admin != nil {
		out.Admin = &struct {
			ID                string `json:"id"`
			UserPrincipalName string `json:"userPrincipalName"`
		}{string(admin.ID), admin.UPN}
	}
	return out
}

func (in tenantIn) domain() identity.NewTenant {
	return identity.NewTenant{DisplayName: in.DisplayName, Domains: in.Domains,
		Admin: identity.NewAccount{DisplayName: in.Admin.DisplayName, UPN: in.Admin.UserPrincipalName, Password: in.Admin.Password}}
}

// createTenant is the operator's tenant creation.
func (a *API) createTenant(w http.ResponseWriter, r *http.Request) error {
	var in tenantIn
	if err := decode(r, &in); err != nil {
		return err
	}
	t, admin, err := a.Identity.CreateTenant(r.Context(), in.domain())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newTenantOut(t, &admin))
	return nil
}

// listTenants lists tenants for the operator.
func (a *API) listTenants(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.Identity.Tenants(r.Context())
	if err != nil {
		return err
	}
	out := make([]tenantOut, 0, len(ts))
	for _, t := range ts {
		out = append(out, newTenantOut(t, nil))
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": out})
	return nil
}

type setupIn struct {
	Token string `json:"token"`
	tenantIn
}

// setup turns the one-time setup token into the first organisation.
func (a *API) setup(w http.ResponseWriter, r *http.Request) error {
	var in setupIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Token) == "" {
		return errcode.New(errcode.BadRequest, "token is required: it was printed when the server started.")
	}
	t, admin, err := a.Setup.Complete(r.Context(), in.Token, in.domain())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newTenantOut(t, &admin))
	return nil
}

type userIn struct {
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
	MailNickname      string `json:"mailNickname"`
	AccountEnabled    *bool  `json:"accountEnabled"`
	PasswordProfile   struct {
		Password string `json:"password"`
	} `json:"passwordProfile"`
	MobilePhone *string `json:"mobilePhone"`
	UserType    string  `json:"userType"`
}

// createUser is Graph's POST /users for tenant admins.
func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	var in userIn
	if err := decode(r, &in); err != nil {
		return err
	}
	kind := identity.Member
	switch in.UserType {
	case "", "Member":
	case "Guest":
		kind = identity.Guest
	default:
		return errcode.New(errcode.BadRequest, "userType must be Member or Guest.")
	}
	na := identity.NewAccount{DisplayName: in.DisplayName, UPN: in.UserPrincipalName, Password: in.PasswordProfile.Password, Kind: kind}
	if in.MobilePhone != nil {
		na.Phone = *in.MobilePhone
	}
	me := userOf(r)
	u, err := a.Identity.CreateUser(r.Context(), me, na)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, graph.NewUser(&u, me))
	return nil
}

func (a *API) getMe(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	writeJSON(w, http.StatusOK, graph.NewUser(me, me))
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	u, err := a.Identity.Visible(r.Context(), me, identity.UserID(r.PathValue("id")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, graph.NewUser(&u, me))
	return nil
}

// setupStatus tells the first-run page whether setup is needed.
func (a *API) setupStatus(w http.ResponseWriter, r *http.Request) error {
	needed, err := a.Setup.Needed(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"setupNeeded": needed})
	return nil
}

// demo lists the demo accounts (empty unless the server runs with --demo).
func (a *API) demo(w http.ResponseWriter, r *http.Request) error {
	out := a.Demo
	if out == nil {
		out = []DemoAccount{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": out})
	return nil
}

// listUsers is Graph's GET /users: the people of the caller's organisation,
// optionally filtered by exact sign-in name ($filter=userPrincipalName eq '…'),
// a page at a time ($top: Graph's 100 by default, at most 999).
func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Query().Has("$search") {
		return a.searchUsers(w, r) // people search (search.go)
	}
	me := userOf(r)
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	var f identity.UserFilter
	if v := r.URL.Query().Get("$filter"); v != "" {
		upn, ok := strings.CutPrefix(v, "userPrincipalName eq '")
		if !ok || !strings.HasSuffix(upn, "'") {
			return errcode.New(errcode.BadRequest, "Only $filter=userPrincipalName eq '<address>' is supported.")
		}
		upn = strings.TrimSuffix(upn, "'")
		if !utf8.ValidString(upn) {
			return errcode.New(errcode.BadRequest, "$filter is not valid UTF-8.")
		}
		// Sign-in names are stored normalised (an internationalised domain as its A-label).
		if addr, err := address.ParseEmail(upn); err == nil {
			upn = addr.Value
		}
		f.UPN = strings.ToLower(upn)
	}
	t, id, ok, err := timeIDSkipToken(r)
	if err != nil {
		return err
	}
	if ok {
		f.After = identity.UserCursor{CreatedAt: t, ID: identity.UserID(id)}
	}
	us, next, err := a.Identity.Users(r.Context(), me, f, limit)
	if err != nil {
		return err
	}
	out := page[graph.User]{Value: make([]graph.User, 0, len(us))}
	for i := range us {
		out.Value = append(out.Value, graph.NewUser(&us[i], me))
	}
	if next.ID != "" {
		out.NextLink = a.nextLink(r, makeSkipToken(timeKey(next.CreatedAt), string(next.ID)))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
