package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
	"github.com/parleychat/parley/internal/server"
)

// get fetches url and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// errorCode reads the code of the API's error shape.
func errorCode(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not the error shape: %s", body)
	}
	return e.Error.Code
}

// /healthz says the process is up; /readyz whether it should get traffic:
// not while it drains, not when its store does not answer, not when NATS
// (where configured) is gone.
func TestReadyz(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, st string) {
		t.Parallel()
		s := parleytest.StartStore(t, st)
		if code, body := get(t, s.URL()+"/readyz"); code != 200 || body != "ready\n" {
			t.Fatalf("readyz: got %d %q, want 200 ready", code, body)
		}
		s.Drain()
		code, body := get(t, s.URL()+"/readyz")
		if code != 503 || errorCode(t, body) != "serviceNotAvailable" || !strings.Contains(body, "shutting down") {
			t.Fatalf("readyz while draining: got %d %s, want 503 serviceNotAvailable", code, body)
		}
		if code, _ := get(t, s.URL()+"/healthz"); code != 200 {
			t.Fatalf("healthz while draining: got %d, want 200", code)
		}
	})
	t.Run("store gone", func(t *testing.T) {
		t.Parallel()
		s := parleytest.StartStore(t, "sqlite")
		if err := s.DB.Close(); err != nil {
			t.Fatal(err)
		}
		code, body := get(t, s.URL()+"/readyz")
		if code != 503 || errorCode(t, body) != "serviceNotAvailable" || !strings.Contains(body, "store") {
			t.Fatalf("readyz without a store: got %d %s, want 503 naming the store", code, body)
		}
		if strings.Contains(body, "sql") {
			t.Fatalf("readyz shows the store's error: %s", body)
		}
	})
	t.Run("NATS gone", func(t *testing.T) {
		parleytest.RequirePostgres(t)
		t.Parallel()
		ns := startEmbeddedNATS(t)
		proxy := startProxy(t, ns.Addr().String())
		cfg := parleytest.Config(t, "postgres")
		cfg.Store.NATSURL = proxy.URL()
		s := parleytest.Start(t, cfg)
		if code, body := get(t, s.URL()+"/readyz"); code != 200 {
			t.Fatalf("readyz with NATS: got %d %s", code, body)
		}
		proxy.cut()
		eventually(t, "readyz 503 without NATS", func() bool {
			code, body := get(t, s.URL()+"/readyz")
			return code == 503 && strings.Contains(body, "NATS")
		})
		proxy.restore()
		eventually(t, "readyz 200 with NATS back", func() bool {
			code, _ := get(t, s.URL()+"/readyz")
			return code == 200
		})
	})
}

// metricValue finds one sample in a Prometheus text exposition: name with
// exactly the given labels ("" for none).
func metricValue(t *testing.T, text, name, labels string) float64 {
	t.Helper()
	want := name
	if labels != "" {
		want += "{" + labels + "}"
	}
	for line := range strings.SplitSeq(text, "\n") {
		if v, ok := strings.CutPrefix(line, want+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no sample %s in\n%s", want, text)
	return 0
}

// /metrics is served on --metrics-listen only, and counts what happened.
func TestMetrics(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, st string) {
		t.Parallel()
		cfg := parleytest.Config(t, st)
		cfg.Ops.MetricsListen = "127.0.0.1:0"
		s := parleytest.Start(t, cfg)
		if s.MetricsURL() == "" || s.MetricsURL() == s.URL() {
			t.Fatalf("metrics URL %q, want a listener of its own", s.MetricsURL())
		}
		// (The public listener's /metrics is the web client's page.)
		if _, body := get(t, s.URL()+"/metrics"); strings.Contains(body, "parley_") {
			t.Fatalf("GET /metrics on the public listener serves metrics")
		}
		ten := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(ten, "alice", false)
		bob := s.User(ten, "bob", false)
		ws := bob.Events(0)
		defer ws.Close()
		chat := alice.OneOnOne(bob.UserID)
		for i := range 3 {
			alice.Send(chat, "hello "+strconv.Itoa(i))
		}
		ws.WaitCount("messageCreated", 3, 10*time.Second)
		alice.Do("GET", "/v1.0/chats/"+chat+"/nothing", nil)

		code, text := get(t, s.MetricsURL()+"/metrics")
		if code != 200 {
			t.Fatalf("GET /metrics: %d %s", code, text)
		}
		send := `code="201",route="POST /v1.0/chats/{id}/messages"`
		if got := metricValue(t, text, "parley_http_requests_total", send); got != 3 {
			t.Errorf("sends counted: %v, want 3", got)
		}
		if got := metricValue(t, text, "parley_http_request_duration_seconds_count", `route="POST /v1.0/chats/{id}/messages"`); got != 3 {
			t.Errorf("send latencies: %v, want 3", got)
		}
		// An unknown path is counted under its catch-all pattern, not its path.
		if got := metricValue(t, text, "parley_http_requests_total", `code="404",route="/v1.0/"`); got != 1 {
			t.Errorf("404 under the catch-all: %v, want 1", got)
		}
		if strings.Contains(text, chat) {
			t.Error("a chat id is in the metrics: routes must be patterns")
		}
		if got := metricValue(t, text, "parley_messages_sent_total", ""); got != 3 {
			t.Errorf("messages sent: %v, want 3", got)
		}
		if got := metricValue(t, text, "parley_websockets_open", ""); got != 1 {
			t.Errorf("open WebSockets: %v, want 1", got)
		}
		if got := metricValue(t, text, "parley_event_deliveries_total", ""); got < 3 {
			t.Errorf("deliveries: %v, want at least the 3 messages", got)
		}
		if got := metricValue(t, text, "parley_store_write_group_size_count", ""); got < 1 {
			t.Errorf("write groups: %v, want some", got)
		}
		if got := metricValue(t, text, "parley_store_write_group_seconds_count", ""); got < 1 {
			t.Errorf("group commit times: %v, want some", got)
		}
		metricValue(t, text, "parley_store_write_queue", "")
		if got := metricValue(t, text, "parley_outbox_pending", ""); got != 0 {
			t.Errorf("outbox pending: %v, want 0", got)
		}
		metricValue(t, text, "parley_outbox_failed", "")
		metricValue(t, text, "go_goroutines", "")
	})
}

