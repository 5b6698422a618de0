// Package mailtest runs a real SMTP server in the test process that records
// what it receives, so tests can read the mail Parley sends (docs/rules.md §6
// invitations, sign-up codes). It is the SMTP edge of the world in docs/decisions.md "Tests":
// Parley's own sender talks real SMTP to it, with AUTH and, on request,
// STARTTLS or implicit TLS.
//
// Only tests may import it:
//
//	srv := mailtest.NewServer(t)
//	cfg := mail.Config{URL: srv.URL(), From: "parley@example.com"}
//	… // make Parley send an invitation
//	msg := srv.WaitFor(t, 1, 5*time.Second)[0]
//
// SetDown(true) simulates an outage (connections are refused) and
// SetDown(false) brings the server back on the same address.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The credentials the server accepts; URL includes them.
const (
	Username = "user"
	Password = "pass"
)

// Received is one message as the server received it.
type Received struct {
	// From and To are the envelope (MAIL FROM and RCPT TO).
	From string
	To   []string
	// Header is the parsed message header; Header.Get("From") is the sender
	// the recipient sees.
	Header mail.Header
	// Subject is the decoded Subject header.
	Subject string
	// Body is the first text/plain part, decoded from its transfer encoding
	// (quoted-printable or base64), with CRLF line ends turned into LF.
	Body string
	// HTML is the first text/html part, decoded the same way, if any.
	HTML string
	// Raw is the message exactly as sent in DATA.
	Raw []byte
	// TLS reports whether the message came over an encrypted connection
	// (STARTTLS or implicit TLS).
	TLS bool
}

// Option configures a Server.
type Option func(*options)

type options struct {
	startTLS    bool
	implicitTLS bool
}

// WithStartTLS makes the server offer STARTTLS with a self-signed
// certificate for 127.0.0.1; the client must skip verification.
func WithStartTLS() Option { return func(o *options) { o.startTLS = true } }

// WithImplicitTLS makes the server speak TLS from the first byte (smtps) with
// a self-signed certificate for 127.0.0.1; URL then starts with smtps://.
func WithImplicitTLS() Option { return func(o *options) { o.implicitTLS = true } }

// Server is a recording SMTP server on 127.0.0.1. Its methods are safe for
// concurrent use.
type Server struct {
	tb        testing.TB
	addr      string
	tlsConfig *tls.Config
	implicit  bool

	mu       sync.Mutex
	srv      *smtp.Server
	ln       net.Listener
	served   chan struct{} // closed when the current Serve returns
	msgs     []Received
	changed  chan struct{} // closed and replaced on every new message
	rejects  map[string]int
	closed   bool
	logMu    sync.Mutex
	logAlive bool
}

// NewServer starts a server on 127.0.0.1 on a free port and stops it when
// the test ends. It accepts AUTH PLAIN with Username and Password, also
// without TLS, and refuses mail from clients that did not authenticate.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	s := &Server{
		tb:       tb,
		implicit: o.implicitTLS,
		changed:  make(chan struct{}),
		rejects:  map[string]int{},
		logAlive: true,
	}
	if o.startTLS || o.implicitTLS {
		s.tlsConfig = selfSignedTLS(tb)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("mailtest: listen: %v", err)
	}
	s.addr = l.Addr().String()
	s.mu.Lock()
	s.serve(l)
	s.mu.Unlock()
	tb.Cleanup(s.Close)
	return s
}

// Addr returns the server's address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr }

// URL returns the URL for mail.Config: "smtp://user:pass@127.0.0.1:port", or
// smtps://… with WithImplicitTLS.
func (s *Server) URL() string {
	scheme := "smtp"
	if s.implicit {
		scheme = "smtps"
	}
	return fmt.Sprintf("%s://%s:%s@%s", scheme, Username, Password, s.addr)
}

// Messages returns the messages received so far, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// WaitFor waits until at least n messages have arrived and returns all
// received so far (oldest first). It fails the test if they do not arrive
// within timeout.
func (s *Server) WaitFor(tb testing.TB, n int, timeout time.Duration) []Received {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		msgs, changed := append([]Received(nil), s.msgs...), s.changed
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs
		}
		select {
		case <-changed:
		case <-deadline.C:
			tb.Fatalf("mailtest: got %d messages within %v, want %d", len(msgs), timeout, n)
			return nil
		}
	}
}

// RejectRecipient makes the server answer RCPT TO for addr (compared
// case-insensitively) with code: 550 for a permanent failure, 450 for a
// temporary one. Code 0 accepts the recipient again.
func (s *Server) RejectRecipient(addr string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.rejects, strings.ToLower(addr))
		return
	}
	s.rejects[strings.ToLower(addr)] = code
}

// SetDown stops the server (down=true: connections are refused, open ones
// are cut) or starts it again on the same address (down=false). Calling it
// twice with the same value does nothing.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if down {
		s.stopLocked()
		return
	}
	if s.srv != nil {
		return
	}
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		// Errorf, not Fatalf: SetDown may be called from any goroutine.
		s.tb.Errorf("mailtest: listen again on %s: %v", s.addr, err)
		return
	}
	s.serve(l)
}

