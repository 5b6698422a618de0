package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
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
}

type pend struct {
	start   time.Time
	left    int
	measure bool
}

func newTracker(runID string) *tracker {
	return &tracker{prefix: []byte("lt" + runID + "x"), pending: map[string]*pend{}}
}

// expect registers a send before it is made: token will reach n connections.
func (t *tracker) expect(token string, start time.Time, n int, measure bool) {
	t.mu.Lock()
	t.pending[token] = &pend{start: start, left: n, measure: measure}
	t.mu.Unlock()
}

// cancel forgets a send the server refused (it publishes nothing).
func (t *tracker) cancel(token string) {
	t.mu.Lock()
	delete(t.pending, token)
	t.signalLocked()
	t.mu.Unlock()
}

// frame handles one frame received at now by a connection to node.
func (t *tracker) frame(b []byte, now time.Time, node int) {
	tok := t.token(b)
	if tok == nil {
		return
	}
	t.frames.Add(1)
	t.mu.Lock()
	p := t.pending[string(tok)]
	if p == nil {
		t.mu.Unlock()
		t.strays.Add(1)
		return
	}
	p.left--
	if t.perConn && p.measure {
		if node == 0 {
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
		}
		t.signalLocked()
	}
	t.mu.Unlock()
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
	wg    sync.WaitGroup
	// closing is set when the tool closes them on purpose.
	closing atomic.Bool
}

// wsConn is one client connection; wmu serialises its writes (pongs, the
// close frame).
type wsConn struct {
	nc net.Conn
	r  *bufio.Reader // the handshake's buffered bytes first, then nc
	// node is the index of the node it is connected to.
	node int
	wmu  sync.Mutex
}

func (c *wsConn) write(f ws.Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second)) // a failure shows in Write
	return ws.WriteFrame(c.nc, ws.MaskFrameInPlace(f))
}

// openWS opens the WebSocket clients of every user (u.Conns each) with
// workers concurrent dials; every frame goes to tr.
// With several bases (nodes), user i's connections go to base i mod n.
func openWS(ctx context.Context, bases []string, users []user, tr *tracker, workers int, log io.Writer) (*wsClients, error) {
	type dial struct{ user int }
	var dials []dial
	for i, u := range users {
		for range u.Conns {
			dials = append(dials, dial{i})
		}
	}
	w := &wsClients{conns: make([]*wsConn, len(dials))}
	d := ws.Dialer{Timeout: 30 * time.Second}
	err := parallel(ctx, workers, len(dials), func(ctx context.Context, i int) error {
		u := users[dials[i].user]
		dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
		defer dcancel()
		node := dials[i].user % len(bases)
		wsBase := "ws" + strings.TrimPrefix(bases[node], "http")
		nc, br, _, err := d.Dial(dctx, wsBase+"/parley/v1/events?access_token="+url.QueryEscape(u.Token))
		if err != nil {
			return fmt.Errorf("open WebSocket %d of %d: %w", i+1, len(dials), err)
		}
		// A frame's header and payload come from one read: reading nc
		// directly cost two read calls per frame, a sixth of the tool's CPU.
		var r io.Reader = nc
		if br != nil {
			r = io.MultiReader(br, nc)
		}
		c := &wsConn{nc: nc, r: bufio.NewReaderSize(r, wsReadBuffer), node: node}
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
	ended := func() {
		if !w.closing.Load() {
			tr.closed.Add(1)
		}
	}
	for {
		h, err := ws.ReadHeader(c.r)
		if err != nil || h.Length > maxFrame {
			ended()
			return
		}
		if int64(cap(buf)) < h.Length {
			buf = make([]byte, h.Length)
		}
		p := buf[:h.Length]
		if _, err := io.ReadFull(c.r, p); err != nil {
			ended()
			return
		}
		switch h.OpCode {
		case ws.OpText, ws.OpBinary, ws.OpContinuation:
			// Parley sends each event as one unfragmented text frame.
			tr.frame(p, time.Now(), c.node)
		case ws.OpPing:
			if c.write(ws.NewPongFrame(bytes.Clone(p))) != nil {
				ended()
				return
			}
		case ws.OpClose:
			ended()
			_ = c.nc.Close() // the server ended it
			return
		}
	}
}

// Close closes every connection and waits for the readers.
func (w *wsClients) Close() {
	w.closing.Store(true)
	for _, c := range w.conns {
		if c == nil {
			continue
		}
		_ = c.write(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))) // the server may be gone already
		_ = c.nc.Close()
	}
	w.wg.Wait()
}
