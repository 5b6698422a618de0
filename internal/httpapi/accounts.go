package httpapi

import (
	"net/http"

	"github.com/parleychat/parley/internal/graph"
)

// routesAccounts registers personal sign-up and invitation routes (no token).
func (a *API) routesAccounts() {
	a.handle("POST /parley/v1/signup", a.signUp)
	a.handle("POST /parley/v1/signup/verify", a.verifySignUp)
	a.handle("GET /parley/v1/invitations/{token}", a.getInvitation)
	a.handle("POST /parley/v1/invitations/{token}/redeem", a.redeem)
	a.handle("POST /parley/v1/passwordReset", a.requestReset)
	a.handle("POST /parley/v1/passwordReset/verify", a.resetPassword)
}

// requestReset always answers 202 for well-formed input (docs/rules.md §6).
func (a *API) requestReset(w http.ResponseWriter, r *http.Request) error {
	var in addressIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.Invites.RequestReset(r.Context(), in.Email, in.PhoneNumber, clientAddr(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "If this address signs in to an account, a code is on its way."})
	return nil
}

func (a *API) resetPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		addressIn
		Code     string `json:"code"`
		Password string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.Invites.ResetPassword(r.Context(), in.Email, in.PhoneNumber, in.Code, in.Password, clientAddr(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type addressIn struct {
	Email       string `json:"email"`
	PhoneNumber string `json:"phoneNumber"`
}

// signUp always answers 202 for well-formed input: whether the address has
// an account is never told (docs/rules.md §6).
func (a *API) signUp(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		addressIn
		DisplayName string `json:"displayName"`
		Password    string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.Invites.SignUp(r.Context(), in.Email, in.PhoneNumber, in.DisplayName, in.Password, clientAddr(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "A code is on its way if this address can be used. Enter it to finish."})
	return nil
}

func (a *API) verifySignUp(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		addressIn
		Code string `json:"code"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	u, err := a.Invites.Verify(r.Context(), in.Email, in.PhoneNumber, in.Code, clientAddr(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, graph.NewUser(&u, &u))
	return nil
}

// getInvitation tells the join page who invited whom.
func (a *API) getInvitation(w http.ResponseWriter, r *http.Request) error {
	inv, inviter, err := a.Invites.Invitation(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"address": inv.Address, "invitedBy": map[string]string{"displayName": inviter.DisplayName, "mail": inviter.Mail},
		"expiresDateTime": graph.Time(inv.ExpiresAt)})
	return nil
}

func (a *API) redeem(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		DisplayName string `json:"displayName"`
		Password    string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	u, err := a.Invites.Redeem(r.Context(), r.PathValue("token"), in.DisplayName, in.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, graph.NewUser(&u, &u))
	return nil
}
