package mailtest_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/mail/mailtest"
)

const wait = 10 * time.Second

// send delivers raw with go-smtp's client, an SMTP implementation
// independent of the one Parley uses, over plain text (smtp.SendMail insists
// on STARTTLS).
func send(addr string, auth sasl.Client, from string, to []string, raw string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	if auth != nil {
		err = c.Auth(auth)
	}
	if err == nil {
		err = c.SendMail(from, to, strings.NewReader(strings.ReplaceAll(raw, "\n", "\r\n")))
	}
	if err != nil {
		_ = c.Close() // The send already failed; that error is the one to report.
		return err
	}
	return c.Quit() // Quit also closes the connection.
}

var plainAuth = sasl.NewPlainClient("", mailtest.Username, mailtest.Password)

const multipartMessage = `From: "Parley" <noreply@parley.example>
To: bob@example.com
Subject: =?UTF-8?q?Einladung_f=C3=BCr_Bob?=
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: base64

SGFsbG8gQm9iLAoKam9pbjogaHR0cHM6Ly9wYXJsZXkuZXhhbXBsZS9q
b2luL2FiYwo=
--b1
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

<p>Hallo Bob, <a href=3D"https://parley.example/join/abc">join</a></p>
--b1--
`

func TestServerRecordsMessage(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	if err := send(srv.Addr(), plainAuth, "noreply@parley.example", []string{"bob@example.com", "carol@example.com"}, multipartMessage); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := srv.WaitFor(t, 1, wait)
	if len(got) != 1 {
		t.Fatalf("got %d messages, want 1", len(got))
	}
	m := got[0]
	if m.From != "noreply@parley.example" {
		t.Errorf("From = %q, want %q", m.From, "noreply@parley.example")
	}
	if diff := cmp.Diff([]string{"bob@example.com", "carol@example.com"}, m.To); diff != "" {
		t.Errorf("To (-want +got):\n%s", diff)
	}
	if want := "Einladung für Bob"; m.Subject != want {
		t.Errorf("Subject = %q, want %q", m.Subject, want)
	}
	if want := "Hallo Bob,\n\njoin: https://parley.example/join/abc\n"; m.Body != want {
		t.Errorf("Body = %q, want %q", m.Body, want)
	}
	if want := `<p>Hallo Bob, <a href="https://parley.example/join/abc">join</a></p>`; m.HTML != want {
		t.Errorf("HTML = %q, want %q", m.HTML, want)
	}
	if got, want := m.Header.Get("From"), `"Parley" <noreply@parley.example>`; got != want {
		t.Errorf("From header = %q, want %q", got, want)
	}
	if !strings.Contains(string(m.Raw), "boundary=\"b1\"") {
		t.Errorf("Raw does not hold the message as sent:\n%s", m.Raw)
	}
	if m.TLS {
		t.Error("TLS = true, want false")
	}
}

func TestServerPlainMessageWithoutMIME(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	if err := send(srv.Addr(), plainAuth, "a@example.com", []string{"b@example.com"}, "Subject: hi\n\nline 1\nline 2\n"); err != nil {
		t.Fatalf("send: %v", err)
	}
	m := srv.WaitFor(t, 1, wait)[0]
	if m.Subject != "hi" || m.Body != "line 1\nline 2\n" {
		t.Errorf("got subject %q body %q, want %q and %q", m.Subject, m.Body, "hi", "line 1\nline 2\n")
	}
}

func TestServerRequiresAuth(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	tests := []struct {
		name string
		auth sasl.Client
	}{
		{name: "no auth", auth: nil},
		{name: "wrong password", auth: sasl.NewPlainClient("", mailtest.Username, "wrong")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := send(srv.Addr(), tt.auth, "a@example.com", []string{"b@example.com"}, "Subject: x\n\ny\n")
			var se *smtp.SMTPError
			if !errors.As(err, &se) || se.Code/100 != 5 {
				t.Fatalf("send = %v, want a 5xx SMTP error", err)
			}
		})
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("recorded %d messages, want 0", n)
	}
}

func TestServerRejectRecipient(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	srv.RejectRecipient("Gone@example.com", 550)
	err := send(srv.Addr(), plainAuth, "a@example.com", []string{"gone@example.com"}, "Subject: x\n\ny\n")
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 {
		t.Fatalf("send = %v, want 550", err)
	}
	srv.RejectRecipient("gone@example.com", 0)
	if err := send(srv.Addr(), plainAuth, "a@example.com", []string{"gone@example.com"}, "Subject: x\n\ny\n"); err != nil {
		t.Fatalf("send after lifting the rejection: %v", err)
	}
	srv.WaitFor(t, 1, wait)
}

func TestServerSetDown(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	addr := srv.Addr()

	srv.SetDown(true)
	srv.SetDown(true) // idempotent
	if c, err := net.DialTimeout("tcp", addr, wait); err == nil {
		_ = c.Close()
		t.Fatalf("dial %s while down succeeded, want connection refused", addr)
	}

	srv.SetDown(false)
	srv.SetDown(false) // idempotent
	if srv.Addr() != addr {
		t.Errorf("Addr after restart = %q, want %q", srv.Addr(), addr)
	}
	if err := send(addr, plainAuth, "a@example.com", []string{"b@example.com"}, "Subject: back\n\nup\n"); err != nil {
		t.Fatalf("send after restart: %v", err)
	}
	if got := srv.WaitFor(t, 1, wait)[0].Subject; got != "back" {
		t.Errorf("Subject = %q, want %q", got, "back")
	}

	srv.Close()
	srv.Close() // idempotent
	srv.SetDown(false)
	if c, err := net.DialTimeout("tcp", addr, wait); err == nil {
		_ = c.Close()
		t.Fatalf("dial %s after Close succeeded, want connection refused", addr)
	}
}

func TestServerURL(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	if want := "smtp://user:pass@" + srv.Addr(); srv.URL() != want {
		t.Errorf("URL = %q, want %q", srv.URL(), want)
	}
	tlsSrv := mailtest.NewServer(t, mailtest.WithImplicitTLS())
	if want := "smtps://user:pass@" + tlsSrv.Addr(); tlsSrv.URL() != want {
		t.Errorf("URL = %q, want %q", tlsSrv.URL(), want)
	}
	if !strings.HasPrefix(srv.Addr(), "127.0.0.1:") {
		t.Errorf("Addr = %q, want 127.0.0.1", srv.Addr())
	}
}

func TestServerConcurrentSenders(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- send(srv.Addr(), plainAuth, "a@example.com", []string{fmt.Sprintf("u%d@example.com", i)}, fmt.Sprintf("Subject: %d\n\nbody\n", i))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	if got := len(srv.WaitFor(t, n, wait)); got != n {
		t.Errorf("got %d messages, want %d", got, n)
	}
}

// fakeTB records a fatal failure instead of ending the test.
type fakeTB struct {
	testing.TB
	mu    sync.Mutex
	fatal string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fatal = fmt.Sprintf(format, args...)
}

func TestWaitForTimesOut(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	ftb := &fakeTB{TB: t}
	if got := srv.WaitFor(ftb, 1, 10*time.Millisecond); got != nil {
		t.Errorf("WaitFor = %v, want nil", got)
	}
	if want := "mailtest: got 0 messages within 10ms, want 1"; ftb.fatal != want {
		t.Errorf("fatal = %q, want %q", ftb.fatal, want)
	}
}
