package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
	"github.com/parleychat/parley/internal/server"
)

// clock is a fake clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func signInStatus(t *testing.T, base, user, pass string) (int, string, string) {
	t.Helper()
	resp, err := http.PostForm(base+"/oauth2/token", url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b [512]byte
	n, _ := resp.Body.Read(b[:])
	return resp.StatusCode, string(b[:n]), resp.Header.Get("Retry-After")
}

// TestS10_SignIn: tokens expire and are revocable; failed sign-ins are
// throttled per account and per client address; the error for a wrong
// password is the same as for an unknown account.
func TestS10_SignIn(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	srv := server.New(parleytest.Config(t, "sqlite"), nil, nil)
	srv.Now = clk.Now
	if err := srv.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	s := &parleytest.Server{Server: srv, TB: t}
	contoso := s.CreateTenant("Contoso", "contoso.com")
	s.User(contoso, "alice", false)
	s.User(contoso, "bob", false)

	t.Run("wrong password and unknown account look the same", func(t *testing.T) {
		st1, b1, _ := signInStatus(t, s.URL(), "alice@contoso.com", "wrong password 1")
		st2, b2, _ := signInStatus(t, s.URL(), "nobody@contoso.com", "wrong password 1")
		if st1 != 400 || st1 != st2 || b1 != b2 {
			t.Fatalf("wrong password: %d %s; unknown: %d %s", st1, b1, st2, b2)
		}
	})

	t.Run("tokens expire and sign-out revokes", func(t *testing.T) {
		c := s.SignIn("alice@contoso.com", parleytest.Password)
		c.Must(200, "GET", "/v1.0/me", nil)
		clk.Add(23 * time.Hour)
		c.Must(200, "GET", "/v1.0/me", nil)
		clk.Add(2 * time.Hour)
		if r := c.Do("GET", "/v1.0/me", nil); r.Status != 401 || r.ErrorCode() != "unauthenticated" {
			t.Fatalf("expired token: %d %s", r.Status, r.Body)
		}
		c = s.SignIn("alice@contoso.com", parleytest.Password)
		c.Must(204, "POST", "/parley/v1/signout", nil)
		if r := c.Do("GET", "/v1.0/me", nil); r.Status != 401 {
			t.Fatalf("revoked token: %d %s", r.Status, r.Body)
		}
	})

	t.Run("failed sign-ins are throttled per account", func(t *testing.T) {
		for range 4 { // one failure happened above
			if st, b, _ := signInStatus(t, s.URL(), "bob@contoso.com", "nope nope"); st != 400 {
				t.Fatalf("failure: %d %s", st, b)
			}
		}
		signInStatus(t, s.URL(), "bob@contoso.com", "nope nope")
		// Now even the right password waits.
		st, b, retry := signInStatus(t, s.URL(), "bob@contoso.com", parleytest.Password)
		if st != 429 || retry == "" {
			t.Fatalf("throttled: %d %s (Retry-After %q)", st, b, retry)
		}
		if n, err := strconv.Atoi(retry); err != nil || n < 1 {
			t.Fatalf("Retry-After %q", retry)
		}
		// Another account is not affected by bob's failures.
		s.SignIn("alice@contoso.com", parleytest.Password)
		// After the wait, the right password works again.
		clk.Add(2 * time.Minute)
		s.SignIn("bob@contoso.com", parleytest.Password)
	})

	t.Run("failed sign-ins are throttled per client address", func(t *testing.T) {
		limited := false
		for i := range 40 {
			st, _, _ := signInStatus(t, s.URL(), "guess"+strconv.Itoa(i)+"@contoso.com", "nope nope")
			if st == 429 {
				limited = true
				break
			}
		}
		if !limited {
			t.Fatal("40 failures on distinct accounts from one address were never throttled")
		}
		clk.Add(10 * time.Minute)
		s.SignIn("alice@contoso.com", parleytest.Password)
	})
}

// TestS10_TokenCacheForgetsChanges: authenticated tokens are served from
// memory, and a change to the account is seen by the very next request.
func TestS10_TokenCacheForgetsChanges(t *testing.T) {
	w := parleytest.StartWorld(t, "sqlite")
	pat := w.Personal("pat@gmail.com")
	for _, v := range []bool{false, true, false} {
		pat.Must(200, "PATCH", "/parley/v1/me/settings", map[string]any{"allowChatsFromOrganizations": v})
		var got struct {
			Allow bool `json:"allowChatsFromOrganizations"`
		}
		pat.Must(200, "GET", "/parley/v1/me/settings", nil).JSON(t, &got)
		if got.Allow != v {
			t.Fatalf("after setting %v, the next request sees %v", v, got.Allow)
		}
	}
}
