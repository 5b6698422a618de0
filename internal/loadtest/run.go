package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	rpprof "runtime/pprof"
	"time"
)

// Report is everything one run measured.
type Report struct {
	Machine  Machine    `json:"machine"`
	Server   ServerInfo `json:"server"`
	Settings Settings   `json:"settings"`
	Setup    SetupInfo  `json:"setup"`
	// Memory is the server's RSS around opening the WebSockets (known
	// with the server's PID, in a separate process).
	Memory  *Memory `json:"memory,omitempty"`
	Parley  Phase   `json:"parley"`
	Ceiling *Phase  `json:"ceiling,omitempty"`
	// Ratio is Parley's accepted messages per second over the ceiling's
	// requests per second, in the same run: the headline figure.
	Ratio float64 `json:"ratioToCeiling,omitempty"`
	// CPURatio is the server's CPU time per accepted, delivered message
	// over the ceiling process's CPU time per request, both read from the
	// processes' own /proc/<pid>/stat over the same slices: what a
	// durable message costs the server in trivial requests, with the
	// generator's CPU left out.
	CPURatio float64 `json:"cpuRatioToCeiling,omitempty"`
	// CeilingPID is the ceiling process (0: it ran in the tool).
	CeilingPID int `json:"ceilingPid,omitempty"`
	// Affinity is the CPUs each process may run on.
	Affinity *Affinity `json:"affinity,omitempty"`
	ReadBack ReadBack  `json:"readBack"`
	// Fault is what the injected fault cost (Config.Fault).
	Fault *FaultReport `json:"fault,omitempty"`
	// Store is the server's group commit during the measured slices (from
	// the operator stats; absent when the server does not report them).
	Store    *StoreStats `json:"store,omitempty"`
	Profiles []string    `json:"profiles,omitempty"`
	Warnings []string    `json:"warnings,omitempty"`
}

// StoreStats are the writes and commits of the server's group commit in
// the measured slices: WritesPerCommit is the average group size.
type StoreStats struct {
	Writes          int64   `json:"writes"`
	Commits         int64   `json:"commits"`
	WritesPerCommit float64 `json:"writesPerCommit"`
}

// operatorStats reads the server's write counters.
func operatorStats(ctx context.Context, cl *client, token string) (StoreStats, error) {
	var st struct {
		Store StoreStats `json:"store"`
	}
	if err := cl.do(ctx, http.MethodGet, "/parley/v1/operator/stats", token, nil, &st); err != nil {
		return StoreStats{}, err
	}
	return st.Store, nil
}

// Machine describes where the run happened.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpuModel"`
	GoVersion string `json:"goVersion"`
	OS        string `json:"os"`
	// LoadBefore and LoadAfter are the 1-minute load averages: a busy
	// shared machine shows here.
	LoadBefore string `json:"loadBefore"`
	LoadAfter  string `json:"loadAfter"`
	NoFile     uint64 `json:"openFileLimit"`
}

// Affinity is the CPU list each process may run on (taskset -c), read
// from /proc/<pid>/status.
type Affinity struct {
	Tool    string `json:"tool"`
	Server  string `json:"server,omitempty"`
	Ceiling string `json:"ceiling,omitempty"`
}

// ServerInfo says which server was measured.
type ServerInfo struct {
	Mode  string `json:"mode"`
	Store string `json:"store"`
	URL   string `json:"url"`
	PID   int    `json:"pid,omitempty"`
	// Nodes is the number of nodes (several: PostgreSQL and NATS); the
	// senders post to the first, WebSockets are spread over all.
	Nodes    int      `json:"nodes"`
	NodeURLs []string `json:"nodeUrls,omitempty"`
	NodePIDs []int    `json:"nodePids,omitempty"`
}

// Settings are the run's parameters.
type Settings struct {
	Senders     int     `json:"senders"`
	Rate        float64 `json:"rate,omitempty"`
	Duration    float64 `json:"durationSeconds"`
	Slice       float64 `json:"sliceSeconds"`
	Warmup      float64 `json:"warmupSeconds"`
	MaxMessages int     `json:"maxMessages"`
	BodyBytes   int     `json:"bodyBytes"`
}

// SetupInfo is what the setup made and how long it took.
type SetupInfo struct {
	Tenants     int     `json:"tenants"`
	Users       int     `json:"users"`
	ActiveUsers int     `json:"activeUsers"`
	Chats       int     `json:"chats"`
	Clients     int     `json:"clients"`
	IdleClients int     `json:"idleClients"`
	Seconds     float64 `json:"seconds"`
	WSSeconds   float64 `json:"webSocketSeconds"`
}

