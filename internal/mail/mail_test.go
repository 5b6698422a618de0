package mail_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/mail"
	"github.com/parleychat/parley/internal/mail/mailtest"
)

const wait = 10 * time.Second

// MustNew returns a Sender for cfg and fails the test if it cannot.
func MustNew(tb testing.TB, cfg mail.Config) *mail.Sender {
	tb.Helper()
	s, err := mail.New(cfg)
	if err != nil {
		tb.Fatalf("mail.New(%+v): %v", cfg, err)
	}
	return s
}

func testContext(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), wait)
	tb.Cleanup(cancel)
	return ctx
}

func TestSend(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	s := MustNew(t, mail.Config{URL: srv.URL(), From: "Parley <noreply@parley.example>"})

	// Non-ASCII and a line longer than 76 characters make go-mail use
	// quoted-printable with soft line breaks, which the server must undo.
	text := "Hallo Jürgen,\n\nAnna invited you to chat: https://parley.example/join/" +
		strings.Repeat("x", 90) + "\n\n— Parley\n"
	err := s.Send(testContext(t), "juergen@example.com", "Anna möchte mit Ihnen chatten", text)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := srv.WaitFor(t, 1, wait)
	if len(got) != 1 {
		t.Fatalf("got %d messages, want 1", len(got))
	}
	m := got[0]
	if m.From != "noreply@parley.example" {
		t.Errorf("envelope from = %q, want %q", m.From, "noreply@parley.example")
	}
	if diff := cmp.Diff([]string{"juergen@example.com"}, m.To); diff != "" {
		t.Errorf("envelope to (-want +got):\n%s", diff)
	}
	if got, want := m.Header.Get("From"), `"Parley" <noreply@parley.example>`; got != want {
		t.Errorf("From header = %q, want %q", got, want)
	}
	if got, want := m.Header.Get("To"), "<juergen@example.com>"; got != want {
		t.Errorf("To header = %q, want %q", got, want)
	}
	if got, want := m.Subject, "Anna möchte mit Ihnen chatten"; got != want {
		t.Errorf("subject = %q, want %q", got, want)
	}
	if diff := cmp.Diff(text, m.Body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if m.TLS {
		t.Errorf("TLS = true, want false: the server offers no STARTTLS")
	}
	if got := m.Header.Get("User-Agent"); got != "Parley" {
		t.Errorf("User-Agent = %q, want %q", got, "Parley")
	}
	if m.Header.Get("Date") == "" || m.Header.Get("Message-Id") == "" {
		t.Errorf("missing Date or Message-ID header: %v", m.Header)
	}
}

func TestSendConcurrently(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	s := MustNew(t, mail.Config{URL: srv.URL(), From: "noreply@parley.example"})
	const n = 10
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.Send(testContext(t), fmt.Sprintf("u%d@example.com", i), fmt.Sprint(i), "t")
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	got := srv.WaitFor(t, n, wait)
	seen := map[string]bool{}
	for _, m := range got {
		seen[m.To[0]] = true
	}
	if len(seen) != n {
		t.Errorf("got mail for %d distinct recipients, want %d", len(seen), n)
	}
}

func TestSendSubjectIsOneLine(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	s := MustNew(t, mail.Config{URL: srv.URL(), From: "noreply@parley.example"})

	err := s.Send(testContext(t), "bob@example.com", "Hi\r\nBcc: eve@example.com", "x")
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := srv.WaitFor(t, 1, wait)[0]
	if got, want := m.Subject, "Hi Bcc: eve@example.com"; got != want {
		t.Errorf("subject = %q, want %q", got, want)
	}
	if bcc := m.Header.Get("Bcc"); bcc != "" {
		t.Errorf("Bcc header = %q, want none", bcc)
	}
	if diff := cmp.Diff([]string{"bob@example.com"}, m.To); diff != "" {
		t.Errorf("envelope to (-want +got):\n%s", diff)
	}
}

func TestSendTLS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  mailtest.Option
	}{
		{name: "STARTTLS", opt: mailtest.WithStartTLS()},
		{name: "implicit TLS", opt: mailtest.WithImplicitTLS()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.NewServer(t, tt.opt)
			s := MustNew(t, mail.Config{URL: srv.URL(), From: "noreply@parley.example", InsecureSkipVerify: true})
			if err := s.Send(testContext(t), "bob@example.com", "s", "t\n"); err != nil {
				t.Fatalf("Send: %v", err)
			}
			m := srv.WaitFor(t, 1, wait)[0]
			if !m.TLS {
				t.Errorf("TLS = false, want true")
			}
			if m.Body != "t\n" {
				t.Errorf("body = %q, want %q", m.Body, "t\n")
			}
		})
	}
}

