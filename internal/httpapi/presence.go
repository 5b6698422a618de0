package httpapi

import (
	"net/http"

	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
)

// routesPresence registers Graph's presence routes (docs/rules.md §7).
func (a *API) routesPresence() {
	a.handle("GET /v1.0/me/presence", a.authed(a.getMyPresence))
	a.handle("GET /v1.0/users/{id}/presence", a.authed(a.getPresence))
	a.handle("POST /v1.0/me/presence/setUserPreferredPresence", a.authed(a.setPreferredPresence))
	a.handle("POST /v1.0/me/presence/clearUserPreferredPresence", a.authed(a.clearPreferredPresence))
}

func (a *API) getMyPresence(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	p, err := a.Presence.Me(r.Context(), me)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, graph.NewPresence(me.ID, p))
	return nil
}

func (a *API) getPresence(w http.ResponseWriter, r *http.Request) error {
	id := identity.UserID(r.PathValue("id"))
	p, err := a.Presence.Of(r.Context(), userOf(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, graph.NewPresence(id, p))
	return nil
}

// setPreferredPresence is Graph's setUserPreferredPresence: 200 with no body.
func (a *API) setPreferredPresence(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Availability       string `json:"availability"`
		Activity           string `json:"activity"`
		ExpirationDuration string `json:"expirationDuration"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.Presence.SetPreferred(r.Context(), userOf(r), in.Availability, in.Activity, in.ExpirationDuration); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (a *API) clearPreferredPresence(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength != 0 {
		var in map[string]any
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	if err := a.Presence.ClearPreferred(r.Context(), userOf(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
