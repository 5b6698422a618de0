package chat

import (
	"context"
	"fmt"
	"time"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
	"github.com/parleychat/parley/internal/policy"
)

// Message requests as their target sees them (docs/rules.md §5): the
// requests list with the sender's identity and previews, and the answers
// accept, decline (with a cool-down), block and report spam. msgrequest
// decides what an answer changes (DecideAnswer); Requests loads the
// request and writes the answer.

// Request is a pending request as its target sees it, its previews in the
// preview form.
type Request struct {
	Chat             Chat
	From             identity.User
	OrganizationName string // "" for a personal account
	Previews         []Message
	Filtered         bool // in the filtered list (docs/rules.md §10)
}

// RequestStore is the persistence requests need.
type RequestStore interface {
	// FindPendingChats returns up to limit chats where user has a delivered
	// (not held) pending request, newest first (updated_at, then id, both
	// descending), starting after the cursor.
	FindPendingChats(ctx context.Context, user identity.UserID, filtered bool, after ChatCursor, limit int) ([]ChatCursor, error)
	FindChat(ctx context.Context, id ID, viewer identity.UserID) (Chat, []Member, error)
	FindMessages(ctx context.Context, chatID ID, since time.Time, before MessageID, limit int) ([]Message, error)
	FindUserByID(ctx context.Context, id identity.UserID) (identity.User, error)
	FindTenantByID(ctx context.Context, id identity.TenantID) (identity.Tenant, error)
	// AnswerRequest stores an answer atomically: the member's state, the
	// contact pair (accept), the cool-down (decline), the block and the
	// spam report.
	AnswerRequest(ctx context.Context, a StoredAnswer, drafts []event.Draft) ([]event.Event, error)
	// CountPendingRequests counts the delivered requests waiting for user
	// in the main list or the filtered one.
	CountPendingRequests(ctx context.Context, user identity.UserID, filtered bool) (int, error)
}

// StoredAnswer is everything one answer changes.
type StoredAnswer struct {
	Member        Member // with its new state
	Target, From  identity.UserID
	At            time.Time
	DeclinedUntil time.Time    // zero unless declined
	Block         policy.Block // NoBlock unless blocked
	Report        bool
	ChatID        ID
}

// RequestEncoder builds the payloads of the answers' events.
type RequestEncoder interface {
	RequestEvent(viewer *identity.User, typ event.Type, c *Chat, from *identity.User) []byte
	ChatEvent(viewer *identity.User, typ event.Type, c *Chat) []byte
}

// Requests lists and answers the requests to a user.
type Requests struct {
	Store   RequestStore
	Bus     event.Bus
	Encoder RequestEncoder
	Now     func() time.Time
	// Audit records answers in the tenants' audit logs (may be nil).
	Audit func(ctx context.Context, tenant identity.TenantID, actor identity.UserID, action, target string, details map[string]any)
}

// Page sizes of the requests list. Without $top a client gets what it
// always got: up to MaxRequestsPageSize, with a link to any more.
const (
	DefaultRequestsPageSize = 500
	MaxRequestsPageSize     = 500
)

// List returns a page of the actor's pending requests with previews, the
// main list or the filtered list of suspicious ones (docs/rules.md §10),
// and the cursor of the next page (zero when there is none). limit is
// clamped to 1…MaxRequestsPageSize (DefaultRequestsPageSize when 0).
func (s *Requests) List(ctx context.Context, actor *identity.User, filtered bool, after ChatCursor, limit int) ([]Request, ChatCursor, error) {
	if limit <= 0 {
		limit = DefaultRequestsPageSize
	}
	limit = min(limit, MaxRequestsPageSize)
	cs, err := s.Store.FindPendingChats(ctx, actor.ID, filtered, after, limit+1)
	if err != nil {
		return nil, ChatCursor{}, fmt.Errorf("list requests: %w", err)
	}
	var next ChatCursor
	if len(cs) > limit {
		cs = cs[:limit]
		next = cs[limit-1]
	}
	out := make([]Request, 0, len(cs))
	for _, c := range cs {
		r, _, err := s.load(ctx, actor, c.ID)
		if err != nil {
			return nil, ChatCursor{}, err
		}
		out = append(out, r)
	}
	return out, next, nil
}

