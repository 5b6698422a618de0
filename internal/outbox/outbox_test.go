package outbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/mail"
	"github.com/parleychat/parley/internal/mail/mailtest"
	"github.com/parleychat/parley/internal/outbox"
	"github.com/parleychat/parley/internal/sms"
	"github.com/parleychat/parley/internal/sms/smstest"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// wait bounds every wait for the worker; nothing here sleeps.
const wait = 10 * time.Second

const tenant identity.TenantID = "t1"

var (
	admin  = &identity.User{ID: "admin1", TenantID: tenant, Kind: identity.Member, Role: identity.RoleAdmin}
	sender = identity.UserID("u1")
	epoch  = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
)

// clock is a fake clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: epoch} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func tempStore(tb testing.TB) *store.DB {
	tb.Helper()
	return storetest.Open(tb, store.SQLite)
}

// MustMail returns a sender for the recording SMTP server.
func MustMail(tb testing.TB, srv *mailtest.Server) *mail.Sender {
	tb.Helper()
	s, err := mail.New(mail.Config{URL: srv.URL(), From: "Parley <parley@example.com>"})
	if err != nil {
		tb.Fatalf("mail.New: %v", err)
	}
	return s
}

// MustSMS returns a sender for the recording SMS provider.
func MustSMS(tb testing.TB, srv *smstest.Server) *sms.Sender {
	tb.Helper()
	s, err := sms.New(sms.Config{URL: srv.URL(), Account: smstest.Account, Token: smstest.Token, From: "+15005550006"}, nil)
	if err != nil {
		tb.Fatalf("sms.New: %v", err)
	}
	return s
}

// startWorker runs svc's worker until the test ends.
func startWorker(tb testing.TB, svc *outbox.Service) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.Run(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
	})
}

func mustEnqueue(tb testing.TB, svc *outbox.Service, m outbox.Message) outbox.Message {
	tb.Helper()
	if err := svc.Enqueue(tb.Context(), m); err != nil {
		tb.Fatalf("Enqueue: %v", err)
	}
	return m
}

func email(to string, now time.Time) outbox.Message {
	return outbox.NewMessage(outbox.Email, to, "Anna invited you to Parley",
		"Join the chat: https://parley.example/join/tok-"+to+"\n", tenant, sender, now)
}

// find returns the stored message with the id.
func find(tb testing.TB, db *store.DB, id string) outbox.Message {
	tb.Helper()
	msgs, err := db.FindOutbox(context.Background(), tenant, outbox.Filter{}, 1000)
	if err != nil {
		tb.Fatalf("FindOutbox: %v", err)
	}
	for _, m := range msgs {
		if m.ID == id {
			return m
		}
	}
	tb.Fatalf("message %s is not in the outbox", id)
	return outbox.Message{}
}

// waitFor waits until cond holds for the stored message, and returns it. It
// polls the store (the worker's only output besides the wire) until the
// deadline; what it checks is never a duration.
func waitFor(tb testing.TB, db *store.DB, id, what string, cond func(m outbox.Message) bool) outbox.Message {
	tb.Helper()
	var m outbox.Message
	eventually(tb, func() string { return fmt.Sprintf("message %s %s (last state %+v)", id, what, m) }, func() bool {
		m = find(tb, db, id)
		return cond(m)
	})
	return m
}

// eventually checks cond until it holds, failing the test at the deadline.
func eventually(tb testing.TB, what func() string, cond func() bool) {
	tb.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			tb.Fatalf("not %s within %v", what(), wait)
		}
	}
}

