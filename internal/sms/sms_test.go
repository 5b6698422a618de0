package sms_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/sms"
	"github.com/parleychat/parley/internal/sms/smstest"
)

const wait = 10 * time.Second

// MustNew returns a Sender for cfg and fails the test if it cannot.
func MustNew(tb testing.TB, cfg sms.Config) *sms.Sender {
	tb.Helper()
	s, err := sms.New(cfg, nil)
	if err != nil {
		tb.Fatalf("sms.New(%+v): %v", cfg, err)
	}
	return s
}

func config(srv *smstest.Server) sms.Config {
	return sms.Config{URL: srv.URL(), Account: smstest.Account, Token: smstest.Token, From: "+15005550006"}
}

func testContext(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), wait)
	tb.Cleanup(cancel)
	return ctx
}

func TestSend(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t)
	s := MustNew(t, config(srv))

	body := "Anna invited you to Parley: https://parley.example/join/abc?x=1&y=ü"
	if err := s.Send(testContext(t), "+4915123456789", body); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.WaitFor(t, 1, wait)
	want := []smstest.Received{{To: "+4915123456789", From: "+15005550006", Body: body}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

func TestSendConcurrently(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t)
	s := MustNew(t, config(srv))
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- s.Send(testContext(t), fmt.Sprintf("+1415555%04d", i), "code") })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	if got := len(srv.WaitFor(t, n, wait)); got != n {
		t.Errorf("got %d messages, want %d", got, n)
	}
}

func TestSendURLWithPathPrefix(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t)
	// A provider behind a path prefix: the fake lives at /twilio.
	proxy := httptest.NewServer(http.StripPrefix("/twilio", proxyTo(t, srv.URL())))
	t.Cleanup(proxy.Close)

	cfg := config(srv)
	cfg.URL = proxy.URL + "/twilio/"
	if err := MustNew(t, cfg).Send(testContext(t), "+14155550100", "hi"); err != nil {
		t.Fatalf("Send: %v", err)
	}
	srv.WaitFor(t, 1, wait)
}

// proxyTo forwards requests to base, keeping path, headers and body.
func proxyTo(tb testing.TB, base string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.Path, r.Body)
		if err != nil {
			tb.Errorf("proxy: %v", err)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			tb.Errorf("proxy: %v", err)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer func() { _ = resp.Body.Close() }()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body) // The client reads what arrives.
	})
}

func TestSendProviderDown(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t)
	s := MustNew(t, config(srv))

	srv.SetDown(true)
	err := s.Send(testContext(t), "+14155550100", "hi")
	if err == nil {
		t.Fatal("Send to a provider that is down succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "503") {
		t.Errorf("error %q does not mention 503", err)
	}
	if sms.IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = true, want false", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("provider accepted %d messages while down, want 0", n)
	}

	srv.SetDown(false)
	if err := s.Send(testContext(t), "+14155550100", "hi"); err != nil {
		t.Fatalf("Send after the outage: %v", err)
	}
	srv.WaitFor(t, 1, wait)
}

func TestSendRejectedNumberIsPermanent(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t)
	srv.RejectTo("+14155550199")
	s := MustNew(t, config(srv))

	err := s.Send(testContext(t), "+14155550199", "hi")
	if err == nil {
		t.Fatal("Send succeeded, want an error")
	}
	if !sms.IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = false, want true", err)
	}
	// The verdict survives wrapping and can be read without importing sms,
	// as the outbox does.
	wrapped := fmt.Errorf("deliver invitation: %w", err)
	var p interface{ Permanent() bool }
	if !sms.IsPermanent(wrapped) || !errors.As(wrapped, &p) || !p.Permanent() {
		t.Errorf("wrapped error %v does not report Permanent() = true", wrapped)
	}
	for _, want := range []string{`send sms to "+14155550199"`, "400", "21211", "Invalid 'To' Phone Number"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestSendWrongCredentials(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t)
	tests := []struct {
		name      string
		account   string
		token     string
		wantCode  string
		permanent bool
	}{
		// Credentials are configuration: fixed by an operator, then retried.
		{name: "wrong token", account: smstest.Account, token: "nope", wantCode: "20003", permanent: false},
		{name: "wrong account", account: "AC99", token: smstest.Token, wantCode: "20003", permanent: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(srv)
			cfg.Account, cfg.Token = tt.account, tt.token
			err := MustNew(t, cfg).Send(testContext(t), "+14155550100", "hi")
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantCode) {
				t.Errorf("error %q does not contain %q", err, tt.wantCode)
			}
			if got := sms.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.permanent)
			}
			if strings.Contains(err.Error(), tt.token) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("provider accepted %d messages, want 0", n)
	}
}

