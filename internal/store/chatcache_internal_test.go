package store

import (
	"testing"

	"github.com/parleychat/parley/internal/chat"
)

// TestChatCacheRefusesRacedFills: a read that started before a write
// committed must not fill the cache with what the write replaced, whether
// the write named the chat, emptied the whole cache, or the cache was reset
// for size in between.
func TestChatCacheRefusesRacedFills(t *testing.T) {
	old := []chat.Member{{ID: "m1", State: chat.Pending}}
	cases := map[string]func(cc *chatCache){
		"invalidate":    func(cc *chatCache) { cc.invalidate("c1") },
		"invalidateAll": func(cc *chatCache) { cc.invalidateAll() },
		"reset for size": func(cc *chatCache) {
			cc.invalidate("c1")
			for i := range cc.max {
				cc.invalidate(chat.ID(rune('a' + i)))
			}
		},
	}
	for name, write := range cases {
		t.Run(name, func(t *testing.T) {
			cc := newChatCache(4, 100)
			// Cached before: the raced read must not bring the old rows back either.
			_, _, _, _, t0 := cc.get("c1")
			cc.put(t0, chat.Chat{ID: "c1"}, old, false)
			if _, _, _, ok, _ := cc.get("c1"); !ok {
				t.Fatal("a fill with a fresh ticket was refused")
			}
			cc.invalidate("c1")
			_, _, _, ok, ticket := cc.get("c1") // a reader misses and reads the database ...
			if ok {
				t.Fatal("hit after invalidate")
			}
			write(cc)                                       // ... a write commits and invalidates ...
			cc.put(ticket, chat.Chat{ID: "c1"}, old, false) // ... and the reader fills with the old rows.
			if _, _, _, ok, _ := cc.get("c1"); ok {
				t.Fatal("the raced fill was kept")
			}
			// The next reader fills normally.
			_, _, _, _, t2 := cc.get("c1")
			cc.put(t2, chat.Chat{ID: "c1"}, []chat.Member{{ID: "m1", State: chat.Accepted}}, false)
			if _, ms, _, ok, _ := cc.get("c1"); !ok || ms[0].State != chat.Accepted {
				t.Fatalf("after a fresh fill: ok=%v members=%v", ok, ms)
			}
		})
	}
}

// TestChatCacheBoundsMembers: big group chats empty the cache before the
// members held pass the bound; invalidations give their members back.
func TestChatCacheBoundsMembers(t *testing.T) {
	cc := newChatCache(100, 10)
	fill := func(id chat.ID, n int) {
		_, _, _, _, tk := cc.get(id)
		cc.put(tk, chat.Chat{ID: id}, make([]chat.Member, n), false)
	}
	fill("a", 6)
	cc.invalidate("a") // gives its 6 back
	fill("b", 6)
	if _, _, _, ok, _ := cc.get("b"); !ok || cc.members != 6 {
		t.Fatalf("b cached=%v, members=%d; want cached, 6", ok, cc.members)
	}
	fill("c", 6) // 12 > 10: the cache empties instead
	if _, _, _, ok, _ := cc.get("b"); ok || cc.members != 0 {
		t.Fatalf("after passing the bound: b cached=%v, members=%d; want empty", ok, cc.members)
	}
}

// TestChatCacheServesOnlyWhileTrusted: while the node cannot prove it has
// heard the other nodes' invalidations, every lookup misses (and is
// counted); fills go on, and the cache is served again once trusted.
func TestChatCacheServesOnlyWhileTrusted(t *testing.T) {
	cc := newChatCache(10, 100)
	trusted := true
	cc.trusted = func() bool { return trusted }
	_, _, _, _, tk := cc.get("c1")
	cc.put(tk, chat.Chat{ID: "c1"}, []chat.Member{{ID: "m1"}}, false)
	if _, _, _, ok, _ := cc.get("c1"); !ok {
		t.Fatal("trusted: miss after a fill")
	}
	trusted = false
	_, _, _, ok, tk := cc.get("c1")
	if ok {
		t.Fatal("untrusted: served from the cache")
	}
	cc.put(tk, chat.Chat{ID: "c1"}, []chat.Member{{ID: "m1"}, {ID: "m2"}}, false) // the read-through's fill
	if _, _, _, ok, _ := cc.get("c2"); ok {
		t.Fatal("untrusted: hit on an unknown chat")
	}
	if n := cc.untrusted.Load(); n != 2 {
		t.Fatalf("untrusted lookups = %d, want 2", n)
	}
	trusted = true
	if _, ms, _, ok, _ := cc.get("c1"); !ok || len(ms) != 2 {
		t.Fatalf("trusted again: ok=%v members=%v, want the read-through's fill", ok, ms)
	}
	if cc.members != 2 {
		t.Fatalf("members held = %d, want 2", cc.members)
	}
}
