package loadtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create a fresh schema
	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/parleychat/parley/internal/config"
	"github.com/parleychat/parley/internal/server"
	"github.com/parleychat/parley/internal/tcpproxy"
)

// target is the server under load.
type target struct {
	Mode          string // url, spawn or in-process
	Store         string
	URL           string
	OperatorToken string
	PID           int // 0 when unknown
	// URLs and PIDs are every node's (URL and PID are the first's).
	URLs []string
	PIDs []int
	Logs string // spawn: the directory with the server's stdout and stderr
	// procs are the spawned nodes' processes; nats is the NATS server the
	// tool started, proxy the link of the last node to NATS (nats-cut).
	procs   []*os.Process
	nats    *natsserver.Server
	proxy   *tcpproxy.Proxy
	closers []func() error
}

// Close stops what openTarget started, in reverse order.
func (t *target) Close() error {
	var errs []error
	for i := len(t.closers) - 1; i >= 0; i-- {
		errs = append(errs, t.closers[i]())
	}
	t.closers = nil
	return errors.Join(errs...)
}

func openTarget(ctx context.Context, c *Config) (*target, error) {
	switch {
	case c.URL != "":
		t := &target{Mode: "url", Store: "unknown", URL: strings.TrimRight(c.URL, "/"), OperatorToken: c.OperatorToken, PID: c.PID}
		t.URLs = []string{t.URL}
		for _, u := range c.NodeURLs {
			t.URLs = append(t.URLs, strings.TrimRight(u, "/"))
		}
		if c.PID > 0 {
			t.PIDs = append([]int{c.PID}, c.NodePIDs...)
		}
		return t, nil
	case c.Spawn:
		t := &target{Mode: "spawn", Store: c.Store}
		if err := t.spawn(ctx, c); err != nil {
			return nil, errors.Join(err, t.Close())
		}
		return t, nil
	default:
		t := &target{Mode: "in-process", Store: c.Store}
		if err := t.inProcess(ctx, c); err != nil {
			return nil, errors.Join(err, t.Close())
		}
		return t, nil
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms (Go 1.24+).
	return hex.EncodeToString(b)
}

// tempDir makes the run's scratch directory, removed at Close unless keep.
func (t *target) tempDir(keep bool, log io.Writer) (string, error) {
	dir, err := os.MkdirTemp("", "parley-load-")
	if err != nil {
		return "", fmt.Errorf("make scratch directory: %w", err)
	}
	t.closers = append(t.closers, func() error {
		if keep {
			fmt.Fprintf(log, "kept %s\n", dir)
			return nil
		}
		return os.RemoveAll(dir)
	})
	return dir, nil
}

// postgresSchema creates a fresh schema and returns a URL whose
// connections use it (as parleytest.PostgresSchema does).
func (t *target) postgresSchema(ctx context.Context, base string, keep bool, log io.Writer) (string, error) {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", fmt.Errorf("open postgres: %w", err)
	}
	schema := "load_" + randomHex(6)
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = db.Close() // the create error is the one to report
		return "", fmt.Errorf("create schema: %w", err)
	}
	t.closers = append(t.closers, func() error {
		defer db.Close()
		if keep {
			fmt.Fprintf(log, "kept PostgreSQL schema %s\n", schema)
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	})
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse postgres url: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

var listeningRE = regexp.MustCompile(`Parley is listening on (\S+)`)

// spawn builds (unless ParleyBin is given) and starts `parley serve`:
// c.Nodes nodes on one PostgreSQL schema with NATS between them, or one.
func (t *target) spawn(ctx context.Context, c *Config) error {
	dir, err := t.tempDir(c.KeepData, c.Log)
	if err != nil {
		return err
	}
	bin := c.ParleyBin
	if bin == "" {
		if bin, err = buildParley(ctx, dir, c.Log); err != nil {
			return err
		}
	}
	t.OperatorToken = randomHex(16)
	var common []string
	if c.Store == "postgres" {
		pg, err := t.postgresSchema(ctx, c.PostgresURL, c.KeepData, c.Log)
		if err != nil {
			return err
		}
		common = append(common, "--store", "postgres", "--postgres-url", pg)
	}
	var natsURL string
	if c.Nodes > 1 {
		natsURL = c.NATSURL
		if natsURL == "" {
			if natsURL, err = t.embeddedNATS(); err != nil {
				return err
			}
		}
		if c.Fault == FaultNATSCut {
			nu, err := url.Parse(natsURL)
			if err != nil {
				return fmt.Errorf("parse NATS URL: %w", err)
			}
			if t.proxy, err = tcpproxy.Start(nu.Host); err != nil {
				return err
			}
			t.closers = append(t.closers, t.proxy.Close)
		}
	}
	for i := range max(1, c.Nodes) {
		args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, fmt.Sprintf("data%d", i)),
			"--operator-token", t.OperatorToken, "--drain-delay", "0"}, common...)
		switch {
		case t.proxy != nil && i == c.Nodes-1:
			args = append(args, "--nats-url", "nats://"+t.proxy.Addr())
		case natsURL != "":
			args = append(args, "--nats-url", natsURL)
		}
		u, proc, err := t.spawnNode(ctx, c, bin, args, filepath.Join(dir, fmt.Sprintf("node%d", i)))
		if err != nil {
			return err
		}
		t.URLs, t.PIDs, t.procs = append(t.URLs, u), append(t.PIDs, proc.Pid), append(t.procs, proc)
	}
	t.URL, t.PID, t.Logs = t.URLs[0], t.PIDs[0], dir
	return nil
}

