package graph_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
)

var (
	ada   = identity.User{ID: "ada", TenantID: "t1", Kind: identity.Member, Role: identity.RoleAdmin, DisplayName: "Ada", UPN: "ada@contoso.com", Mail: "ada@contoso.com", Phone: "+14155550100"}
	bob   = identity.User{ID: "bob", TenantID: "t1", Kind: identity.Member, Role: identity.RoleMember, DisplayName: "Bob", UPN: "bob@contoso.com", Mail: "bob@contoso.com"}
	gus   = identity.User{ID: "gus", TenantID: "t1", Kind: identity.Guest, DisplayName: "Gus", UPN: "gus@example.org", Mail: "gus@example.org"}
	erin  = identity.User{ID: "erin", TenantID: "t2", Kind: identity.Member, DisplayName: "Erin", UPN: "erin@fabrikam.com", Mail: "erin@fabrikam.com"}
	pat   = identity.User{ID: "pat", Kind: identity.Personal, DisplayName: "Pat", UPN: "pat@example.net", Mail: "pat@example.net"}
	t0    = time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.FixedZone("CET", 3600))
	t0UTC = "2026-03-01T08:00:00.123Z"
)

func TestTime(t *testing.T) {
	if graph.Time(time.Time{}) != nil {
		t.Error("a zero time is not null")
	}
	if got := graph.Time(t0); got == nil || *got != t0UTC {
		t.Errorf("Time(%v) = %v, want %s (UTC, milliseconds)", t0, got, t0UTC)
	}
}

// TestNewUser: the identity fields are relative to the viewer, and the
// phone number and admin flag of a person show only to their own
// organisation's members and to themselves, not to outsiders and not to
// guests of the organisation.
func TestNewUser(t *testing.T) {
	tests := []struct {
		viewer               identity.User
		identityType         string
		external, phoneAdmin bool
	}{
		{ada, "aadUser", false, true},
		{bob, "aadUser", false, true},
		{gus, "aadUser", false, false},
		{erin, "federatedUser", true, false},
		{pat, "federatedUser", true, false},
	}
	for _, tc := range tests {
		w := graph.NewUser(&ada, &tc.viewer)
		if w.UserIdentityType != tc.identityType || w.IsExternal != tc.external || w.UserType != "Member" {
			t.Errorf("Ada seen by %s: %s external=%v type=%s, want %s external=%v Member", tc.viewer.ID, w.UserIdentityType, w.IsExternal, w.UserType, tc.identityType, tc.external)
		}
		if (w.MobilePhone != nil) != tc.phoneAdmin || w.IsAdmin != tc.phoneAdmin {
			t.Errorf("Ada seen by %s: phone %v admin %v, want shown %v", tc.viewer.ID, w.MobilePhone, w.IsAdmin, tc.phoneAdmin)
		}
		if w.Mail == nil || *w.Mail != "ada@contoso.com" || w.TenantID == nil || *w.TenantID != "t1" {
			t.Errorf("Ada seen by %s: mail %v tenant %v", tc.viewer.ID, w.Mail, w.TenantID)
		}
	}
	if w := graph.NewUser(&gus, &gus); w.UserType != "Guest" || w.IsExternal {
		t.Errorf("a guest seen by itself: %+v", w)
	}
	if w := graph.NewUser(&pat, &ada); w.UserType != "Personal" || w.TenantID != nil || w.UserIdentityType != "personalMicrosoftAccountUser" || !w.IsExternal {
		t.Errorf("a personal account seen by a member: %+v", w)
	}
	b, err := json.Marshal(graph.NewUser(&bob, &erin))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["mobilePhone"]; !ok || m["mobilePhone"] != nil {
		t.Errorf("mobilePhone of a person without a number: %v, want null", m["mobilePhone"])
	}
	if _, ok := m["isAdmin"]; ok {
		t.Errorf("isAdmin false is sent: %s", b)
	}
}

// TestNewMember: a member known only by the address the inviter typed
// shows that address (an emailUser or phoneUser) to everyone but
// themselves until they accept; then they show as themselves.
func TestNewMember(t *testing.T) {
	pending := chat.Member{ID: "m1", UserID: pat.ID, User: pat, State: chat.Pending, Address: "pat@example.net", VisibleFrom: t0}
	if w := graph.NewMember(&pending, &ada); w.DisplayName != "pat@example.net" || w.UserID != nil || w.UserIdentityType != "emailUser" || !w.IsExternal || w.Roles == nil {
		t.Errorf("pending by address, seen by the inviter: %+v", w)
	}
	if w := graph.NewMember(&pending, &pat); w.DisplayName != "Pat" || w.UserID == nil || w.UserIdentityType != "personalMicrosoftAccountUser" {
		t.Errorf("pending, seen by themselves: %+v", w)
	}
	phone := chat.Member{ID: "m2", State: chat.Pending, Address: "+14155550199"}
	if w := graph.NewMember(&phone, &ada); w.UserIdentityType != "phoneUser" || w.Email == nil || *w.Email != "+14155550199" {
		t.Errorf("an address-only phone member: %+v", w)
	}
	accepted := pending
	accepted.State = chat.Accepted
	if w := graph.NewMember(&accepted, &ada); w.DisplayName != "Pat" || w.UserIdentityType != "personalMicrosoftAccountUser" || w.RequestState != "accepted" {
		t.Errorf("accepted, seen by the inviter: %+v", w)
	}
	if w := graph.NewMember(&chat.Member{ID: "m3", UserID: bob.ID, User: bob, State: chat.Accepted, Roles: []string{"owner"}}, &erin); !w.IsExternal || w.UserIdentityType != "federatedUser" || len(w.Roles) != 1 {
		t.Errorf("a member seen from another organisation: %+v", w)
	}
}

