package server_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// graphClientDir is the Node project that runs the Microsoft Graph
// JavaScript client, relative to this package's directory.
var graphClientDir = filepath.Join("..", "..", "test", "graphclient")

var graphClientSummary = regexp.MustCompile(`^graphclient: (\d+) passed, (\d+) failed$`)

// TestGraphClientLibrary runs the unmodified @microsoft/microsoft-graph-client
// (test/graphclient/run.mjs) against a server over HTTPS: GET /me, a 1:1
// chat, messages paged with the library's own PageIterator (SPEC §11:
// Graph client libraries work by changing the base URL). It needs Node and
// `npm ci --prefix test/graphclient`; it fails, never skips, without them.
func TestGraphClientLibrary(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH (%v): this test runs the Microsoft Graph JavaScript client; install Node.js 20 or later, then run `npm ci --prefix test/graphclient` from the repository root", err)
	}
	dir, err := filepath.Abs(graphClientDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@microsoft", "microsoft-graph-client", "package.json")); err != nil {
		t.Fatalf("test/graphclient/node_modules is missing or incomplete (%v): run `npm ci --prefix test/graphclient` from the repository root", err)
	}

	s := MustStartTLS(t)
	tenant := s.CreateTenant("Contoso", "contoso.com")
	alice := s.User(tenant, "alice")
	bob := s.User(tenant, "bob")

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "run.mjs")
	cmd.Dir = dir
	cmd.Env = append(graphClientEnv(os.Environ()),
		"BASE="+s.URL(),
		"TOKEN="+alice.Token,
		"USER_A="+alice.UserID,
		"USER_B="+bob.UserID,
		"NODE_EXTRA_CA_CERTS="+s.Cert.CertFile,
	)
	cmd.WaitDelay = 5 * time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw

	var (
		wg      sync.WaitGroup
		summary []string
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			t.Log("node: " + line)
			if m := graphClientSummary.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				summary = m
			}
		}
		_, _ = io.Copy(io.Discard, pr) // drain after an over-long line so node never blocks on a full pipe
	}()
	err = cmd.Run()
	_ = pw.Close() // Close of an io.PipeWriter never fails
	wg.Wait()

	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("node run.mjs did not finish in time: %v", ctx.Err())
	case errors.As(err, &exit):
		t.Fatalf("node run.mjs failed (%v): see the node lines above", err)
	case err != nil:
		t.Fatalf("run node run.mjs: %v", err)
	}
	if summary == nil {
		t.Fatal(`node run.mjs exited 0 without its "graphclient: N passed, M failed" line`)
	}
	if summary[2] != "0" || summary[1] == "0" {
		t.Fatalf("node run.mjs: %s", summary[0])
	}
}

// graphClientEnv is the environment node inherits, without settings that
// would weaken or replace the TLS check the test relies on.
func graphClientEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "NODE_TLS_REJECT_UNAUTHORIZED", "NODE_EXTRA_CA_CERTS", "NODE_OPTIONS", "BASE", "TOKEN", "USER_A", "USER_B":
			continue
		}
		out = append(out, kv)
	}
	return out
}
