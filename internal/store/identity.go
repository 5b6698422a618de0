package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/parleychat/parley/internal/auth"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

const userColumns = `u.id, COALESCE(u.tenant_id, ''), u.kind, u.role, u.display_name, u.upn, u.mail, u.phone, u.allow_chats_from_orgs, u.created_at`

type scanner interface{ Scan(dest ...any) error }

func scanUser(s scanner, extra ...any) (identity.User, error) {
	var u identity.User
	var tenant, kind, role string
	var allow int
	var created int64
	dest := append([]any{&u.ID, &tenant, &kind, &role, &u.DisplayName, &u.UPN, &u.Mail, &u.Phone, &allow, &created}, extra...)
	if err := s.Scan(dest...); err != nil {
		return identity.User{}, err
	}
	u.TenantID, u.Kind, u.Role = identity.TenantID(tenant), identity.Kind(kind), identity.Role(role)
	u.AllowChatsFromOrganizations = allow == 1
	u.CreatedAt = fromMicros(created)
	return u, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateTenant stores a tenant, its domains and its first admin. Errors:
// domainTaken when a domain belongs to a tenant already.
func (db *DB) CreateTenant(ctx context.Context, t identity.Tenant, admin identity.User, passwordHash string) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `INSERT INTO tenants (id, display_name, created_at) VALUES (?, ?, ?)`, t.ID, t.DisplayName, micros(t.CreatedAt)); err != nil {
			return fmt.Errorf("insert tenant: %w", err)
		}
		for _, d := range t.Domains {
			if _, err := db.txExec(tx, `INSERT INTO tenant_domains (domain, tenant_id) VALUES (?, ?)`, d, t.ID); err != nil {
				if isUnique(err) {
					return errcode.New(errcode.DomainTaken, "The domain %s belongs to another organisation.", d)
				}
				return fmt.Errorf("insert domain %s: %w", d, err)
			}
		}
		return db.insertUser(tx, admin, passwordHash)
	})
}