func TestDeliverEmailAndSMS(t *testing.T) {
	t.Parallel()
	smtpSrv, smsSrv := mailtest.NewServer(t), smstest.NewServer(t)
	db := tempStore(t)
	clk := newClock()
	svc := &outbox.Service{Store: db, Mail: MustMail(t, smtpSrv), SMS: MustSMS(t, smsSrv), Now: clk.Now}
	startWorker(t, svc)

	em := mustEnqueue(t, svc, email("ann@example.com", clk.Now()))
	tm := mustEnqueue(t, svc, outbox.NewMessage(outbox.SMS, "+14155550100", "", "Your Parley code is 123456", tenant, sender, clk.Now()))

	got := smtpSrv.WaitFor(t, 1, wait)[0]
	if !cmp.Equal(got.To, []string{"ann@example.com"}) || got.Subject != em.Subject || got.Body != em.Body {
		t.Errorf("mail: got to %v subject %q body %q, want to [ann@example.com] subject %q body %q", got.To, got.Subject, got.Body, em.Subject, em.Body)
	}
	want := []smstest.Received{{To: "+14155550100", From: "+15005550006", Body: tm.Body}}
	if diff := cmp.Diff(want, smsSrv.WaitFor(t, 1, wait)); diff != "" {
		t.Errorf("sms (-want +got):\n%s", diff)
	}
	for _, id := range []string{em.ID, tm.ID} {
		m := waitFor(t, db, id, "sent", func(m outbox.Message) bool { return m.Status() == outbox.Sent })
		if m.Attempts != 1 || !m.SentAt.Equal(epoch) || m.LastError != "" {
			t.Errorf("message %s: got attempts %d sentAt %v lastError %q, want 1, %v, \"\"", id, m.Attempts, m.SentAt, m.LastError, epoch)
		}
	}
	if n := len(smtpSrv.Messages()); n != 1 {
		t.Errorf("SMTP server got %d messages, want exactly 1", n)
	}
}

// TestRetryWhileSMTPDown: docs/rules.md §6 "retries with backoff": each failed attempt
// waits Backoff(attempt) on the service's clock, and the mail goes out once
// the server is back.
func TestRetryWhileSMTPDown(t *testing.T) {
	t.Parallel()
	smtpSrv := mailtest.NewServer(t)
	db := tempStore(t)
	clk := newClock()
	var backoffs []int
	var mu sync.Mutex
	svc := &outbox.Service{Store: db, Mail: MustMail(t, smtpSrv), Now: clk.Now, PollInterval: time.Hour,
		Backoff: func(attempt int) time.Duration {
			mu.Lock()
			backoffs = append(backoffs, attempt)
			mu.Unlock()
			return time.Duration(attempt) * time.Minute
		}}
	smtpSrv.SetDown(true)
	startWorker(t, svc)

	m := mustEnqueue(t, svc, email("ann@example.com", clk.Now()))
	got := waitFor(t, db, m.ID, "retried once", func(m outbox.Message) bool { return m.Attempts == 1 })
	if got.Status() != outbox.Pending || got.LastError == "" || !got.NextAttemptAt.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("after attempt 1: got status %s lastError %q next %v, want pending, an error, %v", got.Status(), got.LastError, got.NextAttemptAt, epoch.Add(time.Minute))
	}

	// Not due yet: a pass on the same clock sends nothing.
	if n, err := svc.DeliverDue(t.Context()); err != nil || n != 0 {
		t.Fatalf("DeliverDue before the backoff ended: got %d, %v, want 0, nil", n, err)
	}

	clk.Advance(time.Minute)
	svc.Kick()
	got = waitFor(t, db, m.ID, "retried twice", func(m outbox.Message) bool { return m.Attempts == 2 })
	if want := epoch.Add(time.Minute + 2*time.Minute); !got.NextAttemptAt.Equal(want) {
		t.Errorf("after attempt 2: next attempt %v, want %v", got.NextAttemptAt, want)
	}

	smtpSrv.SetDown(false)
	clk.Advance(2 * time.Minute)
	svc.Kick()
	rec := smtpSrv.WaitFor(t, 1, wait)[0]
	if rec.Body != m.Body {
		t.Errorf("mail body: got %q, want %q", rec.Body, m.Body)
	}
	got = waitFor(t, db, m.ID, "sent", func(m outbox.Message) bool { return m.Status() == outbox.Sent })
	if got.Attempts != 3 {
		t.Errorf("attempts: got %d, want 3", got.Attempts)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]int{1, 2}, backoffs); diff != "" {
		t.Errorf("Backoff called with (-want +got):\n%s", diff)
	}
}

