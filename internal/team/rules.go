package team

import (
	"slices"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

// Role is what a person is in a team. None is someone who is not in it.
type Role string

// Roles.
const (
	None       Role = ""
	Owner      Role = "owner"
	MemberRole Role = "member"
	GuestRole  Role = "guest"
)

// Action is something done in a team.
type Action string

// Actions.
const (
	// Read: see the team, its members, channels and messages, mark read.
	Read Action = "read"
	// Post: post a top-level message or a reply in a channel; edit or
	// delete one's own.
	Post Action = "post"
	// Leave: remove oneself from the team.
	Leave Action = "leave"
	// Update: change the team's name and description.
	Update Action = "update"
	// ManageMembers: add members, remove others, change roles.
	ManageMembers Action = "manageMembers"
	// ManageChannels: create, rename and delete channels.
	ManageChannels Action = "manageChannels"
)

// Actions lists every action (for exhaustive tests).
var Actions = []Action{Read, Post, Leave, Update, ManageMembers, ManageChannels}

// Roles lists every role, None included (for exhaustive tests).
var Roles = []Role{None, Owner, MemberRole, GuestRole}

// May decides whether someone with role r in a team may do a. Owners
// manage members and channels; members and guests read and post
// (docs/rules.md §8). To someone who is not in the team the team does not
// exist (docs/rules.md §10: an id in a path one may not see is notFound,
// never forbidden, so the answer reveals nothing). Errors: notFound,
// forbidden.
func May(r Role, a Action) error {
	switch r {
	case Owner:
		return nil
	case MemberRole, GuestRole:
		switch a {
		case Read, Post, Leave:
			return nil
		case Update:
			return errcode.New(errcode.Forbidden, "Only owners of the team may change it.")
		case ManageMembers:
			return errcode.New(errcode.Forbidden, "Only owners of the team may add or remove members or change roles.")
		case ManageChannels:
			return errcode.New(errcode.Forbidden, "Only owners of the team may create, rename or delete channels.")
		}
		return errcode.New(errcode.Forbidden, "Only owners of the team may do this.")
	default:
		return errcode.New(errcode.NotFound, "No such team.")
	}
}

// MayCreate decides whether u may create a team. A team belongs to its
// creator's tenant, so only a member of a tenant may create one: not a
// personal account, which belongs to no organisation, and not a guest,
// who is a visitor of its host (as in Teams). Errors: forbidden.
func MayCreate(u *identity.User) error {
	switch {
	case u.Kind == identity.Member && u.TenantID != "":
		return nil
	case u.Kind == identity.Guest:
		return errcode.New(errcode.Forbidden, "Guests cannot create teams.")
	default:
		return errcode.New(errcode.Forbidden, "Personal accounts cannot create teams: a team belongs to an organisation.")
	}
}

// MayJoin decides whether u may be in a team of tenant: its members and
// guests may; people of other organisations and personal accounts may not
// (docs/rules.md §8), which keeps docs/rules.md §4 rule 7: a guest, who is
// in its host's teams only, is never in anything external.
// Errors: externalMemberNotAllowed.
func MayJoin(tenant identity.TenantID, u *identity.User) error {
	if tenant != "" && u.TenantID == tenant && (u.Kind == identity.Member || u.Kind == identity.Guest) {
		return nil
	}
	return errcode.New(errcode.ExternalMemberNotAllowed, "Only people of the team's organisation and its guests can be in a team; people of other organisations and personal accounts cannot.")
}

// RolesFor returns the roles a member of u's kind gets when asked: a guest
// is always ["guest"] and never an owner (as in Teams); anyone else is
// ["owner"] or []. Errors: badRequest.
func RolesFor(u *identity.User, asked []string) ([]string, error) {
	for _, r := range asked {
		if r != "owner" && r != "guest" {
			return nil, errcode.New(errcode.BadRequest, "roles may contain only \"owner\" (or \"guest\" for a guest account).")
		}
	}
	owner := slices.Contains(asked, "owner")
	if u.Kind == identity.Guest {
		if owner {
			return nil, errcode.New(errcode.BadRequest, "A guest cannot be an owner of a team.")
		}
		return []string{"guest"}, nil
	}
	if slices.Contains(asked, "guest") {
		return nil, errcode.New(errcode.BadRequest, "The role \"guest\" is for guest accounts only.")
	}
	if owner {
		return []string{"owner"}, nil
	}
	return []string{}, nil
}

// RoleOf returns the role of user in a team with these members (None when
// not in it).
func RoleOf(members []Member, user identity.UserID) Role {
	for i := range members {
		if members[i].UserID == user {
			return members[i].Role()
		}
	}
	return None
}
