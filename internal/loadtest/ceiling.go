package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ceiling is the trivial handler Parley is measured against: it decodes a
// small JSON body and answers 201 with a small JSON object, on net/http in
// this process. Nothing a real server does (auth, storage, fan-out) is
// there, so its throughput is what the machine, the generator and HTTP/1.1
// allow.
type ceiling struct {
	srv *http.Server
	url string
	ids atomic.Int64
}

func startCeiling() (*ceiling, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the ceiling handler: %w", err)
	}
	c := &ceiling{url: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1.0/chats/{id}/messages", c.create)
	c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		_ = c.srv.Serve(ln) // ErrServerClosed after Close
	}()
	return c, nil
}

func (c *ceiling) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Body struct {
			ContentType string `json:"contentType"`
			Content     string `json:"content"`
		} `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body.Content == "" {
		http.Error(w, `{"error":{"code":"badRequest","message":"bad body"}}`, http.StatusBadRequest)
		return
	}
	out, err := json.Marshal(struct {
		ID              string `json:"id"`
		ChatID          string `json:"chatId"`
		CreatedDateTime string `json:"createdDateTime"`
	}{strconv.FormatInt(c.ids.Add(1), 10), r.PathValue("id"), time.Now().UTC().Format("2006-01-02T15:04:05.000Z")})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(out) // the generator reads it or has gone
}

func (c *ceiling) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ceilingChildEnv marks the tool's own binary started again as the ceiling
// process (startCeilingProcess).
const ceilingChildEnv = "PARLEY_LOAD_CEILING_CHILD"

// ServeCeilingChild serves the ceiling handler when this process was
// started as the ceiling process: it prints the handler's URL on stdout
// and serves until stdin closes, then returns true (the caller exits).
// Otherwise it returns false at once. cmd/parley-load calls it first
// thing, so the ceiling runs in a process of its own whose CPU time the
// tool reads like the server's (/proc/<pid>/stat), without the generator.
func ServeCeilingChild() bool {
	if os.Getenv(ceilingChildEnv) != "1" {
		return false
	}
	c, err := startCeiling()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("ceiling %s\n", c.url)
	_, _ = io.Copy(io.Discard, os.Stdin) // until the tool closes it or dies
	_ = c.Close()                        // exiting anyway
	return true
}

// startCeilingProcess starts this program again as the ceiling process,
// pinned to cpus when given (taskset -c), and returns the handler with
// the process's PID.
func startCeilingProcess(cpus string) (*ceilingProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("ceiling process: %w", err)
	}
	var cmd *exec.Cmd
	if cpus != "" {
		cmd = exec.Command("taskset", "-c", cpus, exe)
	} else {
		cmd = exec.Command(exe)
	}
	cmd.Env = append(os.Environ(), ceilingChildEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ceiling process: %w", err)
	}
	p := &ceilingProc{cmd: cmd, stdin: stdin, pid: cmd.Process.Pid}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, stdout) // nothing more is printed
	}()
	select {
	case l, ok := <-line:
		u, found := strings.CutPrefix(l, "ceiling ")
		if !ok || !found {
			_ = p.Close()
			return nil, fmt.Errorf("ceiling process printed %q, not its URL (does the binary call loadtest.ServeCeilingChild?)", l)
		}
		p.url = u
	case <-time.After(10 * time.Second):
		_ = p.Close()
		return nil, errors.New("ceiling process did not print its URL in 10s (does the binary call loadtest.ServeCeilingChild?)")
	}
	return p, nil
}

// ceilingProc is the ceiling handler in a process of its own.
type ceilingProc struct {
	cmd   *exec.Cmd
	stdin io.Closer
	pid   int
	url   string
}

func (p *ceilingProc) Close() error {
	_ = p.stdin.Close() // the child exits on EOF
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
		return nil
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill() // it did not stop in time
		<-done
		return nil
	}
}
