package realtime_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/parleychat/parley/internal/auth"
	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/realtime"
	"github.com/parleychat/parley/internal/store"
)

// wait is how long a test waits for something that should happen at once.
const wait = 10 * time.Second

// env is a realtime.Handler served on 127.0.0.1 over a real SQLite store,
// real tokens and the in-process bus, with one user.
type env struct {
	db    *store.DB
	bus   *event.Local
	h     *realtime.Handler
	srv   *httptest.Server
	user  identity.UserID
	token string
	now   time.Time
}

func mustEnv(tb testing.TB, change func(h *realtime.Handler)) *env {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Dialect: store.SQLite, Path: filepath.Join(tb.TempDir(), "parley.db")})
	if err != nil {
		tb.Fatalf("store.Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	now := time.Now().UTC()
	t := identity.Tenant{ID: identity.NewTenantID(), DisplayName: "Contoso", Domains: []string{"contoso.test"}, CreatedAt: now}
	u := identity.User{ID: identity.NewUserID(), TenantID: t.ID, Kind: identity.Member, Role: identity.RoleAdmin, DisplayName: "Ada",
		UPN: "ada@contoso.test", Mail: "ada@contoso.test", AllowChatsFromOrganizations: true, CreatedAt: now}
	if err := db.CreateTenant(ctx, t, u, "hash"); err != nil {
		tb.Fatalf("CreateTenant: %v", err)
	}
	tok, hash := auth.NewToken()
	if err := db.CreateToken(ctx, hash, u.ID, now.Add(time.Hour)); err != nil {
		tb.Fatalf("CreateToken: %v", err)
	}
	bus := event.NewLocal()
	h := &realtime.Handler{
		Auth: &auth.Service{Store: db, Now: time.Now, TokenTTL: time.Hour, Throttle: auth.NewThrottle(db)},
		Bus:  bus, Store: db, Log: slog.New(slog.DiscardHandler),
		Token: func(r *http.Request) string {
			if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
				return v
			}
			return r.URL.Query().Get("access_token")
		},
		WriteError: func(w http.ResponseWriter, r *http.Request, err error) {
			status := http.StatusInternalServerError
			switch errcode.Of(err) {
			case errcode.BadRequest:
				status = http.StatusBadRequest
			case errcode.Unauthenticated:
				status = http.StatusUnauthorized
			}
			http.Error(w, string(errcode.Of(err)), status)
		},
	}
	if change != nil {
		change(h)
	}
	srv := httptest.NewServer(h)
	// As internal/server does: the HTTP server shuts down, then the
	// handler closes the WebSockets (cleanups run last first).
	tb.Cleanup(func() {
		if err := h.Close(); err != nil {
			tb.Errorf("close handler: %v", err)
		}
	})
	tb.Cleanup(srv.Close)
	return &env{db: db, bus: bus, h: h, srv: srv, user: u.ID, token: tok, now: now}
}

func (e *env) url(since int64) string {
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/parley/v1/events"
	if since >= 0 {
		u += fmt.Sprintf("?since=%d", since)
	}
	return u
}

func (e *env) header() http.Header {
	return http.Header{"Authorization": {"Bearer " + e.token}}
}

// dial opens an events connection with coder/websocket, as the tests of
// internal/server and the load tool do.
func (e *env) dial(tb testing.TB, since int64) *websocket.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, e.url(since), &websocket.DialOptions{HTTPHeader: e.header()})
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	tb.Cleanup(func() { _ = c.CloseNow() }) // the test may have closed it
	e.waitConnections(tb, 1)
	return c
}

// waitConnections waits until the handler has n connections.
func (e *env) waitConnections(tb testing.TB, n int) {
	tb.Helper()
	for deadline := time.Now().Add(wait); e.h.Connections() != n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("got %d connections, want %d", e.h.Connections(), n)
		}
	}
}

// store commits n events for the user (a chat created with n drafts) and
// returns them with their seqs, as a service does before it publishes.
func (e *env) store(tb testing.TB, n int) []event.Event {
	tb.Helper()
	c := chat.Chat{ID: chat.NewID(), Type: chat.Group, Topic: "T", CreatedBy: e.user, CreatedAt: e.now, UpdatedAt: e.now}
	drafts := make([]event.Draft, n)
	for i := range drafts {
		drafts[i] = event.Draft{UserID: e.user, Type: event.ChatUpdated, ChatID: string(c.ID), Payload: []byte(fmt.Sprintf(`{"type":"chatUpdated","chatId":%q,"n":%d}`, c.ID, i))}
	}
	evs, err := e.db.CreateChat(context.Background(), c, nil, drafts, nil)
	if err != nil {
		tb.Fatalf("CreateChat: %v", err)
	}
	return evs
}

