package server_test

// The concurrency tier: every limit, counter and one-time code of
// docs/decisions.md ("Limits") is hit with N requests released together
// from one barrier on warm connections (parleytest.Burst), on SQLite, on
// PostgreSQL, and on two nodes sharing one PostgreSQL database over NATS
// (requests alternate between the nodes), and the exact count is asserted.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/config"
	"github.com/parleychat/parley/internal/parleytest"
)

// eachTier runs f on one SQLite node, one PostgreSQL node and two
// PostgreSQL nodes over NATS. w is the first node with its mail and SMS
// recorders; nodes are all of them.
func eachTier(t *testing.T, change func(*config.Config), f func(t *testing.T, w *parleytest.World, nodes []*parleytest.Server)) {
	for _, tier := range []string{"sqlite", "postgres", "two-nodes"} {
		t.Run(tier, func(t *testing.T) {
			if tier == "sqlite" {
				w := parleytest.StartWorldWith(t, "sqlite", change)
				f(t, w, []*parleytest.Server{w.Server})
				return
			}
			parleytest.RequirePostgres(t)
			var cfg config.Config
			var natsURL string
			if tier == "two-nodes" {
				natsURL = startEmbeddedNATS(t).ClientURL()
			}
			w := parleytest.StartWorldWith(t, "postgres", func(c *config.Config) {
				if change != nil {
					change(c)
				}
				c.Store.NATSURL = natsURL
				cfg = *c
			})
			nodes := []*parleytest.Server{w.Server}
			if tier == "two-nodes" {
				cfg.Store.DataDir = t.TempDir()
				nodes = append(nodes, parleytest.Start(t, cfg))
			}
			f(t, w, nodes)
		})
	}
}

// spread builds n requests, alternating between the nodes.
func spread(nodes []*parleytest.Server, n int, f func(i int, base string) parleytest.Req) []parleytest.Req {
	reqs := make([]parleytest.Req, n)
	for i := range reqs {
		reqs[i] = f(i, nodes[i%len(nodes)].URL())
	}
	return reqs
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// errorCodes counts the answers by status and, for errors, their code.
func errorCodes(rs []parleytest.Result) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal([]byte(r.Body), &e) // a success has no error code
		m[fmt.Sprintf("%d %s", r.Status, e.Error.Code)]++
	}
	return m
}

// TestConcurrentRequestCap: 40 sends to a pending request at once store
// exactly 10 (docs/rules.md §5's cap), the rest answer messageRequestLimitReached.
func TestConcurrentRequestCap(t *testing.T) {
	eachTier(t, nil, func(t *testing.T, w *parleytest.World, nodes []*parleytest.Server) {
		contoso := w.CreateTenant("Contoso", "contoso.com")
		alice := w.User(contoso, "alice", false)
		pat := w.Personal("pat@gmail.com")
		chatID := alice.ChatWith(parleytest.ByEmail("pat@gmail.com")).Map(t)["id"].(string)
		rs := parleytest.Burst(t, spread(nodes, 40, func(i int, base string) parleytest.Req {
			return parleytest.Req{Method: "POST", URL: base + "/v1.0/chats/" + chatID + "/messages", Token: alice.Token,
				JSON: mustJSON(t, map[string]any{"body": map[string]string{"content": fmt.Sprintf("hello %d", i)}})}
		}))
		got := errorCodes(rs)
		if got["201 "] != 10 || got["403 messageRequestLimitReached"] != 30 {
			t.Fatalf("40 sends at once to a pending request: %v; want 10 stored, 30 messageRequestLimitReached", got)
		}
		// What is stored agrees: ten messages, ten previews.
		var msgs struct{ Value []any }
		alice.Must(200, "GET", "/v1.0/chats/"+chatID+"/messages?$top=50", nil).JSON(t, &msgs)
		if len(msgs.Value) != 10 {
			t.Fatalf("the sender sees %d messages, want 10", len(msgs.Value))
		}
		pat.Must(200, "GET", "/v1.0/chats/"+chatID+"/messages?$top=50", nil).JSON(t, &msgs)
		if len(msgs.Value) != 10 {
			t.Fatalf("the target sees %d previews, want 10", len(msgs.Value))
		}
	})
}

