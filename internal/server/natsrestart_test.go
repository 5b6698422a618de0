package server_test

import (
	"fmt"
	"net"
	"strings"
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
	clk := &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	cfgA := parleytest.Config(t, "postgres")
	cfgA.Store.NATSURL = ns.ClientURL()
	cfgB := cfgA
	cfgB.Store.DataDir = t.TempDir()
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
	var ids []string
	for i := range 5 {
		ids = append(ids, alice.Send(chatID, fmt.Sprintf("before %d", i)))
	}
	ws.WaitFor("messages before the restart on B", 30*time.Second, has(ids[len(ids)-1]))

	ns.Shutdown()
	ns.WaitForShutdown()
	for i := range 5 {
		ids = append(ids, alice.Send(chatID, fmt.Sprintf("during %d", i)))
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
	ws.WaitFor("messages sent during the outage on B", 60*time.Second, has(ids[len(ids)-1]))
	id := alice.Send(chatID, "after")
	ids = append(ids, id)
	evs := ws.WaitFor("a message after the restart on B", 30*time.Second, has(id))
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
}
