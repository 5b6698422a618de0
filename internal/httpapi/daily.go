package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/parleychat/parley/internal/errcode"
)

// routesDaily registers the daily-chat routes: reactions and the Requests
// badge's count (docs/rules.md §7).
func (a *API) routesDaily() {
	a.handle("POST /v1.0/chats/{id}/messages/{mid}/setReaction", a.authed(a.react(true)))
	a.handle("POST /v1.0/chats/{id}/messages/{mid}/unsetReaction", a.authed(a.react(false)))
	a.handle("GET /parley/v1/me/requests/$count", a.authed(a.countRequests))
}

// react sets or removes the caller's reaction (Graph setReaction and
// unsetReaction): 204 either way.
func (a *API) react(set bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		mid, err := messageID(r)
		if err != nil {
			return err
		}
		var in struct {
			ReactionType *string `json:"reactionType"`
		}
		if err := decode(r, &in); err != nil {
			return err
		}
		if in.ReactionType == nil {
			return errcode.New(errcode.BadRequest, "reactionType is required: an emoji, or like, heart, laugh, surprised, sad, angry.")
		}
		if err := a.Chats.React(r.Context(), userOf(r), chatID(r), mid, *in.ReactionType, set); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// countRequests answers the number of requests waiting for the caller as
// Graph answers $count: a plain-text integer. ?filter=filtered counts the
// filtered list.
func (a *API) countRequests(w http.ResponseWriter, r *http.Request) error {
	filtered := false
	switch r.URL.Query().Get("filter") {
	case "", "main":
	case "filtered":
		filtered = true
	default:
		return errcode.New(errcode.BadRequest, "filter must be main or filtered.")
	}
	n, err := a.Requests.Count(r.Context(), userOf(r), filtered)
	if err != nil {
		return err
	}
	b := strconv.AppendInt(nil, int64(n), 10)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b) // a failed write means the client left
	return nil
}

// markUnreadIn is Graph's markChatUnreadForUser body; Parley reads
// lastMessageReadDateTime, the moment from which messages count as unread
// again (absent: the whole chat is unread).
type markUnreadIn struct {
	LastMessageReadDateTime *string `json:"lastMessageReadDateTime"`
}

// unreadFrom parses the optional lastMessageReadDateTime.
func (in *markUnreadIn) unreadFrom() (time.Time, bool, error) {
	if in.LastMessageReadDateTime == nil {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *in.LastMessageReadDateTime)
	if err != nil {
		return time.Time{}, false, errcode.New(errcode.BadRequest, "lastMessageReadDateTime must be an ISO 8601 date-time.")
	}
	return t.UTC(), true, nil
}
