// Command parley-load drives a Parley server on this machine through its
// public API and reports messages accepted per second, send and delivery
// latency, server memory per WebSocket and errors, beside the ceiling of
// a trivial handler measured in the same run (docs/performance.md).
//
//	go run ./cmd/parley-load --spawn                      # SQLite, 64 senders, 10 s
//	go run ./cmd/parley-load --spawn --store postgres
//	go run ./cmd/parley-load --spawn --rate 2000 --clients 5000
//	go run ./cmd/parley-load --url http://127.0.0.1:8080 --operator-token T --pid 1234
//	go run ./cmd/parley-load --spawn --store postgres --nodes 2 --rate 200 --duration 30s --fault nats-cut
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/parleychat/parley/internal/loadtest"
)

func main() {
	if loadtest.ServeCeilingChild() {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := loadtest.Default()
	fs := flag.NewFlagSet("parley-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.URL, "url", "", "base URL of a running Parley (loopback only)")
	fs.StringVar(&c.OperatorToken, "operator-token", "", "the running server's --operator-token (with --url)")
	fs.IntVar(&c.PID, "pid", 0, "the running server's process id, for memory and CPU figures (with --url)")
	fs.BoolVar(&c.Spawn, "spawn", false, "build ./cmd/parley and start `parley serve` on a free loopback port with a temporary data directory")
	fs.StringVar(&c.ParleyBin, "parley-bin", "", "with --spawn: use this parley binary instead of building one")
	fs.IntVar(&c.Nodes, "nodes", 1, "with --spawn --store postgres: start this many nodes on one schema with NATS between them; senders post to the first, WebSockets spread over all")
	fs.StringVar(&c.NATSURL, "nats-url", "", "with --nodes: this NATS server (loopback) instead of one the tool starts in its own process")
	fs.StringVar(&c.Fault, "fault", "", "with --nodes 2 or more: inject kill-node (SIGKILL the last node; its WebSockets resume on another with ?since=), nats-restart (stop the tool's NATS, start it again on its port) or nats-cut (cut the last node off NATS); reports loss, duplicates, recovery and catch-up, and exits 1 on any loss")
	fs.DurationVar(&c.FaultAt, "fault-at", 0, "with --fault: when in the measured time (0: a third of --duration)")
	fs.DurationVar(&c.FaultFor, "fault-for", 0, "with --fault: how long NATS stays cut (nats-cut, 0: 10s) or stopped (nats-restart, 0: started again at once)")
	fs.StringVar(&c.ServerCPUs, "server-cpus", "", "with --spawn: pin the server and the ceiling process to these CPUs (taskset -c LIST); run the tool under taskset -c on the others")
	fs.BoolVar(&c.InProcess, "in-process", false, "start the server inside the tool (for --cpuprofile and friends; no memory figures)")
	fs.StringVar(&c.Store, "store", c.Store, "with --spawn or --in-process: sqlite or postgres")
	fs.StringVar(&c.PostgresURL, "postgres-url", c.PostgresURL, "PostgreSQL for --store postgres; the run uses a fresh schema, dropped afterwards")
	fs.BoolVar(&c.KeepData, "keep", false, "keep the temporary data directory and PostgreSQL schema")
	fs.IntVar(&c.Tenants, "tenants", c.Tenants, "tenants to create")
	fs.IntVar(&c.Users, "users", c.Users, "active users: one WebSocket each, paired into 1:1 chats")
	fs.IntVar(&c.Clients, "clients", c.Clients, "WebSocket clients in all; those beyond --users belong to idle users in no chat")
	fs.IntVar(&c.IdlePerUser, "idle-per-user", c.IdlePerUser, "WebSocket clients per idle user")
	fs.IntVar(&c.SetupWorkers, "setup-workers", c.SetupWorkers, "concurrent setup calls")
	fs.BoolVar(&c.SlowSetup, "slow-setup", false, "create each user with POST /v1.0/users and sign it in (two password hashes per user) instead of the operator bulk route")
	fs.IntVar(&c.Senders, "senders", c.Senders, "concurrent senders (or, with --rate, workers)")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "measured time (at most 10m)")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "unmeasured time before it")
	fs.DurationVar(&c.Slice, "slice", c.Slice, "Parley and the ceiling take turns in slices this long (0: one after the other)")
	fs.Float64Var(&c.Rate, "rate", 0, "messages per second, open loop (0: closed loop, as fast as answers come)")
	fs.IntVar(&c.MaxMessages, "max-messages", c.MaxMessages, "stop after this many sends")
	fs.IntVar(&c.BodyBytes, "body-bytes", c.BodyBytes, "bytes of text per message")
	fs.DurationVar(&c.Drain, "drain", c.Drain, "wait this long after the end for outstanding deliveries")
	fs.BoolVar(&c.Ceiling, "ceiling", c.Ceiling, "also measure the trivial handler (the ceiling) with the same settings")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the measured window (use --in-process to profile the server)")
	fs.StringVar(&c.MemProfile, "memprofile", "", "write the allocation profile after the window (and FILE.base before it, for pprof -base)")
	fs.StringVar(&c.MutexProfile, "mutexprofile", "", "write a mutex contention profile of the window")
	fs.StringVar(&c.BlockProfile, "blockprofile", "", "write a blocking profile of the window")
	fs.StringVar(&c.PprofAddr, "pprof", "", "serve net/http/pprof on this loopback address during the run, e.g. 127.0.0.1:6060")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "parley-load: unexpected arguments %v\n", fs.Args())
		return 2
	}
	if !*quiet {
		c.Log = stderr
	}
	rep, err := loadtest.Run(ctx, c)
	if err != nil {
		fmt.Fprintf(stderr, "parley-load: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "parley-load: %v\n", err)
		return 1
	}
	if err := rep.Check(); err != nil {
		fmt.Fprintf(stderr, "parley-load: FAIL: %v\n", err)
		return 1
	}
	return 0
}
