package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/parleychat/parley/internal/app"
	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
)

// Client posts Activities to bots. Each bot has its own bounded queue and
// worker: a slow or dead bot fills its own queue (further activities to it
// are dropped and logged), never another bot's, and no lock is held while
// a request to a bot is in flight.
type Client struct {
	Keys *Keys
	// Base is Parley's public base URL (the issuer and serviceUrl).
	Base func() string
	// Chats finds the chat of a chat install.
	Chats interface {
		FindChatAny(ctx context.Context, id chat.ID) (chat.Chat, []chat.Member, error)
	}
	HTTP *http.Client
	Log  *slog.Logger
	Now  func() time.Time
	// Timeout bounds one attempt; Attempts the tries of a queued activity
	// (a 5xx or a network error is retried with backoff); QueueSize the
	// activities waiting per bot.
	Timeout   time.Duration
	Attempts  int
	QueueSize int

	mu      sync.Mutex
	workers map[string]*worker
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type job struct {
	endpoint, botID string
	act             Activity
	// reply, when set, gets the answer of a synchronous call (one attempt).
	reply chan result
}

type result struct {
	status int
	body   []byte
	err    error
}

type worker struct{ jobs chan job }

// Start starts the client; Close stops its workers.
func (c *Client) Start() {
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.workers = map[string]*worker{}
	if c.HTTP == nil {
		c.HTTP = &http.Client{}
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Attempts == 0 {
		c.Attempts = 3
	}
	if c.QueueSize == 0 {
		c.QueueSize = 100
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Close stops the workers; queued activities are dropped.
func (c *Client) Close() {
	if c.cancel == nil {
		return
	}
	c.cancel()
	c.wg.Wait()
}

func (c *Client) enqueue(j job) bool {
	c.mu.Lock()
	w := c.workers[j.botID]
	if w == nil {
		w = &worker{jobs: make(chan job, c.QueueSize)}
		c.workers[j.botID] = w
		c.wg.Add(1)
		go c.run(w)
	}
	c.mu.Unlock()
	select {
	case w.jobs <- j:
		return true
	default:
		c.Log.Warn("bot queue full: activity dropped", "bot", j.botID, "type", j.act.Type)
		return false
	}
}

func (c *Client) run(w *worker) {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case j := <-w.jobs:
			if j.reply != nil {
				status, body, err := c.post(c.ctx, j)
				j.reply <- result{status, body, err}
				continue
			}
			c.deliver(j)
		}
	}
}

// deliver posts a queued activity, retrying a 5xx or a network error.
func (c *Client) deliver(j job) {
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		status, _, err := c.post(c.ctx, j)
		if err == nil && status < 500 {
			if status >= 300 {
				c.Log.Warn("bot refused an activity", "bot", j.botID, "type", j.act.Type, "status", status)
			}
			return
		}
		if attempt >= c.Attempts || c.ctx.Err() != nil {
			c.Log.Warn("bot unreachable: activity dropped", "bot", j.botID, "type", j.act.Type, "status", status, "err", err)
			return
		}
		select {
		case <-c.ctx.Done():
			return
		case <-time.After(wait):
		}
		wait *= 4
	}
}

// post sends one activity to a bot's endpoint with a freshly signed token.
func (c *Client) post(ctx context.Context, j job) (int, []byte, error) {
	tok, err := c.Keys.ForBot(c.Base(), j.botID)
	if err != nil {
		return 0, nil, err
	}
	body, err := json.Marshal(j.act)
	if err != nil {
		return 0, nil, fmt.Errorf("encode activity: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("build request to bot: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("post to bot: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read bot answer: %w", err)
	}
	return resp.StatusCode, b, nil
}

var _ app.Notifier = (*Client)(nil)

// Installed sends conversationUpdate (membersAdded: the bot) to a bot
// added to a chat.
func (c *Client) Installed(ctx context.Context, ev app.InstallEvent) { c.installEvent(ctx, ev, true) }

// Removed sends conversationUpdate (membersRemoved: the bot).
func (c *Client) Removed(ctx context.Context, ev app.InstallEvent) { c.installEvent(ctx, ev, false) }

func (c *Client) installEvent(ctx context.Context, ev app.InstallEvent, added bool) {
	if ev.Install.Target.Kind != app.InChat {
		return
	}
	ch, _, err := c.Chats.FindChatAny(ctx, chat.ID(ev.Install.Target.ID))
	if err != nil {
		return
	}
	c.enqueue(job{endpoint: ev.Bot.Endpoint, botID: ev.Bot.ID, act: installActivity(c.Base(), &ev, &ch, added, c.Now())})
}

// Message queues a message activity (a person's message, an Action.Submit).
func (c *Client) Message(_ context.Context, ev app.MessageEvent) {
	c.enqueue(job{endpoint: ev.Bot.Endpoint, botID: ev.Bot.ID, act: messageActivity(c.Base(), &ev, c.Now())})
}

// Invoke sends an invoke activity through the bot's queue and waits for the
// bot's answer. Errors: a bot that does not answer in time or is busy.
func (c *Client) Invoke(ctx context.Context, ev app.MessageEvent) (app.InvokeResponse, error) {
	reply := make(chan result, 1)
	if !c.enqueue(job{endpoint: ev.Bot.Endpoint, botID: ev.Bot.ID, act: messageActivity(c.Base(), &ev, c.Now()), reply: reply}) {
		return app.InvokeResponse{}, errcode.New(errcode.RateLimited, "The bot is busy; try again.")
	}
	var r result
	select {
	case r = <-reply:
	case <-ctx.Done():
		return app.InvokeResponse{}, ctx.Err()
	}
	if r.err != nil {
		if errors.Is(r.err, context.DeadlineExceeded) {
			return app.InvokeResponse{}, errcode.New(errcode.BadGateway, "The bot did not answer in time.")
		}
		return app.InvokeResponse{}, errcode.New(errcode.BadGateway, "The bot could not be reached.")
	}
	out := app.InvokeResponse{Status: r.status, Body: r.body}
	var ir struct {
		StatusCode int             `json:"statusCode"`
		Type       string          `json:"type"`
		Value      json.RawMessage `json:"value"`
	}
	if json.Unmarshal(r.body, &ir) == nil {
		if ir.StatusCode != 0 && r.status < 300 {
			out.Status = ir.StatusCode
		}
		out.Type = ir.Type
		if len(ir.Value) > 0 && ir.Value[0] == '{' {
			out.Value = ir.Value
		}
	}
	return out, nil
}
