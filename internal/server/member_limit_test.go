package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/parleytest"
)

// TestMemberLimit: a chat holds at most chat.MaxGroupMembers members
// (docs/rules.md §7), however they arrive: a group created with exactly
// that many is allowed and one more is refused; adding to a full chat is
// refused; and of 8 adds released together into a chat one short of the
// limit, exactly one lands. Both stores.
func TestMemberLimit(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		t.Parallel()
		s := parleytest.StartStore(t, store)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		admin := contoso.Admin
		// The members are written straight to the store: signing up
		// hundreds of accounts through the API would hash as many passwords.
		now := time.Now().UTC()
		ids := make([]string, chat.MaxGroupMembers+8)
		for i := range ids {
			upn := fmt.Sprintf("m%03d@contoso.com", i)
			u := identity.User{ID: identity.NewUserID(), TenantID: identity.TenantID(contoso.ID), Kind: identity.Member, Role: identity.RoleMember,
				DisplayName: upn, UPN: upn, Mail: upn, AllowChatsFromOrganizations: true, CreatedAt: now}
			if err := s.DB.CreateUser(t.Context(), u, "not-a-hash"); err != nil {
				t.Fatal(err)
			}
			ids[i] = string(u.ID)
		}
		group := func(others []string) *parleytest.Response {
			members := []any{parleytest.Bind(admin.UserID, true)}
			for _, id := range others {
				members = append(members, parleytest.Bind(id, false))
			}
			return admin.Do("POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Big", "members": members})
		}
		refused := func(what string, r *parleytest.Response) {
			t.Helper()
			if r.Status != http.StatusBadRequest || r.ErrorCode() != "badRequest" || !strings.Contains(string(r.Body), fmt.Sprint(chat.MaxGroupMembers)) {
				t.Fatalf("%s: got %d %s, want 400 badRequest naming the limit %d", what, r.Status, r.Body, chat.MaxGroupMembers)
			}
		}

		refused("a group of limit+1", group(ids[:chat.MaxGroupMembers]))
		full := group(ids[:chat.MaxGroupMembers-1])
		if full.Status != http.StatusCreated {
			t.Fatalf("a group of exactly the limit: got %d %s, want 201", full.Status, full.Body)
		}
		fullID := full.Map(t)["id"].(string)
		refused("an add to a full chat", admin.Do("POST", "/v1.0/chats/"+fullID+"/members", parleytest.Bind(ids[chat.MaxGroupMembers], false)))

		// One short of the limit, 8 adds at once: exactly one lands.
		r := admin.Must(http.StatusCreated, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Almost", "members": append([]any{parleytest.Bind(admin.UserID, true)},
			binds(ids[:chat.MaxGroupMembers-2])...)})
		almost := r.Map(t)["id"].(string)
		var reqs []parleytest.Req
		for _, id := range ids[chat.MaxGroupMembers-2 : chat.MaxGroupMembers+6] {
			b, err := json.Marshal(parleytest.Bind(id, false))
			if err != nil {
				t.Fatal(err)
			}
			reqs = append(reqs, parleytest.Req{Method: "POST", URL: s.URL() + "/v1.0/chats/" + almost + "/members", Token: admin.Token, JSON: b})
		}
		got := parleytest.Statuses(parleytest.Burst(t, reqs))
		if got[http.StatusCreated] != 1 || got[http.StatusBadRequest] != len(reqs)-1 {
			t.Fatalf("8 adds at once into a chat one short of the limit: %v, want one 201 and seven 400", got)
		}
		var page struct {
			Value []json.RawMessage `json:"value"`
		}
		admin.Must(http.StatusOK, "GET", "/v1.0/chats/"+almost+"/members", nil).JSON(t, &page)
		if len(page.Value) != chat.MaxGroupMembers {
			t.Fatalf("the chat has %d members, want %d", len(page.Value), chat.MaxGroupMembers)
		}
	})
}

func binds(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = parleytest.Bind(id, false)
	}
	return out
}
