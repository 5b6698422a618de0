package store

import (
	"testing"
	"time"
)

// TestArrivalsLinger: a lone write waits a little more than the mean gap
// between writes when writes come every few milliseconds, and never when
// they are rare, when others already wait, or after a pause.
func TestArrivalsLinger(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	paced := func(gap time.Duration, n int) (*arrivals, time.Time) {
		var a arrivals
		now := t0
		for range n {
			a.count(1, now)
			now = now.Add(gap)
		}
		return &a, now
	}
	cases := []struct {
		name   string
		gap    time.Duration
		queued int
		pause  time.Duration
		want   time.Duration
	}{
		{"200 writes/s", 5 * time.Millisecond, 0, 0, 6 * time.Millisecond},
		{"180 writes/s", 5555 * time.Microsecond, 0, 0, 6 * time.Millisecond},
		{"1000 writes/s", time.Millisecond, 0, 0, 1200 * time.Microsecond},
		{"100 writes/s: too far apart", 10 * time.Millisecond, 0, 0, 0},
		{"others queued", 5 * time.Millisecond, 3, 0, 0},
		{"after a pause", 5 * time.Millisecond, 0, time.Second, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, now := paced(c.gap, int(600*time.Millisecond/c.gap)+2)
			if got := a.linger(c.queued, now.Add(c.pause)); got != c.want {
				t.Fatalf("linger = %v, want %v (mean gap %v)", got, c.want, a.gap)
			}
		})
	}
	var fresh arrivals
	if got := fresh.linger(0, t0); got != 0 {
		t.Fatalf("no writes seen yet: linger = %v, want 0", got)
	}
}
