package server_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/mail/mailtest"
	"github.com/parleychat/parley/internal/parleytest"
)

// TestS6_InviteByEmail: an address no account owns gets a chat at once, a
// pending member showing the typed address, and an invitation mail through
// real SMTP; messages sent before registration wait and count toward the
// 10; redeeming the single-use link makes a personal account that sees the
// chat as a request (docs/rules.md §5, §6).
func TestS6_InviteByEmail(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartWorld(t, store)
		contoso := w.CreateTenant("Contoso", "contoso.com")
		alice := w.User(contoso, "alice", false)
		const addr = "newbie@outlook.com"

		r := alice.ChatWith(parleytest.ByEmail(addr))
		if r.Status != http.StatusCreated {
			t.Fatalf("create chat by email: got %d %s, want 201", r.Status, r.Body)
		}
		chatID := r.Map(t)["id"].(string)

		m := otherMember(t, alice, chatID)
		for k, want := range map[string]any{"displayName": addr, "email": addr, "requestState": "pending", "userIdentityType": "emailUser", "userId": nil} {
			if m[k] != want {
				t.Errorf("pending member %s: got %v, want %v (member %v)", k, m[k], want, m)
			}
		}

		sent := []string{"hello 1", "hello 2", "hello 3"}
		for _, s := range sent {
			alice.Send(chatID, s)
		}

		msg := w.MailTo(addr, 1)
		tok := parleytest.JoinToken(t, msg.Body)
		if link := w.PublicURL() + "/join/" + tok; !strings.Contains(msg.Body, link) {
			t.Errorf("invitation mail does not contain %s:\n%s", link, msg.Body)
		}
		if !strings.Contains(msg.Body+msg.Subject, "Alice") {
			t.Errorf("invitation mail does not say who invites: %q\n%s", msg.Subject, msg.Body)
		}

		inv := w.Anonymous().Must(http.StatusOK, "GET", "/parley/v1/invitations/"+tok, nil).Map(t)
		by, _ := inv["invitedBy"].(map[string]any)
		if by["displayName"] != "Alice" || by["mail"] != "alice@contoso.com" || inv["address"] != addr {
			t.Errorf("invitation = %v, want invited by Alice <alice@contoso.com> for %s", inv, addr)
		}

		// Bad input to redeem changes nothing: the link still works after.
		for _, bad := range []map[string]string{{"displayName": "Newbie", "password": "short"}, {"displayName": " ", "password": parleytest.Password}} {
			if r := w.Anonymous().Do("POST", "/parley/v1/invitations/"+tok+"/redeem", bad); r.Status != http.StatusBadRequest {
				t.Errorf("redeem with %v: got %d %s, want 400", bad, r.Status, r.Body)
			}
		}
		if r := w.Anonymous().Do("POST", "/parley/v1/invitations/not-a-token/redeem", map[string]string{"displayName": "X", "password": parleytest.Password}); r.Status != http.StatusNotFound {
			t.Errorf("redeem an unknown token: got %d %s, want 404", r.Status, r.Body)
		}
		redeem := map[string]string{"displayName": "Newbie", "password": parleytest.Password}
		u := w.Anonymous().Must(http.StatusCreated, "POST", "/parley/v1/invitations/"+tok+"/redeem", redeem).Map(t)
		if u["userType"] != "Personal" || u["mail"] != addr || u["displayName"] != "Newbie" || u["tenantId"] != nil {
			t.Errorf("redeemed user = %v, want a personal account owning %s", u, addr)
		}
		again := w.Anonymous().Do("POST", "/parley/v1/invitations/"+tok+"/redeem", map[string]string{"displayName": "Other", "password": parleytest.Password})
		if again.Status != http.StatusNotFound || again.ErrorCode() != "notFound" {
			t.Errorf("second redeem: got %d %s, want 404 notFound", again.Status, again.Body)
		}
		if r := w.Anonymous().Do("GET", "/parley/v1/invitations/"+tok, nil); r.Status != http.StatusNotFound {
			t.Errorf("GET used invitation: got %d %s, want 404", r.Status, r.Body)
		}

		newbie := w.SignIn(addr, parleytest.Password)
		reqs := mustRequests(t, newbie)
		rq, ok := findRequest(reqs, chatID)
		if !ok {
			t.Fatalf("requests of the new account = %+v, want the chat %s", reqs, chatID)
		}
		from := rq.From.User
		if from["id"] != alice.UserID || from["displayName"] != "Alice" || from["isExternal"] != true || from["tenantId"] != contoso.ID {
			t.Errorf("request from = %v, want Alice, external, tenant %s", from, contoso.ID)
		}
		if rq.OrganizationName == nil || *rq.OrganizationName != "Contoso" || !rq.IsExternal {
			t.Errorf("request organizationName = %v, isExternal = %v; want Contoso, true", rq.OrganizationName, rq.IsExternal)
		}
		if got := rq.previewTexts(); !sameSet(got, sent) {
			t.Errorf("request previews = %q, want %q", got, sent)
		}

		// The chat is keyed by the new account now: creating it again finds it.
		if r := alice.ChatWith(parleytest.ByEmail(addr)); r.Status != http.StatusOK || r.Map(t)["id"] != chatID {
			t.Errorf("create the chat again after registration: got %d %s, want 200 with %s", r.Status, r.Body, chatID)
		}
		// The three messages before registration count toward the 10.
		for i := range 7 {
			alice.Send(chatID, fmt.Sprintf("after %d", i+1))
		}
		if r := alice.Do("POST", "/v1.0/chats/"+chatID+"/messages", textBody("one too many")); r.Status != http.StatusForbidden || r.ErrorCode() != "messageRequestLimitReached" {
			t.Errorf("11th message: got %d %s, want 403 messageRequestLimitReached", r.Status, r.Body)
		}
		if r := newbie.Do("POST", "/v1.0/chats/"+chatID+"/messages", textBody("reply before accepting")); r.Status != http.StatusForbidden {
			t.Errorf("reply before accepting: got %d %s, want 403", r.Status, r.Body)
		}

		newbie.Must(http.StatusNoContent, "POST", "/parley/v1/me/requests/"+chatID+"/accept", nil)
		alice.Send(chatID, "welcome")
		newbie.Send(chatID, "thanks")
		if got := texts(t, alice, chatID); len(got) < 2 || got[0] != "thanks" || got[1] != "welcome" {
			t.Errorf("messages after accepting = %q, want thanks, welcome first", got)
		}
		if _, ok := findRequest(mustRequests(t, newbie), chatID); ok {
			t.Errorf("the accepted request is still listed")
		}
	})
}

