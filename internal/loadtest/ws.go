package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// tracker matches messageCreated frames to the sends that caused them by
// the unique token each message's text starts with, and measures the time
// from send start until every WebSocket of every chat member has it.
type tracker struct {
	prefix []byte // the run's token prefix, e.g. "ltab12cd34x"

	mu      sync.Mutex
	pending map[string]*pend
	e2e     []time.Duration
	// sameNode and crossNode are per-connection arrival latencies of
	// measured sends, on the node the send went to and on other nodes
	// (several nodes only).
	sameNode, crossNode []time.Duration
	perConn             bool
	// delivered counts messages every expected connection received.
	delivered int
	frames    atomic.Int64 // messageCreated frames of this run received
	strays    atomic.Int64 // frames of this run with no pending send
	closed    atomic.Int64 // connections that ended before the tool closed them
	allDone   chan struct{}
	waitEmpty bool

	// acked counts sends registered and not refused: with every answer in,
	// the messages the server acknowledged.
	acked int
	// checkSeqs (fault runs) follows each connection's seqs: a frame at or
	// below the last seq seen is a duplicate (not counted as a delivery),
	// one further on leaves a gap.
	checkSeqs  bool
	dups, gaps atomic.Int64
	// f is the fault's timeline and what it measures (fault runs).
	f faultTrack
}

type pend struct {
	start   time.Time
	left    int
	measure bool
	// beforeEnd marks a send pending when the fault ended: catch-up is
	// when the last of them is delivered.
	beforeEnd bool
}

func newTracker(runID string) *tracker {
	return &tracker{prefix: []byte("lt" + runID + "x"), pending: map[string]*pend{}}
}

// expect registers a send before it is made: token will reach n connections.
func (t *tracker) expect(token string, start time.Time, n int, measure bool) {
	t.mu.Lock()
	t.pending[token] = &pend{start: start, left: n, measure: measure}
	t.acked++
	t.mu.Unlock()
}

// cancel forgets a send the server refused (it publishes nothing).
func (t *tracker) cancel(token string) {
	t.mu.Lock()
	if p := t.pending[token]; p != nil {
		delete(t.pending, token)
		t.acked--
		if p.beforeEnd {
			t.f.caughtUpLocked(time.Now())
		}
	}
	t.signalLocked()
	t.mu.Unlock()
}

// frame handles one frame received at now by connection c. Only c's
// reader calls it, so c's seq state needs no lock.
func (t *tracker) frame(b []byte, now time.Time, c *wsConn) {
	if t.checkSeqs {
		if seq := frameSeq(b); seq > 0 {
			if c.last >= 0 && seq <= c.last {
				t.dups.Add(1)
				return
			}
			if c.last >= 0 && seq > c.last+1 {
				t.gaps.Add(1)
			}
			c.last = seq
		}
	}
	tok := t.token(b)
	if tok == nil {
		return
	}
	t.frames.Add(1)
	t.mu.Lock()
	if t.checkSeqs {
		t.f.arrivedLocked(c, now)
	}
	p := t.pending[string(tok)]
	if p == nil {
		t.mu.Unlock()
		t.strays.Add(1)
		return
	}
	p.left--
	if t.perConn && p.measure {
		if c.node == 0 {
			t.sameNode = append(t.sameNode, now.Sub(p.start))
		} else {
			t.crossNode = append(t.crossNode, now.Sub(p.start))
		}
	}
	if p.left == 0 {
		delete(t.pending, string(tok))
		t.delivered++
		if p.measure {
			t.e2e = append(t.e2e, now.Sub(p.start))
			if t.checkSeqs {
				t.f.sent, t.f.lat = append(t.f.sent, p.start), append(t.f.lat, now.Sub(p.start))
			}
		}
		if p.beforeEnd {
			t.f.caughtUpLocked(now)
		}
		t.signalLocked()
	}
	t.mu.Unlock()
}

var seqMarker = []byte(`{"seq":`)

// frameSeq returns the seq of an event frame (Parley writes it first), or
// 0 for an ephemeral event or a frame that is no event.
func frameSeq(b []byte) int64 {
	if !bytes.HasPrefix(b, seqMarker) {
		return 0
	}
	var n int64
	for _, ch := range b[len(seqMarker):] {
		if ch < '0' || ch > '9' {
			break
		}
		n = n*10 + int64(ch-'0')
	}
	return n
}

