package server

import (
	"context"
	"fmt"

	"github.com/parleychat/parley/internal/auth"
	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/httpapi"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
)

// DemoPassword is the password of every --demo account.
const DemoPassword = "parley-demo"

// seedDemo fills an empty store with two organisations, a personal account
// and sample chats (internal, cross-organisation, and a pending request),
// through the same services the API uses. On a store that has tenants it
// seeds nothing and lists only the demo sign-ins that still work there (a
// restart of a demo); when none does, it refuses, since a list of sign-ins
// that fail is worse than none.
func (s *Server) seedDemo(ctx context.Context) error {
	accounts := []httpapi.DemoAccount{
		{Description: "Contoso admin (admin center at /admin)", Username: "ada@contoso.com", Password: DemoPassword},
		{Description: "Contoso member", Username: "alice@contoso.com", Password: DemoPassword},
		{Description: "Contoso member", Username: "bob@contoso.com", Password: DemoPassword},
		{Description: "Fabrikam admin", Username: "fiona@fabrikam.com", Password: DemoPassword},
		{Description: "Fabrikam member", Username: "erin@fabrikam.com", Password: DemoPassword},
		{Description: "Personal account (has a pending request from Alice)", Username: "pat@gmail.com", Password: DemoPassword},
	}
	n, err := s.DB.CountTenants(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		if err := s.seed(ctx); err != nil {
			return fmt.Errorf("seed demo: %w", err)
		}
		s.demoAccounts = accounts
		return nil
	}
	for _, a := range accounts {
		ok, err := s.demoSignInWorks(ctx, a.Username)
		if err != nil {
			return err
		}
		if ok {
			s.demoAccounts = append(s.demoAccounts, a)
		}
	}
	if len(s.demoAccounts) == 0 {
		return fmt.Errorf("--demo seeds sample data only into an empty store; this one already holds %d organisation(s) "+
			"and none of the demo sign-ins works on it. Start the demo on an empty data directory "+
			"(for example --data ./demo-data), or leave out --demo", n)
	}
	return nil
}

// demoSignInWorks reports whether the demo password signs in as name.
func (s *Server) demoSignInWorks(ctx context.Context, name string) (bool, error) {
	creds, err := s.DB.FindCredentials(ctx, name)
	if err != nil {
		return false, err
	}
	for _, c := range creds {
		ok, err := auth.VerifyPassword(ctx, c.PasswordHash, DemoPassword)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// printDemo tells the person who started the server how to sign in.
func (s *Server) printDemo() {
	fmt.Fprintf(s.Out, "\nDemo mode: sign in at %s with any of these (password %q):\n", s.url, DemoPassword)
	for _, a := range s.demoAccounts {
		fmt.Fprintf(s.Out, "  %-22s %s\n", a.Username, a.Description)
	}
	fmt.Fprintln(s.Out)
}

func (s *Server) seed(ctx context.Context) error {
	na := func(name, upn string) identity.NewAccount {
		return identity.NewAccount{DisplayName: name, UPN: upn, Password: DemoPassword, Kind: identity.Member}
	}
	contoso, ada, err := s.Identity.CreateTenant(ctx, identity.NewTenant{DisplayName: "Contoso", Domains: []string{"contoso.com"}, Admin: na("Ada Admin", "ada@contoso.com")})
	if err != nil {
		return err
	}
	fabrikam, _, err := s.Identity.CreateTenant(ctx, identity.NewTenant{DisplayName: "Fabrikam", Domains: []string{"fabrikam.com"}, Admin: na("Fiona Admin", "fiona@fabrikam.com")})
	if err != nil {
		return err
	}
	alice, err := s.Identity.CreateUserInTenant(ctx, &contoso, na("Alice Kim", "alice@contoso.com"))
	if err != nil {
		return err
	}
	bob, err := s.Identity.CreateUserInTenant(ctx, &contoso, na("Bob Stone", "bob@contoso.com"))
	if err != nil {
		return err
	}
	erin, err := s.Identity.CreateUserInTenant(ctx, &fabrikam, na("Erin Diaz", "erin@fabrikam.com"))
	if err != nil {
		return err
	}
	// Pat signs up like anyone: the code is read back from the store's
	// pending sign-up, which only the seed can do.
	pat, err := s.demoPersonal(ctx, "pat@gmail.com", "Pat Lee")
	if err != nil {
		return err
	}
	send := func(u *identity.User, c chat.ID, text string) error {
		_, err := s.Chats.Send(ctx, u, c, chat.Body{Content: text})
		return err
	}
	// Internal 1:1 and group chat.
	c1, _, err := s.Chats.Create(ctx, &alice, chat.NewChat{Type: chat.OneOnOne, Members: []chat.NewMember{{UserID: bob.ID}}})
	if err != nil {
		return err
	}
	for _, m := range []struct {
		u    *identity.User
		text string
	}{{&alice, "Morning Bob! Did the Fabrikam contract come back?"}, {&bob, "Signed this morning. I'll loop Erin in."}} {
		if err := send(m.u, c1.ID, m.text); err != nil {
			return err
		}
	}
	g, _, err := s.Chats.Create(ctx, &ada, chat.NewChat{Type: chat.Group, Topic: "Contoso team", Members: []chat.NewMember{{UserID: alice.ID}, {UserID: bob.ID}}})
	if err != nil {
		return err
	}
	if err := send(&ada, g.ID, "Welcome to Parley! Chats with people outside Contoso show an External badge."); err != nil {
		return err
	}
	// Cross-organisation chat, accepted.
	c2, _, err := s.Chats.Create(ctx, &bob, chat.NewChat{Type: chat.OneOnOne, Members: []chat.NewMember{{Email: "erin@fabrikam.com"}}})
	if err != nil {
		return err
	}
	if err := send(&bob, c2.ID, "Hi Erin, Bob from Contoso here: thanks for signing!"); err != nil {
		return err
	}
	if err := s.Requests.Answer(ctx, &erin, c2.ID, msgrequest.Accept); err != nil {
		return err
	}
	if err := send(&erin, c2.ID, "Happy to! Let's plan the kickoff."); err != nil {
		return err
	}
	// A pending request from Alice to Pat's personal account.
	c3, _, err := s.Chats.Create(ctx, &alice, chat.NewChat{Type: chat.OneOnOne, Members: []chat.NewMember{{Email: "pat@gmail.com"}}})
	if err != nil {
		return err
	}
	if err := send(&alice, c3.ID, "Hi Pat, it's Alice from Contoso. Are you free to talk about the design job?"); err != nil {
		return err
	}
	_ = pat // Pat answers the request in the web client.
	return nil
}

// demoPersonal creates a personal account through sign-up and verify.
func (s *Server) demoPersonal(ctx context.Context, email, name string) (identity.User, error) {
	code, err := s.Invites.SignUpWithCode(ctx, email, name, DemoPassword)
	if err != nil {
		return identity.User{}, err
	}
	return s.Invites.Verify(ctx, email, "", code, "")
}