// TestS6_InviteByPhone: a phone number in any common format is stored as
// E.164 and gets an invitation SMS through the Twilio-shaped provider;
// redeeming makes a personal account owning the number. Invalid numbers
// are refused and change nothing.
func TestS6_InviteByPhone(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartWorld(t, store)
		contoso := w.CreateTenant("Contoso", "contoso.com")
		alice := w.User(contoso, "alice", false)

		t.Run("national format in the default region", func(t *testing.T) {
			const e164 = "+14155550142"
			r := alice.ChatWith(parleytest.ByPhone("(415) 555-0142"))
			if r.Status != http.StatusCreated {
				t.Fatalf("create chat by phone: got %d %s, want 201", r.Status, r.Body)
			}
			chatID := r.Map(t)["id"].(string)
			m := otherMember(t, alice, chatID)
			if m["displayName"] != e164 || m["userIdentityType"] != "phoneUser" || m["requestState"] != "pending" || m["userId"] != nil {
				t.Errorf("pending member = %v, want %s, phoneUser, pending, no userId", m, e164)
			}
			body := w.SMSTo(e164, 1)
			tok := parleytest.JoinToken(t, body)
			if !strings.Contains(body, w.PublicURL()+"/join/"+tok) {
				t.Errorf("invitation SMS %q does not contain the link under %s", body, w.PublicURL())
			}
			u := w.Anonymous().Must(http.StatusCreated, "POST", "/parley/v1/invitations/"+tok+"/redeem",
				map[string]string{"displayName": "Phoebe", "password": parleytest.Password}).Map(t)
			if u["userType"] != "Personal" {
				t.Errorf("redeemed user = %v, want userType Personal", u)
			}
			phoebe := w.SignIn(e164, parleytest.Password)
			me := phoebe.Must(http.StatusOK, "GET", "/v1.0/me", nil).Map(t)
			if me["mobilePhone"] != e164 || me["userType"] != "Personal" {
				t.Errorf("GET /v1.0/me = %v, want mobilePhone %s", me, e164)
			}
			if _, ok := findRequest(mustRequests(t, phoebe), chatID); !ok {
				t.Errorf("the invitation's chat is not in the new account's requests")
			}
		})

		t.Run("international format of another region", func(t *testing.T) {
			r := alice.ChatWith(parleytest.ByPhone("+49 151 23456789"))
			if r.Status != http.StatusCreated {
				t.Fatalf("create chat by phone: got %d %s, want 201", r.Status, r.Body)
			}
			parleytest.JoinToken(t, w.SMSTo("+4915123456789", 1))
		})

		t.Run("invalid numbers change nothing", func(t *testing.T) {
			before := chatIDs(t, alice)
			smsBefore := len(w.SMS.Messages())
			for _, n := range []string{"12", "abc", "+1 000"} {
				r := alice.ChatWith(parleytest.ByPhone(n))
				if r.Status != http.StatusBadRequest || r.ErrorCode() != "badRequest" {
					t.Errorf("phone %q: got %d %s, want 400 badRequest", n, r.Status, r.Body)
				}
			}
			if after := chatIDs(t, alice); !slices.Equal(after, before) {
				t.Errorf("chat list changed: got %v, want %v", after, before)
			}
			if n := len(w.SMS.Messages()); n != smsBefore {
				t.Errorf("%d SMS sent for invalid numbers", n-smsBefore)
			}
		})
	})
}

