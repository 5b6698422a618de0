package bot_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleychat/parley/internal/app"
	"github.com/parleychat/parley/internal/bot"
	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// memKeys keeps the signing key in memory, first writer wins.
type memKeys struct {
	mu sync.Mutex
	k  string
}

func (m *memKeys) BotSigningKey(_ context.Context, candidate string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.k == "" {
		m.k = candidate
	}
	return m.k, nil
}

const base = "https://chat.example"

func TestKeys_SharedAndChecked(t *testing.T) {
	ks := &memKeys{}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a, err := bot.LoadKeys(t.Context(), ks, clock)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bot.LoadKeys(t.Context(), ks, clock)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.ForChannel(base, "bot-1", "https://chat.example/parley/v1/bots/.default")
	if err != nil {
		t.Fatal(err)
	}
	// Another node (the same stored key) accepts it.
	if id, err := b.CheckChannelToken(base, tok); err != nil || id != "bot-1" {
		t.Fatalf("check on another node: got %q %v, want bot-1", id, err)
	}
	if _, err := b.CheckChannelToken("https://other.example", tok); err == nil {
		t.Error("a token of another issuer was accepted")
	}
	if _, err := b.CheckChannelToken(base, tok[:len(tok)-4]+"AAAA"); err == nil {
		t.Error("a token with a changed signature was accepted")
	}
	forged := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": bot.Issuer(base), "appid": "bot-1", "exp": now.Add(time.Hour).Unix()})
	fs, _ := forged.SignedString([]byte("guess"))
	if _, err := b.CheckChannelToken(base, fs); err == nil {
		t.Error("an HS256 token was accepted")
	}
	// Expired: an hour and a bit later.
	late, err := bot.LoadKeys(t.Context(), ks, func() time.Time { return now.Add(bot.BotTokenTTL + time.Minute) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := late.CheckChannelToken(base, tok); err == nil {
		t.Error("an expired token was accepted")
	}
	// Tokens to bots carry what the SDK checks.
	to, err := a.ForBot(base, "bot-1")
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(to, claims); err != nil {
		t.Fatal(err)
	}
	if claims["iss"] != bot.Issuer(base) || claims["aud"] != "bot-1" || claims["serviceurl"] != bot.ServiceURL(base) {
		t.Errorf("token to a bot: claims %v", claims)
	}
	if keys := a.JWKS()["keys"].([]any); len(keys) != 1 {
		t.Errorf("JWKS: %v", keys)
	}
}

// registry finds bots by id, as the store's registrations do.
type registry map[string]app.Bot

func (r registry) FindBot(_ context.Context, id string) (app.Bot, error) {
	if b, ok := r[id]; ok {
		return b, nil
	}
	return app.Bot{}, errcode.New(errcode.NotFound, "No bot %s.", id)
}

// TestClient_SlowBotSlowsNobodyElse: a bot that never answers has its own
// queue (in the store, both dialects); another bot's activities arrive at
// once, and an invoke to the slow one times out without holding anything.
func TestClient_SlowBotSlowsNobodyElse(t *testing.T) {
	storetest.Each(t, testSlowBot)
}

func testSlowBot(t *testing.T, db *store.DB) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	var got atomic.Int32
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			t.Error("a request to a bot without a token")
		}
		got.Add(1)
	}))
	defer fast.Close()

	keys, err := bot.LoadKeys(t.Context(), &memKeys{}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	slowBot, fastBot := app.Bot{ID: "slow", Endpoint: slow.URL}, app.Bot{ID: "fast", Endpoint: fast.URL}
	c := &bot.Client{Keys: keys, Base: func() string { return base }, Queue: db, Bots: registry{"slow": slowBot, "fast": fastBot}, Now: time.Now,
		Timeout: 300 * time.Millisecond, Attempts: 1}
	c.Start()
	defer c.Close()
	ev := func(b app.Bot) app.MessageEvent {
		return app.MessageEvent{Bot: b, Chat: chat.Chat{ID: "19:x@thread.v2", Type: chat.Group}, Who: app.HostUser, Message: chat.Message{ID: 1, Content: "hi"}}
	}
	for range 10 { // queued behind each other, never in front of another bot's
		c.Message(t.Context(), ev(slowBot))
	}
	start := time.Now()
	for range 3 {
		c.Message(t.Context(), ev(fastBot))
	}
	for got.Load() < 3 {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("the fast bot got %d of 3 activities while the slow one hung", got.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	inv := ev(slowBot)
	inv.Value, inv.Name = []byte(`{}`), "adaptiveCard/action"
	if _, err := c.Invoke(ctx, inv); err == nil {
		t.Error("an invoke to a bot that does not answer succeeded")
	}
}