var (
	createdMarker = []byte(`"type":"messageCreated"`)
	contentMarker = []byte(`"content":"`)
)

// token returns the run token of a messageCreated frame, or nil.
func (t *tracker) token(b []byte) []byte {
	if !bytes.Contains(b, createdMarker) {
		return nil
	}
	i := bytes.Index(b, contentMarker)
	if i < 0 {
		return nil
	}
	rest := b[i+len(contentMarker):]
	if !bytes.HasPrefix(rest, t.prefix) {
		return nil
	}
	end := bytes.IndexAny(rest, " \"")
	if end < 0 {
		return nil
	}
	return rest[:end]
}

func (t *tracker) signalLocked() {
	if t.waitEmpty && len(t.pending) == 0 && t.allDone != nil {
		close(t.allDone)
		t.allDone = nil
	}
}

// drain waits until every registered send is delivered or the timeout
// passes, and returns the number still outstanding.
func (t *tracker) drain(timeout time.Duration) int {
	t.mu.Lock()
	if len(t.pending) == 0 {
		t.mu.Unlock()
		return 0
	}
	done := make(chan struct{})
	t.allDone, t.waitEmpty = done, true
	t.mu.Unlock()
	select {
	case <-done:
	case <-time.After(timeout):
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.allDone, t.waitEmpty = nil, false
	return len(t.pending)
}

// counts returns the acknowledged and the delivered messages.
func (t *tracker) counts() (acked, delivered int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.acked, t.delivered
}

// results returns the delivery latencies of measured sends, and counts.
func (t *tracker) results() ([]time.Duration, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.e2e, t.delivered
}

// wsClients are the open events connections. They read frames with
// gobwas/ws straight from the socket into one buffer per connection: the
// tool shares the machine with the server, so its reading must cost little.
type wsClients struct {
	conns []*wsConn
	bases []string
	wg    sync.WaitGroup
	// closing is set when the tool closes them on purpose.
	closing atomic.Bool
	// reconnect (fault runs) makes a connection that ends dial the next
	// live node with ?since= its last seq, as a client resumes.
	reconnect bool
	dead      []atomic.Bool // nodes a fault killed
	// reconnects counts connections resumed; lastBack is when the latest
	// of them was back, and maxDown the longest time one was down.
	reconnects atomic.Int64
	rmu        sync.Mutex
	lastBack   time.Time
	maxDown    time.Duration
}

// wsConn is one client connection; wmu serialises its writes (pongs, the
// close frame) and guards nc against a reconnect.
type wsConn struct {
	nc net.Conn
	r  *bufio.Reader // the handshake's buffered bytes first, then nc
	// node is the index of the node it is connected to; home the one it
	// first connected to.
	node, home int
	token      string
	wmu        sync.Mutex
	// last is the highest seq seen (-1: none yet), gen the number of
	// reconnects (fault runs; the reader's alone).
	last int64
	gen  int
	// seenAfter is set by the first message after the fault ended
	// (under the tracker's lock).
	seenAfter bool
}

func (c *wsConn) write(f ws.Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second)) // a failure shows in Write
	return ws.WriteFrame(c.nc, ws.MaskFrameInPlace(f))
}

var wsDialer = ws.Dialer{Timeout: 30 * time.Second}

// dial opens an events connection to node; since < 0 asks for live events
// only.
func (w *wsClients) dial(ctx context.Context, node int, token string, since int64) (net.Conn, *bufio.Reader, error) {
	dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
	defer dcancel()
	u := "ws" + strings.TrimPrefix(w.bases[node], "http") + "/parley/v1/events?access_token=" + url.QueryEscape(token)
	if since >= 0 {
		u += "&since=" + strconv.FormatInt(since, 10)
	}
	nc, br, _, err := wsDialer.Dial(dctx, u)
	if err != nil {
		return nil, nil, err
	}
	// A frame's header and payload come from one read: reading nc
	// directly cost two read calls per frame, a sixth of the tool's CPU.
	var r io.Reader = nc
	if br != nil {
		r = io.MultiReader(br, nc)
	}
	return nc, bufio.NewReaderSize(r, wsReadBuffer), nil
}

