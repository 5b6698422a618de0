package httpapi

import (
	"errors"
	"net/http"

	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/outbox"
)

// routesOutbox registers the outbox routes.
func (a *API) routesOutbox() {
	a.handle("GET /parley/v1/admin/outbox", a.authed(a.listOutbox))
}

// outboxEntry is one outbox message as a tenant admin sees it: where it
// goes and how delivery went, never its body (which holds invitation links).
type outboxEntry struct {
	ID              string  `json:"id"`
	Channel         string  `json:"channel"`
	To              string  `json:"to"`
	Subject         string  `json:"subject"`
	Status          string  `json:"status"`
	Attempts        int     `json:"attempts"`
	LastError       string  `json:"lastError"`
	CreatedDateTime *string `json:"createdDateTime"`
	SentDateTime    *string `json:"sentDateTime"`
	FailedDateTime  *string `json:"failedDateTime"`
}

// listOutbox lists the caller's tenant's outgoing email and SMS, newest
// first, optionally of one status (SPEC §6, failures shown to admins).
func (a *API) listOutbox(w http.ResponseWriter, r *http.Request) error {
	if a.Outbox == nil {
		return errors.New("outbox service is not wired")
	}
	status, err := outbox.ParseStatus(r.URL.Query().Get("status"))
	if err != nil {
		return err
	}
	top, err := pageSize(r)
	if err != nil {
		return err
	}
	msgs, err := a.Outbox.List(r.Context(), userOf(r), status, top)
	if err != nil {
		return err
	}
	out := make([]outboxEntry, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, outboxEntry{ID: m.ID, Channel: string(m.Channel), To: m.To, Subject: m.Subject,
			Status: string(m.Status()), Attempts: m.Attempts, LastError: m.LastError,
			CreatedDateTime: graph.Time(m.CreatedAt), SentDateTime: graph.Time(m.SentAt), FailedDateTime: graph.Time(m.FailedAt)})
	}
	writeJSON(w, http.StatusOK, struct {
		Value []outboxEntry `json:"value"`
	}{out})
	return nil
}
