package cli

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the flush timer's goroutine.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	largest int // the largest single write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.largest = max(s.largest, len(p))
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestBatchWriterLines: lines written together (64 goroutines released at
// once) leave whole; a warning leaves at once with the lines before it,
// and an info line without one is written by the timer.
func TestBatchWriterLines(t *testing.T) {
	out := &syncBuffer{}
	w := newBatchWriter(out)
	log := slog.New(flushingHandler{slog.NewTextHandler(w, nil), w})

	const n = 64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			log.Info("request", "i", i, "route", "POST /v1.0/chats/{id}/messages")
		})
	}
	close(start)
	wg.Wait()
	log.Warn("slow commit")
	got := out.String()
	if !strings.HasSuffix(got, "msg=\"slow commit\"\n") {
		t.Fatalf("the warning was not written at once after the lines before it:\n%s", got)
	}
	for i := range n {
		if !strings.Contains(got, fmt.Sprintf("level=INFO msg=request i=%d route=", i)) {
			t.Errorf("line %d missing or cut:\n%s", i, got)
		}
	}
	if lines := strings.Count(got, "\n"); lines != n+1 {
		t.Errorf("%d lines, want %d", lines, n+1)
	}

	log.Info("later")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "msg=later") {
		if time.Now().After(deadline) {
			t.Fatal("an info line was never written without a flush")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBatchWriterFull: no write passes on more than logBufferMax (a batch
// that would grow past it is written first), and nothing is lost.
func TestBatchWriterFull(t *testing.T) {
	out := &syncBuffer{}
	w := newBatchWriter(out)
	line := []byte(strings.Repeat("x", 1023) + "\n")
	const lines = 3*logBufferMax/1024 + 7
	for range lines {
		if _, err := w.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	out.mu.Lock()
	defer out.mu.Unlock()
	if out.largest > logBufferMax {
		t.Errorf("a write of %d bytes, more than %d", out.largest, logBufferMax)
	}
	if want := lines * len(line); out.b.Len() != want {
		t.Errorf("%d bytes written, want %d", out.b.Len(), want)
	}
}
