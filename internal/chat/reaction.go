package chat

import (
	"context"
	"fmt"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
)

// Reaction is one member's reaction to a message (Graph
// chatMessageReaction). User is a snapshot of the reacting account (id,
// tenant, kind, name) taken when they reacted, so a message list needs no
// user lookups to describe it.
type Reaction struct {
	Type      string
	UserID    identity.UserID
	User      identity.User
	CreatedAt time.Time
}

// Limits on reactions (docs/decisions.md "Daily chat").
const (
	// MaxReactionTypes caps the distinct reactions on one message.
	MaxReactionTypes = 20
	// MaxReactionsPerUser caps one person's reactions on one message.
	MaxReactionsPerUser = 10
	// maxReactionBytes bounds one reaction: the longest emoji sequences
	// (a family with skin tones) take about 35 bytes.
	maxReactionBytes = 64
)

// legacyReactions are Graph's named reaction types, kept beside emoji.
var legacyReactions = []string{"like", "heart", "laugh", "surprised", "sad", "angry"}

// CheckReactionType reports whether typ is a reaction Parley stores: one of
// Graph's named reactions, or one emoji (a sequence of symbols, with the
// joiners, variation selectors, skin tones, keycaps and tags emoji use).
// Errors: badRequest.
func CheckReactionType(typ string) error {
	if slices.Contains(legacyReactions, typ) {
		return nil
	}
	bad := errcode.New(errcode.BadRequest, "reactionType must be an emoji or one of like, heart, laugh, surprised, sad, angry.")
	if typ == "" || len(typ) > maxReactionBytes || !utf8.ValidString(typ) {
		return bad
	}
	symbols := 0
	for i, r := range typ {
		switch {
		case unicode.Is(unicode.So, r), unicode.Is(unicode.Sk, r) && r >= 0x1F3FB && r <= 0x1F3FF:
			symbols++
		case r == 0x200D, r == 0xFE0F, r == 0xFE0E, r == 0x20E3, r >= 0xE0020 && r <= 0xE007F:
			// joiner, variation selectors, keycap, tag characters
			if i == 0 {
				return bad
			}
		case (r >= '0' && r <= '9') || r == '#' || r == '*':
			// a keycap's base: only before U+FE0F U+20E3
			rest := typ[i+1:]
			if i != 0 || (rest != "\uFE0F\u20E3" && rest != "\u20E3") {
				return bad
			}
			symbols++
		case r == 0xA9 || r == 0xAE || r == 0x203C || r == 0x2049 || r == 0x2122 || r == 0x2139 || (r >= 0x2194 && r <= 0x21AA):
			symbols++ // emoji that Unicode files outside So
		default:
			return bad
		}
	}
	if symbols == 0 {
		return bad
	}
	return nil
}

// React sets (set=true) or removes the actor's reaction typ on a message.
// Setting a reaction one has already set, or removing one that is not
// there, changes nothing and is no error (Graph answers 204 either way).
// Only accepted members react (docs/rules.md §5: nothing reaches the
// sender from a target who has not accepted), not in a read-only chat
// (§4), and only to messages the actor may see. The members who may see
// the message get it again (messageUpdated), except the targets of a
// pending request, who see the preview form, which has no reactions.
// Errors: notFound, badRequest, forbidden, chatReadOnly.
func (s *Service) React(ctx context.Context, actor *identity.User, id ID, mid MessageID, typ string, set bool) error {
	c, members, err := s.findChat(ctx, id, actor)
	if err != nil {
		return fmt.Errorf("react in %s: %w", id, err)
	}
	me := memberOf(members, actor.ID)
	if !msgrequest.MayChange(me.State) {
		return errcode.New(errcode.Forbidden, "Accept the message request before reacting.")
	}
	if err := CheckReactionType(typ); err != nil {
		return err
	}
	if err := s.writable(ctx, actor, &c, members); err != nil {
		return err
	}
	now := s.Now()
	changed := false
	var stored Message
	change := func(m *Message) error {
		if m.Deleted() || m.CreatedAt.Before(me.VisibleFrom) {
			return errcode.New(errcode.NotFound, "No message %d in this chat.", mid)
		}
		var cerr error
		if set {
			m.Reactions, changed, cerr = addReaction(m.Reactions, Reaction{Type: typ, UserID: actor.ID, User: snapshot(actor), CreatedAt: now})
		} else {
			m.Reactions, changed = removeReaction(m.Reactions, actor.ID, typ)
		}
		return cerr
	}
	evs, err := s.Store.UpdateReactions(ctx, id, mid, change, func(m *Message) []event.Draft {
		if !changed {
			return nil
		}
		stored = *m
		return s.reactionDrafts(members, m)
	})
	if err != nil {
		return fmt.Errorf("react to %d: %w", mid, err)
	}
	s.publish(ctx, evs)
	if changed && stored.App.ID != "" && s.Reacted != nil {
		s.Reacted(ctx, actor, &stored, typ, set)
	}
	return nil
}

// snapshot is the part of an account a reaction keeps.
func snapshot(u *identity.User) identity.User {
	return identity.User{ID: u.ID, TenantID: u.TenantID, Kind: u.Kind, DisplayName: u.DisplayName}
}

// addReaction adds r unless its author has it already; it reports whether
// anything changed. Errors: badRequest past the limits.
func addReaction(rs []Reaction, r Reaction) ([]Reaction, bool, error) {
	types := map[string]bool{}
	mine := 0
	for _, x := range rs {
		if x.UserID == r.UserID {
			if x.Type == r.Type {
				return rs, false, nil
			}
			mine++
		}
		types[x.Type] = true
	}
	if !types[r.Type] && len(types) >= MaxReactionTypes {
		return rs, false, errcode.New(errcode.BadRequest, "A message may have at most %d different reactions.", MaxReactionTypes)
	}
	if mine >= MaxReactionsPerUser {
		return rs, false, errcode.New(errcode.BadRequest, "You may add at most %d reactions to one message.", MaxReactionsPerUser)
	}
	return append(rs, r), true, nil
}

// removeReaction removes user's reaction typ and reports whether it was there.
func removeReaction(rs []Reaction, user identity.UserID, typ string) ([]Reaction, bool) {
	i := slices.IndexFunc(rs, func(x Reaction) bool { return x.UserID == user && x.Type == typ })
	if i < 0 {
		return rs, false
	}
	return slices.Delete(rs, i, i+1), true
}

// reactionDrafts are the messageUpdated events of a reaction: to the
// accepted members who may see the message. Targets of a pending request
// see the preview form, which carries no reactions, so they get nothing
// (docs/rules.md §5); held and declined members get nothing (§4).
func (s *Service) reactionDrafts(members []Member, m *Message) []event.Draft {
	drafts := make([]event.Draft, 0, len(members))
	for i := range members {
		mb := &members[i]
		if mb.UserID == "" || msgrequest.MessageForm(mb.State, mb.Held) != msgrequest.Full || m.CreatedAt.Before(mb.VisibleFrom) {
			continue
		}
		drafts = append(drafts, event.Draft{UserID: mb.UserID, Type: event.MessageUpdated, ChatID: string(m.ChatID), Payload: s.Encoder.MessageEvent(&mb.User, event.MessageUpdated, m)})
	}
	return drafts
}
