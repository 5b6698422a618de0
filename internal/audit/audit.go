package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

// System is the actor of what the server does by itself.
const System = "system"

// The actions (see the package comment for each one's target and details).
const (
	FederationConfigurationUpdate = "federationConfiguration.update"
	PolicyCreate                  = "externalAccessPolicy.create"
	PolicyUpdate                  = "externalAccessPolicy.update"
	PolicyDelete                  = "externalAccessPolicy.delete"
	PolicyGrant                   = "externalAccessPolicy.grant"
	ChatExternalCreated           = "chat.externalCreated"
	RequestAccepted               = "request.accepted"
	RequestDeclined               = "request.declined"
	RequestBlocked                = "request.blocked"
	RequestReportedSpam           = "request.reportedSpam"
	InvitationSent                = "invitation.sent"
	InvitationRedeemed            = "invitation.redeemed"
	UserBlocked                   = "user.blocked"
	UserUnblocked                 = "user.unblocked"
	UserCreated                   = "user.created"
)

// Page sizes of List.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// exportPage is how many entries Export reads at a time.
const exportPage = 500

// Entry is one audit record of a tenant.
type Entry struct {
	ID       int64 // increases with every entry; 0 until stored
	TenantID identity.TenantID
	Time     time.Time
	Actor    string // a user id, or System
	Action   string
	Target   string
	// Details are action-specific. They are stored as JSON, so they read
	// back as JSON values: numbers as float64, lists as []any, objects as
	// map[string]any.
	Details map[string]any
}

// Filter selects entries; zero fields select everything.
type Filter struct {
	Action string // prefix of the action: "request." or "request.accepted"
	Actor  string
	Target string
	Since  time.Time // inclusive
	Until  time.Time // exclusive, so consecutive windows do not overlap
}

func (f *Filter) validate() error {
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return errcode.New(errcode.BadRequest, "until must be later than since.")
	}
	return nil
}

// Store is the persistence the audit log needs.
type Store interface {
	// AppendAudit stores an entry (ID ignored) and returns its new id,
	// larger than every id stored before.
	AppendAudit(ctx context.Context, e Entry) (int64, error)
	// FindAudit returns up to limit entries of tenant matching f, newest
	// (highest id) first; when afterID > 0 only those with id < afterID.
	FindAudit(ctx context.Context, tenant identity.TenantID, f Filter, afterID int64, limit int) ([]Entry, error)
}

// Service records the audit log and gives it to tenant admins.
type Service struct {
	Store Store
	Now   func() time.Time
	Log   *slog.Logger // nil: discard
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Record appends an entry stamped now and never fails: auditing must not
// fail the action it records, so an error is logged instead. It matches
// the Audit hooks of other services (policy.Service.Audit), which take
// s.Record as a method value. An empty actor is System. Personal accounts
// belong to no tenant and so have no audit log: an empty tenant records
// nothing.
//
// The entry is written even when ctx is cancelled (the client left after
// the action was done), but keeps ctx's values.
func (s *Service) Record(ctx context.Context, tenant identity.TenantID, actor identity.UserID, action, target string, details map[string]any) {
	if tenant == "" {
		return
	}
	who := string(actor)
	if who == "" {
		who = System
	}
	err := s.Append(context.WithoutCancel(ctx), Entry{TenantID: tenant, Actor: who, Action: action, Target: target, Details: details})
	if err != nil {
		// Details may hold personal data: they are not logged.
		s.log().ErrorContext(ctx, "audit entry lost", "tenant", tenant, "actor", who, "action", action, "target", target, "err", err)
	}
}

// Append stores e, stamped now when e.Time is zero, and returns the error
// Record would log. Tenant, actor and action are required.
func (s *Service) Append(ctx context.Context, e Entry) error {
	switch {
	case e.TenantID == "":
		return fmt.Errorf("append audit %s: no tenant", e.Action)
	case e.Actor == "":
		return fmt.Errorf("append audit %s: no actor", e.Action)
	case e.Action == "":
		return fmt.Errorf("append audit entry of %s: no action", e.TenantID)
	}
	if e.Time.IsZero() {
		e.Time = s.Now()
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond) // the stored precision
	if _, err := s.Store.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("append audit %s of %s: %w", e.Action, e.TenantID, err)
	}
	return nil
}

// mayRead allows a tenant's admins, and only for their tenant.
func mayRead(actor *identity.User) error {
	if actor == nil || !actor.IsAdmin() || actor.TenantID == "" {
		return errcode.New(errcode.Forbidden, "Only an admin of the organisation can read its audit log.")
	}
	return nil
}

func clampPage(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPageSize
	case limit > MaxPageSize:
		return MaxPageSize
	}
	return limit
}