func (e *env) publish(tb testing.TB, evs []event.Event) {
	tb.Helper()
	if err := e.bus.Publish(context.Background(), evs); err != nil {
		tb.Fatalf("Publish: %v", err)
	}
}

type frame struct {
	Seq  int64  `json:"seq"`
	Type string `json:"type"`
	N    int    `json:"n"`
}

// readFrames reads n frames.
func readFrames(tb testing.TB, c *websocket.Conn, n int) []frame {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	out := make([]frame, 0, n)
	for len(out) < n {
		_, b, err := c.Read(ctx)
		if err != nil {
			tb.Fatalf("read frame %d of %d: %v", len(out)+1, n, err)
		}
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			tb.Fatalf("frame %q: %v", b, err)
		}
		out = append(out, f)
	}
	return out
}

// wantSeqs checks that frames carry seqs from..to, each once, in order.
func wantSeqs(tb testing.TB, got []frame, from, to int64) {
	tb.Helper()
	if int64(len(got)) != to-from+1 {
		tb.Fatalf("got %d frames, want %d", len(got), to-from+1)
	}
	for i, f := range got {
		if want := from + int64(i); f.Seq != want {
			tb.Fatalf("frame %d: got seq %d, want %d", i, f.Seq, want)
		}
	}
}

// readClose reads until the connection ends and returns its close status.
func readClose(tb testing.TB, c *websocket.Conn) websocket.StatusCode {
	tb.Helper()
	code, err := closeStatus(c)
	if err != nil {
		tb.Fatal(err)
	}
	return code
}

func closeStatus(c *websocket.Conn) (websocket.StatusCode, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return 0, errors.New("the connection stayed open")
			}
			return websocket.CloseStatus(err), nil
		}
	}
}

// readFrame reads one frame from the server, of at most 64 KiB.
func readFrame(r io.Reader) (ws.Header, []byte, error) {
	hd, err := ws.ReadHeader(r)
	if err != nil {
		return hd, nil, err
	}
	if hd.Length > 64<<10 {
		return hd, nil, fmt.Errorf("frame of %d bytes", hd.Length)
	}
	p := make([]byte, hd.Length)
	_, err = io.ReadFull(r, p)
	return hd, p, err
}

// noRealtimeGoroutines fails if a goroutine of the package outlives Close.
func noRealtimeGoroutines(tb testing.TB) {
	tb.Helper()
	buf := make([]byte, 1<<20)
	var stacks string
	for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "internal/realtime.(*") {
			return
		}
		if time.Now().After(deadline) {
			break
		}
	}
	tb.Fatalf("realtime goroutines left after Close:\n%s", stacks)
}

// TestS7_ReplayThenLive: since=0 replays the stored events, then published
// ones follow; a publish that skips seqs (a gap) is filled from the store;
// an ephemeral event goes out as its payload.
func TestS7_ReplayThenLive(t *testing.T) {
	e := mustEnv(t, nil)
	stored := e.store(t, 3)
	c := e.dial(t, 0)
	wantSeqs(t, readFrames(t, c, 3), 1, 3)

	evs := e.store(t, 2)
	e.publish(t, evs)
	wantSeqs(t, readFrames(t, c, 2), 4, 5)

	// Only the last of three is published: 6 and 7 come from the store.
	evs = e.store(t, 3)
	e.publish(t, evs[2:])
	wantSeqs(t, readFrames(t, c, 3), 6, 8)

	// Published again (another node, a retry): not sent twice.
	e.publish(t, append(stored, evs...))
	e.publish(t, []event.Event{{UserID: e.user, Type: event.Typing, ChatID: "c", Payload: []byte(`{"type":"typing","chatId":"c"}`)}})
	if got := readFrames(t, c, 1); got[0].Seq != 0 || got[0].Type != "typing" {
		t.Errorf("got %+v, want the typing event alone", got[0])
	}
}

