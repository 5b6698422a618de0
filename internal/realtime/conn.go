package realtime

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// conn is one upgraded events connection. Its reader goroutine lives as
// long as the socket; a writer goroutine runs only while there is
// something to write that could not be written at once (a burst, a
// replay, a ping, a client that reads slowly): an event for an idle
// connection is written by the publisher itself, without blocking
// (writeNow).
type conn struct {
	h  *Handler
	nc net.Conn
	// raw is nc's file descriptor for writeNow's non-blocking writes; nil
	// when nc has none (TLS), and then every event goes to a writer.
	raw syscall.RawConn
	in  input
	uid identity.UserID
	sub *event.Subscription
	// presence: the client asked for presenceChanged (?presence=true).
	presence bool

	// prev, next and slot place the connection in the ping wheel (h.mu).
	prev, next *conn
	slot       int

	// wmu serialises writes to nc. broken (under wmu) is set when a write
	// failed, perhaps halfway through a frame: nothing more may be sent.
	wmu    sync.Mutex
	broken bool
	// pending (under wmu) is the rest of a frame writeNow wrote in part:
	// it goes out before anything else.
	pending []byte

	mu sync.Mutex
	// queue holds the events received while the writer is busy; nil when
	// empty, so an idle connection holds no array.
	queue []event.Event
	// writing is set while a writer goroutine runs, and from the subscribe
	// until the upgrade, so that none starts before.
	writing bool
	// lagged asks the writer to replay from the store: at the start, and
	// after the queue overflowed (the dropped events are stored).
	lagged  bool
	pingDue bool
	// flushDue asks the writer to write pending.
	flushDue bool
	// lastEvent is when the bus last handed an event (Unix ns): writeNow
	// is for a connection idle for writeNowIdle.
	lastEvent int64
	// closed is set once the connection ends; from then on nothing is
	// queued or written but a close frame.
	closed bool

	// last is the seq of the last stored event sent; the writer's alone
	// (the upgrade sets it before the first writer starts).
	last int64
}

// input reads the bytes that came with the HTTP request first, then the
// socket.
type input struct {
	pre []byte
	nc  net.Conn
}

func (in *input) Read(p []byte) (int, error) {
	if len(in.pre) > 0 {
		n := copy(p, in.pre)
		in.pre = in.pre[n:]
		if len(in.pre) == 0 {
			in.pre = nil
		}
		return n, nil
	}
	return in.nc.Read(p)
}

