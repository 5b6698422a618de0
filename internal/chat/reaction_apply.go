package chat

import (
	"time"

	"github.com/parleychat/parley/internal/identity"
)

// ApplyReaction sets (set=true) or removes actor's reaction typ on the
// reactions rs, with the limits and the snapshot of the account React
// keeps, for conversations that keep their own members: a team's channels.
// It reports whether anything changed. Errors: badRequest past the limits.
func ApplyReaction(rs []Reaction, actor *identity.User, typ string, set bool, at time.Time) ([]Reaction, bool, error) {
	if set {
		return addReaction(rs, Reaction{Type: typ, UserID: actor.ID, User: snapshot(actor), CreatedAt: at})
	}
	out, changed := removeReaction(rs, actor.ID, typ)
	return out, changed, nil
}
