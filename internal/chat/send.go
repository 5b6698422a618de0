package chat

import (
	"context"
	"fmt"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/policy"
)

// findChat returns a chat the actor may see: not while a request to them is
// held silently or after they declined it (the chat does not exist for
// them). Errors: notFound.
func (s *Service) findChat(ctx context.Context, id ID, actor *identity.User) (Chat, []Member, error) {
	c, members, err := s.Store.FindChat(ctx, id, actor.ID)
	if err != nil {
		return Chat{}, nil, err
	}
	me := memberOf(members, actor.ID)
	if me.Held || me.State == Declined {
		return Chat{}, nil, errcode.New(errcode.NotFound, "No chat %s.", id)
	}
	return c, members, nil
}

// parties loads policy facts once per user for one decision round.
type parties struct {
	s *Service
	m map[identity.UserID]*policy.Party
}

func (p *parties) get(ctx context.Context, u *identity.User) (*policy.Party, error) {
	if pp, ok := p.m[u.ID]; ok {
		return pp, nil
	}
	pp, err := p.s.Policy.Party(ctx, u)
	if err != nil {
		return nil, err
	}
	p.m[u.ID] = &pp
	return &pp, nil
}

// readOnlyMessage says whose setting made a chat read-only, relative to the
// viewer (docs/rules.md §4: in a chat both sides accepted, that is no news).
func readOnlyMessage(own bool) string {
	if own {
		return "Your organisation's settings no longer allow this chat, so it is read-only."
	}
	return "The other side's settings no longer allow this chat, so it is read-only."
}

// relationRefusal reports whether a refusal comes from the target's own
// answer to a request (decline or block on it): recipientUnavailable.
func relationRefusal(d *policy.Decision) bool {
	for _, c := range d.Checks() {
		if !c.Value && c.Side == policy.OtherSide && (c.Rule == policy.RuleDeclined || (c.Rule == policy.RuleBlock && c.Source == policy.SourceRequestBlock)) {
			return true
		}
	}
	return false
}

// talk decides every pair of accepted members of an external chat (docs/rules.md §4
// mayTalk must hold for every pair). It returns the first refusal, the
// party blamed for it, and whether the blamed party is p's side.
func (s *Service) talk(ctx context.Context, ps *parties, c *Chat, members []Member, sender *identity.User) (*policy.Decision, *identity.User, error) {
	var acc []*Member
	for i := range members {
		if members[i].State == Accepted && members[i].UserID != "" && !meetingOnly(&members[i]) {
			acc = append(acc, &members[i])
		}
	}
	// The sender's pairs first, so the sender's refusal names their view.
	if sender != nil {
		for i, m := range acc {
			if m.UserID == sender.ID {
				acc[0], acc[i] = acc[i], acc[0]
			}
		}
	}
	for i := 0; i < len(acc); i++ {
		pp, err := ps.get(ctx, &acc[i].User)
		if err != nil {
			return nil, nil, err
		}
		for j := i + 1; j < len(acc); j++ {
			pq, err := ps.get(ctx, &acc[j].User)
			if err != nil {
				return nil, nil, err
			}
			var rel policy.Relation
			if c.Type == OneOnOne {
				if rel, err = s.Policy.Relation(ctx, acc[i].UserID, acc[j].UserID); err != nil {
					return nil, nil, err
				}
			}
			d := policy.MayTalk(pp, pq, rel)
			if d.Outcome != policy.Allowed {
				blamed := &acc[j].User
				if d.Side == policy.OwnSide {
					blamed = &acc[i].User
				}
				return &d, blamed, nil
			}
		}
	}
	return nil, nil, nil
}

// blame is what ReadOnlyBy stores for the party whose setting refused.
func blame(u *identity.User) string {
	if u.TenantID == "" {
		return "personal:" + string(u.ID)
	}
	return string(u.TenantID)
}

// ownBlame reports whether by names the viewer's side.
func ownBlame(by string, viewer *identity.User) bool {
	return by == string(viewer.TenantID) || by == "personal:"+string(viewer.ID)
}

