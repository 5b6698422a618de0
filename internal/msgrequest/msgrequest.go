// Package msgrequest holds docs/rules.md §5's message requests as their target sees
// them: the requests list with the sender's identity and previews, and the
// answers accept, decline (with a cool-down), block and report spam. The
// sender's side (the 10-message cap, silence while pending) lives in chat,
// which this package builds on. httpapi and server import it.
package msgrequest

import (
	"context"
	"fmt"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/policy"
)

// DeclineCoolDown is how long a decline refuses new requests from the same
// sender (docs/rules.md §5 default: 30 days).
const DeclineCoolDown = 30 * 24 * time.Hour

// MaxPreviews is how many messages a request shows.
const MaxPreviews = chat.MaxPendingMessages

// Answer is the target's answer to a request.
type Answer uint8

// Answers.
const (
	Accept Answer = iota + 1
	Decline
	Block
	ReportSpam
)

// Request is a pending request as its target sees it.
type Request struct {
	Chat             chat.Chat
	From             identity.User
	OrganizationName string // "" for a personal account
	Previews         []chat.Message
	Filtered         bool // in the filtered list (docs/rules.md §10)
}

// Store is the persistence requests need.
type Store interface {
	// FindPendingChats returns up to limit chats where user has a delivered
	// (not held) pending request, newest first (updated_at, then id, both
	// descending), starting after the cursor.
	FindPendingChats(ctx context.Context, user identity.UserID, filtered bool, after chat.ChatCursor, limit int) ([]chat.ChatCursor, error)
	FindChat(ctx context.Context, id chat.ID, viewer identity.UserID) (chat.Chat, []chat.Member, error)
	FindMessages(ctx context.Context, chatID chat.ID, since time.Time, before chat.MessageID, limit int) ([]chat.Message, error)
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
	Member        chat.Member // with its new state
	Target, From  identity.UserID
	At            time.Time
	DeclinedUntil time.Time    // zero unless declined
	Block         policy.Block // NoBlock unless blocked
	Report        bool
	ChatID        chat.ID
}

// Encoder builds event payloads.
type Encoder interface {
	RequestEvent(viewer *identity.User, typ event.Type, c *chat.Chat, from *identity.User) []byte
	ChatEvent(viewer *identity.User, typ event.Type, c *chat.Chat) []byte
}

// Service lists and answers requests.
type Service struct {
	Store   Store
	Bus     event.Bus
	Encoder Encoder
	Now     func() time.Time
	// Audit records answers in the tenants' audit logs (may be nil).
	Audit func(ctx context.Context, tenant identity.TenantID, actor identity.UserID, action, target string, details map[string]any)
}

// Page sizes of the requests list. Without $top a client gets what it
// always got: up to MaxPageSize, now with a link to any more.
const (
	DefaultPageSize = 500
	MaxPageSize     = 500
)

// List returns a page of the actor's pending requests with previews, the
// main list or the filtered list of suspicious ones (docs/rules.md §10), and the
// cursor of the next page (zero when there is none). limit is clamped to
// 1…MaxPageSize (DefaultPageSize when 0).
func (s *Service) List(ctx context.Context, actor *identity.User, filtered bool, after chat.ChatCursor, limit int) ([]Request, chat.ChatCursor, error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	cs, err := s.Store.FindPendingChats(ctx, actor.ID, filtered, after, limit+1)
	if err != nil {
		return nil, chat.ChatCursor{}, fmt.Errorf("list requests: %w", err)
	}
	var next chat.ChatCursor
	if len(cs) > limit {
		cs = cs[:limit]
		next = cs[limit-1]
	}
	out := make([]Request, 0, len(cs))
	for _, c := range cs {
		r, _, err := s.load(ctx, actor, c.ID)
		if err != nil {
			return nil, chat.ChatCursor{}, err
		}
		out = append(out, r)
	}
	return out, next, nil
}

func (s *Service) load(ctx context.Context, actor *identity.User, id chat.ID) (Request, chat.Member, error) {
	c, members, err := s.Store.FindChat(ctx, id, actor.ID)
	if err != nil {
		return Request{}, chat.Member{}, fmt.Errorf("load request %s: %w", id, err)
	}
	var me chat.Member
	for _, m := range members {
		if m.UserID == actor.ID {
			me = m
		}
	}
	if me.State != chat.Pending || me.Held || me.RequestFrom == "" {
		return Request{}, chat.Member{}, errcode.New(errcode.NotFound, "No request in chat %s.", id)
	}
	from, err := s.Store.FindUserByID(ctx, me.RequestFrom)
	if err != nil {
		return Request{}, chat.Member{}, fmt.Errorf("load request %s: %w", id, err)
	}
	r := Request{Chat: c, From: from, Filtered: me.Filtered}
	if from.TenantID != "" {
		t, err := s.Store.FindTenantByID(ctx, from.TenantID)
		if err != nil {
			return Request{}, chat.Member{}, fmt.Errorf("load request %s: %w", id, err)
		}
		r.OrganizationName = t.DisplayName
	}
	msgs, err := s.Store.FindMessages(ctx, id, me.VisibleFrom, 0, MaxPreviews)
	if err != nil {
		return Request{}, chat.Member{}, fmt.Errorf("load request %s: %w", id, err)
	}
	for _, m := range msgs {
		if !m.Deleted() {
			r.Previews = append(r.Previews, m)
		}
	}
	return r, me, nil
}

var actions = map[Answer]string{Accept: "request.accepted", Decline: "request.declined", Block: "request.blocked", ReportSpam: "request.reportedSpam"}

// Answer applies the actor's answer to the request in chat id. Errors:
// notFound (no pending request there).
func (s *Service) Answer(ctx context.Context, actor *identity.User, id chat.ID, a Answer) error {
	r, me, err := s.load(ctx, actor, id)
	if err != nil {
		return err
	}
	now := s.Now()
	st := StoredAnswer{Member: me, Target: actor.ID, From: r.From.ID, At: now, ChatID: id}
	var drafts []event.Draft
	switch a {
	case Accept:
		st.Member.State = chat.Accepted
		c := r.Chat
		c.ViewerState = chat.Accepted
		// Both sides hear of it; the chat joins the target's list.
		drafts = append(drafts,
			event.Draft{UserID: actor.ID, Type: event.RequestAccepted, ChatID: string(id), Payload: s.Encoder.RequestEvent(actor, event.RequestAccepted, &c, &r.From)},
			event.Draft{UserID: r.From.ID, Type: event.RequestAccepted, ChatID: string(id), Payload: s.Encoder.RequestEvent(&r.From, event.RequestAccepted, &c, &r.From)})
	case Decline, Block, ReportSpam:
		st.Member.State = chat.Declined
		st.DeclinedUntil = now.Add(DeclineCoolDown)
		if a != Decline {
			st.Block = policy.VisibleBlock
		}
		st.Report = a == ReportSpam
		// Only the target's own devices hear of it; the sender learns at
		// their next send (recipientUnavailable).
		drafts = append(drafts, event.Draft{UserID: actor.ID, Type: event.RequestDeclined, ChatID: string(id), Payload: s.Encoder.RequestEvent(actor, event.RequestDeclined, &r.Chat, &r.From)})
	default:
		return errcode.New(errcode.BadRequest, "Unknown answer.")
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
			s.Audit(ctx, actor.TenantID, actor.ID, actions[a], string(r.From.ID), details)
		}
		if r.From.TenantID != "" && r.From.TenantID != actor.TenantID {
			s.Audit(ctx, r.From.TenantID, actor.ID, actions[a], string(r.From.ID), details)
		}
	}
	return nil
}
