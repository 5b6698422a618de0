package loadtest_test

import (
	"context"
	"os/exec"
	"path/filepath"
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

// TestRunFaults injects each fault into a short run of two spawned nodes
// at 40 messages a second: a node killed with SIGKILL (its WebSockets
// resume on the other with ?since=), the NATS server restarted on its
// port, and one node cut off NATS for 2 s. Every acknowledged message must
// reach every connection exactly once, seqs without a gap. It asserts
// counts, never speeds; each fault takes 10–20 s with its set-up.
func TestRunFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP in -short: builds the binary and spawns nodes for three faulty runs")
	}
	parleytest.RequirePostgres(t)
	bin := filepath.Join(t.TempDir(), "parley")
	build := exec.Command("go", "build", "-o", bin, "./cmd/parley")
	build.Dir = filepath.Join("..", "..") // the module root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/parley: %v\n%s", err, out)
	}
	for _, fault := range []string{loadtest.FaultKillNode, loadtest.FaultNATSRestart, loadtest.FaultNATSCut} {
		t.Run(fault, func(t *testing.T) {
			cfg := loadtest.Default()
			cfg.Spawn, cfg.ParleyBin, cfg.Store, cfg.PostgresURL, cfg.Nodes = true, bin, "postgres", parleytest.PostgresURL(), 2
			cfg.Users, cfg.Clients, cfg.Senders, cfg.Rate = 8, 8, 4, 40
			cfg.Duration, cfg.Warmup, cfg.Drain = 6*time.Second, 0, 30*time.Second
			cfg.Fault, cfg.FaultAt, cfg.FaultFor = fault, 2*time.Second, 2*time.Second
			if fault == loadtest.FaultKillNode {
				cfg.FaultFor = 0
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			rep, err := loadtest.Run(ctx, cfg)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			f := rep.Fault
			if f == nil || f.Kind != fault {
				t.Fatalf("fault report: got %+v, want %s", f, fault)
			}
			var table strings.Builder
			if err := rep.WriteTable(&table); err != nil {
				t.Fatal(err)
			}
			t.Logf("report:\n%s", table.String())
			if f.Acknowledged == 0 || f.Around.Count+f.After.Count == 0 {
				t.Errorf("sends: %d acknowledged, %d sent after the fault started; want some", f.Acknowledged, f.Around.Count+f.After.Count)
			}
			if f.Lost != 0 || f.Delivered != f.Acknowledged || f.Duplicates != 0 || f.Gaps != 0 {
				t.Errorf("got %d acknowledged, %d delivered, %d lost, %d duplicates, %d gaps; want every one delivered once, no gap",
					f.Acknowledged, f.Delivered, f.Lost, f.Duplicates, f.Gaps)
			}
			if err := rep.Check(); err != nil {
				t.Errorf("Check: %v", err)
			}
			if len(rep.Parley.Errors) != 0 {
				t.Errorf("send errors: %v, want none (senders post to the first node, which stays up)", rep.Parley.Errors)
			}
			// Half the clients are on the last node: the killed or cut one.
			if fault == loadtest.FaultKillNode && f.Reconnects < int64(cfg.Clients/2) {
				t.Errorf("reconnects: got %d, want at least %d (the killed node's clients)", f.Reconnects, cfg.Clients/2)
			}
			if f.CatchUpMs < 0 || f.Recovered == 0 {
				t.Errorf("recovery: caught up %v ms, %d of %d affected connections got a message after the fault; want caught up and some", f.CatchUpMs, f.Recovered, f.Affected)
			}
		})
	}
}