// TestS6_InvitationHandOver: every chat waiting for an address, from
// managed and personal senders, 1:1 and group, arrives as a request when
// the address gets an account, also by a sign-up code instead of the link;
// the links then make no second account (docs/rules.md §6).
func TestS6_InvitationHandOver(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartWorld(t, store)
		contoso := w.CreateTenant("Contoso", "contoso.com")
		alice := w.User(contoso, "alice", false)
		fabrikam := w.CreateTenant("Fabrikam", "fabrikam.com")
		frank := w.User(fabrikam, "frank", false)
		pat := w.Personal("pat@gmail.com")
		const addr = "popular@outlook.com"

		chats := map[string]string{} // chat id → the one message sent in it
		for _, c := range []struct {
			from *parleytest.Client
			text string
		}{{alice, "from alice"}, {frank, "from frank"}, {pat, "from pat"}} {
			r := c.from.ChatWith(parleytest.ByEmail(addr))
			if r.Status != http.StatusCreated {
				t.Fatalf("%s: create: got %d %s, want 201", c.text, r.Status, r.Body)
			}
			id := r.Map(t)["id"].(string)
			c.from.Send(id, c.text)
			chats[id] = c.text
		}
		member := parleytest.ByEmail(addr)
		member["roles"] = []string{}
		group := alice.Must(http.StatusCreated, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Plans", "members": []any{member}}).Map(t)["id"].(string)
		alice.Send(group, "group hello")
		chats[group] = "group hello"

		var tokens []string
		for i := range len(chats) {
			tokens = append(tokens, parleytest.JoinToken(t, w.MailTo(addr, i+1).Body))
		}
		if len(slices.Compact(slices.Sorted(slices.Values(tokens)))) != len(chats) {
			t.Errorf("invitation tokens are not distinct: %q", tokens)
		}

		// The invitee signs up with a code instead of following a link.
		invitee := w.Personal(addr)
		reqs := mustRequests(t, invitee)
		for id, text := range chats {
			rq, ok := findRequest(reqs, id)
			if !ok {
				t.Errorf("chat %q is not in the requests %+v", text, reqs)
				continue
			}
			if got := rq.previewTexts(); !slices.Equal(got, []string{text}) {
				t.Errorf("chat %q: previews %q", text, got)
			}
			if !rq.IsExternal {
				t.Errorf("chat %q: request not marked external", text)
			}
			switch text {
			case "from frank":
				if rq.OrganizationName == nil || *rq.OrganizationName != "Fabrikam" {
					t.Errorf("request from frank: organizationName %v, want Fabrikam", rq.OrganizationName)
				}
			case "from pat":
				if rq.OrganizationName != nil {
					t.Errorf("request from a personal account: organizationName %q, want null", *rq.OrganizationName)
				}
			}
		}
		for _, tok := range tokens {
			r := w.Anonymous().Do("POST", "/parley/v1/invitations/"+tok+"/redeem", map[string]string{"displayName": "Second", "password": "another long password"})
			if r.Status != http.StatusNotFound && r.Status != http.StatusConflict {
				t.Errorf("redeem after the address got an account: got %d %s, want 404 or 409", r.Status, r.Body)
			}
		}
		if me := w.SignIn(addr, parleytest.Password); me.UserID != invitee.UserID {
			t.Errorf("signing in as %s gives account %s, want %s", addr, me.UserID, invitee.UserID)
		}

		// Accepting a group request lets the invitee talk there.
		invitee.Must(http.StatusNoContent, "POST", "/parley/v1/me/requests/"+group+"/accept", nil)
		invitee.Send(group, "hi all")
		if got := texts(t, alice, group); len(got) == 0 || got[0] != "hi all" {
			t.Errorf("group messages = %q, want the invitee's reply first", got)
		}
	})
}

