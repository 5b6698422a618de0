package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
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
	for range b.N {
		serve()
	}
}

// BenchmarkSendPath is POST /v1.0/chats/{id}/messages through the API
// chain on SQLite: the HTTP layers' allocations per send beside the
// store's (BenchmarkSendHTTP in internal/loadtest adds the connection).
func BenchmarkSendPath(b *testing.B) {
	s := parleytest.StartStore(b, "sqlite")
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
	s := parleytest.StartStore(b, "sqlite")
	ten := s.CreateTenant("Contoso", "contoso.com")
	alice := s.User(ten, "alice", false)
	benchmarkRoute(b, s, alice, http.MethodGet, "/v1.0/me", nil, http.StatusOK)
}
