package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/audit"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/policy"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// The audit service is the policy service's Audit hook (a method value).
var _ = policy.Service{Audit: (&audit.Service{}).Record}

// clock is a fake clock moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// fixture is a store with two tenants, each with an admin and a member,
// and the audit service over it.
type fixture struct {
	db              *store.DB
	clock           *clock
	svc             *audit.Service
	ids             *identity.Service
	adminA, memberA identity.User
	adminB          identity.User
	guestA          identity.User
}

func mustFixture(t *testing.T, d store.Dialect) *fixture {
	t.Helper()
	ctx := t.Context()
	db := storetest.Open(t, d)
	c := &clock{t: t0}
	ids := &identity.Service{Store: db, Now: c.Now,
		Hash: func(_ context.Context, p string) (string, error) { return "test:" + p, nil }}
	f := &fixture{db: db, clock: c, ids: ids, svc: &audit.Service{Store: db, Now: c.Now}}
	const pw = "correct-horse-battery-staple"
	ta, adminA, err := ids.CreateTenant(ctx, identity.NewTenant{DisplayName: "Contoso", Domains: []string{"contoso.com"},
		Admin: identity.NewAccount{DisplayName: "Ada Admin", UPN: "ada@contoso.com", Password: pw}})
	if err != nil {
		t.Fatalf("create tenant A: %v", err)
	}
	_, adminB, err := ids.CreateTenant(ctx, identity.NewTenant{DisplayName: "Fabrikam", Domains: []string{"fabrikam.com"},
		Admin: identity.NewAccount{DisplayName: "Bea Admin", UPN: "bea@fabrikam.com", Password: pw}})
	if err != nil {
		t.Fatalf("create tenant B: %v", err)
	}
	memberA, err := ids.CreateUserInTenant(ctx, &ta, identity.NewAccount{DisplayName: "Max Member", UPN: "max@contoso.com", Password: pw, Kind: identity.Member})
	if err != nil {
		t.Fatalf("create member: %v", err)
	}
	guestA, err := ids.CreateUserInTenant(ctx, &ta, identity.NewAccount{DisplayName: "Gus Guest", UPN: "gus@example.org", Password: pw, Kind: identity.Guest})
	if err != nil {
		t.Fatalf("create guest: %v", err)
	}
	f.adminA, f.memberA, f.adminB, f.guestA = adminA, memberA, adminB, guestA
	return f
}

// record records one entry a second later than the last.
func (f *fixture) record(ctx context.Context, u identity.User, action, target string, details map[string]any) {
	f.clock.Add(time.Second)
	f.svc.Record(ctx, u.TenantID, u.ID, action, target, details)
}

// listAll pages through List with page size n and returns every entry.
func listAll(t *testing.T, svc *audit.Service, actor *identity.User, flt audit.Filter, n int) []audit.Entry {
	t.Helper()
	var all []audit.Entry
	var after int64
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("List does not end")
		}
		es, next, err := svc.List(t.Context(), actor, flt, after, n)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(es) > n {
			t.Fatalf("List(limit %d): got %d entries", n, len(es))
		}
		all = append(all, es...)
		if next == 0 {
			return all
		}
		if len(es) != n {
			t.Fatalf("List(limit %d): got %d entries and a next cursor, want a full page", n, len(es))
		}
		after = next
	}
}

func actions(es []audit.Entry) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.Action+" "+e.Target)
	}
	return out
}

