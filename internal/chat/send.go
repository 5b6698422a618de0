package chat

import (
	"context"
	"fmt"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
	"github.com/parleychat/parley/internal/policy"
)

// The request rules of a send, a change and a re-evaluation, as load →
// decide → write: loadFacts gathers the facts, msgrequest decides, and
// this file writes what it decided (holds, the read-only state) and turns
// a refusal into the error the caller may see.

// findChat returns a chat the actor may see: not while a request to them is
// held silently or after they declined it (the chat does not exist for
// them). Errors: notFound.
func (s *Service) findChat(ctx context.Context, id ID, actor *identity.User) (Chat, []Member, error) {
	c, members, err := s.Store.FindChat(ctx, id, actor.ID)
	if err != nil {
		return Chat{}, nil, err
	}
	for i := range members {
		if members[i].UserID == actor.ID && !msgrequest.SeesChat(members[i].State, members[i].Held) {
			return Chat{}, nil, errcode.New(errcode.NotFound, "No chat %s.", id)
		}
	}
	return c, members, nil
}

// readOnlyMessage says whose setting made a chat read-only, relative to the
// viewer (docs/rules.md §4: in a chat both sides accepted, that is no news).
func readOnlyMessage(own bool) string {
	if own {
		return "Your organisation's settings no longer allow this chat, so it is read-only."
	}
	return "The other side's settings no longer allow this chat, so it is read-only."
}

// refusalError is the error the sender of a refused send or change sees.
func refusalError(d msgrequest.Send, actor *identity.User, accept string) error {
	switch d.Refusal {
	case msgrequest.NotAccepted:
		return errcode.New(errcode.Forbidden, "%s", accept)
	case msgrequest.ReadOnly:
		return errcode.New(errcode.ChatReadOnly, "%s", readOnlyMessage(d.Blame.Own(actor)))
	case msgrequest.Unavailable:
		return errcode.New(errcode.RecipientUnavailable, "%s", policy.UnavailableMessage)
	}
	return nil
}

// The answers to a member who has not accepted the request to them.
const (
	acceptToReply  = "Accept the message request before replying."
	acceptToChange = "Accept the message request before changing this chat."
)

// maySend applies docs/rules.md §4–§5 to a send by actor (msgrequest.DecideSend),
// stores the holds it changed, and returns the cap on the actor's messages
// in the chat (0: none; the store counts against it inside the write) and
// the members as changed. Errors: forbidden (a pending target replying
// before accepting), chatReadOnly, recipientUnavailable. The chat's
// read-only flag follows the decision: when this send finds it stale
// (refused as read-only while the chat says writable, or allowed while it
// says read-only), the chat is re-decided and its members told, as after a
// policy change.
func (s *Service) maySend(ctx context.Context, actor *identity.User, c *Chat, members []Member, store bool) (int, error) {
	var buf [4]msgrequest.Member // a small chat's facts stay on the stack
	f := msgrequest.Facts{Members: appendMemberFacts(buf[:0], members)}
	if err := s.loadFacts(ctx, &f, c, members, actor, loadTalk|loadRequests); err != nil {
		return 0, fmt.Errorf("decide send: %w", err)
	}
	d, changes := msgrequest.DecideSend(&f, nil)
	if readOnly := d.Refusal == msgrequest.ReadOnly; (d.Refusal == msgrequest.NotRefused || readOnly) && c.External && readOnly != !c.ReadOnlyBy.IsZero() {
		// Best effort: the send's answer stands either way, and the next
		// re-evaluation or send repeats the repair.
		_ = s.reevaluateReadOnly(ctx, c.ID)
	}
	if err := refusalError(d, actor, acceptToReply); err != nil {
		return 0, err
	}
	if store && len(changes) > 0 {
		if err := s.storeHolds(ctx, c, members, changes, actor); err != nil {
			return 0, err
		}
	}
	return d.Cap, nil
}

// storeHolds stores the members whose silent hold changed, in members too;
// a lifted hold delivers the request to its target from now on.
func (s *Service) storeHolds(ctx context.Context, c *Chat, members []Member, changes []msgrequest.Change, from *identity.User) error {
	now := s.Now()
	for _, ch := range changes {
		m := &members[ch.Index]
		m.Held = ch.Hold
		var drafts []event.Draft
		if !ch.Hold {
			// docs/rules.md §4: a lifted refusal delivers the request from
			// now on, with only the messages sent after this moment.
			m.VisibleFrom = now
			drafts = s.arrivalDrafts(c, members[ch.Index:ch.Index+1], from)
		}
		evs, err := s.Store.UpdateMember(ctx, *m, drafts)
		if err != nil {
			return fmt.Errorf("update hold of %s: %w", m.ID, err)
		}
		s.publish(ctx, evs)
	}
	return nil
}

