// Package team holds docs/rules.md §8's teams and their standard channels:
// a team belongs to one tenant (its creator's), its members are that
// tenant's users and guests, owners manage members and channels, and every
// member posts in the channels, in threads of a top-level message and its
// replies. Who may do what is decided by the pure functions of rules.go;
// the Service loads the facts, asks them, stores the change with its events
// and publishes them after commit. Message bodies are checked and
// sanitised by the chat service's rules (docs/rules.md §7), and channel
// messages are stored as chat messages are.
//
// It is a domain package: no SQL, no HTTP. httpapi, graph and server import
// it.
package team

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

// ID identifies a team (a GUID, as Graph's team ids are).
type ID string

// ChannelID identifies a channel (a thread id, as Graph's channel ids are).
// Its messages are stored under chat.ID(ChannelID).
type ChannelID string

// Limits.
const (
	MaxNameRunes        = 256
	MaxDescriptionRunes = 1024
	MaxChannelNameRunes = 50 // Teams' channel name limit
	MaxMembers          = 500
	MaxChannels         = 200 // Teams' limit of channels in a team
	DefaultPageSize     = 20
	MaxPageSize         = 50
	// GeneralName is the name of the channel every team has from creation.
	GeneralName = "General"
)

// Team is a team of one tenant.
type Team struct {
	ID          ID
	TenantID    identity.TenantID
	DisplayName string
	Description string
	CreatedBy   identity.UserID
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Summary counts the team's people by role.
	Summary Summary
}

// Summary counts a team's people: owners, members who are not owners,
// and guests (Graph's teamSummary).
type Summary struct {
	Owners, Members, Guests int
}

// Member is a person in a team, with its account.
type Member struct {
	ID       string
	TeamID   ID
	UserID   identity.UserID
	User     identity.User
	Roles    []string // ["owner"], ["guest"] or []
	JoinedAt time.Time
	AddedBy  identity.UserID
}

// Role returns the member's role in the team.
func (m *Member) Role() Role {
	switch {
	case slices.Contains(m.Roles, "owner"):
		return Owner
	case m.User.Kind == identity.Guest || slices.Contains(m.Roles, "guest"):
		return GuestRole
	default:
		return MemberRole
	}
}

// Channel is a standard channel of a team: every member of the team is in
// it.
type Channel struct {
	ID          ChannelID
	TeamID      ID
	DisplayName string
	Description string
	General     bool // the channel every team has; it cannot be deleted or renamed
	CreatedBy   identity.UserID
	CreatedAt   time.Time
	DeletedAt   time.Time
	// LastReadAt is the viewer's read mark (zero: never read).
	LastReadAt time.Time
	// Unread counts the messages of others after the viewer's read mark.
	Unread int
}

// Message is a channel message: a top-level message (ReplyTo 0) or a reply
// in the thread of the top-level message ReplyTo.
type Message struct {
	chat.Message
	ReplyTo chat.MessageID
}

// Cursor marks a position in a list of teams (oldest first).
type Cursor struct {
	CreatedAt time.Time
	ID        ID
}

// NewID returns a fresh team id.
func NewID() ID {
	id, err := uuid.NewV7()
	if err != nil {
		return ID(uuid.NewString())
	}
	return ID(id.String())
}

// NewChannelID returns a fresh channel id in the style Teams uses.
func NewChannelID() ChannelID { return ChannelID("19:" + randHex(16) + "@thread.tacv2") }

// NewMemberID returns a fresh member id.
func NewMemberID() string { return randHex(16) }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms (Go 1.24+).
	return hex.EncodeToString(b)
}

// LastOwner is the answer to a change that would leave a team without an
// owner; the store gives it when it counts the owners inside the write, so
// two owners demoting each other at once never both pass.
func LastOwner() error {
	return errcode.New(errcode.BadRequest, "A team needs at least one owner: make someone else an owner first.")
}

// TooManyMembers is the answer to an add that would pass MaxMembers; the
// store decides the count inside the write.
func TooManyMembers() error {
	return errcode.New(errcode.BadRequest, "A team may have at most %d members.", MaxMembers)
}

// TooManyChannels is the answer to a channel that would pass MaxChannels.
func TooManyChannels() error {
	return errcode.New(errcode.BadRequest, "A team may have at most %d channels.", MaxChannels)
}

// NameTaken is the answer to a channel name the team has already.
func NameTaken(name string) error {
	return errcode.New(errcode.Conflict, "This team has a channel named %q already.", name)
}