// Memory is the server's resident memory per open idle WebSocket.
type Memory struct {
	Conns        int     `json:"conns"`
	RSSBefore    int64   `json:"rssBeforeBytes"`
	RSSAfter     int64   `json:"rssAfterBytes"`
	PerConnBytes float64 `json:"perConnBytes"`
	RSSEnd       int64   `json:"rssEndBytes"`
}

// ReadBack is the spot check that acknowledged messages can be read.
type ReadBack struct {
	Checked int `json:"checked"`
	Found   int `json:"found"`
}

func (c *Config) logf(format string, args ...any) {
	fmt.Fprintf(c.Log, format+"\n", args...)
}

// Run carries out one run of cfg and returns its report. The tool's
// goroutines carry the pprof label side=load (see target.inProcess).
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	rpprof.Do(ctx, rpprof.Labels("side", "load"), func(ctx context.Context) {
		rep, err = run(ctx, cfg)
	})
	return rep, err
}

func run(ctx context.Context, cfg Config) (*Report, error) {
	c := cfg
	if err := c.normalize(); err != nil {
		return nil, err
	}
	rep := &Report{
		Machine: Machine{CPUs: runtime.NumCPU(), CPUModel: cpuModel(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, LoadBefore: loadAvg()},
		Settings: Settings{Senders: c.Senders, Rate: c.Rate, Duration: c.Duration.Seconds(), Slice: min(c.Slice, c.Duration).Seconds(), Warmup: c.Warmup.Seconds(),
			MaxMessages: c.MaxMessages, BodyBytes: c.BodyBytes},
	}
	nofile, err := raiseNoFile()
	if err != nil {
		rep.Warnings = append(rep.Warnings, err.Error())
	}
	rep.Machine.NoFile = nofile
	need := uint64(c.Clients + c.Senders*2 + 256)
	if c.InProcess {
		need += uint64(c.Clients)
	}
	if nofile > 0 && nofile < need {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the open file limit %d is below the ~%d this run needs", nofile, need))
	}
	if c.PprofAddr != "" {
		stop, err := servePprof(c.PprofAddr)
		if err != nil {
			return nil, err
		}
		defer stop()
		c.logf("pprof on http://%s/debug/pprof/", c.PprofAddr)
	}

	t, err := openTarget(ctx, &c)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := t.Close(); err != nil {
			c.logf("stop server: %v", err)
		}
	}()
	rep.Server = ServerInfo{Mode: t.Mode, Store: t.Store, URL: t.URL, PID: t.PID, Nodes: len(t.URLs), NodeURLs: t.URLs, NodePIDs: t.PIDs}
	c.logf("server: %s (%s, %s, pid %d)", t.URL, t.Mode, t.Store, t.PID)

	setupStart := time.Now()
	cl := &client{base: t.URL, http: newHTTPClient(c.SetupWorkers * 2)}
	c.logf("setup: %d tenant(s), %d active users, %d WebSocket clients ...", c.Tenants, c.Users, c.Clients)
	pop, err := populate(ctx, cl, &c, t.OperatorToken)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	rep.Setup = SetupInfo{Tenants: c.Tenants, Users: len(pop.Users), ActiveUsers: pop.Active, Chats: len(pop.Chats),
		Clients: c.Clients, IdleClients: c.Clients - pop.Active, Seconds: time.Since(setupStart).Seconds()}

	tr := newTracker(pop.RunID)
	var before int64
	if t.PID > 0 {
		c.logf("memory: settling the server's RSS before opening %d WebSockets ...", c.Clients)
		if before, err = settleRSS(ctx, cl, t.PID); err != nil {
			rep.Warnings = append(rep.Warnings, err.Error())
		}
	}
	wsStart := time.Now()
	tr.perConn = len(t.URLs) > 1
	tr.checkSeqs = c.Fault != ""
	ws, err := openWS(ctx, t.URLs, pop.Users, tr, 32, c.Fault != "", c.Log)
	if err != nil {
		return nil, err
	}
	defer ws.Close()
	rep.Setup.WSSeconds = time.Since(wsStart).Seconds()
	c.logf("setup done in %.1fs (WebSockets %.1fs)", time.Since(setupStart).Seconds(), rep.Setup.WSSeconds)
	if before > 0 {
		c.logf("memory: settling the server's RSS with %d WebSockets open ...", c.Clients)
		after, err := settleRSS(ctx, cl, t.PID)
		if err != nil {
			rep.Warnings = append(rep.Warnings, err.Error())
		} else {
			rep.Memory = &Memory{Conns: c.Clients, RSSBefore: before, RSSAfter: after, PerConnBytes: float64(after-before) / float64(c.Clients)}
		}
	}

	gc := genConfig{pop: pop, senders: c.Senders, rate: c.Rate, max: c.MaxMessages, body: c.BodyBytes}
	pg := gc
	pg.name, pg.base, pg.tr, pg.pids = "parley", t.URL, tr, t.PIDs
	parley := newGenerator(pg)
	defer parley.close()
	var ceil *generator
	if c.Ceiling {
		cg := gc
		cg.name = "ceiling"
		// In a process of its own, so that its CPU time is the handler's
		// alone; in this process only with --in-process or when the
		// binary cannot serve it (then no CPU ratio).
		var closer interface{ Close() error }
		if !c.InProcess {
			p, err := startCeilingProcess(c.ServerCPUs)
			if err != nil {
				rep.Warnings = append(rep.Warnings, err.Error()+"; the ceiling runs in the tool's process, without a CPU figure")
			} else {
				closer, cg.base, cg.pids = p, p.url, []int{p.pid}
				rep.CeilingPID = p.pid
			}
		}
		if closer == nil {
			srv, err := startCeiling()
			if err != nil {
				return nil, err
			}
			closer, cg.base = srv, srv.url
		}
		defer func() {
			if err := closer.Close(); err != nil {
				c.logf("close ceiling: %v", err)
			}
		}()
		ceil = newGenerator(cg)
		defer ceil.close()
	}
	// Both generators take turns in slices (ceiling, Parley, Parley,
	// ceiling, …) so that a machine shared with other work loads both alike.
	turns := func(d time.Duration, measure bool, k int) {
		if ceil == nil {
			parley.run(ctx, d, measure)
			return
		}
		if k%2 == 0 {
			ceil.run(ctx, d, measure)
			parley.run(ctx, d, measure)
		} else {
			parley.run(ctx, d, measure)
			ceil.run(ctx, d, measure)
		}
	}
	slice := c.Slice
	if slice <= 0 {
		slice = c.Duration
	}
	c.logf("load: %d senders, %v warm-up and %v measured per server, in slices of %v ...", c.Senders, c.Warmup, c.Duration, slice)
	if c.Warmup > 0 {
		turns(c.Warmup, false, 0)
	}
	statsBefore, statsErr := operatorStats(ctx, cl, t.OperatorToken)
	prof := &profiles{c: &c}
	prof.start()
	var inj *injector
	stopFault := make(chan struct{})
	if c.Fault != "" {
		inj = &injector{c: &c, t: t, ws: ws, tr: tr}
		inj.start(stopFault)
	}
	for k, left := 0, c.Duration; left > 0 && ctx.Err() == nil && !parley.done(); k++ {
		d := min(slice, left)
		turns(d, true, k)
		left -= d
	}
	close(stopFault)
	if inj != nil {
		if err := inj.wait(); err != nil {
			return nil, fmt.Errorf("fault %s: %w", c.Fault, err)
		}
	}
	written, perr := prof.stop()
	if statsErr == nil {
		if after, err := operatorStats(ctx, cl, t.OperatorToken); err == nil && after.Commits > statsBefore.Commits {
			st := StoreStats{Writes: after.Writes - statsBefore.Writes, Commits: after.Commits - statsBefore.Commits}
			st.WritesPerCommit = float64(st.Writes) / float64(st.Commits)
			rep.Store = &st
		}
	}
	rep.Profiles = written
	if perr != nil {
		rep.Warnings = append(rep.Warnings, perr.Error())
	}
	ph, acks := parley.phase()
	if ceil != nil {
		cph, _ := ceil.phase()
		rep.Ceiling = &cph
	}
	ph.Undelivered = tr.drain(c.Drain)
	e2e, delivered := tr.results()
	ph.Delivered = delivered
	l := summarize(e2e)
	ph.E2E = &l
	if tr.perConn {
		tr.mu.Lock()
		same, cross := summarize(tr.sameNode), summarize(tr.crossNode)
		tr.mu.Unlock()
		ph.SameNode, ph.CrossNode = &same, &cross
	}
	rep.Parley = ph
	if inj != nil {
		rep.Fault = inj.report(ph.Undelivered)
	}
	if rep.Ceiling != nil && rep.Ceiling.Throughput > 0 {
		rep.Ratio = ph.Throughput / rep.Ceiling.Throughput
	}
	if rep.Ceiling != nil && rep.Ceiling.ServerCPUPerMsg > 0 && ph.ServerCPUPerMsg > 0 {
		rep.CPURatio = ph.ServerCPUPerMsg / rep.Ceiling.ServerCPUPerMsg
	}
	if n := tr.strays.Load(); n > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d messageCreated frames matched no send", n))
	}
	if n := tr.closed.Load(); n > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d WebSockets closed during the run", n))
	}

	for _, a := range acks {
		rep.ReadBack.Checked++
		if err := cl.do(ctx, http.MethodGet, "/v1.0/chats/"+a.chat+"/messages/"+a.id, a.token, nil, nil); err == nil {
			rep.ReadBack.Found++
		} else {
			rep.Warnings = append(rep.Warnings, "read back: "+err.Error())
		}
	}
	if rep.Memory != nil {
		if end, err := rss(t.PID); err == nil {
			rep.Memory.RSSEnd = end
		}
	}
	rep.Affinity = &Affinity{Tool: cpusAllowed(os.Getpid())}
	if t.PID > 0 {
		rep.Affinity.Server = cpusAllowed(t.PID)
	}
	if rep.CeilingPID > 0 {
		rep.Affinity.Ceiling = cpusAllowed(rep.CeilingPID)
	}
	rep.Machine.LoadAfter = loadAvg()
	return rep, nil
}