// TestS7_LaggedConnectionReplays: a connection whose writer cannot keep up
// drops its queue and catches up from the store; every event arrives once,
// in order.
func TestS7_LaggedConnectionReplays(t *testing.T) {
	e := mustEnv(t, nil)
	c := e.dial(t, -1)
	n := 3 * realtime.QueueLimit
	release := realtime.HoldWrites(e.h)
	evs := e.store(t, n)
	// One publish per event, as one send per message does.
	for i := range evs {
		e.publish(t, evs[i:i+1])
	}
	// A typing event while lagged is still sent (now or never).
	e.publish(t, []event.Event{{UserID: e.user, Type: event.Typing, ChatID: "c", Payload: []byte(`{"type":"typing","chatId":"c"}`)}})
	if realtime.Lags(e.h) == 0 {
		t.Fatalf("the queue did not overflow while writes were held")
	}
	release()
	got := readFrames(t, c, n+1)
	var stored []frame
	for _, f := range got {
		if f.Seq != 0 {
			stored = append(stored, f)
		}
	}
	wantSeqs(t, stored, 1, int64(n))

	// Live delivery goes on after the catch-up.
	e.publish(t, e.store(t, 1))
	wantSeqs(t, readFrames(t, c, 1), int64(n)+1, int64(n)+1)
}

// TestS7_ClientPingGetsPong: coder/websocket's Ping returns once the pong
// arrives.
func TestS7_ClientPingGetsPong(t *testing.T) {
	e := mustEnv(t, nil)
	c := e.dial(t, -1)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Read(ctx) // Ping needs a reader to see the pong
		done <- err
	}()
	for i := range 3 {
		if err := c.Ping(ctx); err != nil {
			t.Fatalf("ping %d: %v", i, err)
		}
	}
	e.publish(t, e.store(t, 1))
	if err := <-done; err != nil {
		t.Fatalf("read after pings: %v", err)
	}
}

