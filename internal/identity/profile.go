package identity

import (
	"context"
	"fmt"
)

// Rename changes the display name of the actor's own account: what others
// see in chats, requests and mentions from now on (earlier messages keep
// the name they were sent with only where a client copied it). Errors:
// badRequest (empty or longer than 256 characters).
func (s *Service) Rename(ctx context.Context, actor *User, displayName string) (User, error) {
	name, err := cleanName(displayName, "displayName")
	if err != nil {
		return User{}, err
	}
	if err := s.Store.SetDisplayName(ctx, actor.ID, name); err != nil {
		return User{}, fmt.Errorf("rename %s: %w", actor.ID, err)
	}
	u := *actor
	u.DisplayName = name
	return u, nil
}