// TestNewMessage: edits show lastEditedDateTime, a deletion hides the
// reactions, and a mentioned user is described relative to the viewer
// when the message carries their account (the sender, the viewer),
// otherwise by id and mention text.
func TestNewMessage(t *testing.T) {
	m := chat.Message{ID: 42, ChatID: "c1", SenderID: erin.ID, Sender: erin, CreatedAt: t0, ModifiedAt: t0, ContentType: "html", Content: "<at id=\"0\">Erin</at>",
		Mentions: []chat.Mention{
			{ID: 0, MentionText: "Erin", UserID: erin.ID},
			{ID: 1, MentionText: "Bob", UserID: bob.ID},
			{ID: 2, MentionText: "Ada", UserID: ada.ID},
			{ID: 3, MentionText: "General", Conversation: "channel", ConversationID: "ch1"},
		},
		Reactions: []chat.Reaction{{Type: "like", UserID: bob.ID, User: bob, CreatedAt: t0}, {Type: "🎉", UserID: ada.ID, User: ada, CreatedAt: t0}},
	}
	w := graph.NewMessage(&m, &bob)
	if w.ID != "42" || w.Etag != "42" || w.ChatID != "c1" || w.LastEditedDateTime != nil || w.From.User.UserIdentityType != "federatedUser" || !w.From.User.IsExternal {
		t.Errorf("message: %+v", w)
	}
	if len(w.Mentions) != 4 {
		t.Fatalf("%d mentions, want 4", len(w.Mentions))
	}
	if u := w.Mentions[0].Mentioned.User; u.UserIdentityType != "federatedUser" || !u.IsExternal || u.TenantID == nil {
		t.Errorf("the sender mentioned: %+v", u)
	}
	if u := w.Mentions[1].Mentioned.User; u.UserIdentityType != "aadUser" || u.IsExternal || u.TenantID == nil {
		t.Errorf("the viewer mentioned: %+v", u)
	}
	if u := w.Mentions[2].Mentioned.User; u.ID != "ada" || u.DisplayName != "Ada" || u.TenantID != nil || u.ODataType != "" {
		t.Errorf("someone else mentioned: %+v, want only id and mention text", u)
	}
	if c := w.Mentions[3].Mentioned.Conversation; c == nil || c.ID != "ch1" || c.ConversationIdentityType != "channel" {
		t.Errorf("a channel mention: %+v", w.Mentions[3])
	}
	if len(w.Reactions) != 2 || w.Reactions[0].DisplayName == nil || *w.Reactions[0].DisplayName != "Like" || w.Reactions[1].DisplayName != nil {
		t.Errorf("reactions: %+v", w.Reactions)
	}

	m.ModifiedAt = t0.Add(time.Minute)
	if w := graph.NewMessage(&m, &bob); w.LastEditedDateTime == nil {
		t.Error("an edited message has no lastEditedDateTime")
	}
	m.DeletedAt = t0.Add(2 * time.Minute)
	m.ModifiedAt = m.DeletedAt
	if w := graph.NewMessage(&m, &bob); w.DeletedDateTime == nil || w.LastEditedDateTime != nil || len(w.Reactions) != 0 {
		t.Errorf("a deleted message: deleted %v edited %v reactions %d, want deleted, not edited, no reactions", w.DeletedDateTime, w.LastEditedDateTime, len(w.Reactions))
	}
}

// TestEncoder: event payloads carry their type, the chat id and the object
// as the receiving viewer sees it.
func TestEncoder(t *testing.T) {
	var enc graph.Encoder
	m := chat.Message{ID: 7, ChatID: "c1", SenderID: erin.ID, Sender: erin, CreatedAt: t0, ModifiedAt: t0, ContentType: "text", Content: "hi"}
	decode := func(b []byte) map[string]any {
		t.Helper()
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("payload %s: %v", b, err)
		}
		return v
	}
	p := decode(enc.MessageEvent(&bob, "messageCreated", &m))
	msg, _ := p["message"].(map[string]any)
	from, _ := msg["from"].(map[string]any)
	user, _ := from["user"].(map[string]any)
	if p["type"] != "messageCreated" || p["chatId"] != "c1" || msg["id"] != "7" || user["userIdentityType"] != "federatedUser" {
		t.Errorf("message event: %v", p)
	}
	c := chat.Chat{ID: "c1", Type: chat.Group, Topic: "Plans", CreatedAt: t0, UpdatedAt: t0}
	p = decode(enc.ChatEvent(&bob, event.Type("chatUpdated"), &c))
	ch, _ := p["chat"].(map[string]any)
	if p["chatId"] != "c1" || ch["topic"] != "Plans" || ch["chatType"] != "group" || ch["createdDateTime"] != t0UTC {
		t.Errorf("chat event: %v", p)
	}
	p = decode(enc.RequestEvent(&pat, "requestReceived", &c, &ada))
	from, _ = p["from"].(map[string]any)
	user, _ = from["user"].(map[string]any)
	if user["id"] != "ada" || user["isExternal"] != true {
		t.Errorf("request event: %v", p)
	}
	if oo := graph.NewChat(&chat.Chat{ID: "c2", Type: chat.OneOnOne, Topic: "ignored"}, &bob); oo.Topic != nil {
		t.Errorf("a oneOnOne chat has a topic: %v", *oo.Topic)
	}
}
