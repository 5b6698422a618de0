package store_test

import (
	"testing"

	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// TestMigrationOnePhonePerTenant: the migration that makes a phone number
// name one account per tenant (issue 11 item 8) keeps a number held twice
// with the member rather than the guest, then with the older account, leaves
// other tenants alone, and refuses a second holder afterwards.
func TestMigrationOnePhonePerTenant(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		db, phone := migratedBefore(t, d, "one_phone_per_tenant")
		exec := func(q string, args ...any) error {
			if d == store.Postgres {
				n := 0
				out := []byte{}
				for i := 0; i < len(q); i++ {
					if q[i] == '?' {
						n++
						out = append(out, '$', byte('0'+n))
						continue
					}
					out = append(out, q[i])
				}
				q = string(out)
			}
			_, err := db.Exec(q, args...)
			return err
		}
		for _, tn := range []string{"t1", "t2"} {
			if err := exec(`INSERT INTO tenants (id, display_name, created_at) VALUES (?, ?, 1)`, tn, tn); err != nil {
				t.Fatal(err)
			}
		}
		users := []struct {
			id, tenant, kind, phone string
			created                 int
		}{
			{"g1", "t1", "guest", "+1001", 1},  // older, but a guest
			{"m1", "t1", "member", "+1001", 2}, // keeps +1001
			{"g2", "t1", "guest", "+1002", 1},  // keeps +1002
			{"g3", "t1", "guest", "+1002", 2},
			{"m2", "t2", "member", "+1001", 3}, // another tenant: keeps it
			{"m3", "t1", "member", "", 4},
			{"m4", "t1", "member", "", 5}, // no number is no conflict
		}
		for _, u := range users {
			if err := exec(`INSERT INTO users (id, tenant_id, kind, role, display_name, upn, mail, phone, password_hash, created_at) VALUES (?, ?, ?, 'member', ?, ?, ?, ?, 'x', ?)`,
				u.id, u.tenant, u.kind, u.id, u.id+"@x.example", u.id+"@x.example", u.phone, u.created); err != nil {
				t.Fatalf("insert %s: %v", u.id, err)
			}
		}
		if _, err := db.Exec(phone.SQL); err != nil {
			t.Fatalf("migration %d %s: %v", phone.Version, phone.Name, err)
		}
		want := map[string]string{"g1": "", "m1": "+1001", "g2": "+1002", "g3": "", "m2": "+1001", "m3": "", "m4": ""}
		rows, err := db.Query(`SELECT id, phone FROM users`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, ph string
			if err := rows.Scan(&id, &ph); err != nil {
				t.Fatal(err)
			}
			if ph != want[id] {
				t.Errorf("%s: phone %q after the migration, want %q", id, ph, want[id])
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if err := exec(`INSERT INTO users (id, tenant_id, kind, role, display_name, upn, phone, password_hash, created_at) VALUES ('g4', 't1', 'guest', 'member', 'g4', 'g4@x.example', '+1001', 'x', 9)`); err == nil {
			t.Errorf("a second account of t1 with +1001 was stored after the migration")
		}
	})
}
