package parleytest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Event is one frame of the events WebSocket.
type Event struct {
	Seq    int64          `json:"seq"`
	Type   string         `json:"type"`
	ChatID string         `json:"chatId"`
	Raw    map[string]any `json:"-"`
}

// Conn is an open events connection that collects frames.
type Conn struct {
	tb     testing.TB
	conn   *websocket.Conn
	cancel context.CancelFunc
	mu     sync.Mutex
	events []Event
	wake   chan struct{}
	done   chan struct{}
	err    error
}

// Events opens GET /parley/v1/events (since < 0: no replay).
func (c *Client) Events(since int64) *Conn {
	c.TB.Helper()
	u := strings.Replace(c.Base, "http", "ws", 1) + "/parley/v1/events"
	if since >= 0 {
		u += fmt.Sprintf("?since=%d", since)
	}
	return c.dialEvents(u)
}

// EventsWithPresence opens the events WebSocket asking for presenceChanged
// events too (?presence=true), without replay.
func (c *Client) EventsWithPresence() *Conn {
	c.TB.Helper()
	return c.dialEvents(strings.Replace(c.Base, "http", "ws", 1) + "/parley/v1/events?presence=true")
}

func (c *Client) dialEvents(u string) *Conn {
	c.TB.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	conn, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + c.Token}}, HTTPClient: c.HTTP})
	if err != nil {
		cancel()
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		c.TB.Fatalf("dial events: %v (status %d)", err, status)
	}
	conn.SetReadLimit(1 << 22)
	w := &Conn{tb: c.TB, conn: conn, cancel: cancel, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go w.read(ctx)
	c.TB.Cleanup(w.Close)
	return w
}

func (w *Conn) read(ctx context.Context) {
	defer close(w.done)
	for {
		_, b, err := w.conn.Read(ctx)
		if err != nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
			w.signal()
			return
		}
		var e Event
		if err := json.Unmarshal(b, &e); err == nil {
			_ = json.Unmarshal(b, &e.Raw)
		}
		w.mu.Lock()
		w.events = append(w.events, e)
		w.mu.Unlock()
		w.signal()
	}
}

func (w *Conn) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Close closes the connection.
func (w *Conn) Close() {
	_ = w.conn.Close(websocket.StatusNormalClosure, "")
	w.cancel()
	<-w.done
}

// Events returns the frames received so far.
func (w *Conn) Events() []Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Event(nil), w.events...)
}

// WaitFor waits until pred holds for the frames received, or fails.
func (w *Conn) WaitFor(what string, timeout time.Duration, pred func([]Event) bool) []Event {
	w.tb.Helper()
	deadline := time.After(timeout)
	for {
		evs := w.Events()
		if pred(evs) {
			return evs
		}
		select {
		case <-w.wake:
		case <-deadline:
			w.mu.Lock()
			err := w.err
			w.mu.Unlock()
			w.tb.Fatalf("waiting for %s: timed out after %v with %d events (conn err %v): %v", what, timeout, len(evs), err, evs)
		}
	}
}

// WaitCount waits for at least n frames of the type.
func (w *Conn) WaitCount(typ string, n int, timeout time.Duration) []Event {
	w.tb.Helper()
	return w.WaitFor(fmt.Sprintf("%d %s", n, typ), timeout, func(evs []Event) bool { return Count(evs, typ) >= n })
}

// Count counts frames of a type.
func Count(evs []Event, typ string) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}
