// Package realtime serves GET /parley/v1/events: a WebSocket per client that
// carries the user's events in seq order (SPEC §7, API.md "Real time").
// A client passes ?since=<seq> to replay what it missed; the connection
// subscribes to the bus before it reads the store, and fills any gap from
// the store, so every event arrives exactly once and in order. Only
// internal/server imports it.
package realtime

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"

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

// Handler is the WebSocket endpoint.
type Handler struct {
	Auth  Authenticator
	Bus   event.Bus
	Store Store
	Log   *slog.Logger
	// Token extracts the bearer token of a request (header or query).
	Token func(r *http.Request) string
	// WriteError writes an error in the API's shape before the upgrade.
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
	// PingInterval keeps idle connections alive through proxies.
	PingInterval time.Duration
	// OriginPatterns are the extra origins browsers may connect from.
	OriginPatterns []string
}

const (
	replayBatch  = 500
	writeTimeout = 10 * time.Second
)

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	// Subscribe before reading the store: an event committed in between is
	// then either in the replay or on the channel (or both; seq dedups).
	sub := h.Bus.Subscribe(u.ID)
	defer func() { sub.Close() }()
	last := since
	if last < 0 {
		if last, err = h.Store.LastSeq(r.Context(), u.ID); err != nil {
			h.WriteError(w, r, err)
			return
		}
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.OriginPatterns})
	if err != nil {
		return // Accept has answered the client
	}
	defer conn.CloseNow() //nolint:errcheck // best effort after a normal close
	ctx := conn.CloseRead(r.Context())
	err = h.run(ctx, conn, u.ID, &sub, last)
	switch {
	case err == nil, errors.Is(err, context.Canceled), websocket.CloseStatus(err) != -1:
		_ = conn.Close(websocket.StatusNormalClosure, "") // the peer may be gone already
	default:
		h.Log.Debug("events connection ended", "user", u.ID, "err", err)
		_ = conn.Close(websocket.StatusInternalError, "internal error") // the peer may be gone already
	}
}

func (h *Handler) run(ctx context.Context, conn *websocket.Conn, uid identity.UserID, sub **event.Subscription, last int64) error {
	var buf []byte
	send := func(e *event.Event) error {
		buf = event.AppendFrame(buf[:0], e.Seq, e.Payload)
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		defer cancel()
		if err := conn.Write(wctx, websocket.MessageText, buf); err != nil {
			return err
		}
		if e.Seq > 0 {
			last = e.Seq
		}
		return nil
	}
	replay := func() error {
		for {
			evs, err := h.Store.FindEvents(ctx, uid, last, replayBatch)
			if err != nil {
				return err
			}
			for i := range evs {
				if err := send(&evs[i]); err != nil {
					return err
				}
			}
			if len(evs) < replayBatch {
				return nil
			}
		}
	}
	if err := replay(); err != nil {
		return err
	}
	var ping <-chan time.Time
	if h.PingInterval > 0 {
		t := time.NewTicker(h.PingInterval)
		defer t.Stop()
		ping = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ping:
			pctx, cancel := context.WithTimeout(ctx, writeTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		case <-(*sub).Lagged():
			// The channel dropped events: start a fresh subscription, then
			// read what was missed from the store.
			(*sub).Close()
			*sub = h.Bus.Subscribe(uid)
			if err := replay(); err != nil {
				return err
			}
		case e := <-(*sub).C:
			if e.Seq == 0 {
				// Ephemeral (typing): now or never.
				if err := send(&e); err != nil {
					return err
				}
				continue
			}
			if e.Seq <= last {
				continue
			}
			if e.Seq > last+1 {
				// A gap (another node's write, or a drop): the store has it.
				if err := replay(); err != nil {
					return err
				}
				if e.Seq <= last {
					continue
				}
			}
			if err := send(&e); err != nil {
				return err
			}
		}
	}
}