// List returns a page of the actor's tenant's entries matching f, newest
// first, starting below the id after (0: from the newest), with the cursor
// of the next page (0: none). limit is clamped to 1…MaxPageSize
// (DefaultPageSize when 0).
// Errors: forbidden (not a tenant admin), badRequest (bad filter or cursor).
func (s *Service) List(ctx context.Context, actor *identity.User, f Filter, after int64, limit int) ([]Entry, int64, error) {
	if err := mayRead(actor); err != nil {
		return nil, 0, err
	}
	if err := f.validate(); err != nil {
		return nil, 0, err
	}
	if after < 0 {
		return nil, 0, errcode.New(errcode.BadRequest, "The page cursor is not valid.")
	}
	limit = clampPage(limit)
	entries, err := s.Store.FindAudit(ctx, actor.TenantID, f, after, limit+1)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit of %s: %w", actor.TenantID, err)
	}
	var next int64
	if len(entries) > limit {
		entries = entries[:limit]
		next = entries[limit-1].ID
	}
	return entries, next, nil
}

// Export writes every entry of the actor's tenant matching f to w as JSON
// lines, oldest first (see ExportTenant).
// Errors: forbidden (not a tenant admin), badRequest (bad filter).
func (s *Service) Export(ctx context.Context, actor *identity.User, f Filter, w io.Writer) error {
	if err := mayRead(actor); err != nil {
		return err
	}
	return s.ExportTenant(ctx, actor.TenantID, f, w)
}

// line is the export format: one JSON object per line, the API's keys plus
// tenantId, with the full stored time precision.
type line struct {
	ID       string         `json:"id"`
	TenantID string         `json:"tenantId"`
	Time     string         `json:"time"`
	Actor    string         `json:"actor"`
	Action   string         `json:"action"`
	Target   string         `json:"target"`
	Details  map[string]any `json:"details"`
}

// TimeFormat is the export's time format: RFC 3339, UTC, microseconds.
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// ExportTenant writes every entry of tenant matching f to w as JSON lines,
// oldest first. It checks no caller: it is for the operator's CLI, and
// Export checks the admin. Entries appended while it runs are left out.
// Errors: badRequest (bad filter).
func (s *Service) ExportTenant(ctx context.Context, tenant identity.TenantID, f Filter, w io.Writer) error {
	if err := f.validate(); err != nil {
		return err
	}
	// The store pages newest first. Rather than hold the whole log in
	// memory to reverse it, pass 1 walks it newest first keeping only the
	// id where each page starts; pass 2 reads the ranges between those ids
	// from the oldest. The top is pinned to the newest id of pass 1.
	var bounds []int64 // bounds[i] > ids of range i >= bounds[i+1] (0 past the last)
	for after := int64(0); ; {
		page, err := s.Store.FindAudit(ctx, tenant, f, after, exportPage)
		if err != nil {
			return fmt.Errorf("export audit of %s: %w", tenant, err)
		}
		if len(page) == 0 {
			break
		}
		if after == 0 {
			after = page[0].ID + 1
		}
		bounds = append(bounds, after)
		if len(page) < exportPage {
			break
		}
		after = page[len(page)-1].ID
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := len(bounds) - 1; i >= 0; i-- {
		var lo int64
		if i+1 < len(bounds) {
			lo = bounds[i+1]
		}
		entries, err := s.between(ctx, tenant, f, lo, bounds[i])
		if err != nil {
			return fmt.Errorf("export audit of %s: %w", tenant, err)
		}
		for j := len(entries) - 1; j >= 0; j-- {
			e := &entries[j]
			if err := enc.Encode(line{ID: strconv.FormatInt(e.ID, 10), TenantID: string(e.TenantID), Time: e.Time.UTC().Format(TimeFormat),
				Actor: e.Actor, Action: e.Action, Target: e.Target, Details: nonNil(e.Details)}); err != nil {
				return fmt.Errorf("export audit of %s: %w", tenant, err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export audit of %s: %w", tenant, err)
	}
	return nil
}

// between returns the entries with lo <= id < hi, newest first. It reads
// until it passes lo rather than trusting page sizes, so an entry that
// committed late inside the range (PostgreSQL hands out ids before commit)
// cannot push another out of it.
func (s *Service) between(ctx context.Context, tenant identity.TenantID, f Filter, lo, hi int64) ([]Entry, error) {
	var out []Entry
	for after := hi; ; {
		page, err := s.Store.FindAudit(ctx, tenant, f, after, exportPage)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			if e.ID < lo {
				return out, nil
			}
			out = append(out, e)
		}
		if len(page) < exportPage {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

// nonNil makes absent details encode as {} rather than null.
func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