// TestGiveUpAfterMaxAttempts: a message that keeps failing temporarily
// fails for good at MaxAttempts and shows among the failures.
func TestGiveUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	smtpSrv := mailtest.NewServer(t)
	smtpSrv.RejectRecipient("busy@example.com", 450)
	db := tempStore(t)
	clk := newClock()
	svc := &outbox.Service{Store: db, Mail: MustMail(t, smtpSrv), Now: clk.Now, MaxAttempts: 3,
		Backoff: func(int) time.Duration { return time.Second }}
	m := mustEnqueue(t, svc, email("busy@example.com", clk.Now()))
	ctx := t.Context()
	for attempt := 1; attempt <= 3; attempt++ {
		if n, err := svc.DeliverDue(ctx); err != nil || n != 1 {
			t.Fatalf("DeliverDue (attempt %d): got %d, %v, want 1, nil", attempt, n, err)
		}
		got := find(t, db, m.ID)
		wantStatus := outbox.Pending
		if attempt == 3 {
			wantStatus = outbox.Failed
		}
		if got.Attempts != attempt || got.Status() != wantStatus || !strings.Contains(got.LastError, "450") {
			t.Fatalf("after attempt %d: got attempts %d status %s lastError %q, want %d, %s, a 450 error", attempt, got.Attempts, got.Status(), got.LastError, attempt, wantStatus)
		}
		clk.Advance(time.Second)
	}
	got := find(t, db, m.ID)
	if !strings.HasPrefix(got.LastError, "gave up after 3 attempts") || !got.FailedAt.Equal(epoch.Add(2*time.Second)) {
		t.Errorf("failed message: got lastError %q failedAt %v, want \"gave up after 3 attempts…\", %v", got.LastError, got.FailedAt, epoch.Add(2*time.Second))
	}
	if n, err := svc.DeliverDue(ctx); err != nil || n != 0 {
		t.Errorf("DeliverDue after giving up: got %d, %v, want 0, nil", n, err)
	}
	if n := len(smtpSrv.Messages()); n != 0 {
		t.Errorf("SMTP server got %d messages, want 0", n)
	}
}

// TestPermanentFailure: a 550 from the SMTP server or a refused number from
// the SMS provider fails the message at once, and the operator sees it (docs/rules.md §6
// "shows failures to admins").
func TestPermanentFailure(t *testing.T) {
	t.Parallel()
	smtpSrv, smsSrv := mailtest.NewServer(t), smstest.NewServer(t)
	smtpSrv.RejectRecipient("nobody@example.com", 550)
	smsSrv.RejectTo("+14155550199")
	db := tempStore(t)
	clk := newClock()
	svc := &outbox.Service{Store: db, Mail: MustMail(t, smtpSrv), SMS: MustSMS(t, smsSrv), Now: clk.Now,
		Backoff: func(int) time.Duration { t.Error("Backoff called for a permanent failure"); return time.Hour }}
	startWorker(t, svc)

	em := mustEnqueue(t, svc, email("nobody@example.com", clk.Now()))
	tm := mustEnqueue(t, svc, outbox.NewMessage(outbox.SMS, "+14155550199", "", "code 1", tenant, sender, clk.Now()))
	ok := mustEnqueue(t, svc, email("ann@example.com", clk.Now()))
	for _, tt := range []struct {
		id, errHas string
	}{{em.ID, "550"}, {tm.ID, "21211"}} {
		got := waitFor(t, db, tt.id, "failed", func(m outbox.Message) bool { return m.Status() == outbox.Failed })
		if got.Attempts != 1 || !strings.Contains(got.LastError, tt.errHas) {
			t.Errorf("message %s: got attempts %d lastError %q, want 1 and an error containing %q", tt.id, got.Attempts, got.LastError, tt.errHas)
		}
	}
	waitFor(t, db, ok.ID, "sent", func(m outbox.Message) bool { return m.Status() == outbox.Sent })

	failures, err := svc.ListAll(t.Context(), outbox.Failed, 0)
	if err != nil {
		t.Fatalf("ListAll(failed): %v", err)
	}
	gotIDs := []string{}
	for _, m := range failures {
		gotIDs = append(gotIDs, m.ID)
	}
	if diff := cmp.Diff([]string{em.ID, tm.ID}, gotIDs, cmpSorted); diff != "" {
		t.Errorf("Failures (-want +got):\n%s", diff)
	}
}

var cmpSorted = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

