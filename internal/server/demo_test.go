package server_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
	"github.com/parleychat/parley/internal/server"
)

// TestDemo: --demo starts with two organisations, a personal account and
// sample chats (internal, cross-organisation, a pending request), prints
// the sign-ins and lists them for the sign-in page; a restart on the same
// data does not seed twice.
func TestDemo(t *testing.T) {
	cfg := parleytest.Config(t, "sqlite")
	cfg.Demo = true
	for round := range 2 {
		var out bytes.Buffer
		srv := server.New(cfg, nil, &out)
		if err := srv.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		s := &parleytest.Server{Server: srv, TB: t}
		for _, want := range []string{"Demo mode", "alice@contoso.com", "pat@gmail.com", server.DemoPassword} {
			if !strings.Contains(out.String(), want) {
				t.Fatalf("round %d: output lacks %q:\n%s", round, want, out.String())
			}
		}
		if strings.Contains(out.String(), "setup token") {
			t.Fatalf("demo server asks for setup:\n%s", out.String())
		}
		var demo struct {
			Value []struct{ Username, Password string } `json:"value"`
		}
		s.Anonymous().Must(200, "GET", "/parley/v1/demo", nil).JSON(t, &demo)
		if len(demo.Value) != 6 {
			t.Fatalf("demo accounts: %+v", demo.Value)
		}
		counts := map[string]int{}
		for _, a := range demo.Value {
			c := s.SignIn(a.Username, a.Password)
			var p struct {
				Value []map[string]any `json:"value"`
			}
			c.Must(200, "GET", "/v1.0/me/chats", nil).JSON(t, &p)
			counts[a.Username] = len(p.Value)
		}
		if counts["alice@contoso.com"] != 3 || counts["bob@contoso.com"] != 3 || counts["erin@fabrikam.com"] != 1 || counts["pat@gmail.com"] != 0 {
			t.Fatalf("round %d: chats per user %v", round, counts)
		}
		pat := s.SignIn("pat@gmail.com", server.DemoPassword)
		var rq struct {
			Value []struct {
				OrganizationName string           `json:"organizationName"`
				Previews         []map[string]any `json:"previews"`
			} `json:"value"`
		}
		pat.Must(200, "GET", "/parley/v1/me/requests", nil).JSON(t, &rq)
		if len(rq.Value) != 1 || rq.Value[0].OrganizationName != "Contoso" || len(rq.Value[0].Previews) != 1 {
			t.Fatalf("pat's requests: %+v", rq.Value)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Without --demo nothing is listed.
	plain := parleytest.StartStore(t, "sqlite")
	var demo struct {
		Value []any `json:"value"`
	}
	plain.Anonymous().Must(200, "GET", "/parley/v1/demo", nil).JSON(t, &demo)
	if len(demo.Value) != 0 {
		t.Fatalf("demo accounts without --demo: %v", demo.Value)
	}
}
