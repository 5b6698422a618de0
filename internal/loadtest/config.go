package loadtest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Bounds every run stays within.
const (
	MaxDuration    = 10 * time.Minute
	MaxMessages    = 10_000_000
	MaxClients     = 50_000
	MaxSenders     = 4096
	MaxUsers       = 20_000
	DefaultPGURL   = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	defaultWarmup  = time.Second
	defaultDrain   = 5 * time.Second
	defaultBody    = 100
	defaultIdlePer = 100
)

// Config is one run of the load tool. Exactly one of URL, Spawn and
// InProcess names the server.
type Config struct {
	// URL is a running server (loopback only); OperatorToken enables its
	// operator API, which creates the tenants.
	URL           string
	OperatorToken string
	// PID is the server's process, for memory and CPU figures with URL.
	PID int
	// NodeURLs are further nodes of the same cluster as URL (PostgreSQL
	// and NATS), with their processes NodePIDs (for CPU figures).
	NodeURLs []string
	NodePIDs []int
	// Nodes, with Spawn and PostgreSQL, starts this many nodes on one
	// schema with NATS between them (NATSURL, or a NATS server the tool
	// starts in its own process). Senders post to the first node; user i's
	// WebSockets go to node i mod Nodes, so in each 1:1 chat one member is
	// on another node than the sender's.
	Nodes   int
	NATSURL string
	// Fault, with Nodes > 1, injects one fault FaultAt into the measured
	// time: FaultKillNode, FaultNATSRestart (NATS down for FaultFor) or
	// FaultNATSCut (the last node off NATS for FaultFor, default 10 s).
	// A fault run has no ceiling and one slice, checks every connection's
	// seqs, and its clients resume on another node as a client would.
	Fault    string
	FaultAt  time.Duration
	FaultFor time.Duration
	// Spawn builds cmd/parley (or uses ParleyBin) and starts `parley serve`
	// on a free loopback port with a temporary data directory.
	Spawn     bool
	ParleyBin string
	// ServerCPUs pins the spawned server and the ceiling process to
	// these CPUs (taskset -c LIST, e.g. "1"); run the tool itself under
	// taskset -c on the others to keep the generator off them.
	ServerCPUs string
	// InProcess starts the server inside this process, for profiles.
	InProcess bool
	// Store is sqlite or postgres (Spawn, InProcess). PostgreSQL runs in a
	// fresh schema of PostgresURL, dropped afterwards unless KeepData.
	Store       string
	PostgresURL string
	KeepData    bool

	// Tenants created through the operator API; users are spread over them.
	Tenants int
	// Users is the number of active users: each has one WebSocket and they
	// are paired into 1:1 chats, the chats the senders post to.
	Users int
	// Clients is the number of WebSocket clients in all. Those beyond Users
	// are idle: they belong to users in no chat, IdlePerUser per user.
	Clients     int
	IdlePerUser int
	// SetupWorkers bounds the concurrent setup calls.
	SetupWorkers int
	// SlowSetup creates each user with POST /v1.0/users and signs it in
	// (two argon2id hashes per user) instead of the operator bulk route
	// (one hash per 500 users): for servers older than the bulk route.
	SlowSetup bool

	// Senders is the number of concurrent senders (closed loop), or the
	// number of workers that carry out the scheduled sends (Rate > 0).
	Senders int
	// Duration is the measured time; Warmup runs before it, unmeasured.
	Duration time.Duration
	Warmup   time.Duration
	// Rate, when > 0, sends at this many messages per second (open loop):
	// latency counts from each message's scheduled time.
	Rate float64
	// Slice is how long each server is loaded before the other takes its
	// turn when the ceiling is measured too (0: each for the whole
	// Duration, one after the other).
	Slice time.Duration
	// MaxMessages stops the sending early (0: the bound MaxMessages).
	MaxMessages int
	// BodyBytes is the size of each message's text.
	BodyBytes int
	// Drain is how long to wait after the end for outstanding deliveries.
	Drain time.Duration
	// Ceiling also measures the trivial handler with the same settings.
	Ceiling bool

	// Profiles of the measured phase (InProcess; the tool's own otherwise).
	CPUProfile, MemProfile, MutexProfile, BlockProfile string
	// PprofAddr serves net/http/pprof on this loopback address during the run.
	PprofAddr string

	// Log receives progress lines (nil: discarded).
	Log io.Writer
}

