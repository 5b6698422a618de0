// Package keyset cuts lists into keyset pages, as every list of the API is
// paged (docs/rules.md §11): sorted by a key that tells every item apart, a
// page holds the items after a cursor (the key of the previous page's last
// item), at most a limit of them, and says whether more follow, so items
// removed between pages shift nothing. The lists the store pages use the
// same keys in their queries; the short lists held whole (a chat's
// members, a user's blocks, a tenant's policies) are cut here.
package keyset

import "slices"

// Page sorts a copy of items by cmp and returns those after the position
// after (nil: from the start), at most limit of them (0: all), and whether
// more follow. items is left alone: a service may share it with a cache.
func Page[T any](items []T, cmp func(a, b T) int, after *T, limit int) ([]T, bool) {
	items = slices.Clone(items)
	slices.SortStableFunc(items, cmp)
	if after != nil {
		i := slices.IndexFunc(items, func(it T) bool { return cmp(it, *after) > 0 })
		if i < 0 {
			i = len(items)
		}
		items = items[i:]
	}
	if limit > 0 && len(items) > limit {
		return items[:limit], true
	}
	return items, false
}
