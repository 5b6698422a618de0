package limit

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func TestBucketBurstThenRefill(t *testing.T) {
	b := Bucket{Burst: 3, Every: time.Minute}
	var s State
	for i := range 3 {
		if _, ok := b.Take(&s, t0, 1); !ok {
			t.Fatalf("take %d of a full bucket of 3 refused", i+1)
		}
	}
	retry, ok := b.Take(&s, t0, 1)
	if ok || retry != time.Minute {
		t.Fatalf("4th take: ok=%v retry=%v, want refused with 1m", ok, retry)
	}
	if _, ok := b.Take(&s, t0.Add(59*time.Second), 1); ok {
		t.Fatal("a token came back before Every passed")
	}
	if _, ok := b.Take(&s, t0.Add(61*time.Second), 1); !ok {
		t.Fatal("no token after Every passed")
	}
	// A refused take leaves the state as it was.
	before := s
	b.Take(&s, t0.Add(61*time.Second), 1)
	if s.Tokens != before.Tokens {
		t.Fatalf("a refused take changed the tokens: %v -> %v", before.Tokens, s.Tokens)
	}
}

func TestBucketTakesAllOrNone(t *testing.T) {
	b := Bucket{Burst: 5, Every: time.Hour}
	var s State
	if _, ok := b.Take(&s, t0, 3); !ok {
		t.Fatal("3 of 5 refused")
	}
	if retry, ok := b.Take(&s, t0, 3); ok || retry != time.Hour {
		t.Fatalf("3 more of the 2 left: ok=%v retry=%v, want refused, 1h", ok, retry)
	}
	if _, ok := b.Take(&s, t0, 2); !ok {
		t.Fatal("the 2 left refused")
	}
	if _, ok := b.Take(&s, t0, 6); ok {
		t.Fatal("more than the burst taken")
	}
}

func TestBucketGiveAndExpiry(t *testing.T) {
	b := Bucket{Burst: 2, Every: time.Minute}
	var s State
	b.Take(&s, t0, 2)
	if !s.Expires.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("expires %v, want when full again (2m)", s.Expires)
	}
	b.Give(&s, t0, 1)
	if _, ok := b.Take(&s, t0, 1); !ok {
		t.Fatal("a given-back token could not be taken")
	}
	b.Give(&s, t0, 5)
	if s.Tokens != 0 {
		t.Fatalf("giving back more than was taken: tokens %v, want 0", s.Tokens)
	}
}

func TestBucketZeroIsNoLimit(t *testing.T) {
	var s State
	for range 1000 {
		if _, ok := (Bucket{}).Take(&s, t0, 1); !ok {
			t.Fatal("a zero bucket refused")
		}
	}
	if b := PerWindow(0, time.Hour); b.Burst != 0 {
		t.Fatalf("PerWindow(0) = %+v, want no limit", b)
	}
	if b := PerWindow(30, time.Hour); b.Burst != 30 || b.Every != 2*time.Minute {
		t.Fatalf("PerWindow(30, 1h) = %+v", b)
	}
}

func TestBackoffFreeThenDoubling(t *testing.T) {
	b := Backoff{Free: 3, Base: time.Second, Max: 10 * time.Second, Idle: time.Hour}
	var s State
	now := t0
	for i := range 3 {
		if _, ok := b.Reserve(&s, now); !ok {
			t.Fatalf("free attempt %d refused", i+1)
		}
	}
	// The 3rd attempt imposes the first wait on the 4th.
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		retry, ok := b.Reserve(&s, now)
		if ok || retry != w {
			t.Fatalf("attempt %d at once: ok=%v retry=%v, want refused, %v", i+4, ok, retry, w)
		}
		now = now.Add(w)
		if _, ok := b.Reserve(&s, now); !ok {
			t.Fatalf("attempt %d after %v refused", i+4, w)
		}
	}
	b.Reset(&s, now)
	if _, ok := b.Reserve(&s, now); !ok || s.Count != 1 || !s.Seen.Equal(now) {
		t.Fatalf("after a success: %+v", s)
	}
}

// TestBackoffOrderOfArrival: free attempts whose clocks read out of order
// are all let through; only a wait moves At.
func TestBackoffOrderOfArrival(t *testing.T) {
	b := Backoff{Free: 5, Base: time.Second, Max: time.Minute, Idle: time.Hour}
	var s State
	for i, at := range []time.Duration{3, 1, 4, 0} {
		if _, ok := b.Reserve(&s, t0.Add(at*time.Millisecond)); !ok {
			t.Fatalf("free attempt %d (clock +%dms) refused", i+1, at)
		}
	}
	if s.Expires.Before(t0.Add(time.Hour)) {
		t.Fatalf("expires %v: an idle back-off is kept Idle after its last attempt", s.Expires)
	}
}