// Receive writes an event from the bus at once when the connection is idle
// (writeNow), or queues it and makes sure a writer runs. It never blocks:
// a full queue is dropped and the connection replays.
func (c *conn) Receive(e event.Event) {
	if e.Type == event.PresenceChanged && !c.presence {
		return // only for connections that asked for presence
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	now := time.Now().UnixNano()
	idle := now-c.lastEvent >= int64(writeNowIdle)
	c.lastEvent = now
	if idle && c.raw != nil && !c.writing && !c.lagged && !c.pingDue && len(c.queue) == 0 {
		// No writer and nothing due: c.last is settled.
		if e.Seq != 0 && e.Seq <= c.last {
			c.mu.Unlock()
			return // sent already (by a replay)
		}
		if (e.Seq == 0 || e.Seq == c.last+1) && e.Type != event.SessionEnded && len(e.Payload) <= maxWriteNow {
			c.writing = true // this goroutine is the writer until writeNow ends
			c.mu.Unlock()
			c.writeNow(&e)
			return
		}
	}
	defer c.mu.Unlock()
	switch {
	case c.lagged && e.Seq != 0:
		// The replay to come reads it from the store (stored before publish).
	case len(c.queue) >= queueLimit:
		// Stored events come back by replay; ephemeral ones are now or never.
		c.lagged = true
		c.queue = nil
		c.h.lags.Add(1)
	default:
		c.queue = append(c.queue, e)
	}
	c.startWriter()
}

// writeNow writes e's frame on the caller's goroutine (the publisher's) and
// ends its turn as the writer: the caller set c.writing. It never waits:
// when the socket would block, or a pong is being written, what is left
// goes to a writer goroutine. This spares an event for an idle connection
// (most, at low load) a goroutine's start and the scheduler's hand-off.
func (c *conn) writeNow(e *event.Event) {
	b := bursts.Get().(*burst)
	defer b.put()
	p := b.encode(e)
	if !c.wmu.TryLock() {
		c.handOff(e, false) // the reader writes a pong, or a test holds writes
		return
	}
	if c.broken {
		c.wmu.Unlock()
		c.handOff(nil, false) // ending: the writer finds it closed
		return
	}
	n, err := c.tryWrite(b, p)
	if err != nil {
		c.broken = true
		c.wmu.Unlock()
		c.writeFailed(err)
		c.handOff(nil, false)
		return
	}
	if n == 0 {
		c.wmu.Unlock()
		c.handOff(e, false) // the socket is full: a writer waits for it
		return
	}
	if e.Seq > 0 {
		c.last = e.Seq
	}
	rest := n < len(p)
	if rest {
		c.pending = append([]byte(nil), p[n:]...)
	}
	c.wmu.Unlock()
	c.handOff(nil, rest)
}

// tryWrite makes one non-blocking write of p: n is 0 when the socket
// buffer is full. A write deadline that has passed (the last writer's,
// long ago) is cleared, since this write cannot block.
func (c *conn) tryWrite(b *burst, p []byte) (int, error) {
	for range 2 {
		b.w.p, b.w.n, b.w.err, b.w.called = p, 0, nil, false
		err := c.raw.Write(b.w.fn)
		b.w.p = nil
		if b.w.called {
			return b.w.n, b.w.err
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, err
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return 0, errClosed
		}
		err = c.nc.SetWriteDeadline(time.Time{})
		c.mu.Unlock()
		if err != nil {
			return 0, err
		}
	}
	return 0, nil // the deadline came back (stop set one): a writer copes
}

// handOff ends writeNow's turn as the writer: e (not written) goes first
// in the queue, and a writer goroutine starts if anything is due.
func (c *conn) handOff(e *event.Event, flush bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.writing = false
		c.queue = nil
		return
	}
	if e != nil {
		c.queue = slices.Insert(c.queue, 0, *e)
	}
	c.flushDue = c.flushDue || flush
	if !c.flushDue && !c.lagged && !c.pingDue && len(c.queue) == 0 {
		c.writing = false
		return
	}
	c.h.wg.Add(1) // open: the reader still counts in h.wg
	go c.write()
}

// ping asks the writer for a ping (the pinger's tick).
func (c *conn) ping() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.pingDue = true
	c.startWriter()
}

// startWriter starts a writer unless one runs. c.mu is held, and the
// connection is open, so its reader still counts in h.wg: the Add cannot
// race with Close's Wait.
func (c *conn) startWriter() {
	if c.writing || c.closed {
		return
	}
	c.writing = true
	c.h.wg.Add(1)
	go c.write()
}

// write is the writer goroutine: it writes what is due until nothing is,
// then ends.
func (c *conn) write() {
	defer c.h.wg.Done()
	b := bursts.Get().(*burst)
	defer b.put()
	var q []event.Event
	for {
		c.mu.Lock()
		if c.closed || (!c.flushDue && !c.lagged && !c.pingDue && len(c.queue) == 0) {
			c.writing = false
			c.queue = nil
			c.mu.Unlock()
			return
		}
		flush, replay, ping := c.flushDue, c.lagged, c.pingDue
		c.flushDue, c.lagged, c.pingDue = false, false, false
		// Swap: the queue keeps the emptied array of the last batch.
		q, c.queue = c.queue, q[:0]
		c.mu.Unlock()
		err := c.send(b, flush, replay, ping, q)
		clear(q)
		if err != nil {
			c.writeFailed(err)
			c.mu.Lock()
			c.writing = false
			c.queue = nil
			c.mu.Unlock()
			return
		}
	}
}

