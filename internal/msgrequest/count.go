package msgrequest

import (
	"context"
	"fmt"

	"github.com/parleychat/parley/internal/identity"
)

// Count returns how many requests wait for the actor in the main list
// (filtered=false) or the filtered one: the Requests badge, counted on the
// server as List lists them (delivered, not held: docs/rules.md §4).
func (s *Service) Count(ctx context.Context, actor *identity.User, filtered bool) (int, error) {
	n, err := s.Store.CountPendingRequests(ctx, actor.ID, filtered)
	if err != nil {
		return 0, fmt.Errorf("count requests: %w", err)
	}
	return n, nil
}
