package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parleychat/parley/internal/app"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/team"
)

var _ app.Store = (*DB)(nil)

const botColumns = `id, tenant_id, display_name, endpoint, secret_hash, created_at, updated_at`

func scanBot(s scanner) (app.Bot, error) {
	var b app.Bot
	var created, updated int64
	if err := s.Scan(&b.ID, &b.TenantID, &b.DisplayName, &b.Endpoint, &b.SecretHash, &created, &updated); err != nil {
		return app.Bot{}, err
	}
	b.CreatedAt, b.UpdatedAt = fromMicros(created), fromMicros(updated)
	return b, nil
}

// CreateBot stores a bot registration.
func (db *DB) CreateBot(ctx context.Context, b app.Bot) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		_, err := db.txExec(tx, `INSERT INTO app_bots (`+botColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			b.ID, b.TenantID, b.DisplayName, b.Endpoint, b.SecretHash, micros(b.CreatedAt), micros(b.UpdatedAt))
		if err != nil {
			return fmt.Errorf("create bot: %w", err)
		}
		return nil
	})
}

// FindBot returns a bot registration. Errors: notFound.
func (db *DB) FindBot(ctx context.Context, id string) (app.Bot, error) {
	b, err := scanBot(db.queryRow(ctx, `SELECT `+botColumns+` FROM app_bots WHERE id = ?`, id))
	if err != nil {
		return app.Bot{}, notFound(err, "No bot %s.", id)
	}
	return b, nil
}

// FindBots returns a tenant's bots by name.
func (db *DB) FindBots(ctx context.Context, tenant identity.TenantID) ([]app.Bot, error) {
	rows, err := db.query(ctx, `SELECT `+botColumns+` FROM app_bots WHERE tenant_id = ? ORDER BY display_name, id`, tenant)
	if err != nil {
		return nil, fmt.Errorf("bots of %s: %w", tenant, err)
	}
	defer rows.Close()
	out := []app.Bot{}
	for rows.Next() {
		b, err := scanBot(rows)
		if err != nil {
			return nil, fmt.Errorf("bots of %s: %w", tenant, err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// UpdateBot stores a registration's name, endpoint and secret. Errors: notFound.
func (db *DB) UpdateBot(ctx context.Context, b app.Bot) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `UPDATE app_bots SET display_name = ?, endpoint = ?, secret_hash = ?, updated_at = ? WHERE id = ?`,
			b.DisplayName, b.Endpoint, b.SecretHash, micros(b.UpdatedAt), b.ID)
		return affected(res, err, "update bot", "No bot %s.", b.ID)
	})
}

// DeleteBot deletes a registration. Errors: notFound.
func (db *DB) DeleteBot(ctx context.Context, id string) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `DELETE FROM app_bots WHERE id = ?`, id)
		return affected(res, err, "delete bot", "No bot %s.", id)
	})
}

// affected turns a write that touched no row into notFound.
func affected(res sql.Result, err error, op, what string, args ...any) error {
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n == 0 {
		return errcode.New(errcode.NotFound, what, args...)
	}
	return nil
}

// appExtras are the parts of an app kept as JSON beside its manifest.
type appExtras struct {
	Description string        `json:"description,omitempty"`
	Tabs        []app.Tab     `json:"tabs,omitempty"`
	Commands    []app.Command `json:"commands,omitempty"`
	Manifest    string        `json:"manifest"`
}

const appColumns = `id, tenant_id, external_id, display_name, version, bot_id, scopes, manifest, blocked, created_at, updated_at`

func scanApp(s scanner) (app.App, error) {
	var a app.App
	var scopes, blocked int
	var created, updated int64
	var raw string
	if err := s.Scan(&a.ID, &a.TenantID, &a.ExternalID, &a.DisplayName, &a.Version, &a.BotID, &scopes, &raw, &blocked, &created, &updated); err != nil {
		return app.App{}, err
	}
	var x appExtras
	if err := json.Unmarshal([]byte(raw), &x); err != nil {
		return app.App{}, fmt.Errorf("app %s: %w", a.ID, err)
	}
	a.Scopes, a.Blocked, a.CreatedAt, a.UpdatedAt = app.Scope(scopes), blocked == 1, fromMicros(created), fromMicros(updated)
	a.Description, a.Tabs, a.Commands, a.Manifest = x.Description, x.Tabs, x.Commands, []byte(x.Manifest)
	return a, nil
}

