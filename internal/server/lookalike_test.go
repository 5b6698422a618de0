package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestLookalikeAddresses: issue 11 item 7. Sign-up refuses an address with
// an invisible character, a Cyrillic letter in a Latin domain or in a Latin
// local part next to a real account, with 400 badRequest saying why, and
// queues nothing; an address typed in full-width letters is the plain
// address (no second account can come of it); an internationalised domain
// is kept as its punycode A-label. Chats by email, guest creation and
// explain take addresses through the same parser and refuse the same.
func TestLookalikeAddresses(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartWorld(t, store)
		pat := w.Personal("pat@gmail.com")

		refused := []struct {
			name, addr, why string
		}{
			{"zero-width space", "zz4@contoso.com\u200b", "invisible character (U+200B)"},
			{"Cyrillic o in the domain", "zz4@c\u043entoso.com", "mixes Cyrillic and Latin letters"},
			{"Cyrillic a next to a real pat@gmail.com", "p\u0430t@gmail.com", "mixes Cyrillic and Latin letters"},
			{"whole-script Cyrillic domain", "zz4@\u0441\u043e\u0441\u043e.com", `looks like "coco"`},
		}
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				r := w.Anonymous().Do("POST", "/parley/v1/signup", map[string]any{"email": tt.addr, "displayName": "Zed", "password": parleytest.Password})
				if r.Status != http.StatusBadRequest || r.ErrorCode() != "badRequest" {
					t.Fatalf("sign up %q: got %d %s, want 400 badRequest", tt.addr, r.Status, r.Body)
				}
				if msg := errMessageOf(t, r); !strings.Contains(msg, tt.why) {
					t.Errorf("sign up %q: message %q, want it to say %q", tt.addr, msg, tt.why)
				}
				// Nothing pending to verify, and no account to sign in to.
				if r := w.Anonymous().Do("POST", "/parley/v1/signup/verify", map[string]any{"email": tt.addr, "code": "123456"}); r.Status != http.StatusBadRequest {
					t.Errorf("verify %q: got %d %s, want 400", tt.addr, r.Status, r.Body)
				}
				if st, body, _ := signInStatus(t, w.URL(), tt.addr, parleytest.Password); st != http.StatusBadRequest {
					t.Errorf("sign in as %q: got %d %s, want 400", tt.addr, st, body)
				}
			})
		}

		// Full width: the same letters, so the plain address. The code goes
		// to zz4@contoso.com, and the account it makes is that address's.
		const fullWidth = "ｚｚ４@ｃｏｎｔｏｓｏ.com"
		w.Anonymous().Must(http.StatusAccepted, "POST", "/parley/v1/signup", map[string]any{"email": fullWidth, "displayName": "Zed", "password": parleytest.Password})
		m := w.MailTo("zz4@contoso.com", 1)
		code := sixDigits.FindString(m.Subject + " " + m.Body)
		u := w.Anonymous().Must(http.StatusCreated, "POST", "/parley/v1/signup/verify", map[string]any{"email": fullWidth, "code": code}).Map(t)
		if u["mail"] != "zz4@contoso.com" || u["userPrincipalName"] != "zz4@contoso.com" {
			t.Errorf("account signed up as %q = %v, want mail and userPrincipalName zz4@contoso.com", fullWidth, u)
		}
		if a, b := w.SignIn("zz4@contoso.com", parleytest.Password), w.SignIn(fullWidth, parleytest.Password); a.UserID != b.UserID || a.UserID != u["id"] {
			t.Errorf("signing in as zz4@contoso.com and as %q reached %s and %s, want the one account %v", fullWidth, a.UserID, b.UserID, u["id"])
		}

		// An internationalised domain is kept, mailed and shown as its A-label.
		w.Anonymous().Must(http.StatusAccepted, "POST", "/parley/v1/signup", map[string]any{"email": "bob@Bücher.de", "displayName": "Bob", "password": parleytest.Password})
		w.MailTo("bob@xn--bcher-kva.de", 1)

		// Only the mails above went out: the refused sign-ups queued none.
		for _, m := range w.Mail.Messages() {
			for _, to := range m.To {
				if to != "pat@gmail.com" && to != "zz4@contoso.com" && to != "bob@xn--bcher-kva.de" {
					t.Errorf("mail to %q (%s), want none to a refused address", to, m.Subject)
				}
			}
		}

		// The same parser guards every other door.
		contoso := w.CreateTenant("Fabrikam", "fabrikam.com")
		alice := w.User(contoso, "alice", false)
		for _, tt := range refused {
			if r := alice.ChatWith(parleytest.ByEmail(tt.addr)); r.Status != http.StatusBadRequest || !strings.Contains(errMessageOf(t, r), tt.why) {
				t.Errorf("chat with %q: got %d %s, want 400 saying %q", tt.addr, r.Status, r.Body, tt.why)
			}
			r := contoso.Admin.Do("POST", "/v1.0/users", map[string]any{"displayName": "Zed", "userPrincipalName": tt.addr,
				"passwordProfile": map[string]string{"password": parleytest.Password}, "userType": "Guest"})
			if r.Status != http.StatusBadRequest || !strings.Contains(errMessageOf(t, r), tt.why) {
				t.Errorf("create guest %q: got %d %s, want 400 saying %q", tt.addr, r.Status, r.Body, tt.why)
			}
			q := url.Values{"userId": {alice.UserID}, "address": {tt.addr}}
			if r := contoso.Admin.Do("GET", "/parley/v1/admin/explain?"+q.Encode(), nil); r.Status != http.StatusBadRequest {
				t.Errorf("explain %q: got %d %s, want 400", tt.addr, r.Status, r.Body)
			}
		}
		if r := alice.ChatWith(parleytest.ByEmail("pat@gmail.com")); r.Status != http.StatusCreated {
			t.Errorf("chat with the real pat@gmail.com: got %d %s, want 201", r.Status, r.Body)
		}
		_ = pat // the real account the lookalike would have shadowed
	})
}