// Default returns the defaults of cmd/parley-load.
func Default() Config {
	return Config{
		Store: "sqlite", PostgresURL: DefaultPGURL,
		Tenants: 1, Users: 256, Clients: 256, IdlePerUser: defaultIdlePer, SetupWorkers: 4,
		Senders: 64, Duration: 10 * time.Second, Warmup: defaultWarmup, Slice: 2 * time.Second, MaxMessages: 1_000_000,
		BodyBytes: defaultBody, Drain: defaultDrain, Ceiling: true,
	}
}

// normalize fills zero values with defaults and checks every bound; it
// reports all problems at once.
func (c *Config) normalize() error {
	d := Default()
	if c.Store == "" {
		c.Store = d.Store
	}
	if c.PostgresURL == "" {
		c.PostgresURL = d.PostgresURL
	}
	if c.Tenants <= 0 {
		c.Tenants = d.Tenants
	}
	if c.Clients <= 0 {
		c.Clients = max(c.Users, d.Clients)
	}
	if c.Users <= 0 {
		c.Users = min(c.Clients, d.Users)
	}
	if c.IdlePerUser <= 0 {
		c.IdlePerUser = d.IdlePerUser
	}
	if c.SetupWorkers <= 0 {
		c.SetupWorkers = d.SetupWorkers
	}
	if c.Senders <= 0 {
		c.Senders = d.Senders
	}
	if c.Duration <= 0 {
		c.Duration = d.Duration
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	}
	if c.Slice < 0 {
		c.Slice = 0
	}
	if c.MaxMessages <= 0 {
		c.MaxMessages = MaxMessages
	}
	if c.BodyBytes <= 0 {
		c.BodyBytes = d.BodyBytes
	}
	if c.Drain <= 0 {
		c.Drain = d.Drain
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.Fault != "" {
		// One continuous measured slice, with nothing taking turns.
		c.Ceiling, c.Slice = false, 0
		if c.FaultAt <= 0 {
			c.FaultAt = c.Duration / 3
		}
		if c.Fault == FaultNATSCut && c.FaultFor <= 0 {
			c.FaultFor = defaultCut
		}
	}
	// Users pair into 1:1 chats; every active user has a WebSocket.
	c.Users = max(2, c.Users&^1)
	if c.Clients < c.Users {
		c.Clients = c.Users
	}
	var errs []error
	modes := 0
	for _, on := range []bool{c.URL != "", c.Spawn, c.InProcess} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		errs = append(errs, errors.New("name the server with exactly one of --url, --spawn and --in-process"))
	}
	if c.URL != "" {
		if err := CheckLoopback(c.URL); err != nil {
			errs = append(errs, err)
		}
		if c.OperatorToken == "" {
			errs = append(errs, errors.New("--url needs --operator-token (the server's --operator-token) to create tenants"))
		}
	}
	if c.Nodes > 1 && (!c.Spawn || c.Store != "postgres") {
		errs = append(errs, errors.New("--nodes needs --spawn --store postgres (nodes share one PostgreSQL database)"))
	}
	switch c.Fault {
	case "":
	case FaultKillNode, FaultNATSRestart, FaultNATSCut:
		if c.Nodes < 2 {
			errs = append(errs, fmt.Errorf("--fault %s needs --nodes 2 or more (with --spawn --store postgres)", c.Fault))
		}
		if c.Fault == FaultNATSRestart && c.NATSURL != "" {
			errs = append(errs, errors.New("--fault nats-restart restarts the NATS server the tool starts: leave out --nats-url"))
		}
		if c.FaultAt+c.FaultFor >= c.Duration {
			errs = append(errs, fmt.Errorf("--fault-at %v plus --fault-for %v must end before --duration %v", c.FaultAt, c.FaultFor, c.Duration))
		}
	default:
		errs = append(errs, fmt.Errorf("--fault must be %s, %s or %s, not %q", FaultKillNode, FaultNATSRestart, FaultNATSCut, c.Fault))
	}
	if c.Nodes > 8 {
		errs = append(errs, fmt.Errorf("--nodes %d is above the bound 8", c.Nodes))
	}
	if len(c.NodeURLs) > 0 && c.URL == "" {
		errs = append(errs, errors.New("further nodes need --url for the first"))
	}
	for _, u := range c.NodeURLs {
		if err := CheckLoopback(u); err != nil {
			errs = append(errs, err)
		}
	}
	if c.NATSURL != "" {
		if err := CheckLoopback(c.NATSURL); err != nil {
			errs = append(errs, fmt.Errorf("--nats-url: %w", err))
		}
	}
	if c.ServerCPUs != "" && !cpuListRE.MatchString(c.ServerCPUs) {
		errs = append(errs, fmt.Errorf("--server-cpus %q is not a CPU list such as 1 or 0,2-3", c.ServerCPUs))
	}
	if c.ServerCPUs != "" && c.InProcess {
		errs = append(errs, errors.New("--server-cpus needs the server in its own process (--spawn)"))
	}
	if c.Store != "sqlite" && c.Store != "postgres" {
		errs = append(errs, fmt.Errorf("--store must be sqlite or postgres, not %q", c.Store))
	}
	if c.Store == "postgres" && (c.Spawn || c.InProcess) {
		if err := CheckLoopback(c.PostgresURL); err != nil {
			errs = append(errs, fmt.Errorf("--postgres-url: %w", err))
		}
	}
	if c.Duration > MaxDuration {
		errs = append(errs, fmt.Errorf("--duration %v is above the bound %v", c.Duration, MaxDuration))
	}
	if c.Warmup > MaxDuration {
		errs = append(errs, fmt.Errorf("--warmup %v is above the bound %v", c.Warmup, MaxDuration))
	}
	if c.MaxMessages > MaxMessages {
		errs = append(errs, fmt.Errorf("--max-messages %d is above the bound %d", c.MaxMessages, MaxMessages))
	}
	if c.Clients > MaxClients {
		errs = append(errs, fmt.Errorf("--clients %d is above the bound %d", c.Clients, MaxClients))
	}
	if c.Users > MaxUsers {
		errs = append(errs, fmt.Errorf("--users %d is above the bound %d", c.Users, MaxUsers))
	}
	if c.Senders > MaxSenders {
		errs = append(errs, fmt.Errorf("--senders %d is above the bound %d", c.Senders, MaxSenders))
	}
	if c.Rate < 0 || c.Rate > 1_000_000 {
		errs = append(errs, fmt.Errorf("--rate %v must be between 0 (closed loop) and 1000000", c.Rate))
	}
	if c.BodyBytes > 28*1024-64 {
		errs = append(errs, fmt.Errorf("--body-bytes %d is above the message size limit", c.BodyBytes))
	}
	if c.PprofAddr != "" {
		if err := CheckLoopback("http://" + c.PprofAddr); err != nil {
			errs = append(errs, fmt.Errorf("--pprof: %w", err))
		}
	}
	return errors.Join(errs...)
}

var cpuListRE = regexp.MustCompile(`^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$`)

// CheckLoopback refuses a URL whose host is not loopback: 127.0.0.0/8, ::1
// or localhost. The tool never sends load anywhere else.
func CheckLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse %q: %w", raw, err)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%q has no host", raw)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing %q: the host must be loopback (127.0.0.0/8, ::1 or localhost)", raw)
	}
	return nil
}