// syncWriter is a goroutine-safe buffer for a test's log.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// The access log has one JSON line per request with its request id, route
// pattern, status, duration and size, and never a token or message text.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	logs := &syncWriter{}
	cfg := parleytest.Config(t, "sqlite")
	cfg.Ops.AccessLog = true
	s := server.New(cfg, slog.New(slog.NewJSONHandler(logs, nil)), io.Discard)
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ps := &parleytest.Server{Server: s, TB: t}
	ten := ps.CreateTenant("Contoso", "contoso.com")
	alice := ps.User(ten, "alice", false)
	bob := ps.User(ten, "bob", false)
	chat := alice.OneOnOne(bob.UserID)
	const secretText = "the-secret-plan-x91"
	r := alice.DoHeader("POST", "/v1.0/chats/"+chat+"/messages", map[string]any{"body": map[string]string{"content": secretText}},
		map[string]string{"X-Request-Id": "trace-abc-123"})
	if r.Status != 201 || r.Header.Get("X-Request-Id") != "trace-abc-123" || r.Header.Get("request-id") != "trace-abc-123" {
		t.Fatalf("send: %d, X-Request-Id %q: want 201 and the id echoed", r.Status, r.Header.Get("X-Request-Id"))
	}
	r = alice.Do("GET", "/v1.0/me", nil)
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(r.Header.Get("X-Request-Id")) {
		t.Fatalf("generated request id: %q", r.Header.Get("X-Request-Id"))
	}
	// A request id that would break a log line is replaced.
	r = alice.DoHeader("GET", "/v1.0/me", nil, map[string]string{"X-Request-Id": "a b\tc"})
	if r.Header.Get("X-Request-Id") == "a b\tc" {
		t.Fatal("an id with spaces was echoed")
	}
	// A token in the query string (WebSocket clients) and one in a path.
	get(t, s.URL()+"/parley/v1/events?access_token="+bob.Token)
	get(t, s.URL()+"/parley/v1/invitations/secret-invitation-token-77")
	s.Close() // every request's line is written

	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %s", sc.Text())
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	var send map[string]any
	for _, m := range lines {
		if m["request_id"] == "trace-abc-123" {
			send = m
		}
	}
	if send == nil {
		t.Fatalf("no access log line with the request id; lines: %v", lines)
	}
	if send["route"] != "POST /v1.0/chats/{id}/messages" || send["status"] != float64(201) || send["bytes"].(float64) <= 0 || send["ms"] == nil || send["method"] != "POST" {
		t.Errorf("send's line: %v", send)
	}
	all := logs.String()
	for _, secret := range []string{secretText, alice.Token, bob.Token, "access_token", "Bearer", "secret-invitation-token-77", chat} {
		if strings.Contains(all, secret) {
			t.Errorf("the log holds %q:\n%s", secret, all)
		}
	}
	if len(lines) < 8 {
		t.Errorf("want a line per request, got %d", len(lines))
	}
}

// Without --access-log, requests are logged at Debug only (5xx at Warn).
func TestAccessLogOff(t *testing.T) {
	t.Parallel()
	logs := &syncWriter{}
	cfg := parleytest.Config(t, "sqlite")
	cfg.Ops.AccessLog = false
	s := server.New(cfg, slog.New(slog.NewJSONHandler(logs, nil)), io.Discard)
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	get(t, s.URL()+"/healthz")
	_ = s.Close()
	if strings.Contains(logs.String(), `"msg":"request"`) {
		t.Errorf("access log written though off:\n%s", logs)
	}
}