// embeddedNATS starts a NATS server in this process on a free loopback
// port, for the nodes of a run (their traffic stays off any shared NATS).
// The closer stops the one running then (nats-restart replaces it).
func (t *target) embeddedNATS() (string, error) {
	ns, err := startNATS(-1)
	if err != nil {
		return "", err
	}
	t.nats = ns
	t.closers = append(t.closers, func() error { t.nats.Shutdown(); t.nats.WaitForShutdown(); return nil })
	return ns.ClientURL(), nil
}

// spawnNode starts one `parley serve` and waits until it answers.
func (t *target) spawnNode(ctx context.Context, c *Config, bin string, args []string, dir string) (string, *os.Process, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	outPath, errPath := filepath.Join(dir, "stdout"), filepath.Join(dir, "stderr")
	stdout, err := os.Create(outPath)
	if err != nil {
		return "", nil, err
	}
	defer stdout.Close()
	stderr, err := os.Create(errPath)
	if err != nil {
		return "", nil, err
	}
	defer stderr.Close()
	cmd := exec.Command(bin, args...)
	if c.ServerCPUs != "" {
		// taskset execs the server in place: the PID stays the server's.
		cmd = exec.Command("taskset", append([]string{"-c", c.ServerCPUs, bin}, args...)...)
	}
	// No PARLEY_* from the tool's environment; the Go runtime knobs pass.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for _, k := range []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start parley serve: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // the exit status is not needed: a crash shows as failed requests
		close(exited)
	}()
	t.closers = append(t.closers, func() error {
		select {
		case <-exited:
			return nil
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM) // a process gone already is fine
		select {
		case <-exited:
			return nil
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill() // it did not stop in time
			<-exited
			return errors.New("parley serve did not stop within 15s of SIGTERM; killed")
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	var u string
	for u == "" {
		b, _ := os.ReadFile(outPath) // not there yet reads as empty
		if m := listeningRE.FindSubmatch(b); m != nil {
			u = string(m[1])
			break
		}
		select {
		case <-exited:
			return "", nil, fmt.Errorf("parley serve exited before listening; see %s", errPath)
		case <-ctx.Done():
			return "", nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return "", nil, fmt.Errorf("parley serve did not print its URL in 60s; see %s", dir)
		}
	}
	for {
		resp, err := http.Get(u + "/healthz")
		if err == nil {
			_ = resp.Body.Close() // nothing to read
			if resp.StatusCode == http.StatusOK {
				return u, cmd.Process, nil
			}
		}
		if time.Now().After(deadline) {
			return "", nil, fmt.Errorf("GET /healthz did not answer 200 in 60s (last: %v); see %s", err, dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// buildParley builds ./cmd/parley of the module the tool runs in.
func buildParley(ctx context.Context, dir string, log io.Writer) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	mod := strings.TrimSpace(string(out))
	if err != nil || mod == "" || mod == os.DevNull {
		return "", errors.New("--spawn builds ./cmd/parley: run from the Parley module, or pass --parley-bin")
	}
	bin := filepath.Join(dir, "parley")
	fmt.Fprintf(log, "building ./cmd/parley ...\n")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/parley")
	cmd.Dir = filepath.Dir(mod)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/parley: %w\n%s", err, b)
	}
	return bin, nil
}

// inProcess starts the server in this process. Its goroutines carry the
// pprof label side=server, the tool's side=load, so one CPU profile can be
// split: go tool pprof -tagfocus=side=server.
func (t *target) inProcess(ctx context.Context, c *Config) error {
	dir, err := t.tempDir(c.KeepData, c.Log)
	if err != nil {
		return err
	}
	cfg := config.Default()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Store.Kind = c.Store
	cfg.Store.DataDir = filepath.Join(dir, "data")
	cfg.OperatorToken = randomHex(16)
	if c.Store == "postgres" {
		if cfg.Store.PostgresURL, err = t.postgresSchema(ctx, c.PostgresURL, c.KeepData, c.Log); err != nil {
			return err
		}
	}
	s := server.New(cfg, nil, io.Discard)
	pprof.Do(ctx, pprof.Labels("side", "server"), func(context.Context) {
		err = s.Open(ctx)
	})
	if err != nil {
		return fmt.Errorf("start server in process: %w", err)
	}
	t.closers = append(t.closers, s.Close)
	t.URL, t.OperatorToken, t.PID = s.URL(), cfg.OperatorToken, 0
	t.URLs = []string{t.URL}
	return nil
}
