package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/audit"
	"github.com/parleychat/parley/internal/auth"
	"github.com/parleychat/parley/internal/httpapi"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/parleytest"
	"github.com/parleychat/parley/internal/store"
)

// auditAPI serves the API over a fresh SQLite store with the audit log
// wired, with two tenants; it returns clients for A's admin, A's member
// and B's admin, and the audit service to seed entries with.
type auditAPI struct {
	svc                   *audit.Service
	adminA, memberA, admB *parleytest.Client
	tenantA, tenantB      identity.User
	anonymous             *parleytest.Client
	base                  string
}

func startAuditAPI(t *testing.T) *auditAPI {
	t.Helper()
	ctx := t.Context()
	db, err := store.Open(ctx, store.Config{Dialect: store.SQLite, Path: filepath.Join(t.TempDir(), "parley.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	now := func() time.Time { return time.Now().UTC() }
	ids := &identity.Service{Store: db, Hash: auth.HashPassword, Now: now}
	svc := &audit.Service{Store: db, Now: now}
	api := httpapi.New(httpapi.Deps{
		Log:      slog.New(slog.DiscardHandler),
		Auth:     &auth.Service{Store: db, Now: now, TokenTTL: time.Hour, Throttle: auth.NewThrottle(db)},
		Identity: ids, Audit: svc, Now: now,
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)

	const pw = "correct horse battery"
	ta, adminA, err := ids.CreateTenant(ctx, identity.NewTenant{DisplayName: "Contoso", Domains: []string{"contoso.com"},
		Admin: identity.NewAccount{DisplayName: "Ada Admin", UPN: "ada@contoso.com", Password: pw}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.CreateUserInTenant(ctx, &ta, identity.NewAccount{DisplayName: "Max Member", UPN: "max@contoso.com", Password: pw, Kind: identity.Member}); err != nil {
		t.Fatal(err)
	}
	_, adminB, err := ids.CreateTenant(ctx, identity.NewTenant{DisplayName: "Fabrikam", Domains: []string{"fabrikam.com"},
		Admin: identity.NewAccount{DisplayName: "Bea Admin", UPN: "bea@fabrikam.com", Password: pw}})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(upn string) *parleytest.Client {
		t.Helper()
		resp, err := http.PostForm(srv.URL+"/oauth2/token", url.Values{"grant_type": {"password"}, "username": {upn}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&tok) != nil {
			t.Fatalf("sign in %s: %d", upn, resp.StatusCode)
		}
		return &parleytest.Client{TB: t, Base: srv.URL, Token: tok.AccessToken, HTTP: srv.Client()}
	}
	return &auditAPI{svc: svc, adminA: signIn("ada@contoso.com"), memberA: signIn("max@contoso.com"), admB: signIn("bea@fabrikam.com"),
		tenantA: adminA, tenantB: adminB, anonymous: &parleytest.Client{TB: t, Base: srv.URL, HTTP: srv.Client()}, base: srv.URL}
}

var graphTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// TestAdminAudit drives GET /parley/v1/admin/audit (API.md "Admin").
func TestAdminAudit(t *testing.T) {
	a := startAuditAPI(t)
	ctx := context.Background()
	base := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range 5 {
		action := audit.PolicyCreate
		if i%2 == 1 {
			action = audit.RequestAccepted
		}
		if err := a.svc.Append(ctx, audit.Entry{TenantID: a.tenantA.TenantID, Time: base.Add(time.Duration(i) * time.Hour), Actor: string(a.tenantA.ID),
			Action: action, Target: fmt.Sprintf("t%d", i), Details: map[string]any{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
	a.svc.Record(ctx, a.tenantB.TenantID, a.tenantB.ID, audit.PolicyCreate, "secret-of-B", nil)

	// The exact shape, newest first, with Graph times.
	r := a.adminA.Must(http.StatusOK, "GET", "/parley/v1/admin/audit", nil)
	var raw map[string]json.RawMessage
	r.JSON(t, &raw)
	if _, ok := raw["@odata.nextLink"]; ok || len(raw) != 1 {
		t.Errorf("keys: got %s, want only value", r.Body)
	}
	var records []map[string]any
	if err := json.Unmarshal(raw["value"], &records); err != nil {
		t.Fatal(err)
	}
	if len(records) != 5 {
		t.Fatalf("records: got %d, want 5: %s", len(records), r.Body)
	}
	for i, rec := range records {
		var keys []string
		for k := range rec {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := []string{"action", "actor", "details", "id", "summary", "target", "time"}; !slices.Equal(keys, want) {
			t.Errorf("record keys: got %v, want %v", keys, want)
		}
		if _, ok := rec["id"].(string); !ok {
			t.Errorf("id: got %T, want a string", rec["id"])
		}
		if s, _ := rec["time"].(string); !graphTime.MatchString(s) {
			t.Errorf("time: got %q, want Graph's format", s)
		}
		if want := fmt.Sprintf("t%d", 4-i); rec["target"] != want {
			t.Errorf("record %d target: got %v, want %s (newest first)", i, rec["target"], want)
		}
	}
	if got := records[0]["time"]; got != "2025-03-01T13:00:00.000Z" {
		t.Errorf("time: got %v, want 2025-03-01T13:00:00.000Z", got)
	}
	if strings.Contains(r.Body2(), "secret-of-B") {
		t.Errorf("A's admin sees B's log: %s", r.Body)
	}

	// Paging: $top and @odata.nextLink, followed as is.
	var targets []string
	next := "/parley/v1/admin/audit?$top=2&action=request."
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		var p struct {
			Value []struct {
				Target string `json:"target"`
			} `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		a.adminA.Must(http.StatusOK, "GET", next, nil).JSON(t, &p)
		for _, v := range p.Value {
			targets = append(targets, v.Target)
		}
		if p.NextLink != "" && (!strings.HasPrefix(p.NextLink, a.base+"/parley/v1/admin/audit?") || !strings.Contains(p.NextLink, "action=request.")) {
			t.Errorf("nextLink: got %q, want this route with the filter kept", p.NextLink)
		}
		next = p.NextLink
	}
	if want := []string{"t3", "t1"}; !slices.Equal(targets, want) {
		t.Errorf("paged targets: got %v, want %v", targets, want)
	}

	// Filters.
	var p struct {
		Value []struct {
			Target string `json:"target"`
		} `json:"value"`
	}
	a.adminA.Must(http.StatusOK, "GET", "/parley/v1/admin/audit?since=2025-03-01T10:00:00Z&until=2025-03-01T12:00:00%2B00:00", nil).JSON(t, &p)
	if len(p.Value) != 2 || p.Value[0].Target != "t2" || p.Value[1].Target != "t1" {
		t.Errorf("since/until: got %+v, want t2, t1", p.Value)
	}
	a.adminA.Must(http.StatusOK, "GET", "/parley/v1/admin/audit?target=t0&actor="+string(a.tenantA.ID), nil).JSON(t, &p)
	if len(p.Value) != 1 || p.Value[0].Target != "t0" {
		t.Errorf("target/actor: got %+v, want t0", p.Value)
	}

	tests := []struct {
		name   string
		client *parleytest.Client
		path   string
		status int
		code   string
	}{
		{"bad since", a.adminA, "/parley/v1/admin/audit?since=yesterday", http.StatusBadRequest, "badRequest"},
		{"bad until", a.adminA, "/parley/v1/admin/audit?until=2025-13-01", http.StatusBadRequest, "badRequest"},
		{"until before since", a.adminA, "/parley/v1/admin/audit?since=2025-03-02&until=2025-03-01", http.StatusBadRequest, "badRequest"},
		{"bad skiptoken", a.adminA, "/parley/v1/admin/audit?$skiptoken=!!", http.StatusBadRequest, "badRequest"},
		{"bad top", a.adminA, "/parley/v1/admin/audit?$top=0", http.StatusBadRequest, "badRequest"},
		{"member", a.memberA, "/parley/v1/admin/audit", http.StatusForbidden, "forbidden"},
		{"member export", a.memberA, "/parley/v1/admin/audit/export", http.StatusForbidden, "forbidden"},
		{"bad since export", a.adminA, "/parley/v1/admin/audit/export?since=yesterday", http.StatusBadRequest, "badRequest"},
		{"no token", a.anonymous, "/parley/v1/admin/audit", http.StatusUnauthorized, "unauthenticated"},
		{"no token export", a.anonymous, "/parley/v1/admin/audit/export", http.StatusUnauthorized, "unauthenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.client.Do("GET", tt.path, nil)
			if r.Status != tt.status || r.ErrorCode() != tt.code {
				t.Errorf("got %d %s, want %d %s", r.Status, r.Body, tt.status, tt.code)
			}
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" || r.Header.Get("Content-Disposition") != "" {
				t.Errorf("error answer: Content-Type %q, Content-Disposition %q; want JSON, no attachment", r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"))
			}
		})
	}

	// B's admin sees B's entry only.
	rb := a.admB.Must(http.StatusOK, "GET", "/parley/v1/admin/audit", nil)
	if !strings.Contains(rb.Body2(), "secret-of-B") || strings.Contains(rb.Body2(), `"t0"`) {
		t.Errorf("B's log: got %s", rb.Body)
	}
}

// TestAdminAuditExport drives GET /parley/v1/admin/audit/export.
func TestAdminAuditExport(t *testing.T) {
	a := startAuditAPI(t)
	ctx := context.Background()
	for i := range 3 {
		a.svc.Record(ctx, a.tenantA.TenantID, a.tenantA.ID, audit.InvitationSent, fmt.Sprintf("x%d@example.org", i), map[string]any{"chatId": "c"})
	}
	a.svc.Record(ctx, a.tenantA.TenantID, a.tenantA.ID, audit.UserCreated, "u-1", nil)
	a.svc.Record(ctx, a.tenantB.TenantID, a.tenantB.ID, audit.InvitationSent, "secret-of-B", nil)

	r := a.adminA.Must(http.StatusOK, "GET", "/parley/v1/admin/audit/export?action=invitation.", nil)
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type: got %q, want application/x-ndjson", ct)
	}
	disp, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
	if want := "audit-" + string(a.tenantA.TenantID) + ".jsonl"; err != nil || disp != "attachment" || params["filename"] != want {
		t.Errorf("Content-Disposition: got %q, want attachment; filename=%s", r.Header.Get("Content-Disposition"), want)
	}
	var targets []string
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	for sc.Scan() {
		var l struct {
			ID, TenantID, Action, Target string
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if l.TenantID != string(a.tenantA.TenantID) || l.Action != audit.InvitationSent || l.ID == "" {
			t.Errorf("line: got %q", sc.Text())
		}
		targets = append(targets, l.Target)
	}
	if want := []string{"x0@example.org", "x1@example.org", "x2@example.org"}; !slices.Equal(targets, want) {
		t.Errorf("exported targets: got %v, want %v (oldest first)", targets, want)
	}

	// An empty export is a 200 with an empty file, still an attachment.
	r = a.admB.Must(http.StatusOK, "GET", "/parley/v1/admin/audit/export?action=user.", nil)
	if len(r.Body) != 0 || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("empty export: got %q, Content-Disposition %q", r.Body, r.Header.Get("Content-Disposition"))
	}
}
