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
	"github.com/parleychat/parley/internal/errcode"
)

// Client posts Activities to bots. Activities that need no answer go
// through a durable queue (Queue, in the store): they are committed before
// the sender goes on, so a restart or a crash of the node loses none, and
// each bot has its own worker on every node that has work for it, so a slow
// or dead bot delays only its own activities. No lock is held while a bot
// is called. Invokes, whose caller waits for the answer, are posted at once.
type Client struct {
	Keys *Keys
	// Base is Parley's public base URL (the issuer and serviceUrl).
	Base func() string
	// Queue stores queued activities; Bots finds a bot's current endpoint
	// when its activity is due (a bot deleted since gets nothing).
	Queue Queue
	Bots  interface {
		FindBot(ctx context.Context, id string) (app.Bot, error)
	}
	HTTP *http.Client
	Log  *slog.Logger
	Now  func() time.Time
	// Timeout bounds one attempt; Attempts the tries of a queued activity
	// (a 5xx or a network error is retried after Backoff(attempt)).
	Timeout  time.Duration
	Attempts int
	Backoff  func(attempt int) time.Duration
	// Poll is how often the queue is scanned for bots with work queued by
	// other nodes, or left by a node that stopped (default 5s).
	Poll time.Duration

	mu      sync.Mutex
	workers map[string]chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// Defaults of the Client's tunables.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultAttempts = 6
	DefaultPoll     = 5 * time.Second
	// batch is how many due activities of one bot a worker takes at once.
	batch = 16
	// releaseTimeout bounds handing back a claimed activity on shutdown.
	releaseTimeout = 5 * time.Second
)

// DefaultBackoff waits 1s·4^(attempt-1), at most five minutes: 1s, 4s, 16s,
// 64s, 256s between the six attempts.
func DefaultBackoff(attempt int) time.Duration {
	d := time.Second << (2 * max(attempt-1, 0))
	if attempt > 6 || d > 5*time.Minute {
		return 5 * time.Minute
	}
	return d
}

