package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestShutdownKeepsAcknowledgedWrites stops `parley serve` the way SIGTERM
// does (its context ends: cmd/parley's signal.NotifyContext) while many
// sends are in flight, starts it again on the same store, and finds every
// message that was answered 201. Both stores.
func TestShutdownKeepsAcknowledgedWrites(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, st string) {
		t.Parallel()
		const op = "operator-token-for-shutdown"
		args := []string{"--listen", "127.0.0.1:0", "--operator-token", op, "--access-log=false"}
		if st == "postgres" {
			args = append(args, "--store", "postgres", "--postgres-url", parleytest.PostgresSchema(t))
		} else {
			args = append(args, "--data", t.TempDir())
		}
		s := MustServe(t, args...)
		opc := &parleytest.Client{TB: t, Base: s.URL, HTTP: http.DefaultClient, Token: op}
		opc.Must(201, "POST", "/parley/v1/operator/tenants", map[string]any{"displayName": "Contoso", "domains": []string{"contoso.com"},
			"admin": map[string]string{"displayName": "Ada", "userPrincipalName": "ada@contoso.com", "password": parleytest.Password}})
		admin := signInAt(t, s.URL, "ada@contoso.com")
		admin.Must(201, "POST", "/v1.0/users", map[string]any{"displayName": "Bob", "userPrincipalName": "bob@contoso.com",
			"passwordProfile": map[string]string{"password": parleytest.Password}})
		bob := signInAt(t, s.URL, "bob@contoso.com")
		chat := admin.OneOnOne(bob.UserID)

		// 16 senders send until the server stops answering.
		var (
			mu    sync.Mutex
			acked = map[string]bool{}
			sent  atomic.Int64
			wg    sync.WaitGroup
		)
		client := &http.Client{Timeout: 30 * time.Second}
		for w := range 16 {
			wg.Go(func() {
				for i := 0; ; i++ {
					id, ok := trySend(client, s.URL, admin.Token, chat, fmt.Sprintf("w%d-%d", w, i))
					if !ok {
						return
					}
					sent.Add(1)
					mu.Lock()
					acked[id] = true
					mu.Unlock()
				}
			})
		}
		for sent.Load() < 200 {
			time.Sleep(5 * time.Millisecond)
		}
		s.Stop(t) // as SIGTERM: graceful stop; Stop checks exit code 0
		wg.Wait()
		if len(acked) < 200 {
			t.Fatalf("only %d sends answered", len(acked))
		}

		s2 := MustServe(t, args...)
		reader := signInAt(t, s2.URL, "bob@contoso.com")
		found := map[string]bool{}
		next := "/v1.0/chats/" + chat + "/messages?$top=50"
		for next != "" {
			var page struct {
				Value []struct {
					ID string `json:"id"`
				} `json:"value"`
				Next string `json:"@odata.nextLink"`
			}
			reader.Must(200, "GET", next, nil).JSON(t, &page)
			for _, m := range page.Value {
				found[m.ID] = true
			}
			next = page.Next
		}
		missing := 0
		for id := range acked {
			if !found[id] {
				missing++
			}
		}
		if missing > 0 {
			t.Fatalf("%d of %d acknowledged messages are missing after the restart", missing, len(acked))
		}
		t.Logf("%d messages acknowledged before the stop, all present after the restart (%d stored)", len(acked), len(found))
	})
}

// signInAt signs in at base with the harness password.
func signInAt(t *testing.T, base, user string) *parleytest.Client {
	t.Helper()
	c := &parleytest.Client{TB: t, Base: base, HTTP: http.DefaultClient}
	form := "grant_type=password&username=" + user + "&password=" + url.QueryEscape(parleytest.Password)
	r := c.DoHeader("POST", "/oauth2/token", form, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if r.Status != 200 {
		t.Fatalf("sign in %s: %d %s", user, r.Status, r.Body)
	}
	r.JSON(t, &tok)
	c.Token = tok.AccessToken
	var me struct {
		ID string `json:"id"`
	}
	c.Must(200, "GET", "/v1.0/me", nil).JSON(t, &me)
	c.UserID = me.ID
	return c
}

// trySend posts one message with plain net/http (it runs off the test's
// goroutine) and reports its id when the answer is 201.
func trySend(c *http.Client, base, token, chat, text string) (string, bool) {
	body := `{"body":{"content":"` + text + `"}}`
	req, err := http.NewRequest("POST", base+"/v1.0/chats/"+chat+"/messages", strings.NewReader(body))
	if err != nil {
		return "", false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	var m struct {
		ID string `json:"id"`
	}
	if err != nil || resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &m) != nil || m.ID == "" {
		return "", false
	}
	return m.ID, true
}
