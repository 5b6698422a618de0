// Package sms sends text messages through an HTTP provider that speaks
// Twilio's Messages API: invitations and sign-up codes to phone numbers (SPEC
// docs/rules.md §6, "SMS goes to an HTTP provider; speak the request format that most SMS
// providers accept (Twilio's Messages API shape) so a real account works by
// configuration"). The request is API.md "Running": POST
// {URL}/2010-04-01/Accounts/{Account}/Messages.json with the form fields To,
// From and Body and HTTP basic auth Account:Token.
//
// It is an edge package: only the composition root (server) imports it and
// hands a *Sender to the outbox, which knows it only as outbox.SMSSender
// (internal/layout_test.go keeps net/http out of the domain packages). Tests
// use the recording provider in internal/sms/smstest.
package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config says which provider and account to use. It comes from --sms-url,
// --sms-account, --sms-token and --sms-from.
type Config struct {
	// URL is the provider's base URL, such as https://api.twilio.com. An
	// empty URL means SMS is not configured.
	URL string
	// Account and Token are the basic-auth credentials; Account is also part
	// of the path.
	Account string
	Token   string
	// From is the sending number (E.164) or sender id.
	From string
}

// ErrNotConfigured is returned by New for a Config without a URL. The server
// then keeps messages in the outbox and writes them to the log instead
// (API.md "Running").
var ErrNotConfigured = errors.New("sms is not configured")

// defaultTimeout bounds a send when New is given no client.
const defaultTimeout = 30 * time.Second

// maxErrorBody bounds how much of a provider's answer is read.
const maxErrorBody = 64 << 10

// Sender sends text messages through one provider account. It is safe for
// concurrent use.
type Sender struct {
	endpoint string
	account  string
	token    string
	from     string
	client   *http.Client
}

// New checks cfg and returns a Sender that uses client, or a client with a
// 30-second timeout when client is nil. It does not contact the provider.
func New(cfg Config, client *http.Client) (*Sender, error) {
	if strings.TrimSpace(cfg.URL) == "" {
		return nil, ErrNotConfigured
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		// url.Error repeats the URL, which may hold a password; say only
		// what is wrong.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("parse sms url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("sms url: scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("sms url: no host")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("sms url: put credentials in account and token, and no query or fragment in the url")
	}
	switch {
	case cfg.Account == "":
		return nil, errors.New("sms account is required")
	case cfg.Token == "":
		return nil, errors.New("sms token is required")
	case cfg.From == "":
		return nil, errors.New("sms from is required")
	}
	if client == nil {
		client = &http.Client{Timeout: defaultTimeout}
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/2010-04-01/Accounts/" + url.PathEscape(cfg.Account) + "/Messages.json"
	u.RawPath = ""
	return &Sender{
		endpoint: u.String(),
		account:  cfg.Account,
		token:    cfg.Token,
		from:     cfg.From,
		client:   client,
	}, nil
}

// Send sends body to the phone number to (E.164). It returns when the
// provider has accepted the message (Twilio answers 201 Created), or with an
// error; IsPermanent tells the two kinds of error apart.
//
// Its errors have a method Permanent() bool, so a package that does not
// import sms can ask through interface{ Permanent() bool }.
func (s *Sender) Send(ctx context.Context, to, body string) error {
	if err := s.send(ctx, to, body); err != nil {
		return &sendError{to: to, err: err, permanent: permanent(err)}
	}
	return nil
}

func (s *Sender) send(ctx context.Context, to, body string) error {
	if to == "" {
		return permanentError{errors.New("no recipient")}
	}
	if body == "" {
		return permanentError{errors.New("empty message")}
	}
	form := url.Values{"To": {to}, "From": {s.from}, "Body": {body}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.SetBasicAuth(s.account, s.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")

	resp, err := s.client.Do(req)
	if err != nil {
		// url.Error names the endpoint, which holds only the account id.
		return err
	}
	defer func() {
		_ = resp.Body.Close() // Read to the end below; nothing is lost.
	}()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Twilio's success is 201; a compatible provider answering 200 has
		// accepted the message as well.
		return nil
	}
	if err != nil {
		return fmt.Errorf("provider answered %s and the body could not be read: %w", resp.Status, err)
	}
	return readProviderError(resp.StatusCode, data)
}

// providerError is an error answer from the provider.
type providerError struct {
	status  int
	code    string
	message string
}

func (e *providerError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "provider answered %d %s", e.status, http.StatusText(e.status))
	if e.code != "" {
		fmt.Fprintf(&b, ": error %s", e.code)
	}
	if e.message != "" {
		fmt.Fprintf(&b, ": %s", e.message)
	}
	return b.String()
}

// readProviderError reads Twilio's error body, {"code": 21211, "message":
// "…", "more_info": "…", "status": 400}, into an error.
func readProviderError(status int, body []byte) error {
	e := &providerError{status: status}
	var v struct {
		Code    json.RawMessage `json:"code"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &v) == nil {
		e.code = strings.Trim(string(v.Code), `"`)
		if e.code == "null" {
			e.code = ""
		}
		e.message = v.Message
	}
	return e
}

// sendError is the error Send returns.
type sendError struct {
	to        string
	err       error
	permanent bool
}

func (e *sendError) Error() string { return fmt.Sprintf("send sms to %q: %v", e.to, e.err) }
func (e *sendError) Unwrap() error { return e.err }

// Permanent reports whether retrying the same message cannot help; see
// IsPermanent.
func (e *sendError) Permanent() bool { return e.permanent }

// permanentError marks a failure that retrying the same message cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err, from Send, says this message can never be
// sent as it is, so the outbox should stop retrying it and show the failure:
// the provider refused it with a 4xx answer (Twilio's 400 for an invalid or
// unreachable number, for example), or there was nothing to send.
//
// Everything else is temporary: 5xx answers, 429 Too Many Requests, 408
// Request Timeout, network errors, timeouts and cancellation, and 401
// Unauthorized, which is about Parley's credentials rather than this message:
// once an operator fixes them the waiting messages should go out.
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
	if pe, ok := errors.AsType[*providerError](err); ok {
		switch pe.status {
		case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusTooManyRequests:
			return false
		}
		return pe.status >= 400 && pe.status < 500
	}
	return false
}