func TestSendTLSVerifiesCertificate(t *testing.T) {
	t.Parallel()
	for _, opt := range []mailtest.Option{mailtest.WithStartTLS(), mailtest.WithImplicitTLS()} {
		srv := mailtest.NewServer(t, opt)
		s := MustNew(t, mail.Config{URL: srv.URL(), From: "noreply@parley.example"})
		err := s.Send(testContext(t), "bob@example.com", "s", "t")
		if err == nil {
			t.Fatalf("Send to %s with a self-signed certificate succeeded, want an error", srv.URL())
		}
		if mail.IsPermanent(err) {
			t.Errorf("IsPermanent(%v) = true, want false: a certificate problem is fixed by configuration", err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("server received %d messages, want 0", n)
		}
	}
}

func TestSendServerDown(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	s := MustNew(t, mail.Config{URL: srv.URL(), From: "noreply@parley.example"})

	srv.SetDown(true)
	err := s.Send(testContext(t), "bob@example.com", "s", "t")
	if err == nil {
		t.Fatal("Send to a server that is down succeeded, want an error")
	}
	if !strings.Contains(err.Error(), `send mail to "bob@example.com"`) {
		t.Errorf("error %q does not name the recipient", err)
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %q, want connection refused", err)
	}
	if mail.IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = true, want false", err)
	}

	// The outage ends; the same sender delivers again.
	srv.SetDown(false)
	if err := s.Send(testContext(t), "bob@example.com", "s", "t"); err != nil {
		t.Fatalf("Send after the server came back: %v", err)
	}
	srv.WaitFor(t, 1, wait)
}

func TestSendRecipientRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		code      int
		permanent bool
	}{
		{name: "550 is permanent", code: 550, permanent: true},
		{name: "450 is temporary", code: 450, permanent: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.NewServer(t)
			srv.RejectRecipient("nobody@example.com", tt.code)
			s := MustNew(t, mail.Config{URL: srv.URL(), From: "noreply@parley.example"})

			err := s.Send(testContext(t), "Nobody@example.com", "s", "t")
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if got := mail.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.permanent)
			}
			// The verdict survives wrapping and can be read without importing
			// mail, as the outbox does.
			wrapped := fmt.Errorf("deliver invitation: %w", err)
			if got := mail.IsPermanent(wrapped); got != tt.permanent {
				t.Errorf("IsPermanent(wrapped) = %v, want %v", got, tt.permanent)
			}
			var p interface{ Permanent() bool }
			if !errors.As(wrapped, &p) || p.Permanent() != tt.permanent {
				t.Errorf("error %v does not report Permanent() = %v", err, tt.permanent)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server received %d messages, want 0", n)
			}

			// The connection is not left in a bad state for other recipients.
			if err := s.Send(testContext(t), "bob@example.com", "s", "t"); err != nil {
				t.Fatalf("Send to an accepted recipient: %v", err)
			}
			srv.WaitFor(t, 1, wait)
		})
	}
}