func (db *DB) insertUser(tx *sql.Tx, u identity.User, passwordHash string) error {
	_, err := db.txExec(tx, `INSERT INTO users (id, tenant_id, kind, role, display_name, upn, mail, phone, password_hash, allow_chats_from_orgs, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, nullString(string(u.TenantID)), string(u.Kind), string(u.Role), u.DisplayName, u.UPN, u.Mail, u.Phone, passwordHash, boolInt(u.AllowChatsFromOrganizations), micros(u.CreatedAt))
	if isUnique(err) && strings.Contains(err.Error(), "users_tenant_phone") {
		return errcode.New(errcode.Conflict, "An account with the phone number %s exists already.", u.Phone)
	}
	if isUnique(err) {
		return errcode.New(errcode.Conflict, "An account with the sign-in name %s exists already.", u.UPN)
	}
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// CreateUser stores a user. Errors: conflict when the sign-in name or the
// phone number is taken in the same tenant (or among personal accounts).
func (db *DB) CreateUser(ctx context.Context, u identity.User, passwordHash string) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error { return db.insertUser(tx, u, passwordHash) })
}

// FindUserByID returns a user. Errors: notFound.
func (db *DB) FindUserByID(ctx context.Context, id identity.UserID) (identity.User, error) {
	u, err := scanUser(db.queryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, id))
	if err != nil {
		return identity.User{}, notFound(err, "No user %s.", id)
	}
	return u, nil
}

// FindTenantByID returns a tenant with its domains. Errors: notFound.
func (db *DB) FindTenantByID(ctx context.Context, id identity.TenantID) (identity.Tenant, error) {
	var t identity.Tenant
	var created int64
	err := db.queryRow(ctx, `SELECT id, display_name, created_at FROM tenants WHERE id = ?`, id).Scan(&t.ID, &t.DisplayName, &created)
	if err != nil {
		return identity.Tenant{}, notFound(err, "No tenant %s.", id)
	}
	t.CreatedAt = fromMicros(created)
	rows, err := db.query(ctx, `SELECT domain FROM tenant_domains WHERE tenant_id = ? ORDER BY domain`, id)
	if err != nil {
		return identity.Tenant{}, fmt.Errorf("tenant domains: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return identity.Tenant{}, fmt.Errorf("tenant domains: %w", err)
		}
		t.Domains = append(t.Domains, d)
	}
	return t, rows.Err()
}

// FindTenantByDomain returns the tenant that verified a domain. Errors: notFound.
func (db *DB) FindTenantByDomain(ctx context.Context, domain string) (identity.Tenant, error) {
	var id identity.TenantID
	err := db.queryRow(ctx, `SELECT tenant_id FROM tenant_domains WHERE domain = ?`, strings.ToLower(domain)).Scan(&id)
	if err != nil {
		return identity.Tenant{}, notFound(err, "No tenant owns %s.", domain)
	}
	return db.FindTenantByID(ctx, id)
}

// FindTenants returns all tenants, oldest first.
func (db *DB) FindTenants(ctx context.Context) ([]identity.Tenant, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id FROM tenants ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	var ids []identity.TenantID
	for rows.Next() {
		var id identity.TenantID
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	out := make([]identity.Tenant, 0, len(ids))
	for _, id := range ids {
		t, err := db.FindTenantByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// FindUsers returns up to limit users of a tenant matching f, oldest
// first (created_at, then id), starting after f.After (keyset paging).
func (db *DB) FindUsers(ctx context.Context, tenant identity.TenantID, f identity.UserFilter, limit int) ([]identity.User, error) {
	q := `SELECT ` + userColumns + ` FROM users u WHERE u.tenant_id = ? AND u.kind <> 'anonymous'`
	args := []any{tenant}
	if f.UPN != "" {
		q += ` AND u.upn = ?`
		args = append(args, f.UPN)
	}
	if f.SharesChatWith != "" {
		q += ` AND (u.id = ? OR u.id IN (SELECT y.user_id FROM chat_members x JOIN chat_members y ON x.chat_id = y.chat_id
			WHERE x.user_id = ? AND ` + sharesChat + `) OR u.id IN (` + sharesTeam + `))`
		args = append(args, f.SharesChatWith, f.SharesChatWith, f.SharesChatWith)
	}
	if f.After.ID != "" {
		q += ` AND (u.created_at > ? OR (u.created_at = ? AND u.id > ?))`
		c := micros(f.After.CreatedAt)
		args = append(args, c, c, f.After.ID)
	}
	q += ` ORDER BY u.created_at, u.id LIMIT ?`
	args = append(args, limit)
	users, err := db.queryUsers(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// queryUsers runs a query that selects userColumns.
func (db *DB) queryUsers(ctx context.Context, q string, args ...any) ([]identity.User, error) {
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []identity.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// FindUsersByAddress returns the accounts whose e-mail, phone or sign-in
// name is addr.
func (db *DB) FindUsersByAddress(ctx context.Context, addr string) ([]identity.User, error) {
	users, err := db.queryUsers(ctx, `SELECT `+userColumns+` FROM users u WHERE (u.upn = ? OR u.mail = ? OR u.phone = ?) AND u.kind <> 'anonymous' ORDER BY u.created_at`, addr, addr, addr)
	if err != nil {
		return nil, fmt.Errorf("find users by address: %w", err)
	}
	return users, nil
}

// SharesChat reports whether a may see b through a common chat: b is an
// accepted member, and a is accepted or the target of a delivered request.
// A held request shows nothing to either side (docs/rules.md §4), and a pending
// target stays unknown to the sender until they accept (docs/rules.md §5).
//
// People in one team see each other too (docs/rules.md §10: a guest sees
// the people it shares a chat, team or meeting with).
func (db *DB) SharesChat(ctx context.Context, a, b identity.UserID) (bool, error) {
	var n int
	err := db.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM chat_members x JOIN chat_members y ON x.chat_id = y.chat_id
		WHERE x.user_id = ? AND y.user_id = ? AND `+sharesChat+`) + (SELECT COUNT(*) FROM team_members a JOIN team_members b ON a.team_id = b.team_id
		WHERE a.user_id = ? AND b.user_id = ?)`, a, b, a, b).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("shares chat: %w", err)
	}
	return n > 0, nil
}