// Start starts the client: a scan of the queue at once (what a stopped node
// left) and every Poll. Close stops it.
func (c *Client) Start() {
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.workers = map[string]chan struct{}{}
	if c.HTTP == nil {
		c.HTTP = &http.Client{}
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Attempts == 0 {
		c.Attempts = DefaultAttempts
	}
	if c.Backoff == nil {
		c.Backoff = DefaultBackoff
	}
	if c.Poll == 0 {
		c.Poll = DefaultPoll
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.wg.Add(1)
	go c.scan()
}

// Close stops the workers and waits for them. An activity being posted is
// handed back to the queue (due at once) so the next start sends it; the
// others wait in the store.
func (c *Client) Close() {
	if c.cancel == nil {
		return
	}
	// Under mu, so that no kick starts a worker once Wait may be waiting.
	c.mu.Lock()
	c.cancel()
	c.mu.Unlock()
	c.wg.Wait()
}

// scan wakes a worker for every bot with queued activities, now and every
// Poll.
func (c *Client) scan() {
	defer c.wg.Done()
	t := time.NewTicker(c.Poll)
	defer t.Stop()
	for {
		bots, err := c.Queue.FindQueuedBots(c.ctx, 1000)
		if err != nil && c.ctx.Err() == nil {
			c.Log.Error("bot queue: find bots with queued activities", "err", err)
		}
		for _, id := range bots {
			c.kick(id)
		}
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// kick wakes a bot's worker, starting it if it is not running.
func (c *Client) kick(botID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		return
	}
	w := c.workers[botID]
	if w == nil {
		w = make(chan struct{}, 1)
		c.workers[botID] = w
		c.wg.Add(1)
		go c.run(botID, w)
	}
	select {
	case w <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// run is a bot's worker: it delivers the bot's due activities in queueing
// order, sleeps until the next one is due or it is kicked, and ends when
// the bot has nothing queued.
func (c *Client) run(botID string, kick chan struct{}) {
	defer c.wg.Done()
	for {
		due, next, err := c.Queue.FindDueBotActivities(c.ctx, botID, c.Now(), batch)
		if err != nil {
			if c.ctx.Err() != nil {
				return
			}
			c.Log.Error("bot queue: find due activities", "bot", botID, "err", err)
			next = c.Now().Add(c.Poll)
		}
		stuck := false
		for _, e := range due {
			if c.ctx.Err() != nil {
				return
			}
			if !c.deliver(e) {
				stuck = true
			}
		}
		if stuck {
			// The store failed: try again after a pause, not at once.
			next = c.Now().Add(c.Poll)
		} else if len(due) > 0 {
			continue // more may be due (a full batch, or a retry due at once)
		}
		if next.IsZero() {
			// Nothing queued: end, unless kicked meanwhile.
			c.mu.Lock()
			select {
			case <-kick:
				c.mu.Unlock()
				continue
			default:
			}
			delete(c.workers, botID)
			c.mu.Unlock()
			return
		}
		wait := time.NewTimer(max(next.Sub(c.Now()), 10*time.Millisecond))
		select {
		case <-c.ctx.Done():
			wait.Stop()
			return
		case <-kick:
		case <-wait.C:
		}
		wait.Stop()
	}
}

// deliver claims a due entry, posts it and records the outcome: deleted
// once the bot answered (any status below 500: a bot that refuses an
// activity will refuse it again), scheduled again after a 5xx or a network
// error, given up after Attempts.
//
// It reports false when the store failed (the worker pauses).
func (c *Client) deliver(e Entry) bool {
	log := c.Log.With("bot", e.BotID, "activity", e.ID)
	won, err := c.Queue.ClaimBotActivity(c.ctx, e.ID, e.NextAttemptAt, c.Now().Add(2*c.Timeout+time.Second))
	if err != nil {
		if c.ctx.Err() == nil {
			log.Error("bot queue: claim activity", "err", err)
		}
		return false
	}
	if !won {
		return true // another worker has it
	}
	b, err := c.Bots.FindBot(c.ctx, e.BotID)
	if err != nil {
		if errcode.Is(err, errcode.NotFound) {
			log.Warn("bot deleted: queued activity dropped")
			c.drop(e.ID)
			return true
		}
		return false // the claim lapses and the entry is tried again
	}
	status, _, err := c.post(c.ctx, b.ID, b.Endpoint, e.Activity)
	if c.ctx.Err() != nil {
		// Shutting down mid-call: hand it back, due at once.
		ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
		defer cancel()
		if rerr := c.Queue.RetryBotActivity(ctx, e.ID, e.Attempts, c.Now(), "node stopped during the call"); rerr != nil {
			log.Warn("bot queue: hand back activity", "err", rerr)
		}
		return true
	}
	if err == nil && status < 500 {
		if status >= 300 {
			log.Warn("bot refused an activity", "status", status)
		}
		c.drop(e.ID)
		return true
	}
	attempts := e.Attempts + 1
	why := fmt.Sprintf("status %d", status)
	if err != nil {
		why = err.Error()
	}
	if attempts >= c.Attempts {
		log.Warn("bot unreachable: activity given up", "attempts", attempts, "err", why)
		c.drop(e.ID)
		return true
	}
	if rerr := c.Queue.RetryBotActivity(c.ctx, e.ID, attempts, c.Now().Add(c.Backoff(attempts)), why); rerr != nil && c.ctx.Err() == nil {
		log.Error("bot queue: schedule retry", "err", rerr)
	}
	return true
}

func (c *Client) drop(id string) {
	if err := c.Queue.DeleteBotActivity(c.ctx, id); err != nil && c.ctx.Err() == nil {
		c.Log.Error("bot queue: delete activity", "activity", id, "err", err)
	}
}

// enqueue stores an activity for a bot and wakes its worker. A store error
// is logged: the person's message is stored already, only the bot misses it.
func (c *Client) enqueue(ctx context.Context, botID string, act Activity) {
	body, err := json.Marshal(act)
	if err != nil {
		c.Log.Error("encode activity", "bot", botID, "err", err)
		return
	}
	now := c.Now().UTC().Truncate(time.Microsecond)
	e := Entry{ID: NewEntryID(now), BotID: botID, Activity: body, CreatedAt: now, NextAttemptAt: now}
	if err := c.Queue.EnqueueBotActivity(context.WithoutCancel(ctx), e); err != nil {
		c.Log.Error("bot queue: store activity", "bot", botID, "type", act.Type, "err", err)
		return
	}
	c.kick(botID)
}

// post sends one activity to a bot's endpoint with a freshly signed token.
func (c *Client) post(ctx context.Context, botID, endpoint string, body []byte) (int, []byte, error) {
	tok, err := c.Keys.ForBot(c.Base(), botID)
	if err != nil {
		return 0, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
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
// added to a chat or a team.
func (c *Client) Installed(ctx context.Context, ev app.InstallEvent) { c.installEvent(ctx, ev, true) }

// Removed sends conversationUpdate (membersRemoved: the bot).
func (c *Client) Removed(ctx context.Context, ev app.InstallEvent) { c.installEvent(ctx, ev, false) }

func (c *Client) installEvent(ctx context.Context, ev app.InstallEvent, added bool) {
	if ev.Chat == nil && ev.Team == nil {
		return // a personal install: no conversation yet
	}
	c.enqueue(ctx, ev.Bot.ID, installActivity(c.Base(), &ev, added, c.Now()))
}

// TeamMembers sends conversationUpdate (membersAdded or membersRemoved:
// the people) to a bot installed in a team whose members changed.
func (c *Client) TeamMembers(ctx context.Context, ev app.MembersEvent) {
	c.enqueue(ctx, ev.Bot.ID, membersActivity(c.Base(), &ev, c.Now()))
}

// TeamChannel sends conversationUpdate (channelCreated, channelRenamed,
// channelDeleted) to a bot installed in the team.
func (c *Client) TeamChannel(ctx context.Context, ev app.ChannelEvent) {
	c.enqueue(ctx, ev.Bot.ID, channelActivity(c.Base(), &ev, c.Now()))
}

// Message queues a message activity (a person's message, an Action.Submit,
// a reaction).
func (c *Client) Message(ctx context.Context, ev app.MessageEvent) {
	c.enqueue(ctx, ev.Bot.ID, messageActivity(c.Base(), &ev, c.Now()))
}

// Invoke posts an invoke activity at once and returns the bot's answer
// (one attempt: the caller waits). Errors: a bot that does not answer in
// time or cannot be reached (badGateway).
func (c *Client) Invoke(ctx context.Context, ev app.MessageEvent) (app.InvokeResponse, error) {
	body, err := json.Marshal(messageActivity(c.Base(), &ev, c.Now()))
	if err != nil {
		return app.InvokeResponse{}, fmt.Errorf("encode invoke: %w", err)
	}
	status, resp, err := c.post(ctx, ev.Bot.ID, ev.Bot.Endpoint, body)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return app.InvokeResponse{}, errcode.New(errcode.BadGateway, "The bot did not answer in time.")
		}
		return app.InvokeResponse{}, errcode.New(errcode.BadGateway, "The bot could not be reached.")
	}
	out := app.InvokeResponse{Status: status, Body: resp}
	var ir struct {
		StatusCode int             `json:"statusCode"`
		Type       string          `json:"type"`
		Value      json.RawMessage `json:"value"`
	}
	if json.Unmarshal(resp, &ir) == nil {
		if ir.StatusCode != 0 && status < 300 {
			out.Status = ir.StatusCode
		}
		out.Type = ir.Type
		if len(ir.Value) > 0 && ir.Value[0] == '{' {
			out.Value = ir.Value
		}
	}
	return out, nil
}