func TestRecordAndList(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		f := mustFixture(t, d)
		ctx := t.Context()
		f.record(ctx, f.adminA, audit.PolicyCreate, "Partners", map[string]any{"policy": map[string]any{"enableFederationAccess": true}})
		f.record(ctx, f.adminB, audit.PolicyCreate, "Other", nil)
		f.record(ctx, f.adminA, audit.PolicyGrant, "Partners", map[string]any{"userIds": []string{string(f.memberA.ID)}})
		f.record(ctx, f.memberA, audit.RequestAccepted, "chat-1", map[string]any{"sender": "u-x", "count": 3})
		f.record(ctx, f.adminA, audit.FederationConfigurationUpdate, string(f.adminA.TenantID), nil)

		es, next, err := f.svc.List(ctx, &f.adminA, audit.Filter{}, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if next != 0 {
			t.Errorf("next: got %d, want 0", next)
		}
		want := []string{
			audit.FederationConfigurationUpdate + " " + string(f.adminA.TenantID),
			audit.RequestAccepted + " chat-1",
			audit.PolicyGrant + " Partners",
			audit.PolicyCreate + " Partners",
		}
		if diff := cmp.Diff(want, actions(es)); diff != "" {
			t.Fatalf("List newest first (-want +got):\n%s", diff)
		}
		// Stamped by the injected clock, at microsecond precision, in UTC.
		if got, want := es[0].Time, t0.Add(5*time.Second); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("time: got %v, want %v UTC", got, want)
		}
		got := es[1]
		wantEntry := audit.Entry{ID: got.ID, TenantID: f.adminA.TenantID, Time: t0.Add(4 * time.Second), Actor: string(f.memberA.ID),
			Action: audit.RequestAccepted, Target: "chat-1", Details: map[string]any{"sender": "u-x", "count": float64(3)}}
		if diff := cmp.Diff(wantEntry, got); diff != "" {
			t.Errorf("entry (-want +got):\n%s", diff)
		}
		if len(es[0].Details) != 0 {
			t.Errorf("nil details: got %v, want empty", es[0].Details)
		}
		for i := 1; i < len(es); i++ {
			if es[i].ID >= es[i-1].ID {
				t.Errorf("ids not descending: %d after %d", es[i].ID, es[i-1].ID)
			}
		}

		// Paging: pages of 1 give the same entries, each once, in order.
		if diff := cmp.Diff(actions(es), actions(listAll(t, f.svc, &f.adminA, audit.Filter{}, 1))); diff != "" {
			t.Errorf("paged by 1 (-want +got):\n%s", diff)
		}
		page, next, err := f.svc.List(ctx, &f.adminA, audit.Filter{}, 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 3 || next != page[2].ID {
			t.Fatalf("page of 3: got %d entries, next %d; want 3 and the last id", len(page), next)
		}
		rest, next, err := f.svc.List(ctx, &f.adminA, audit.Filter{}, next, 3)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(actions(es[3:]), actions(rest)); diff != "" || next != 0 {
			t.Errorf("second page (-want +got), next %d:\n%s", next, diff)
		}
	})
}

func TestRecordActorAndTenant(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		f := mustFixture(t, d)
		ctx := t.Context()
		f.svc.Record(ctx, f.adminA.TenantID, "", audit.UserCreated, "u-1", nil)
		// Personal accounts have no tenant and no audit log.
		f.svc.Record(ctx, "", "personal-1", audit.UserBlocked, "u-2", nil)
		// An action done before the client left is still recorded.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		f.svc.Record(cctx, f.adminA.TenantID, f.adminA.ID, audit.UserBlocked, "u-3", nil)

		es := listAll(t, f.svc, &f.adminA, audit.Filter{}, 50)
		if diff := cmp.Diff([]string{audit.UserBlocked + " u-3", audit.UserCreated + " u-1"}, actions(es)); diff != "" {
			t.Fatalf("entries (-want +got):\n%s", diff)
		}
		if es[1].Actor != audit.System {
			t.Errorf("empty actor: got %q, want %q", es[1].Actor, audit.System)
		}
	})
}

