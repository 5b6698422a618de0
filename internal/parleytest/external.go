package parleytest

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/config"
	"github.com/parleychat/parley/internal/mail/mailtest"
	"github.com/parleychat/parley/internal/sms/smstest"
)

// World is a server with real SMTP and SMS recorders at the edge.
type World struct {
	*Server
	Mail *mailtest.Server
	SMS  *smstest.Server
}

// StartWorld starts a server on store whose mail and SMS go to recorders.
func StartWorld(tb testing.TB, store string) *World {
	tb.Helper()
	return StartWorldWith(tb, store, nil)
}

// StartWorldWith is StartWorld with a change to the configuration.
func StartWorldWith(tb testing.TB, store string, change func(*config.Config)) *World {
	tb.Helper()
	m := mailtest.NewServer(tb)
	sm := smstest.NewServer(tb)
	cfg := Config(tb, store)
	cfg.Mail.URL, cfg.Mail.From = m.URL(), "Parley <parley@parley.test>"
	cfg.SMS.URL, cfg.SMS.Account, cfg.SMS.Token, cfg.SMS.From = sm.URL(), smstest.Account, smstest.Token, "+15005550006"
	if change != nil {
		change(&cfg)
	}
	return &World{Server: Start(tb, cfg), Mail: m, SMS: sm}
}

var codeRE = regexp.MustCompile(`\b(\d{6})\b`)

// MailTo waits for the n-th mail to addr (1-based) and returns it.
func (w *World) MailTo(addr string, n int) mailtest.Received {
	w.TB.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []mailtest.Received
		for _, m := range w.Mail.Messages() {
			for _, to := range m.To {
				if strings.EqualFold(to, addr) {
					got = append(got, m)
				}
			}
		}
		if len(got) >= n {
			return got[n-1]
		}
		if time.Now().After(deadline) {
			w.TB.Fatalf("no mail #%d to %s within 10s (have %d)", n, addr, len(got))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// SMSTo waits for the n-th SMS to a number (1-based) and returns its body.
func (w *World) SMSTo(number string, n int) string {
	w.TB.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []string
		for _, m := range w.SMS.Messages() {
			if m.To == number {
				got = append(got, m.Body)
			}
		}
		if len(got) >= n {
			return got[n-1]
		}
		if time.Now().After(deadline) {
			w.TB.Fatalf("no SMS #%d to %s within 10s (have %d)", n, number, len(got))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CountMailTo counts mails to addr received so far.
func (w *World) CountMailTo(addr string) int {
	n := 0
	for _, m := range w.Mail.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				n++
			}
		}
	}
	return n
}

// Personal signs up a personal account for an e-mail address through the
// real flow (code by mail) and signs in.
func (w *World) Personal(email string) *Client {
	w.TB.Helper()
	before := w.CountMailTo(email)
	w.Anonymous().Must(202, "POST", "/parley/v1/signup", map[string]any{"email": email, "displayName": DisplayName(email), "password": Password})
	m := w.MailTo(email, before+1)
	code := codeRE.FindString(m.Subject + " " + m.Body)
	if code == "" {
		w.TB.Fatalf("no code in mail %q: %s", m.Subject, m.Body)
	}
	w.Anonymous().Must(201, "POST", "/parley/v1/signup/verify", map[string]any{"email": email, "code": code})
	return w.SignIn(email, Password)
}

var joinRE = regexp.MustCompile(`/join/([A-Za-z0-9_-]+)`)

// JoinToken extracts the invitation token of a mail or SMS body.
func JoinToken(tb testing.TB, body string) string {
	tb.Helper()
	m := joinRE.FindStringSubmatch(body)
	if m == nil {
		tb.Fatalf("no /join/ link in %q", body)
	}
	return m[1]
}

// ByEmail returns a Graph member given by e-mail address.
func ByEmail(addr string) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "email": addr, "roles": []string{"owner"}}
}

// ByPhone returns a Graph member given by phone number.
func ByPhone(number string) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "phoneNumber": number, "roles": []string{"owner"}}
}

// ChatWith creates a oneOnOne chat with a member given by address and
// returns the response.
func (c *Client) ChatWith(member map[string]any) *Response {
	c.TB.Helper()
	return c.Do("POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{member}})
}