// TestS7_FrameSentWithTheRequest: a client that sends a frame right behind
// its upgrade request (it lands in net/http's buffer before the hijack)
// still has it read: a ping there is answered.
func TestS7_FrameSentWithTheRequest(t *testing.T) {
	e := mustEnv(t, nil)
	nc, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.SetDeadline(time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	req := "GET /parley/v1/events HTTP/1.1\r\nHost: " + e.srv.Listener.Addr().String() + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer " + e.token + "\r\n\r\n"
	ping, err := ws.CompileFrame(ws.MaskFrame(ws.NewPingFrame([]byte("early"))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write(append([]byte(req), ping...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read upgrade response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("got status %d, want 101", resp.StatusCode)
	}
	hd, p, err := readFrame(br)
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if hd.OpCode != ws.OpPong || string(p) != "early" {
		t.Fatalf("got opcode %v payload %q, want a pong with %q", hd.OpCode, p, "early")
	}
}

// TestS7_ClientDataFrames: clients send nothing on this socket; a small
// message is ignored, one over the limit ends the connection with 1009.
func TestS7_ClientDataFrames(t *testing.T) {
	e := mustEnv(t, nil)
	c := e.dial(t, -1)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"hello":"server"}`)); err != nil {
		t.Fatalf("write: %v", err)
	}
	e.publish(t, e.store(t, 1))
	wantSeqs(t, readFrames(t, c, 1), 1, 1)

	go func() {
		// The server may close while this is still being written.
		_ = c.Write(ctx, websocket.MessageBinary, make([]byte, realtime.MaxClientMessage+1))
	}()
	if got := readClose(t, c); got != websocket.StatusMessageTooBig {
		t.Errorf("got close status %d, want %d", got, websocket.StatusMessageTooBig)
	}
	e.waitConnections(t, 0)
	if n := e.bus.Connections(); n != 0 {
		t.Errorf("got %d subscriptions after the close, want 0", n)
	}
}

// TestS7_ClientClose: a client's close frame is answered with its code.
func TestS7_ClientClose(t *testing.T) {
	e := mustEnv(t, nil)
	c := e.dial(t, -1)
	// Close waits for the server's close frame and fails without it.
	if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("close: %v", err)
	}
	e.waitConnections(t, 0)
}

// TestS7_ServerPings: the server pings every PingInterval; a client that
// answers stays connected.
func TestS7_ServerPings(t *testing.T) {
	e := mustEnv(t, func(h *realtime.Handler) { h.PingInterval = 160 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	nc, _, _, err := ws.Dialer{Header: ws.HandshakeHeaderHTTP(e.header())}.Dial(ctx, e.url(-1))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer nc.Close()
	if err := nc.SetDeadline(time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		// ReadServerData answers pings and returns data only; read the
		// frames themselves to see the pings.
		hd, p, err := readFrame(nc)
		if err != nil {
			t.Fatalf("ping %d: %v", i, err)
		}
		if hd.OpCode != ws.OpPing {
			t.Fatalf("got opcode %v, want a ping", hd.OpCode)
		}
		if err := wsutil.WriteClientMessage(nc, ws.OpPong, p); err != nil {
			t.Fatalf("pong %d: %v", i, err)
		}
	}
	e.publish(t, e.store(t, 1))
	for {
		msg, op, err := wsutil.ReadServerData(nc)
		if err != nil {
			t.Fatalf("read event after pings: %v", err)
		}
		if op == ws.OpText {
			if !strings.HasPrefix(string(msg), `{"seq":1,`) {
				t.Errorf("got %s, want seq 1", msg)
			}
			break
		}
	}
}

// TestS7_RefusedBeforeUpgrade: what is refused gets an HTTP answer: a bad
// since (400), a request that is no upgrade (426), a bad handshake (400, or
// 426 for a version not spoken), a browser on another origin (403). The
// handler's own refusals are in the API's error shape (the others come from
// WriteError, plain text in this test).
func TestS7_RefusedBeforeUpgrade(t *testing.T) {
	e := mustEnv(t, func(h *realtime.Handler) { h.OriginPatterns = []string{"*.contoso.test", "https://app.fabrikam.test"} })
	host := e.srv.Listener.Addr().String()
	upgrade := map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
	for _, tc := range []struct {
		name   string
		query  string
		header map[string]string
		want   int
		shape  bool // answered by the handler itself, in the API's error shape
	}{
		{name: "no token", header: map[string]string{"Authorization": ""}, want: http.StatusUnauthorized},
		{name: "bad since", query: "?since=-4", want: http.StatusBadRequest},
		{name: "not an upgrade", header: map[string]string{"Upgrade": "", "Connection": ""}, want: http.StatusUpgradeRequired, shape: true},
		{name: "version not spoken", header: map[string]string{"Sec-WebSocket-Version": "8"}, want: http.StatusUpgradeRequired, shape: true},
		{name: "no version", header: map[string]string{"Sec-WebSocket-Version": ""}, want: http.StatusBadRequest, shape: true},
		{name: "key not 16 bytes", header: map[string]string{"Sec-WebSocket-Key": "c2hvcnQ="}, want: http.StatusBadRequest, shape: true},
		{name: "no key", header: map[string]string{"Sec-WebSocket-Key": ""}, want: http.StatusBadRequest, shape: true},
		{name: "other origin", header: map[string]string{"Origin": "https://evil.test"}, want: http.StatusForbidden, shape: true},
		{name: "other origin, same host name", header: map[string]string{"Origin": "http://" + strings.Split(host, ":")[0] + ":1"}, want: http.StatusForbidden, shape: true},
		{name: "pattern needs the scheme", header: map[string]string{"Origin": "http://app.fabrikam.test"}, want: http.StatusForbidden, shape: true},
		{name: "bad origin", header: map[string]string{"Origin": "::"}, want: http.StatusForbidden, shape: true},
		{name: "same origin", header: map[string]string{"Origin": "http://" + host}, want: http.StatusSwitchingProtocols},
		{name: "origin by host pattern", header: map[string]string{"Origin": "https://chat.contoso.test"}, want: http.StatusSwitchingProtocols},
		{name: "origin by scheme pattern", header: map[string]string{"Origin": "https://app.fabrikam.test"}, want: http.StatusSwitchingProtocols},
		{name: "no origin (not a browser)", want: http.StatusSwitchingProtocols},
		{name: "token in the query", query: "?access_token=" + url.QueryEscape(e.token), header: map[string]string{"Authorization": ""}, want: http.StatusSwitchingProtocols},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", e.srv.URL+"/parley/v1/events"+tc.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = e.header()
			for k, v := range upgrade {
				req.Header.Set(k, v)
			}
			for k, v := range tc.header {
				if v == "" {
					req.Header.Del(k)
				} else {
					req.Header.Set(k, v)
				}
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b []byte
			if resp.StatusCode != http.StatusSwitchingProtocols {
				b, _ = io.ReadAll(resp.Body) // a 101's body is the WebSocket: it does not end
			}
			if resp.StatusCode != tc.want {
				t.Errorf("got %d %s, want %d", resp.StatusCode, b, tc.want)
			}
			var shape struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if tc.shape && (json.Unmarshal(b, &shape) != nil || shape.Error.Code == "" || shape.Error.Message == "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json")) {
				t.Errorf("body %s (%s), want the API's error shape", b, resp.Header.Get("Content-Type"))
			}
		})
	}
	e.waitConnections(t, 0) // the accepted ones went with their response bodies
}

// TestS7_CloseEndsConnections: Close (the server's shutdown) ends every
// connection with 1001, leaves no goroutine behind and refuses upgrades.
func TestS7_CloseEndsConnections(t *testing.T) {
	e := mustEnv(t, func(h *realtime.Handler) { h.PingInterval = time.Hour })
	conns := make([]*websocket.Conn, 3)
	for i := range conns {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		c, _, err := websocket.Dial(ctx, e.url(-1), &websocket.DialOptions{HTTPHeader: e.header()})
		cancel()
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.CloseNow()
		conns[i] = c
	}
	e.waitConnections(t, len(conns))
	type result struct {
		code websocket.StatusCode
		err  error
	}
	results := make(chan result, len(conns))
	for _, c := range conns {
		go func() {
			code, err := closeStatus(c)
			results <- result{code, err}
		}()
	}
	if err := e.h.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range conns {
		if r := <-results; r.err != nil || r.code != websocket.StatusGoingAway {
			t.Errorf("got close status %d (%v), want %d", r.code, r.err, websocket.StatusGoingAway)
		}
	}
	if n := e.bus.Connections(); n != 0 {
		t.Errorf("got %d subscriptions after Close, want 0", n)
	}
	noRealtimeGoroutines(t)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, e.url(-1), &websocket.DialOptions{HTTPHeader: e.header()})
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Close: got %v (%v), want 503", resp, err)
	}
}

// TestS7_SlowReaderSlowsNobodyElse: a client that stops reading fills its
// socket; the publisher must never wait for that one: every publish
// returns, the other connection gets every event at once, and the slow
// one, once it reads again, gets them all in order (a replay after its
// queue overflowed).
func TestS7_SlowReaderSlowsNobodyElse(t *testing.T) {
	e := mustEnv(t, nil)
	slow := e.dial(t, -1)
	fast, _, err := websocket.Dial(context.Background(), e.url(-1), &websocket.DialOptions{HTTPHeader: e.header()})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer fast.CloseNow() //nolint:errcheck // the test is over
	fast.SetReadLimit(1 << 20)
	slow.SetReadLimit(1 << 20)
	e.waitConnections(t, 2)

	// About 18 MB: more than the socket buffers of the slow connection
	// hold, so its writes are cut and then refused.
	const n, size = 1200, 15 << 10
	c := chat.Chat{ID: chat.NewID(), Type: chat.Group, Topic: "T", CreatedBy: e.user, CreatedAt: e.now, UpdatedAt: e.now}
	pad := strings.Repeat("x", size)
	drafts := make([]event.Draft, n)
	for i := range drafts {
		drafts[i] = event.Draft{UserID: e.user, Type: event.ChatUpdated, ChatID: string(c.ID),
			Payload: []byte(fmt.Sprintf(`{"type":"chatUpdated","chatId":%q,"n":%d,"pad":%q}`, c.ID, i, pad))}
	}
	evs, err := e.db.CreateChat(context.Background(), c, nil, drafts, nil)
	if err != nil {
		t.Fatalf("CreateChat: %v", err)
	}

	got := make(chan []frame, 1)
	go func() { got <- readFramesOrNil(fast, n) }()
	for i := range evs {
		e.publish(t, evs[i:i+1]) // one send's publish each
	}
	frames := <-got
	if frames == nil {
		t.Fatal("the fast connection did not get every event")
	}
	wantSeqs(t, frames, evs[0].Seq, evs[n-1].Seq)
	t.Logf("queue overflows: %d", realtime.Lags(e.h))
	wantSeqs(t, readFrames(t, slow, n), evs[0].Seq, evs[n-1].Seq)

	// Both go on live.
	next := e.store(t, 1)
	e.publish(t, next)
	wantSeqs(t, readFrames(t, fast, 1), next[0].Seq, next[0].Seq)
	wantSeqs(t, readFrames(t, slow, 1), next[0].Seq, next[0].Seq)
}

// readFramesOrNil reads n frames, or returns nil (for a goroutine that
// cannot fail the test).
func readFramesOrNil(c *websocket.Conn, n int) []frame {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	out := make([]frame, 0, n)
	for len(out) < n {
		_, b, err := c.Read(ctx)
		if err != nil {
			return nil
		}
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			return nil
		}
		out = append(out, f)
	}
	return out
}
