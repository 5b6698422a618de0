package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestDrainDelay: Shutdown turns /readyz to 503 at once, while the node
// goes on serving everything else, on new connections too, for
// --drain-delay (here an hour, so only the context can end it); ending
// the context ends the delay, and then the node stops and refuses
// connections. Both stores.
func TestDrainDelay(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, st string) {
		t.Parallel()
		cfg := parleytest.Config(t, st)
		cfg.Ops.DrainDelay = time.Hour
		s := parleytest.Start(t, cfg)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)
		chat := alice.OneOnOne(bob.UserID)
		// Every request of the test on a connection of its own: the
		// listener must still accept, not only finish kept-alive ones.
		fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		alice.HTTP, bob.HTTP = fresh, fresh

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stopped := make(chan error, 1)
		go func() { stopped <- s.Shutdown(ctx) }()
		eventually(t, "/readyz 503 after Shutdown began", func() bool {
			code, _ := get(t, s.URL()+"/readyz")
			return code == http.StatusServiceUnavailable
		})

		code, body := get(t, s.URL()+"/readyz")
		if code != 503 || errorCode(t, body) != "serviceNotAvailable" || !strings.Contains(body, "shutting down") {
			t.Fatalf("readyz during the drain delay: got %d %s, want 503 serviceNotAvailable saying it is shutting down", code, body)
		}
		if code, _ := get(t, s.URL()+"/healthz"); code != 200 {
			t.Errorf("healthz during the drain delay: got %d, want 200", code)
		}
		alice.Send(chat, "sent while the load balancer notices")
		if n := len(bob.Must(200, "GET", "/v1.0/chats/"+chat+"/messages", nil).Map(t)["value"].([]any)); n != 1 {
			t.Errorf("messages read during the drain delay: got %d, want 1", n)
		}
		if st := signInVia(t, s.URL(), "bob@contoso.com", parleytest.Password, nil); st != 200 {
			t.Errorf("sign-in during the drain delay: got %d, want 200", st)
		}
		select {
		case err := <-stopped:
			t.Fatalf("Shutdown returned during an hour's drain delay: %v", err)
		default:
		}

		cancel() // as a second Ctrl-C
		if err := <-stopped; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if resp, err := fresh.Get(s.URL() + "/healthz"); err == nil {
			resp.Body.Close()
			t.Fatalf("after Shutdown: /healthz answered %d, want the connection refused", resp.StatusCode)
		}
	})
}