// sharesChat is SharesChat's condition on the viewer's membership x and the
// seen person's y in one chat.
const sharesChat = `y.state = 'accepted' AND (x.state = 'accepted' OR (x.state = 'pending' AND x.held = 0))`

// sharesTeam selects the people who share a team with the bound user.
const sharesTeam = `SELECT b.user_id FROM team_members a JOIN team_members b ON a.team_id = b.team_id WHERE a.user_id = ?`

// HasBlocked reports whether blocker has blocked blocked, either kind.
func (db *DB) HasBlocked(ctx context.Context, blocker, blocked identity.UserID) (bool, error) {
	var n int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM blocks WHERE blocker_id = ? AND blocked_id = ?`, blocker, blocked).Scan(&n); err != nil {
		return false, fmt.Errorf("has blocked: %w", err)
	}
	return n > 0, nil
}

// CountTenants returns the number of tenants.
func (db *DB) CountTenants(ctx context.Context) (int, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count tenants: %w", err)
	}
	return n, nil
}

// FindCredentials returns the accounts signing in with name.
func (db *DB) FindCredentials(ctx context.Context, name string) ([]auth.Credential, error) {
	rows, err := db.query(ctx, `SELECT id, password_hash FROM users WHERE upn = ? AND kind <> 'anonymous' ORDER BY CASE kind WHEN 'member' THEN 0 WHEN 'personal' THEN 1 ELSE 2 END, created_at LIMIT 8`, name)
	if err != nil {
		return nil, fmt.Errorf("find credentials: %w", err)
	}
	defer rows.Close()
	var out []auth.Credential
	for rows.Next() {
		var c auth.Credential
		if err := rows.Scan(&c.UserID, &c.PasswordHash); err != nil {
			return nil, fmt.Errorf("find credentials: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CreateToken stores a token hash.
func (db *DB) CreateToken(ctx context.Context, hash []byte, userID identity.UserID, expires time.Time) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		_, err := db.txExec(tx, `INSERT INTO tokens (hash, user_id, expires_at, created_at) VALUES (?, ?, ?, ?)`, hex.EncodeToString(hash), userID, micros(expires), time.Now().UnixMicro())
		if err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
		return nil
	})
}

// FindToken returns a token's user and expiry. Errors: notFound.
func (db *DB) FindToken(ctx context.Context, hash []byte) (identity.UserID, time.Time, error) {
	var uid identity.UserID
	var exp int64
	err := db.queryRow(ctx, `SELECT user_id, expires_at FROM tokens WHERE hash = ?`, hex.EncodeToString(hash)).Scan(&uid, &exp)
	if err != nil {
		return "", time.Time{}, notFound(err, "No such token.")
	}
	return uid, fromMicros(exp), nil
}

// DeleteToken revokes a token.
func (db *DB) DeleteToken(ctx context.Context, hash []byte) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `DELETE FROM tokens WHERE hash = ?`, hex.EncodeToString(hash)); err != nil {
			return fmt.Errorf("delete token: %w", err)
		}
		return nil
	})
}

// GetSetting returns a server setting. Errors: notFound.
func (db *DB) GetSetting(ctx context.Context, key string) (string, error) {
	var v string
	if err := db.queryRow(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v); err != nil {
		return "", notFound(err, "No setting %s.", key)
	}
	return v, nil
}

// SetSetting stores a server setting; an empty value deletes it.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `DELETE FROM settings WHERE key = ?`, key); err != nil {
			return fmt.Errorf("set %s: %w", key, err)
		}
		if value == "" {
			return nil
		}
		if _, err := db.txExec(tx, `INSERT INTO settings (key, value) VALUES (?, ?)`, key, value); err != nil {
			return fmt.Errorf("set %s: %w", key, err)
		}
		return nil
	})
}

// CreateUsers stores users sharing one password hash in one transaction:
// all or none. Errors: conflict when a sign-in name or phone number is taken.
func (db *DB) CreateUsers(ctx context.Context, us []identity.User, passwordHash string) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		for _, u := range us {
			if err := db.insertUser(tx, u, passwordHash); err != nil {
				return err
			}
		}
		return nil
	})
}
