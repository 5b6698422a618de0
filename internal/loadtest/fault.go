package loadtest

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// The faults a run can inject (Config.Fault), all with several nodes.
const (
	// FaultKillNode kills the last node with SIGKILL; its WebSocket
	// clients resume on another node with ?since= their last seq.
	FaultKillNode = "kill-node"
	// FaultNATSRestart stops the tool's NATS server and starts it again on
	// the same port FaultFor later.
	FaultNATSRestart = "nats-restart"
	// FaultNATSCut cuts the last node off NATS for FaultFor (a TCP proxy
	// between it and NATS drops its connections and refuses new ones).
	FaultNATSCut = "nats-cut"
)

// defaultCut is how long nats-cut keeps the node off NATS by default.
const defaultCut = 10 * time.Second

// FaultReport is what a fault cost. Every acknowledged message must reach
// every connection of its chat's members exactly once, in seq order: Lost,
// Duplicates and Gaps must be 0 (Report.Check).
type FaultReport struct {
	Kind string `json:"kind"`
	// Node is the node killed or cut (-1: all, for nats-restart).
	Node int `json:"node"`
	// AtSeconds is when the fault started, from the start of the measured
	// time; ForSeconds how long it lasted (NATS down or cut).
	AtSeconds  float64 `json:"atSeconds"`
	ForSeconds float64 `json:"forSeconds"`
	// Acknowledged are the messages answered 201 over the whole run,
	// Delivered those that reached every connection of both members, Lost
	// those that did not by the end of the drain.
	Acknowledged int `json:"acknowledged"`
	Delivered    int `json:"delivered"`
	Lost         int `json:"lost"`
	// Duplicates are stored events a connection got twice (seq at or
	// below one it had); Gaps are seqs a connection skipped.
	Duplicates int64 `json:"duplicates"`
	Gaps       int64 `json:"gaps"`
	// Reconnects are WebSockets resumed on another node (kill-node), the
	// longest of them down for ReconnectMaxMs.
	Reconnects     int64   `json:"reconnects"`
	ReconnectMaxMs float64 `json:"reconnectMaxMs,omitempty"`
	// Recovery is, over the connections the fault touched (on the killed
	// or cut node; all for nats-restart), the time from the fault's end
	// until each got its first message (after its reconnect): the first
	// and the last of them. A connection's chat gets a message every
	// chats/rate seconds, which bounds these from below.
	RecoveryFirstMs float64 `json:"recoveryFirstMs"`
	RecoveryLastMs  float64 `json:"recoveryLastMs"`
	Recovered       int     `json:"recoveredConnections"`
	Affected        int     `json:"affectedConnections"`
	// CatchUpMs is the time from the fault's end until every message sent
	// before it had reached every connection (-1: never).
	CatchUpMs float64 `json:"catchUpMs"`
	// Delivery latency of measured messages by when they were sent: before
	// the fault, around it (from its start until it had ended, everything
	// before it was caught up and every client was back, at least 1 s
	// after its end), and after.
	Before Latency `json:"deliveryBefore"`
	Around Latency `json:"deliveryAround"`
	After  Latency `json:"deliveryAfter"`
	// Timeline is the delivery p99 (ms) of the messages sent in each
	// second of the measured time.
	Timeline []float64 `json:"deliveryP99BySecond"`
}

// faultTrack is the tracker's part of a fault run, under tracker.mu.
type faultTrack struct {
	start, end time.Time
	affected   []bool // by home node
	kill       bool
	recovery   []time.Duration
	// waiting counts the sends pending at the end; caughtUp is when the
	// last of them was delivered.
	waiting  int
	caughtUp time.Time
	// sent and lat are the send times and delivery latencies of the
	// measured messages (tracker.e2e gets sorted).
	sent []time.Time
	lat  []time.Duration
}

func (f *faultTrack) arrivedLocked(c *wsConn, now time.Time) {
	if f.end.IsZero() || c.seenAfter || now.Before(f.end) || !f.affected[c.home] || (f.kill && c.gen == 0) {
		return
	}
	c.seenAfter = true
	f.recovery = append(f.recovery, now.Sub(f.end))
}

func (f *faultTrack) caughtUpLocked(now time.Time) {
	f.waiting--
	if f.waiting == 0 {
		f.caughtUp = now
	}
}

// faultStarted records the fault's start and the nodes it touches.
func (t *tracker) faultStarted(now time.Time, affected []bool, kill bool) {
	t.mu.Lock()
	t.f.start, t.f.affected, t.f.kill = now, affected, kill
	t.mu.Unlock()
}

// faultEnded records the fault's end: the sends pending now are the ones
// catch-up waits for.
func (t *tracker) faultEnded(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.f.end = now
	for _, p := range t.pending {
		p.beforeEnd = true
		t.f.waiting++
	}
	if t.f.waiting == 0 {
		t.f.caughtUp = now
	}
}

// injector carries out a run's fault at its time.
type injector struct {
	c    *Config
	t    *target
	ws   *wsClients
	tr   *tracker
	done chan struct{}
	err  error
	// started is when the measured time began.
	started time.Time
}

// start waits FaultAt and injects the fault, unless stop comes first.
func (in *injector) start(stop <-chan struct{}) {
	in.done = make(chan struct{})
	in.started = time.Now()
	go func() {
		defer close(in.done)
		select {
		case <-time.After(in.c.FaultAt):
		case <-stop:
			in.err = fmt.Errorf("the run ended before --fault-at %v", in.c.FaultAt)
			return
		}
		in.err = in.inject()
	}()
}