// Failures that are about the configuration, not the message, stay
// temporary so the outbox delivers once an operator fixes them.
func TestSendConfigurationProblemsAreTemporary(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	addr := srv.Addr()
	tests := []struct {
		name string
		url  string
	}{
		{name: "wrong password", url: "smtp://user:wrong@" + addr},
		{name: "no credentials", url: "smtp://" + addr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MustNew(t, mail.Config{URL: tt.url, From: "noreply@parley.example"})
			err := s.Send(testContext(t), "bob@example.com", "s", "t")
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if mail.IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = true, want false", err)
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages, want 0", n)
	}
}

func TestSendInvalidRecipient(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t)
	s := MustNew(t, mail.Config{URL: srv.URL(), From: "noreply@parley.example"})
	for _, to := range []string{"", "not an address", "a@b.com, c@d.com"} {
		err := s.Send(testContext(t), to, "s", "t")
		if err == nil {
			t.Errorf("Send to %q succeeded, want an error", to)
			continue
		}
		if !mail.IsPermanent(err) {
			t.Errorf("IsPermanent(%v) = false, want true", err)
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages, want 0", n)
	}
}

func TestSendHonoursContext(t *testing.T) {
	t.Parallel()

	// A server that accepts connections and never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		for c := range accepted {
			_ = c.Close()
		}
	})

	s := MustNew(t, mail.Config{URL: "smtp://" + l.Addr().String(), From: "noreply@parley.example"})

	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- s.Send(ctx, "bob@example.com", "s", "t") }()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("Send to a silent server succeeded, want an error")
			}
			if mail.IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = true, want false", err)
			}
		case <-time.After(wait):
			t.Fatalf("Send did not return within %v of its 100ms deadline", wait)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s.Send(ctx, "bob@example.com", "s", "t") }()
		// Cancel once the sender is connected and waiting for the greeting.
		select {
		case <-accepted:
		case <-time.After(wait):
			t.Fatal("sender did not connect")
		}
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Send = %v, want context.Canceled", err)
			}
		case <-time.After(wait):
			t.Fatalf("Send did not return within %v of cancel", wait)
		}
	})

	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := s.Send(ctx, "bob@example.com", "s", "t"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Send = %v, want context.Canceled", err)
		}
	})
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     mail.Config
		wantErr string // "" means valid
	}{
		{name: "smtp with auth", cfg: mail.Config{URL: "smtp://user:pass@mail.example.com:587", From: "noreply@parley.example"}},
		{name: "smtps default port", cfg: mail.Config{URL: "smtps://mail.example.com", From: "Parley <noreply@parley.example>"}},
		{name: "escaped user", cfg: mail.Config{URL: "smtp://me%40example.com:p%40ss@mail.example.com", From: "noreply@parley.example"}},
		{name: "ipv6 host", cfg: mail.Config{URL: "smtp://[::1]:2525", From: "noreply@parley.example"}},
		{name: "trailing slash", cfg: mail.Config{URL: "smtp://mail.example.com/", From: "noreply@parley.example"}},

		{name: "empty url", cfg: mail.Config{From: "noreply@parley.example"}, wantErr: "not configured"},
		{name: "http scheme", cfg: mail.Config{URL: "http://mail.example.com", From: "noreply@parley.example"}, wantErr: "scheme"},
		{name: "no scheme", cfg: mail.Config{URL: "mail.example.com:25", From: "noreply@parley.example"}, wantErr: "scheme"},
		{name: "no host", cfg: mail.Config{URL: "smtp://user:pass@:25", From: "noreply@parley.example"}, wantErr: "no host"},
		{name: "bad port", cfg: mail.Config{URL: "smtp://secret:hunter2@mail.example.com:smtp", From: "noreply@parley.example"}, wantErr: "port"},
		{name: "port out of range", cfg: mail.Config{URL: "smtp://mail.example.com:70000", From: "noreply@parley.example"}, wantErr: "port"},
		{name: "path", cfg: mail.Config{URL: "smtp://mail.example.com/x", From: "noreply@parley.example"}, wantErr: "only scheme"},
		{name: "query", cfg: mail.Config{URL: "smtp://mail.example.com?tls=no", From: "noreply@parley.example"}, wantErr: "only scheme"},
		{name: "no from", cfg: mail.Config{URL: "smtp://mail.example.com"}, wantErr: "smtp from"},
		{name: "bad from", cfg: mail.Config{URL: "smtp://mail.example.com", From: "parley"}, wantErr: "smtp from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := mail.New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if s == nil {
					t.Fatal("New returned a nil Sender")
				}
				return
			}
			if err == nil {
				t.Fatalf("New(%+v) succeeded, want an error containing %q", tt.cfg, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New error = %q, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("New error %q contains the password", err)
			}
		})
	}
	if _, err := mail.New(mail.Config{}); !errors.Is(err, mail.ErrNotConfigured) {
		t.Errorf("New(empty) = %v, want ErrNotConfigured", err)
	}
}

func TestIsPermanent(t *testing.T) {
	t.Parallel()
	if mail.IsPermanent(nil) {
		t.Error("IsPermanent(nil) = true")
	}
	if mail.IsPermanent(errors.New("boom")) {
		t.Error("IsPermanent(plain error) = true")
	}
}
