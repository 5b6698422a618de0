package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/cli"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test reads.
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

// envOf returns a getenv over m only, so the test's own PARLEY_* variables
// never leak in.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the command line in-process.
func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := cli.Run(ctx, args, envOf(env), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// mustRun runs the command line and fails the test unless it exits with want.
func mustRun(t *testing.T, want int, env map[string]string, args ...string) result {
	t.Helper()
	r := run(t, env, args...)
	if r.code != want {
		t.Fatalf("parley %s: got exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r
}

// servingCLI is `parley serve` running in-process.
type servingCLI struct {
	URL    string
	Out    *syncBuffer
	cancel context.CancelFunc
	done   chan int
}

var listeningRE = regexp.MustCompile(`Parley is listening on (\S+)`)

// MustServe runs `parley serve args…` in a goroutine until the test ends
// (or Stop), and waits for the line that names its URL.
func MustServe(t *testing.T, args ...string) *servingCLI {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &servingCLI{Out: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	stderr := &syncBuffer{}
	go func() {
		// No drain delay: nothing balances load in a test, and Stop waits.
		s.done <- cli.Run(ctx, append([]string{"serve"}, args...), envOf(map[string]string{"PARLEY_DRAIN_DELAY": "0"}), s.Out, stderr)
	}()
	t.Cleanup(func() { s.Stop(t) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := listeningRE.FindStringSubmatch(s.Out.String()); m != nil {
			s.URL = m[1]
			break
		}
		select {
		case code := <-s.done:
			s.done <- code
			t.Fatalf("parley serve exited with %d before listening\nstdout:\n%s\nstderr:\n%s", code, s.Out, stderr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("parley serve did not print its URL in time\nstdout:\n%s\nstderr:\n%s", s.Out, stderr)
		}
	}
	return s
}

// WaitOutput waits until the serve command's stdout matches re and returns the match.
func (s *servingCLI) WaitOutput(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(s.Out.String()); m != nil {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("serve: got stdout\n%s\nwant a match of %s", s.Out, re)
	return nil
}

// Stop cancels the serve command and checks that it exits with 0.
func (s *servingCLI) Stop(t *testing.T) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case code := <-s.done:
		if code != 0 {
			t.Errorf("parley serve after cancel: got exit %d, want 0", code)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("parley serve did not stop within 30s of its context ending")
	}
}

// signIn signs in with the password grant and returns the HTTP status.
func signIn(t *testing.T, base, user, password string) int {
	t.Helper()
	resp, err := http.PostForm(base+"/oauth2/token", url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatalf("sign in %s: %v", user, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("sign in %s: %v", user, err)
	}
	if resp.StatusCode == http.StatusOK {
		var tok struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
		}
		if err := json.Unmarshal(b, &tok); err != nil || tok.AccessToken == "" || tok.TokenType != "Bearer" {
			t.Errorf("sign in %s: got body %s, want access_token and token_type Bearer", user, b)
		}
	}
	return resp.StatusCode
}

// apiFlags are the flags and variables of API.md "Running".
var apiFlags = []string{"data", "listen", "public-url", "smtp-url", "smtp-from", "sms-url", "sms-account", "sms-token",
	"sms-from", "phone-region", "tls-cert", "tls-key", "operator-token", "store", "postgres-url", "nats-url", "demo"}

func TestServeHelpListsEveryFlag(t *testing.T) {
	t.Parallel()
	r := mustRun(t, 0, nil, "serve", "--help")
	out := r.stdout + r.stderr
	// flag.PrintDefaults starts each flag's entry with "  -name"; split into entries.
	entries := map[string]string{}
	var cur string
	for line := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(line, "  -") {
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "  -"), " ")
			cur = name
		}
		if cur != "" {
			entries[cur] += line + "\n"
		}
	}
	for _, f := range apiFlags {
		e, ok := entries[f]
		if !ok {
			t.Errorf("serve --help: flag --%s missing; got\n%s", f, out)
			continue
		}
		env := "PARLEY_" + strings.ToUpper(strings.ReplaceAll(f, "-", "_"))
		if !strings.Contains(e, env) {
			t.Errorf("serve --help: entry of --%s does not name %s; got\n%s", f, env, e)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no command", nil, 2},
		{"unknown command", []string{"frobnicate"}, 2},
		{"serve bad flag", []string{"serve", "--no-such-flag"}, 2},
		{"config bad flag", []string{"config", "--listen"}, 2},
		{"serve stray argument", []string{"serve", "extra"}, 2},
		{"tenant without verb", []string{"tenant"}, 2},
		{"user bad verb", []string{"user", "delete"}, 2},
		{"help", []string{"help"}, 0},
		{"version", []string{"version"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, nil, tt.args...)
			if r.code != tt.want {
				t.Errorf("parley %s: got exit %d, want %d\nstderr:\n%s", strings.Join(tt.args, " "), r.code, tt.want, r.stderr)
			}
			if tt.want != 0 && r.stderr == "" {
				t.Errorf("parley %s: exit %d with nothing on stderr, want a usage message", strings.Join(tt.args, " "), r.code)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"PARLEY_SMTP_URL":       "smtp://u:secretpw@mail.example.com:25",
		"PARLEY_OPERATOR_TOKEN": "op-tok-0xdeadbeef",
		"PARLEY_SMS_TOKEN":      "sms-tok-0xfeedface",
		"PARLEY_LISTEN":         "127.0.0.1:9999",
		"PARLEY_DATA":           "/from/env",
		"PARLEY_PHONE_REGION":   "DE",
	}
	r := mustRun(t, 0, env, "config", "--data", "/from/flag", "--phone-region", "FR")
	for _, secret := range []string{"secretpw", "op-tok-0xdeadbeef", "sms-tok-0xfeedface"} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("config shows the secret %q:\n%s", secret, r.stdout)
		}
	}
	for _, want := range []string{
		"listen=127.0.0.1:9999\n", // from the environment
		"data=/from/flag\n",       // the flag overrides PARLEY_DATA
		"phone-region=FR\n",       // the flag overrides PARLEY_PHONE_REGION
		"store=sqlite\n",          // default
		"smtp-url=smtp://u:",      // user kept, password masked
		"@mail.example.com:25\n",  // host kept
		"operator-token=",         // listed, masked
		"sms-token=",              // listed, masked
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("config: got\n%s\nwant it to contain %q", r.stdout, want)
		}
	}
}

func TestConfigInvalid(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "config", "--store", "nosuch")
	if r.code == 0 {
		t.Fatalf("config --store nosuch: got exit 0, want non-zero\nstdout:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "nosuch") || !strings.Contains(r.stderr, "sqlite or postgres") {
		t.Errorf("config --store nosuch: got stderr %q, want a message naming the value and the choices", r.stderr)
	}
	r = run(t, map[string]string{"PARLEY_DEMO": "perhaps"}, "config")
	if r.code == 0 || !strings.Contains(r.stderr, "PARLEY_DEMO") {
		t.Errorf("config with PARLEY_DEMO=perhaps: got exit %d, stderr %q; want non-zero naming PARLEY_DEMO", r.code, r.stderr)
	}
}

// TestOperatorCommands creates an organisation and a member on the data
// directory, then starts serve on it and signs in as the member.
func TestOperatorCommands(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	mustRun(t, 0, nil, "tenant", "create", "--data", data, "--name", "Contoso", "--domain", "contoso.com",
		"--admin-name", "Ada", "--admin-email", "ada@contoso.com", "--admin-password", "longpassword1")

	r := mustRun(t, 0, nil, "tenant", "list", "--data", data)
	if !strings.Contains(r.stdout, "\tContoso\tcontoso.com\n") {
		t.Errorf("tenant list: got %q, want a line with Contoso and contoso.com", r.stdout)
	}

	r = run(t, nil, "tenant", "create", "--data", data, "--name", "Other", "--domain", "contoso.com",
		"--admin-name", "Eve", "--admin-email", "eve@contoso.com", "--admin-password", "longpassword1")
	if r.code == 0 {
		t.Fatalf("tenant create with a taken domain: got exit 0, want non-zero\nstdout:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "contoso.com") || !strings.Contains(strings.ToLower(r.stderr), "domain") {
		t.Errorf("tenant create with a taken domain: got stderr %q, want it to say the domain contoso.com is taken", r.stderr)
	}
	r = mustRun(t, 0, nil, "tenant", "list", "--data", data)
	if got := strings.Count(r.stdout, "\n"); got != 1 {
		t.Errorf("tenant list after the refused create: got %d lines %q, want 1", got, r.stdout)
	}

	// The password may come from PARLEY_USER_PASSWORD instead of the flag.
	mustRun(t, 0, map[string]string{"PARLEY_USER_PASSWORD": "longpassword3"}, "user", "create", "--data", data,
		"--tenant", "contoso.com", "--name", "Carol", "--email", "carol@contoso.com")
	mustRun(t, 0, nil, "user", "create", "--data", data, "--tenant", "contoso.com", "--name", "Bob",
		"--email", "bob@contoso.com", "--password", "longpassword2")
	r = run(t, nil, "user", "create", "--data", data, "--tenant", "nosuch.example", "--name", "Zed",
		"--email", "zed@nosuch.example", "--password", "longpassword2")
	if r.code == 0 || !strings.Contains(r.stderr, "nosuch.example") {
		t.Errorf("user create in an unknown organisation: got exit %d, stderr %q; want non-zero naming it", r.code, r.stderr)
	}

	s := MustServe(t, "--data", data, "--listen", "127.0.0.1:0")
	for _, c := range []struct {
		user, password string
		want           int
	}{
		{"bob@contoso.com", "longpassword2", http.StatusOK},
		{"carol@contoso.com", "longpassword3", http.StatusOK},
		{"ada@contoso.com", "longpassword1", http.StatusOK},
		{"bob@contoso.com", "wrong-password", http.StatusBadRequest},
		{"eve@contoso.com", "longpassword1", http.StatusBadRequest},
	} {
		if got := signIn(t, s.URL, c.user, c.password); got != c.want {
			t.Errorf("sign in %s with %s: got %d, want %d", c.user, c.password, got, c.want)
		}
	}
	s.Stop(t)
	// Stop waited for serve to return, so its output is complete.
	if strings.Contains(s.Out.String(), "setup") {
		t.Errorf("serve on a store with an organisation printed a setup token:\n%s", s.Out)
	}
	if !strings.Contains(s.Out.String(), "stopping") {
		t.Errorf("serve after cancel: got stdout %q, want a line saying it is stopping", s.Out)
	}
}

var setupRE = regexp.MustCompile(`parley setup --url (\S+) --token (\S+)`)

// TestServeSetup starts serve on an empty data directory, which prints a
// one-time setup token and the setup command to run with it.
func TestServeSetup(t *testing.T) {
	t.Parallel()
	s := MustServe(t, "--data", t.TempDir(), "--listen", "127.0.0.1:0")
	m := s.WaitOutput(t, setupRE)
	if m[1] != s.URL {
		t.Errorf("setup command: got --url %s, want %s", m[1], s.URL)
	}
	token := m[2]
	args := []string{"setup", "--url", s.URL, "--token", token, "--org", "X", "--domain", "x.com",
		"--admin-email", "a@x.com", "--admin-password", "longpassword1"}

	if r := run(t, nil, "setup", "--url", s.URL, "--token", "wrong-token", "--org", "X", "--domain", "x.com",
		"--admin-email", "a@x.com", "--admin-password", "longpassword1"); r.code == 0 {
		t.Errorf("setup with a wrong token: got exit 0, want non-zero")
	}
	mustRun(t, 0, nil, args...)
	if got := signIn(t, s.URL, "a@x.com", "longpassword1"); got != http.StatusOK {
		t.Errorf("sign in as the admin made by setup: got %d, want 200", got)
	}
	r := run(t, nil, args...)
	if r.code == 0 {
		t.Errorf("second setup with the same token: got exit 0, want non-zero\nstdout:\n%s", r.stdout)
	}
	if r.stderr == "" {
		t.Errorf("second setup with the same token: want a message on stderr")
	}
	if r := run(t, nil, "setup", "--url", "http://127.0.0.1:1", "--token", token, "--org", "X", "--domain", "x.com",
		"--admin-email", "a@x.com", "--admin-password", "longpassword1"); r.code == 0 || !strings.Contains(r.stderr, "parley serve") {
		t.Errorf("setup against no server: got exit %d, stderr %q; want non-zero asking whether parley serve runs", r.code, r.stderr)
	}
}
