package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// Entry is one activity queued for a bot.
type Entry struct {
	// ID sorts by queueing time (NewEntryID); the activity is stored as
	// the JSON posted to the bot.
	ID       string
	BotID    string
	Activity []byte
	// CreatedAt is when it was queued, NextAttemptAt when it is due (or,
	// while a worker posts it, when its claim lapses).
	CreatedAt     time.Time
	NextAttemptAt time.Time
	// Attempts counts the failed posts so far; LastError says why the last
	// one failed.
	Attempts  int
	LastError string
}

// Queue is the store of queued activities (docs/rules.md §9: activities to
// bots survive a restart).
type Queue interface {
	// EnqueueBotActivity stores an entry; it returns once committed.
	EnqueueBotActivity(ctx context.Context, e Entry) error
	// FindDueBotActivities returns up to limit of a bot's entries due at
	// or before now, oldest first, and when its next entry that is not yet
	// due is due (zero: none).
	FindDueBotActivities(ctx context.Context, botID string, now time.Time, limit int) ([]Entry, time.Time, error)
	// FindQueuedBots returns up to limit bots with queued entries.
	FindQueuedBots(ctx context.Context, limit int) ([]string, error)
	// ClaimBotActivity moves an entry's next attempt from due to until,
	// only if it is still due at due, and reports whether this caller won
	// it: two workers (two nodes, or a node and its restart) never post
	// one entry together, and one that dies while posting leaves the entry
	// to be tried again at until.
	ClaimBotActivity(ctx context.Context, id string, due, until time.Time) (bool, error)
	// DeleteBotActivity removes an entry (delivered or given up).
	DeleteBotActivity(ctx context.Context, id string) error
	// RetryBotActivity records the attempts so far, the next attempt and
	// the last error of an entry.
	RetryBotActivity(ctx context.Context, id string, attempts int, next time.Time, errText string) error
}

// NewEntryID returns an id that sorts by time: the queueing time in
// microseconds, zero-padded, and random bytes that keep ids of one
// microsecond apart.
func NewEntryID(now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return fmt.Sprintf("%017d-%s", now.UnixMicro(), hex.EncodeToString(b[:]))
}
