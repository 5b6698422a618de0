// Package realtime serves GET /parley/v1/events: a WebSocket per client that
// carries the user's events in seq order (docs/rules.md §7, API.md "Real time").
// A client passes ?since=<seq> to replay what was missed; the connection
// subscribes to the bus before it reads the store, and fills any gap from
// the store, so every stored event arrives exactly once and in order.
// Ephemeral events (typing, seq 0) are sent now or never. Only
// internal/server imports it.
//
// An idle connection is cheap (docs/performance.md, "Memory per idle
// WebSocket"): the handler hijacks the connection and returns, so net/http's
// goroutine and buffers are gone; what stays is one reader goroutine, blocked
// on the socket with no buffer, and a few hundred bytes of structs. Events
// are queued by the bus's call into the connection (Receive), and a writer
// goroutine is started for each burst and ends when the queue is empty. A
// connection whose queue overflows drops it and replays from the store.
// Pings come from one timer wheel per Handler, not a ticker per connection.
//
// Clients send no data on this socket: data frames are read and thrown
// away, and a message bigger than maxClientMessage ends the connection
// (1009). Pings are answered, and a close frame is answered and ends it.
package realtime

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// Store is what replay needs.
type Store interface {
	// FindEvents returns the user's events with seq above since, oldest first.
	FindEvents(ctx context.Context, userID identity.UserID, since int64, limit int) ([]event.Event, error)
	// LastSeq returns the user's latest seq.
	LastSeq(ctx context.Context, userID identity.UserID) (int64, error)
}

// Authenticator turns a bearer token into a user.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (identity.User, error)
}

// Handler is the WebSocket endpoint. The zero value of its unexported state
// is ready: set the exported fields and serve. Close ends every connection;
// the server calls it after the HTTP server has shut down, since net/http
// does not track hijacked connections.
type Handler struct {
	Auth  Authenticator
	Bus   event.Bus
	Store Store
	Log   *slog.Logger
	// Token extracts the bearer token of a request (header or query).
	Token func(r *http.Request) string
	// WriteError writes an error in the API's shape before the upgrade.
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
	// PingInterval keeps idle connections alive through proxies; a client
	// that does not answer a ping within writeTimeout is disconnected.
	PingInterval time.Duration
	// Presence is told when a person's connection opens and closes (nil:
	// no one is). Its methods must not block.
	Presence interface {
		Connected(identity.UserID)
		Disconnected(identity.UserID)
	}
	// OriginPatterns are the extra origins browsers may connect from
	// (path.Match patterns, matched against the origin's host, or against
	// scheme://host when the pattern has "://"). The request's own host is
	// always allowed; a request without Origin (not a browser) is too.
	OriginPatterns []string

	initOnce sync.Once
	// ctx is the handler's lifetime: replays read the store with it, and
	// Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc
	log    *slog.Logger
	// wg counts the goroutines of connections and the pinger.
	wg sync.WaitGroup
	// lags counts queue overflows (each costs a replay).
	lags atomic.Int64

	mu     sync.Mutex
	closed bool
	// slots is the ping wheel and the set of open connections: each
	// connection sits in one slot's list, and each tick of the pinger pings
	// one slot, so every connection is pinged once per PingInterval.
	slots   [pingSlots]*conn
	pos     int // the slot the next tick pings
	n       int // connections in the wheel
	ticking bool
}

const (
	replayBatch  = 500
	writeTimeout = 10 * time.Second
	// closeTimeout bounds a closing handshake: the wait for the peer's
	// close frame, and a write stuck behind a full socket buffer.
	closeTimeout = 5 * time.Second
	// queueLimit is how many events a connection holds while its writer is
	// busy; past it the connection replays from the store instead. The
	// queue exists only while events wait, so an idle connection holds none.
	queueLimit = 64
	// maxClientMessage caps what a client may send in one data message
	// (clients send nothing on this socket); more ends the connection.
	maxClientMessage = 4 << 10
	pingSlots        = 16
)

