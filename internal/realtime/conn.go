package realtime

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// conn is one upgraded events connection. Its reader goroutine lives as
// long as the socket; a writer goroutine runs only while there is
// something to write (events, a replay, a ping).
type conn struct {
	h   *Handler
	nc  net.Conn
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

// Receive queues an event from the bus and makes sure a writer runs. It
// never blocks: a full queue is dropped and the connection replays.
func (c *conn) Receive(e event.Event) {
	if e.Type == event.PresenceChanged && !c.presence {
		return // only for connections that asked for presence
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
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
		if c.closed || (!c.lagged && !c.pingDue && len(c.queue) == 0) {
			c.writing = false
			c.queue = nil
			c.mu.Unlock()
			return
		}
		replay, ping := c.lagged, c.pingDue
		c.lagged, c.pingDue = false, false
		// Swap: the queue keeps the emptied array of the last batch.
		q, c.queue = c.queue, q[:0]
		c.mu.Unlock()
		err := c.send(b, replay, ping, q)
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

// send writes one batch: a ping, a replay, then the queued events in order.
func (c *conn) send(b *burst, replay, ping bool, q []event.Event) error {
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

// writeRaw writes frames within writeTimeout.
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
		_, err = c.nc.Write(p)
	}
	if err != nil {
		c.broken = true
	}
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
// and of one event (frame).
type burst struct {
	out   []byte
	frame []byte
	hdr   [ws.MaxHeaderSize]byte
}

const (
	// flushSize is how much a replay collects before it writes.
	flushSize = 32 << 10
	// maxPooled caps the scratch a burst keeps for the next.
	maxPooled = 64 << 10
)

var bursts = sync.Pool{New: func() any { return new(burst) }}

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