// TestSendStatusClasses checks the permanent/temporary split against a
// provider that answers each status in turn.
func TestSendStatusClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status    int
		body      string
		wantErr   bool
		permanent bool
		wantText  string
	}{
		{status: 201, body: `{"sid":"SM1"}`},
		{status: 200, body: `{"sid":"SM1"}`},
		{status: 400, body: `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`, wantErr: true, permanent: true, wantText: "error 21610: Attempt to send to unsubscribed recipient"},
		{status: 403, body: `{"code":21408,"message":"Permission to send an SMS has not been enabled for the region","status":403}`, wantErr: true, permanent: true, wantText: "21408"},
		{status: 404, body: `not json`, wantErr: true, permanent: true, wantText: "404 Not Found"},
		{status: 401, body: `{"code":20003,"message":"Authenticate"}`, wantErr: true, permanent: false, wantText: "Authenticate"},
		{status: 408, body: ``, wantErr: true, permanent: false, wantText: "408"},
		{status: 429, body: `{"code":20429,"message":"Too Many Requests"}`, wantErr: true, permanent: false, wantText: "20429"},
		{status: 500, body: `{"code":"20500","message":"Internal Server Error"}`, wantErr: true, permanent: false, wantText: "error 20500"},
		{status: 502, body: `<html>bad gateway</html>`, wantErr: true, permanent: false, wantText: "502 Bad Gateway"},
		{status: 503, body: `{"message":"Service Unavailable"}`, wantErr: true, permanent: false, wantText: "Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body) // The test checks what the client made of it.
			}))
			t.Cleanup(srv.Close)
			s := MustNew(t, sms.Config{URL: srv.URL, Account: "AC1", Token: "t", From: "+15005550006"})
			err := s.Send(testContext(t), "+14155550100", "hi")
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if got := sms.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.permanent)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), "<html>") {
				t.Errorf("error %q repeats a non-JSON body", err)
			}
		})
	}
}

func TestSendNetworkErrorIsTemporary(t *testing.T) {
	t.Parallel()
	// A port that nothing listens on: take one, then free it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	s := MustNew(t, sms.Config{URL: "http://" + addr, Account: "AC1", Token: "t", From: "+15005550006"})
	err = s.Send(testContext(t), "+14155550100", "hi")
	if err == nil {
		t.Fatal("Send succeeded, want an error")
	}
	if sms.IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = true, want false", err)
	}
}

func TestSendHonoursContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	s := MustNew(t, sms.Config{URL: srv.URL, Account: "AC1", Token: "t", From: "+15005550006"})

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Send(ctx, "+14155550100", "hi") }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Send = %v, want context.DeadlineExceeded", err)
		}
		if sms.IsPermanent(err) {
			t.Errorf("IsPermanent(%v) = true, want false", err)
		}
	case <-time.After(wait):
		t.Fatalf("Send did not return within %v of its 100ms deadline", wait)
	}
}

func TestSendEmptyInputIsPermanent(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t)
	s := MustNew(t, config(srv))
	for _, tt := range []struct{ to, body string }{{"", "hi"}, {"+14155550100", ""}} {
		err := s.Send(testContext(t), tt.to, tt.body)
		if !sms.IsPermanent(err) {
			t.Errorf("Send(%q, %q) = %v, want a permanent error", tt.to, tt.body, err)
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("provider accepted %d messages, want 0", n)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	valid := sms.Config{URL: "https://api.twilio.com", Account: "AC1", Token: "t", From: "+15005550006"}
	tests := []struct {
		name    string
		edit    func(*sms.Config)
		wantErr string // "" means valid
	}{
		{name: "valid", edit: func(*sms.Config) {}},
		{name: "path prefix", edit: func(c *sms.Config) { c.URL = "http://127.0.0.1:8080/sms/" }},
		{name: "empty url", edit: func(c *sms.Config) { c.URL = "" }, wantErr: "not configured"},
		{name: "ftp", edit: func(c *sms.Config) { c.URL = "ftp://api.twilio.com" }, wantErr: "scheme"},
		{name: "no scheme", edit: func(c *sms.Config) { c.URL = "api.twilio.com" }, wantErr: "scheme"},
		{name: "no host", edit: func(c *sms.Config) { c.URL = "https:///x" }, wantErr: "no host"},
		{name: "user info", edit: func(c *sms.Config) { c.URL = "https://AC1:secret@api.twilio.com" }, wantErr: "credentials"},
		{name: "query", edit: func(c *sms.Config) { c.URL = "https://api.twilio.com?x=1" }, wantErr: "query"},
		{name: "no account", edit: func(c *sms.Config) { c.Account = "" }, wantErr: "account"},
		{name: "no token", edit: func(c *sms.Config) { c.Token = "" }, wantErr: "token"},
		{name: "no from", edit: func(c *sms.Config) { c.From = "" }, wantErr: "from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			s, err := sms.New(cfg, nil)
			if tt.wantErr == "" {
				if err != nil || s == nil {
					t.Fatalf("New = %v, %v; want a Sender", s, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New(%+v) succeeded, want an error containing %q", cfg, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New error = %q, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("New error %q contains a secret", err)
			}
		})
	}
	if _, err := sms.New(sms.Config{}, nil); !errors.Is(err, sms.ErrNotConfigured) {
		t.Errorf("New(empty) = %v, want ErrNotConfigured", err)
	}
}

func TestIsPermanent(t *testing.T) {
	t.Parallel()
	if sms.IsPermanent(nil) {
		t.Error("IsPermanent(nil) = true")
	}
	if sms.IsPermanent(errors.New("boom")) {
		t.Error("IsPermanent(plain error) = true")
	}
}
