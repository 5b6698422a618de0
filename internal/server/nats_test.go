package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/parleychat/parley/internal/config"
	"github.com/parleychat/parley/internal/parleytest"
	"github.com/parleychat/parley/internal/server"
	"github.com/parleychat/parley/internal/tcpproxy"
)

// startEmbeddedNATS starts a NATS server on a free loopback port.
func startEmbeddedNATS(t *testing.T) *natsserver.Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(20 * time.Second) {
		t.Fatal("nats server did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// tcpProxy is a tcpproxy.Proxy in front of NATS: cut drops its links and
// refuses new ones until restore, so that one node loses NATS while the
// others keep it.
type tcpProxy struct{ *tcpproxy.Proxy }

func startProxy(t *testing.T, target string) tcpProxy {
	t.Helper()
	p, err := tcpproxy.Start(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() }) // only the listener's close can fail, at the end
	return tcpProxy{p}
}

func (p tcpProxy) URL() string { return "nats://" + p.Addr() }
func (p tcpProxy) cut()        { p.Cut() }
func (p tcpProxy) restore()    { p.Restore() }

// startNode starts a Parley node for cfg on the frozen clock: cached
// tokens then never go stale by themselves, so only an invalidation can
// make a node forget one.
func startNode(t *testing.T, cfg config.Config, clk *clock) *parleytest.Server {
	t.Helper()
	s := server.New(cfg, nil, io.Discard)
	s.Now = clk.Now
	if err := s.Open(context.Background()); err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
	})
	return &parleytest.Server{Server: s, TB: t}
}

// on returns c calling node s instead.
func on(s *parleytest.Server, c *parleytest.Client) *parleytest.Client {
	cp := *c
	cp.Base = s.URL()
	return &cp
}

// hasMessage reports whether evs hold the stored messageCreated of the
// message id.
func hasMessage(t *testing.T, id string) func([]parleytest.Event) bool {
	return func(evs []parleytest.Event) bool {
		for _, e := range evs {
			if e.Type == "messageCreated" && e.Seq > 0 && strings.Contains(toJSON(t, e.Raw), `"id":"`+id+`"`) {
				return true
			}
		}
		return false
	}
}

// seqsWithoutGap fails the test unless the stored events' seqs in evs
// follow each other without a gap or a repeat.
func seqsWithoutGap(t *testing.T, evs []parleytest.Event) {
	t.Helper()
	var seqs []int64
	for _, e := range evs {
		if e.Seq > 0 {
			seqs = append(seqs, e.Seq)
		}
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("seqs on B have a gap or repeat: %v", seqs)
		}
	}
}

// startTwoNodes starts nodes A and B of one cluster on the frozen clock:
// one PostgreSQL schema, NATS between them. With no NATS URL both use an
// embedded NATS server started here; with one, both use it; with two, A
// uses the first and B the second (a proxy that can cut B off).
func startTwoNodes(t *testing.T, clk *clock, natsURLs ...string) (a, b *parleytest.Server) {
	t.Helper()
	if len(natsURLs) == 0 {
		natsURLs = []string{startEmbeddedNATS(t).ClientURL()}
	}
	cfgA := parleytest.Config(t, "postgres")
	cfgA.Store.NATSURL = natsURLs[0]
	cfgB := cfgA
	cfgB.Store.DataDir = t.TempDir()
	cfgB.Store.NATSURL = natsURLs[len(natsURLs)-1]
	return startNode(t, cfgA, clk), startNode(t, cfgB, clk)
}

// nodesChat is the set-up of the tests that take NATS away from node B:
// two nodes on one PostgreSQL schema on a frozen clock, A on natsA and B
// on natsB, a 1:1 chat of alice and bob made on A, and bob's WebSocket
// (from the start of his events) on B.
type nodesChat struct {
	t     *testing.T
	alice *parleytest.Client
	chat  string
	ws    *parleytest.Conn
}

func startNodesChat(t *testing.T, natsA, natsB string) *nodesChat {
	t.Helper()
	a, b := startTwoNodes(t, &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}, natsA, natsB)
	contoso := a.CreateTenant("Contoso", "contoso.com")
	alice := a.User(contoso, "alice", false)
	bob := a.User(contoso, "bob", false)
	n := &nodesChat{t: t, alice: alice, chat: alice.OneOnOne(bob.UserID)}
	n.ws = on(b, bob).Events(-1)
	t.Cleanup(n.ws.Close)
	return n
}

// send sends text as alice on A and returns the message's id.
func (n *nodesChat) send(text string) string { return n.alice.Send(n.chat, text) }

// waitOnB waits until bob's WebSocket on B has the message id and returns
// every event it has.
func (n *nodesChat) waitOnB(what string, timeout time.Duration, id string) []parleytest.Event {
	n.t.Helper()
	return n.ws.WaitFor(what, timeout, hasMessage(n.t, id))
}

// allOnB fails the test unless evs hold every message of ids, their seqs
// without a gap or a repeat.
func (n *nodesChat) allOnB(evs []parleytest.Event, ids []string) {
	n.t.Helper()
	for _, id := range ids {
		if !hasMessage(n.t, id)(evs) {
			n.t.Fatalf("message %s never reached B", id)
		}
	}
	seqsWithoutGap(n.t, evs)
}

