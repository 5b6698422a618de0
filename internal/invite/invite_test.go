package invite_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/invite"
	"github.com/parleychat/parley/internal/outbox"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// clock is a fake clock moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const pw = "correct-horse-battery"

// fixture is the invite service over a fresh store, its outbox left
// unsent so the tests read what would go out, and a tenant with a member.
type fixture struct {
	svc     *invite.Service
	db      *store.DB
	clock   *clock
	ada     identity.User
	changed int
}

func newFixture(t *testing.T, d store.Dialect) *fixture {
	t.Helper()
	db := storetest.Open(t, d)
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	f := &fixture{db: db, clock: c}
	f.svc = &invite.Service{Store: db, Limits: db, Outbox: &outbox.Service{Store: db, Now: c.Now}, Now: c.Now, PhoneRegion: "US",
		Hash:            func(_ context.Context, p string) (string, error) { return "test:" + p, nil },
		PublicURL:       func() string { return "https://parley.example" },
		PasswordChanged: func() { f.changed++ }}
	tn := identity.Tenant{ID: identity.NewTenantID(), DisplayName: "Contoso", Domains: []string{"contoso.com"}, CreatedAt: c.Now()}
	f.ada = identity.User{ID: identity.NewUserID(), TenantID: tn.ID, Kind: identity.Member, Role: identity.RoleAdmin, DisplayName: "Ada",
		UPN: "ada@contoso.com", Mail: "ada@contoso.com", CreatedAt: c.Now()}
	if err := db.CreateTenant(t.Context(), tn, f.ada, "test:"+pw); err != nil {
		t.Fatal(err)
	}
	return f
}

