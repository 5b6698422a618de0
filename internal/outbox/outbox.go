// Package outbox holds docs/rules.md §6's durable delivery of email and SMS
// ("Delivery is durable: an outbox that survives restarts, retries with
// backoff, shows failures to admins"). A message is committed to the store
// before Enqueue returns, so a crash or restart before delivery loses
// nothing; a worker (Run) sends what is due, retries temporary failures with
// exponential backoff, and gives up at once on permanent ones. Without SMTP
// or an SMS provider configured, messages are written to the log and kept in
// the outbox with status logged (API.md "Running"), so a local trial works.
//
// Delivery is at least once: a message whose send succeeded but whose
// process died before recording it is sent again after its claim lapses.
//
// It is a domain package: it imports no storage, HTTP, SQL or mail package,
// and holds the queue and its rules only. The senders that speak SMTP and
// HTTP live at the edge (internal/mail, internal/sms); the composition root
// (server) builds them and sets them on the Service as MailSender and
// SMSSender. Invitation and sign-up code enqueue messages; httpapi lists
// them for tenant admins.
package outbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

// Channel is how a message travels.
type Channel string

// Channels.
const (
	Email Channel = "email"
	SMS   Channel = "sms"
)

// Status is where a message is in its delivery.
type Status string

// Statuses. A message is pending until it is sent, logged or failed; the
// three others are final.
const (
	Pending Status = "pending" // waiting for its first or next attempt
	Sent    Status = "sent"    // accepted by the SMTP server or SMS provider
	Logged  Status = "logged"  // channel not configured: written to the log instead
	Failed  Status = "failed"  // refused for good, or out of attempts
)

// LoggedPrefix starts the note of a message that was written to the log
// because its channel is not configured. The note is kept where the last
// error goes (the outbox has no separate column), so the store filters
// logged from sent by this prefix.
const LoggedPrefix = "logged:"

// Message is one email or SMS to one recipient.
type Message struct {
	ID      string
	Channel Channel
	// To is an email address (Email) or an E.164 phone number (SMS).
	To      string
	Subject string // Email only
	Body    string
	// TenantID is the sender's tenant, whose admins see the message; ""
	// for personal senders and for mail not sent on anyone's behalf.
	TenantID identity.TenantID
	SenderID identity.UserID
	// CreatedAt is when it was enqueued; NextAttemptAt when it is due.
	CreatedAt     time.Time
	NextAttemptAt time.Time
	// SentAt is set once sent or logged, FailedAt once given up.
	SentAt   time.Time
	FailedAt time.Time
	// Attempts counts the sends tried.
	Attempts int
	// LastError is the last send error, or for a logged message its note
	// (LoggedPrefix…).
	LastError string
}

// Status derives the message's status from its times.
func (m *Message) Status() Status {
	switch {
	case !m.FailedAt.IsZero():
		return Failed
	case !m.SentAt.IsZero() && strings.HasPrefix(m.LastError, LoggedPrefix):
		return Logged
	case !m.SentAt.IsZero():
		return Sent
	default:
		return Pending
	}
}

// NewMessage returns a pending message with a fresh id, due at once. Times
// are kept to the microsecond, the precision the store keeps.
func NewMessage(ch Channel, to, subject, body string, tenant identity.TenantID, sender identity.UserID, now time.Time) Message {
	now = now.UTC().Truncate(time.Microsecond)
	return Message{ID: NewID(), Channel: ch, To: to, Subject: subject, Body: body, TenantID: tenant, SenderID: sender,
		CreatedAt: now, NextAttemptAt: now}
}

// NewID returns a fresh random message id.
func NewID() string { return rand.Text() }

// ParseStatus checks a status given by a caller; "" means any status.
// Errors: badRequest.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case "", Pending, Sent, Logged, Failed:
		return st, nil
	}
	return "", errcode.New(errcode.BadRequest, "Status %q is not one of pending, sent, logged, failed.", s)
}

// Filter selects messages of a tenant.
type Filter struct {
	// Status selects one status; "" selects all.
	Status Status
}