// TestRecordNeverFails: docs/rules.md §10 auditing must not fail the audited action; a
// lost entry is logged.
func TestRecordNeverFails(t *testing.T) {
	f := mustFixture(t, store.SQLite)
	var logs bytes.Buffer
	f.svc.Log = slog.New(slog.NewTextHandler(&logs, nil))
	// Details that cannot be stored: Append says so, Record logs it.
	bad := map[string]any{"note": "hunter2", "ch": make(chan int)}
	if err := f.svc.Append(t.Context(), audit.Entry{TenantID: f.adminA.TenantID, Actor: "system", Action: audit.UserCreated, Details: bad}); err == nil {
		t.Error("Append with unencodable details: got nil error")
	}
	f.svc.Record(t.Context(), f.adminA.TenantID, f.adminA.ID, audit.UserCreated, "u-1", bad)
	if !strings.Contains(logs.String(), "audit entry lost") || !strings.Contains(logs.String(), audit.UserCreated) {
		t.Errorf("log: got %q, want the lost entry", logs.String())
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Errorf("log shows details: %q", logs.String())
	}
	for _, e := range []audit.Entry{
		{Actor: "system", Action: audit.UserCreated},
		{TenantID: f.adminA.TenantID, Action: audit.UserCreated},
		{TenantID: f.adminA.TenantID, Actor: "system"},
	} {
		if err := f.svc.Append(t.Context(), e); err == nil {
			t.Errorf("Append(%+v): got nil error, want one for the missing field", e)
		}
	}
	logs.Reset()
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	f.svc.Record(t.Context(), f.adminA.TenantID, f.adminA.ID, audit.UserBlocked, "u-2", nil)
	if !strings.Contains(logs.String(), "audit entry lost") {
		t.Errorf("log after the store closed: got %q, want the lost entry", logs.String())
	}
}

func TestListFilters(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		f := mustFixture(t, d)
		ctx := t.Context()
		f.record(ctx, f.adminA, audit.PolicyCreate, "Partners", nil)       // t0+1s
		f.record(ctx, f.adminA, audit.PolicyUpdate, "Partners", nil)       // t0+2s
		f.record(ctx, f.memberA, audit.RequestAccepted, "chat-1", nil)     // t0+3s
		f.record(ctx, f.memberA, audit.RequestReportedSpam, "chat-2", nil) // t0+4s
		f.record(ctx, f.adminA, audit.PolicyGrant, "Partners", nil)        // t0+5s
		f.record(ctx, f.adminA, "REQUEST.upper", "x", nil)                 // t0+6s: prefix is case-sensitive
		f.record(ctx, f.adminA, "request_like", "y", nil)                  // t0+7s: no LIKE wildcards
		f.record(ctx, f.adminB, audit.RequestAccepted, "chat-1", nil)      // other tenant

		tests := []struct {
			name string
			flt  audit.Filter
			want []string
		}{
			{"action prefix", audit.Filter{Action: "externalAccessPolicy."},
				[]string{"externalAccessPolicy.grant Partners", "externalAccessPolicy.update Partners", "externalAccessPolicy.create Partners"}},
			{"exact action", audit.Filter{Action: audit.RequestAccepted}, []string{"request.accepted chat-1"}},
			{"prefix is literal", audit.Filter{Action: "request."}, []string{"request.reportedSpam chat-2", "request.accepted chat-1"}},
			{"underscore is literal", audit.Filter{Action: "request_"}, []string{"request_like y"}},
			{"actor", audit.Filter{Actor: string(f.memberA.ID)}, []string{"request.reportedSpam chat-2", "request.accepted chat-1"}},
			{"target", audit.Filter{Target: "Partners"},
				[]string{"externalAccessPolicy.grant Partners", "externalAccessPolicy.update Partners", "externalAccessPolicy.create Partners"}},
			{"since inclusive", audit.Filter{Since: t0.Add(6 * time.Second)}, []string{"request_like y", "REQUEST.upper x"}},
			{"until exclusive", audit.Filter{Until: t0.Add(2 * time.Second)}, []string{"externalAccessPolicy.create Partners"}},
			{"window", audit.Filter{Since: t0.Add(2 * time.Second), Until: t0.Add(4 * time.Second)},
				[]string{"request.accepted chat-1", "externalAccessPolicy.update Partners"}},
			{"combined", audit.Filter{Actor: string(f.adminA.ID), Target: "Partners", Since: t0.Add(2 * time.Second)},
				[]string{"externalAccessPolicy.grant Partners", "externalAccessPolicy.update Partners"}},
			{"no match", audit.Filter{Action: "invitation."}, []string{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := actions(listAll(t, f.svc, &f.adminA, tt.flt, 1))
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestListErrors(t *testing.T) {
	f := mustFixture(t, store.SQLite)
	tests := []struct {
		name  string
		actor *identity.User
		flt   audit.Filter
		after int64
		code  errcode.Code
	}{
		{"member", &f.memberA, audit.Filter{}, 0, errcode.Forbidden},
		{"guest", &f.guestA, audit.Filter{}, 0, errcode.Forbidden},
		{"personal", &identity.User{ID: "p", Kind: identity.Personal, Role: identity.RoleAdmin}, audit.Filter{}, 0, errcode.Forbidden},
		{"nobody", nil, audit.Filter{}, 0, errcode.Forbidden},
		{"until before since", &f.adminA, audit.Filter{Since: t0, Until: t0.Add(-time.Second)}, 0, errcode.BadRequest},
		{"until equals since", &f.adminA, audit.Filter{Since: t0, Until: t0}, 0, errcode.BadRequest},
		{"negative cursor", &f.adminA, audit.Filter{}, -1, errcode.BadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := f.svc.List(t.Context(), tt.actor, tt.flt, tt.after, 10)
			if !errcode.Is(err, tt.code) {
				t.Errorf("List: got %v, want %s", err, tt.code)
			}
			if tt.after != 0 {
				return
			}
			var out bytes.Buffer
			err = f.svc.Export(t.Context(), tt.actor, tt.flt, &out)
			if !errcode.Is(err, tt.code) {
				t.Errorf("Export: got %v, want %s", err, tt.code)
			}
			if out.Len() != 0 {
				t.Errorf("Export wrote %q before failing", out.String())
			}
		})
	}
}

// TestTenantIsolation: docs/rules.md §10, an admin sees their own tenant's log only.
func TestTenantIsolation(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		f := mustFixture(t, d)
		ctx := t.Context()
		f.record(ctx, f.adminA, audit.PolicyCreate, "SecretA", nil)
		f.record(ctx, f.adminB, audit.PolicyCreate, "PublicB", nil)
		for _, flt := range []audit.Filter{{}, {Target: "SecretA"}, {Actor: string(f.adminA.ID)}} {
			got := actions(listAll(t, f.svc, &f.adminB, flt, 10))
			for _, g := range got {
				if strings.Contains(g, "SecretA") {
					t.Errorf("admin B with filter %+v sees %q", flt, g)
				}
			}
			var out bytes.Buffer
			if err := f.svc.Export(ctx, &f.adminB, flt, &out); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), "SecretA") || strings.Contains(out.String(), string(f.adminA.TenantID)) {
				t.Errorf("export of B with filter %+v has A's entries: %s", flt, out.String())
			}
		}
		if diff := cmp.Diff([]string{"externalAccessPolicy.create PublicB"}, actions(listAll(t, f.svc, &f.adminB, audit.Filter{}, 10))); diff != "" {
			t.Errorf("B's log (-want +got):\n%s", diff)
		}
	})
}