// Close stops the server for good. It is called when the test ends; calling
// it earlier is allowed.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		s.stopLocked()
	}
	s.mu.Unlock()
	// The server may still be finishing a connection; stop reporting to a
	// test that is over.
	s.logMu.Lock()
	s.logAlive = false
	s.logMu.Unlock()
}

// serve starts a go-smtp server on l. s.mu must be held.
func (s *Server) serve(l net.Listener) {
	if s.implicit {
		l = tls.NewListener(l, s.tlsConfig)
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "mailtest.localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	srv.ErrorLog = logger{s}
	if !s.implicit {
		srv.TLSConfig = s.tlsConfig // nil: no STARTTLS
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		// Serve returns nil after Close and an error only if accepting
		// fails, which the connections a test makes then report.
		_ = srv.Serve(l)
	}()
	s.srv, s.ln, s.served = srv, l, served
}

// stopLocked closes the running server, if any, and waits until it stops
// accepting. s.mu must be held.
func (s *Server) stopLocked() {
	if s.srv == nil {
		return
	}
	// srv.Close closes the listeners Serve has registered; if the serving
	// goroutine has not got that far yet, closing l ourselves ends it too.
	_ = s.srv.Close() // Its only errors are "already closed" ones.
	_ = s.ln.Close()  // Likewise.
	<-s.served
	s.srv, s.ln, s.served = nil, nil, nil
}

func (s *Server) logf(format string, args ...any) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if s.logAlive {
		s.tb.Logf(format, args...)
	}
}

// logger sends go-smtp's error log to the test log.
type logger struct{ s *Server }

func (l logger) Printf(format string, v ...any) { l.s.logf("mailtest: "+format, v...) }
func (l logger) Println(v ...any)               { l.s.logf("mailtest: %s", fmt.Sprintln(v...)) }

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, conn: c}, nil
}

// session is one SMTP connection.
type session struct {
	s      *Server
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if (identity != "" && identity != username) || username != Username || password != Password {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.s.mu.Lock()
	code := ss.s.rejects[strings.ToLower(to)]
	ss.s.mu.Unlock()
	if code != 0 {
		enhanced := smtp.EnhancedCode{5, 1, 1}
		if code < 500 {
			enhanced = smtp.EnhancedCode{4, 2, 1}
		}
		return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: "mailbox unavailable: " + to}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if !ss.authed {
		return smtp.ErrAuthRequired
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := parse(raw)
	if err != nil {
		ss.s.logf("mailtest: refusing malformed message: %v", err)
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "malformed message: " + err.Error()}
	}
	msg.From = ss.from
	msg.To = append([]string(nil), ss.to...)
	_, msg.TLS = ss.conn.TLSConnectionState()

	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, msg)
	close(ss.s.changed)
	ss.s.changed = make(chan struct{})
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.to = "", nil
}

func (ss *session) Logout() error { return nil }

// parse reads the header, subject and text of a MIME message.
func parse(raw []byte) (Received, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, fmt.Errorf("read message: %w", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return Received{}, fmt.Errorf("decode subject: %w", err)
	}
	msg := Received{Header: m.Header, Subject: subject, Raw: raw}
	if err := readPart(&msg, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body); err != nil {
		return Received{}, err
	}
	return msg, nil
}

// readPart fills msg.Body and msg.HTML from a part and its sub-parts.
func readPart(msg *Received, contentType, encoding string, body io.Reader) error {
	mediaType, params := "text/plain", map[string]string{}
	if contentType != "" {
		var err error
		mediaType, params, err = mime.ParseMediaType(contentType)
		if err != nil {
			return fmt.Errorf("content type %q: %w", contentType, err)
		}
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			// NextRawPart leaves the transfer encoding to readPart, which
			// handles base64 as well.
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %w", err)
			}
			if err := readPart(msg, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	if mediaType != "text/plain" && mediaType != "text/html" {
		return nil
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: body})
	case "", "7bit", "8bit", "binary":
	default:
		return fmt.Errorf("unknown transfer encoding %q", encoding)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("decode %s body: %w", mediaType, err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch {
	case mediaType == "text/plain" && msg.Body == "":
		msg.Body = text
	case mediaType == "text/html" && msg.HTML == "":
		msg.HTML = text
	}
	return nil
}

// newlineStripper drops CR and LF so base64 lines decode as one stream.
type newlineStripper struct{ r io.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// selfSignedTLS returns a server TLS config with a fresh certificate for
// 127.0.0.1, ::1 and localhost.
func selfSignedTLS(tb testing.TB) *tls.Config {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("mailtest: generate key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		tb.Fatalf("mailtest: serial: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "mailtest"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatalf("mailtest: create certificate: %v", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}
}
