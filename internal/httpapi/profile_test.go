package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestProfileRename: a person changes their own display name (PATCH
// /v1.0/me); chat partners see the new name at once; an empty or too long
// name is a 400 that changes nothing; without a token, 401.
func TestProfileRename(t *testing.T) {
	t.Parallel()
	parleytest.EachStore(t, func(t *testing.T, st string) {
		s := parleytest.StartStore(t, st)
		ten := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(ten, "alice", false)
		bob := s.User(ten, "bob", false)
		chat := alice.OneOnOne(bob.UserID)
		// Bob reads the members once, so any cache holds the old name.
		bob.Must(http.StatusOK, "GET", "/v1.0/chats/"+chat+"/members", nil)

		var u struct{ ID, DisplayName string }
		alice.Must(http.StatusOK, "PATCH", "/v1.0/me", map[string]any{"displayName": "  Alice Kim "}).JSON(t, &u)
		if u.ID != alice.UserID || u.DisplayName != "Alice Kim" {
			t.Fatalf("PATCH /v1.0/me answered %+v, want alice named Alice Kim", u)
		}
		alice.Must(http.StatusOK, "GET", "/v1.0/me", nil).JSON(t, &u)
		if u.DisplayName != "Alice Kim" {
			t.Errorf("GET /v1.0/me after rename: %q", u.DisplayName)
		}
		if !strings.Contains(bob.Must(http.StatusOK, "GET", "/v1.0/chats/"+chat+"/members", nil).Body2(), `"displayName":"Alice Kim"`) {
			t.Errorf("bob still sees the old name in the chat's members")
		}

		for _, bad := range []any{
			map[string]any{"displayName": "   "},
			map[string]any{"displayName": strings.Repeat("x", 257)},
			map[string]any{},
			`{"displayName": 5}`,
		} {
			r := alice.Do("PATCH", "/v1.0/me", bad)
			if r.Status != http.StatusBadRequest || r.ErrorCode() != "badRequest" {
				t.Errorf("PATCH /v1.0/me %v: %d %s, want 400 badRequest", bad, r.Status, r.Body)
			}
		}
		alice.Must(http.StatusOK, "GET", "/v1.0/me", nil).JSON(t, &u)
		if u.DisplayName != "Alice Kim" {
			t.Errorf("a refused rename changed the name to %q", u.DisplayName)
		}
		if r := s.Anonymous().Do("PATCH", "/v1.0/me", map[string]any{"displayName": "X"}); r.Status != http.StatusUnauthorized {
			t.Errorf("PATCH /v1.0/me without a token: %d", r.Status)
		}
	})
}

// signInStatus tries the password grant and returns the status.
func signInStatus(t *testing.T, s *parleytest.Server, user, password string) int {
	t.Helper()
	resp, err := http.PostForm(s.URL()+"/oauth2/token", url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// TestProfilePassword: changing one's password needs the current one (a
// wrong one is a 400 and changes nothing); afterwards the new password
// signs in and the old does not, the session that changed it stays signed
// in and every other session is signed out. Of several changes sent at
// once with the same current password, exactly one wins.
func TestProfilePassword(t *testing.T) {
	t.Parallel()
	parleytest.EachStore(t, func(t *testing.T, st string) {
		s := parleytest.StartStore(t, st)
		ten := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(ten, "alice", false)
		other := s.SignIn("alice@contoso.com", parleytest.Password)
		const next = "a brand new password"

		for _, bad := range []map[string]any{
			{"currentPassword": "wrong password", "newPassword": next},
			{"currentPassword": parleytest.Password, "newPassword": "short"},
			{"currentPassword": parleytest.Password, "newPassword": parleytest.Password},
			{"newPassword": next},
			{"currentPassword": parleytest.Password, "newPassword": next, "extra": true},
		} {
			r := alice.Do("POST", "/parley/v1/me/password", bad)
			if r.Status != http.StatusBadRequest || r.ErrorCode() != "badRequest" {
				t.Errorf("change password %v: %d %s, want 400 badRequest", bad, r.Status, r.Body)
			}
		}
		if got := signInStatus(t, s, "alice@contoso.com", parleytest.Password); got != http.StatusOK {
			t.Fatalf("a refused change broke the old password: sign-in %d", got)
		}
		other.Must(http.StatusOK, "GET", "/v1.0/me", nil)

		alice.Must(http.StatusNoContent, "POST", "/parley/v1/me/password", map[string]any{"currentPassword": parleytest.Password, "newPassword": next})
		alice.Must(http.StatusOK, "GET", "/v1.0/me", nil)
		if r := other.Do("GET", "/v1.0/me", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("another session after the change: %d, want 401", r.Status)
		}
		if got := signInStatus(t, s, "alice@contoso.com", parleytest.Password); got != http.StatusBadRequest {
			t.Errorf("old password after the change: sign-in %d, want 400", got)
		}
		if got := signInStatus(t, s, "alice@contoso.com", next); got != http.StatusOK {
			t.Errorf("new password: sign-in %d, want 200", got)
		}

		// Five changes at once with the same current password: one wins.
		body, _ := json.Marshal(map[string]string{"currentPassword": next, "newPassword": "the third password"})
		reqs := make([]parleytest.Req, 5)
		for i := range reqs {
			reqs[i] = parleytest.Req{Method: "POST", URL: s.URL() + "/parley/v1/me/password", Token: alice.Token, JSON: body}
		}
		st204 := parleytest.Statuses(parleytest.Burst(t, reqs))
		if st204[http.StatusNoContent] != 1 || st204[http.StatusBadRequest] != 4 {
			t.Errorf("5 concurrent changes: statuses %v, want one 204 and four 400", st204)
		}
		if r := s.Anonymous().Do("POST", "/parley/v1/me/password", map[string]any{"currentPassword": "x", "newPassword": "y"}); r.Status != http.StatusUnauthorized {
			t.Errorf("change password without a token: %d", r.Status)
		}
	})
}

// TestProfileSignOutOthers: every session but the asking one ends; other
// users' sessions are untouched.
func TestProfileSignOutOthers(t *testing.T) {
	t.Parallel()
	parleytest.EachStore(t, func(t *testing.T, st string) {
		s := parleytest.StartStore(t, st)
		ten := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(ten, "alice", false)
		phone := s.SignIn("alice@contoso.com", parleytest.Password)
		laptop := s.SignIn("alice@contoso.com", parleytest.Password)
		bob := s.User(ten, "bob", false)
		phone.Must(http.StatusOK, "GET", "/v1.0/me", nil) // cached, if the server caches tokens

		var out struct{ SignedOut int }
		alice.Must(http.StatusOK, "POST", "/parley/v1/me/signOutOtherSessions", nil).JSON(t, &out)
		if out.SignedOut != 2 {
			t.Errorf("signedOut = %d, want 2", out.SignedOut)
		}
		alice.Must(http.StatusOK, "GET", "/v1.0/me", nil)
		for name, c := range map[string]*parleytest.Client{"phone": phone, "laptop": laptop} {
			if r := c.Do("GET", "/v1.0/me", nil); r.Status != http.StatusUnauthorized {
				t.Errorf("%s session after sign-out of others: %d, want 401", name, r.Status)
			}
		}
		bob.Must(http.StatusOK, "GET", "/v1.0/me", nil)
		alice.Must(http.StatusOK, "POST", "/parley/v1/me/signOutOtherSessions", nil).JSON(t, &out)
		if out.SignedOut != 0 {
			t.Errorf("second time: signedOut = %d, want 0", out.SignedOut)
		}
		if r := s.Anonymous().Do("POST", "/parley/v1/me/signOutOtherSessions", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("without a token: %d", r.Status)
		}
	})
}
