package server_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// freePort returns a loopback port nobody listens on now, so that a server
// and its restart have one public URL (the serviceUrl queued activities
// carry and the bot's tokens name).
func freePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// received waits (generously: retries back off by seconds) until the bot
// has recorded an activity whose text has each of texts, and returns how
// many times it recorded each.
func (f *fakeBot) received(texts ...string) map[string]int {
	f.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		counts := map[string]int{}
		f.mu.Lock()
		for _, a := range f.acts {
			for _, txt := range texts {
				if strings.Contains(mustString(a["text"]), txt) {
					counts[txt]++
				}
			}
		}
		f.mu.Unlock()
		if len(counts) == len(texts) {
			return counts
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("the bot received %v of %v (%d refused while down)", counts, texts, f.refused.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// count waits (as received does) until at least n recorded activities
// match, and returns how many do.
func (f *fakeBot) count(match func(a map[string]any) bool, n int) int {
	f.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := 0
		f.mu.Lock()
		for _, a := range f.acts {
			if match(a) {
				got++
			}
		}
		f.mu.Unlock()
		if got >= n {
			return got
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("the bot recorded %d matching activities, want %d", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBots_QueueSurvivesRestart: activities queued for a bot that is down
// are stored, not held in memory: the server stops (gracefully), the bot
// comes back, the server starts again on the same store, and the bot gets
// every queued activity, each once; a conversationUpdate among them. Both
// stores.
func TestBots_QueueSurvivesRestart(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		cfg := parleytest.Config(t, store)
		cfg.HTTP.Listen = "127.0.0.1:" + freePort(t)
		s := parleytest.Start(t, cfg)
		contoso := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(contoso, "alice", false)
		bob := s.User(contoso, "bob", false)

		fb := &fakeBot{t: t, base: s.URL()}
		fb.down.Store(true)
		srv := httptest.NewServer(fb)
		defer srv.Close()
		botID, _ := registerBot(t, contoso.Admin, "Polls", srv.URL+"/api/messages")
		fb.botID = botID
		appID := uploadApp(t, contoso.Admin, pollsManifestID, botID)
		chatID := alice.OneOnOne(bob.UserID)
		alice.Must(201, "POST", "/v1.0/chats/"+chatID+"/installedApps", bindApp(appID))
		texts := []string{"first while down", "second while down", "third while down"}
		for _, txt := range texts {
			alice.Send(chatID, txt)
		}
		for fb.refused.Load() == 0 { // the worker tried, and was refused
			time.Sleep(10 * time.Millisecond)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

		fb.down.Store(false)
		s = parleytest.Start(t, cfg)
		fb.received(texts...)
		fb.count(func(a map[string]any) bool { return a["type"] == "conversationUpdate" }, 1)
		// One more after the restart: it comes after the queued ones, and
		// by then nothing queued has come twice.
		alice = s.SignIn("alice@contoso.com", parleytest.Password)
		alice.Send(chatID, "after the restart")
		counts := fb.received(append(texts, "after the restart")...)
		for txt, n := range counts {
			if n != 1 {
				t.Errorf("the bot got %q %d times, want once", txt, n)
			}
		}
		ups := 0
		fb.mu.Lock()
		for _, a := range fb.acts {
			if a["type"] == "conversationUpdate" {
				ups++
			}
		}
		fb.mu.Unlock()
		if ups != 1 || fb.badJWT != 0 {
			t.Errorf("%d conversationUpdates (want 1), %d bad tokens", ups, fb.badJWT)
		}
	})
}

// hangingBot never answers its first activity (the call is cut when the
// server dies) and records the rest as fakeBot does.
type hangingBot struct {
	*fakeBot
	hung atomic.Bool
	in   chan struct{}
}

func (h *hangingBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.hung.CompareAndSwap(false, true) {
		// Read the body, so that the server notices the caller is gone.
		_, _ = io.Copy(io.Discard, r.Body)
		close(h.in)
		<-r.Context().Done()
		return
	}
	h.fakeBot.ServeHTTP(w, r)
}

// TestBots_QueueSurvivesCrash: the server is killed (SIGKILL) while it
// posts an activity (the conversationUpdate of an install) to a bot that has
// not answered, with messages queued behind it; started again on the same
// data, it sends the queued ones and, once the claim of the one in flight
// lapses, that one too: the bot gets each once. Both stores.
func TestBots_QueueSurvivesCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP in -short: builds the binary and kills it")
	}
	bin := MustBuildParley(t)
	parleytest.EachStore(t, func(t *testing.T, st string) {
		dir := t.TempDir()
		port := freePort(t)
		args := []string{"--listen", "127.0.0.1:" + port}
		if st == "postgres" {
			args = append(args, "--store", "postgres", "--postgres-url", parleytest.PostgresSchema(t))
		}
		child := MustStartCrashChild(t, bin, dir, args...)
		op := child.client(t, crashOperatorToken)
		op.Must(201, "POST", "/parley/v1/operator/tenants", map[string]any{"displayName": "Contoso", "domains": []string{"contoso.com"},
			"admin": map[string]string{"displayName": "Admin", "userPrincipalName": "admin@contoso.com", "password": parleytest.Password}})
		admin := child.signIn(t, "admin@contoso.com", parleytest.Password)
		for _, n := range []string{"alice", "bob"} {
			admin.Must(201, "POST", "/v1.0/users", map[string]any{"displayName": n, "userPrincipalName": n + "@contoso.com",
				"passwordProfile": map[string]string{"password": parleytest.Password}, "userType": "Member"})
		}
		alice := child.signIn(t, "alice@contoso.com", parleytest.Password)
		bob := child.signIn(t, "bob@contoso.com", parleytest.Password)

		hb := &hangingBot{fakeBot: &fakeBot{t: t, base: child.URL}, in: make(chan struct{})}
		srv := httptest.NewServer(hb)
		defer srv.Close()
		botID, _ := registerBot(t, admin, "Polls", srv.URL+"/api/messages")
		hb.botID = botID
		appID := uploadApp(t, admin, pollsManifestID, botID)
		chatID := alice.OneOnOne(bob.UserID)
		alice.Must(201, "POST", "/v1.0/chats/"+chatID+"/installedApps", bindApp(appID))
		<-hb.in // the server is posting the conversationUpdate now
		// These queue behind the call in flight.
		texts := []string{"queued before the crash", "also queued"}
		for _, txt := range texts {
			alice.Send(chatID, txt)
		}
		child.Kill(t)

		child = MustStartCrashChild(t, bin, dir, args...)
		hb.received(texts...)
		alice = child.signIn(t, "alice@contoso.com", parleytest.Password)
		alice.Send(chatID, "after the crash")
		counts := hb.received(append(texts, "after the crash")...)
		for txt, n := range counts {
			if n != 1 {
				t.Errorf("the bot got %q %d times, want once", txt, n)
			}
		}
		// The one in flight comes again once its claim lapses (about 21 s).
		if n := hb.count(func(a map[string]any) bool { return a["type"] == "conversationUpdate" }, 1); n != 1 {
			t.Errorf("the bot got the conversationUpdate cut by the crash %d times, want once", n)
		}
	})
}
