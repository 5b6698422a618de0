package loadtest

import (
	"strconv"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 1000; i++ {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 500 * time.Millisecond},
		{0.99, 990 * time.Millisecond},
		{0.999, 999 * time.Millisecond},
		{1, 1000 * time.Millisecond},
		{0, time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(s, tt.q); got != tt.want {
			t.Errorf("percentile(%v): got %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := summarize(nil); got != (Latency{}) {
		t.Errorf("summarize(nil): got %+v, want zero", got)
	}
}

func TestTrackerMatchesFrames(t *testing.T) {
	tr := newTracker("ab12")
	t0 := time.Unix(100, 0)
	tr.expect("ltab12x1", t0, 2, true)
	tr.expect("ltab12x2", t0, 1, false)
	frames := []struct {
		name  string
		frame string
	}{
		{"first copy", `{"seq":7,"type":"messageCreated","chatId":"c","message":{"id":"5","body":{"contentType":"text","content":"ltab12x1 Lorem"}}}`},
		{"other run", `{"seq":8,"type":"messageCreated","chatId":"c","message":{"id":"6","body":{"contentType":"text","content":"ltff00x1 Lorem"}}}`},
		{"not a creation", `{"seq":9,"type":"messageUpdated","chatId":"c","message":{"id":"5","body":{"contentType":"text","content":"ltab12x1 Lorem"}}}`},
		{"second copy", `{"seq":3,"type":"messageCreated","chatId":"c","message":{"id":"5","body":{"contentType":"text","content":"ltab12x1 Lorem"}}}`},
		{"unmeasured", `{"seq":4,"type":"messageCreated","chatId":"c","message":{"id":"7","body":{"contentType":"text","content":"ltab12x2"}}}`},
		{"stray", `{"seq":5,"type":"messageCreated","chatId":"c","message":{"id":"8","body":{"contentType":"text","content":"ltab12x9 x"}}}`},
	}
	for i, f := range frames {
		tr.frame([]byte(f.frame), t0.Add(time.Duration(i+1)*time.Millisecond), &wsConn{last: -1})
	}
	e2e, delivered := tr.results()
	if delivered != 2 {
		t.Errorf("delivered: got %d, want 2", delivered)
	}
	if len(e2e) != 1 || e2e[0] != 4*time.Millisecond {
		t.Errorf("latencies: got %v, want [4ms] (the second copy's arrival)", e2e)
	}
	if got := tr.strays.Load(); got != 1 {
		t.Errorf("strays: got %d, want 1", got)
	}
	if got := tr.drain(time.Millisecond); got != 0 {
		t.Errorf("outstanding: got %d, want 0", got)
	}
}

func TestMessageIDOf(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"id":"1234","replyToId":null}`, "1234"},
		{`{"error":{"code":"notFound"}}`, ""},
		{`{"id":""}`, ""},
	}
	for _, tt := range tests {
		if got := messageIDOf([]byte(tt.body)); got != tt.want {
			t.Errorf("messageIDOf(%s): got %q, want %q", tt.body, got, tt.want)
		}
	}
}

// TestTrackerSeqs: in a fault run a stored event a connection already had
// is a duplicate and not a delivery, and a skipped seq is a gap; each
// connection's seqs are its own.
func TestTrackerSeqs(t *testing.T) {
	tr := newTracker("ab12")
	tr.checkSeqs = true
	t0 := time.Unix(100, 0)
	tr.expect("ltab12x1", t0, 2, true)
	tr.expect("ltab12x2", t0, 2, true)
	a, b := &wsConn{last: -1}, &wsConn{last: -1}
	msg := func(seq int, tok string) []byte {
		return []byte(`{"seq":` + strconv.Itoa(seq) + `,"type":"messageCreated","chatId":"c","message":{"id":"5","body":{"contentType":"text","content":"` + tok + ` x"}}}`)
	}
	for _, f := range []struct {
		c     *wsConn
		frame []byte
	}{
		{a, msg(4, "ltab12x1")},
		{a, msg(4, "ltab12x1")}, // duplicate: not a second delivery
		{b, msg(9, "ltab12x1")}, // b's own seqs
		{a, []byte(`{"seq":0,"type":"typing","chatId":"c"}`)},
		{a, msg(6, "ltab12x2")}, // 5 skipped
		{b, msg(10, "ltab12x2")},
	} {
		tr.frame(f.frame, t0.Add(time.Millisecond), f.c)
	}
	if got := tr.dups.Load(); got != 1 {
		t.Errorf("duplicates: got %d, want 1", got)
	}
	if got := tr.gaps.Load(); got != 1 {
		t.Errorf("gaps: got %d, want 1", got)
	}
	if acked, delivered := tr.counts(); acked != 2 || delivered != 2 {
		t.Errorf("acknowledged / delivered: got %d / %d, want 2 / 2", acked, delivered)
	}
	if a.last != 6 || b.last != 10 {
		t.Errorf("last seqs: got %d and %d, want 6 and 10", a.last, b.last)
	}
}
