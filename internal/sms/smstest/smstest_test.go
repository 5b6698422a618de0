package smstest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/sms/smstest"
)

const wait = 10 * time.Second

type answer struct {
	status int
	body   map[string]any
}

// post sends a Messages API request the way any Twilio client would.
func post(t *testing.T, srv *smstest.Server, path, user, pass, contentType string, form url.Values) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	a := answer{status: resp.StatusCode}
	if err := json.Unmarshal(data, &a.body); err != nil {
		t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, data)
	}
	return a
}

const (
	path = "/2010-04-01/Accounts/" + smstest.Account + "/Messages.json"
	form = "application/x-www-form-urlencoded"
)

var okForm = url.Values{"To": {"+14155550100"}, "From": {"+15005550006"}, "Body": {"hello"}}

func TestServerAccepts(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t)
	a := post(t, srv, path, smstest.Account, smstest.Token, form, okForm)
	if a.status != http.StatusCreated {
		t.Fatalf("status = %d, want 201: %v", a.status, a.body)
	}
	sid, _ := a.body["sid"].(string)
	if !regexp.MustCompile(`^SM[0-9a-f]{32}$`).MatchString(sid) {
		t.Errorf("sid = %q, want SM and 32 hex digits", sid)
	}
	want := []smstest.Received{{To: "+14155550100", From: "+15005550006", Body: "hello"}}
	if diff := cmp.Diff(want, srv.WaitFor(t, 1, wait)); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

func TestServerRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		path        string
		user, pass  string
		contentType string
		form        url.Values
		wantStatus  int
		wantCode    float64 // JSON numbers decode to float64; 0 means none
	}{
		{name: "no auth", path: path, contentType: form, form: okForm, wantStatus: 401, wantCode: 20003},
		{name: "wrong token", path: path, user: smstest.Account, pass: "x", contentType: form, form: okForm, wantStatus: 401, wantCode: 20003},
		{name: "wrong user", path: path, user: "AC2", pass: smstest.Token, contentType: form, form: okForm, wantStatus: 401, wantCode: 20003},
		{name: "other account in path", path: "/2010-04-01/Accounts/AC2/Messages.json", user: smstest.Account, pass: smstest.Token, contentType: form, form: okForm, wantStatus: 404, wantCode: 20404},
		{name: "wrong path", path: "/2010-04-01/Messages.json", user: smstest.Account, pass: smstest.Token, contentType: form, form: okForm, wantStatus: 404, wantCode: 20404},
		{name: "json body", path: path, user: smstest.Account, pass: smstest.Token, contentType: "application/json", form: okForm, wantStatus: 400},
		{name: "no To", path: path, user: smstest.Account, pass: smstest.Token, contentType: form, form: url.Values{"From": {"+15005550006"}, "Body": {"x"}}, wantStatus: 400, wantCode: 21604},
		{name: "no From", path: path, user: smstest.Account, pass: smstest.Token, contentType: form, form: url.Values{"To": {"+14155550100"}, "Body": {"x"}}, wantStatus: 400, wantCode: 21603},
		{name: "no Body", path: path, user: smstest.Account, pass: smstest.Token, contentType: form, form: url.Values{"To": {"+14155550100"}, "From": {"+15005550006"}}, wantStatus: 400, wantCode: 21602},
	}
	srv := smstest.NewServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, srv, tt.path, tt.user, tt.pass, tt.contentType, tt.form)
			if a.status != tt.wantStatus {
				t.Errorf("status = %d, want %d: %v", a.status, tt.wantStatus, a.body)
			}
			code, _ := a.body["code"].(float64)
			if code != tt.wantCode {
				t.Errorf("code = %v, want %v", code, tt.wantCode)
			}
			if msg, _ := a.body["message"].(string); msg == "" {
				t.Errorf("answer has no message: %v", a.body)
			}
		})
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("recorded %d messages, want 0", n)
	}
}

func TestServerDownAndReject(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t)

	srv.SetDown(true)
	if a := post(t, srv, path, smstest.Account, smstest.Token, form, okForm); a.status != http.StatusServiceUnavailable {
		t.Errorf("status while down = %d, want 503", a.status)
	}
	srv.SetDown(false)

	srv.RejectTo("+14155550100")
	a := post(t, srv, path, smstest.Account, smstest.Token, form, okForm)
	if code, _ := a.body["code"].(float64); a.status != 400 || code != 21211 {
		t.Errorf("answer for a rejected number = %d %v, want 400 with code 21211", a.status, a.body)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("recorded %d messages, want 0", n)
	}

	other := url.Values{"To": {"+14155550101"}, "From": {"+15005550006"}, "Body": {"x"}}
	if a := post(t, srv, path, smstest.Account, smstest.Token, form, other); a.status != http.StatusCreated {
		t.Errorf("status = %d, want 201", a.status)
	}
	srv.WaitFor(t, 1, wait)
}

func TestServerConcurrent(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			f := url.Values{"To": {fmt.Sprintf("+1415555%04d", i)}, "From": {"+15005550006"}, "Body": {"x"}}
			if a := post(t, srv, path, smstest.Account, smstest.Token, form, f); a.status != http.StatusCreated {
				t.Errorf("status = %d, want 201", a.status)
			}
		})
	}
	wg.Wait()
	if got := len(srv.WaitFor(t, n, wait)); got != n {
		t.Errorf("got %d messages, want %d", got, n)
	}
}

// fakeTB records a fatal failure instead of ending the test.
type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
}

func TestWaitForTimesOut(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t)
	ftb := &fakeTB{TB: t}
	if got := srv.WaitFor(ftb, 1, 10*time.Millisecond); got != nil {
		t.Errorf("WaitFor = %v, want nil", got)
	}
	if want := "smstest: got 0 messages within 10ms, want 1"; ftb.fatal != want {
		t.Errorf("fatal = %q, want %q", ftb.fatal, want)
	}
}