// signInReq is a password sign-in.
func signInReq(base, user, pass string) parleytest.Req {
	return parleytest.Req{Method: "POST", URL: base + "/oauth2/token", Form: url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass}}}
}

// signInFrom signs in from a given loopback source address (127.0.0.x is
// all loopback on Linux), so that tests can be several clients.
func signInFrom(t *testing.T, src, base, user, pass string) int {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	defer c.CloseIdleConnections()
	resp, err := c.PostForm(base+"/oauth2/token", url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass}})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestConcurrentSignIn: 51 sign-ins with wrong passwords at once from one
// client: exactly 5 are checked (the account's back-off for that client),
// the others answer rateLimited; and the owner, signing in from another
// address, is not locked out. The right password is not in the burst: a
// success forgives that client's failures (Throttle.Settle), so with it
// among the first five checked, up to five more could rightly be checked.
func TestConcurrentSignIn(t *testing.T) {
	eachTier(t, nil, func(t *testing.T, w *parleytest.World, nodes []*parleytest.Server) {
		contoso := w.CreateTenant("Contoso", "contoso.com")
		w.User(contoso, "alice", false)
		if st := signInFrom(t, "127.0.0.2", w.URL(), "alice@contoso.com", parleytest.Password); st != 200 {
			t.Fatalf("owner's first sign-in from 127.0.0.2: %d", st)
		}
		rs := parleytest.Burst(t, spread(nodes, 51, func(i int, base string) parleytest.Req {
			return signInReq(base, "alice@contoso.com", fmt.Sprintf("wrong password %d", i))
		}))
		got := parleytest.Statuses(rs)
		if got[400] != 5 || got[429] != 46 {
			t.Fatalf("51 sign-ins at once: %v; want 5 checked (400) and 46 rateLimited", got)
		}
		for _, src := range []string{"127.0.0.2", "127.0.0.3"} {
			if st := signInFrom(t, src, nodes[len(nodes)-1].URL(), "alice@contoso.com", parleytest.Password); st != 200 {
				t.Fatalf("the owner from %s after the attack: %d, want 200 (not locked out)", src, st)
			}
		}
	})
}

// TestConcurrentNewExternalChats: with 30 new people per hour, 45 new
// external chats at once create exactly 30.
func TestConcurrentNewExternalChats(t *testing.T) {
	eachTier(t, func(c *config.Config) { c.Safety.RequestsPerHour = 30 }, func(t *testing.T, w *parleytest.World, nodes []*parleytest.Server) {
		contoso := w.CreateTenant("Contoso", "contoso.com")
		alice := w.User(contoso, "alice", false)
		rs := parleytest.Burst(t, spread(nodes, 45, func(i int, base string) parleytest.Req {
			return parleytest.Req{Method: "POST", URL: base + "/v1.0/chats", Token: alice.Token,
				JSON: mustJSON(t, map[string]any{"chatType": "oneOnOne", "members": []any{parleytest.ByEmail(fmt.Sprintf("new%d@outlook.com", i))}})}
		}))
		got := errorCodes(rs)
		if got["201 "] != 30 || got["429 rateLimited"] != 15 {
			t.Fatalf("45 new external chats at once: %v; want 30 created, 15 rateLimited", got)
		}
	})
}

