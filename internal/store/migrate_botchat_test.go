package store_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// TestMigrationBotChatApp: the migration that names a bot's 1:1 chat's app
// gives each existing bot chat the app its bot's organisation lists first
// (by name, then id), as the server picks a bot's app; other chats, and a
// bot chat whose bot no app of its organisation names, get none.
func TestMigrationBotChatApp(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		db, mig := migratedBefore(t, d, "bot_chat_app")
		stmts := []string{
			`INSERT INTO tenants (id, display_name, created_at) VALUES ('t1', 't1', 1), ('t2', 't2', 1)`,
			`INSERT INTO apps (id, tenant_id, external_id, display_name, version, bot_id, scopes, manifest, created_at, updated_at) VALUES
				('a-zeta', 't1', 'x1', 'Zeta', '1.0.0', 'b1', 1, '{}', 1, 1),
				('a-alpha', 't1', 'x2', 'Alpha', '1.0.0', 'b1', 1, '{}', 2, 2),
				('a-other', 't2', 'x3', 'Aardvark', '1.0.0', 'b1', 1, '{}', 1, 1)`,
			`INSERT INTO chats (id, type, tenant_id, created_by, created_at, updated_at, pair_key) VALUES
				('c-bot', 'oneOnOne', 't1', 'b1', 1, 1, 'u1|28:b1'),
				('c-people', 'oneOnOne', 't1', 'u1', 1, 1, 'u1|u2'),
				('c-group', 'group', 't1', 'u1', 1, 1, NULL),
				('c-noapp', 'oneOnOne', 't1', 'b2', 1, 1, 'u1|28:b2')`,
		}
		for _, q := range stmts {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", strings.Fields(q)[2], err)
			}
		}
		if _, err := db.Exec(mig.SQL); err != nil {
			t.Fatalf("migration %d %s: %v", mig.Version, mig.Name, err)
		}
		want := map[string][2]string{"c-bot": {"a-alpha", "Alpha"}, "c-people": {}, "c-group": {}, "c-noapp": {}}
		rows, err := db.Query(`SELECT id, app_id, app_name FROM chats`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, appID, name string
			if err := rows.Scan(&id, &appID, &name); err != nil {
				t.Fatal(err)
			}
			if w := want[id]; appID != w[0] || name != w[1] {
				t.Errorf("%s: app %q %q after the migration, want %q %q", id, appID, name, w[0], w[1])
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	})
}

// migratedBefore opens an empty database of the dialect with every
// migration before the one named applied (schema_migrations first, as the
// store's migrate makes it), and returns it with that migration.
func migratedBefore(t *testing.T, d store.Dialect, name string) (*sql.DB, store.Migration) {
	t.Helper()
	driver, dsn := "sqlite", filepath.Join(t.TempDir(), "m.db")
	if d == store.Postgres {
		driver, dsn = "pgx", storetest.PostgresSchema(t)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ms, err := store.Migrations(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Name == name {
			return db, m
		}
		if _, err := db.Exec(m.SQL); err != nil {
			t.Fatalf("migration %d %s: %v", m.Version, m.Name, err)
		}
	}
	t.Fatalf("no migration %s", name)
	return nil, store.Migration{}
}