var signupCodeRE = regexp.MustCompile(`\b\d{6}\b`)

// TestS6_SignUp: personal sign-up answers the same whether the address is
// new, has a personal account or belongs to an organisation; only a new
// address gets a 6-digit code, which is tried at most 5 times (docs/rules.md §6
// anti-enumeration, docs/rules.md §10).
func TestS6_SignUp(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartWorld(t, store)
		w.CreateTenant("Contoso", "contoso.com")
		w.Personal("taken@example.org")
		anon := w.Anonymous()
		signup := func(email string) *parleytest.Response {
			return anon.Do("POST", "/parley/v1/signup", map[string]string{"email": email, "displayName": "Sam", "password": parleytest.Password})
		}
		verify := func(email, code string) *parleytest.Response {
			return anon.Do("POST", "/parley/v1/signup/verify", map[string]string{"email": email, "code": code})
		}

		const fresh, taken, org = "fresh@example.org", "taken@example.org", "someone@contoso.com"
		var first *parleytest.Response
		for _, a := range []string{fresh, taken, org} {
			r := signup(a)
			if r.Status != http.StatusAccepted {
				t.Fatalf("sign-up %s: got %d %s, want 202", a, r.Status, r.Body)
			}
			if first == nil {
				first = r
			} else if string(r.Body) != string(first.Body) {
				t.Errorf("sign-up %s: body %s differs from %s's %s", a, r.Body, fresh, first.Body)
			}
		}

		code := signupCodeRE.FindString(w.MailTo(fresh, 1).Body)
		if code == "" {
			t.Fatalf("no 6-digit code in the sign-up mail to %s", fresh)
		}
		// The taken and the organisation's address get a mail, but no code.
		for a, n := range map[string]int{taken: 2, org: 1} { // taken had its own sign-up mail first
			m := w.MailTo(a, n)
			if c := signupCodeRE.FindString(m.Subject + " " + m.Body); c != "" {
				t.Errorf("mail to %s holds a code %s: %s", a, c, m.Body)
			}
		}

		wrong := otherCode(code)
		bad := verify(fresh, wrong)
		if bad.Status != http.StatusBadRequest || bad.ErrorCode() != "badRequest" {
			t.Fatalf("wrong code: got %d %s, want 400 badRequest", bad.Status, bad.Body)
		}
		for _, a := range []string{taken, org} {
			r := verify(a, wrong)
			if r.Status != http.StatusBadRequest || string(r.Body) != string(bad.Body) {
				t.Errorf("verify %s: got %d %s, want 400 %s as for a wrong code", a, r.Status, r.Body, bad.Body)
			}
		}
		u := verify(fresh, code)
		if u.Status != http.StatusCreated {
			t.Fatalf("right code: got %d %s, want 201", u.Status, u.Body)
		}
		if m := u.Map(t); m["userType"] != "Personal" || m["mail"] != fresh {
			t.Errorf("new user = %v, want a personal account owning %s", m, fresh)
		}
		w.SignIn(fresh, parleytest.Password)
		// The code is spent.
		if r := verify(fresh, code); r.Status != http.StatusBadRequest {
			t.Errorf("reused code: got %d %s, want 400", r.Status, r.Body)
		}

		t.Run("five wrong codes spend the code", func(t *testing.T) {
			const a = "tries@example.org"
			if r := signup(a); r.Status != http.StatusAccepted {
				t.Fatalf("sign-up: got %d %s", r.Status, r.Body)
			}
			code := signupCodeRE.FindString(w.MailTo(a, 1).Body)
			for i := range 5 {
				if r := verify(a, otherCode(code)); r.Status != http.StatusBadRequest {
					t.Fatalf("wrong code %d: got %d %s, want 400", i+1, r.Status, r.Body)
				}
			}
			if r := verify(a, code); r.Status != http.StatusBadRequest || string(r.Body) != string(bad.Body) {
				t.Errorf("right code after 5 wrong ones: got %d %s, want 400 %s", r.Status, r.Body, bad.Body)
			}
		})

		t.Run("phone number gets the code by SMS", func(t *testing.T) {
			const e164 = "+14155550177"
			anon.Must(http.StatusAccepted, "POST", "/parley/v1/signup", map[string]string{"phoneNumber": "415-555-0177", "displayName": "Pam", "password": parleytest.Password})
			code := signupCodeRE.FindString(w.SMSTo(e164, 1))
			if code == "" {
				t.Fatalf("no 6-digit code in the SMS to %s", e164)
			}
			u := anon.Must(http.StatusCreated, "POST", "/parley/v1/signup/verify", map[string]string{"phoneNumber": "(415) 555-0177", "code": code}).Map(t)
			if u["userType"] != "Personal" {
				t.Errorf("new user = %v", u)
			}
			me := w.SignIn(e164, parleytest.Password).Must(http.StatusOK, "GET", "/v1.0/me", nil).Map(t)
			if me["mobilePhone"] != e164 {
				t.Errorf("GET /v1.0/me = %v, want mobilePhone %s", me, e164)
			}
		})

		t.Run("malformed input", func(t *testing.T) {
			mailsBefore := len(w.Mail.Messages())
			for _, tc := range []struct {
				name string
				body map[string]string
			}{
				{"bad email", map[string]string{"email": "not-an-email", "displayName": "X", "password": parleytest.Password}},
				{"short password", map[string]string{"email": "short@example.org", "displayName": "X", "password": "short"}},
				{"missing displayName", map[string]string{"email": "noname@example.org", "password": parleytest.Password}},
				{"no address", map[string]string{"displayName": "X", "password": parleytest.Password}},
				{"both addresses", map[string]string{"email": "both@example.org", "phoneNumber": "+14155550178", "displayName": "X", "password": parleytest.Password}},
				{"bad phone", map[string]string{"phoneNumber": "12", "displayName": "X", "password": parleytest.Password}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := anon.Do("POST", "/parley/v1/signup", tc.body)
					if r.Status != http.StatusBadRequest || r.ErrorCode() != "badRequest" {
						t.Errorf("got %d %s, want 400 badRequest", r.Status, r.Body)
					}
				})
			}
			// A later mail would show up here; the malformed ones queue none.
			w.Personal("after-malformed@example.org")
			if got := len(w.Mail.Messages()) - mailsBefore; got != 1 {
				t.Errorf("%d mails since the malformed sign-ups, want 1 (the valid one)", got)
			}
		})
	})
}