// settleRSS returns the server's resident memory once it is steady. The
// setup leaves garbage behind (each argon2id hash allocates 19 MiB), which
// the Go runtime collects only when the heap grows again and returns to
// the OS in the background. So the server is first made to allocate (GET
// /healthz, a few thousand times: some collections), then RSS is sampled
// every half second until it moves less than 256 KiB for 2 s (or 30 s pass).
// The same steps run before and after opening the WebSockets.
func settleRSS(ctx context.Context, cl *client, pid int) (int64, error) {
	end := time.Now().Add(2 * time.Second)
	err := parallel(ctx, 8, 20000, func(ctx context.Context, i int) error {
		if time.Now().After(end) {
			return nil
		}
		return cl.do(ctx, http.MethodGet, "/healthz", "", nil, nil)
	}, nil)
	if err != nil {
		return 0, fmt.Errorf("settle memory: %w", err)
	}
	prev, err := rss(pid)
	if err != nil {
		return 0, err
	}
	steady := 0
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && steady < 4; {
		time.Sleep(500 * time.Millisecond)
		cur, err := rss(pid)
		if err != nil {
			return 0, err
		}
		if d := cur - prev; d < 256<<10 && d > -256<<10 {
			steady++
		} else {
			steady = 0
		}
		prev = cur
	}
	return prev, nil
}

