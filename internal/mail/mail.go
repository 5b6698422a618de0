// Package mail sends email over SMTP: invitations, sign-up codes and
// password resets (docs/rules.md §6, "SMTP is real SMTP (host, port, TLS, auth
// configurable)"). It knows nothing of what it sends; invite and auth build
// the text, and the outbox that retries (docs/rules.md §6, "Delivery is durable") asks the
// error's Permanent method whether a failure is worth retrying.
//
// It is an edge package: only the composition root (server) imports it and
// hands a *Sender to the outbox, which knows it only as outbox.MailSender
// (internal/layout_test.go keeps go-mail out of the domain packages). Tests
// that need to read the mail that was sent use the recording server in
// internal/mail/mailtest.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	stdmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Config says where and how to send mail. It comes from --smtp-url and
// --smtp-from.
type Config struct {
	// URL is the SMTP server: smtp://user:pass@host:port uses STARTTLS when
	// the server offers it (port 587 when none is given); smtps://… uses
	// implicit TLS (port 465 when none is given). User and password are
	// optional and percent-encoded; without them no AUTH is attempted. With
	// them, AUTH uses PLAIN or LOGIN (or a stronger mechanism if the server
	// offers neither), and the password is only ever sent over TLS or to
	// localhost. An empty URL means mail is not configured.
	URL string
	// From is the sender, a bare address or "Name <address>".
	From string
	// InsecureSkipVerify accepts any server certificate. It exists for tests
	// with self-signed certificates; never set it in production.
	InsecureSkipVerify bool
}

// ErrNotConfigured is returned by New for a Config without a URL. The server
// then keeps mail in the outbox and writes it to the log instead (API.md
// "Running").
var ErrNotConfigured = errors.New("smtp is not configured")

// Default ports (RFC 6409 submission with STARTTLS, RFC 8314 implicit TLS)
// and the longest a single send may take when the context sets no deadline.
const (
	defaultPort        = 587
	defaultPortTLS     = 465
	defaultSendTimeout = 30 * time.Second
)

// Sender sends email through one SMTP server. It is safe for concurrent use;
// each Send opens its own connection.
type Sender struct {
	host        string
	port        int
	implicitTLS bool
	username    string
	password    string
	from        string
	tlsConfig   *tls.Config
}

// New checks cfg and returns a Sender. It does not connect: a server that is
// down at start-up is an outage for the outbox to ride out, not a
// configuration error.
func New(cfg Config) (*Sender, error) {
	if strings.TrimSpace(cfg.URL) == "" {
		return nil, ErrNotConfigured
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		// url.Error repeats the URL, password included; say only what is wrong.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("parse smtp url: %w", err)
	}
	s := &Sender{}
	switch u.Scheme {
	case "smtp":
		s.port = defaultPort
	case "smtps":
		s.port, s.implicitTLS = defaultPortTLS, true
	default:
		return nil, fmt.Errorf("smtp url: scheme %q is not smtp or smtps", u.Scheme)
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, errors.New("smtp url: no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("smtp url: port %q is not a port number", p)
		}
		s.port = n
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, errors.New("smtp url: only scheme, user, password, host and port are allowed")
	}
	if u.User != nil {
		s.username = u.User.Username()
		s.password, _ = u.User.Password()
	}
	from, err := stdmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp from %q: %w", cfg.From, err)
	}
	s.from = from.String()
	s.tlsConfig = &tls.Config{
		ServerName:         s.host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: cfg.InsecureSkipVerify, //nolint:gosec // Test-only switch, documented on Config.
	}
	return s, nil
}

// Send delivers one plain-text email with subject and text to the address
// to, over a new connection. It returns when the server has accepted the
// message for delivery, or with an error; IsPermanent tells the two kinds of
// error apart. ctx bounds the whole exchange, not just the dial.
//
// Its errors have a method Permanent() bool, so a package that does not
// import mail (the outbox) can ask through interface{ Permanent() bool }.
func (s *Sender) Send(ctx context.Context, to, subject, text string) error {
	if err := s.send(ctx, to, subject, text); err != nil {
		return &sendError{to: to, err: err, permanent: permanent(err)}
	}
	return nil
}

func (s *Sender) send(ctx context.Context, to, subject, text string) error {
	msg, err := s.message(to, subject, text)
	if err != nil {
		return permanentError{err}
	}

	timeout := defaultSendTimeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(deadline))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if timeout <= 0 {
		return context.DeadlineExceeded
	}

	// go-mail applies ctx to the dial only and then uses its own timeout.
	// Closing the connection when ctx ends makes cancellation reach a send
	// that is already talking to the server.
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	dial := func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{}
		var conn net.Conn
		var err error
		if s.implicitTLS {
			conn, err = (&tls.Dialer{NetDialer: d, Config: s.tlsConfig}).DialContext(dialCtx, network, addr)
		} else {
			conn, err = d.DialContext(dialCtx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		stop = context.AfterFunc(ctx, func() {
			_ = conn.Close() // Aborting: the send reports ctx's error instead.
		})
		return conn, nil
	}

	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(s.tlsConfig),
		gomail.WithDialContextFunc(dial),
	}
	if s.implicitTLS {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.username != "" {
		// PLAIN or LOGIN, whichever the server offers; go-mail still refuses
		// to send them in clear text except to localhost.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.username),
			gomail.WithPassword(s.password),
		)
	}
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return err
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if ctxErr := ctx.Err(); err != nil && ctxErr != nil {
		return fmt.Errorf("%w: %w", ctxErr, err)
	}
	return err
}

// message builds the MIME message. Its errors are about the message itself,
// so they are permanent.
func (s *Sender) message(to, subject, text string) (*gomail.Msg, error) {
	rcpt, err := stdmail.ParseAddress(to)
	if err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return nil, fmt.Errorf("sender: %w", err)
	}
	if err := msg.To(rcpt.String()); err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	// A line break in a header would end it; the subject is one line.
	msg.Subject(strings.Join(strings.Fields(subject), " "))
	msg.SetBodyString(gomail.TypeTextPlain, text)
	msg.SetUserAgent("Parley")
	return msg, nil
}

// sendError is the error Send returns.
type sendError struct {
	to        string
	err       error
	permanent bool
}

func (e *sendError) Error() string { return fmt.Sprintf("send mail to %q: %v", e.to, e.err) }
func (e *sendError) Unwrap() error { return e.err }

// Permanent reports whether retrying the same message cannot help; see
// IsPermanent.
func (e *sendError) Permanent() bool { return e.permanent }

// permanentError marks a failure that retrying the same message cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err, from Send, says this message can never be
// delivered as it is, so the outbox should stop retrying it and show the
// failure: the server refused a recipient or the content with a 5xx reply,
// or the message itself is malformed (an unparsable recipient).
//
// Everything else is temporary: 4xx replies, refused or dropped connections,
// timeouts, cancellation, and also TLS and AUTH failures and a refused sender
// (MAIL FROM, where servers also answer "authenticate first"). Those are
// about the server or Parley's configuration, not this message, and once an
// operator fixes them the waiting mail should go out.
func IsPermanent(err error) bool {
	p, ok := errors.AsType[interface {
		error
		Permanent() bool
	}](err)
	return ok && p.Permanent()
}

// permanent classifies an error from send; IsPermanent documents the rule.
func permanent(err error) bool {
	if _, ok := errors.AsType[permanentError](err); ok {
		return true
	}
	se, ok := errors.AsType[*gomail.SendError](err)
	if !ok || se.IsTemp() {
		return false
	}
	switch se.Reason {
	case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
		code := se.ErrorCode()
		return code >= 500 && code < 600
	}
	return false
}