func (h *Handler) init() {
	h.initOnce.Do(func() {
		h.ctx, h.cancel = context.WithCancel(context.Background())
		h.log = h.Log
		if h.log == nil {
			h.log = slog.New(slog.DiscardHandler)
		}
	})
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.init()
	u, err := h.Auth.Authenticate(r.Context(), h.Token(r))
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	since := int64(-1)
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			h.WriteError(w, r, errcode.New(errcode.BadRequest, "since must be a non-negative integer seq."))
			return
		}
		since = n
	}
	if h.isClosed() {
		writeError(w, http.StatusServiceUnavailable, codeServiceNotAvailable, "The server is shutting down; connect again in a moment.")
		return
	}
	// Subscribe before reading the store: an event committed in between is
	// then either in the replay or in the queue (or both; seq dedups). The
	// connection starts lagged, so its first writer replays, and writing,
	// so no writer starts before the upgrade.
	c := &conn{h: h, uid: u.ID, lagged: true, writing: true, presence: r.URL.Query().Get("presence") == "true"}
	c.sub = h.Bus.Subscribe(u.ID, c)
	c.last = since
	if c.last < 0 {
		if c.last, err = h.Store.LastSeq(r.Context(), u.ID); err != nil {
			c.sub.Close()
			h.WriteError(w, r, err)
			return
		}
	}
	if status, code, msg := checkRequest(w, r, h.OriginPatterns); status != 0 {
		c.sub.Close()
		writeError(w, status, code, msg)
		return
	}
	nc, rw, _, err := ws.HTTPUpgrader{Timeout: writeTimeout}.Upgrade(r, w)
	if err != nil {
		// Upgrade has answered the client (when it could hijack).
		c.sub.Close()
		if nc != nil {
			_ = nc.Close() // the handshake failed; nothing more to say
		}
		return
	}
	c.nc, c.in.nc = nc, nc
	// Bytes the client sent after the request (a first frame) sit in the
	// hijacked reader; keep them, and let the 4 KiB buffers go.
	if n := rw.Reader.Buffered(); n > 0 {
		b, _ := rw.Reader.Peek(n) // n bytes are buffered: Peek cannot fail
		c.in.pre = bytes.Clone(b)
	}
	if !h.register(c) {
		c.sub.Close()
		c.end(ws.StatusGoingAway, "server shutting down", false)
		return
	}
	if h.Presence != nil {
		h.Presence.Connected(c.uid)
	}
	// Returning frees net/http's goroutine; the reader and the first writer
	// (the replay) carry the connection from here.
	go c.read()
	go c.write()
}

// codeServiceNotAvailable is Graph's code for a 503 (while the server
// shuts down).
const codeServiceNotAvailable = errcode.ServiceNotAvailable

// writeError answers a refused handshake in the API's error shape
// (API.md: every error is {"error":{"code","message"}}) with a status the
// API's error writer has no code for (426, 503).
func writeError(w http.ResponseWriter, status int, code errcode.Code, msg string) {
	type body struct {
		Code    errcode.Code `json:"code"`
		Message string       `json:"message"`
	}
	b, err := json.Marshal(struct {
		Error body `json:"error"`
	}{body{code, msg}})
	if err != nil {
		b = []byte(`{"error":{"code":"internalServerError","message":"encode error"}}`) // unreachable: two strings
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b) // a failed write means the client left
}

// checkRequest refuses, before the hijack, what would fail the handshake,
// so that the answer is in the API's error shape (ws.HTTPUpgrader answers
// in plain text after the hijack): a request that is not a WebSocket
// upgrade (426, as coder/websocket's Accept answered), a missing or bad
// Sec-WebSocket-Key or Sec-WebSocket-Version (400, or 426 naming the
// version spoken, RFC 6455 docs/rules.md §4.2.2), and a browser's request from an origin
// that is neither the request's host nor in patterns (403).
func checkRequest(w http.ResponseWriter, r *http.Request, patterns []string) (int, errcode.Code, string) {
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		return http.StatusUpgradeRequired, errcode.BadRequest, "This endpoint speaks WebSocket only: send an upgrade request (Connection: Upgrade, Upgrade: websocket)."
	}
	if r.Method != http.MethodGet || r.ProtoMajor != 1 || r.ProtoMinor < 1 {
		return http.StatusBadRequest, errcode.BadRequest, "A WebSocket upgrade is a GET over HTTP/1.1."
	}
	switch v := r.Header.Get("Sec-WebSocket-Version"); v {
	case "13":
	case "":
		return http.StatusBadRequest, errcode.BadRequest, "The upgrade has no Sec-WebSocket-Version header."
	default:
		w.Header().Set("Sec-WebSocket-Version", "13")
		return http.StatusUpgradeRequired, errcode.BadRequest, "Only WebSocket version 13 is spoken here."
	}
	if k, err := base64.StdEncoding.DecodeString(r.Header.Get("Sec-WebSocket-Key")); err != nil || len(k) != 16 {
		return http.StatusBadRequest, errcode.BadRequest, "The upgrade's Sec-WebSocket-Key is not 16 bytes in base64."
	}
	if err := checkOrigin(r, patterns); err != "" {
		return http.StatusForbidden, errcode.Forbidden, err
	}
	return 0, "", ""
}