// send writes one batch: the rest of writeNow's frame, a ping, a replay,
// then the queued events in order.
func (c *conn) send(b *burst, flush, replay, ping bool, q []event.Event) error {
	if flush {
		if err := c.writeRaw(nil); err != nil { // writes pending
			return err
		}
	}
	if ping && c.expectPong() {
		// Written at once: the wait for the pong has begun.
		b.out = append(b.out, ws.CompiledPing...)
		if err := c.flush(b); err != nil {
			return err
		}
	}
	if replay {
		if err := c.replay(b); err != nil {
			return err
		}
	}
	for i := range q {
		e := &q[i]
		if e.Seq != 0 {
			if e.Seq <= c.last {
				continue
			}
			if e.Seq > c.last+1 {
				// A gap: a publish that overtook an earlier one, another
				// node's write, or a drop. The store has it.
				if err := c.replay(b); err != nil {
					return err
				}
				if e.Seq <= c.last {
					continue
				}
			}
		}
		if err := c.add(b, e); err != nil {
			return err
		}
	}
	return c.flush(b)
}

// replay sends the stored events after c.last, in batches of replayBatch.
func (c *conn) replay(b *burst) error {
	for {
		evs, err := c.h.Store.FindEvents(c.h.ctx, c.uid, c.last, replayBatch)
		if err != nil {
			return err
		}
		for i := range evs {
			if err := c.add(b, &evs[i]); err != nil {
				return err
			}
		}
		if len(evs) < replayBatch {
			return nil
		}
	}
}

// add appends e's frame to the batch, writing when it has grown.
func (c *conn) add(b *burst, e *event.Event) error {
	b.frame = event.AppendFrame(b.frame[:0], e.Seq, e.Payload)
	h := ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(len(b.frame))}
	if err := ws.WriteHeaderBuffer((*appender)(&b.out), h, b.hdr[:]); err != nil {
		return err
	}
	b.out = append(b.out, b.frame...)
	if e.Seq > 0 {
		c.last = e.Seq
	}
	if e.Type == event.SessionEnded {
		// The session's last event: send it, then close (docs/rules.md §8).
		if err := c.flush(b); err != nil {
			return err
		}
		return errSessionEnded
	}
	if len(b.out) >= flushSize {
		return c.flush(b)
	}
	return nil
}

func (c *conn) flush(b *burst) error {
	if len(b.out) == 0 {
		return nil
	}
	err := c.writeRaw(b.out)
	b.out = b.out[:0]
	return err
}

var errClosed = errors.New("connection closed")

// errSessionEnded stops the writer after a session's last event.
var errSessionEnded = errors.New("session ended")

// writeRaw writes frames within writeTimeout, after the rest of a frame
// writeNow began.
func (c *conn) writeRaw(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.broken {
		return errClosed
	}
	// The deadline is set under c.mu so that stop's shorter one, set once
	// closed, is never overwritten.
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errClosed
	}
	err := c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	c.mu.Unlock()
	if err == nil {
		err = c.writePending()
	}
	if err == nil && len(p) > 0 {
		_, err = c.nc.Write(p)
	}
	if err != nil {
		c.broken = true
	}
	return err
}

// writePending writes the rest of writeNow's frame (c.wmu is held).
func (c *conn) writePending() error {
	if c.pending == nil {
		return nil
	}
	_, err := c.nc.Write(c.pending)
	c.pending = nil
	return err
}

// writeFailed ends the connection after the writer's error: a failed
// write closes the socket; a store error sends 1011 first.
func (c *conn) writeFailed(err error) {
	if c.isClosed() || errors.Is(err, context.Canceled) {
		return // ended already (by the peer, the reader or Close)
	}
	if errors.Is(err, errSessionEnded) {
		c.end(ws.StatusPolicyViolation, "session ended", true)
		return
	}
	c.h.log.Debug("events connection ended", "user", c.uid, "err", err)
	c.end(ws.StatusInternalServerError, "internal error", true)
}

