package server_test

import (
	"regexp"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestS6_PasswordReset: the reset call answers the same for any address; a
// code goes only to an address that signs in to an account; the new
// password works, the old one and every old token do not.
func TestS6_PasswordReset(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartWorld(t, store)
		contoso := w.CreateTenant("Contoso", "contoso.com")
		alice := w.User(contoso, "alice", false)
		pat := w.Personal("pat@gmail.com")
		anon := w.Anonymous()
		var bodies []string
		for _, addr := range []string{"alice@contoso.com", "pat@gmail.com", "nobody@gmail.com", "nobody@contoso.com"} {
			bodies = append(bodies, anon.Must(202, "POST", "/parley/v1/passwordReset", map[string]any{"email": addr}).Body2())
		}
		for _, b := range bodies[1:] {
			if b != bodies[0] {
				t.Fatalf("answers differ: %q vs %q", b, bodies[0])
			}
		}
		code := regexp.MustCompile(`\d{6}`)
		aliceCode := code.FindString(w.MailTo("alice@contoso.com", 1).Subject)
		w.MailTo("pat@gmail.com", 2) // the first was the sign-up code
		// A wrong code, or any code for an address without an account, fails alike.
		for _, c := range []struct{ addr, code string }{{"alice@contoso.com", "000000"}, {"nobody@gmail.com", "123456"}} {
			r := anon.Do("POST", "/parley/v1/passwordReset/verify", map[string]any{"email": c.addr, "code": c.code, "password": "a new long password"})
			if r.Status != 400 || r.ErrorCode() != "badRequest" {
				t.Fatalf("%s: %d %s", c.addr, r.Status, r.Body)
			}
		}
		anon.Must(204, "POST", "/parley/v1/passwordReset/verify", map[string]any{"email": "alice@contoso.com", "code": aliceCode, "password": "a new long password"})
		if r := alice.Do("GET", "/v1.0/me", nil); r.Status != 401 {
			t.Fatalf("old token after reset: %d", r.Status)
		}
		w.SignIn("alice@contoso.com", "a new long password")
		if st, _, _ := signInStatus(t, w.URL(), "alice@contoso.com", parleytest.Password); st != 400 {
			t.Fatalf("old password after reset: %d", st)
		}
		// The code is single-use.
		if r := anon.Do("POST", "/parley/v1/passwordReset/verify", map[string]any{"email": "alice@contoso.com", "code": aliceCode, "password": "another long password"}); r.Status != 400 {
			t.Fatalf("reused code: %d", r.Status)
		}
		pat.Must(200, "GET", "/v1.0/me", nil)
		// No mail went to addresses without an account.
		if w.CountMailTo("nobody@gmail.com")+w.CountMailTo("nobody@contoso.com") != 0 {
			t.Fatal("a reset mail went to an address without an account")
		}
	})
}
