package httpapi

import (
	"net/http"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
)

// routesRequests registers the message request and personal settings routes.
func (a *API) routesRequests() {
	a.handle("GET /parley/v1/me/requests", a.authed(a.listRequests))
	for _, ans := range []string{"accept", "decline", "block", "reportSpam"} {
		a.handle("POST /parley/v1/me/requests/{chatId}/"+ans, a.authed(a.answerRequest(ans)))
	}
	a.handle("GET /parley/v1/me/settings", a.authed(a.getSettings))
	a.handle("PATCH /parley/v1/me/settings", a.authed(a.updateSettings))
	a.handle("GET /parley/v1/me/blockedUsers", a.authed(a.listBlocked))
	a.handle("POST /parley/v1/me/blockedUsers", a.authed(a.block))
	a.handle("DELETE /parley/v1/me/blockedUsers/{userId}", a.authed(a.unblock))
}

type requestOut struct {
	ChatID           string          `json:"chatId"`
	Chat             graph.Chat      `json:"chat"`
	From             graph.From      `json:"from"`
	OrganizationName *string         `json:"organizationName"`
	IsExternal       bool            `json:"isExternal"`
	IsFiltered       bool            `json:"isFiltered"`
	Previews         []graph.Message `json:"previews"`
}

func (a *API) listRequests(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	filtered := false
	switch r.URL.Query().Get("filter") {
	case "", "main":
	case "filtered":
		filtered = true
	default:
		return errcode.New(errcode.BadRequest, "filter must be main or filtered.")
	}
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	var after chat.ChatCursor
	t, id, ok, err := timeIDSkipToken(r)
	if err != nil {
		return err
	}
	if ok {
		after = chat.ChatCursor{UpdatedAt: t, ID: chat.ID(id)}
	}
	reqs, next, err := a.Requests.List(r.Context(), me, filtered, after, limit)
	if err != nil {
		return err
	}
	out := make([]requestOut, 0, len(reqs))
	for i := range reqs {
		rq := &reqs[i]
		from := graph.NewIdentity(&rq.From, me)
		// docs/rules.md §5: the request shows the sender's verified address.
		from.Email = rq.From.Mail
		if from.Email == "" {
			from.Email = rq.From.Phone
		}
		ro := requestOut{ChatID: string(rq.Chat.ID), Chat: graph.NewChat(&rq.Chat, me), From: graph.From{User: &from}, IsExternal: rq.From.ExternalTo(me), IsFiltered: rq.Filtered, Previews: []graph.Message{}}
		if rq.OrganizationName != "" {
			ro.OrganizationName = &rq.OrganizationName
		}
		for j := range rq.Previews {
			// The previews are in the preview form (docs/rules.md §5).
			ro.Previews = append(ro.Previews, graph.NewMessage(&rq.Previews[j], me))
		}
		out = append(out, ro)
	}
	res := page[requestOut]{Value: out}
	if next.ID != "" {
		res.NextLink = a.nextLink(r, makeSkipToken(timeKey(next.UpdatedAt), string(next.ID)))
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (a *API) answerRequest(ans string) handlerFunc {
	answer := map[string]msgrequest.Answer{"accept": msgrequest.Accept, "decline": msgrequest.Decline, "block": msgrequest.Block, "reportSpam": msgrequest.ReportSpam}[ans]
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := a.Requests.Answer(r.Context(), userOf(r), chat.ID(r.PathValue("chatId")), answer); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

type settingsOut struct {
	AllowChatsFromOrganizations bool `json:"allowChatsFromOrganizations"`
}

func (a *API) getSettings(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, settingsOut{userOf(r).AllowChatsFromOrganizations})
	return nil
}

func (a *API) updateSettings(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		AllowChatsFromOrganizations *bool `json:"allowChatsFromOrganizations"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.AllowChatsFromOrganizations == nil {
		return errcode.New(errcode.BadRequest, "allowChatsFromOrganizations (true or false) is required.")
	}
	me := userOf(r)
	if err := a.Users.SetAllowChatsFromOrganizations(r.Context(), me, *in.AllowChatsFromOrganizations); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, settingsOut{*in.AllowChatsFromOrganizations})
	return nil
}

// listBlocked lists the caller's blocks by display name (then id), all of
// them without $top. The service returns the whole list, so it is paged
// here (paging.go).
func (a *API) listBlocked(w http.ResponseWriter, r *http.Request) error {
	me := userOf(r)
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	keys, err := skipToken(r, 2)
	if err != nil {
		return err
	}
	var after *identity.User
	if keys != nil {
		after = &identity.User{DisplayName: keys[0], ID: identity.UserID(keys[1])}
	}
	us, more, err := a.Users.Blocked(r.Context(), me, after, limit)
	if err != nil {
		return err
	}
	out := page[graph.User]{Value: make([]graph.User, 0, len(us))}
	for i := range us {
		out.Value = append(out.Value, graph.NewUser(&us[i], me))
	}
	if more {
		last := us[len(us)-1]
		out.NextLink = a.nextLink(r, makeSkipToken(last.DisplayName, string(last.ID)))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) block(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		UserID string `json:"userId"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.UserID == "" {
		return errcode.New(errcode.BadRequest, "userId is required.")
	}
	if err := a.Users.Block(r.Context(), userOf(r), identity.UserID(in.UserID)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) unblock(w http.ResponseWriter, r *http.Request) error {
	if err := a.Users.Unblock(r.Context(), userOf(r), identity.UserID(r.PathValue("userId"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
