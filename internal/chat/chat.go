// Package chat holds docs/rules.md §7: 1:1 and group chats, their members,
// messages with edits, soft deletes, mentions and read state, the read-only
// state that policy changes cause, and the message requests of
// docs/rules.md §5 as both sides meet them (the sender's chat, the
// target's requests list and answers: Requests).
//
// Every creation, member addition, send and re-evaluation goes load →
// decide → write: chat loads the facts (facts.go: the members, the parties'
// policy facts and the decisions of docs/rules.md §4), a pure function of
// policy or msgrequest decides, and chat writes what was decided (create.go,
// members.go, messages.go, send.go, requests.go). The package decides no
// rule itself: the rules of §4 are policy's, those of §5 and the rule of
// silence as requests meet it are msgrequest's.
// It is a domain package: no SQL, no HTTP. httpapi and server import it.
package chat

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"time"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
)

// ID identifies a chat.
type ID string

// MessageID identifies a message; ids grow with commit order.
type MessageID int64

// Type is a chat's type, with Graph's values.
type Type string

// Chat types.
const (
	OneOnOne Type = "oneOnOne"
	Group    Type = "group"
	// Meeting is the chat of an online meeting (docs/rules.md §8).
	Meeting Type = "meeting"
)

// RequestState is a member's state toward a message request
// (docs/rules.md §5); msgrequest holds its rules.
type RequestState = msgrequest.State

// Request states, with the API's values.
const (
	Accepted = msgrequest.Accepted
	Pending  = msgrequest.Pending
	Declined = msgrequest.Declined
)

// Chat is a conversation.
type Chat struct {
	ID          ID
	Type        Type
	Topic       string
	TenantID    identity.TenantID // host: the creator's tenant, "" when a personal user created it
	CreatedBy   identity.UserID
	CreatedAt   time.Time
	UpdatedAt   time.Time // last activity, orders the chat list
	External    bool      // docs/rules.md §7: has (or was created with) a member external to the creator's tenant
	PairKey     string    // oneOnOne only: PairKey of its two sides, so one chat exists per pair
	LastReadAt  time.Time // the viewer's read mark (viewpoint); zero when never read
	ViewerState RequestState
	// ReadOnlyBy names whose setting made the chat read-only; Nobody when
	// writable (docs/rules.md §4).
	ReadOnlyBy msgrequest.Blame
	// UnreadCount is the viewer's unread messages (unread.go), counted up
	// to MaxUnreadCount; set by the chat list and Chat, zero elsewhere.
	UnreadCount int
	// App is set on a bot's 1:1 chat: the app (its catalog id) whose bot
	// it is, which names the chat (docs/rules.md §9).
	App Application
}

// Member is a person in a chat. A pending member invited by address has no
// account behind it yet (or one the sender must not learn of): UserID is
// set only when an account owns the address, and the sender sees Address.
type Member struct {
	ID          string
	ChatID      ID
	UserID      identity.UserID
	User        identity.User // loaded with the member; zero for an address-only member
	Roles       []string
	VisibleFrom time.Time
	JoinedAt    time.Time
	State       RequestState
	Address     string // the address the inviter typed, for pending members
	AddedBy     identity.UserID
	LastReadAt  time.Time
	// RequestFrom is who sent the request a pending member has to answer.
	RequestFrom identity.UserID
	// Held is set while an account-level refusal holds the request
	// silently: nothing reaches the member (docs/rules.md §4 rule of silence).
	Held bool
	// Filtered files a suspicious request in the target's filtered
	// requests list (docs/rules.md §10 spam checks).
	Filtered bool
	// OrganizationName is the display name of User's organisation, filled
	// (never stored) for the member events, so they carry what the members
	// list does; "" for a personal account or an address-only member.
	OrganizationName string
}

// IsOwner reports whether the member has the owner role.
func (m *Member) IsOwner() bool { return slices.Contains(m.Roles, "owner") }

// Mention is an @mention inside a message body (Graph chatMessageMention).
type Mention struct {
	ID          int
	MentionText string
	UserID      identity.UserID
	// Conversation is "team" or "channel" for an @team or @channel mention
	// in a channel (docs/rules.md §8), with ConversationID the team's or
	// channel's id; UserID is then empty.
	Conversation   string
	ConversationID string
}