// TestS6_OutboxRetries: an invitation is accepted while SMTP is down and
// delivered once it is back, with the outbox visible to the operator (an
// invitation is not listed to tenant admins: TestS6_OutboxKeepsSilence); a
// permanent refusal shows as failed (docs/rules.md §6 durable delivery).
func TestS6_OutboxRetries(t *testing.T) {
	w := parleytest.StartWorld(t, "sqlite")
	contoso := w.CreateTenant("Contoso", "contoso.com")
	alice := w.User(contoso, "alice", false)
	op := w.Operator()

	t.Run("retried after an outage", func(t *testing.T) {
		const addr = "late@example.org"
		w.Mail.SetDown(true)
		if r := alice.ChatWith(parleytest.ByEmail(addr)); r.Status != http.StatusCreated {
			t.Fatalf("invite while SMTP is down: got %d %s, want 201", r.Status, r.Body)
		}
		e := waitOutboxOf(t, op, operatorOutbox, "", addr, 15*time.Second, func(e outboxEntry) bool { return e.Attempts >= 1 })
		if e.Status != "pending" || e.LastError == "" || e.Channel != "email" {
			t.Errorf("outbox entry after a failed attempt = %+v, want pending with the error", e)
		}
		w.Mail.SetDown(false)
		deadline := time.Now().Add(30 * time.Second)
		for w.CountMailTo(addr) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("the invitation to %s did not arrive within 30s of SMTP coming back", addr)
			}
			time.Sleep(50 * time.Millisecond)
		}
		parleytest.JoinToken(t, w.MailTo(addr, 1).Body)
		e = waitOutboxOf(t, op, operatorOutbox, "", addr, 10*time.Second, func(e outboxEntry) bool { return e.Status == "sent" })
		if e.Attempts < 2 || e.SentDateTime == nil {
			t.Errorf("sent entry = %+v, want at least 2 attempts and a sent time", e)
		}
		if got := outboxListOf(t, op, operatorOutbox, "?status=pending"); slices.ContainsFunc(got, func(e outboxEntry) bool { return e.To == addr }) {
			t.Errorf("?status=pending still lists %s: %+v", addr, got)
		}
	})

	t.Run("permanent failure shown to admins", func(t *testing.T) {
		const addr = "bounce@example.org"
		w.Mail.RejectRecipient(addr, 550)
		if r := alice.ChatWith(parleytest.ByEmail(addr)); r.Status != http.StatusCreated {
			t.Fatalf("invite: got %d %s, want 201", r.Status, r.Body)
		}
		e := waitOutboxOf(t, op, operatorOutbox, "?status=failed", addr, 15*time.Second, func(outboxEntry) bool { return true })
		if e.Status != "failed" || e.LastError == "" || e.FailedDateTime == nil {
			t.Errorf("failed entry = %+v, want failed with its error", e)
		}
		for _, e := range outboxListOf(t, op, operatorOutbox, "?status=failed") {
			if e.Status != "failed" {
				t.Errorf("?status=failed lists %+v", e)
			}
		}
	})

	t.Run("members may not see the outbox", func(t *testing.T) {
		if r := alice.Do("GET", "/parley/v1/admin/outbox", nil); r.Status != http.StatusForbidden {
			t.Errorf("member GET outbox: got %d %s, want 403", r.Status, r.Body)
		}
	})
}

