package server_test

import (
	"fmt"
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
	n := startNodesChat(t, ns.ClientURL(), proxy.URL())
	first := n.send("before the cut")
	n.waitOnB("a message before the cut on B", 30*time.Second, first)

	proxy.cut()
	ids := []string{first}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		ids = append(ids, n.send(fmt.Sprintf("during the cut %d", len(ids))))
	}
	proxy.restore()
	n.waitOnB("the outage's messages on B", 60*time.Second, ids[len(ids)-1])
	last := n.send("after the cut")
	ids = append(ids, last)
	n.allOnB(n.waitOnB("a message after the cut on B", 30*time.Second, last), ids)
	t.Logf("%d messages, %d of them during the 10 s cut, all on B", len(ids), len(ids)-2)
}
