package policy

import (
	"context"
	"sync"

	"github.com/parleychat/parley/internal/identity"
)

// A Change is a stored change that may alter who may chat with whom: an
// admin's change of a tenant's settings, policies or grants (Tenant), or a
// user's change of their personal switch or blocked-people list (User).
type Change struct {
	Tenant identity.TenantID
	User   identity.UserID
}

// Changes is the event the policy services publish after a Change is
// stored, delivered in process, synchronously and in subscription order, so
// that when the admin's request returns open chats are already read-only or
// writable (docs/rules.md §4). The composition root builds it first, passes
// it to the policy services at construction, and subscribes each service
// that reacts (chat re-decides open chats; auth forgets a changed account's
// cached tokens) as it is built, before anything is served. The zero value
// is ready; a nil *Changes publishes to nobody.
type Changes struct {
	mu   sync.RWMutex
	subs []func(context.Context, Change)
}

// Subscribe adds f to the receivers of every later Change.
func (c *Changes) Subscribe(f func(context.Context, Change)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs = append(c.subs, f)
}

// Publish tells every subscriber about ch, in subscription order, and
// returns when all have handled it.
func (c *Changes) Publish(ctx context.Context, ch Change) {
	if c == nil {
		return
	}
	c.mu.RLock()
	subs := c.subs
	c.mu.RUnlock()
	for _, f := range subs {
		f(ctx, ch)
	}
}