// syncBuffer is a log destination safe for the worker's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNotConfiguredIsLogged: API.md "Running": without SMTP/SMS, messages
// are written to the log (with the link a local trial needs) and kept in the
// outbox as logged.
func TestNotConfiguredIsLogged(t *testing.T) {
	t.Parallel()
	db := tempStore(t)
	clk := newClock()
	var logs syncBuffer
	svc := &outbox.Service{Store: db, Now: clk.Now, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	startWorker(t, svc)

	em := mustEnqueue(t, svc, email("ann@example.com", clk.Now()))
	tm := mustEnqueue(t, svc, outbox.NewMessage(outbox.SMS, "+14155550100", "", "Join: https://parley.example/join/sms-tok", tenant, sender, clk.Now()))
	tests := []struct {
		name string
		m    outbox.Message
		note string
	}{
		{"email", em, "logged: no SMTP configured"},
		{"sms", tm, "logged: no SMS provider configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := waitFor(t, db, tt.m.ID, "logged", func(m outbox.Message) bool { return m.Status() == outbox.Logged })
			if got.LastError != tt.note || got.Attempts != 1 || !got.SentAt.Equal(epoch) {
				t.Errorf("got note %q attempts %d sentAt %v, want %q, 1, %v", got.LastError, got.Attempts, got.SentAt, tt.note, epoch)
			}
			out := logs.String()
			link := tt.m.Body[strings.Index(tt.m.Body, "https://"):]
			link = strings.TrimSpace(link)
			for _, want := range []string{tt.m.To, link} {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %q:\n%s", want, out)
				}
			}
		})
	}
	logged, err := svc.ListAll(t.Context(), outbox.Logged, 0)
	if err != nil || len(logged) != 2 {
		t.Errorf("ListAll(logged): got %d messages, %v, want 2", len(logged), err)
	}
	if sent, err := svc.ListAll(t.Context(), outbox.Sent, 0); err != nil || len(sent) != 0 {
		t.Errorf("ListAll(sent): got %d messages, %v, want 0", len(sent), err)
	}
}

// TestDurableAcrossCrash: docs/rules.md §6 "an outbox that survives restarts". A message
// enqueued by a process that stops before any worker ran is delivered by
// the next process on the same database.
func TestDurableAcrossCrash(t *testing.T) {
	t.Parallel()
	smtpSrv := mailtest.NewServer(t)
	cfg := storetest.Config(t, store.SQLite)

	db1, err := store.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	first := &outbox.Service{Store: db1, Mail: MustMail(t, smtpSrv)} // no worker: it "crashes" first
	m := mustEnqueue(t, first, email("ann@example.com", time.Now()))
	if err := db1.Close(); err != nil {
		t.Fatalf("close first store: %v", err)
	}

	db2 := storetest.OpenConfig(t, cfg)
	second := &outbox.Service{Store: db2, Mail: MustMail(t, smtpSrv)}
	startWorker(t, second)
	got := smtpSrv.WaitFor(t, 1, wait)[0]
	if got.Body != m.Body || !cmp.Equal(got.To, []string{"ann@example.com"}) {
		t.Errorf("mail after restart: got to %v body %q, want [ann@example.com] %q", got.To, got.Body, m.Body)
	}
	waitFor(t, db2, m.ID, "sent", func(m outbox.Message) bool { return m.Status() == outbox.Sent })
}

// TestTwoWorkersSendOnce: two workers on one database (two nodes on one
// PostgreSQL, in production) never send a message twice.
func TestTwoWorkersSendOnce(t *testing.T) {
	t.Parallel()
	smtpSrv := mailtest.NewServer(t)
	db := tempStore(t)
	a := &outbox.Service{Store: db, Mail: MustMail(t, smtpSrv)}
	b := &outbox.Service{Store: db, Mail: MustMail(t, smtpSrv)}
	const n = 30
	var want []string
	for i := range n {
		to := fmt.Sprintf("user%02d@example.com", i)
		mustEnqueue(t, a, email(to, time.Now()))
		want = append(want, to)
	}
	startWorker(t, a)
	startWorker(t, b)
	msgs := smtpSrv.WaitFor(t, n, wait)
	// Both workers are done once every message is recorded as sent.
	eventually(t, func() string { return "every message recorded" }, func() bool {
		pending, err := db.FindOutbox(t.Context(), tenant, outbox.Filter{Status: outbox.Pending}, n)
		if err != nil {
			t.Fatal(err)
		}
		return len(pending) == 0
	})
	var got []string
	for _, m := range smtpSrv.Messages() {
		got = append(got, m.To...)
	}
	if diff := cmp.Diff(want, got, cmpSorted); diff != "" || len(msgs) != n {
		t.Errorf("recipients (-want +got), each exactly once:\n%s", diff)
	}
}