// TestS6_OutboxSurvivesCrash: an invitation acknowledged while SMTP is down
// is delivered after the server is killed with SIGKILL and restarted on the
// same data (docs/rules.md §6: an outbox that survives restarts).
func TestS6_OutboxSurvivesCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP in -short: builds the binary and kills it")
	}
	const (
		domain   = "crash.example"
		password = "crash-test-password"
		addr     = "survivor@example.org"
	)
	bin := MustBuildParley(t)
	smtp := mailtest.NewServer(t)
	smtp.SetDown(true)
	dir := t.TempDir()
	args := []string{"--smtp-url", smtp.URL(), "--smtp-from", "Parley <parley@parley.test>"}

	srv := MustStartCrashChild(t, bin, dir, args...)
	srv.client(t, crashOperatorToken).Must(http.StatusCreated, "POST", "/parley/v1/operator/tenants", map[string]any{
		"displayName": "Crash", "domains": []string{domain},
		"admin": map[string]string{"displayName": "Crash Admin", "userPrincipalName": "admin@" + domain, "password": password},
	})
	admin := srv.signIn(t, "admin@"+domain, password)
	op := srv.client(t, crashOperatorToken)
	admin.Must(http.StatusCreated, "POST", "/v1.0/users", map[string]any{"displayName": "Alice", "userPrincipalName": "alice@" + domain,
		"passwordProfile": map[string]string{"password": password}, "userType": "Member"})
	alice := srv.signIn(t, "alice@"+domain, password)
	if r := alice.ChatWith(parleytest.ByEmail(addr)); r.Status != http.StatusCreated {
		t.Fatalf("invite: got %d %s, want 201", r.Status, r.Body)
	}
	// Kill after the first attempt failed and was recorded, so the message
	// is not left claimed by a send in flight.
	waitOutboxOf(t, op, operatorOutbox, "", addr, 15*time.Second, func(e outboxEntry) bool { return e.Attempts >= 1 })
	srv.Kill(t)

	smtp.SetDown(false)
	restarted := MustStartCrashChild(t, bin, dir, args...)
	msgs := smtp.WaitFor(t, 1, 30*time.Second)
	if len(msgs) != 1 || !slices.Contains(msgs[0].To, addr) {
		t.Fatalf("mail after restart = %+v, want the invitation to %s", msgs, addr)
	}
	parleytest.JoinToken(t, msgs[0].Body)
	op = restarted.client(t, crashOperatorToken)
	waitOutboxOf(t, op, operatorOutbox, "", addr, 10*time.Second, func(e outboxEntry) bool { return e.Status == "sent" })
}

