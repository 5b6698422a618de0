package httpapi

import (
	"errors"
	"net/http"

	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/outbox"
)

// routesOutbox registers the outbox routes: a tenant admin's view (mail to
// the organisation's own addresses) and the operator's (every message).
func (a *API) routesOutbox() {
	a.handle("GET /parley/v1/admin/outbox", a.authed(a.listOutbox))
	a.handle("GET /parley/v1/operator/outbox", a.operator(a.listAllOutbox))
}

// outboxEntry is one outbox message as a tenant admin sees it: where it
// goes and how delivery went, never its body (which holds invitation links)
// nor a code in its subject.
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

func newOutboxEntry(m *outbox.Message) outboxEntry {
	return outboxEntry{ID: m.ID, Channel: string(m.Channel), To: m.To, Subject: m.Subject,
		Status: string(m.Status()), Attempts: m.Attempts, LastError: m.LastError,
		CreatedDateTime: graph.Time(m.CreatedAt), SentDateTime: graph.Time(m.SentAt), FailedDateTime: graph.Time(m.FailedAt)}
}

// operatorOutboxEntry is one outbox message as the operator sees it: also
// on whose behalf it went ("" for sign-up and reset mail).
type operatorOutboxEntry struct {
	outboxEntry
	TenantID string `json:"tenantId"`
	SenderID string `json:"senderId"`
}

// listOutbox lists the mail and SMS to the caller's organisation's own
// addresses, newest first, optionally of one status (docs/rules.md §6, failures
// shown to admins; what it leaves out and why: outbox.Service.List).
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
	for i := range msgs {
		out = append(out, newOutboxEntry(&msgs[i]))
	}
	writeJSON(w, http.StatusOK, struct {
		Value []outboxEntry `json:"value"`
	}{out})
	return nil
}

// listAllOutbox lists every outgoing message for the operator, newest
// first, optionally of one status: the whole view for troubleshooting
// delivery, invitations included.
func (a *API) listAllOutbox(w http.ResponseWriter, r *http.Request) error {
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
	msgs, err := a.Outbox.ListAll(r.Context(), status, top)
	if err != nil {
		return err
	}
	out := make([]operatorOutboxEntry, 0, len(msgs))
	for i := range msgs {
		out = append(out, operatorOutboxEntry{newOutboxEntry(&msgs[i]), string(msgs[i].TenantID), string(msgs[i].SenderID)})
	}
	writeJSON(w, http.StatusOK, struct {
		Value []operatorOutboxEntry `json:"value"`
	}{out})
	return nil
}
