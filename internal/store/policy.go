package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/policy"
)

func joinList(l []string) string { return strings.Join(l, ",") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// FindSettings returns a tenant's external access settings (the defaults
// when the admin never changed them).
func (db *DB) FindSettings(ctx context.Context, tenant identity.TenantID) (policy.Settings, error) {
	var s policy.Settings
	var a, b, c, d int
	var allowed, blocked string
	err := db.queryRow(ctx, `SELECT allow_teams_consumer, allow_teams_consumer_inbound, allow_federated_users, allow_all_known_domains, allowed_domains, blocked_domains
		FROM federation_config WHERE tenant_id = ?`, tenant).Scan(&a, &b, &c, &d, &allowed, &blocked)
	if err == sql.ErrNoRows {
		return policy.DefaultSettings(), nil
	}
	if err != nil {
		return policy.Settings{}, fmt.Errorf("settings of %s: %w", tenant, err)
	}
	s.AllowTeamsConsumer, s.AllowTeamsConsumerInbound, s.AllowFederatedUsers, s.AllowAllKnownDomains = a == 1, b == 1, c == 1, d == 1
	s.AllowedDomains, s.BlockedDomains = splitList(allowed), splitList(blocked)
	return s, nil
}

// SaveSettings stores a tenant's settings.
func (db *DB) SaveSettings(ctx context.Context, tenant identity.TenantID, s policy.Settings) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `DELETE FROM federation_config WHERE tenant_id = ?`, tenant); err != nil {
			return fmt.Errorf("save settings: %w", err)
		}
		_, err := db.txExec(tx, `INSERT INTO federation_config (tenant_id, allow_teams_consumer, allow_teams_consumer_inbound, allow_federated_users, allow_all_known_domains, allowed_domains, blocked_domains)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, tenant, boolInt(s.AllowTeamsConsumer), boolInt(s.AllowTeamsConsumerInbound), boolInt(s.AllowFederatedUsers), boolInt(s.AllowAllKnownDomains),
			joinList(s.AllowedDomains), joinList(s.BlockedDomains))
		if err != nil {
			return fmt.Errorf("save settings: %w", err)
		}
		return nil
	})
}

func scanPolicy(s scanner) (policy.Policy, error) {
	var p policy.Policy
	var a, b, c int
	if err := s.Scan(&p.Name, &a, &b, &c); err != nil {
		return policy.Policy{}, err
	}
	p.EnableFederationAccess, p.EnableTeamsConsumerAccess, p.EnableTeamsConsumerInbound = a == 1, b == 1, c == 1
	return p, nil
}

const policyColumns = `name, enable_federation_access, enable_teams_consumer_access, enable_teams_consumer_inbound`

// FindPolicies returns a tenant's policies, Global first (Global is always
// there, stored or not).
func (db *DB) FindPolicies(ctx context.Context, tenant identity.TenantID) ([]policy.Policy, error) {
	rows, err := db.query(ctx, `SELECT `+policyColumns+` FROM external_policies WHERE tenant_id = ? ORDER BY name`, tenant)
	if err != nil {
		return nil, fmt.Errorf("policies of %s: %w", tenant, err)
	}
	defer rows.Close()
	out := []policy.Policy{policy.GlobalDefault()}
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, fmt.Errorf("policies of %s: %w", tenant, err)
		}
		if p.Name == policy.GlobalName {
			out[0] = p
			continue
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// FindPolicy returns one policy. Errors: notFound.
func (db *DB) FindPolicy(ctx context.Context, tenant identity.TenantID, name string) (policy.Policy, error) {
	p, err := scanPolicy(db.queryRow(ctx, `SELECT `+policyColumns+` FROM external_policies WHERE tenant_id = ? AND name = ?`, tenant, name))
	if err == sql.ErrNoRows && name == policy.GlobalName {
		return policy.GlobalDefault(), nil
	}
	if err != nil {
		return policy.Policy{}, notFound(err, "No policy named %q.", name)
	}
	return p, nil
}

// SavePolicy creates or replaces a policy; create=true refuses an existing
// name with conflict.
func (db *DB) SavePolicy(ctx context.Context, tenant identity.TenantID, p policy.Policy, create bool) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		if create {
			var n int
			if err := db.txQueryRow(tx, `SELECT COUNT(*) FROM external_policies WHERE tenant_id = ? AND name = ?`, tenant, p.Name).Scan(&n); err != nil {
				return fmt.Errorf("save policy: %w", err)
			}
			if n > 0 || p.Name == policy.GlobalName {
				return errcode.New(errcode.Conflict, "A policy named %q exists already.", p.Name)
			}
		}
		if _, err := db.txExec(tx, `DELETE FROM external_policies WHERE tenant_id = ? AND name = ?`, tenant, p.Name); err != nil {
			return fmt.Errorf("save policy: %w", err)
		}
		_, err := db.txExec(tx, `INSERT INTO external_policies (tenant_id, `+policyColumns+`) VALUES (?, ?, ?, ?, ?)`,
			tenant, p.Name, boolInt(p.EnableFederationAccess), boolInt(p.EnableTeamsConsumerAccess), boolInt(p.EnableTeamsConsumerInbound))
		if err != nil {
			return fmt.Errorf("save policy: %w", err)
		}
		return nil
	})
}

// DeletePolicy deletes a policy. A policy granted to users is refused with
// policyInUse and their number, unless resetUsers moves them to Global.
// Errors: notFound, policyInUse.
func (db *DB) DeletePolicy(ctx context.Context, tenant identity.TenantID, name string, resetUsers bool) (int, error) {
	var reset int
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		var n int
		if err := db.txQueryRow(tx, `SELECT COUNT(*) FROM external_policies WHERE tenant_id = ? AND name = ?`, tenant, name).Scan(&n); err != nil {
			return fmt.Errorf("delete policy: %w", err)
		}
		if n == 0 {
			return errcode.New(errcode.NotFound, "No policy named %q.", name)
		}
		if err := db.txQueryRow(tx, `SELECT COUNT(*) FROM policy_grants WHERE tenant_id = ? AND policy_name = ?`, tenant, name).Scan(&n); err != nil {
			return fmt.Errorf("delete policy: %w", err)
		}
		if n > 0 && !resetUsers {
			return errcode.New(errcode.PolicyInUse, "The policy %q is granted to %d user(s); grant them another policy first, or delete with resetUsers=true to move them to Global.", name, n)
		}
		reset = n
		if _, err := db.txExec(tx, `DELETE FROM policy_grants WHERE tenant_id = ? AND policy_name = ?`, tenant, name); err != nil {
			return fmt.Errorf("delete policy: %w", err)
		}
		if _, err := db.txExec(tx, `DELETE FROM external_policies WHERE tenant_id = ? AND name = ?`, tenant, name); err != nil {
			return fmt.Errorf("delete policy: %w", err)
		}
		return nil
	})
	return reset, err
}

// GrantPolicy grants a policy to users of the tenant; name Global removes
// their grants. Errors: notFound for a user outside the tenant.
func (db *DB) GrantPolicy(ctx context.Context, tenant identity.TenantID, name string, users []identity.UserID) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		for _, u := range users {
			var n int
			if err := db.txQueryRow(tx, `SELECT COUNT(*) FROM users WHERE id = ? AND tenant_id = ? AND kind = 'member'`, u, tenant).Scan(&n); err != nil {
				return fmt.Errorf("grant policy: %w", err)
			}
			if n == 0 {
				return errcode.New(errcode.NotFound, "No member %s in this organisation.", u)
			}
			if _, err := db.txExec(tx, `DELETE FROM policy_grants WHERE user_id = ?`, u); err != nil {
				return fmt.Errorf("grant policy: %w", err)
			}
			if name == policy.GlobalName {
				continue
			}
			if _, err := db.txExec(tx, `INSERT INTO policy_grants (user_id, tenant_id, policy_name) VALUES (?, ?, ?)`, u, tenant, name); err != nil {
				return fmt.Errorf("grant policy: %w", err)
			}
		}
		return nil
	})
}

// FindGrant returns the name of the policy granted to a user; Global when none.
func (db *DB) FindGrant(ctx context.Context, user identity.UserID) (string, error) {
	var name string
	err := db.queryRow(ctx, `SELECT policy_name FROM policy_grants WHERE user_id = ?`, user).Scan(&name)
	if err == sql.ErrNoRows {
		return policy.GlobalName, nil
	}
	if err != nil {
		return "", fmt.Errorf("grant of %s: %w", user, err)
	}
	return name, nil
}

// FindGrants returns user → policy name for every grant in a tenant.
func (db *DB) FindGrants(ctx context.Context, tenant identity.TenantID) (map[identity.UserID]string, error) {
	rows, err := db.query(ctx, `SELECT user_id, policy_name FROM policy_grants WHERE tenant_id = ?`, tenant)
	if err != nil {
		return nil, fmt.Errorf("grants of %s: %w", tenant, err)
	}
	defer rows.Close()
	out := map[identity.UserID]string{}
	for rows.Next() {
		var u identity.UserID
		var n string
		if err := rows.Scan(&u, &n); err != nil {
			return nil, fmt.Errorf("grants of %s: %w", tenant, err)
		}
		out[u] = n
	}
	return out, rows.Err()
}

// FindBlock returns how blocker blocked blocked (NoBlock when not).
func (db *DB) FindBlock(ctx context.Context, blocker, blocked identity.UserID) (policy.Block, error) {
	var kind string
	err := db.queryRow(ctx, `SELECT kind FROM blocks WHERE blocker_id = ? AND blocked_id = ?`, blocker, blocked).Scan(&kind)
	if err == sql.ErrNoRows {
		return policy.NoBlock, nil
	}
	if err != nil {
		return policy.NoBlock, fmt.Errorf("block: %w", err)
	}
	if kind == "visible" {
		return policy.VisibleBlock, nil
	}
	return policy.SilentBlock, nil
}

// SaveBlock stores (or with NoBlock removes) a block.
func (db *DB) SaveBlock(ctx context.Context, blocker, blocked identity.UserID, b policy.Block, at time.Time) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error { return db.saveBlock(tx, blocker, blocked, b, at) })
}

func (db *DB) saveBlock(tx *sql.Tx, blocker, blocked identity.UserID, b policy.Block, at time.Time) error {
	if _, err := db.txExec(tx, `DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?`, blocker, blocked); err != nil {
		return fmt.Errorf("save block: %w", err)
	}
	if b == policy.NoBlock {
		return nil
	}
	kind := "silent"
	if b == policy.VisibleBlock {
		kind = "visible"
	}
	if _, err := db.txExec(tx, `INSERT INTO blocks (blocker_id, blocked_id, kind, created_at) VALUES (?, ?, ?, ?)`, blocker, blocked, kind, micros(at)); err != nil {
		return fmt.Errorf("save block: %w", err)
	}
	return nil
}

// FindBlocked returns the users blocker blocked, with the kind.
func (db *DB) FindBlocked(ctx context.Context, blocker identity.UserID) (map[identity.UserID]policy.Block, error) {
	rows, err := db.query(ctx, `SELECT blocked_id, kind FROM blocks WHERE blocker_id = ?`, blocker)
	if err != nil {
		return nil, fmt.Errorf("blocked users: %w", err)
	}
	defer rows.Close()
	out := map[identity.UserID]policy.Block{}
	for rows.Next() {
		var id identity.UserID
		var kind string
		if err := rows.Scan(&id, &kind); err != nil {
			return nil, fmt.Errorf("blocked users: %w", err)
		}
		out[id] = policy.SilentBlock
		if kind == "visible" {
			out[id] = policy.VisibleBlock
		}
	}
	return out, rows.Err()
}

// DeclinedUntil returns until when decliner declined sender (zero: never).
func (db *DB) DeclinedUntil(ctx context.Context, decliner, sender identity.UserID) (time.Time, error) {
	var until int64
	err := db.queryRow(ctx, `SELECT until_at FROM declines WHERE decliner_id = ? AND sender_id = ?`, decliner, sender).Scan(&until)
	if err == sql.ErrNoRows {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("declined: %w", err)
	}
	return fromMicros(until), nil
}

// AreContacts reports whether a pair accepted each other.
func (db *DB) AreContacts(ctx context.Context, a, b identity.UserID) (bool, error) {
	if a > b {
		a, b = b, a
	}
	var n int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM contacts WHERE user_a = ? AND user_b = ?`, a, b).Scan(&n); err != nil {
		return false, fmt.Errorf("contacts: %w", err)
	}
	return n > 0, nil
}

// SetAllowChatsFromOrganizations stores a personal user's switch.
func (db *DB) SetAllowChatsFromOrganizations(ctx context.Context, user identity.UserID, allow bool) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `UPDATE users SET allow_chats_from_orgs = ? WHERE id = ?`, boolInt(allow), user); err != nil {
			return fmt.Errorf("save personal setting: %w", err)
		}
		return nil
	})
}
