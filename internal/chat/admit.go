package chat

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/parleychat/parley/internal/address"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
	"github.com/parleychat/parley/internal/outbox"
	"github.com/parleychat/parley/internal/policy"
)

// Policy is what chat asks before every creation, addition and send
// (docs/rules.md §4). policy.Service implements it.
type Policy interface {
	// Start decides whether i may start a chat with, or add, t.
	Start(ctx context.Context, i, t *identity.User) (policy.Decision, error)
	// StartAddress decides for an address no account owns.
	StartAddress(ctx context.Context, i *identity.User, domain string) (policy.Decision, error)
	// Party loads the facts of one user.
	Party(ctx context.Context, u *identity.User) (policy.Party, error)
	// Relation loads the blocks and declines between two users.
	Relation(ctx context.Context, i, t identity.UserID) (policy.Relation, error)
	// AddressParty is the party an address no account owns stands for,
	// from its domain ("" for a phone number).
	AddressParty(ctx context.Context, domain string) (policy.Party, error)
}

// Inviter prepares the invitation of a member no account owns (docs/rules.md §6),
// which the store writes with the chat, in one transaction, so an
// acknowledged chat always has its invitation and both paths cost the same.
type Inviter interface {
	// Prepare builds the invitation and its message.
	Prepare(ctx context.Context, actor *identity.User, c *Chat, m *Member) (Invitation, error)
	// Sent is told after the invitations were stored (wakes the outbox).
	Sent(ctx context.Context, actor *identity.User, invs []Invitation)
}

// Invitation is an invitation to store with its chat: the hash of the
// link's token and the message that carries the link.
type Invitation struct {
	TokenHash string
	ChatID    ID
	MemberID  string
	Address   string
	InviterID identity.UserID
	CreatedAt time.Time
	ExpiresAt time.Time
	Message   outbox.Message
}

// target is a person to add: an account, or an address no account owns
// (or one the caller must not learn is owned).
type target struct {
	user    *identity.User
	address string // normalised address the caller typed; "" when bound by id
}

// peer is the target as the other side of a oneOnOne chat.
func (t target) peer() Peer {
	if t.user != nil {
		return UserPeer(t.user.ID)
	}
	return AddressPeer(t.address)
}

// refusal turns a refused decision into the error the caller may see.
func refusal(d *policy.Decision) error {
	return errcode.New(d.Code, "%s", sentence(d.Message))
}

func sentence(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	out := string(r)
	if !strings.HasSuffix(out, ".") {
		out += "."
	}
	return out
}

// resolve turns a requested member into a target. Errors: badRequest
// (unparseable address), notFound (an unknown id).
func (s *Service) resolve(ctx context.Context, actor *identity.User, nm NewMember) (target, error) {
	if nm.UserID != "" {
		u, err := s.Store.FindUserByID(ctx, nm.UserID)
		if errcode.Is(err, errcode.NotFound) || (err == nil && u.Kind == identity.Anonymous) {
			// An anonymous participant exists only inside its meeting (docs/rules.md §8).
			return target{}, errcode.New(errcode.NotFound, "No user %s.", nm.UserID)
		}
		if err != nil {
			return target{}, fmt.Errorf("load member %s: %w", nm.UserID, err)
		}
		// Users of other tenants are bound by id only when the caller can
		// see them (a shared chat); otherwise the id says nothing.
		if u.TenantID != actor.TenantID || actor.TenantID == "" {
			ok, err := s.Store.SharesChat(ctx, actor.ID, u.ID)
			if err != nil {
				return target{}, fmt.Errorf("load member %s: %w", nm.UserID, err)
			}
			if !ok && u.ID != actor.ID {
				return target{}, errcode.New(errcode.NotFound, "No user %s.", nm.UserID)
			}
		}
		return target{user: &u}, nil
	}
	var addr address.Address
	var err error
	switch {
	case nm.Email != "" && nm.Phone != "":
		return target{}, errcode.New(errcode.BadRequest, "Give either email or phoneNumber, not both.")
	case nm.Email != "":
		addr, err = address.ParseEmail(nm.Email)
	default:
		addr, err = address.ParsePhone(nm.Phone, s.PhoneRegion)
	}
	if err != nil {
		return target{}, err
	}
	if addr.Value == actor.UPN || addr.Value == actor.Mail || addr.Value == actor.Phone {
		return target{user: actor, address: addr.Value}, nil // the caller lists themself
	}
	u, err := s.find(ctx, actor, addr)
	if errcode.Is(err, errcode.NotFound) {
		return target{address: addr.Value}, nil
	}
	if err != nil {
		return target{}, err
	}
	return target{user: &u, address: addr.Value}, nil
}

