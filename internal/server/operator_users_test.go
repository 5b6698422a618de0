package server_test

import (
	"fmt"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestOperatorBulkUsers: the operator creates many accounts sharing one
// password in one call, all or none; the accounts sign in with the
// password, and issued tokens work. Refused: without the operator token,
// an unknown tenant, a repeated or taken name, an address outside the
// organisation's domains, a weak password, too many accounts.
func TestOperatorBulkUsers(t *testing.T) {
	t.Parallel()
	parleytest.EachStore(t, func(t *testing.T, store string) {
		t.Parallel()
		s := parleytest.StartStore(t, store)
		ten := s.CreateTenant("Bulk", "bulk.test")
		op := s.Operator()
		users := func(names ...string) []map[string]any {
			var out []map[string]any
			for _, n := range names {
				out = append(out, map[string]any{"displayName": n, "userPrincipalName": n + "@bulk.test"})
			}
			return out
		}
		const pw = "bulk-password-1"
		var got struct {
			Value []struct {
				ID          string `json:"id"`
				UPN         string `json:"userPrincipalName"`
				AccessToken string `json:"access_token"`
				ExpiresIn   int64  `json:"expires_in"`
			} `json:"value"`
		}
		op.Must(201, "POST", "/parley/v1/operator/users:bulk", map[string]any{
			"tenantId": ten.ID, "password": pw, "issueTokens": true, "users": users("ann", "bob", "cy"),
		}).JSON(t, &got)
		if len(got.Value) != 3 {
			t.Fatalf("got %d accounts, want 3", len(got.Value))
		}
		for i, u := range got.Value {
			if want := []string{"ann", "bob", "cy"}[i] + "@bulk.test"; u.UPN != want || u.ID == "" || u.AccessToken == "" || u.ExpiresIn <= 0 {
				t.Fatalf("account %d = %+v, want %s with an id and a token", i, u, want)
			}
			c := s.Anonymous()
			c.Token = u.AccessToken
			var me struct {
				ID string `json:"id"`
			}
			c.Must(200, "GET", "/v1.0/me", nil).JSON(t, &me)
			if me.ID != u.ID {
				t.Fatalf("token of %s is %s's", u.ID, me.ID)
			}
		}
		// The shared password signs each one in; the admin sees them.
		bob := s.SignIn("bob@bulk.test", pw)
		if bob.UserID != got.Value[1].ID {
			t.Fatalf("bob signed in as %s, want %s", bob.UserID, got.Value[1].ID)
		}
		ten.Admin.Must(200, "GET", "/v1.0/users/"+got.Value[2].ID, nil)
		// Without issueTokens: no tokens.
		var plain struct {
			Value []map[string]any `json:"value"`
		}
		op.Must(201, "POST", "/parley/v1/operator/users:bulk", map[string]any{
			"tenantId": ten.ID, "password": pw, "users": users("dee"),
		}).JSON(t, &plain)
		if _, ok := plain.Value[0]["access_token"]; ok || len(plain.Value) != 1 {
			t.Fatalf("without issueTokens got %v", plain.Value)
		}

		tooMany := make([]string, 1001)
		for i := range tooMany {
			tooMany[i] = fmt.Sprintf("m%d", i)
		}
		refused := []struct {
			name   string
			client *parleytest.Client
			body   map[string]any
			status int
			code   string
		}{
			{"no operator token", s.Anonymous(), map[string]any{"tenantId": ten.ID, "password": pw, "users": users("eve")}, 401, "unauthenticated"},
			{"a user's token", bob, map[string]any{"tenantId": ten.ID, "password": pw, "users": users("eve")}, 401, "unauthenticated"},
			{"unknown tenant", op, map[string]any{"tenantId": "nope", "password": pw, "users": users("eve")}, 404, "notFound"},
			{"no tenant", op, map[string]any{"password": pw, "users": users("eve")}, 400, "badRequest"},
			{"taken name, all or none", op, map[string]any{"tenantId": ten.ID, "password": pw, "users": users("eve", "ann")}, 409, "conflict"},
			{"repeated name", op, map[string]any{"tenantId": ten.ID, "password": pw, "users": users("eve", "eve")}, 400, "badRequest"},
			{"outside the domains", op, map[string]any{"tenantId": ten.ID, "password": pw, "users": []map[string]any{{"displayName": "X", "userPrincipalName": "eve@elsewhere.test"}}}, 400, "badRequest"},
			{"weak password", op, map[string]any{"tenantId": ten.ID, "password": "short", "users": users("eve")}, 400, "badRequest"},
			{"no users", op, map[string]any{"tenantId": ten.ID, "password": pw, "users": []any{}}, 400, "badRequest"},
			{"too many", op, map[string]any{"tenantId": ten.ID, "password": pw, "users": users(tooMany...)}, 400, "badRequest"},
			{"bad userType", op, map[string]any{"tenantId": ten.ID, "password": pw, "users": []map[string]any{{"displayName": "X", "userPrincipalName": "eve@bulk.test", "userType": "Owner"}}}, 400, "badRequest"},
		}
		for _, tc := range refused {
			r := tc.client.Do("POST", "/parley/v1/operator/users:bulk", tc.body)
			if r.Status != tc.status || r.ErrorCode() != tc.code {
				t.Errorf("%s: got %d %s, want %d %s", tc.name, r.Status, r.Body, tc.status, tc.code)
			}
		}
		// Nothing of the refused calls was created: eve cannot sign in, and
		// the tenant has its admin and the four accounts.
		var list struct {
			Value []map[string]any `json:"value"`
		}
		ten.Admin.Must(200, "GET", "/v1.0/users", nil).JSON(t, &list)
		if len(list.Value) != 5 {
			t.Fatalf("tenant has %d users after refused calls, want 5", len(list.Value))
		}
	})
}
