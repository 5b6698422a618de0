// Package limit holds the arithmetic of Parley's rate limits: token buckets
// and progressive back-off, as pure functions over a stored State. The
// stores run them atomically (Store.Update): on SQLite inside the one
// writer, on PostgreSQL under a row lock, so a limit holds however many
// requests arrive at the same instant and on however many nodes. Which
// limits exist, with their defaults, is in docs/decisions.md ("Limits").
package limit

import (
	"context"
	"math"
	"time"
)

// State is what is stored for one key. Its fields mean what the Bucket or
// Backoff that owns the key says; a key never seen has the zero State.
type State struct {
	Tokens float64   // Bucket: tokens taken (0: full)
	Count  int       // Backoff: attempts since the last success
	At     time.Time // Bucket: when Tokens was last brought up to date; Backoff: earliest next attempt
	Seen   time.Time // when the key last succeeded (Backoff: a known client)
	// Expires is when the row says nothing any more (a full bucket, an
	// idle back-off): the store may delete it then.
	Expires time.Time
}

// Store runs limit arithmetic atomically.
type Store interface {
	// UpdateLimits reads the states of keys (the zero State for a key
	// never seen or expired), calls fn with them and stores what fn left
	// in them, with no other UpdateLimits of any of these keys in between,
	// on any node. now is the caller's clock, for expiry.
	UpdateLimits(ctx context.Context, keys []string, now time.Time, fn func(states []State)) error
}

// Bucket is a token bucket: Burst attempts at once, then one more every
// Every. A zero Burst is no limit. Tokens in State counts what was taken,
// so the zero State is a full bucket.
type Bucket struct {
	Burst int
	Every time.Duration
}

// PerWindow is a bucket that allows n in every window, as n at once and
// then one every window/n.
func PerWindow(n int, window time.Duration) Bucket {
	if n <= 0 {
		return Bucket{}
	}
	return Bucket{Burst: n, Every: window / time.Duration(n)}
}

func (b Bucket) refill(s *State, now time.Time) {
	if s.Tokens > 0 && now.After(s.At) && b.Every > 0 {
		s.Tokens = math.Max(0, s.Tokens-float64(now.Sub(s.At))/float64(b.Every))
	}
	if now.After(s.At) || s.At.IsZero() {
		s.At = now
	}
}

// Take takes n tokens when the bucket holds them and reports whether it
// did; when not, it takes none and says how long until it would.
func (b Bucket) Take(s *State, now time.Time, n int) (retry time.Duration, ok bool) {
	if b.Burst <= 0 || n <= 0 {
		return 0, true
	}
	b.refill(s, now)
	if n > b.Burst {
		return b.Every * time.Duration(b.Burst), false
	}
	if s.Tokens+float64(n) > float64(b.Burst)+1e-9 {
		over := s.Tokens + float64(n) - float64(b.Burst)
		return time.Duration(over * float64(b.Every)), false
	}
	s.Tokens += float64(n)
	s.Expires = s.At.Add(time.Duration(s.Tokens * float64(b.Every)))
	return 0, true
}

// Give puts n tokens back (a taken attempt that turned out not to count).
func (b Bucket) Give(s *State, now time.Time, n int) {
	if b.Burst <= 0 {
		return
	}
	b.refill(s, now)
	s.Tokens = math.Max(0, s.Tokens-float64(n))
	s.Expires = s.At.Add(time.Duration(s.Tokens * float64(b.Every)))
}

// Backoff lets Free attempts through at once, then makes each further
// attempt wait twice as long as the one before, from Base up to Max. An
// attempt is counted when it starts (Reserve), so attempts that arrive
// together are counted one by one; Reset forgets them after a success.
type Backoff struct {
	Free      int
	Base, Max time.Duration
	// Idle is how long after its last attempt a key is forgotten.
	Idle time.Duration
}

// delay is the wait that the count-th attempt imposes on the next one.
func (b Backoff) delay(count int) time.Duration {
	if count < b.Free {
		return 0
	}
	d := b.Base
	for i := b.Free; i < count && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Reserve counts an attempt when one may start now and reports whether it
// may; when not, it counts nothing and says how long to wait.
//
// Attempts that arrive together may reach the store in another order than
// their clocks read, so a free attempt leaves At as it was: only a wait
// moves it.
func (b Backoff) Reserve(s *State, now time.Time) (retry time.Duration, ok bool) {
	if now.Before(s.At) {
		return s.At.Sub(now), false
	}
	s.Count++
	if d := b.delay(s.Count); d > 0 {
		s.At = now.Add(d)
	}
	s.Expires = later(now, s.At).Add(b.Idle)
	return 0, true
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Reset forgets the attempts after a success and remembers when it was.
func (b Backoff) Reset(s *State, now time.Time) {
	s.Count, s.At, s.Seen = 0, time.Time{}, now
	s.Expires = now.Add(b.Idle)
}
