package store_test

import (
	"testing"
	"time"

	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// TestRequestContentStore: a fingerprint counts the distinct chats of a
// sender that got it since a time: a chat counts once, other senders and
// other fingerprints not at all, and older records drop out of the window.
// (FilterRequests is tested through internal/safety.)
func TestRequestContentStore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		u := mustTenantUsers(t, db, "contoso.com", 2)
		t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		steps := []struct {
			sender int
			hash   string
			chat   string
			at     time.Duration
			since  time.Duration
			want   int
		}{
			{0, "h1", "c1", 0, -time.Hour, 1},
			{0, "h1", "c1", time.Minute, -time.Hour, 1}, // the same chat again
			{0, "h1", "c2", 2 * time.Minute, -time.Hour, 2},
			{1, "h1", "c3", 3 * time.Minute, -time.Hour, 1}, // another sender
			{0, "h2", "c4", 4 * time.Minute, -time.Hour, 1}, // another text
			{0, "h1", "c5", time.Hour + 30*time.Second, time.Second, 2},
		}
		for i, s := range steps {
			n, err := db.RecordRequestContent(ctx, u[s.sender].ID, s.hash, s.chat, t0.Add(s.at), t0.Add(s.since))
			if err != nil {
				t.Fatal(err)
			}
			if n != s.want {
				t.Errorf("step %d: %d chats, want %d", i, n, s.want)
			}
		}
	})
}
