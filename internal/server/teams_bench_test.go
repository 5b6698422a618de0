package server_test

import (
	"fmt"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// BenchmarkChannelSend measures one channel message posted through the
// HTTP API on SQLite, stored with one event per member of a team of 20,
// beside a message to a group chat of the same 20 people for comparison.
func BenchmarkChannelSend(b *testing.B) {
	s := parleytest.StartStore(b, "sqlite")
	contoso := s.CreateTenant("Contoso", "contoso.com")
	alice := s.User(contoso, "alice", false)
	team := alice.Must(201, "POST", "/v1.0/teams", map[string]any{"displayName": "Bench"}).Map(b)["id"].(string)
	general := alice.Must(200, "GET", "/v1.0/teams/"+team+"/primaryChannel", nil).Map(b)["id"].(string)
	members := []any{parleytest.Bind(alice.UserID, true)}
	for i := range 19 {
		u := s.User(contoso, fmt.Sprintf("user%d", i), false)
		alice.Must(201, "POST", "/v1.0/teams/"+team+"/members", parleytest.Bind(u.UserID, false))
		members = append(members, parleytest.Bind(u.UserID, false))
	}
	chat := alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Bench", "members": members}).Map(b)["id"].(string)
	body := map[string]any{"body": map[string]string{"content": "hello everyone"}}
	b.Run("channel", func(b *testing.B) {
		for b.Loop() {
			alice.Must(201, "POST", "/v1.0/teams/"+team+"/channels/"+general+"/messages", body)
		}
	})
	b.Run("groupChat", func(b *testing.B) {
		for b.Loop() {
			alice.Must(201, "POST", "/v1.0/chats/"+chat+"/messages", body)
		}
	})
}