// exported is a line of the export, as a reader decodes it.
type exported struct {
	ID       string         `json:"id"`
	TenantID string         `json:"tenantId"`
	Time     string         `json:"time"`
	Actor    string         `json:"actor"`
	Action   string         `json:"action"`
	Target   string         `json:"target"`
	Details  map[string]any `json:"details"`
}

func readExport(t *testing.T, b []byte) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l exported
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		id, err := strconv.ParseInt(l.ID, 10, 64)
		if err != nil {
			t.Fatalf("export line id %q: %v", l.ID, err)
		}
		tm, err := time.Parse(audit.TimeFormat, l.Time)
		if err != nil {
			t.Fatalf("export line time %q: %v", l.Time, err)
		}
		if l.Details == nil {
			t.Errorf("export line %q: details missing or null, want an object", sc.Text())
		}
		out = append(out, audit.Entry{ID: id, TenantID: identity.TenantID(l.TenantID), Time: tm, Actor: l.Actor, Action: l.Action, Target: l.Target, Details: l.Details})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func reversed(es []audit.Entry) []audit.Entry {
	out := make([]audit.Entry, len(es))
	for i, e := range es {
		out[len(es)-1-i] = e
	}
	return out
}

func TestExport(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		f := mustFixture(t, d)
		ctx := t.Context()
		// More than two of Export's internal pages (500), written
		// concurrently so the writer groups them.
		const n = 1203
		var wg sync.WaitGroup
		errs := make(chan error, n+1)
		for i := range n {
			wg.Go(func() {
				action := audit.RequestAccepted
				if i%3 == 0 {
					action = audit.InvitationSent
				}
				at := t0.Add(time.Duration(i) * time.Millisecond).Add(123 * time.Microsecond)
				errs <- f.svc.Append(ctx, audit.Entry{TenantID: f.adminA.TenantID, Time: at, Actor: string(f.memberA.ID), Action: action,
					Target: fmt.Sprintf("t-%04d", i), Details: map[string]any{"i": float64(i), "html": "<b>&</b>"}})
			})
		}
		wg.Go(func() {
			errs <- f.svc.Append(ctx, audit.Entry{TenantID: f.adminB.TenantID, Actor: "system", Action: audit.InvitationSent})
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}

		all := listAll(t, f.svc, &f.adminA, audit.Filter{}, audit.MaxPageSize)
		if len(all) != n {
			t.Fatalf("List: got %d entries, want %d", len(all), n)
		}
		var out bytes.Buffer
		if err := f.svc.Export(ctx, &f.adminA, audit.Filter{}, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), `"html":"<b>&</b>"`) {
			t.Errorf("export escapes HTML: %.200s", out.String())
		}
		got := readExport(t, out.Bytes())
		if diff := cmp.Diff(reversed(all), got); diff != "" {
			t.Fatalf("export round trip, oldest first (-want +got):\n%s", diff)
		}

		// Filters apply to the export as to List.
		flt := audit.Filter{Action: "invitation.", Since: t0.Add(100 * time.Millisecond)}
		out.Reset()
		if err := f.svc.Export(ctx, &f.adminA, flt, &out); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(reversed(listAll(t, f.svc, &f.adminA, flt, 7)), readExport(t, out.Bytes())); diff != "" {
			t.Errorf("filtered export (-want +got):\n%s", diff)
		}

		// Page size: 0 is the default, more than the maximum is the maximum.
		for _, tt := range []struct{ limit, want int }{{0, audit.DefaultPageSize}, {1000, audit.MaxPageSize}, {7, 7}} {
			es, _, err := f.svc.List(ctx, &f.adminA, audit.Filter{}, 0, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != tt.want {
				t.Errorf("List(limit %d): got %d entries, want %d", tt.limit, len(es), tt.want)
			}
		}
	})
}