// openWS opens the WebSocket clients of every user (u.Conns each) with
// workers concurrent dials; every frame goes to tr.
// With several bases (nodes), user i's connections go to base i mod n.
func openWS(ctx context.Context, bases []string, users []user, tr *tracker, workers int, reconnect bool, log io.Writer) (*wsClients, error) {
	type dial struct{ user int }
	var dials []dial
	for i, u := range users {
		for range u.Conns {
			dials = append(dials, dial{i})
		}
	}
	w := &wsClients{conns: make([]*wsConn, len(dials)), bases: bases, reconnect: reconnect, dead: make([]atomic.Bool, len(bases))}
	err := parallel(ctx, workers, len(dials), func(ctx context.Context, i int) error {
		u := users[dials[i].user]
		node := dials[i].user % len(bases)
		nc, r, err := w.dial(ctx, node, u.Token, -1)
		if err != nil {
			return fmt.Errorf("open WebSocket %d of %d: %w", i+1, len(dials), err)
		}
		c := &wsConn{nc: nc, r: r, node: node, home: node, token: u.Token, last: -1}
		w.conns[i] = c
		w.wg.Go(func() { w.read(c, tr) })
		return nil
	}, func(done int) {
		fmt.Fprintf(log, "  WebSockets %d/%d\n", done, len(dials))
	})
	if err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// wsReadBuffer holds a few events: frames are a few hundred bytes.
const wsReadBuffer = 4 << 10

// maxFrame bounds a frame the tool accepts (events are a few KB).
const maxFrame = 1 << 20

func (w *wsClients) read(c *wsConn, tr *tracker) {
	var buf []byte
	for {
		h, err := ws.ReadHeader(c.r)
		if err == nil && h.Length > maxFrame {
			err = fmt.Errorf("frame of %d bytes", h.Length)
		}
		if err == nil {
			if int64(cap(buf)) < h.Length {
				buf = make([]byte, h.Length)
			}
			p := buf[:h.Length]
			if _, err = io.ReadFull(c.r, p); err == nil {
				switch h.OpCode {
				case ws.OpText, ws.OpBinary, ws.OpContinuation:
					// Parley sends each event as one unfragmented text frame.
					tr.frame(p, time.Now(), c)
				case ws.OpPing:
					err = c.write(ws.NewPongFrame(bytes.Clone(p)))
				case ws.OpClose:
					err = errors.New("closed by the server")
				}
			}
		}
		if err == nil {
			continue
		}
		c.wmu.Lock()
		_ = c.nc.Close() // ended either way
		c.wmu.Unlock()
		if w.closing.Load() {
			return
		}
		if !w.reconnect || !w.resume(c) {
			tr.closed.Add(1)
			return
		}
	}
}

// resume reconnects c to the next live node after its own (its own last),
// with ?since= the last seq it saw (0 when none: then everything stored
// is new to it), retrying for up to a minute. It reports whether c is
// open again.
func (w *wsClients) resume(c *wsConn) bool {
	down := time.Now()
	since := max(c.last, 0)
	for try := 0; time.Since(down) < time.Minute; try++ {
		if w.closing.Load() {
			return false
		}
		node := (c.node + 1 + try) % len(w.bases)
		if w.dead[node].Load() {
			continue
		}
		nc, r, err := w.dial(context.Background(), node, c.token, since)
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		c.wmu.Lock()
		if w.closing.Load() {
			c.wmu.Unlock()
			_ = nc.Close() // the tool is closing them all
			return false
		}
		c.nc, c.r, c.node = nc, r, node
		c.gen++
		c.wmu.Unlock()
		now := time.Now()
		w.reconnects.Add(1)
		w.rmu.Lock()
		w.lastBack = now
		w.maxDown = max(w.maxDown, now.Sub(down))
		w.rmu.Unlock()
		return true
	}
	return false
}

// markDead keeps reconnects off node from now on.
func (w *wsClients) markDead(node int) { w.dead[node].Store(true) }

// Close closes every connection and waits for the readers.
func (w *wsClients) Close() {
	w.closing.Store(true)
	for _, c := range w.conns {
		if c == nil {
			continue
		}
		_ = c.write(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))) // the server may be gone already
		c.wmu.Lock()
		_ = c.nc.Close()
		c.wmu.Unlock()
	}
	w.wg.Wait()
}
