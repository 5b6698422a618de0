package loadtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/parleychat/parley/internal/loadtest"
	"github.com/parleychat/parley/internal/parleytest"
)

// TestRunTwoNodes drives two nodes on one PostgreSQL schema with NATS
// between them for one second: senders post to the first node, half the
// members' WebSockets are on the second, and every accepted message
// reaches every connection on both nodes. It asserts counts, never speeds.
func TestRunTwoNodes(t *testing.T) {
	parleytest.RequirePostgres(t)
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(20 * time.Second) {
		t.Fatal("nats server did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	cfgA := parleytest.Config(t, "postgres")
	cfgA.Store.NATSURL = ns.ClientURL()
	cfgB := cfgA
	cfgB.Store.DataDir = t.TempDir()
	a, b := parleytest.Start(t, cfgA), parleytest.Start(t, cfgB)

	cfg := loadtest.Default()
	cfg.URL, cfg.OperatorToken, cfg.NodeURLs = a.URL(), a.Config.OperatorToken, []string{b.URL()}
	cfg.Users, cfg.Clients, cfg.Senders = 4, 4, 4
	cfg.Duration, cfg.Warmup, cfg.Drain, cfg.Ceiling = time.Second, 0, 30*time.Second, false
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	p := rep.Parley
	if p.Accepted == 0 || len(p.Errors) != 0 {
		t.Fatalf("parley: %d accepted, errors %v; want some and none", p.Accepted, p.Errors)
	}
	if p.Undelivered != 0 || p.E2E == nil || p.E2E.Count != p.Accepted {
		t.Errorf("deliveries: %d lost, latencies %+v of %d accepted; want every one delivered", p.Undelivered, p.E2E, p.Accepted)
	}
	// Each message reaches one connection on each node.
	if p.SameNode == nil || p.CrossNode == nil || p.SameNode.Count != p.Accepted || p.CrossNode.Count != p.Accepted {
		t.Errorf("per-node arrivals: same %+v, cross %+v; want %d each", p.SameNode, p.CrossNode, p.Accepted)
	}
	if rep.Server.Nodes != 2 {
		t.Errorf("nodes: got %d, want 2", rep.Server.Nodes)
	}
	var table strings.Builder
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "cross-node arrival p99 ms") {
		t.Errorf("table lacks the cross-node row:\n%s", table.String())
	}
}
