package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/parleychat/parley/internal/audit"
	"github.com/parleychat/parley/internal/config"
)

const adminAuditUsage = "Usage: parley admin audit export --tenant DOMAIN|ID [--action PREFIX] [--actor ID] [--target T] [--since TIME] [--until TIME] > audit.jsonl"

// runAdminAudit runs "parley admin audit export" (docs/rules.md §10: the audit log
// is exportable). args are those after "admin", starting with "audit". It
// works on the data directory, as the operator, and writes the tenant's
// log to stdout as JSON lines, oldest first.
func runAdminAudit(ctx context.Context, e env, args []string) error {
	if len(args) < 2 || args[0] != "audit" || args[1] != "export" {
		fmt.Fprintln(e.stderr, adminAuditUsage)
		return errUsage
	}
	cfg := config.Default()
	fs := newFlagSet(e, "admin audit export", "--tenant DOMAIN|ID [flags]")
	if err := cfg.Register(fs, e.getenv, config.StoreOptions...); err != nil {
		return err
	}
	var tenant, since, until string
	var f audit.Filter
	fs.StringVar(&tenant, "tenant", "", "organisation: one of its domains, or its id (required)")
	fs.StringVar(&f.Action, "action", "", "only actions starting with this, e.g. externalAccessPolicy. or request.accepted")
	fs.StringVar(&f.Actor, "actor", "", "only entries by this user id (or system)")
	fs.StringVar(&f.Target, "target", "", "only entries about this target")
	fs.StringVar(&since, "since", "", "only entries at or after this time (RFC 3339, or a date: 2025-01-31)")
	fs.StringVar(&until, "until", "", "only entries before this time (RFC 3339, or a date)")
	if err := parse(fs, args[2:]); err != nil {
		return err
	}
	if tenant == "" {
		fmt.Fprintln(e.stderr, "--tenant is required")
		fs.Usage()
		return errUsage
	}
	var err error
	if f.Since, err = flagTime(since, "since"); err != nil {
		return err
	}
	if f.Until, err = flagTime(until, "until"); err != nil {
		return err
	}
	svc, err := openServices(ctx, cfg)
	if err != nil {
		return err
	}
	defer svc.DB.Close() //nolint:errcheck // read-only command
	t, err := findTenant(ctx, svc, tenant)
	if err != nil {
		return err
	}
	return svc.Audit.ExportTenant(ctx, t.ID, f, e.stdout)
}

func flagTime(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: want an RFC 3339 time such as 2025-01-31T09:00:00Z, or a date such as 2025-01-31", name, v)
}