// expectPong bounds the wait for the pong of the ping about to be sent: the
// reader's socket read fails if nothing arrives within writeTimeout.
func (c *conn) expectPong() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(writeTimeout)) // a failure shows on the next read
	return true
}

func (c *conn) ponged() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		_ = c.nc.SetReadDeadline(time.Time{}) // a failure shows on the next read
	}
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// stop marks the connection closed (false when it was already) and bounds
// what is left of it: writes in flight, and the wait for the peer's close
// frame, end within closeTimeout.
func (c *conn) stop() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.closed = true
	c.queue = nil
	_ = c.nc.SetDeadline(time.Now().Add(closeTimeout)) // a failure shows on the next read or write
	return true
}

// sendClose writes a close frame (code 0: without a status) unless the
// stream is broken; false when it was not sent.
func (c *conn) sendClose(code ws.StatusCode, reason string) bool {
	var body []byte
	if code != 0 {
		body = ws.NewCloseFrameBody(code, reason)
	}
	f, err := ws.CompileFrame(ws.NewCloseFrame(body))
	if err != nil {
		return false
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.broken {
		return false
	}
	if err := c.writePending(); err != nil {
		c.broken = true
		return false
	}
	if _, err := c.nc.Write(f); err != nil {
		c.broken = true
		return false
	}
	return true
}

// end closes the connection from this side with a close frame. When
// graceful and the frame went out, the reader waits for the peer's close
// frame (at most closeTimeout) and closes the socket; otherwise the socket
// is closed now.
func (c *conn) end(code ws.StatusCode, reason string, graceful bool) {
	first := c.stop()
	if first && c.sendClose(code, reason) && graceful {
		return
	}
	if !first && graceful {
		return
	}
	_ = c.nc.Close() // the reader sees it and releases the connection
}

// read is the reader goroutine. It holds no buffer while it waits: the
// frame header is read straight from the socket.
func (c *conn) read() {
	defer c.release()
	var msg int64 // bytes of the data message being received
	fragmented := false
	for {
		hd, err := ws.ReadHeader(&c.in)
		if err != nil {
			c.readFailed(err)
			return
		}
		if c.isClosed() {
			// Closing: wait for the peer's close frame, skipping the rest.
			if hd.OpCode == ws.OpClose || c.discard(hd.Length) != nil {
				return
			}
			continue
		}
		st := ws.StateServerSide
		if fragmented {
			st = st.Set(ws.StateFragmented)
		}
		if err := ws.CheckHeader(hd, st); err != nil {
			c.end(ws.StatusProtocolError, err.Error(), false)
			return
		}
		if hd.OpCode.IsData() {
			msg += hd.Length
			if msg > maxClientMessage {
				c.h.log.Debug("events connection ended", "user", c.uid, "err", "client message too big")
				c.end(ws.StatusMessageTooBig, "clients send no messages on this socket", true)
			}
			if c.discard(hd.Length) != nil {
				return
			}
			fragmented = !hd.Fin
			if hd.Fin {
				msg = 0
			}
			continue
		}
		p := make([]byte, hd.Length) // a control frame: at most 125 bytes
		if _, err := io.ReadFull(&c.in, p); err != nil {
			c.readFailed(err)
			return
		}
		ws.Cipher(p, hd.Mask, 0)
		switch hd.OpCode {
		case ws.OpPing:
			if c.writeRaw(pongFrame(p)) != nil {
				return
			}
		case ws.OpPong:
			c.ponged()
		case ws.OpClose:
			// Answer with the peer's code, as coder/websocket did.
			code, reason := ws.ParseCloseFrameData(p)
			switch {
			case len(p) == 0:
				code = 0
			case len(p) == 1 || ws.CheckCloseFrameData(code, reason) != nil:
				code, reason = ws.StatusProtocolError, "invalid close frame"
			}
			if c.stop() {
				c.sendClose(code, reason)
			}
			return
		}
	}
}

func pongFrame(p []byte) []byte {
	f, _ := ws.CompileFrame(ws.NewPongFrame(p)) // at most 125 bytes: encodes
	return f
}

// discard skips n bytes of payload.
func (c *conn) discard(n int64) error {
	_, err := io.CopyN(io.Discard, &c.in, n)
	return err
}

// readFailed handles the end of the socket for the reader.
func (c *conn) readFailed(err error) {
	switch {
	case c.isClosed():
		// This side ended it.
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.h.log.Debug("events connection ended", "user", c.uid, "err", "no pong within "+writeTimeout.String())
		c.end(ws.StatusInternalServerError, "internal error", false)
	case errors.Is(err, ws.ErrHeaderLengthMSB), errors.Is(err, ws.ErrHeaderLengthUnexpected):
		c.end(ws.StatusProtocolError, err.Error(), false)
	}
	// Otherwise the peer went away without a close frame.
}

// release is the reader's last act: the socket, the subscription and the
// wheel slot go.
func (c *conn) release() {
	c.stop()
	_ = c.nc.Close() // closed already, or the end of a closing handshake
	c.sub.Close()
	c.h.unregister(c)
	if c.h.Presence != nil {
		c.h.Presence.Disconnected(c.uid)
	}
	c.h.wg.Done()
}

// burst is a writer's scratch space, pooled: the frames of a batch (out)
// and of one event (frame), and writeNow's raw write.
type burst struct {
	out   []byte
	frame []byte
	hdr   [ws.MaxHeaderSize]byte
	w     rawWrite
}

// encode returns e's frame, header and all, built in b.out: the payload
// goes after room for the longest header, and the header (written in
// b.frame) right before it.
func (b *burst) encode(e *event.Event) []byte {
	b.out = append(b.out[:0], b.hdr[:]...)
	b.out = event.AppendFrame(b.out, e.Seq, e.Payload)
	h := ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(len(b.out) - ws.MaxHeaderSize)}
	b.frame = b.frame[:0]
	_ = ws.WriteHeaderBuffer((*appender)(&b.frame), h, b.hdr[:]) // into memory: cannot fail
	start := ws.MaxHeaderSize - len(b.frame)
	copy(b.out[start:], b.frame)
	return b.out[start:]
}

