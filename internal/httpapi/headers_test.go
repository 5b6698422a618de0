package httpapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestAnswerHeaders: every JSON answer, small or large, success or error,
// carries its exact Content-Length (never chunked), the JSON content type,
// nosniff and the request id under both names.
func TestAnswerHeaders(t *testing.T) {
	t.Parallel()
	s := parleytest.StartStore(t, "sqlite")
	ten := s.CreateTenant("Contoso", "contoso.com")
	alice := s.User(ten, "alice", false)
	bob := s.User(ten, "bob", false)
	chat := alice.OneOnOne(bob.UserID)
	check := func(name string, r *parleytest.Response, status int) {
		t.Helper()
		if r.Status != status {
			t.Fatalf("%s: %d %s, want %d", name, r.Status, r.Body, status)
		}
		if got := r.Header.Get("Content-Length"); got != strconv.Itoa(len(r.Body)) {
			t.Errorf("%s: Content-Length %q for %d bytes", name, got, len(r.Body))
		}
		if got := r.Header.Get("Content-Type"); got != "application/json; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", name, got)
		}
		if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", name, got)
		}
		if id := r.Header.Get("X-Request-Id"); id == "" || r.Header.Get("Request-Id") != id {
			t.Errorf("%s: X-Request-Id %q, Request-Id %q", name, id, r.Header.Get("Request-Id"))
		}
	}
	small := map[string]any{"body": map[string]string{"content": "hello"}}
	check("small send", alice.Do("POST", "/v1.0/chats/"+chat+"/messages", small), http.StatusCreated)
	large := map[string]any{"body": map[string]string{"content": strings.Repeat("long text ", 400)}}
	r := alice.Do("POST", "/v1.0/chats/"+chat+"/messages", large)
	if len(r.Body) <= 2048 {
		t.Fatalf("the large answer has only %d bytes", len(r.Body))
	}
	check("large send", r, http.StatusCreated)
	check("list", alice.Do("GET", "/v1.0/chats/"+chat+"/messages", nil), http.StatusOK)
	check("error", alice.Do("POST", "/v1.0/chats/"+chat+"/messages", `{"body":`), http.StatusBadRequest)
	check("unauthenticated", s.Anonymous().Do("GET", "/v1.0/me", nil), http.StatusUnauthorized)
	// The client's id is echoed under both names, Graph's header too.
	r = alice.DoHeader("GET", "/v1.0/me", nil, map[string]string{"client-request-id": "graph-id-7"})
	check("client-request-id", r, http.StatusOK)
	if r.Header.Get("X-Request-Id") != "graph-id-7" {
		t.Errorf("client-request-id not echoed: %q", r.Header.Get("X-Request-Id"))
	}
}
