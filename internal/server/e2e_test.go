package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/mail/mailtest"
	"github.com/parleychat/parley/internal/parleytest"
	"github.com/parleychat/parley/internal/server"
)

// e2eDir is the Node project with the browser tests (playwright-core),
// relative to this package's directory.
var e2eDir = filepath.Join("..", "..", "test", "e2e")

var e2eSummary = regexp.MustCompile(`^e2e: (\d+) passed, (\d+) failed$`)

// TestWebClientE2E drives the web client (internal/web/dist, built from
// web/) in headless Chromium through test/e2e/run.mjs against real servers
// with a real SMTP recorder: sign-in, an invitation by email to an unknown
// address, the invitee's join page and request, live messages both ways
// (mentions, edits, deletes, an Adaptive Card, a reconnect with ?since=),
// the read-only banner when the admin turns personal-account chat off and
// on, the inbound-only case, explain, policies, personal settings, sign-up
// with the emailed code, and the first-run setup page, at desktop and phone
// sizes, with screenshots. It needs Node, `npm ci --prefix test/e2e` and
// Debian's chromium; it fails, never skips, without them.
func TestWebClientE2E(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH (%v): this test drives the web client in Chromium; install Node.js 20 or later, then run `npm ci --prefix test/e2e` from the repository root", err)
	}
	dir, err := filepath.Abs(e2eDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("test/e2e/node_modules is missing or incomplete (%v): run `npm ci --prefix test/e2e` from the repository root", err)
	}
	chromium := os.Getenv("PARLEY_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("no Chromium at %s (%v): install Debian's chromium (`apt-get install -y chromium`) or set PARLEY_CHROMIUM; never `npx playwright install`", chromium, err)
	}
	index, err := os.ReadFile(filepath.Join("..", "web", "dist", "index.html"))
	if err != nil || !bytes.Contains(index, []byte("/assets/")) {
		t.Fatalf("internal/web/dist holds no built client (%v): run scripts/web-build", err)
	}
	shots := os.Getenv("PARLEY_E2E_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	// The main world: Contoso with an admin and two members, Fabrikam (for
	// the domain lists), a personal account, real SMTP and SMS recorders.
	w := parleytest.StartWorld(t, "sqlite")
	contoso := w.CreateTenant("Contoso", "contoso.com")
	w.CreateTenant("Fabrikam", "fabrikam.com")
	alice := w.User(contoso, "alice", false)
	bob := w.User(contoso, "bob", false)
	pat := w.Personal("pat@gmail.com")

	// A second, empty server for the first-run page; its setup token is
	// what `parley serve` prints.
	var out syncBuffer
	fresh := server.New(parleytest.Config(t, "sqlite"), nil, &out)
	if err := fresh.Open(t.Context()); err != nil {
		t.Fatalf("start the empty server: %v", err)
	}
	t.Cleanup(func() {
		if err := fresh.Close(); err != nil {
			t.Errorf("close the empty server: %v", err)
		}
	})
	setupToken := regexp.MustCompile(`--token (\S+)`).FindStringSubmatch(out.String())
	if setupToken == nil {
		t.Fatalf("the empty server printed no setup token: %q", out.String())
	}

	// The helper the browser test asks for mail: GET /mail?to=ADDR&n=N
	// waits for the n-th mail to ADDR and answers its subject, body, the
	// /join/ link and the 6-digit code in it.
	helper := httptest.NewServer(mailHelper(w.Mail))
	t.Cleanup(helper.Close)

	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "run.mjs")
	cmd.Dir = dir
	cmd.Env = append(e2eEnv(os.Environ()),
		"BASE="+w.URL(),
		"SETUP_BASE="+fresh.URL(),
		"SETUP_TOKEN="+setupToken[1],
		"HELPER="+helper.URL,
		"PASSWORD="+parleytest.Password,
		"ADMIN=admin@contoso.com",
		"ALICE=alice@contoso.com", "ALICE_ID="+alice.UserID,
		"BOB=bob@contoso.com", "BOB_ID="+bob.UserID,
		"PAT=pat@gmail.com", "PAT_ID="+pat.UserID,
		"CHROMIUM="+chromium,
		"SHOTS="+shots,
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
			if m := e2eSummary.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				summary = m
			}
		}
		_, _ = io.Copy(io.Discard, pr) // drain after an over-long line so node never blocks on a full pipe
	}()
	err = cmd.Run()
	_ = pw.Close() // Close of an io.PipeWriter never fails
	wg.Wait()
	t.Logf("screenshots are in %s", shots)

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
		t.Fatal(`node run.mjs exited 0 without its "e2e: N passed, M failed" line`)
	}
	if summary[2] != "0" || summary[1] == "0" {
		t.Fatalf("node run.mjs: %s", summary[0])
	}
}

var (
	joinLink  = regexp.MustCompile(`https?://\S+/join/[A-Za-z0-9_-]+`)
	sixDigits = regexp.MustCompile(`\b(\d{6})\b`)
)

// mailHelper answers GET /mail?to=ADDR&n=N with the n-th mail (1-based,
// default 1) to ADDR, waiting up to 10 s for it.
func mailHelper(m *mailtest.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := r.URL.Query().Get("to")
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 1 {
			n = 1
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			var got []mailtest.Received
			for _, msg := range m.Messages() {
				for _, rcpt := range msg.To {
					if strings.EqualFold(rcpt, to) {
						got = append(got, msg)
					}
				}
			}
			if len(got) >= n {
				msg := got[n-1]
				text := msg.Subject + "\n" + msg.Body
				out := map[string]string{"subject": msg.Subject, "body": msg.Body,
					"joinUrl": joinLink.FindString(text), "code": sixDigits.FindString(text)}
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(out) // the test reads it; a failed write fails there
				return
			}
			if time.Now().After(deadline) || r.Context().Err() != nil {
				http.Error(w, "no mail #"+strconv.Itoa(n)+" to "+to+" within 10s (have "+strconv.Itoa(len(got))+")", http.StatusNotFound)
				return
			}
			time.Sleep(25 * time.Millisecond)
		}
	})
}

// e2eEnv is the environment node inherits, without what the test sets.
func e2eEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "NODE_OPTIONS", "BASE", "SETUP_BASE", "SETUP_TOKEN", "HELPER", "PASSWORD", "ADMIN", "ALICE", "ALICE_ID",
			"BOB", "BOB_ID", "PAT", "PAT_ID", "CHROMIUM", "SHOTS":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for the server's writes and our read.
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
