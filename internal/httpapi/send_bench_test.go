package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
	"github.com/parleychat/parley/internal/server"
)

// nullWriter is the least a handler can write to: a header map kept
// between requests (cleared each time, as net/http gives each request its
// own) and a status. The benchmarks count the API's own work, not the
// connection's.
type nullWriter struct {
	h      http.Header
	status int
}

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) WriteHeader(code int)        { w.status = code }
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }

// benchmarkRoute serves method path with body as c, through the API's
// whole chain (middleware, router, authentication, handler), b.N times.
func benchmarkRoute(b *testing.B, s *parleytest.Server, c *parleytest.Client, method, path string, body []byte, want int) {
	b.Helper()
	w := &nullWriter{h: http.Header{}}
	rd := bytes.NewReader(body)
	req, err := http.NewRequest(method, s.URL()+path, io.NopCloser(rd))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = int64(len(body))
	}
	req.RemoteAddr = "127.0.0.1:40000"
	serve := func() {
		clear(w.h)
		w.status = 0
		rd.Reset(body)
		s.API.ServeHTTP(w, req)
		if w.status != want {
			b.Fatalf("%s %s: %d, want %d", method, path, w.status, want)
		}
	}
	serve() // the token is cached, the chat is read once
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for range b.N {
		serve()
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}

// processCPU is the process's CPU time (user and system, every thread: the
// garbage collector's work counts), which a loaded machine inflates far
// less than the wall time of ns/op.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// start starts a SQLite server, with the access log on (a text handler
// writing to nowhere, as parley serve's does to standard error) or off.
func start(b *testing.B, accessLog bool) *parleytest.Server {
	cfg := parleytest.Config(b, "sqlite")
	cfg.Ops.AccessLog = accessLog
	log := slog.New(slog.DiscardHandler)
	if accessLog {
		log = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	s := server.New(cfg, log, io.Discard)
	if err := s.Open(context.Background()); err != nil {
		b.Fatalf("start server: %v", err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return &parleytest.Server{Server: s, TB: b}
}

// variants runs f with the access log off and on.
func variants(b *testing.B, f func(b *testing.B, s *parleytest.Server)) {
	for _, v := range []struct {
		name string
		on   bool
	}{{"plain", false}, {"accesslog", true}} {
		b.Run(v.name, func(b *testing.B) { f(b, start(b, v.on)) })
	}
}

// BenchmarkSendPath is POST /v1.0/chats/{id}/messages through the API
// chain on SQLite: the HTTP layers' allocations per send beside the
// store's (BenchmarkSendHTTP in internal/loadtest adds the connection).
func BenchmarkSendPath(b *testing.B) {
	variants(b, benchmarkSendPath)
}

func benchmarkSendPath(b *testing.B, s *parleytest.Server) {
	ten := s.CreateTenant("Contoso", "contoso.com")
	alice := s.User(ten, "alice", false)
	bob := s.User(ten, "bob", false)
	chat := alice.OneOnOne(bob.UserID)
	body := []byte(`{"body":{"contentType":"text","content":"` + string(bytes.Repeat([]byte("x"), 100)) + `"}}`)
	benchmarkRoute(b, s, alice, http.MethodPost, "/v1.0/chats/"+chat+"/messages", body, http.StatusCreated)
}

// BenchmarkMiddleware is GET /v1.0/me, which no store serves once the
// token is cached: the middleware, router, authentication and encode alone.
func BenchmarkMiddleware(b *testing.B) {
	variants(b, benchmarkMiddleware)
}

func benchmarkMiddleware(b *testing.B, s *parleytest.Server) {
	ten := s.CreateTenant("Contoso", "contoso.com")
	alice := s.User(ten, "alice", false)
	benchmarkRoute(b, s, alice, http.MethodGet, "/v1.0/me", nil, http.StatusOK)
}