// checkOrigin is coder/websocket's authenticateOrigin: no Origin, the
// request's own host, or a matching pattern is allowed.
func checkOrigin(r *http.Request, patterns []string) string {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	u, err := url.Parse(origin)
	if err != nil {
		return "failed to parse Origin header " + strconv.Quote(origin)
	}
	if strings.EqualFold(r.Host, u.Host) {
		return ""
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		ok, err := path.Match(strings.ToLower(p), strings.ToLower(target))
		if err != nil {
			return http.StatusText(http.StatusForbidden) // a bad pattern allows nothing
		}
		if ok {
			return ""
		}
	}
	if u.Host == "" {
		return "request Origin " + strconv.Quote(origin) + " is not a valid URL with a host"
	}
	return "request Origin " + strconv.Quote(u.Host) + " is not authorized for Host " + strconv.Quote(r.Host)
}

func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h[key] {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// register adds c to the wheel and counts its reader and first writer;
// false when the handler is closed.
func (h *Handler) register(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(2)
	// The slot the last tick pinged comes round again in a full interval.
	c.slot = (h.pos + pingSlots - 1) % pingSlots
	c.next = h.slots[c.slot]
	if c.next != nil {
		c.next.prev = c
	}
	h.slots[c.slot] = c
	h.n++
	if h.PingInterval > 0 && !h.ticking {
		h.ticking = true
		h.wg.Add(1)
		go h.pinger()
	}
	return true
}

func (h *Handler) unregister(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.prev != nil {
		c.prev.next = c.next
	} else if h.slots[c.slot] == c {
		h.slots[c.slot] = c.next
	} else {
		return // not in the wheel
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next = nil, nil
	h.n--
}

// pinger runs while connections are open: every PingInterval/pingSlots it
// pings one slot's connections. It ends when the wheel is empty (register
// starts it again) or the handler closes.
func (h *Handler) pinger() {
	defer h.wg.Done()
	t := time.NewTicker(max(h.PingInterval/pingSlots, time.Millisecond))
	defer t.Stop()
	var due []*conn
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		if h.n == 0 {
			h.ticking = false
			h.mu.Unlock()
			return
		}
		for c := h.slots[h.pos]; c != nil; c = c.next {
			due = append(due, c)
		}
		h.pos = (h.pos + 1) % pingSlots
		h.mu.Unlock()
		for i, c := range due {
			c.ping()
			due[i] = nil
		}
		due = due[:0]
	}
}

func (h *Handler) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// Connections returns the number of open connections, for metrics.
func (h *Handler) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// Close ends every connection with 1001 (going away), waits for the clients'
// close frames (at most closeTimeout) and for every goroutine of the
// handler, and refuses upgrades from then on. It is idempotent.
func (h *Handler) Close() error {
	h.init()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.wg.Wait()
		return nil
	}
	h.closed = true
	var all []*conn
	for _, c := range h.slots {
		for ; c != nil; c = c.next {
			all = append(all, c)
		}
	}
	h.mu.Unlock()
	h.cancel()
	// Two passes: every connection's deadline is set before any close
	// frame is written, so connections stuck on a full socket take
	// closeTimeout together, not one after another.
	closing := all[:0]
	for _, c := range all {
		if c.stop() {
			closing = append(closing, c)
		}
	}
	for _, c := range closing {
		c.sendClose(ws.StatusGoingAway, "server shutting down")
	}
	h.wg.Wait()
	return nil
}
