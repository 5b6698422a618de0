package httpapi

import (
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/parleychat/parley/internal/audit"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/team"
)

// routesAudit registers the audit log routes (docs/rules.md §10, API.md "Admin").
// Like the events route, they exist only when the service is wired.
func (a *API) routesAudit() {
	if a.Audit == nil {
		return
	}
	a.handle("GET /parley/v1/admin/audit", a.authed(a.listAudit))
	a.handle("GET /parley/v1/admin/audit/export", a.authed(a.exportAudit))
}

// auditRecord is API.md's audit record.
type auditRecord struct {
	ID      string         `json:"id"`
	Time    string         `json:"time"`
	Actor   string         `json:"actor"`
	Action  string         `json:"action"`
	Target  string         `json:"target"`
	Details map[string]any `json:"details"`
	// Summary is Parley's: the entry in one sentence (audit.Describe).
	Summary string `json:"summary"`
}

// auditNames names the ids of audit entries for an admin, through the
// same visibility checks as the API (a person the admin may not see stays
// unnamed), each id looked up once per page, failures included.
type auditNames struct {
	a     *API
	r     *http.Request
	cache map[string]string
}

func (n *auditNames) look(kind, id string, f func() (string, error)) string {
	if id == "" {
		return ""
	}
	key := kind + " " + id
	if v, ok := n.cache[key]; ok {
		return v
	}
	v, err := f()
	if err != nil {
		v = ""
	}
	n.cache[key] = v
	return v
}

func (n *auditNames) User(id string) string {
	return n.look("user", id, func() (string, error) {
		u, err := n.a.Identity.Visible(n.r.Context(), userOf(n.r), identity.UserID(id))
		return u.DisplayName, err
	})
}

func (n *auditNames) Team(id string) string {
	if n.a.Teams == nil {
		return ""
	}
	return n.look("team", id, func() (string, error) {
		t, _, err := n.a.Teams.TenantMembers(n.r.Context(), userOf(n.r), team.ID(id))
		return t.DisplayName, err
	})
}

func (n *auditNames) App(id string) string {
	if n.a.Apps == nil {
		return ""
	}
	return n.look("app", id, func() (string, error) {
		ap, err := n.a.Apps.CatalogApp(n.r.Context(), userOf(n.r), id)
		return ap.DisplayName, err
	})
}

// auditFilter reads the filters both routes take: action (a prefix),
// actor, target, since (inclusive) and until (exclusive).
func auditFilter(r *http.Request) (audit.Filter, error) {
	q := r.URL.Query()
	f := audit.Filter{Action: q.Get("action"), Actor: q.Get("actor"), Target: q.Get("target")}
	var err error
	if f.Since, err = queryTime(q.Get("since"), "since"); err != nil {
		return audit.Filter{}, err
	}
	if f.Until, err = queryTime(q.Get("until"), "until"); err != nil {
		return audit.Filter{}, err
	}
	return f, nil
}

// queryTime parses an ISO 8601 date-time, or a date (midnight UTC).
func queryTime(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, errcode.New(errcode.BadRequest, "%s must be an ISO 8601 date-time such as 2025-01-31T09:00:00Z, or a date such as 2025-01-31.", name)
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request) error {
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	after, _, err := idSkipToken(r)
	if err != nil {
		return err
	}
	entries, next, err := a.Audit.List(r.Context(), userOf(r), f, after, limit)
	if err != nil {
		return err
	}
	out := page[auditRecord]{Value: make([]auditRecord, 0, len(entries))}
	names := &auditNames{a: a, r: r, cache: map[string]string{}}
	for _, e := range entries {
		details := e.Details
		if details == nil {
			details = map[string]any{}
		}
		out.Value = append(out.Value, auditRecord{ID: strconv.FormatInt(e.ID, 10), Time: e.Time.UTC().Format(graph.TimeFormat),
			Actor: e.Actor, Action: e.Action, Target: e.Target, Details: details, Summary: audit.Describe(&e, names)})
	}
	if next > 0 {
		out.NextLink = a.nextLink(r, makeSkipToken(idKey(next)))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// exportAudit streams the whole (filtered) log as JSON lines, oldest first,
// for download.
func (a *API) exportAudit(w http.ResponseWriter, r *http.Request) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	me := userOf(r)
	dw := &downloadWriter{w: w, name: "audit-" + string(me.TenantID) + ".jsonl", contentType: "application/x-ndjson"}
	if err := a.Audit.Export(r.Context(), me, f, dw); err != nil {
		if !dw.started {
			return err // nothing sent yet: the error shape, with its status
		}
		// A 200 is on the wire: cut the connection so the client sees a
		// broken download, not a complete-looking short file.
		if r.Context().Err() == nil { // else the client left; nothing to report
			a.logger(r).Error("audit export broke off", "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	dw.start()
	return nil
}

// downloadWriter sends the attachment headers with the first byte, so an
// error found before any output still gets the error shape.
type downloadWriter struct {
	w                 http.ResponseWriter
	name, contentType string
	started           bool
}

func (d *downloadWriter) start() {
	if d.started {
		return
	}
	d.started = true
	h := d.w.Header()
	h.Set("Content-Type", d.contentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.name}))
	h.Set("Cache-Control", "no-store")
	d.w.WriteHeader(http.StatusOK)
}

func (d *downloadWriter) Write(p []byte) (int, error) {
	d.start()
	return d.w.Write(p)
}
