package search

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

// PeopleStore finds people to start a chat with.
type PeopleStore interface {
	// FindPeople returns up to limit people other than viewer whose name
	// has a word starting with prefix, or whose sign-in name or mail
	// starts with it (prefix is lower case), among the people of viewer's
	// organisation (when own is set), viewer's accepted contacts and the
	// people who share a chat with viewer, both accepted in it; by name.
	FindPeople(ctx context.Context, viewer identity.UserID, own identity.TenantID, prefix string, limit int) ([]identity.User, error)
}

// People page size.
const (
	DefaultPeople = 10
	MaxPeople     = 25
	// minPrefix is the shortest prefix searched.
	minPrefix = 1
	maxPrefix = 256
)

// People suggests people for actor to start a chat with: the people of
// their own organisation (not for a guest, who sees only the people it
// shares a chat with, docs/decisions.md "Who sees whom") and the people
// they have accepted or share an accepted chat with. An outsider is never
// suggested (docs/rules.md §4 rule of silence, §6 no directory across
// organisations): they are reached by typing their full address. Errors:
// badRequest.
func (s *Service) People(ctx context.Context, actor *identity.User, prefix string, limit int) ([]identity.User, error) {
	prefix = strings.ToLower(strings.TrimSpace(prefix))
	if !utf8.ValidString(prefix) || utf8.RuneCountInString(prefix) < minPrefix || len(prefix) > maxPrefix {
		return nil, errcode.New(errcode.BadRequest, "q must have 1 to %d characters.", maxPrefix)
	}
	if limit <= 0 {
		limit = DefaultPeople
	}
	limit = min(limit, MaxPeople)
	own := actor.TenantID
	if actor.Kind == identity.Guest {
		own = ""
	}
	us, err := s.Directory.FindPeople(ctx, actor.ID, own, prefix, limit)
	if err != nil {
		return nil, fmt.Errorf("find people: %w", err)
	}
	return us, nil
}