func TestExportEmpty(t *testing.T) {
	f := mustFixture(t, store.SQLite)
	var out bytes.Buffer
	if err := f.svc.Export(t.Context(), &f.adminA, audit.Filter{}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("export of an empty log: got %q, want nothing", out.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestExportWriteError(t *testing.T) {
	f := mustFixture(t, store.SQLite)
	f.record(t.Context(), f.adminA, audit.UserCreated, "u-1", nil)
	err := f.svc.Export(t.Context(), &f.adminA, audit.Filter{}, failingWriter{})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Export to a failing writer: got %v, want the write error", err)
	}
}

// TestPolicyHook: the policy service's Audit hook, wired to Record, leaves
// an entry for an admin change (docs/rules.md §10 "settings and policy changes").
func TestPolicyHook(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		f := mustFixture(t, d)
		ps := &policy.Service{Store: f.db, Now: f.clock.Now, Audit: f.svc.Record}
		on := true
		if _, err := ps.CreatePolicy(t.Context(), &f.adminA, "Partners", policy.PolicyPatch{EnableFederationAccess: &on}); err != nil {
			t.Fatal(err)
		}
		es := listAll(t, f.svc, &f.adminA, audit.Filter{Action: "externalAccessPolicy."}, 10)
		if len(es) != 1 || es[0].Action != audit.PolicyCreate || es[0].Target != "Partners" || es[0].Actor != string(f.adminA.ID) {
			t.Fatalf("entries: got %+v, want one externalAccessPolicy.create of Partners by the admin", es)
		}
		if _, ok := es[0].Details["policy"].(map[string]any); !ok {
			t.Errorf("details: got %v, want a policy object", es[0].Details)
		}
	})
}
