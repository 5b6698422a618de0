package presence

import (
	"context"
	"fmt"
	"time"

	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
)

// PresenceChanged is the event that tells a presence change. It is
// ephemeral, as typing is: sent to open connections now, never stored.
const PresenceChanged = event.PresenceChanged

// Store keeps connections, chosen statuses and the facts visibility needs.
type Store interface {
	// SavePresenceNode records that node is alive at at, and forgets the
	// nodes (and their sessions) not seen since forgetBefore.
	SavePresenceNode(ctx context.Context, node string, at, forgetBefore time.Time) error
	// ForgetPresenceNode removes a node and its sessions (it stops).
	ForgetPresenceNode(ctx context.Context, node string) error
	// SavePresenceSession stores user's open connections on node and when
	// they were last active (conns 0: removes them).
	SavePresenceSession(ctx context.Context, node string, user identity.UserID, conns int, activeAt time.Time) error
	// SavePresenceActivity moves user's last activity forward on every node.
	SavePresenceActivity(ctx context.Context, user identity.UserID, at time.Time) error
	// FindPresence returns user's connections on the nodes seen since
	// fresh, and their chosen status (nil when none).
	FindPresence(ctx context.Context, user identity.UserID, fresh time.Time) (Sessions, *Preferred, error)
	// SavePreferredPresence stores a chosen status (nil clears it).
	SavePreferredPresence(ctx context.Context, user identity.UserID, p *Preferred) error
	// FindPresenceWatchers returns the people who share a chat with user,
	// both accepted members of it.
	FindPresenceWatchers(ctx context.Context, user identity.UserID) ([]identity.User, error)
	// SharesAcceptedChat reports whether a and b are accepted members of
	// one chat.
	SharesAcceptedChat(ctx context.Context, a, b identity.UserID) (bool, error)
	// HasBlocked reports whether blocker has blocked blocked, either kind.
	HasBlocked(ctx context.Context, blocker, blocked identity.UserID) (bool, error)
}

// Users says whom a person may see at all.
type Users interface {
	// Visible returns a user the actor may see; notFound otherwise, the
	// same as for an id no account has.
	Visible(ctx context.Context, actor *identity.User, id identity.UserID) (identity.User, error)
}

// Encoder builds the payload of presenceChanged.
type Encoder interface {
	PresenceChangedEvent(user identity.UserID, p Presence) []byte
}

// Service answers presence and keeps chosen statuses.
type Service struct {
	Store   Store
	Users   Users
	Bus     event.Bus
	Encoder Encoder
	Now     func() time.Time
	// Idle is how long without activity turns available into away.
	Idle time.Duration
	// Tick is how often a node renews its liveness and looks for idle
	// people; a node not heard from for three ticks counts as gone.
	Tick time.Duration
}

// DefaultIdle is Teams' five minutes.
const DefaultIdle = 5 * time.Minute

// current is user's presence as everyone allowed sees it.
func (s *Service) current(ctx context.Context, user identity.UserID) (Presence, error) {
	now := s.Now()
	ss, pref, err := s.Store.FindPresence(ctx, user, now.Add(-3*s.Tick-time.Second))
	if err != nil {
		return Presence{}, fmt.Errorf("presence of %s: %w", user, err)
	}
	return Compute(ss, pref, now, s.Idle), nil
}

// Me returns the actor's own presence.
func (s *Service) Me(ctx context.Context, actor *identity.User) (Presence, error) {
	return s.current(ctx, actor.ID)
}

// Of returns the presence of user id as actor may see it: 404 for someone
// the actor may not see at all (as GET /v1.0/users/{id}); offline for
// someone who blocked the actor (silence: the same as being away from
// Parley); PresenceUnknown for an external person the actor shares no
// accepted chat with. Errors: notFound.
func (s *Service) Of(ctx context.Context, actor *identity.User, id identity.UserID) (Presence, error) {
	u, err := s.Users.Visible(ctx, actor, id)
	if err != nil {
		return Presence{}, err
	}
	if u.ID == actor.ID {
		return s.current(ctx, u.ID)
	}
	blocked, err := s.Store.HasBlocked(ctx, u.ID, actor.ID)
	if err != nil {
		return Presence{}, fmt.Errorf("presence of %s: %w", id, err)
	}
	if blocked {
		return offline, nil
	}
	ok := actor.Kind != identity.Guest && actor.TenantID != "" && u.TenantID == actor.TenantID
	if !ok {
		if ok, err = s.Store.SharesAcceptedChat(ctx, actor.ID, u.ID); err != nil {
			return Presence{}, fmt.Errorf("presence of %s: %w", id, err)
		}
	}
	if !ok {
		return Unknown, nil
	}
	return s.current(ctx, u.ID)
}

// SetPreferred stores the actor's chosen status (Graph
// setUserPreferredPresence) and tells who may see it. Errors: badRequest.
func (s *Service) SetPreferred(ctx context.Context, actor *identity.User, availability, activity, duration string) error {
	p, d, err := CheckPreferred(availability, activity, duration)
	if err != nil {
		return err
	}
	if err := s.Store.SavePreferredPresence(ctx, actor.ID, &Preferred{Presence: p, Until: s.Now().Add(d)}); err != nil {
		return fmt.Errorf("set presence: %w", err)
	}
	s.announce(ctx, actor.ID)
	return nil
}

// ClearPreferred removes the actor's chosen status.
func (s *Service) ClearPreferred(ctx context.Context, actor *identity.User) error {
	if err := s.Store.SavePreferredPresence(ctx, actor.ID, nil); err != nil {
		return fmt.Errorf("clear presence: %w", err)
	}
	s.announce(ctx, actor.ID)
	return nil
}

// announce tells user's presence to the user's own connections and to the
// people who may see it and share an accepted chat with them (a directory
// of thousands is not told; they ask when they look). Best effort: a
// failure is no error of the change that caused it.
func (s *Service) announce(ctx context.Context, user identity.UserID) {
	p, err := s.current(ctx, user)
	if err != nil {
		return
	}
	s.publish(ctx, user, p)
}

func (s *Service) publish(ctx context.Context, user identity.UserID, p Presence) {
	watchers, err := s.Store.FindPresenceWatchers(ctx, user)
	if err != nil {
		return
	}
	payload := s.Encoder.PresenceChangedEvent(user, p)
	now := s.Now()
	evs := []event.Event{{UserID: user, Type: PresenceChanged, Payload: payload, CreatedAt: now}}
	for i := range watchers {
		w := &watchers[i]
		if blocked, err := s.Store.HasBlocked(ctx, user, w.ID); err != nil || blocked {
			continue // silence: a blocked person sees offline, and is not told otherwise
		}
		evs = append(evs, event.Event{UserID: w.ID, Type: PresenceChanged, Payload: payload, CreatedAt: now})
	}
	_ = s.Bus.Publish(ctx, evs) // ephemeral: a lost wake-up costs a stale dot until the next change
}
