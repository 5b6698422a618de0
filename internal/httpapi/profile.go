package httpapi

import (
	"net/http"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/graph"
)

// routesProfile registers what people change about their own account: the
// name others see, the password, and the sessions signed in elsewhere.
func (a *API) routesProfile() {
	a.handle("PATCH /v1.0/me", a.authed(a.updateMe))
	a.handle("POST /parley/v1/me/password", a.authed(a.changePassword))
	a.handle("POST /parley/v1/me/signOutOtherSessions", a.authed(a.signOutOthers))
}

// updateMe renames the caller (Graph's PATCH /me; displayName is the one
// property a person may change here).
func (a *API) updateMe(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		DisplayName *string `json:"displayName"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	me := userOf(r)
	if in.DisplayName == nil {
		return errcode.New(errcode.BadRequest, "displayName is required.")
	}
	u, err := a.Identity.Rename(r.Context(), me, *in.DisplayName)
	if err != nil {
		return err
	}
	a.Auth.ForgetUser(me.ID)
	writeJSON(w, http.StatusOK, graph.NewUser(&u, &u))
	return nil
}

// changePassword sets a new password, proven by the current one; every
// other session of the caller ends, this one stays.
func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		CurrentPassword string `json:"currentPassword"`
		NewPassword     string `json:"newPassword"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.CurrentPassword == "" || in.NewPassword == "" {
		return errcode.New(errcode.BadRequest, "currentPassword and newPassword are required.")
	}
	if err := a.Auth.ChangePassword(r.Context(), userOf(r), BearerToken(r, false), in.CurrentPassword, in.NewPassword, clientAddr(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// signOutOthers ends every session of the caller but this one and says how
// many ended.
func (a *API) signOutOthers(w http.ResponseWriter, r *http.Request) error {
	n, err := a.Auth.SignOutOthers(r.Context(), userOf(r), BearerToken(r, false))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"signedOut": n})
	return nil
}