// Reevaluate re-decides the external chats of a tenant (or, tenant "", of
// one user) after a change of settings, policies, grants, blocks or a
// personal switch: chats turn read-only or writable at once, with an event
// to their members, and silently held requests are delivered once their
// refusal is lifted (docs/rules.md §4).
func (s *Service) Reevaluate(ctx context.Context, tenant identity.TenantID, user identity.UserID) error {
	ids, err := s.Store.FindExternalChats(ctx, tenant, user)
	if err != nil {
		return fmt.Errorf("reevaluate: %w", err)
	}
	for _, id := range ids {
		if err := s.reevaluateChat(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) reevaluateChat(ctx context.Context, id ID) error {
	c, members, err := s.Store.FindChatAny(ctx, id)
	if err != nil {
		return fmt.Errorf("reevaluate %s: %w", id, err)
	}
	if err := s.setReadOnly(ctx, &c, members); err != nil {
		return fmt.Errorf("reevaluate %s: %w", id, err)
	}
	// Silently held requests whose refusal was lifted are delivered now,
	// and delivered ones whose target's account now refuses are held.
	for i := range members {
		m := &members[i]
		if m.State != Pending || m.UserID == "" || m.RequestFrom == "" {
			continue
		}
		from, err := s.Store.FindUserByID(ctx, m.RequestFrom)
		if err != nil {
			return fmt.Errorf("reevaluate %s: %w", id, err)
		}
		d, err := s.Policy.Start(ctx, &from, &m.User)
		if err != nil {
			return fmt.Errorf("reevaluate %s: %w", id, err)
		}
		mf := memberFacts(m)
		hold, changed := msgrequest.Rehold(&mf, msgrequest.VerdictOf(&d))
		if !changed {
			continue
		}
		if err := s.storeHolds(ctx, &c, members, []msgrequest.Change{{Index: i, Hold: hold}}, &from); err != nil {
			return err
		}
	}
	return nil
}

// setReadOnly re-decides a chat's read-only state (msgrequest.ReadOnlyBy)
// and, when it changed, stores it with a chatReadOnly or chatWritable event
// to every accepted member, each told whose side's setting it is. Pending
// targets are not told: the chat is not theirs yet (their request is), and
// a held target must hear nothing (docs/rules.md §4).
func (s *Service) setReadOnly(ctx context.Context, c *Chat, members []Member) error {
	f := msgrequest.Facts{Members: appendMemberFacts(nil, members)}
	if err := s.loadFacts(ctx, &f, c, members, nil, loadTalk|loadRequests); err != nil {
		return err
	}
	by := msgrequest.ReadOnlyBy(&f)
	if by == c.ReadOnlyBy {
		return nil
	}
	typ := event.ChatWritable
	if !by.IsZero() {
		typ = event.ChatReadOnly
	}
	c.ReadOnlyBy = by
	var drafts []event.Draft
	for i := range members {
		m := &members[i]
		if m.UserID == "" || m.State != Accepted {
			continue
		}
		reason := ""
		if !by.IsZero() {
			reason = readOnlyMessage(by.Own(&m.User))
		}
		drafts = append(drafts, event.Draft{UserID: m.UserID, Type: typ, ChatID: string(c.ID), Payload: s.Encoder.NoticeEvent(&m.User, typ, c, reason)})
	}
	evs, err := s.Store.SetReadOnly(ctx, c.ID, by, drafts)
	if err != nil {
		return err
	}
	s.publish(ctx, evs)
	return nil
}

// reevaluateReadOnly re-decides the read-only state of one chat, as it is
// stored now.
func (s *Service) reevaluateReadOnly(ctx context.Context, id ID) error {
	c, members, err := s.Store.FindChatAny(ctx, id)
	if err != nil {
		return fmt.Errorf("reevaluate %s: %w", id, err)
	}
	if err := s.setReadOnly(ctx, &c, members); err != nil {
		return fmt.Errorf("reevaluate %s: %w", id, err)
	}
	return nil
}

// ReadOnlyReason is the reason a chat is read-only for viewer, or "".
func ReadOnlyReason(c *Chat, viewer *identity.User) string {
	if c.ReadOnlyBy.IsZero() {
		return ""
	}
	return readOnlyMessage(c.ReadOnlyBy.Own(viewer))
}

// writable refuses a change of a chat that is read-only for its members
// (msgrequest.DecideChange): a pair of accepted members may no longer
// talk, decided now as for a send, and told as a send is. Errors:
// chatReadOnly.
func (s *Service) writable(ctx context.Context, actor *identity.User, c *Chat, members []Member) error {
	var buf [4]msgrequest.Member // a small chat's facts stay on the stack
	f := msgrequest.Facts{Members: appendMemberFacts(buf[:0], members)}
	if err := s.loadFacts(ctx, &f, c, members, actor, loadTalk); err != nil {
		return fmt.Errorf("decide change: %w", err)
	}
	return refusalError(msgrequest.DecideChange(&f), actor, acceptToChange)
}

// mayChange applies docs/rules.md §5 to a change of a chat (its topic, its
// members) by actor (msgrequest.MayChange). Errors: forbidden.
func mayChange(members []Member, actor *identity.User) error {
	if !msgrequest.MayChange(memberState(members, actor.ID)) {
		return errcode.New(errcode.Forbidden, "%s", acceptToChange)
	}
	return nil
}

// existingPair returns the pair's existing oneOnOne chat to the actor who
// asks to create it again (msgrequest.Reopen): while the other person's
// decline of a request from the actor (or their block on one) holds, it
// fails with recipientUnavailable, as sends in the chat do; after the
// cool-down the chat is returned as before. A chat that policy made
// read-only is still returned, readable.
func (s *Service) existingPair(ctx context.Context, actor *identity.User, existing Chat) (Chat, bool, error) {
	if existing.ViewerState == Accepted && existing.External {
		_, members, err := s.Store.FindChat(ctx, existing.ID, actor.ID)
		if err != nil {
			return Chat{}, false, fmt.Errorf("create chat: %w", err)
		}
		for i := range members {
			o := &members[i]
			if o.UserID == "" || o.UserID == actor.ID {
				continue
			}
			d, err := s.Policy.Start(ctx, actor, &o.User)
			if err != nil {
				return Chat{}, false, fmt.Errorf("create chat: %w", err)
			}
			if msgrequest.Reopen(msgrequest.VerdictOf(&d)) == msgrequest.Unavailable {
				return Chat{}, false, errcode.New(errcode.RecipientUnavailable, "%s", policy.UnavailableMessage)
			}
		}
	}
	return s.takeUp(ctx, actor, existing)
}

// takeUp returns the existing oneOnOne chat of a pair to the actor who asks
// to create it again. An actor who is not an accepted member (a request to
// them is pending, held silently, or was declined) starts the chat anew
// (msgrequest.TakeUp).
func (s *Service) takeUp(ctx context.Context, actor *identity.User, existing Chat) (Chat, bool, error) {
	if existing.ViewerState == Accepted {
		return existing, false, nil
	}
	c, members, err := s.Store.FindChatAny(ctx, existing.ID)
	if err != nil {
		return Chat{}, false, fmt.Errorf("take up chat: %w", err)
	}
	var me, other *Member
	for i := range members {
		if members[i].UserID == actor.ID {
			me = &members[i]
		} else {
			other = &members[i]
		}
	}
	if me == nil || other == nil || other.UserID == "" {
		return Chat{}, false, errcode.New(errcode.NotFound, "No chat %s.", existing.ID)
	}
	d, err := s.Policy.Start(ctx, actor, &other.User)
	if err != nil {
		return Chat{}, false, fmt.Errorf("take up chat: %w", err)
	}
	join, fromNow := msgrequest.TakeUp(me.State, me.Held, msgrequest.VerdictOf(&d))
	if !join {
		return Chat{}, false, refusal(&d)
	}
	m := *me
	if fromNow {
		m.VisibleFrom = s.Now()
	}
	m.State, m.Held = Accepted, false
	c.ViewerState = Accepted
	drafts := []event.Draft{{UserID: actor.ID, Type: event.ChatCreated, ChatID: string(c.ID), Payload: s.Encoder.ChatEvent(actor, event.ChatCreated, &c)}}
	evs, err := s.Store.AcceptMember(ctx, m, other.UserID, s.Now(), drafts)
	if err != nil {
		return Chat{}, false, fmt.Errorf("take up chat: %w", err)
	}
	s.publish(ctx, evs)
	c.LastReadAt = m.LastReadAt
	return c, false, nil
}
