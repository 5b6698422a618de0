package httpapi

import (
	"net/http"
	"time"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

func (a *API) routesOperatorUsers() {
	a.handle("POST /parley/v1/operator/users:bulk", a.operator(a.createUsersBulk))
}

type bulkUsersIn struct {
	TenantID string `json:"tenantId"`
	// Password is every account's password, hashed once for all of them.
	Password string `json:"password"`
	// IssueTokens also signs each new account in (no extra password hash).
	IssueTokens bool `json:"issueTokens"`
	Users       []struct {
		DisplayName       string `json:"displayName"`
		UserPrincipalName string `json:"userPrincipalName"`
		UserType          string `json:"userType"`
		MobilePhone       string `json:"mobilePhone"`
	} `json:"users"`
}

type bulkUserOut struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	AccessToken       string `json:"access_token,omitempty"`
	ExpiresIn         int64  `json:"expires_in,omitempty"`
}

// createUsersBulk is the operator's bulk account creation: up to
// identity.MaxBulkUsers accounts of one organisation that share one
// password, created all or none, optionally each with a bearer token. It
// exists for load tests and imports, where one argon2id hash per account
// (plus one per sign-in) dominates the set-up time.
func (a *API) createUsersBulk(w http.ResponseWriter, r *http.Request) error {
	var in bulkUsersIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.TenantID == "" {
		return errcode.New(errcode.BadRequest, "tenantId is required.")
	}
	nas := make([]identity.NewAccount, len(in.Users))
	for i, u := range in.Users {
		kind := identity.Member
		switch u.UserType {
		case "", "Member":
		case "Guest":
			kind = identity.Guest
		default:
			return errcode.New(errcode.BadRequest, "users[%d]: userType must be Member or Guest.", i)
		}
		nas[i] = identity.NewAccount{DisplayName: u.DisplayName, UPN: u.UserPrincipalName, Phone: u.MobilePhone, Kind: kind}
	}
	us, err := a.Identity.CreateUsersInTenant(r.Context(), identity.TenantID(in.TenantID), in.Password, nas)
	if err != nil {
		return err
	}
	out := make([]bulkUserOut, len(us))
	for i, u := range us {
		out[i] = bulkUserOut{ID: string(u.ID), UserPrincipalName: u.UPN}
		if in.IssueTokens {
			tok, err := a.Auth.IssueToken(r.Context(), u.ID)
			if err != nil {
				return err
			}
			out[i].AccessToken, out[i].ExpiresIn = tok.AccessToken, int64(tok.ExpiresIn/time.Second)
		}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"value": out})
	return nil
}