// Attachment is a message attachment; Parley accepts Adaptive Cards.
type Attachment struct {
	ID          string
	ContentType string
	Content     string // the card JSON, as text (Graph's shape)
	Name        string
	// ContentURL and ThumbnailURL locate a file attachment (Graph's
	// "reference"): Parley's download path, relative to the server.
	ContentURL, ThumbnailURL string
}

// AdaptiveCardType is the content type of Adaptive Card attachments.
const AdaptiveCardType = "application/vnd.microsoft.card.adaptive"

// Application is an app: the one a bot's message comes from (ID the
// bot's app id), or a catalog app (ID its catalog id) a message came via or
// a bot's 1:1 chat belongs to (docs/rules.md §9).
type Application struct {
	ID          string
	DisplayName string
}

// Message is a chat message.
type Message struct {
	ID       MessageID
	ChatID   ID
	SenderID identity.UserID // a bot's message: the bot's app id
	Sender   identity.User
	// App is set on a bot's message, whose Sender is then zero.
	App Application
	// Via is set on a person's message whose card came from an app's
	// message extension: the app (its catalog id), whose bot gets the
	// card's actions (docs/rules.md §9).
	Via         Application
	CreatedAt   time.Time
	ModifiedAt  time.Time
	DeletedAt   time.Time // zero unless soft-deleted
	ContentType string    // "text" or "html"
	Content     string
	Mentions    []Mention
	Attachments []Attachment
	// Reactions are the members' reactions, oldest first (reaction.go).
	Reactions []Reaction
}

// Deleted reports whether the message was soft-deleted.
func (m *Message) Deleted() bool { return !m.DeletedAt.IsZero() }

// NewID returns a fresh chat id in the style Teams uses.
func NewID() ID { return ID("19:" + randHex(16) + "@thread.v2") }

// NewMemberID returns a fresh member id.
func NewMemberID() string { return randHex(16) }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms (Go 1.24+).
	return hex.EncodeToString(b)
}

// Peer is the other side of a oneOnOne chat: an account, or, when no
// account the creator may learn of owns the address they typed, that
// address (docs/rules.md §6). When an account registers for the address
// the chat is re-keyed to the account.
type Peer struct {
	User    identity.UserID
	Address string // when User is ""
}

// UserPeer is the peer of an account.
func UserPeer(id identity.UserID) Peer { return Peer{User: id} }

// AddressPeer is the peer of an address no account owns.
func AddressPeer(addr string) Peer { return Peer{Address: addr} }

// key is the peer's part of a pair key. An address is marked so that it
// never equals a user id.
func (p Peer) key() string {
	if p.User != "" {
		return string(p.User)
	}
	return "addr:" + p.Address
}

// PairKey returns the key that makes a oneOnOne chat unique per pair: the
// creator a and the peer b, in an order that does not depend on who
// created the chat.
func PairKey(a identity.UserID, b Peer) string {
	x, y := string(a), b.key()
	if x > y {
		x, y = y, x
	}
	return x + "|" + y
}

// TooManyMembers is the answer to an add that would pass a chat's max
// members; the store gives it when it decides the count inside the write.
func TooManyMembers(max int) error {
	return errcode.New(errcode.BadRequest, "A chat may have at most %d members.", max)
}

// checkMemberCount is the one check of the member limit before a write
// (docs/rules.md §7): a chat of n members, the creator or adder included,
// may exist. The store checks again inside the write that adds a member
// (Store.AddMember), so adds that race cannot pass the limit together.
func checkMemberCount(n int) error {
	if n > MaxGroupMembers {
		return TooManyMembers(MaxGroupMembers)
	}
	return nil
}

// RequestCapReached is the answer to a send over the cap of messages in a
// pending request (msgrequest.PendingCap, docs/rules.md §5); the store gives
// it when it decides the count inside the write.
func RequestCapReached(max int) error {
	return errcode.New(errcode.MessageRequestLimitReached, "You can send up to %d messages until your request is accepted.", max)
}
