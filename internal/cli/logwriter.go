package cli

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// The server's log (the access log's line per request above all) goes
// through a batchWriter: lines wait up to logFlushEvery and leave in one
// write, instead of a write system call on the request's goroutine per
// line. A warning or an error is written at once, with everything before
// it, and so is whatever is left when serve returns.

const (
	// logFlushEvery bounds how long a line waits.
	logFlushEvery = 100 * time.Millisecond
	// logBufferMax is written at once when reached.
	logBufferMax = 64 << 10
)

// batchWriter collects writes and passes them on in batches.
type batchWriter struct {
	mu    sync.Mutex
	w     io.Writer
	buf   []byte
	timer *time.Timer // armed while buf holds lines
	armed bool
}

func newBatchWriter(w io.Writer) *batchWriter {
	b := &batchWriter{w: w}
	b.timer = time.AfterFunc(time.Hour, b.Flush)
	b.timer.Stop()
	return b
}

// Write keeps a copy of p for the next flush; it never fails.
func (b *batchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > logBufferMax {
		b.flushLocked()
	}
	b.buf = append(b.buf, p...)
	if !b.armed {
		b.armed = true
		b.timer.Reset(logFlushEvery)
	}
	return len(p), nil
}

// Flush writes what waits.
func (b *batchWriter) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *batchWriter) flushLocked() {
	if len(b.buf) > 0 {
		_, _ = b.w.Write(b.buf) // a log that cannot be written has nowhere to say so
	}
	b.buf = b.buf[:0]
	if cap(b.buf) > 4*logBufferMax {
		b.buf = nil
	}
	if b.armed {
		b.armed = false
		b.timer.Stop()
	}
}

// flushingHandler writes a record of level Warn or above at once, with
// every line before it.
type flushingHandler struct {
	slog.Handler
	w *batchWriter
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.w.Flush()
	}
	return err
}

func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(attrs), h.w}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.w}
}
