package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestKillOneNodeLosesNothing: two `parley serve` processes on one
// PostgreSQL schema with NATS between them. A sender and a recipient's
// WebSocket are on node B; B is killed with SIGKILL mid-stream. The
// sender goes on at node A, the recipient reconnects to A with ?since=
// the last seq it saw, and gets every acknowledged message, its seqs
// without a gap or a repeat; every acknowledged message reads back on A.
func TestKillOneNodeLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP in -short: builds the binary and kills a node")
	}
	parleytest.RequirePostgres(t)
	bin := MustBuildParley(t)
	ns := startEmbeddedNATS(t)
	schema := parleytest.PostgresSchema(t)
	args := []string{"--store", "postgres", "--postgres-url", schema, "--nats-url", ns.ClientURL()}
	a := MustStartCrashChild(t, bin, t.TempDir(), args...)
	b := MustStartCrashChild(t, bin, t.TempDir(), args...)

	op := a.client(t, crashOperatorToken)
	var ten struct {
		ID string `json:"id"`
	}
	op.Must(201, "POST", "/parley/v1/operator/tenants", map[string]any{"displayName": "Kill", "domains": []string{"kill.test"},
		"admin": map[string]string{"displayName": "Admin", "userPrincipalName": "admin@kill.test", "password": parleytest.Password}}).JSON(t, &ten)
	var users struct {
		Value []struct {
			ID          string `json:"id"`
			AccessToken string `json:"access_token"`
		} `json:"value"`
	}
	op.Must(201, "POST", "/parley/v1/operator/users:bulk", map[string]any{"tenantId": ten.ID, "password": parleytest.Password, "issueTokens": true,
		"users": []map[string]string{{"displayName": "Alice", "userPrincipalName": "alice@kill.test"}, {"displayName": "Bob", "userPrincipalName": "bob@kill.test"}}}).JSON(t, &users)
	alice, bob := users.Value[0], users.Value[1]
	aliceB, bobB := b.client(t, alice.AccessToken), b.client(t, bob.AccessToken)
	aliceA, bobA := a.client(t, alice.AccessToken), a.client(t, bob.AccessToken)
	chatID := aliceB.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne",
		"members": []any{parleytest.Bind(alice.ID, true), parleytest.Bind(bob.ID, true)}}).Map(t)["id"].(string)

	ws1 := bobB.Events(0)
	defer ws1.Close()
	post := func(base, token, text string) (string, bool) {
		body, _ := json.Marshal(map[string]any{"body": map[string]string{"content": text}})
		req, _ := http.NewRequest("POST", base+"/v1.0/chats/"+chatID+"/messages", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return "", false // in flight at the kill: may or may not be stored
		}
		defer resp.Body.Close()
		var out struct {
			ID string `json:"id"`
		}
		if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&out) != nil {
			return "", false
		}
		return out.ID, true
	}
	var acked []string
	// Sends on B until B is killed, 300 ms in.
	killAt := time.Now().Add(300 * time.Millisecond)
	for i := 0; ; i++ {
		if time.Now().After(killAt) {
			b.Kill(t)
			break
		}
		if id, ok := post(b.URL, alice.AccessToken, fmt.Sprintf("on B %d", i)); ok {
			acked = append(acked, id)
		}
	}
	if len(acked) == 0 {
		t.Fatal("no message was acknowledged on B before the kill")
	}
	// The sender goes on at A.
	for i := range 20 {
		if id, ok := post(a.URL, alice.AccessToken, fmt.Sprintf("on A %d", i)); ok {
			acked = append(acked, id)
		} else {
			t.Fatalf("send %d on A after B's death failed", i)
		}
	}
	// The recipient's connection to B is gone; it resumes on A from the
	// last seq it saw.
	var last int64
	first := ws1.Events()
	for _, e := range first {
		last = max(last, e.Seq)
	}
	ws2 := bobA.Events(last)
	defer ws2.Close()
	has := func(evs []parleytest.Event, id string) bool {
		for _, e := range evs {
			if e.Type == "messageCreated" && strings.Contains(toJSON(t, e.Raw), `"id":"`+id+`"`) {
				return true
			}
		}
		return false
	}
	ws2.WaitFor("every acknowledged message on A", 60*time.Second, func(evs []parleytest.Event) bool {
		for _, id := range acked {
			if !has(first, id) && !has(evs, id) {
				return false
			}
		}
		return true
	})
	var seqs []int64
	for _, e := range append(first, ws2.Events()...) {
		if e.Seq > 0 {
			seqs = append(seqs, e.Seq)
		}
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("bob's seqs across the two nodes have a gap or repeat at %d: %v", i, seqs)
		}
	}
	for _, id := range acked {
		aliceA.Must(200, "GET", "/v1.0/chats/"+chatID+"/messages/"+id, nil)
	}
	t.Logf("%d messages acknowledged (%d before the kill), bob's seqs 1..%d", len(acked), len(acked)-20, seqs[len(seqs)-1])
}