// outboxEntry is one row of GET /parley/v1/admin/outbox or
// /parley/v1/operator/outbox.
type outboxEntry struct {
	ID             string  `json:"id"`
	Channel        string  `json:"channel"`
	To             string  `json:"to"`
	Subject        string  `json:"subject"`
	Status         string  `json:"status"`
	Attempts       int     `json:"attempts"`
	LastError      string  `json:"lastError"`
	SentDateTime   *string `json:"sentDateTime"`
	FailedDateTime *string `json:"failedDateTime"`
}

// inviteRequest is one entry of GET /parley/v1/me/requests.
type inviteRequest struct {
	ChatID string `json:"chatId"`
	From   struct {
		User map[string]any `json:"user"`
	} `json:"from"`
	OrganizationName *string `json:"organizationName"`
	IsExternal       bool    `json:"isExternal"`
	Previews         []struct {
		Body struct {
			Content string `json:"content"`
		} `json:"body"`
	} `json:"previews"`
}

func (r inviteRequest) previewTexts() []string {
	out := []string{}
	for _, p := range r.Previews {
		out = append(out, p.Body.Content)
	}
	return out
}

func mustRequests(t *testing.T, c *parleytest.Client) []inviteRequest {
	t.Helper()
	var out struct {
		Value []inviteRequest `json:"value"`
	}
	c.Must(http.StatusOK, "GET", "/parley/v1/me/requests", nil).JSON(t, &out)
	return out.Value
}

func findRequest(reqs []inviteRequest, chatID string) (inviteRequest, bool) {
	for _, r := range reqs {
		if r.ChatID == chatID {
			return r, true
		}
	}
	return inviteRequest{}, false
}

// otherMember returns the one member of a chat that is not c (a oneOnOne).
func otherMember(t *testing.T, c *parleytest.Client, chatID string) map[string]any {
	t.Helper()
	var p struct {
		Value []map[string]any `json:"value"`
	}
	c.Must(http.StatusOK, "GET", "/v1.0/chats/"+chatID+"/members", nil).JSON(t, &p)
	var others []map[string]any
	for _, m := range p.Value {
		if m["userId"] != c.UserID {
			others = append(others, m)
		}
	}
	if len(others) != 1 || len(p.Value) != 2 {
		t.Fatalf("members of %s = %v, want the caller and one other", chatID, p.Value)
	}
	return others[0]
}

// chatIDs lists the ids of c's chats, in the server's order.
func chatIDs(t *testing.T, c *parleytest.Client) []string {
	t.Helper()
	var p struct {
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	c.Must(http.StatusOK, "GET", "/v1.0/me/chats?$top=50", nil).JSON(t, &p)
	out := []string{}
	for _, ch := range p.Value {
		out = append(out, ch.ID)
	}
	return out
}

func textBody(s string) map[string]any {
	return map[string]any{"body": map[string]string{"contentType": "text", "content": s}}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// otherCode returns a 6-digit code different from code.
func otherCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}