// Store is the persistence the outbox needs.
type Store interface {
	// EnqueueOutbox stores a new pending message and returns once it is
	// committed.
	EnqueueOutbox(ctx context.Context, m Message) error
	// FindDueOutbox returns up to limit pending messages due at or before
	// now, the longest waiting first.
	FindDueOutbox(ctx context.Context, now time.Time, limit int) ([]Message, error)
	// ClaimOutbox moves a pending message's next attempt from due to until,
	// but only if it is still pending and still due at due: it reports
	// whether this caller won the message. A worker claims a message before
	// sending it, so two workers (two nodes on one PostgreSQL, or two passes
	// of one node) never send it together, and a worker that dies while
	// sending leaves it to be retried at until.
	ClaimOutbox(ctx context.Context, id string, due, until time.Time) (bool, error)
	// MarkOutboxSent records a send (or, with a LoggedPrefix note, a log
	// entry) and counts the attempt. Errors: notFound when no pending
	// message has the id.
	MarkOutboxSent(ctx context.Context, id string, at time.Time, note string) error
	// MarkOutboxRetry sets the attempts so far, the next attempt and the
	// last error of a pending message. Errors: notFound when no pending
	// message has the id.
	MarkOutboxRetry(ctx context.Context, id string, attempts int, next time.Time, errText string) error
	// MarkOutboxFailed gives a pending message up and counts the attempt.
	// Errors: notFound when no pending message has the id.
	MarkOutboxFailed(ctx context.Context, id string, at time.Time, errText string) error
	// FindOutbox returns up to limit messages sent on behalf of a tenant's
	// users, newest first.
	FindOutbox(ctx context.Context, tenant identity.TenantID, f Filter, limit int) ([]Message, error)
	// FindOutboxTo returns up to limit messages to e-mail addresses in the
	// domains of tenant to, newest first; every message when to is "".
	FindOutboxTo(ctx context.Context, to identity.TenantID, f Filter, limit int) ([]Message, error)
}

// MailSender sends one plain-text email; *mail.Sender is one. An error
// that retrying the same message cannot fix has a method Permanent() bool
// that returns true (see Permanent).
type MailSender interface {
	Send(ctx context.Context, to, subject, text string) error
}

// SMSSender sends one text message; *sms.Sender is one. Its errors tell
// permanent from temporary failures as MailSender's do.
type SMSSender interface {
	Send(ctx context.Context, to, body string) error
}

// Permanent reports whether err, from a sender, says the message can never
// be delivered as it is, so it is given up at once instead of retried: some
// error in its chain has a method Permanent() bool that returns true. What
// counts as permanent is the sender's call (mail.IsPermanent and
// sms.IsPermanent document theirs); an error without the method is
// temporary.
func Permanent(err error) bool {
	p, ok := errors.AsType[interface {
		error
		Permanent() bool
	}](err)
	return ok && p.Permanent()
}

// Defaults of the Service's tunables.
const (
	DefaultMaxAttempts  = 8
	DefaultPollInterval = time.Second
	DefaultSendTimeout  = time.Minute
	DefaultConcurrency  = 4
	// batch is how many due messages one pass takes.
	batch = 64
	// listDefault and listMax bound List.
	listDefault = 100
	listMax     = 1000
	// markTimeout bounds recording an outcome after the worker was told to
	// stop: a send that went out must still be recorded.
	markTimeout = 10 * time.Second
)

// Service queues and delivers outgoing messages. Set the fields, then call
// Run in its own goroutine; Enqueue may be called before Run starts (the
// message waits in the store). A Service must not be copied after first use.
type Service struct {
	Store Store
	// Mail and SMS send; nil means the channel is not configured, and its
	// messages are logged instead. Never set a typed nil pointer here.
	Mail MailSender
	SMS  SMSSender
	Log  *slog.Logger
	Now  func() time.Time
	// MaxAttempts is how many sends are tried before a temporarily failing
	// message is given up (default 8).
	MaxAttempts int
	// Backoff is the wait after the attempt-th failed send (attempt ≥ 1);
	// default DefaultBackoff.
	Backoff func(attempt int) time.Duration
	// PollInterval is how often the worker looks for due messages without
	// being kicked (default 1s). It is wall-clock time; due times use Now.
	PollInterval time.Duration
	// SendTimeout bounds one send; a claim lasts twice as long (default 1m).
	SendTimeout time.Duration
	// Concurrency is how many sends run at once (default 4).
	Concurrency int

	once sync.Once
	kick chan struct{}
}