// sent returns the pending outbox messages to addr, oldest first.
func (f *fixture) sent(t *testing.T, addr string) []outbox.Message {
	t.Helper()
	ms, err := f.db.FindDueOutbox(t.Context(), f.clock.Now().Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []outbox.Message
	for _, m := range ms {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

func badCode(err error) bool {
	return errcode.Is(err, errcode.BadRequest) && strings.Contains(errcode.Message(err), "wrong or has expired")
}

// TestSignUp: a code goes to a new address and makes a personal account
// owning it, once; a wrong code is refused; an address with an account or
// in an organisation's domain gets the same answer, a mail saying so, and
// no code that works. Both stores.
func TestSignUp(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		ctx := t.Context()
		if err := f.svc.SignUp(ctx, "pat@example.net", "", "Pat", pw, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		ms := f.sent(t, "pat@example.net")
		if len(ms) != 1 || ms[0].Channel != outbox.Email {
			t.Fatalf("mails to pat: %+v, want one", ms)
		}
		code := sixDigits.FindString(ms[0].Subject)
		if code == "" || !strings.Contains(ms[0].Body, code) {
			t.Fatalf("mail %q / %q carries no code", ms[0].Subject, ms[0].Body)
		}
		wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)
		if _, err := f.svc.Verify(ctx, "pat@example.net", "", wrong, "192.0.2.1"); !badCode(err) {
			t.Fatalf("a wrong code: %v", err)
		}
		u, err := f.svc.Verify(ctx, "PAT@example.net", "", " "+code+" ", "192.0.2.1")
		if err != nil {
			t.Fatalf("the right code: %v", err)
		}
		if u.Kind != identity.Personal || u.UPN != "pat@example.net" || u.Mail != "pat@example.net" || u.DisplayName != "Pat" || u.TenantID != "" {
			t.Errorf("account %+v", u)
		}
		if _, err := f.svc.Verify(ctx, "pat@example.net", "", code, "192.0.2.1"); !badCode(err) {
			t.Fatalf("the code again: %v", err)
		}

		for addr, says := range map[string]string{"pat@example.net": "you have one already", "bob@contoso.com": "belongs to an organisation"} {
			before := map[string]bool{}
			for _, m := range f.sent(t, addr) {
				before[m.ID] = true
			}
			code, err := f.svc.SignUpWithCode(ctx, addr, "Someone", pw)
			if err != nil {
				t.Fatalf("sign-up for %s: %v, want the same answer as for a new address", addr, err)
			}
			var mails []outbox.Message
			for _, m := range f.sent(t, addr) {
				if !before[m.ID] {
					mails = append(mails, m)
				}
			}
			if len(mails) != 1 || !strings.Contains(mails[0].Body, says) || sixDigits.MatchString(mails[0].Subject+mails[0].Body) {
				t.Errorf("mails to %s: %+v, want one saying %q and carrying no code", addr, mails, says)
			}
			if _, err := f.svc.Verify(ctx, addr, "", code, "192.0.2.2"); !badCode(err) {
				t.Errorf("verify %s with the code made: %v, want the bad-code answer", addr, err)
			}
		}

		refused := []struct {
			name                        string
			email, phone, display, pass string
		}{
			{"no address", "", "", "X", pw},
			{"both", "x@example.net", "+14155550100", "X", pw},
			{"not an address", "x", "", "X", pw},
			{"no name", "x@example.net", "", " ", pw},
			{"short password", "x@example.net", "", "X", "short"},
		}
		for _, tc := range refused {
			if err := f.svc.SignUp(ctx, tc.email, tc.phone, tc.display, tc.pass, "192.0.2.1"); !errcode.Is(err, errcode.BadRequest) {
				t.Errorf("%s: %v, want badRequest", tc.name, err)
			}
		}
	})
}

// TestCodeLimits: a code is burnt after MaxCodeAttempts wrong tries even
// for the right code, expires after CodeTTL, and an address gets at most
// 3 code mails at once.
func TestCodeLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, store.SQLite)
	ctx := t.Context()
	code, err := f.svc.SignUpWithCode(ctx, "pat@example.net", "Pat", pw)
	if err != nil {
		t.Fatal(err)
	}
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)
	for range invite.MaxCodeAttempts {
		if _, err := f.svc.Verify(ctx, "pat@example.net", "", wrong, "192.0.2.1"); !badCode(err) {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Verify(ctx, "pat@example.net", "", code, "192.0.2.1"); !badCode(err) {
		t.Fatalf("the right code after %d wrong ones: %v, want refused", invite.MaxCodeAttempts, err)
	}

	code, err = f.svc.SignUpWithCode(ctx, "quinn@example.net", "Quinn", pw)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(invite.CodeTTL)
	if _, err := f.svc.Verify(ctx, "quinn@example.net", "", code, "192.0.2.1"); !badCode(err) {
		t.Fatalf("an expired code: %v, want refused", err)
	}

	for range 5 {
		if err := f.svc.SignUp(ctx, "rae@example.net", "", "Rae", pw, "192.0.2.9"); err != nil {
			t.Fatalf("a sign-up over the mail limit answers as any other: %v", err)
		}
	}
	if n := len(f.sent(t, "rae@example.net")); n != 3 {
		t.Errorf("%d code mails for 5 sign-ups at once, want 3", n)
	}
}

// TestInvitation: an invitation's link (by e-mail or SMS) makes a personal
// account owning the address, once; a used or expired link is notFound.
// Both stores.
func TestInvitation(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		ctx := t.Context()
		invite1 := func(addr string) (token string, msg outbox.Message) {
			t.Helper()
			now := f.clock.Now()
			c := chat.Chat{ID: chat.NewID(), Type: chat.OneOnOne, TenantID: f.ada.TenantID, CreatedBy: f.ada.ID, CreatedAt: now, UpdatedAt: now, External: true}
			m := chat.Member{ID: chat.NewMemberID(), ChatID: c.ID, State: chat.Pending, Address: addr, RequestFrom: f.ada.ID, AddedBy: f.ada.ID, JoinedAt: now, VisibleFrom: now}
			inv, err := f.svc.Prepare(ctx, &f.ada, &c, &m)
			if err != nil {
				t.Fatal(err)
			}
			ms := []chat.Member{{ID: chat.NewMemberID(), ChatID: c.ID, UserID: f.ada.ID, State: chat.Accepted, AddedBy: f.ada.ID, JoinedAt: now, VisibleFrom: now}, m}
			if _, err := f.db.CreateChat(ctx, c, ms, nil, []chat.Invitation{inv}); err != nil {
				t.Fatal(err)
			}
			link := regexp.MustCompile(`https://parley\.example/join/([A-Za-z0-9_-]+)`).FindStringSubmatch(inv.Message.Body)
			if link == nil || inv.ExpiresAt != now.Add(invite.InvitationTTL) {
				t.Fatalf("invitation %+v: want a join link expiring in 14 days", inv)
			}
			return link[1], inv.Message
		}

		tok, msg := invite1("pat@example.net")
		if msg.Channel != outbox.Email || !strings.Contains(msg.Subject, "Ada") || !strings.Contains(msg.Body, "ada@contoso.com") {
			t.Errorf("invitation mail %+v: want an e-mail naming Ada", msg)
		}
		inv, inviter, err := f.svc.Invitation(ctx, tok)
		if err != nil || inviter.ID != f.ada.ID || inv.Address != "pat@example.net" {
			t.Fatalf("Invitation: %+v, %v, %v", inv, inviter.ID, err)
		}
		u, err := f.svc.Redeem(ctx, tok, "Pat", pw)
		if err != nil || u.Kind != identity.Personal || u.Mail != "pat@example.net" {
			t.Fatalf("Redeem: %+v, %v", u, err)
		}
		if _, err := f.svc.Redeem(ctx, tok, "Pat again", pw); !errcode.Is(err, errcode.NotFound) {
			t.Errorf("a used link: %v, want notFound", err)
		}
		if _, err := f.svc.Redeem(ctx, "no-such-token", "X", pw); !errcode.Is(err, errcode.NotFound) {
			t.Errorf("an unknown link: %v, want notFound", err)
		}

		tok, msg = invite1("+14155550100") // chat hands over the address normalised
		if msg.Channel != outbox.SMS || !strings.Contains(msg.Body, "/join/"+tok) {
			t.Errorf("phone invitation %+v: want an SMS with the link", msg)
		}
		if _, err := f.svc.Redeem(ctx, tok, " ", pw); !errcode.Is(err, errcode.BadRequest) {
			t.Errorf("no name: %v, want badRequest", err)
		}
		f.clock.Add(invite.InvitationTTL)
		if _, err := f.svc.Redeem(ctx, tok, "Phone", pw); !errcode.Is(err, errcode.NotFound) {
			t.Errorf("an expired link: %v, want notFound", err)
		}
	})
}