// servePprof serves net/http/pprof on a loopback address.
func servePprof(addr string) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		_ = srv.Serve(ln) // ErrServerClosed after Close
	}()
	return func() { _ = srv.Close() }, nil // best effort at exit
}

// profiles takes the requested profiles of the measured window.
type profiles struct {
	c   *Config
	cpu *os.File
	err error
}

func (p *profiles) start() {
	c := p.c
	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err == nil {
			err = rpprof.StartCPUProfile(f)
		}
		if err != nil {
			p.err = errors.Join(p.err, fmt.Errorf("cpu profile: %w", err))
		} else {
			p.cpu = f
		}
	}
	if c.MutexProfile != "" {
		runtime.SetMutexProfileFraction(5)
	}
	if c.BlockProfile != "" {
		runtime.SetBlockProfileRate(int(10 * time.Microsecond))
	}
	if c.MemProfile != "" {
		// The allocation profile counts from the program's start (the setup's
		// argon2 hashes dominate it); this base lets pprof -base subtract.
		p.err = errors.Join(p.err, writeProfile("allocs", c.MemProfile+".base"))
	}
}

func (p *profiles) stop() ([]string, error) {
	c := p.c
	var out []string
	if p.cpu != nil {
		rpprof.StopCPUProfile()
		if err := p.cpu.Close(); err != nil {
			p.err = errors.Join(p.err, err)
		}
		out = append(out, c.CPUProfile)
	}
	for _, pr := range []struct{ name, path string }{{"allocs", c.MemProfile}, {"mutex", c.MutexProfile}, {"block", c.BlockProfile}} {
		if pr.path == "" {
			continue
		}
		if err := writeProfile(pr.name, pr.path); err != nil {
			p.err = errors.Join(p.err, err)
			continue
		}
		out = append(out, pr.path)
		if pr.name == "allocs" {
			out = append(out, pr.path+".base")
		}
	}
	if c.MutexProfile != "" {
		runtime.SetMutexProfileFraction(0)
	}
	if c.BlockProfile != "" {
		runtime.SetBlockProfileRate(0)
	}
	return out, p.err
}

func writeProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("%s profile: %w", name, err)
	}
	if err := rpprof.Lookup(name).WriteTo(f, 0); err != nil {
		_ = f.Close() // the write error is the one to report
		return fmt.Errorf("%s profile: %w", name, err)
	}
	return f.Close()
}
