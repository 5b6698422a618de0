package store

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/parleychat/parley/internal/chat"
)

// chatCache keeps chats with their members in memory: every send, typing
// signal and history page starts by reading them, and they change rarely.
// All writes go through this process's writer (one node per database, see
// docs/decisions.md), which invalidates after COMMIT: a write names the
// chat it touched (touch), or invalidates everything (touchAll, the
// default, for writes that may change accounts shown in members). A reader
// takes a ticket before it reads the database and may fill the cache only
// if nothing was invalidated since, so a read that raced a commit never
// stores what that commit replaced.
//
// With several nodes, the other nodes' commits arrive as invalidations
// over NATS, and trusted (natsbus.Bus.Current) says whether this node has
// heard them recently enough: while it says no, every lookup misses and
// reads the database (docs/decisions.md, "Several nodes: staleness
// bound"). Fills go on, since an invalidation that is late is still
// applied, and one that was lost empties the cache (ForgetCachedChats).
type chatCache struct {
	mu    sync.RWMutex
	gen   uint64 // bumped by invalidateAll
	slots map[chat.ID]*chatSlot
	max   int // chats (slots), filled or not
	// members counts the members held, against maxMembers: a group chat
	// holds up to 250, so the chat count alone would not bound memory.
	members, maxMembers int

	// hook, when set (several nodes), is told what each commit
	// invalidated; pending collects it. Both belong to the writer
	// goroutine; hook is set before the first write.
	hook    func(Invalidation)
	pending Invalidation

	// trusted, when set, is asked before each lookup; set before the
	// first read. untrusted counts the lookups it refused.
	trusted   func() bool
	untrusted atomic.Int64
}

type chatSlot struct {
	ver   uint64 // bumped by each invalidation of the chat
	entry *chatEntry
}

type chatEntry struct {
	gen     uint64
	c       chat.Chat
	members []chat.Member
	// installed says whether any app is installed in the chat, read with
	// the chat: every send asks it (app.Service.Delivered) and most chats
	// have none. Installs are written with touchAll, so an install drops
	// it like any other change, on every node.
	installed bool
	updated   atomic.Int64 // UpdatedAt in micros: raised by each message
}

type chatTicket struct{ gen, ver uint64 }

func newChatCache(max, maxMembers int) *chatCache {
	return &chatCache{slots: make(map[chat.ID]*chatSlot), max: max, maxMembers: maxMembers}
}

// get returns a copy of the cached chat and members and whether an app is
// installed in it, or a ticket to fill it.
func (cc *chatCache) get(id chat.ID) (chat.Chat, []chat.Member, bool, bool, chatTicket) {
	e, t := cc.entry(id)
	if e == nil {
		return chat.Chat{}, nil, false, false, t
	}
	return e.chat(), slices.Clone(e.members), e.installed, true, t
}

// getChat is get without the members, which it does not copy: for a
// caller that needs only the chat and whether an app is installed.
func (cc *chatCache) getChat(id chat.ID) (chat.Chat, bool, bool, chatTicket) {
	e, t := cc.entry(id)
	if e == nil {
		return chat.Chat{}, false, false, t
	}
	return e.chat(), e.installed, true, t
}

// entry returns the current entry of id, or nil and a ticket to fill it.
// An entry is never changed once stored (put replaces it), except its
// atomic activity time.
func (cc *chatCache) entry(id chat.ID) (*chatEntry, chatTicket) {
	trusted := cc.trusted == nil || cc.trusted()
	cc.mu.RLock()
	defer cc.mu.RUnlock()
	if !trusted {
		cc.untrusted.Add(1)
	}
	s := cc.slots[id]
	if s == nil {
		return nil, chatTicket{gen: cc.gen}
	}
	if e := s.entry; trusted && e != nil && e.gen == cc.gen {
		return e, chatTicket{}
	}
	return nil, chatTicket{gen: cc.gen, ver: s.ver}
}

// chat is the entry's chat with its current activity time.
func (e *chatEntry) chat() chat.Chat {
	c := e.c
	c.UpdatedAt = fromMicros(e.updated.Load())
	return c
}

// put fills the cache with what was read under t, unless a write
// invalidated the chat since t was taken.
func (cc *chatCache) put(t chatTicket, c chat.Chat, members []chat.Member, installed bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if t.gen != cc.gen {
		return
	}
	s := cc.slots[c.ID]
	switch {
	case s == nil && t.ver != 0, s != nil && s.ver != t.ver:
		return
	case s == nil:
		if len(cc.slots) >= cc.max {
			cc.resetLocked()
			return
		}
		s = &chatSlot{}
		cc.slots[c.ID] = s
	}
	if cc.members+len(members) > cc.maxMembers {
		cc.resetLocked()
		return
	}
	e := &chatEntry{gen: cc.gen, c: c, members: slices.Clone(members), installed: installed}
	e.updated.Store(micros(c.UpdatedAt))
	if s.entry != nil {
		cc.members -= len(s.entry.members)
	}
	cc.members += len(members)
	s.entry = e
}