func (s *Service) init() {
	s.once.Do(func() { s.kick = make(chan struct{}, 1) })
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Service) maxAttempts() int {
	if s.MaxAttempts > 0 {
		return s.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (s *Service) backoff(attempt int) time.Duration {
	if s.Backoff != nil {
		return s.Backoff(attempt)
	}
	return DefaultBackoff(attempt)
}

func (s *Service) sendTimeout() time.Duration {
	if s.SendTimeout > 0 {
		return s.SendTimeout
	}
	return DefaultSendTimeout
}

// DefaultBackoff waits 5s·2^attempt, at most an hour, give or take 20% so
// that messages that failed together do not all retry together.
func DefaultBackoff(attempt int) time.Duration {
	d := time.Hour
	if attempt < 20 {
		d = min(5*time.Second<<max(attempt, 0), time.Hour)
	}
	jitter := 0.8 + 0.4*mrand.Float64()
	return time.Duration(math.Round(float64(d) * jitter))
}

// Enqueue stores a message and wakes the worker. It returns once the message
// is committed, so it survives a crash from then on. Enqueuing a message
// inside another write (an invitation and its email together) is done by the
// store; call Kick after that commit.
func (s *Service) Enqueue(ctx context.Context, m Message) error {
	if err := check(m); err != nil {
		return err
	}
	if err := s.Store.EnqueueOutbox(ctx, m); err != nil {
		return fmt.Errorf("enqueue %s to outbox: %w", m.Channel, err)
	}
	s.Kick()
	return nil
}

func check(m Message) error {
	switch {
	case m.ID == "":
		return errors.New("enqueue: message has no id (use NewMessage)")
	case m.Channel != Email && m.Channel != SMS:
		return fmt.Errorf("enqueue: unknown channel %q", m.Channel)
	case m.To == "":
		return errors.New("enqueue: message has no recipient")
	case m.Body == "":
		return errors.New("enqueue: message has no body")
	case m.NextAttemptAt.IsZero() || m.CreatedAt.IsZero():
		return errors.New("enqueue: message has no times (use NewMessage)")
	}
	return nil
}

// Kick wakes the worker to look for due messages now. It never blocks.
func (s *Service) Kick() {
	s.init()
	select {
	case s.kick <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// Run is the worker: it delivers due messages when kicked and every
// PollInterval, until ctx ends. Store errors are logged and retried on the
// next pass. Call it once per Service.
func (s *Service) Run(ctx context.Context) {
	s.init()
	every := s.PollInterval
	if every <= 0 {
		every = DefaultPollInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := s.DeliverDue(ctx)
		if err != nil && ctx.Err() == nil {
			s.log().Error("outbox: find due messages", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil && n == batch {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-t.C:
		}
	}
}

// DeliverDue makes one pass: it claims and sends every message due now (up
// to one batch), records each outcome, and returns how many it found due.
// Run calls it; tests may call it directly for one deterministic pass.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	now := s.now()
	due, err := s.Store.FindDueOutbox(ctx, now, batch)
	if err != nil {
		return 0, err
	}
	workers := s.Concurrency
	if workers <= 0 {
		workers = DefaultConcurrency
	}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for _, m := range due {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return len(due), ctx.Err()
		}
		wg.Go(func() {
			defer func() { <-sem }()
			s.deliver(ctx, m)
		})
	}
	wg.Wait()
	return len(due), nil
}

// deliver claims, sends and records one message.
func (s *Service) deliver(ctx context.Context, m Message) {
	log := s.log().With("outbox_id", m.ID, "channel", string(m.Channel))
	timeout := s.sendTimeout()
	ok, err := s.Store.ClaimOutbox(ctx, m.ID, m.NextAttemptAt, s.now().Add(2*timeout))
	if err != nil {
		if ctx.Err() == nil {
			log.Error("outbox: claim message", "err", err)
		}
		return
	}
	if !ok {
		return // another worker has it, or it changed since it was found
	}
	// Outcomes are recorded even when ctx ends during the send: a message
	// that went out must not be sent again for want of a record.
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()

	if note, configured := s.configured(m.Channel); !configured {
		// API.md "Running": without SMTP/SMS the message goes to the log, so
		// a local trial can follow an invitation link or read a code. This
		// is the one place a body is logged; no credentials are involved.
		log.Info("outbox: "+note+"; message written here instead of sent",
			"to", m.To, "subject", m.Subject, "body", m.Body)
		if err := s.Store.MarkOutboxSent(mctx, m.ID, s.now(), LoggedPrefix+" "+note); err != nil {
			log.Error("outbox: record logged message", "err", err)
		}
		return
	}

	sctx, scancel := context.WithTimeout(ctx, timeout)
	err = s.send(sctx, m)
	scancel()
	attempt := m.Attempts + 1
	now := s.now()
	switch {
	case err == nil:
		log.Debug("outbox: sent", "attempt", attempt)
		if err := s.Store.MarkOutboxSent(mctx, m.ID, now, ""); err != nil {
			log.Error("outbox: record sent message", "err", err)
		}
	case ctx.Err() != nil:
		// Stopped mid-send (shutdown): not the message's fault. Release the
		// claim so the next start tries again at once, attempt uncounted.
		if err := s.Store.MarkOutboxRetry(mctx, m.ID, m.Attempts, now, m.LastError); err != nil {
			log.Error("outbox: release message at shutdown", "err", err)
		}
	case Permanent(err):
		log.Warn("outbox: delivery failed for good", "attempt", attempt, "err", err)
		if err := s.Store.MarkOutboxFailed(mctx, m.ID, now, err.Error()); err != nil {
			log.Error("outbox: record failed message", "err", err)
		}
	case attempt >= s.maxAttempts():
		log.Warn("outbox: giving up after the last attempt", "attempt", attempt, "err", err)
		text := fmt.Sprintf("gave up after %d attempts: %v", attempt, err)
		if err := s.Store.MarkOutboxFailed(mctx, m.ID, now, text); err != nil {
			log.Error("outbox: record failed message", "err", err)
		}
	default:
		next := now.Add(s.backoff(attempt))
		log.Info("outbox: delivery failed, will retry", "attempt", attempt, "next", next, "err", err)
		if err := s.Store.MarkOutboxRetry(mctx, m.ID, attempt, next, err.Error()); err != nil {
			log.Error("outbox: record retry", "err", err)
		}
	}
}

// configured reports whether the channel has a sender, and if not, the note
// to record.
func (s *Service) configured(ch Channel) (string, bool) {
	switch ch {
	case Email:
		return "no SMTP configured", s.Mail != nil
	case SMS:
		return "no SMS provider configured", s.SMS != nil
	}
	return "unknown channel " + string(ch), false
}

func (s *Service) send(ctx context.Context, m Message) error {
	if m.Channel == SMS {
		return s.SMS.Send(ctx, m.To, m.Body)
	}
	return s.Mail.Send(ctx, m.To, m.Subject, m.Body)
}

// List returns up to limit of the messages to the actor's organisation's
// own addresses (its domains) with the status ("" for all), newest first;
// limit ≤ 0 means 100, and at most 1000 are returned. Subjects come with
// their codes masked.
//
// Invitations a member sent are not among them, nor is anything to an
// address outside the organisation: a delivery exists exactly when the
// address has no account, so listing it to the sender's admins would tell
// them who has one (docs/rules.md §4 rule of silence). Mail to an organisation's
// own addresses does not depend on accounts elsewhere: sign-up notices go
// to every address of a verified domain, reset codes to the organisation's
// own people. ListAll is the operator's whole view (docs/decisions.md
// "Existence and visibility"). Errors: forbidden unless the actor is an
// admin of a tenant, badRequest for an unknown status.
func (s *Service) List(ctx context.Context, actor *identity.User, status Status, limit int) ([]Message, error) {
	if actor == nil || !actor.IsAdmin() || actor.TenantID == "" {
		return nil, errcode.New(errcode.Forbidden, "Only organisation admins can see the outbox.")
	}
	return s.list(ctx, actor.TenantID, status, limit)
}

// ListAll returns up to limit of every message with the status, newest
// first, as List does: the server operator's view, who runs SMTP and SMS
// and may see every account anyway. The caller checks that it is the
// operator. Errors: badRequest for an unknown status.
func (s *Service) ListAll(ctx context.Context, status Status, limit int) ([]Message, error) {
	return s.list(ctx, "", status, limit)
}

func (s *Service) list(ctx context.Context, to identity.TenantID, status Status, limit int) ([]Message, error) {
	if _, err := ParseStatus(string(status)); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = listDefault
	}
	limit = min(limit, listMax)
	msgs, err := s.Store.FindOutboxTo(ctx, to, Filter{Status: status}, limit)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	for i := range msgs {
		msgs[i].Subject = maskCodes(msgs[i].Subject)
	}
	return msgs, nil
}

// codes matches the one-time codes subjects carry (sign-up, password reset).
var codes = regexp.MustCompile(`[0-9]{6,}`)

// maskCodes hides one-time codes in a subject: whoever reads a delivery
// list must not be able to use them.
func maskCodes(s string) string { return codes.ReplaceAllString(s, "••••••") }

// Failures returns the failed messages to the actor's organisation's
// addresses, newest first (docs/rules.md §6, "shows failures to admins"). Errors:
// as List.
func (s *Service) Failures(ctx context.Context, actor *identity.User, limit int) ([]Message, error) {
	return s.List(ctx, actor, Failed, limit)
}
