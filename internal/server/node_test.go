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

// mustNodeProject returns the node binary and the absolute directory of a
// Node test project (relative to this package), failing, never skipping,
// with how to install what is missing. probe is a file under node_modules
// that a complete install has.
func mustNodeProject(t *testing.T, rel, probe, what string) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH (%v): this test %s; install Node.js 20 or later, then run `npm ci --prefix %s` from the repository root", err, what, filepath.ToSlash(rel[len("../../"):]))
	}
	dir, err = filepath.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", probe)); err != nil {
		t.Fatalf("%s/node_modules is missing or incomplete (%v): run `npm ci --prefix %s` from the repository root", filepath.ToSlash(rel[len("../../"):]), err, filepath.ToSlash(rel[len("../../"):]))
	}
	return node, dir
}

// runNodeScript runs `node run.mjs` in dir with env (KEY=VALUE) on top of
// this process's environment (less anything that would weaken the TLS
// check or preload code), streams its output into the test log, and fails
// unless its last summary line reads "<suite>: N passed, 0 failed" with
// N > 0.
func runNodeScript(t *testing.T, node, dir, suite string, timeout time.Duration, env ...string) {
	t.Helper()
	summaryRE := regexp.MustCompile(`^` + regexp.QuoteMeta(suite) + `: (\d+) passed, (\d+) failed$`)
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "run.mjs")
	cmd.Dir = dir
	cmd.Env = append(nodeEnv(os.Environ(), env), env...)
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
			if m := summaryRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				summary = m
			}
		}
		_, _ = io.Copy(io.Discard, pr) // drain after an over-long line so node never blocks on a full pipe
	}()
	err := cmd.Run()
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
		t.Fatalf(`node run.mjs exited 0 without its "%s: N passed, M failed" line`, suite)
	}
	if summary[2] != "0" || summary[1] == "0" {
		t.Fatalf("node run.mjs: %s", summary[0])
	}
}

// nodeEnv is the environment node inherits: without settings that would
// weaken or replace the TLS check or preload code, and without the
// variables the test sets itself.
func nodeEnv(environ, set []string) []string {
	drop := map[string]bool{"NODE_TLS_REJECT_UNAUTHORIZED": true, "NODE_EXTRA_CA_CERTS": true, "NODE_OPTIONS": true}
	for _, kv := range set {
		name, _, _ := strings.Cut(kv, "=")
		drop[name] = true
	}
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		if name, _, _ := strings.Cut(kv, "="); !drop[name] {
			out = append(out, kv)
		}
	}
	return out
}