// eventually retries try until it reports true, failing after a generous
// deadline (the other node applies what NATS brings asynchronously).
func eventually(t *testing.T, what string, try func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	n := 1
	for ; !try(); n++ {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not so after 30s (%d tries)", what, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("%s: took %d tries", what, n)
}

// TestTwoNodesOverNATS runs two Parley nodes on one PostgreSQL schema with
// NATS between them (docs/rules.md §12): events written on one reach WebSockets on
// the other, and each node's cache changes (chat members, tokens) reach
// the other's caches, also after a NATS outage.
func TestTwoNodesOverNATS(t *testing.T) {
	parleytest.RequirePostgres(t)
	ns := startEmbeddedNATS(t)
	proxy := startProxy(t, ns.Addr().String())
	// B reaches NATS through the proxy.
	a, b := startTwoNodes(t, &clock{t: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}, ns.ClientURL(), proxy.URL())

	contoso := a.CreateTenant("Contoso", "contoso.com")
	alice := a.User(contoso, "alice", false)
	bob := a.User(contoso, "bob", false)
	carol := a.User(contoso, "carol", false)
	bobB, carolB := on(b, bob), on(b, carol)

	group := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Nodes",
		"members": []any{parleytest.Bind(bob.UserID, false), parleytest.Bind(carol.UserID, false)}}).Map(t)["id"].(string)
	sendStatus := func(c *parleytest.Client, text string) int {
		return c.Do("POST", "/v1.0/chats/"+group+"/messages", map[string]any{"body": map[string]string{"content": text}}).Status
	}

	ws := bobB.Events(-1)

	t.Run("a message sent on A reaches a WebSocket on B", func(t *testing.T) {
		id := alice.Send(group, "hello from node A")
		ws.WaitFor("message "+id+" on node B", 30*time.Second, hasMessage(t, id))
	})

	t.Run("typing on A reaches B", func(t *testing.T) {
		alice.Must(204, "POST", "/parley/v1/chats/"+group+"/typing", nil)
		ws.WaitFor("typing on node B", 30*time.Second, func(evs []parleytest.Event) bool {
			for _, e := range evs {
				if e.Type == "typing" && e.Seq == 0 && e.ChatID == group {
					return true
				}
			}
			return false
		})
	})

	t.Run("membership changes on A are seen by sends on B", func(t *testing.T) {
		if st := sendStatus(carolB, "carol on B, a member"); st != 201 {
			t.Fatalf("member's send on B: %d", st)
		}
		members := listMembers(t, alice, group)
		alice.Must(204, "DELETE", "/v1.0/chats/"+group+"/members/"+members[carol.UserID], nil)
		eventually(t, "B refuses the removed member's send", func() bool { return sendStatus(carolB, "carol on B, removed") >= 400 })
		alice.Must(201, "POST", "/v1.0/chats/"+group+"/members", parleytest.Bind(carol.UserID, false))
		eventually(t, "B takes the re-added member's send", func() bool { return sendStatus(carolB, "carol on B, back") == 201 })
	})

	t.Run("sign-out on A revokes the token on B", func(t *testing.T) {
		tok := a.SignIn("bob@contoso.com", parleytest.Password)
		tokB := on(b, tok)
		tokB.Must(200, "GET", "/v1.0/me", nil) // now cached on B
		tok.Must(204, "POST", "/parley/v1/signout", nil)
		eventually(t, "B refuses the signed-out token", func() bool { return tokB.Do("GET", "/v1.0/me", nil).Status == 401 })
	})

	t.Run("after a NATS outage B replays what it missed and forgets its caches", func(t *testing.T) {
		// B caches the chat with carol in it.
		if st := sendStatus(carolB, "carol on B before the outage"); st != 201 {
			t.Fatalf("member's send on B: %d", st)
		}
		proxy.cut()
		// What A does now never reaches B through NATS.
		id := alice.Send(group, "sent while B had no NATS")
		members := listMembers(t, alice, group)
		alice.Must(204, "DELETE", "/v1.0/chats/"+group+"/members/"+members[carol.UserID], nil)
		proxy.restore()
		// B reconnects, empties its caches, then hands bob his latest
		// stored event: the WebSocket sees a gap and replays.
		evs := ws.WaitFor("replay of "+id+" on node B", 60*time.Second, hasMessage(t, id))
		seqsWithoutGap(t, evs)
		if st := sendStatus(carolB, "carol on B after removal during the outage"); st < 400 {
			t.Fatalf("B still takes a removed member's send after reconnecting: %d", st)
		}
		// And fan-out works again.
		id = alice.Send(group, "after the outage")
		ws.WaitFor("message "+id+" on node B", 30*time.Second, hasMessage(t, id))
	})
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNATSURLChecks: --nats-url is refused with SQLite, and an unreachable
// NATS server stops the start with a clear error.
func TestNATSURLChecks(t *testing.T) {
	cfg := parleytest.Config(t, "sqlite")
	cfg.Store.NATSURL = "nats://127.0.0.1:4222"
	err := server.New(cfg, nil, io.Discard).Open(context.Background())
	if err == nil || !strings.Contains(err.Error(), "--nats-url needs --store postgres") {
		t.Fatalf("sqlite with --nats-url: %v", err)
	}

	parleytest.RequirePostgres(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "nats://" + ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	cfg = parleytest.Config(t, "postgres")
	cfg.Store.NATSURL = closed
	s := server.New(cfg, nil, io.Discard)
	err = s.Open(context.Background())
	if err == nil {
		_ = s.Close()
		t.Fatal("started without a reachable NATS server")
	}
	if !strings.Contains(err.Error(), "connect to NATS at "+closed) {
		t.Fatalf("unreachable NATS: %v", err)
	}
}