// load returns the delivered request to actor in chat id, with up to
// msgrequest.PreviewCount messages, and actor's member. Errors: notFound.
func (s *Requests) load(ctx context.Context, actor *identity.User, id ID) (Request, Member, error) {
	c, members, err := s.Store.FindChat(ctx, id, actor.ID)
	if err != nil {
		return Request{}, Member{}, fmt.Errorf("load request %s: %w", id, err)
	}
	me := memberOf(members, actor.ID)
	if msgrequest.MessageForm(me.State, me.Held) != msgrequest.PreviewForm || me.RequestFrom == "" {
		return Request{}, Member{}, errcode.New(errcode.NotFound, "No request in chat %s.", id)
	}
	from, err := s.Store.FindUserByID(ctx, me.RequestFrom)
	if err != nil {
		return Request{}, Member{}, fmt.Errorf("load request %s: %w", id, err)
	}
	r := Request{Chat: c, From: from, Filtered: me.Filtered}
	if from.TenantID != "" {
		t, err := s.Store.FindTenantByID(ctx, from.TenantID)
		if err != nil {
			return Request{}, Member{}, fmt.Errorf("load request %s: %w", id, err)
		}
		r.OrganizationName = t.DisplayName
	}
	msgs, err := s.Store.FindMessages(ctx, id, me.VisibleFrom, 0, msgrequest.PreviewCount)
	if err != nil {
		return Request{}, Member{}, fmt.Errorf("load request %s: %w", id, err)
	}
	for i := range msgs {
		if !msgs[i].Deleted() {
			r.Previews = append(r.Previews, Preview(&msgs[i]))
		}
	}
	return r, me, nil
}

// Answer applies the actor's answer to the request in chat id
// (msgrequest.DecideAnswer). Errors: notFound (no pending request there),
// badRequest (no such answer).
func (s *Requests) Answer(ctx context.Context, actor *identity.User, id ID, a msgrequest.Answer) error {
	r, me, err := s.load(ctx, actor, id)
	if err != nil {
		return err
	}
	now := s.Now()
	ans, ok := msgrequest.DecideAnswer(a, now)
	if !ok {
		return errcode.New(errcode.BadRequest, "Unknown answer.")
	}
	st := StoredAnswer{Member: me, Target: actor.ID, From: r.From.ID, At: now, ChatID: id,
		DeclinedUntil: ans.DeclinedUntil, Block: ans.Block, Report: ans.Report}
	st.Member.State = ans.State
	var drafts []event.Draft
	if ans.TellSender {
		c := r.Chat
		c.ViewerState = ans.State
		// Both sides hear of it; the chat joins the target's list.
		drafts = append(drafts,
			event.Draft{UserID: actor.ID, Type: event.RequestAccepted, ChatID: string(id), Payload: s.Encoder.RequestEvent(actor, event.RequestAccepted, &c, &r.From)},
			event.Draft{UserID: r.From.ID, Type: event.RequestAccepted, ChatID: string(id), Payload: s.Encoder.RequestEvent(&r.From, event.RequestAccepted, &c, &r.From)})
	} else {
		// Only the target's own devices hear of it; the sender learns at
		// their next send (recipientUnavailable).
		drafts = append(drafts, event.Draft{UserID: actor.ID, Type: event.RequestDeclined, ChatID: string(id), Payload: s.Encoder.RequestEvent(actor, event.RequestDeclined, &r.Chat, &r.From)})
	}
	evs, err := s.Store.AnswerRequest(ctx, st, drafts)
	if err != nil {
		return fmt.Errorf("answer request %s: %w", id, err)
	}
	_ = s.Bus.Publish(ctx, evs) // stored events: clients replay what a publish misses
	if s.Audit != nil {
		details := map[string]any{"chatId": string(id), "from": string(r.From.ID), "to": string(actor.ID)}
		// The target's admins see every answer; reports also go to the
		// sender's organisation (the platform's view of abuse).
		if actor.TenantID != "" {
			s.Audit(ctx, actor.TenantID, actor.ID, a.Action(), string(r.From.ID), details)
		}
		if r.From.TenantID != "" && r.From.TenantID != actor.TenantID {
			s.Audit(ctx, r.From.TenantID, actor.ID, a.Action(), string(r.From.ID), details)
		}
	}
	return nil
}

// Count returns how many requests wait for the actor in the main list
// (filtered=false) or the filtered one: the Requests badge, counted on the
// server as List lists them (delivered, not held: docs/rules.md §4).
func (s *Requests) Count(ctx context.Context, actor *identity.User, filtered bool) (int, error) {
	n, err := s.Store.CountPendingRequests(ctx, actor.ID, filtered)
	if err != nil {
		return 0, fmt.Errorf("count requests: %w", err)
	}
	return n, nil
}