func appArgs(a app.App) []any {
	x, _ := json.Marshal(appExtras{Description: a.Description, Tabs: a.Tabs, Commands: a.Commands, Manifest: string(a.Manifest)}) // plain values: cannot fail
	return []any{a.ID, a.TenantID, a.ExternalID, a.DisplayName, a.Version, a.BotID, int(a.Scopes), string(x), boolInt(a.Blocked), micros(a.CreatedAt), micros(a.UpdatedAt)}
}

// CreateApp stores a catalog app. Errors: conflict.
func (db *DB) CreateApp(ctx context.Context, a app.App) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		_, err := db.txExec(tx, `INSERT INTO apps (`+appColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, appArgs(a)...)
		if isUnique(err) {
			return errcode.New(errcode.Conflict, "An app with manifest id %s is in the catalog already; update it instead.", a.ExternalID)
		}
		if err != nil {
			return fmt.Errorf("create app: %w", err)
		}
		return nil
	})
}

// FindApp returns an app of a tenant's catalog. Errors: notFound.
func (db *DB) FindApp(ctx context.Context, tenant identity.TenantID, id string) (app.App, error) {
	a, err := scanApp(db.queryRow(ctx, `SELECT `+appColumns+` FROM apps WHERE tenant_id = ? AND id = ?`, tenant, id))
	if err != nil {
		return app.App{}, notFound(err, "No app %s in this organisation's catalog.", id)
	}
	return a, nil
}

func (db *DB) findApps(ctx context.Context, where string, arg any) ([]app.App, error) {
	rows, err := db.query(ctx, `SELECT `+appColumns+` FROM apps WHERE `+where+` ORDER BY display_name, id`, arg)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	defer rows.Close()
	out := []app.App{}
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, fmt.Errorf("list apps: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// FindApps returns a tenant's catalog by name.
func (db *DB) FindApps(ctx context.Context, tenant identity.TenantID) ([]app.App, error) {
	return db.findApps(ctx, `tenant_id = ?`, tenant)
}

// FindAppsByBot returns the apps whose manifest names a bot.
func (db *DB) FindAppsByBot(ctx context.Context, botID string) ([]app.App, error) {
	return db.findApps(ctx, `bot_id = ?`, botID)
}

// UpdateApp stores an app's definition and block. Errors: notFound.
func (db *DB) UpdateApp(ctx context.Context, a app.App) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		args := appArgs(a)
		res, err := db.txExec(tx, `UPDATE apps SET external_id = ?, display_name = ?, version = ?, bot_id = ?, scopes = ?, manifest = ?, blocked = ?, updated_at = ? WHERE id = ? AND tenant_id = ?`,
			args[2], args[3], args[4], args[5], args[6], args[7], args[8], args[10], a.ID, a.TenantID)
		return affected(res, err, "update app", "No app %s in this organisation's catalog.", a.ID)
	})
}

