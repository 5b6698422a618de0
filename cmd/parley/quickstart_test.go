package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// quickstartHeading marks the README section whose sh blocks this test runs.
const quickstartHeading = "## Quickstart: two organisations chatting"

// readmeBlocks returns the ```sh blocks of the README section under heading.
func readmeBlocks(t *testing.T, readme, heading string) []string {
	t.Helper()
	i := strings.Index(readme, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README: no section %q", heading)
	}
	sec := readme[i+len(heading)+2:]
	if j := strings.Index(sec, "\n## "); j >= 0 {
		sec = sec[:j]
	}
	var blocks []string
	for {
		a := strings.Index(sec, "```sh\n")
		if a < 0 {
			break
		}
		sec = sec[a+len("```sh\n"):]
		b := strings.Index(sec, "```\n")
		if b < 0 {
			t.Fatalf("README: unclosed sh block in %q", heading)
		}
		blocks = append(blocks, sec[:b])
		sec = sec[b+4:]
	}
	return blocks
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestReadmeQuickstart runs the README's quickstart as a reader would: the
// serve command exactly as written (go run, which compiles first), on a
// free port and an empty data directory, then the curl walk-through from
// setup to two organisations chatting, then SIGTERM. So the README cannot
// drift from what Parley does. It needs bash and curl.
func TestReadmeQuickstart(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's quickstart needs %s: %v", tool, err)
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(t, string(readme), quickstartHeading)
	if len(blocks) < 2 {
		t.Fatalf("README quickstart: got %d sh blocks, want the serve command and the walk-through", len(blocks))
	}
	serve := strings.Fields(strings.TrimSpace(blocks[0]))
	if len(serve) < 4 || strings.Join(serve[:4], " ") != "go run ./cmd/parley serve" || strings.Contains(strings.TrimSpace(blocks[0]), "\n") {
		t.Fatalf("README quickstart: the first block must be one `go run ./cmd/parley serve …` line, got %q", blocks[0])
	}
	script := strings.Join(blocks[1:], "\n")
	const defaultURL = "P=http://127.0.0.1:8080\n"
	if !strings.Contains(script, defaultURL) {
		t.Fatalf("README quickstart: the walk-through must set %q", strings.TrimSpace(defaultURL))
	}

	// A free port, and a working directory whose data/ is the server's.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // the server takes it in a moment
	work := t.TempDir()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, serve[0], serve[1:]...)
	cmd.Dir = root
	cmd.Env = append(cleanEnv(), "PARLEY_LISTEN="+addr, "PARLEY_DATA="+filepath.Join(work, "data"), "PARLEY_DRAIN_DELAY=0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // SIGTERM reaches go run's child too
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		stopped = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(45 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Errorf("the server did not stop within 45s of SIGTERM")
		}
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})

	// go run compiles first: minutes on a cold cache.
	url := "http://" + addr
	waitFor(t, out, exited, "Parley is listening on "+url, 8*time.Minute, errOut)
	waitFor(t, out, exited, "The token is also in", time.Minute, errOut)
	lines := strings.SplitN(out.String(), "\n", 2)
	if lines[0] != "Parley is starting…" {
		t.Errorf("first line of serve: %q, want \"Parley is starting…\"", lines[0])
	}
	if !regexp.MustCompile(`(?m)^  go run \./cmd/parley setup --url ` + regexp.QuoteMeta(url) + ` --token `).MatchString(out.String()) {
		t.Errorf("under go run, the printed setup command must start with go run ./cmd/parley setup; got:\n%s", out)
	}

	sh := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", strings.Replace(script, defaultURL, "P="+url+"\n", 1))
	sh.Dir = work
	sh.Env = cleanEnv()
	var shOut, shErr bytes.Buffer
	sh.Stdout, sh.Stderr = &shOut, &shErr
	if err := sh.Run(); err != nil {
		t.Fatalf("the README's walk-through failed: %v\nstdout:\n%s\nstderr:\n%s\nserver log:\n%s", err, &shOut, &shErr, errOut)
	}
	got := shOut.String()
	for _, want := range []string{
		`"userPrincipalName":"ada@contoso.com"`,   // setup
		`"userPrincipalName":"fred@fabrikam.com"`, // second organisation
		`"userPrincipalName":"erin@fabrikam.com"`, // users
		`"organizationName":"Contoso"`,            // Erin's request names Bob's organisation
		`Hello Erin, Bob from Contoso here.`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("walk-through output lacks %s:\n%s", want, got)
		}
	}
	// The last command lists the chat's messages, newest first.
	last := lastLine(got)
	if i, j := strings.Index(last, "Hi Bob! Erin at Fabrikam."), strings.Index(last, "Hello Erin, Bob from Contoso here."); i < 0 || j < 0 || i > j {
		t.Errorf("the last command should list Erin's reply, then Bob's message; got %s", last)
	}
	if _, err := os.Stat(filepath.Join(work, "data", "setup-token")); !os.IsNotExist(err) {
		t.Errorf("data/setup-token is still there after setup (%v)", err)
	}

	stop()
	if !strings.Contains(out.String(), "Parley is stopping") {
		t.Errorf("after SIGTERM: stdout lacks \"Parley is stopping\":\n%s", out)
	}
}

// cleanEnv is the test's environment without PARLEY_* settings.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			env = append(env, kv)
		}
	}
	return env
}

func lastLine(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	last := ""
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			last = sc.Text()
		}
	}
	return last
}

// waitFor waits until out contains want, failing when the process exits or
// the time is up.
func waitFor(t *testing.T, out *lockedBuffer, exited chan error, want string, d time.Duration, errOut fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(out.String(), want) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the server exited (%v) before printing %q\nstdout:\n%s\nstderr:\n%s", err, want, out, errOut)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %s\nstdout:\n%s\nstderr:\n%s", want, d, out, errOut)
		}
	}
}
