package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/audit"
	"github.com/parleychat/parley/internal/identity"
)

var _ audit.Store = (*DB)(nil)

// AppendAudit stores an audit entry (docs/rules.md §10) and returns its id. Details
// are stored as JSON text.
func (db *DB) AppendAudit(ctx context.Context, e audit.Entry) (int64, error) {
	details := []byte("{}")
	if len(e.Details) > 0 {
		var err error
		if details, err = json.Marshal(e.Details); err != nil {
			return 0, fmt.Errorf("encode audit details of %s: %w", e.Action, err)
		}
	}
	var id int64
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		err := db.txQueryRow(tx, `INSERT INTO audit (tenant_id, at, actor, action, target, details) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			e.TenantID, micros(e.Time), e.Actor, e.Action, e.Target, string(details)).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert audit %s: %w", e.Action, err)
		}
		return nil
	})
	return id, err
}

// FindAudit returns a tenant's audit entries matching f, newest first, below
// afterID when it is positive.
func (db *DB) FindAudit(ctx context.Context, tenant identity.TenantID, f audit.Filter, afterID int64, limit int) ([]audit.Entry, error) {
	var where strings.Builder
	where.WriteString(`tenant_id = ?`)
	args := []any{tenant}
	add := func(cond string, v ...any) {
		where.WriteString(" AND " + cond)
		args = append(args, v...)
	}
	if afterID > 0 {
		add(`id < ?`, afterID)
	}
	if f.Action != "" {
		// substr, not LIKE: LIKE ignores case in SQLite but not in
		// PostgreSQL, and would need its wildcards escaped.
		add(`substr(action, 1, ?) = ?`, utf8.RuneCountInString(f.Action), f.Action)
	}
	if f.Actor != "" {
		add(`actor = ?`, f.Actor)
	}
	if f.Target != "" {
		add(`target = ?`, f.Target)
	}
	if !f.Since.IsZero() {
		add(`at >= ?`, micros(f.Since))
	}
	if !f.Until.IsZero() {
		add(`at < ?`, micros(f.Until))
	}
	args = append(args, limit)
	rows, err := db.query(ctx, `SELECT id, tenant_id, at, actor, action, target, details FROM audit WHERE `+where.String()+` ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("audit of %s: %w", tenant, err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var e audit.Entry
		var at int64
		var details string
		if err := rows.Scan(&e.ID, &e.TenantID, &at, &e.Actor, &e.Action, &e.Target, &details); err != nil {
			return nil, fmt.Errorf("audit of %s: %w", tenant, err)
		}
		e.Time = fromMicros(at)
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			return nil, fmt.Errorf("audit %d of %s: decode details: %w", e.ID, tenant, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit of %s: %w", tenant, err)
	}
	return out, nil
}