// DeleteApp deletes an app with its installs and policy entries stay
// harmless (an id no app has), and stores the drafts' events with it.
// Errors: notFound.
func (db *DB) DeleteApp(ctx context.Context, tenant identity.TenantID, id string, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `DELETE FROM app_installs WHERE app_id = ?`, id); err != nil {
			return fmt.Errorf("delete app: %w", err)
		}
		res, err := db.txExec(tx, `DELETE FROM apps WHERE tenant_id = ? AND id = ?`, tenant, id)
		if err := affected(res, err, "delete app", "No app %s in this organisation's catalog.", id); err != nil {
			return err
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

const installColumns = `i.id, i.tenant_id, i.app_id, i.scope_kind, i.scope_id, i.version, i.installed_by, i.pinned, i.created_at, `

func scanInstall(s scanner) (app.Install, error) {
	var in app.Install
	var kind string
	var pinned int
	var created int64
	var a app.App
	var scopes, blocked int
	var acreated, aupdated int64
	var raw string
	if err := s.Scan(&in.ID, &in.TenantID, &in.AppID, &kind, &in.Target.ID, &in.Version, &in.InstalledBy, &pinned, &created,
		&a.ID, &a.TenantID, &a.ExternalID, &a.DisplayName, &a.Version, &a.BotID, &scopes, &raw, &blocked, &acreated, &aupdated); err != nil {
		return app.Install{}, err
	}
	var x appExtras
	if err := json.Unmarshal([]byte(raw), &x); err != nil {
		return app.Install{}, fmt.Errorf("app %s: %w", a.ID, err)
	}
	a.Scopes, a.Blocked, a.CreatedAt, a.UpdatedAt = app.Scope(scopes), blocked == 1, fromMicros(acreated), fromMicros(aupdated)
	a.Description, a.Tabs, a.Commands, a.Manifest = x.Description, x.Tabs, x.Commands, []byte(x.Manifest)
	in.Target.Kind, in.Pinned, in.CreatedAt, in.App = app.InstallKind(kind), pinned == 1, fromMicros(created), a
	return in, nil
}

const installSelect = `SELECT ` + installColumns + `a.id, a.tenant_id, a.external_id, a.display_name, a.version, a.bot_id, a.scopes, a.manifest, a.blocked, a.created_at, a.updated_at
	FROM app_installs i JOIN apps a ON a.id = i.app_id `

// CreateInstall stores an install. Errors: conflict.
//
// It drops every cached chat (touchAll, here and over NATS on the other
// nodes) because the chat cache also holds whether an app is installed
// in each chat (FindChatInstalled): this is the only write that can turn
// that from no to yes. Removals may leave a cached yes, which only costs a
// read of the installs.
func (db *DB) CreateInstall(ctx context.Context, in app.Install, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchAll, func(tx *sql.Tx) error {
		_, err := db.txExec(tx, `INSERT INTO app_installs (id, tenant_id, app_id, scope_kind, scope_id, version, installed_by, pinned, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			in.ID, in.TenantID, in.AppID, string(in.Target.Kind), in.Target.ID, in.Version, in.InstalledBy, boolInt(in.Pinned), micros(in.CreatedAt))
		if isUnique(err) {
			return errcode.New(errcode.Conflict, "This app is installed here already.")
		}
		if err != nil {
			return fmt.Errorf("install app: %w", err)
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

func (db *DB) findInstalls(ctx context.Context, where string, args ...any) ([]app.Install, error) {
	rows, err := db.query(ctx, installSelect+`WHERE `+where+` ORDER BY i.created_at, i.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list installs: %w", err)
	}
	defer rows.Close()
	out := []app.Install{}
	for rows.Next() {
		in, err := scanInstall(rows)
		if err != nil {
			return nil, fmt.Errorf("list installs: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// FindInstalls lists what is installed in a target.
func (db *DB) FindInstalls(ctx context.Context, t app.Target) ([]app.Install, error) {
	return db.findInstalls(ctx, `i.scope_kind = ? AND i.scope_id = ?`, string(t.Kind), t.ID)
}

// FindInstallsOfApps lists where the apps are installed.
func (db *DB) FindInstallsOfApps(ctx context.Context, appIDs []string) ([]app.Install, error) {
	var out []app.Install
	for _, id := range appIDs {
		ins, err := db.findInstalls(ctx, `i.app_id = ?`, id)
		if err != nil {
			return nil, err
		}
		out = append(out, ins...)
	}
	return out, nil
}

// UpdateInstall stores an install's version and the drafts' events.
// Errors: notFound.
func (db *DB) UpdateInstall(ctx context.Context, in app.Install, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `UPDATE app_installs SET version = ? WHERE id = ?`, in.Version, in.ID)
		if err := affected(res, err, "upgrade app", "No installed app %s here.", in.ID); err != nil {
			return err
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// DeleteInstall deletes an install of a target and stores the drafts'
// events. Errors: notFound.
func (db *DB) DeleteInstall(ctx context.Context, t app.Target, id string, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `DELETE FROM app_installs WHERE id = ? AND scope_kind = ? AND scope_id = ?`, id, string(t.Kind), t.ID)
		if err := affected(res, err, "uninstall app", "No installed app %s here.", id); err != nil {
			return err
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

func scanAppPolicy(s scanner, k app.PolicyKind) (app.StoredPolicy, error) {
	p := app.StoredPolicy{Kind: k}
	var mode, apps, pinned string
	if err := s.Scan(&p.Name, &mode, &apps, &pinned); err != nil {
		return app.StoredPolicy{}, err
	}
	p.Mode, p.Apps, p.Pinned = app.Mode(mode), splitList(apps), splitList(pinned)
	return p, nil
}

// FindAppPolicies returns a tenant's app policies of a kind, Global first.
func (db *DB) FindAppPolicies(ctx context.Context, tenant identity.TenantID, k app.PolicyKind) ([]app.StoredPolicy, error) {
	rows, err := db.query(ctx, `SELECT name, mode, apps, pinned FROM app_policies WHERE tenant_id = ? AND kind = ? ORDER BY name`, tenant, string(k))
	if err != nil {
		return nil, fmt.Errorf("app policies of %s: %w", tenant, err)
	}
	defer rows.Close()
	out := []app.StoredPolicy{app.DefaultPolicy(k)}
	for rows.Next() {
		p, err := scanAppPolicy(rows, k)
		if err != nil {
			return nil, fmt.Errorf("app policies of %s: %w", tenant, err)
		}
		if p.Name == app.GlobalName {
			out[0] = p
			continue
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// FindAppPolicy returns one app policy; Global always. Errors: notFound.
func (db *DB) FindAppPolicy(ctx context.Context, tenant identity.TenantID, k app.PolicyKind, name string) (app.StoredPolicy, error) {
	p, err := scanAppPolicy(db.queryRow(ctx, `SELECT name, mode, apps, pinned FROM app_policies WHERE tenant_id = ? AND kind = ? AND name = ?`, tenant, string(k), name), k)
	if errors.Is(err, sql.ErrNoRows) && name == app.GlobalName {
		return app.DefaultPolicy(k), nil
	}
	if err != nil {
		return app.StoredPolicy{}, notFound(err, "No app %s policy named %q.", k, name)
	}
	return p, nil
}

// SaveAppPolicy creates (conflict when it exists) or replaces an app policy.
func (db *DB) SaveAppPolicy(ctx context.Context, tenant identity.TenantID, p app.StoredPolicy, create bool) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		if create {
			var n int
			if err := db.txQueryRow(tx, `SELECT COUNT(*) FROM app_policies WHERE tenant_id = ? AND kind = ? AND name = ?`, tenant, string(p.Kind), p.Name).Scan(&n); err != nil {
				return fmt.Errorf("save app policy: %w", err)
			}
			if n > 0 || p.Name == app.GlobalName {
				return errcode.New(errcode.Conflict, "An app %s policy named %q exists already.", p.Kind, p.Name)
			}
		}
		if _, err := db.txExec(tx, `DELETE FROM app_policies WHERE tenant_id = ? AND kind = ? AND name = ?`, tenant, string(p.Kind), p.Name); err != nil {
			return fmt.Errorf("save app policy: %w", err)
		}
		if _, err := db.txExec(tx, `INSERT INTO app_policies (tenant_id, kind, name, mode, apps, pinned) VALUES (?, ?, ?, ?, ?, ?)`,
			tenant, string(p.Kind), p.Name, string(p.Mode), joinList(p.Apps), joinList(p.Pinned)); err != nil {
			return fmt.Errorf("save app policy: %w", err)
		}
		return nil
	})
}

// DeleteAppPolicy deletes an app policy; granted ones need resetUsers.
// Errors: notFound, policyInUse.
func (db *DB) DeleteAppPolicy(ctx context.Context, tenant identity.TenantID, k app.PolicyKind, name string, resetUsers bool) (int, error) {
	var reset int
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		var n int
		if err := db.txQueryRow(tx, `SELECT COUNT(*) FROM app_policies WHERE tenant_id = ? AND kind = ? AND name = ?`, tenant, string(k), name).Scan(&n); err != nil {
			return fmt.Errorf("delete app policy: %w", err)
		}
		if n == 0 {
			return errcode.New(errcode.NotFound, "No app %s policy named %q.", k, name)
		}
		if err := db.txQueryRow(tx, `SELECT COUNT(*) FROM app_policy_grants WHERE tenant_id = ? AND kind = ? AND policy_name = ?`, tenant, string(k), name).Scan(&n); err != nil {
			return fmt.Errorf("delete app policy: %w", err)
		}
		if n > 0 && !resetUsers {
			return errcode.New(errcode.PolicyInUse, "The policy %q is granted to %d user(s); grant them another policy first, or delete with resetUsers=true to move them to Global.", name, n)
		}
		reset = n
		if _, err := db.txExec(tx, `DELETE FROM app_policy_grants WHERE tenant_id = ? AND kind = ? AND policy_name = ?`, tenant, string(k), name); err != nil {
			return fmt.Errorf("delete app policy: %w", err)
		}
		if _, err := db.txExec(tx, `DELETE FROM app_policies WHERE tenant_id = ? AND kind = ? AND name = ?`, tenant, string(k), name); err != nil {
			return fmt.Errorf("delete app policy: %w", err)
		}
		return nil
	})
	return reset, err
}

// GrantAppPolicy grants an app policy to users of the tenant; Global
// removes their grants. Errors: notFound for a user outside the tenant.
func (db *DB) GrantAppPolicy(ctx context.Context, tenant identity.TenantID, k app.PolicyKind, name string, users []identity.UserID) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		for _, u := range users {
			var n int
			if err := db.txQueryRow(tx, `SELECT COUNT(*) FROM users WHERE id = ? AND tenant_id = ?`, u, tenant).Scan(&n); err != nil {
				return fmt.Errorf("grant app policy: %w", err)
			}
			if n == 0 {
				return errcode.New(errcode.NotFound, "No user %s in this organisation.", u)
			}
			if _, err := db.txExec(tx, `DELETE FROM app_policy_grants WHERE user_id = ? AND kind = ?`, u, string(k)); err != nil {
				return fmt.Errorf("grant app policy: %w", err)
			}
			if name == app.GlobalName {
				continue
			}
			if _, err := db.txExec(tx, `INSERT INTO app_policy_grants (user_id, kind, tenant_id, policy_name) VALUES (?, ?, ?, ?)`, u, string(k), tenant, name); err != nil {
				return fmt.Errorf("grant app policy: %w", err)
			}
		}
		return nil
	})
}

// FindAppGrant returns the app policy of a kind granted to a user; Global when none.
func (db *DB) FindAppGrant(ctx context.Context, user identity.UserID, k app.PolicyKind) (string, error) {
	var name string
	err := db.queryRow(ctx, `SELECT policy_name FROM app_policy_grants WHERE user_id = ? AND kind = ?`, user, string(k)).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return app.GlobalName, nil
	}
	if err != nil {
		return "", fmt.Errorf("app grant of %s: %w", user, err)
	}
	return name, nil
}

// FindAppGrants returns who holds which app policy of a kind in a tenant.
func (db *DB) FindAppGrants(ctx context.Context, tenant identity.TenantID, k app.PolicyKind) (map[identity.UserID]string, error) {
	rows, err := db.query(ctx, `SELECT user_id, policy_name FROM app_policy_grants WHERE tenant_id = ? AND kind = ?`, tenant, string(k))
	if err != nil {
		return nil, fmt.Errorf("app grants of %s: %w", tenant, err)
	}
	defer rows.Close()
	out := map[identity.UserID]string{}
	for rows.Next() {
		var u identity.UserID
		var n string
		if err := rows.Scan(&u, &n); err != nil {
			return nil, fmt.Errorf("app grants of %s: %w", tenant, err)
		}
		out[u] = n
	}
	return out, rows.Err()
}

// BotSigningKey stores candidate as the Bot Framework signing key unless one
// is stored already (by this node or another), and returns the stored one.
func (db *DB) BotSigningKey(ctx context.Context, candidate string) (string, error) {
	const key = "bot.signingKey"
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, candidate); err != nil {
			return fmt.Errorf("store bot signing key: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return db.GetSetting(ctx, key)
}

// FindChannelTeam returns the team of a live channel. Errors: notFound.
func (db *DB) FindChannelTeam(ctx context.Context, id team.ChannelID) (team.ID, error) {
	var tid string
	if err := db.queryRow(ctx, `SELECT team_id FROM channels WHERE id = ? AND deleted_at = 0`, id).Scan(&tid); err != nil {
		return "", notFound(err, "No channel %s.", id)
	}
	return team.ID(tid), nil
}
