// Package meeting holds docs/rules.md §8's online meetings: a meeting belongs to its
// organiser's tenant (the host), has a join link and a meeting chat (a chat
// of type meeting, kept by internal/chat), invited participants decided by
// docs/rules.md §4 exactly as chat members are, and anonymous participants who
// join through the link under a typed name, wait in the lobby unless the
// host's lobbyBypass lets them in, and hold a session that reaches that one
// meeting chat and ends with the meeting or their removal. The pure
// decisions (who bypasses the lobby, who may join anonymously) are
// functions with table tests. It is a domain package: no SQL, no HTTP.
package meeting

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/identity"
)

// ID identifies a meeting.
type ID string

// Meeting is an online meeting (Graph onlineMeeting).
type Meeting struct {
	ID          ID
	TenantID    identity.TenantID // the host: the organiser's tenant
	OrganizerID identity.UserID
	Subject     string
	Start, End  time.Time
	ChatID      chat.ID
	// JoinToken is the secret part of the join link; renewing the link
	// replaces it, and the old link stops working.
	JoinToken string
	CreatedAt time.Time
	// EndedAt is when the organiser ended (deleted) the meeting; zero
	// while it lasts.
	EndedAt time.Time
}

// Ended reports whether the meeting was ended.
func (m *Meeting) Ended() bool { return !m.EndedAt.IsZero() }

// DefaultGrace is how long after its endDateTime a meeting ends by itself
// (docs/decisions.md "Meetings"): meetings run over, as in Teams, but a
// join link and anonymous sessions do not outlive the meeting for days.
const DefaultGrace = time.Hour

// Over reports whether the meeting is over at now: ended by its organiser,
// or its endDateTime passed by grace. Anonymous people cannot join a
// meeting that is over and their sessions end; its organiser still sees
// it and may move its endDateTime, which opens its link again.
func (m *Meeting) Over(now time.Time, grace time.Duration) bool {
	return m.Ended() || !now.Before(m.End.Add(grace))
}

// SessionEnd is when an anonymous session of the meeting ends at the
// latest: when the meeting is over by its times.
func (m *Meeting) SessionEnd(grace time.Duration) time.Time { return m.End.Add(grace) }

// Bypass is the host's lobbyBypass setting: who goes straight into a
// meeting that they join through its link (Teams' "who can bypass the
// lobby").
type Bypass string

// The lobbyBypass values.
const (
	// ByOrganizer: only the organiser; everyone else waits.
	ByOrganizer Bypass = "organizer"
	// ByOrganization: the host tenant's members; guests, people of other
	// organisations and anonymous people wait. The default, as in Teams.
	ByOrganization Bypass = "organization"
	// ByEveryone: nobody waits, anonymous people included.
	ByEveryone Bypass = "everyone"
)

// Valid reports whether b is one of the values.
func (b Bypass) Valid() bool { return b == ByOrganizer || b == ByOrganization || b == ByEveryone }

// Config is a tenant's meeting settings (docs/rules.md §8, §9).
type Config struct {
	// AllowAnonymous: anonymous people may join this tenant's meetings
	// through their links (allowAnonymousUsersToJoinMeeting).
	AllowAnonymous bool
	// LobbyBypass: who goes past the lobby.
	LobbyBypass Bypass
	// AnonymousApps: anonymous participants may use the apps of a
	// meeting (anonymousUsersCanInteractWithApps, docs/rules.md §9).
	AnonymousApps bool
}

// DefaultConfig is a new tenant's meeting settings, as Teams has them.
func DefaultConfig() Config {
	return Config{AllowAnonymous: true, LobbyBypass: ByOrganization, AnonymousApps: true}
}

// Arrival is who arrives through a meeting's link, relative to the meeting.
type Arrival uint8

// The kinds of arrival.
const (
	// ArrivesOrganizer is the meeting's organiser.
	ArrivesOrganizer Arrival = iota + 1
	// ArrivesHostMember is a member (managed user) of the host tenant.
	ArrivesHostMember
	// ArrivesHostGuest is a guest of the host tenant.
	ArrivesHostGuest
	// ArrivesExternal is a signed-in person of another organisation or a
	// personal account.
	ArrivesExternal
	// ArrivesAnonymous is a person without an account, under a typed name.
	ArrivesAnonymous
)

// ArrivalOf classifies u arriving at m.
func ArrivalOf(u *identity.User, m *Meeting) Arrival {
	switch {
	case u.Kind == identity.Anonymous:
		return ArrivesAnonymous
	case u.ID == m.OrganizerID:
		return ArrivesOrganizer
	case u.TenantID == "" || u.TenantID != m.TenantID:
		return ArrivesExternal
	case u.Kind == identity.Guest:
		return ArrivesHostGuest
	case u.Kind == identity.Member:
		return ArrivesHostMember
	}
	return ArrivesExternal
}

// BypassesLobby decides whether an arrival goes past the lobby under the
// host's setting (docs/rules.md §8, docs/decisions.md "Meetings"). An unknown
// setting or arrival waits.
func BypassesLobby(b Bypass, a Arrival) bool {
	switch a {
	case ArrivesOrganizer:
		return b.Valid()
	case ArrivesHostMember:
		return b == ByOrganization || b == ByEveryone
	case ArrivesHostGuest, ArrivesExternal, ArrivesAnonymous:
		return b == ByEveryone
	}
	return false
}

// MayAdmit decides whether u may see a meeting's lobby and admit or deny
// those waiting there: its organiser, and members of the host tenant who
// are in the meeting (accepted members of its chat). Guests, external and
// anonymous people may not.
func MayAdmit(u *identity.User, m *Meeting, inMeeting bool) bool {
	switch ArrivalOf(u, m) {
	case ArrivesOrganizer:
		return true
	case ArrivesHostMember:
		return inMeeting
	}
	return false
}

// State is where an anonymous participant is.
type State string

// Participant states.
const (
	InLobby  State = "lobby"
	Admitted State = "admitted"
	Denied   State = "denied"
	Removed  State = "removed"
	Over     State = "ended" // the meeting ended
)

// Live reports whether a participant in state s still holds a session.
func (s State) Live() bool { return s == InLobby || s == Admitted }

// Participant is an anonymous participant of one meeting (docs/rules.md §8). Its
// account (identity.Anonymous, in the host tenant) exists only inside the
// meeting; UserID names both.
type Participant struct {
	UserID      identity.UserID
	MeetingID   ID
	DisplayName string // as shown: the typed name and identity.UnverifiedSuffix
	State       State
	ArrivedAt   time.Time
	AdmittedAt  time.Time // zero until admitted
	LeftAt      time.Time // zero while live
}

// Person is a signed-in person who joined a meeting by its link and was
// kept in its lobby by the host's lobbyBypass (docs/rules.md §8): they wait
// (InLobby) until someone who may admit lets them in (Admitted: they are
// then a member of the meeting chat, decided by docs/rules.md §4 as an
// invitation is) or not (Denied, Removed, or Over when the meeting ends
// first). Only InLobby is live: once admitted, the meeting chat's
// membership is what counts. The lobby entry's id is the person's user id.
type Person struct {
	MeetingID ID
	User      identity.User
	State     State
	ArrivedAt time.Time
	DecidedAt time.Time // zero while waiting
}

// NewID returns a fresh meeting id.
func NewID() ID { return ID(randHex(16)) }

// NewJoinToken returns a fresh secret for a join link.
func NewJoinToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms (Go 1.24+).
	return base64.RawURLEncoding.EncodeToString(b)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms (Go 1.24+).
	return hex.EncodeToString(b)
}
