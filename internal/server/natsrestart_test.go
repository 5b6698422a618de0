package server_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestNATSRestartLosesNothing: two nodes on one PostgreSQL schema; the
// NATS server is stopped while messages are sent on node A and started
// again on the same port. A WebSocket on node B gets every message sent
// before, during and after the outage, its seqs without a gap, and a
// message sent after the restart reaches B through NATS again.
func TestNATSRestartLosesNothing(t *testing.T) {
	parleytest.RequirePostgres(t)
	ns := startEmbeddedNATS(t)
	port := ns.Addr().(*net.TCPAddr).Port
	n := startNodesChat(t, ns.ClientURL(), ns.ClientURL())
	var ids []string
	for i := range 5 {
		ids = append(ids, n.send(fmt.Sprintf("before %d", i)))
	}
	n.waitOnB("messages before the restart on B", 30*time.Second, ids[len(ids)-1])

	ns.Shutdown()
	ns.WaitForShutdown()
	for i := range 5 {
		ids = append(ids, n.send(fmt.Sprintf("during %d", i)))
	}
	ns2, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatalf("restart nats: %v", err)
	}
	go ns2.Start()
	if !ns2.ReadyForConnections(20 * time.Second) {
		t.Fatal("nats did not restart")
	}
	t.Cleanup(func() { ns2.Shutdown(); ns2.WaitForShutdown() })
	// B replays what it missed once it is back; afterwards fan-out works.
	n.waitOnB("messages sent during the outage on B", 60*time.Second, ids[len(ids)-1])
	id := n.send("after")
	ids = append(ids, id)
	n.allOnB(n.waitOnB("a message after the restart on B", 30*time.Second, id), ids)
}
