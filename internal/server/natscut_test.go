package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestNATSCutTenSeconds: node B loses NATS for 10 s while node A keeps
// sending (ten messages a second). When B's link returns, a WebSocket on B
// gets every message of the outage, seqs without a gap, and fan-out to B
// works again. About 12 s.
func TestNATSCutTenSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP in -short: a 10 s outage")
	}
	parleytest.RequirePostgres(t)
	t.Parallel()
	ns := startEmbeddedNATS(t)
	proxy := startProxy(t, ns.Addr().String())
	clk := &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	cfgA := parleytest.Config(t, "postgres")
	cfgA.Store.NATSURL = ns.ClientURL()
	cfgB := cfgA
	cfgB.Store.DataDir = t.TempDir()
	cfgB.Store.NATSURL = proxy.URL()
	a := startNode(t, cfgA, clk)
	b := startNode(t, cfgB, clk)

	contoso := a.CreateTenant("Contoso", "contoso.com")
	alice := a.User(contoso, "alice", false)
	bob := a.User(contoso, "bob", false)
	chatID := alice.OneOnOne(bob.UserID)
	ws := on(b, bob).Events(-1)
	defer ws.Close()
	has := func(id string) func([]parleytest.Event) bool {
		return func(evs []parleytest.Event) bool {
			for _, e := range evs {
				if e.Type == "messageCreated" && e.Seq > 0 && strings.Contains(toJSON(t, e.Raw), `"id":"`+id+`"`) {
					return true
				}
			}
			return false
		}
	}
	first := alice.Send(chatID, "before the cut")
	ws.WaitFor("a message before the cut on B", 30*time.Second, has(first))

	proxy.cut()
	ids := []string{first}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		ids = append(ids, alice.Send(chatID, fmt.Sprintf("during the cut %d", len(ids))))
	}
	proxy.restore()
	ws.WaitFor("the outage's messages on B", 60*time.Second, has(ids[len(ids)-1]))
	last := alice.Send(chatID, "after the cut")
	ids = append(ids, last)
	evs := ws.WaitFor("a message after the cut on B", 30*time.Second, has(last))
	for _, id := range ids {
		if !has(id)(evs) {
			t.Fatalf("message %s never reached B", id)
		}
	}
	var seqs []int64
	for _, e := range evs {
		if e.Seq > 0 {
			seqs = append(seqs, e.Seq)
		}
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("seqs on B have a gap or repeat: %v", seqs)
		}
	}
	t.Logf("%d messages, %d of them during the 10 s cut, all on B", len(ids), len(ids)-2)
}
