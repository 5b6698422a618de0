package chat_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
	"github.com/parleychat/parley/internal/policy"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// The chat service's own behaviour below HTTP, on a real store of each
// dialect with the real policy service: load → decide → write as the
// server wires it. The black-box tests in internal/server cover the API.

// world is one store with the services over it and one organisation.
type world struct {
	db     *store.DB
	chats  *chat.Service
	reqs   *chat.Requests
	policy *policy.Service
	admin  identity.User
	tenant identity.TenantID
	n      atomic.Int64
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	now := func() time.Time { return time.Now().UTC() }
	bus := event.NewLocal()
	w := &world{db: db, policy: &policy.Service{Store: db, Now: now}}
	w.chats = chat.NewService(chat.Deps{Store: db, Bus: bus, Encoder: graph.Encoder{}, Policy: w.policy, Now: now})
	w.reqs = &chat.Requests{Store: db, Bus: bus, Encoder: graph.Encoder{}, Now: now}
	tn := identity.Tenant{ID: identity.NewTenantID(), DisplayName: "Contoso", Domains: []string{"contoso.test"}, CreatedAt: now()}
	w.tenant = tn.ID
	w.admin = identity.User{ID: identity.NewUserID(), TenantID: tn.ID, Kind: identity.Member, Role: identity.RoleAdmin, DisplayName: "Admin",
		UPN: "admin@contoso.test", Mail: "admin@contoso.test", AllowChatsFromOrganizations: true, CreatedAt: now()}
	if err := db.CreateTenant(context.Background(), tn, w.admin, "hash"); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	return w
}