// TestPasswordReset: a reset code goes only to an address that signs in
// (the answer is the same either way), sets the password once and tells
// the token caches; a wrong code and an address without an account fail
// alike. Both stores.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d)
		ctx := t.Context()
		for _, addr := range []string{"ada@contoso.com", "nobody@contoso.com"} {
			if err := f.svc.RequestReset(ctx, addr, "", "192.0.2.1"); err != nil {
				t.Fatalf("reset for %s: %v", addr, err)
			}
		}
		if ms := f.sent(t, "nobody@contoso.com"); len(ms) != 0 {
			t.Errorf("a reset mail to an address without an account: %+v", ms)
		}
		ms := f.sent(t, "ada@contoso.com")
		if len(ms) != 1 {
			t.Fatalf("reset mails to ada: %d, want 1", len(ms))
		}
		code := sixDigits.FindString(ms[0].Subject)
		wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)
		if err := f.svc.ResetPassword(ctx, "ada@contoso.com", "", wrong, "new-password-1", "192.0.2.1"); !badCode(err) {
			t.Fatalf("a wrong code: %v", err)
		}
		if err := f.svc.ResetPassword(ctx, "nobody@contoso.com", "", code, "new-password-1", "192.0.2.1"); !badCode(err) {
			t.Fatalf("an address without an account: %v", err)
		}
		if err := f.svc.ResetPassword(ctx, "ada@contoso.com", "", code, "short", "192.0.2.1"); !errcode.Is(err, errcode.BadRequest) {
			t.Fatalf("a short password: %v", err)
		}
		if err := f.svc.ResetPassword(ctx, "ada@contoso.com", "", code, "new-password-1", "192.0.2.1"); err != nil {
			t.Fatalf("the right code: %v", err)
		}
		creds, err := f.db.FindCredentials(ctx, "ada@contoso.com")
		if err != nil || len(creds) != 1 || creds[0].PasswordHash != "test:new-password-1" {
			t.Fatalf("credentials after the reset: %+v, %v", creds, err)
		}
		if f.changed != 1 {
			t.Errorf("PasswordChanged told %d times, want 1", f.changed)
		}
		if err := f.svc.ResetPassword(ctx, "ada@contoso.com", "", code, "new-password-2", "192.0.2.1"); !badCode(err) {
			t.Fatalf("the code again: %v", err)
		}
	})
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
