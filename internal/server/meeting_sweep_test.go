package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestMeetingSweep drives the meeting sweep (meeting.Service.Sweep, which
// the server runs every minute) with a clock the test moves: within the
// hour's grace after a meeting's endDateTime it ends nothing; past it, it
// ends every anonymous session (waiting or admitted: tokens refused, open
// connections told, admitted people out of the chat) and every signed-in
// person's wait in the lobby (told), leaves the meeting to its organiser,
// and a second sweep finds nothing left. What it ends is read from the
// organiser's roster, which does not end sessions itself. Both stores.
func TestMeetingSweep(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		ctx := context.Background()
		clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
		s := startNode(t, parleytest.Config(t, store), clk)
		w := &parleytest.World{Server: s}
		ten := s.CreateTenant("Contoso", "contoso.com")
		alice := s.User(ten, "alice", false)
		carol := s.User(ten, "carol", false)
		meetingConfig(t, ten.Admin, map[string]any{"lobbyBypass": "organizer"})
		now := clk.Now()
		m := meetingOf(t, alice, map[string]any{"subject": "Stand-up", "startDateTime": now.Format(time.RFC3339), "endDateTime": now.Add(30 * time.Minute).Format(time.RFC3339)})
		id, thread, link := m["id"].(string), threadOf(m), m["joinWebUrl"].(string)
		// Another meeting that lasts: the sweep leaves it alone.
		long := meetingOf(t, alice, map[string]any{"subject": "Workshop", "startDateTime": now.Format(time.RFC3339), "endDateTime": now.Add(8 * time.Hour).Format(time.RFC3339)})
		stay, _ := joinAs(t, w, long["joinWebUrl"].(string), "Stay")
		alice.Must(204, "POST", "/parley/v1/meetings/"+long["id"].(string)+"/lobby/"+stay.UserID+"/admit", nil)

		anna, _ := joinAs(t, w, link, "Anna") // waits
		ben, _ := joinAs(t, w, link, "Ben")
		alice.Must(204, "POST", "/parley/v1/meetings/"+id+"/lobby/"+ben.UserID+"/admit", nil)
		if s := joinByLink(t, carol, link, 200); s != "lobby" {
			t.Fatalf("carol: %s", s)
		}
		annaEv, benEv, carolEv := anna.Events(0), ben.Events(0), carol.Events(-1)

		roster := func() map[string]string {
			t.Helper()
			var out struct {
				Value []struct{ DisplayName, State string } `json:"value"`
			}
			alice.Must(200, "GET", "/parley/v1/meetings/"+id+"/attendance", nil).JSON(t, &out)
			got := map[string]string{}
			for _, v := range out.Value {
				got[v.DisplayName] = v.State
			}
			return got
		}

		// Ended, plus 59 minutes of the grace: nothing ends.
		clk.Add(30*time.Minute + 59*time.Minute)
		if n, err := s.Meetings.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("sweep within the grace: %d meetings, %v", n, err)
		}
		if r := roster(); r["Anna (Unverified)"] != "lobby" || r["Ben (Unverified)"] != "admitted" || r["Carol"] != "lobby" {
			t.Fatalf("roster within the grace: %v", r)
		}

		// Past the grace: the sweep ends them all, once.
		clk.Add(2 * time.Minute)
		// The server's own sweep may have run in between (it ticks every
		// real minute); either way exactly this meeting is handled once.
		if n, err := s.Meetings.Sweep(ctx); err != nil || n > 1 {
			t.Fatalf("sweep past the grace: %d meetings, %v", n, err)
		}
		if r := roster(); r["Anna (Unverified)"] != "ended" || r["Ben (Unverified)"] != "ended" || r["Carol"] != "ended" {
			t.Fatalf("roster after the sweep: %v", r)
		}
		annaEv.WaitCount("sessionEnded", 1, 10*time.Second)
		benEv.WaitCount("sessionEnded", 1, 10*time.Second)
		waitDecided(carolEv, id, "ended")
		if n, err := s.Meetings.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("a second sweep: %d meetings, %v", n, err)
		}
		expect401(t, ben, [][2]string{{"GET", "/v1.0/chats/" + thread}, {"POST", "/v1.0/chats/" + thread + "/messages"}})
		expect401(t, anna, [][2]string{{"GET", "/v1.0/chats/" + thread}})
		if strings.Contains(alice.Must(200, "GET", "/v1.0/chats/"+thread+"/members", nil).Body2(), "Ben (Unverified)") {
			t.Fatal("an admitted anonymous person stays in the chat of a meeting the sweep ended")
		}
		if r := joinSigned(carol, link); r.Status != 404 {
			t.Fatalf("joining a meeting that is over: %d", r.Status)
		}
		// The organiser keeps the meeting; the lasting meeting's session lives.
		alice.Must(200, "GET", "/v1.0/me/onlineMeetings/"+id, nil)
		stay.Must(200, "GET", "/v1.0/chats/"+threadOf(long), nil)
	})
}