// invalidate drops a chat after a committed write changed it.
func (cc *chatCache) invalidate(id chat.ID) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	s := cc.slots[id]
	if s == nil {
		if len(cc.slots) >= cc.max {
			cc.resetLocked()
			return
		}
		s = &chatSlot{}
		cc.slots[id] = s
	}
	s.ver++
	if s.entry != nil {
		cc.members -= len(s.entry.members)
	}
	s.entry = nil
}

// invalidateAll drops every chat.
func (cc *chatCache) invalidateAll() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.resetLocked()
}

// resetLocked empties the cache; the new generation voids every ticket
// taken before, which the per-chat versions dropped here can no longer do.
func (cc *chatCache) resetLocked() {
	cc.gen++
	clear(cc.slots)
	cc.members = 0
}

// touched records a new message's time on the cached chat, which orders
// chat lists (no invalidation: members did not change).
func (cc *chatCache) touched(id chat.ID, updatedMicros int64) {
	cc.mu.RLock()
	defer cc.mu.RUnlock()
	if s := cc.slots[id]; s != nil && s.entry != nil {
		for {
			cur := s.entry.updated.Load()
			if cur >= updatedMicros || s.entry.updated.CompareAndSwap(cur, updatedMicros) {
				return
			}
		}
	}
}

// touch says what a write changed, for the chat cache.
type touch struct {
	all   bool      // anything, accounts included: drop every chat
	chats []chat.ID // these chats' rows or members
	// message is set by a new message: only its chat's UpdatedAt moves.
	message      chat.ID
	messageAtMic int64
}

var touchAll = touch{all: true}

// touchNone is a write that changes no chat, member or account.
var touchNone = touch{}

func (db *DB) applyTouch(t *touch) {
	if db.chats.hook != nil {
		db.chats.pending.add(t)
	}
	switch {
	case t.all:
		db.chats.invalidateAll()
	default:
		for _, id := range t.chats {
			db.chats.invalidate(id)
		}
		if t.message != "" {
			db.chats.touched(t.message, t.messageAtMic)
		}
	}
}

// Invalidation is what one commit changed in the chat cache, announced to
// the other nodes on the same database (internal/natsbus) so that they drop
// the same chats.
type Invalidation struct {
	All   bool      // every chat (a write that may change accounts)
	Chats []chat.ID // these chats' rows or members
	// Touched are new messages' chats and times (UpdatedAt only).
	Touched []ChatTouch
}

// ChatTouch is a new message's chat and time, in microseconds.
type ChatTouch struct {
	Chat   chat.ID
	Micros int64
}

// Empty reports whether the invalidation changes nothing.
func (inv *Invalidation) Empty() bool {
	return !inv.All && len(inv.Chats) == 0 && len(inv.Touched) == 0
}

func (inv *Invalidation) add(t *touch) {
	if inv.All {
		return
	}
	if t.all {
		*inv = Invalidation{All: true}
		return
	}
	inv.Chats = append(inv.Chats, t.chats...)
	if t.message != "" {
		if n := len(inv.Touched); n > 0 && inv.Touched[n-1].Chat == t.message {
			inv.Touched[n-1].Micros = max(inv.Touched[n-1].Micros, t.messageAtMic)
		} else {
			inv.Touched = append(inv.Touched, ChatTouch{Chat: t.message, Micros: t.messageAtMic})
		}
	}
}

// OnInvalidate sets f to be told, after each COMMIT and before the writes
// are answered, what the commit invalidated in the chat cache (never an
// empty Invalidation). f runs in the writer goroutine: it must not block.
// Set it before the first write; without it (one node) a commit does no
// extra work.
func (db *DB) OnInvalidate(f func(Invalidation)) { db.chats.hook = f }

// announceTouches hands the commit's invalidations to the hook.
func (db *DB) announceTouches() {
	cc := db.chats
	if cc.hook == nil || cc.pending.Empty() {
		return
	}
	inv := cc.pending
	cc.pending = Invalidation{}
	cc.hook(inv)
}

// ApplyInvalidation applies what another node's commit invalidated.
func (db *DB) ApplyInvalidation(inv Invalidation) {
	if inv.All {
		db.chats.invalidateAll()
		return
	}
	for _, id := range inv.Chats {
		db.chats.invalidate(id)
	}
	for _, t := range inv.Touched {
		db.chats.touched(t.Chat, t.Micros)
	}
}

// ForgetCachedChats empties the chat cache (after this node may have
// missed other nodes' invalidations).
func (db *DB) ForgetCachedChats() { db.chats.invalidateAll() }

// TrustCachedChatsWhile makes the chat cache serve a chat only while
// trusted reports true (several nodes: natsbus.Bus.Current); otherwise
// FindChat reads the database. Call it before the first read; without it
// (one node) the cache is always served.
func (db *DB) TrustCachedChatsWhile(trusted func() bool) { db.chats.trusted = trusted }

// UntrustedChatLookups counts the chat lookups that read the database
// because the cache was not trusted at the time.
func (db *DB) UntrustedChatLookups() int64 { return db.chats.untrusted.Load() }