// member creates a work account of the organisation.
func (w *world) member(t *testing.T) identity.User {
	t.Helper()
	upn := fmt.Sprintf("m%d@contoso.test", w.n.Add(1))
	u := identity.User{ID: identity.NewUserID(), TenantID: w.tenant, Kind: identity.Member, Role: identity.RoleMember, DisplayName: upn,
		UPN: upn, Mail: upn, AllowChatsFromOrganizations: true, CreatedAt: time.Now().UTC()}
	if err := w.db.CreateUser(context.Background(), u, "hash"); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

// personal creates a personal account, its switch as given.
func (w *world) personal(t *testing.T, allowOrgs bool) identity.User {
	t.Helper()
	mail := fmt.Sprintf("p%d@mail.test", w.n.Add(1))
	u := identity.User{ID: identity.NewUserID(), Kind: identity.Personal, DisplayName: mail,
		UPN: mail, Mail: mail, AllowChatsFromOrganizations: allowOrgs, CreatedAt: time.Now().UTC()}
	if err := w.db.CreateUser(context.Background(), u, "hash"); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

func (w *world) oneOnOne(t *testing.T, from *identity.User, nm chat.NewMember) chat.Chat {
	t.Helper()
	c, _, err := w.chats.Create(context.Background(), from, chat.NewChat{Type: chat.OneOnOne, Members: []chat.NewMember{nm}})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return c
}

func (w *world) send(from *identity.User, id chat.ID, text string) error {
	_, err := w.chats.Send(context.Background(), from, id, chat.Body{ContentType: "text", Content: text})
	return err
}

func wantCode(t *testing.T, err error, code errcode.Code) {
	t.Helper()
	if !errcode.Is(err, code) {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func memberNamed(t *testing.T, ms []chat.Member, id identity.UserID) chat.Member {
	t.Helper()
	for _, m := range ms {
		if m.UserID == id {
			return m
		}
	}
	t.Fatalf("no member %s", id)
	return chat.Member{}
}

func TestService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()

		t.Run("OneOnOneIsOnePerPair", func(t *testing.T) {
			a, b := w.member(t), w.member(t)
			c1, created, err := w.chats.Create(ctx, &a, chat.NewChat{Type: chat.OneOnOne, Members: []chat.NewMember{{UserID: b.ID}}})
			if err != nil || !created {
				t.Fatalf("first Create: %v, created=%v", err, created)
			}
			c2, created, err := w.chats.Create(ctx, &b, chat.NewChat{Type: chat.OneOnOne, Members: []chat.NewMember{{Email: a.Mail}}})
			if err != nil || created || c2.ID != c1.ID {
				t.Fatalf("again from the other side: %v created=%v id %s, want %s", err, created, c2.ID, c1.ID)
			}
			if c1.External || c1.PairKey != chat.PairKey(b.ID, chat.UserPeer(a.ID)) {
				t.Fatalf("chat %+v: want internal, keyed by the pair", c1)
			}
		})

		t.Run("ExternalTargetGetsARequest", func(t *testing.T) {
			a, p := w.member(t), w.personal(t, true)
			c := w.oneOnOne(t, &a, chat.NewMember{Email: p.Mail})
			ms, err := w.chats.Members(ctx, &a, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			m := memberNamed(t, ms, p.ID)
			if !c.External || m.State != chat.Pending || m.Held || m.RequestFrom != a.ID || m.Address != p.Mail {
				t.Fatalf("chat external=%v member %+v: want a pending request from %s with the typed address", c.External, m, a.ID)
			}
			// The target has not accepted: it sends and changes nothing.
			wantCode(t, w.send(&p, c.ID, "hi"), errcode.Forbidden)
			if n, err := w.reqs.Count(ctx, &p, false); err != nil || n != 1 {
				t.Fatalf("Count = %d, %v; want 1", n, err)
			}
		})

		t.Run("CapIsDecidedInsideTheWrite", func(t *testing.T) {
			// docs/rules.md §5, §10: of sends released together, exactly
			// PendingCap land; the rest are messageRequestLimitReached.
			a, p := w.member(t), w.personal(t, true)
			c := w.oneOnOne(t, &a, chat.NewMember{Email: p.Mail})
			const n = msgrequest.PendingCap + 6
			var ok, capped atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					switch err := w.send(&a, c.ID, fmt.Sprint("message ", i)); {
					case err == nil:
						ok.Add(1)
					case errcode.Is(err, errcode.MessageRequestLimitReached):
						capped.Add(1)
					default:
						t.Errorf("send: %v", err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if ok.Load() != msgrequest.PendingCap || capped.Load() != n-msgrequest.PendingCap {
				t.Fatalf("%d sent, %d capped; want %d and %d", ok.Load(), capped.Load(), msgrequest.PendingCap, n-msgrequest.PendingCap)
			}
			// Once accepted, no cap.
			if err := w.reqs.Answer(ctx, &p, c.ID, msgrequest.Accept); err != nil {
				t.Fatal(err)
			}
			if err := w.send(&a, c.ID, "after accept"); err != nil {
				t.Fatalf("send after accept: %v", err)
			}
		})

		t.Run("HeldRequestIsSilentAndReleasedLater", func(t *testing.T) {
			// docs/rules.md §4 rule of silence: the target's own switch is
			// account-level; the sender's view is a pending member.
			a, p := w.member(t), w.personal(t, false)
			c := w.oneOnOne(t, &a, chat.NewMember{Email: p.Mail})
			ms, err := w.chats.Members(ctx, &a, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if m := memberNamed(t, ms, p.ID); m.State != chat.Pending || !m.Held {
				t.Fatalf("member %+v: want pending and held", m)
			}
			if err := w.send(&a, c.ID, "before"); err != nil {
				t.Fatalf("send while held: %v", err)
			}
			if _, err := w.chats.Get(ctx, &p, c.ID); !errcode.Is(err, errcode.NotFound) {
				t.Fatalf("target sees the held chat: %v", err)
			}
			if n, _ := w.reqs.Count(ctx, &p, false); n != 0 {
				t.Fatalf("target counts %d requests, want 0", n)
			}
			// The switch turned on: re-decided, the request is delivered
			// showing only what is sent from now on.
			if err := db.SetAllowChatsFromOrganizations(ctx, p.ID, true); err != nil {
				t.Fatal(err)
			}
			if err := w.chats.Reevaluate(ctx, "", p.ID); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Millisecond) // "after" is after the release, at the clock's resolution
			if err := w.send(&a, c.ID, "after"); err != nil {
				t.Fatal(err)
			}
			p.AllowChatsFromOrganizations = true
			rs, _, err := w.reqs.List(ctx, &p, false, chat.ChatCursor{}, 0)
			if err != nil || len(rs) != 1 {
				t.Fatalf("List: %d requests, %v; want 1", len(rs), err)
			}
			if got := rs[0].Previews; len(got) != 1 || got[0].Content != "after" {
				t.Fatalf("previews %+v, want only the message sent after the release", got)
			}
		})

		t.Run("RequestsListPages", func(t *testing.T) {
			p := w.personal(t, true)
			for range 3 {
				a := w.member(t)
				w.oneOnOne(t, &a, chat.NewMember{Email: p.Mail})
				time.Sleep(time.Millisecond) // distinct updated times order the list
			}
			var seen []chat.ID
			after := chat.ChatCursor{}
			for page := 0; ; page++ {
				rs, next, err := w.reqs.List(ctx, &p, false, after, 2)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rs {
					seen = append(seen, r.Chat.ID)
				}
				if next.ID == "" {
					break
				}
				if page > 3 {
					t.Fatal("the list does not end")
				}
				after = next
			}
			if len(seen) != 3 || seen[0] == seen[1] || seen[1] == seen[2] || seen[0] == seen[2] {
				t.Fatalf("pages held %v, want three distinct requests", seen)
			}
		})

		t.Run("DeclineIsRecipientUnavailable", func(t *testing.T) {
			a, p := w.member(t), w.personal(t, true)
			c := w.oneOnOne(t, &a, chat.NewMember{Email: p.Mail})
			if err := w.reqs.Answer(ctx, &p, c.ID, msgrequest.Decline); err != nil {
				t.Fatal(err)
			}
			wantCode(t, w.send(&a, c.ID, "still there?"), errcode.RecipientUnavailable)
			_, _, err := w.chats.Create(ctx, &a, chat.NewChat{Type: chat.OneOnOne, Members: []chat.NewMember{{Email: p.Mail}}})
			wantCode(t, err, errcode.RecipientUnavailable)
			if _, err := w.chats.Get(ctx, &p, c.ID); !errcode.Is(err, errcode.NotFound) {
				t.Fatalf("the declined request is still visible to its target: %v", err)
			}
			wantCode(t, w.reqs.Answer(ctx, &p, c.ID, msgrequest.Accept), errcode.NotFound)
		})

		t.Run("BlockAndReportOnARequest", func(t *testing.T) {
			// docs/rules.md §5: a block on a request is the recipient's
			// answer, told as recipientUnavailable; a report also records it.
			for _, a := range []msgrequest.Answer{msgrequest.Block, msgrequest.ReportSpam} {
				s, p := w.member(t), w.personal(t, true)
				c := w.oneOnOne(t, &s, chat.NewMember{Email: p.Mail})
				if err := w.reqs.Answer(ctx, &p, c.ID, a); err != nil {
					t.Fatal(err)
				}
				wantCode(t, w.send(&s, c.ID, "again"), errcode.RecipientUnavailable)
				_, _, err := w.chats.Create(ctx, &s, chat.NewChat{Type: chat.Group, Topic: "new", Members: []chat.NewMember{{Email: p.Mail}, {UserID: w.member(t).ID}}})
				wantCode(t, err, errcode.RecipientUnavailable)
				n, err := db.CountSpamReports(ctx, s.ID)
				if err != nil || (n == 1) != (a == msgrequest.ReportSpam) {
					t.Fatalf("%s: %d reports, %v", a, n, err)
				}
			}
		})

		t.Run("PreviewFormUntilAccepted", func(t *testing.T) {
			a, p := w.member(t), w.personal(t, true)
			c := w.oneOnOne(t, &a, chat.NewMember{Email: p.Mail})
			if _, err := w.chats.Send(ctx, &a, c.ID, chat.Body{ContentType: "html", Content: `<p>see <a href="https://example.test/x">this</a></p>`}); err != nil {
				t.Fatal(err)
			}
			msgs, _, err := w.chats.Messages(ctx, &p, c.ID, 0, 0)
			if err != nil || len(msgs) != 1 {
				t.Fatalf("Messages: %d, %v", len(msgs), err)
			}
			if m := msgs[0]; m.ContentType != "text" || strings.Contains(m.Content, "<a") || !strings.Contains(m.Content, "this") {
				t.Fatalf("pending target sees %q (%s), want the text without the link", m.Content, m.ContentType)
			}
			if err := w.reqs.Answer(ctx, &p, c.ID, msgrequest.Accept); err != nil {
				t.Fatal(err)
			}
			msgs, _, err = w.chats.Messages(ctx, &p, c.ID, 0, 0)
			if err != nil || msgs[0].ContentType != "html" || !strings.Contains(msgs[0].Content, "<a") {
				t.Fatalf("accepted target sees %+v, %v; want the message", msgs, err)
			}
		})

		t.Run("ReadOnlySaysWhoseSettingAndIsStored", func(t *testing.T) {
			a, p := w.member(t), w.personal(t, true)
			c := w.oneOnOne(t, &a, chat.NewMember{Email: p.Mail})
			if err := w.reqs.Answer(ctx, &p, c.ID, msgrequest.Accept); err != nil {
				t.Fatal(err)
			}
			off, on := false, true
			if _, err := w.policy.UpdateSettings(ctx, &w.admin, policy.SettingsPatch{AllowTeamsConsumer: &off}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_, _ = w.policy.UpdateSettings(ctx, &w.admin, policy.SettingsPatch{AllowTeamsConsumer: &on})
				_ = w.chats.Reevaluate(ctx, w.tenant, "")
			})
			if err := w.chats.Reevaluate(ctx, w.tenant, ""); err != nil {
				t.Fatal(err)
			}
			got, err := w.chats.Get(ctx, &a, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := msgrequest.BlameOf(&a); got.ReadOnlyBy != want {
				t.Fatalf("ReadOnlyBy %+v, want %+v", got.ReadOnlyBy, want)
			}
			if r := chat.ReadOnlyReason(&got, &a); !strings.HasPrefix(r, "Your organisation") {
				t.Fatalf("reason for the sender's side: %q", r)
			}
			if r := chat.ReadOnlyReason(&got, &p); !strings.HasPrefix(r, "The other side") {
				t.Fatalf("reason for the other side: %q", r)
			}
			wantCode(t, w.send(&p, c.ID, "hello?"), errcode.ChatReadOnly)
			if _, err := w.policy.UpdateSettings(ctx, &w.admin, policy.SettingsPatch{AllowTeamsConsumer: &on}); err != nil {
				t.Fatal(err)
			}
			if err := w.chats.Reevaluate(ctx, w.tenant, ""); err != nil {
				t.Fatal(err)
			}
			if err := w.send(&p, c.ID, "writable again"); err != nil {
				t.Fatalf("send after the switch is back on: %v", err)
			}
		})

		t.Run("AddressNoAccountOwnsIsPendingByAddress", func(t *testing.T) {
			// docs/rules.md §6: no account owns the address; the sender sees
			// the typed address, pending, capped like any request.
			a := w.member(t)
			addr := fmt.Sprintf("nobody%d@elsewhere.test", w.n.Add(1))
			c := w.oneOnOne(t, &a, chat.NewMember{Email: addr})
			if c.PairKey != chat.PairKey(a.ID, chat.AddressPeer(addr)) {
				t.Fatalf("pair key %q", c.PairKey)
			}
			ms, err := w.chats.Members(ctx, &a, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			var m chat.Member
			for _, x := range ms {
				if x.UserID == "" {
					m = x
				}
			}
			if m.Address != addr || m.State != chat.Pending || m.RequestFrom != a.ID {
				t.Fatalf("member %+v: want pending by address", m)
			}
			// Creating it again finds the same chat.
			c2, created, err := w.chats.Create(ctx, &a, chat.NewChat{Type: chat.OneOnOne, Members: []chat.NewMember{{Email: addr}}})
			if err != nil || created || c2.ID != c.ID {
				t.Fatalf("again: %v created=%v", err, created)
			}
		})
	})
}

func TestPairKey(t *testing.T) {
	a, b := identity.UserID("0190-a"), identity.UserID("0190-b")
	if chat.PairKey(a, chat.UserPeer(b)) != chat.PairKey(b, chat.UserPeer(a)) {
		t.Fatal("a pair's key depends on who created the chat")
	}
	if got := chat.PairKey(b, chat.UserPeer(a)); got != "0190-a|0190-b" {
		t.Fatalf("stored form %q changed", got)
	}
	// An address is never taken for an account, even one whose id looks
	// like it.
	if chat.PairKey(a, chat.AddressPeer("x@y.test")) == chat.PairKey(a, chat.UserPeer("x@y.test")) {
		t.Fatal("an address and a user id give the same key")
	}
	if got := chat.PairKey(a, chat.AddressPeer("x@y.test")); got != "0190-a|addr:x@y.test" {
		t.Fatalf("stored form %q changed", got)
	}
}