// TestConcurrentCodeMails: 30 sign-ups and 30 password resets for one
// address at once all get the same 202 and send 3 mails to the address
// (its sign-up code counts among pat's).
func TestConcurrentCodeMails(t *testing.T) {
	eachTier(t, nil, func(t *testing.T, w *parleytest.World, nodes []*parleytest.Server) {
		w.Personal("pat@gmail.com")
		signups := spread(nodes, 30, func(i int, base string) parleytest.Req {
			return parleytest.Req{Method: "POST", URL: base + "/parley/v1/signup",
				JSON: mustJSON(t, map[string]string{"email": "sam@outlook.com", "displayName": "Sam", "password": parleytest.Password})}
		})
		resets := spread(nodes, 30, func(i int, base string) parleytest.Req {
			return parleytest.Req{Method: "POST", URL: base + "/parley/v1/passwordReset", JSON: mustJSON(t, map[string]string{"email": "pat@gmail.com"})}
		})
		for _, reqs := range [][]parleytest.Req{signups, resets} {
			if got := parleytest.Statuses(parleytest.Burst(t, reqs)); got[202] != 30 {
				t.Fatalf("30 code requests at once: %v; want 30 × 202", got)
			}
		}
		w.MailTo("sam@outlook.com", 3)
		w.MailTo("pat@gmail.com", 3)
		time.Sleep(time.Second) // the outbox would have sent more by now
		if n := w.CountMailTo("sam@outlook.com"); n != 3 {
			t.Fatalf("30 sign-ups at once mailed %d codes, want 3", n)
		}
		if n := w.CountMailTo("pat@gmail.com"); n != 3 {
			t.Fatalf("a sign-up and 30 resets at once mailed %d codes, want 3", n)
		}
	})
}

// TestConcurrentCodeGuesses: a code is tried at most 5 times however many
// guesses arrive at once. 41 guesses at a reset code, the right one among
// them: 9 are counted (the address's budget of 10 code tries, one spent on
// pat's sign-up) and 32 answer rateLimited;
// at most 5 are compared, so at most one succeeds, and the code is used
// up or burnt afterwards.
func TestConcurrentCodeGuesses(t *testing.T) {
	eachTier(t, nil, func(t *testing.T, w *parleytest.World, nodes []*parleytest.Server) {
		w.Personal("pat@gmail.com")
		anon := w.Anonymous()
		anon.Must(202, "POST", "/parley/v1/passwordReset", map[string]string{"email": "pat@gmail.com"})
		code := codeIn(t, w.MailTo("pat@gmail.com", 2).Body)
		rs := parleytest.Burst(t, spread(nodes, 41, func(i int, base string) parleytest.Req {
			c := wrongCode(code, i)
			if i == 20 {
				c = code
			}
			return parleytest.Req{Method: "POST", URL: base + "/parley/v1/passwordReset/verify",
				JSON: mustJSON(t, map[string]string{"email": "pat@gmail.com", "code": c, "password": "a brand new password"})}
		}))
		got := parleytest.Statuses(rs)
		if got[429] != 32 || got[400]+got[204] != 9 || got[204] > 1 {
			t.Fatalf("41 guesses at once: %v; want 32 rateLimited, 9 counted, at most one right", got)
		}
		// Whatever happened, the code works no more.
		r := anon.Do("POST", "/parley/v1/passwordReset/verify", map[string]string{"email": "pat@gmail.com", "code": code, "password": "another new password"})
		if r.Status == 204 {
			t.Fatal("the right code worked again after 41 guesses")
		}
	})
}

// codeIn finds the 6-digit code in a mail body.
func codeIn(t *testing.T, body string) string {
	t.Helper()
	for _, f := range strings.Fields(body) {
		f = strings.Trim(f, ".,:")
		if len(f) == 6 && strings.Trim(f, "0123456789") == "" {
			return f
		}
	}
	t.Fatalf("no code in %q", body)
	return ""
}

// wrongCode is the i-th code that is not code.
func wrongCode(code string, i int) string {
	c := fmt.Sprintf("%06d", i)
	if c == code {
		c = fmt.Sprintf("%06d", 999999-i)
	}
	return c
}
