package server_test

import (
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestS7_SearchChannelMessageAlone: a channel message is found by the next
// search even when no chat message was sent after it (the SQLite index
// follows every message, channel messages included; docs/rules.md §7).
func TestS7_SearchChannelMessageAlone(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		d := newDaily(t, store)
		team, general := createTeam(t, d.alice, "Launch team")
		addMember(t, d.alice, team, d.bob.UserID)
		id := post(t, d.alice, "/v1.0/teams/"+team+"/channels/"+general+"/messages", "Kick-off on Monday")
		expectFound(t, d.bob, "kick monday", id)
		reply := post(t, d.bob, "/v1.0/teams/"+team+"/channels/"+general+"/messages/"+id+"/replies", "Monday works")
		expectFound(t, d.alice, "monday", reply, id)
		expectFound(t, d.carol, "monday") // not in the team
	})
}
