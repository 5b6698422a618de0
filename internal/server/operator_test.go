package server_test

import (
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestOperatorStats: the operator sees a node's counters and profiles;
// nobody else does.
func TestOperatorStats(t *testing.T) {
	s := parleytest.StartStore(t, "sqlite")
	contoso := s.CreateTenant("Contoso", "contoso.com")
	alice := s.User(contoso, "alice", false)
	bob := s.User(contoso, "bob", false)
	id := alice.OneOnOne(bob.UserID)
	bob.Events(-1)
	for range 5 {
		alice.Send(id, "x")
	}
	var st struct {
		Goroutines int `json:"goroutines"`
		Store      struct {
			Writes, Commits int64
		} `json:"store"`
		EventConnections int `json:"eventConnections"`
	}
	s.Operator().Must(200, "GET", "/parley/v1/operator/stats", nil).JSON(t, &st)
	if st.Goroutines == 0 || st.Store.Writes < 5 || st.Store.Commits < 1 || st.Store.Commits > st.Store.Writes || st.EventConnections != 1 {
		t.Fatalf("stats = %+v", st)
	}
	if r := s.Operator().Do("GET", "/parley/v1/operator/debug/pprof/heap", nil); r.Status != 200 || len(r.Body) == 0 {
		t.Fatalf("heap profile: %d, %d bytes", r.Status, len(r.Body))
	}
	if r := s.Operator().Do("GET", "/parley/v1/operator/debug/pprof/nosuch", nil); r.Status != 404 {
		t.Fatalf("unknown profile: %d", r.Status)
	}
	if r := alice.Do("GET", "/parley/v1/operator/stats", nil); r.Status != 401 {
		t.Fatalf("user token: %d", r.Status)
	}
}