// find returns the account that owns addr, as docs/rules.md §6 lets actor find it:
// exact match only; a personal user finds managed users by e-mail only;
// guests are found only inside their host tenant; an address of an
// organisation's verified domain is that organisation's (docs/rules.md §1), so it
// never reaches a guest elsewhere or an account made before the domain was
// verified. Errors: notFound.
func (s *Service) find(ctx context.Context, actor *identity.User, addr address.Address) (identity.User, error) {
	users, err := s.Store.FindUsersByAddress(ctx, addr.Value)
	if err != nil {
		return identity.User{}, fmt.Errorf("find %s: %w", addr.Kind, err)
	}
	var owner identity.TenantID
	if d := addr.Domain(); d != "" {
		p, err := s.Policy.AddressParty(ctx, d)
		if err != nil {
			return identity.User{}, fmt.Errorf("find %s: %w", addr.Kind, err)
		}
		if p.Kind == policy.Member {
			owner = identity.TenantID(p.TenantID)
		}
	}
	var best *identity.User
	rank := func(u *identity.User) int {
		switch {
		case actor.TenantID != "" && u.TenantID == actor.TenantID:
			return 3 // someone of the caller's own organisation
		case u.Kind == identity.Member:
			return 2
		default:
			return 1
		}
	}
	for i := range users {
		u := &users[i]
		switch {
		case u.ID == actor.ID:
			continue
		case owner != "" && u.TenantID != owner:
			continue // issue 11 item 8: no shadow of an organisation's address
		case u.Kind == identity.Guest && u.TenantID != actor.TenantID:
			continue
		case actor.Kind == identity.Personal && u.Kind == identity.Member && addr.Kind != address.Email:
			continue
		}
		if best == nil || rank(u) > rank(best) {
			best = u
		}
	}
	if best == nil {
		return identity.User{}, errcode.New(errcode.NotFound, "No account owns this address.")
	}
	return *best, nil
}

// admission is how a target joins a new chat.
type admission struct {
	member Member
	invite bool // send an invitation once the chat is stored
}

// admit applies docs/rules.md §4–§6 to one target: it loads the facts
// (the policy decision, whether the pair are contacts), msgrequest.Admit
// decides (refused, an error the caller may see; held silently; a pending
// request, with an invitation for an address; or accepted at once), and
// admit fills in the member to write.
func (s *Service) admit(ctx context.Context, actor *identity.User, tg target, m Member) (admission, error) {
	m.Address = tg.address
	var d policy.Decision
	var err error
	t := msgrequest.Target{Account: tg.user != nil}
	if tg.user == nil {
		d, err = s.Policy.StartAddress(ctx, actor, domainOf(tg.address))
	} else {
		u := tg.user
		m.UserID, m.User = u.ID, *u
		if m.Address == "" && u.ExternalTo(actor) {
			m.Address = u.Mail
			if m.Address == "" {
				m.Address = u.Phone
			}
		}
		d, err = s.Policy.Start(ctx, actor, u)
	}
	if err != nil {
		return admission{}, err
	}
	t.Verdict = msgrequest.VerdictOf(&d)
	if tg.user != nil && t.Verdict.Allowed() && tg.user.ExternalTo(actor) {
		// docs/rules.md §5: a pair that accepted each other before needs no new request.
		t.External = true
		if t.Contacts, err = s.Store.AreContacts(ctx, actor.ID, tg.user.ID); err != nil {
			return admission{}, fmt.Errorf("admit %s: %w", tg.user.ID, err)
		}
	}
	switch a := msgrequest.Admit(t); a {
	case msgrequest.Refuse:
		return admission{}, refusal(&d)
	case msgrequest.Join:
		m.State = Accepted
	default:
		m.State, m.RequestFrom, m.Held = Pending, actor.ID, a == msgrequest.HoldSilently
		return admission{member: m, invite: a == msgrequest.Invite}, nil
	}
	return admission{member: m}, nil
}

// together applies docs/rules.md §4 rule 7 to bringing newcomers into a chat that
// holds members: a guest chats only inside its host tenant and is never a
// party to a chat with anyone outside it. policy.MayMeet decides every
// newcomer with every member and with every newcomer before it. The actor's
// own pairs are left out: MayStart decides them (in admit), with the rule of
// silence. Members are judged by their account, or, known only by the
// address typed (pending), by what the address stands for (policy
// AddressParty); declined and held members count too, since they are still
// members of the chat. Errors: forbiddenByPolicy.
func (s *Service) together(ctx context.Context, actor *identity.User, members []Member, newcomers []target) error {
	byDomain := map[string]policy.Party{}
	side := func(u *identity.User, addr string) (policy.Party, error) {
		if u != nil && u.ID != "" {
			return policy.Membership(u), nil
		}
		d := domainOf(addr)
		if p, ok := byDomain[d]; ok {
			return p, nil
		}
		p, err := s.Policy.AddressParty(ctx, d)
		if err != nil {
			return policy.Party{}, fmt.Errorf("decide members: %w", err)
		}
		byDomain[d] = p
		return p, nil
	}
	ps := make([]policy.Party, 0, len(members)+len(newcomers))
	for i := range members {
		if (members[i].UserID != "" && members[i].UserID == actor.ID) || meetingOnly(&members[i]) {
			continue
		}
		p, err := side(&members[i].User, members[i].Address)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	for _, tg := range newcomers {
		if tg.user != nil && tg.user.ID == actor.ID {
			continue
		}
		p, err := side(tg.user, tg.address)
		if err != nil {
			return err
		}
		for j := range ps {
			if d := policy.MayMeet(&p, &ps[j]); !d.Allowed() {
				return refusal(&d)
			}
		}
		ps = append(ps, p)
	}
	return nil
}