// maySend applies docs/rules.md §4–§5 to a send by actor and returns the members
// whose silent hold changed (to store before the message), and the cap on
// the actor's messages in the chat when a request of theirs is pending
// (0: none; the store counts against it inside the write). Errors:
// forbidden (a pending target replying before accepting), chatReadOnly,
// recipientUnavailable, messageRequestLimitReached. The chat's read-only
// flag follows the decision: when this send finds it stale (refused as
// read-only while the chat says writable, or allowed while it says
// read-only), the chat is re-decided and its members told, as after a
// policy change.
func (s *Service) maySend(ctx context.Context, actor *identity.User, c *Chat, members []Member) ([]Member, int, error) {
	changed, capped, err := s.decideSend(ctx, actor, c, members)
	if readOnly := errcode.Is(err, errcode.ChatReadOnly); (err == nil || readOnly) && c.External && readOnly != (c.ReadOnlyBy != "") {
		// Best effort: the send's answer stands either way, and the next
		// re-evaluation or send repeats the repair.
		_ = s.reevaluateReadOnly(ctx, c.ID)
	}
	return changed, capped, err
}

func (s *Service) decideSend(ctx context.Context, actor *identity.User, c *Chat, members []Member) ([]Member, int, error) {
	me := memberOf(members, actor.ID)
	if me.State != Accepted {
		return nil, 0, errcode.New(errcode.Forbidden, "Accept the message request before replying.")
	}
	if !c.External {
		return nil, 0, nil // docs/rules.md §7: an internal chat never has external people
	}
	ps := &parties{s: s, m: map[identity.UserID]*policy.Party{}}
	d, blamed, err := s.talk(ctx, ps, c, members, actor)
	if err != nil {
		return nil, 0, fmt.Errorf("decide send: %w", err)
	}
	if d != nil {
		if c.Type == OneOnOne && relationRefusal(d) {
			return nil, 0, errcode.New(errcode.RecipientUnavailable, "%s", policy.UnavailableMessage)
		}
		return nil, 0, errcode.New(errcode.ChatReadOnly, "%s", readOnlyMessage(ownBlame(blame(blamed), actor)))
	}
	var changed []Member
	pendingMine := false
	now := s.Now()
	for i := range members {
		m := members[i]
		if m.UserID == actor.ID {
			continue
		}
		switch m.State {
		case Declined:
			if c.Type == OneOnOne {
				return nil, 0, errcode.New(errcode.RecipientUnavailable, "%s", policy.UnavailableMessage)
			}
		case Pending:
			if m.RequestFrom == "" {
				continue
			}
			if m.RequestFrom != actor.ID {
				// Another member's request: when its sender may no longer
				// make it, the chat is read-only for everyone, as when a
				// pair of accepted members may no longer talk.
				by, err := s.requestBlame(ctx, ps, members, &m)
				if err != nil {
					return nil, 0, fmt.Errorf("decide send: %w", err)
				}
				if by != "" {
					return nil, 0, errcode.New(errcode.ChatReadOnly, "%s", readOnlyMessage(ownBlame(by, actor)))
				}
				continue
			}
			pendingMine = true
			d, err := s.decideRequest(ctx, ps, actor, &m)
			if err != nil {
				return nil, 0, fmt.Errorf("decide send: %w", err)
			}
			switch d.Outcome {
			case policy.Refused:
				if relationRefusal(&d) {
					return nil, 0, errcode.New(errcode.RecipientUnavailable, "%s", policy.UnavailableMessage)
				}
				return nil, 0, errcode.New(errcode.ChatReadOnly, "%s", readOnlyMessage(d.Side == policy.OwnSide))
			case policy.Held:
				if m.UserID != "" && !m.Held {
					m.Held = true
					changed = append(changed, m)
				}
			default:
				if m.UserID != "" && m.Held {
					// docs/rules.md §4: a lifted refusal delivers the request from now on,
					// with only the messages sent after this moment.
					m.Held, m.VisibleFrom = false, now
					changed = append(changed, m)
				}
			}
		}
	}
	if pendingMine {
		return changed, MaxPendingMessages, nil
	}
	return changed, 0, nil
}

// decideRequest decides whether from may still make the pending request
// to m (docs/rules.md §4 mayStart, inbound switches included: the target has not
// accepted). A member known only by the typed address (an invitation, or
// an organisation's address no account owns) is decided by its address,
// so the answer does not depend on whether an account owns it (docs/rules.md §6).
func (s *Service) decideRequest(ctx context.Context, ps *parties, from *identity.User, m *Member) (policy.Decision, error) {
	if m.UserID == "" {
		return s.Policy.StartAddress(ctx, from, domainOf(m.Address))
	}
	pf, err := ps.get(ctx, from)
	if err != nil {
		return policy.Decision{}, err
	}
	pt, err := ps.get(ctx, &m.User)
	if err != nil {
		return policy.Decision{}, err
	}
	rel, err := s.Policy.Relation(ctx, from.ID, m.UserID)
	if err != nil {
		return policy.Decision{}, err
	}
	return policy.MayStart(pf, pt, rel), nil
}