// TestStopMidSendReleases: a worker stopped while a send hangs records no
// attempt and leaves the message due at once for the next start.
func TestStopMidSendReleases(t *testing.T) {
	t.Parallel()
	// An SMTP server that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close() // Only ends the accept loop.
		select {
		case c := <-accepted:
			_ = c.Close() // The client is gone already.
		default:
		}
	})
	snd, err := mail.New(mail.Config{URL: "smtp://" + ln.Addr().String(), From: "parley@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	db := tempStore(t)
	clk := newClock()
	svc := &outbox.Service{Store: db, Mail: snd, Now: clk.Now, SendTimeout: time.Hour}
	m := mustEnqueue(t, svc, email("ann@example.com", clk.Now()))

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.Run(ctx)
	}()
	select {
	case c := <-accepted:
		accepted <- c // for cleanup
	case <-time.After(wait):
		t.Fatal("the worker did not connect to the SMTP server")
	}
	// The message is claimed while the send hangs.
	waitFor(t, db, m.ID, "claimed", func(m outbox.Message) bool { return m.NextAttemptAt.After(epoch) })
	cancel()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("Run did not return after its context ended")
	}
	got := find(t, db, m.ID)
	if got.Status() != outbox.Pending || got.Attempts != 0 || !got.NextAttemptAt.Equal(epoch) {
		t.Errorf("after stopping: got status %s attempts %d next %v, want pending, 0, %v", got.Status(), got.Attempts, got.NextAttemptAt, epoch)
	}
}

// TestListOnlyForTenantAdmins: a tenant admin lists the messages to the
// organisation's own addresses, codes masked, and nothing a member sent
// outside (an invitation goes exactly to addresses without an account, SPEC
// docs/rules.md §4); the operator's ListAll has every message.
func TestListOnlyForTenantAdmins(t *testing.T) {
	t.Parallel()
	db := tempStore(t)
	clk := newClock()
	svc := &outbox.Service{Store: db, Now: clk.Now}
	ctx := t.Context()
	if err := db.CreateTenant(ctx, identity.Tenant{ID: tenant, DisplayName: "Contoso", Domains: []string{"contoso.example"}, CreatedAt: epoch},
		identity.User{ID: admin.ID, TenantID: tenant, Kind: identity.Member, Role: identity.RoleAdmin, DisplayName: "Admin", UPN: "admin@contoso.example", CreatedAt: epoch}, "hash"); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	m := mustEnqueue(t, svc, outbox.NewMessage(outbox.Email, "ann@contoso.example", "Your Parley password reset code: 123456", "Your code is 123456.", "", "", clk.Now()))
	invitation := mustEnqueue(t, svc, email("bob@example.com", clk.Now()))
	lookalike := mustEnqueue(t, svc, outbox.NewMessage(outbox.Email, "eve@notcontoso.example", "Hello", "hi", "", "", clk.Now()))

	for _, tt := range []struct {
		name  string
		actor *identity.User
	}{
		{"member", &identity.User{ID: "m1", TenantID: tenant, Kind: identity.Member, Role: identity.RoleMember}},
		{"guest", &identity.User{ID: "g1", TenantID: tenant, Kind: identity.Guest, Role: identity.RoleAdmin}},
		{"personal", &identity.User{ID: "p1", Kind: identity.Personal}},
		{"nobody", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := svc.List(ctx, tt.actor, "", 0); !errcode.Is(err, errcode.Forbidden) {
				t.Errorf("List: got %v, want code %s", err, errcode.Forbidden)
			}
		})
	}
	other := &identity.User{ID: "a2", TenantID: "t2", Kind: identity.Member, Role: identity.RoleAdmin}
	if got, err := svc.List(ctx, other, "", 0); err != nil || len(got) != 0 {
		t.Errorf("List as another tenant's admin: got %d messages, %v, want 0", len(got), err)
	}
	got, err := svc.List(ctx, admin, outbox.Pending, 0)
	if err != nil || len(got) != 1 || got[0].ID != m.ID {
		t.Fatalf("List(pending) as admin: got %v, %v, want [%s] only", got, err, m.ID)
	}
	if want := "Your Parley password reset code: ••••••"; got[0].Subject != want {
		t.Errorf("List: subject %q, want %q", got[0].Subject, want)
	}
	all, err := svc.ListAll(ctx, "", 0)
	if err != nil || len(all) != 3 {
		t.Errorf("ListAll: got %d messages, %v, want 3 (%s, %s, %s)", len(all), err, m.ID, invitation.ID, lookalike.ID)
	}
	for _, x := range all {
		if strings.Contains(x.Subject, "123456") {
			t.Errorf("ListAll: subject %q shows the code", x.Subject)
		}
	}
	if _, err := svc.List(ctx, admin, "bogus", 0); !errcode.Is(err, errcode.BadRequest) {
		t.Errorf("List(bogus): got %v, want code %s", err, errcode.BadRequest)
	}
}

