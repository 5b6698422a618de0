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
	// One client writing again as soon as it is answered: every wait
	// finds nobody, so after a window only one lone write in lingerProbe
	// waits, and company coming back turns waiting on again.
	var seq arrivals
	now := t0
	waited := 0
	for i := range 400 {
		if d := seq.linger(0, now); d > 0 {
			waited++
			seq.lingered(false)
			now = now.Add(d)
		}
		seq.count(1, now)
		now = now.Add(2 * time.Millisecond)
		if i == 399 && !seq.futile {
			t.Fatal("a window of waits that found nobody did not turn waiting off")
		}
	}
	if waited > 100 { // one window of waits (about 55), then one in lingerProbe
		t.Fatalf("a sequential client waited %d times in 400 writes", waited)
	}
	late := 0
	for range 200 {
		if d := seq.linger(0, now); d > 0 {
			late++
			seq.lingered(true)
		}
		seq.count(2, now)
		now = now.Add(4 * time.Millisecond)
	}
	if seq.futile || late < 100 {
		t.Fatalf("company came back but waiting stayed off (futile %v, %d waits in 200 writes)", seq.futile, late)
	}

	var fresh arrivals
	if got := fresh.linger(0, t0); got != 0 {
		t.Fatalf("no writes seen yet: linger = %v, want 0", got)
	}
}
