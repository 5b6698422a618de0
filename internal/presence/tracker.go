package presence

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/parleychat/parley/internal/identity"
)

// Tracker is one node's part of automatic presence: realtime tells it
// when a person's events connection opens and closes, the API when they
// act; it keeps the person's connections on this node in the store (so
// every node computes everyone's presence alike), renews this node's
// liveness every Tick (a node that crashed stops counting after three),
// turns available into away after Idle, and announces each change. Its
// methods never block the caller: the store is written by Run.
type Tracker struct {
	Service *Service
	Log     *slog.Logger
	node    string

	mu    sync.Mutex
	users map[identity.UserID]*local // people with a connection here
	dirty map[identity.UserID]bool
	acts  map[identity.UserID]time.Time // activity of people with no connection here, not yet saved
	wake  chan struct{}
}

type local struct {
	conns   int
	active  time.Time // last activity seen here
	savedAt time.Time // the activity last saved
	shown   Presence  // last announced
}

// NewTracker returns a tracker for a node with a fresh id.
func NewTracker(s *Service, log *slog.Logger) *Tracker {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Tracker{Service: s, Log: log, node: hex.EncodeToString(b), users: map[identity.UserID]*local{},
		dirty: map[identity.UserID]bool{}, acts: map[identity.UserID]time.Time{}, wake: make(chan struct{}, 1)}
}

func (t *Tracker) signal() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Connected notes an events connection of user opened on this node.
func (t *Tracker) Connected(user identity.UserID) {
	t.mu.Lock()
	l := t.users[user]
	if l == nil {
		l = &local{}
		t.users[user] = l
	}
	l.conns++
	l.active = t.Service.Now()
	t.dirty[user] = true
	t.mu.Unlock()
	t.signal()
}

// Disconnected notes an events connection of user closed.
func (t *Tracker) Disconnected(user identity.UserID) {
	t.mu.Lock()
	if l := t.users[user]; l != nil {
		l.conns--
		t.dirty[user] = true
	}
	t.mu.Unlock()
	t.signal()
}

// Active notes that user acted (an API call): saved at most once per
// quarter of Idle, at once when it ends their being away.
func (t *Tracker) Active(user identity.UserID) {
	now := t.Service.Now()
	t.mu.Lock()
	if l := t.users[user]; l != nil {
		l.active = now
		if l.shown.Availability == Away || now.Sub(l.savedAt) >= t.Service.Idle/4 {
			t.dirty[user] = true
			t.mu.Unlock()
			t.signal()
			return
		}
		t.mu.Unlock()
		return
	}
	last, seen := t.acts[user]
	if seen && now.Sub(last) < t.Service.Idle/4 {
		t.mu.Unlock()
		return
	}
	t.acts[user] = now
	t.dirty[user] = true
	t.mu.Unlock()
	t.signal()
}

// Run keeps the store and the announcements in step until ctx ends; then
// it removes this node's connections from the store.
func (t *Tracker) Run(ctx context.Context) {
	tick := time.NewTicker(t.Service.Tick)
	defer tick.Stop()
	t.heartbeat(ctx)
	for {
		select {
		case <-ctx.Done():
			stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := t.Service.Store.ForgetPresenceNode(stop, t.node); err != nil {
				t.Log.Warn("presence: forget node", "err", err)
			}
			cancel()
			return
		case <-t.wake:
			t.flush(ctx)
		case <-tick.C:
			t.heartbeat(ctx)
			t.scan()
			t.flush(ctx)
		}
	}
}

func (t *Tracker) heartbeat(ctx context.Context) {
	now := t.Service.Now()
	if err := t.Service.Store.SavePresenceNode(ctx, t.node, now, now.Add(-10*time.Minute)); err != nil {
		t.Log.Warn("presence: node heartbeat", "err", err)
	}
}

// scan marks the people here who may have turned away (or back).
func (t *Tracker) scan() {
	now := t.Service.Now()
	t.mu.Lock()
	for u, l := range t.users {
		if (l.shown.Availability == Available && now.Sub(l.active) >= t.Service.Idle) || l.shown.Availability == Away {
			t.dirty[u] = true
		}
	}
	t.mu.Unlock()
}

// flush saves and announces what changed.
func (t *Tracker) flush(ctx context.Context) {
	t.mu.Lock()
	type job struct {
		user   identity.UserID
		conns  int
		active time.Time
		local  bool
		shown  Presence
	}
	var jobs []job
	for u := range t.dirty {
		if l := t.users[u]; l != nil {
			jobs = append(jobs, job{u, l.conns, l.active, true, l.shown})
			l.savedAt = l.active
			if l.conns <= 0 {
				delete(t.users, u)
			}
		} else if at, ok := t.acts[u]; ok {
			jobs = append(jobs, job{user: u, active: at})
		}
		delete(t.dirty, u)
	}
	t.mu.Unlock()
	for _, j := range jobs {
		var err error
		if j.local {
			err = t.Service.Store.SavePresenceSession(ctx, t.node, j.user, max(j.conns, 0), j.active)
		} else {
			err = t.Service.Store.SavePresenceActivity(ctx, j.user, j.active)
		}
		if err != nil {
			t.Log.Warn("presence: save", "user", j.user, "err", err)
			continue
		}
		if !j.local {
			continue // the node with their connection announces the change at its next tick
		}
		p, err := t.Service.current(ctx, j.user)
		if err != nil {
			continue
		}
		t.mu.Lock()
		if l := t.users[j.user]; l != nil {
			l.shown = p
		}
		t.mu.Unlock()
		if p == j.shown {
			continue
		}
		t.Service.publish(ctx, j.user, p)
	}
}