func TestEnqueueRejectsIncompleteMessages(t *testing.T) {
	t.Parallel()
	svc := &outbox.Service{Store: tempStore(t)}
	good := email("ann@example.com", epoch)
	for _, tt := range []struct {
		name string
		edit func(m *outbox.Message)
	}{
		{"no id", func(m *outbox.Message) { m.ID = "" }},
		{"bad channel", func(m *outbox.Message) { m.Channel = "fax" }},
		{"no recipient", func(m *outbox.Message) { m.To = "" }},
		{"no body", func(m *outbox.Message) { m.Body = "" }},
		{"no time", func(m *outbox.Message) { m.NextAttemptAt = time.Time{} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := good
			tt.edit(&m)
			if err := svc.Enqueue(t.Context(), m); err == nil {
				t.Error("Enqueue: got nil error, want one")
			}
		})
	}
}

func TestKickNeverBlocks(t *testing.T) {
	t.Parallel()
	svc := &outbox.Service{}
	for range 100 {
		svc.Kick() // no worker reads; must not block
	}
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempt int
		base    time.Duration
	}{
		{1, 10 * time.Second},
		{2, 20 * time.Second},
		{7, 640 * time.Second},
		{10, time.Hour},
		{100, time.Hour},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.attempt), func(t *testing.T) {
			lo, hi := tt.base*8/10, tt.base*12/10
			seen := map[time.Duration]bool{}
			for range 200 {
				d := outbox.DefaultBackoff(tt.attempt)
				if d < lo || d > hi {
					t.Fatalf("DefaultBackoff(%d): got %v, want within [%v, %v]", tt.attempt, d, lo, hi)
				}
				seen[d] = true
			}
			if len(seen) < 2 {
				t.Errorf("DefaultBackoff(%d): always %v, want jitter", tt.attempt, seen)
			}
		})
	}
}

func TestStatusAndParse(t *testing.T) {
	t.Parallel()
	at := epoch
	tests := []struct {
		name string
		m    outbox.Message
		want outbox.Status
	}{
		{"pending", outbox.Message{}, outbox.Pending},
		{"pending after an error", outbox.Message{Attempts: 2, LastError: "refused"}, outbox.Pending},
		{"sent", outbox.Message{SentAt: at}, outbox.Sent},
		{"logged", outbox.Message{SentAt: at, LastError: outbox.LoggedPrefix + " no SMTP configured"}, outbox.Logged},
		{"failed", outbox.Message{FailedAt: at, LastError: "550"}, outbox.Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Status(); got != tt.want {
				t.Errorf("Status(): got %q, want %q", got, tt.want)
			}
			if got, err := outbox.ParseStatus(string(tt.want)); err != nil || got != tt.want {
				t.Errorf("ParseStatus(%q): got %q, %v", tt.want, got, err)
			}
		})
	}
	if _, err := outbox.ParseStatus("Sent"); !errcode.Is(err, errcode.BadRequest) {
		t.Errorf("ParseStatus(Sent): got %v, want code %s", err, errcode.BadRequest)
	}
}

// permanence is an error that says whether retrying can help, as the edge
// senders' errors do.
type permanence bool

func (p permanence) Error() string   { return fmt.Sprintf("permanent: %t", bool(p)) }
func (p permanence) Permanent() bool { return bool(p) }

// TestPermanent: the outbox knows a sender's verdict only through a method
// Permanent() bool anywhere in the error chain; without it a failure is
// temporary. The real senders' errors answer the same way.
func TestPermanent(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("connection refused"), false},
		{"permanent", permanence(true), true},
		{"temporary", permanence(false), false},
		{"wrapped permanent", fmt.Errorf("send: %w", permanence(true)), true},
		{"wrapped temporary", fmt.Errorf("send: %w", permanence(false)), false},
	} {
		if got := outbox.Permanent(tt.err); got != tt.want {
			t.Errorf("%s: Permanent(%v) = %t, want %t", tt.name, tt.err, got, tt.want)
		}
		if tt.err != nil && (mail.IsPermanent(tt.err) != tt.want || sms.IsPermanent(tt.err) != tt.want) {
			t.Errorf("%s: mail.IsPermanent or sms.IsPermanent disagrees with outbox.Permanent", tt.name)
		}
	}
}
