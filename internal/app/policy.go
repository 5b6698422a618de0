package app

import "slices"

// GlobalName is the policy every tenant has and cannot delete; a user with
// no grant has it, and guests always have it (docs/rules.md §9).
const GlobalName = "Global"

// Mode is how a permission policy treats the apps it lists.
type Mode string

// The modes of a permission policy.
const (
	AllowAll    Mode = "allowAll"
	AllowListed Mode = "allowListed"
	BlockListed Mode = "blockListed"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == AllowAll || m == AllowListed || m == BlockListed }

// PermissionPolicy allows or blocks apps for the people it is granted to
// (docs/rules.md §9).
type PermissionPolicy struct {
	Name string
	Mode Mode
	// Apps are catalog app ids, read according to Mode.
	Apps []string
}

// Permits reports whether the policy lets its holders use app id.
func (p *PermissionPolicy) Permits(id string) bool {
	switch p.Mode {
	case AllowAll:
		return true
	case AllowListed:
		return slices.Contains(p.Apps, id)
	case BlockListed:
		return !slices.Contains(p.Apps, id)
	}
	return false
}

// GlobalPermission is the Global permission policy of a new tenant: every app allowed.
func GlobalPermission() PermissionPolicy {
	return PermissionPolicy{Name: GlobalName, Mode: AllowAll}
}

// SetupPolicy lists the apps installed (and pinned) for the people it is
// granted to (docs/rules.md §9). A bot in Global's setup policy is installed
// for guests too.
type SetupPolicy struct {
	Name string
	// Apps are installed in the holders' personal scope.
	Apps []string
	// Pinned are shown on the holders' app bar, in order.
	Pinned []string
}

// GlobalSetup is the Global setup policy of a new tenant: nothing installed.
func GlobalSetup() SetupPolicy { return SetupPolicy{Name: GlobalName} }
