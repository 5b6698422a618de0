package graph

import (
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/presence"
)

// Presence is Graph's presence.
type Presence struct {
	ID            string    `json:"id"`
	Availability  string    `json:"availability"`
	Activity      string    `json:"activity"`
	StatusMessage *struct{} `json:"statusMessage"`
}

// NewPresence converts a user's presence.
func NewPresence(user identity.UserID, p presence.Presence) Presence {
	return Presence{ID: string(user), Availability: string(p.Availability), Activity: string(p.Activity)}
}

// PresenceChangedEvent returns the payload of presenceChanged.
func (Encoder) PresenceChangedEvent(user identity.UserID, p presence.Presence) []byte {
	return mustJSON(struct {
		Type     string   `json:"type"`
		UserID   string   `json:"userId"`
		Presence Presence `json:"presence"`
	}{string(presence.PresenceChanged), string(user), NewPresence(user, p)})
}