// rawWrite is one non-blocking write(2) through syscall.RawConn.Write; fn
// is its method value, made once per pooled burst.
type rawWrite struct {
	p      []byte
	n      int
	err    error
	called bool
	fn     func(fd uintptr) bool
}

// do writes what the socket buffer takes and never asks to wait.
func (w *rawWrite) do(fd uintptr) bool {
	w.called = true
	n, err := rawWriteFD(fd, w.p)
	w.n, w.err = max(n, 0), err
	return true
}

const (
	// flushSize is how much a replay collects before it writes.
	flushSize = 32 << 10
	// maxPooled caps the scratch a burst keeps for the next.
	maxPooled = 64 << 10

	// maxWriteNow is the biggest payload writeNow writes; bigger ones go
	// to a writer, whose buffers are made for them.
	maxWriteNow = 16 << 10
)

// writeNowIdle is how long a connection goes without events before the
// publisher writes the next one itself. A busier connection's events go to
// a writer goroutine, which writes those that arrive while it waits for a
// CPU in one write: at saturation, writing each on the publisher cost more
// CPU per message than the goroutines (docs/decisions.md). A variable for
// the tests of writeNow.
var writeNowIdle = 100 * time.Millisecond

var bursts = sync.Pool{New: func() any {
	b := new(burst)
	b.w.fn = b.w.do
	return b
}}

func (b *burst) put() {
	if cap(b.out) > maxPooled {
		b.out = nil
	}
	if cap(b.frame) > maxPooled {
		b.frame = nil
	}
	b.out = b.out[:0]
	bursts.Put(b)
}

// appender is an io.Writer that appends to a byte slice.
type appender []byte

func (a *appender) Write(p []byte) (int, error) {
	*a = append(*a, p...)
	return len(p), nil
}
