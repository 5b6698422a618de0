package chat

import (
	"context"
	"strings"

	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
	"github.com/parleychat/parley/internal/policy"
)

// This file is the loader of the request rules: it gathers what
// msgrequest's pure decisions read (each member's state, the parties'
// policy facts, the pair and request decisions of docs/rules.md §4) and
// decides nothing itself.

// parties loads policy facts once per user for one decision round.
type parties struct {
	s *Service
	m map[identity.UserID]*policy.Party
}

func (s *Service) parties() *parties {
	return &parties{s: s, m: map[identity.UserID]*policy.Party{}}
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

// memberFacts is what the request rules read of one member, without the
// decision of its request (loadRequests adds it).
func memberFacts(m *Member) msgrequest.Member {
	f := msgrequest.Member{User: m.UserID, State: m.State, Held: m.Held, RequestFrom: m.RequestFrom}
	if m.UserID != "" {
		f.Party = msgrequest.BlameOf(&m.User)
	} else {
		// No account behind the address: its organisation, by domain.
		f.Party = msgrequest.DomainBlame(domainOf(m.Address))
	}
	return f
}

// What a round of loading gathers beyond the members.
const (
	loadTalk     = 1 << iota // the first pair that may no longer talk
	loadRequests             // the decision of each pending request
)

// loadFacts gathers into f the facts of a chat for msgrequest's
// decisions, f.Members being the facts of members (appendMemberFacts):
// for an external chat, the first pair of accepted members that may no
// longer talk (the sender's pairs first) and, while every pair may, the
// decision of each pending request whose sender is the sender or an
// accepted member. sender is nil when the chat is
// re-decided. A sender who has not accepted is decided without policy
// facts (the decision reads none for them), as is an internal chat
// (docs/rules.md §7).
func (s *Service) loadFacts(ctx context.Context, f *msgrequest.Facts, c *Chat, members []Member, sender *identity.User, what int) error {
	f.OneOnOne, f.External = c.Type == OneOnOne, c.External
	if sender != nil {
		f.Sender = sender.ID
	}
	if !c.External || (sender != nil && memberState(members, sender.ID) != Accepted) {
		return nil
	}
	ps := s.parties()
	if what&loadTalk != 0 {
		p, err := s.loadTalk(ctx, ps, c, members, sender)
		if err != nil {
			return err
		}
		f.Talk = p
		if !p.Verdict.Allowed() {
			return nil // every decision reads the refused pair first
		}
	}
	if what&loadRequests != 0 {
		return s.loadRequests(ctx, ps, f, members, sender)
	}
	return nil
}

// appendMemberFacts appends the facts of members to dst. It returns dst
// rather than appending through a pointer, so a caller's array on its
// stack stays there.
func appendMemberFacts(dst []msgrequest.Member, members []Member) []msgrequest.Member {
	for i := range members {
		dst = append(dst, memberFacts(&members[i]))
	}
	return dst
}

// memberState is the state of a chat's member id ("" when none).
func memberState(members []Member, id identity.UserID) RequestState {
	for i := range members {
		if members[i].UserID == id {
			return members[i].State
		}
	}
	return ""
}

// loadTalk decides every pair of accepted members of an external chat
// (docs/rules.md §4 mayTalk must hold for every pair) and returns the first
// that may not talk, decided from the side of its first member; the
// sender's pairs come first, so a refusal names the sender's view.
func (s *Service) loadTalk(ctx context.Context, ps *parties, c *Chat, members []Member, sender *identity.User) (msgrequest.Pair, error) {
	var acc []*Member
	for i := range members {
		if members[i].State == Accepted && members[i].UserID != "" && !meetingOnly(&members[i]) {
			acc = append(acc, &members[i])
		}
	}
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
			return msgrequest.Pair{}, err
		}
		for j := i + 1; j < len(acc); j++ {
			pq, err := ps.get(ctx, &acc[j].User)
			if err != nil {
				return msgrequest.Pair{}, err
			}
			var rel policy.Relation
			if c.Type == OneOnOne {
				if rel, err = s.Policy.Relation(ctx, acc[i].UserID, acc[j].UserID); err != nil {
					return msgrequest.Pair{}, err
				}
			}
			if d := policy.MayTalk(pp, pq, rel); !d.Allowed() {
				return msgrequest.Pair{Verdict: msgrequest.VerdictOf(&d), P: msgrequest.BlameOf(&acc[i].User), Q: msgrequest.BlameOf(&acc[j].User)}, nil
			}
		}
	}
	return msgrequest.Pair{}, nil
}

// loadRequests decides each pending request whose sender is the sender of
// this round or an accepted member: may that sender still make it.
func (s *Service) loadRequests(ctx context.Context, ps *parties, f *msgrequest.Facts, members []Member, sender *identity.User) error {
	for i := range members {
		m := &members[i]
		if m.State != Pending || m.RequestFrom == "" {
			continue
		}
		var from *identity.User
		if sender != nil && m.RequestFrom == sender.ID {
			from = sender
		} else if fm := memberOf(members, m.RequestFrom); fm.UserID != "" && fm.State == Accepted {
			from = &fm.User
		} else {
			continue
		}
		d, err := s.decideRequest(ctx, ps, from, m)
		if err != nil {
			return err
		}
		f.Members[i].Request = msgrequest.VerdictOf(&d)
	}
	return nil
}

// decideRequest decides whether from may still make the pending request
// to m (docs/rules.md §4 mayStart, inbound switches included: the target
// has not accepted). A member known only by the typed address (an
// invitation, or an organisation's address no account owns) is decided by
// its address, so the answer does not depend on whether an account owns it
// (docs/rules.md §6).
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

// domainOf is the domain of an e-mail address, "" for a phone number.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}