// requestBlame decides the pending request to m and returns whose setting
// refuses it ("" when it may stand): its sender's own side, or the
// target's organisation. Only what a send refuses as chatReadOnly counts:
// a held request is silent (docs/rules.md §4), and a decline or block on a request
// answers recipientUnavailable to its sender alone. A request whose sender
// is no longer an accepted member is no pair of the chat's members.
func (s *Service) requestBlame(ctx context.Context, ps *parties, members []Member, m *Member) (string, error) {
	from := memberOf(members, m.RequestFrom)
	if from.UserID == "" || from.State != Accepted {
		return "", nil
	}
	d, err := s.decideRequest(ctx, ps, &from.User, m)
	if err != nil {
		return "", err
	}
	if d.Outcome != policy.Refused || relationRefusal(&d) {
		return "", nil
	}
	switch {
	case d.Side == policy.OwnSide:
		return blame(&from.User), nil
	case m.UserID != "":
		return blame(&m.User), nil
	default:
		// No account behind the address: its organisation, by domain.
		return "domain:" + domainOf(m.Address), nil
	}
}

// storeHolds stores members whose silent hold changed; a lifted hold
// delivers the request to its target.
func (s *Service) storeHolds(ctx context.Context, c *Chat, changed []Member, from *identity.User) error {
	for i := range changed {
		m := &changed[i]
		var drafts []event.Draft
		if !m.Held {
			drafts = s.arrivalDrafts(c, []Member{*m}, from)
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
	// Silently held requests whose refusal was lifted are delivered now.
	now := s.Now()
	for i := range members {
		m := members[i]
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
		hold := d.Outcome == policy.Held
		if hold == m.Held || d.Outcome == policy.Refused {
			continue
		}
		m.Held = hold
		if !hold {
			m.VisibleFrom = now
		}
		if err := s.storeHolds(ctx, &c, []Member{m}, &from); err != nil {
			return err
		}
	}
	return nil
}

// readOnlyBy decides whether a chat is read-only and whose setting made it
// so ("" when writable): a pair of accepted members that may no longer talk
// (docs/rules.md §4 mayTalk), or a pending request its sender may no longer make
// (mayStart; maySend refuses the sender's messages alike).
func (s *Service) readOnlyBy(ctx context.Context, c *Chat, members []Member) (string, error) {
	ps := &parties{s: s, m: map[identity.UserID]*policy.Party{}}
	d, blamed, err := s.talk(ctx, ps, c, members, nil)
	if err != nil {
		return "", err
	}
	if d != nil {
		return blame(blamed), nil
	}
	for i := range members {
		m := &members[i]
		if m.State != Pending || m.RequestFrom == "" {
			continue
		}
		by, err := s.requestBlame(ctx, ps, members, m)
		if err != nil || by != "" {
			return by, err
		}
	}
	return "", nil
}

// setReadOnly re-decides a chat's read-only state and, when it changed,
// stores it with a chatReadOnly or chatWritable event to every accepted
// member, each told whose side's setting it is. Pending targets are not
// told: the chat is not theirs yet (their request is), and a held target
// must hear nothing (docs/rules.md §4).
func (s *Service) setReadOnly(ctx context.Context, c *Chat, members []Member) error {
	by, err := s.readOnlyBy(ctx, c, members)
	if err != nil || by == c.ReadOnlyBy {
		return err
	}
	typ := event.ChatWritable
	if by != "" {
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
		if by != "" {
			reason = readOnlyMessage(ownBlame(by, &m.User))
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
	if c.ReadOnlyBy == "" {
		return ""
	}
	return readOnlyMessage(ownBlame(c.ReadOnlyBy, viewer))
}

// takeUp returns the existing oneOnOne chat of a pair to the actor who asks
// to create it again. An actor who is not an accepted member (a request to
// them is pending, held silently, or was declined) starts the chat anew:
// the policy decides as for a new chat, and if allowed the actor joins it
// from now on and the pair become contacts (starting a chat is consent).
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
	if d.Outcome == policy.Refused {
		return Chat{}, false, refusal(&d)
	}
	m := *me
	if m.Held || m.State == Declined {
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