func (in *injector) inject() error {
	c, t := in.c, in.t
	n := len(t.URLs)
	last := n - 1
	affected := make([]bool, n)
	switch c.Fault {
	case FaultKillNode:
		affected[last] = true
		in.ws.markDead(last)
		now := time.Now()
		in.tr.faultStarted(now, affected, true)
		if err := t.procs[last].Signal(syscall.SIGKILL); err != nil {
			return fmt.Errorf("kill node %d: %w", last, err)
		}
		in.tr.faultEnded(now)
		c.logf("fault: node %d (pid %d) killed with SIGKILL", last, t.PIDs[last])
	case FaultNATSCut:
		affected[last] = true
		in.tr.faultStarted(time.Now(), affected, false)
		t.proxy.Cut()
		c.logf("fault: node %d cut off NATS for %v", last, c.FaultFor)
		time.Sleep(c.FaultFor)
		t.proxy.Restore()
		in.tr.faultEnded(time.Now())
		c.logf("fault: node %d back on NATS", last)
	case FaultNATSRestart:
		for i := range affected {
			affected[i] = true
		}
		in.tr.faultStarted(time.Now(), affected, false)
		c.logf("fault: NATS stopped")
		if err := t.restartNATS(c.FaultFor); err != nil {
			return err
		}
		in.tr.faultEnded(time.Now())
		c.logf("fault: NATS started again on the same port")
	}
	return nil
}

// wait waits for the fault to be over (stop tells a fault not started yet
// to give up).
func (in *injector) wait() error {
	<-in.done
	return in.err
}

// report sums up the fault after the drain.
func (in *injector) report(lost int) *FaultReport {
	c, tr, w := in.c, in.tr, in.ws
	r := &FaultReport{Kind: c.Fault, Node: len(in.t.URLs) - 1, CatchUpMs: -1}
	if c.Fault == FaultNATSRestart {
		r.Node = -1
	}
	r.Acknowledged, r.Delivered = tr.counts()
	r.Lost = lost
	r.Duplicates, r.Gaps = tr.dups.Load(), tr.gaps.Load()
	r.Reconnects = w.reconnects.Load()
	w.rmu.Lock()
	lastBack, maxDown := w.lastBack, w.maxDown
	w.rmu.Unlock()
	r.ReconnectMaxMs = ms(maxDown)

	tr.mu.Lock()
	defer tr.mu.Unlock()
	f := &tr.f
	if f.start.IsZero() {
		return r
	}
	r.AtSeconds = f.start.Sub(in.started).Seconds()
	r.ForSeconds = f.end.Sub(f.start).Seconds()
	for _, cn := range w.conns {
		if cn != nil && f.affected[cn.home] {
			r.Affected++
		}
	}
	if len(f.recovery) > 0 {
		rec := summarize(f.recovery) // sorts: [0] is the first
		r.RecoveryFirstMs, r.RecoveryLastMs, r.Recovered = ms(f.recovery[0]), rec.Max, rec.Count
	}
	if !f.caughtUp.IsZero() {
		r.CatchUpMs = ms(f.caughtUp.Sub(f.end))
	}
	// Around: until the fault is over for every client, at least 1 s.
	over := f.end.Add(time.Second)
	for _, at := range []time.Time{f.caughtUp, lastBack} {
		if at.After(over) {
			over = at
		}
	}
	var before, around, after []time.Duration
	var bySecond [][]time.Duration
	for i, at := range f.sent {
		if sec := int(at.Sub(in.started) / time.Second); sec >= 0 {
			for sec >= len(bySecond) {
				bySecond = append(bySecond, nil)
			}
			bySecond[sec] = append(bySecond[sec], f.lat[i])
		}
		switch {
		case at.Before(f.start):
			before = append(before, f.lat[i])
		case at.Before(over):
			around = append(around, f.lat[i])
		default:
			after = append(after, f.lat[i])
		}
	}
	r.Before, r.Around, r.After = summarize(before), summarize(around), summarize(after)
	for _, s := range bySecond {
		r.Timeline = append(r.Timeline, summarize(s).P99)
	}
	return r
}

// Check reports an error when the run lost an acknowledged message, or,
// with a fault, when a connection got an event twice or skipped one.
func (r *Report) Check() error {
	var errs []error
	if n := r.Parley.Undelivered; n > 0 {
		errs = append(errs, fmt.Errorf("%d acknowledged messages were never delivered to every connection", n))
	}
	if f := r.Fault; f != nil {
		if f.Duplicates > 0 {
			errs = append(errs, fmt.Errorf("%d events arrived twice on a connection", f.Duplicates))
		}
		if f.Gaps > 0 {
			errs = append(errs, fmt.Errorf("%d gaps in a connection's seqs", f.Gaps))
		}
	}
	return errors.Join(errs...)
}

// restartNATS stops the tool's NATS server, waits down, and starts a new
// one on the same port (the nodes reconnect to the URL they have).
func (t *target) restartNATS(down time.Duration) error {
	addr := t.nats.Addr().(*net.TCPAddr)
	t.nats.Shutdown()
	t.nats.WaitForShutdown()
	time.Sleep(down)
	var err error
	// The port was just released; a listener may need a moment for it.
	for try := 0; try < 50; try++ {
		var ns *natsserver.Server
		if ns, err = startNATS(addr.Port); err == nil {
			t.nats = ns
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("restart NATS on port %d: %w", addr.Port, err)
}

// startNATS starts a NATS server in this process on a loopback port (-1:
// a free one).
func startNATS(port int) (*natsserver.Server, error) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, fmt.Errorf("start NATS: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(20 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("NATS did not start in 20s")
	}
	return ns, nil
}
