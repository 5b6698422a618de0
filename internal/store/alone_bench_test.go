package store_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/store"
)

// BenchmarkCreateMessageAlone is the low-load write: one sender, so every
// message is a commit of its own (as at 200 msg/s). Its time per op is
// mostly the wait for fsync, which depends on the disk; cpu-µs/op (the
// process's user+system CPU per message, from getrusage) is what the
// commit costs the machine, and what fewer pages per commit lower.
func BenchmarkCreateMessageAlone(b *testing.B) {
	benchDialects(b, func(b *testing.B, d store.Dialect) { benchAlone(b, d, 0) })
}

// BenchmarkCreateMessagePaced is BenchmarkCreateMessageAlone at 200
// messages a second, as the load tool's low-load run sends: the process
// idles between messages, so cpu-µs/op also holds what waking up for each
// message costs (the Go runtime's threads, cold caches). Each op takes
// 5 ms: run it with -benchtime 1000x.
func BenchmarkCreateMessagePaced(b *testing.B) {
	benchDialects(b, func(b *testing.B, d store.Dialect) { benchAlone(b, d, 5*time.Millisecond) })
}

// benchAlone sends from one goroutine, a message every gap (0: back to back).
func benchAlone(b *testing.B, d store.Dialect, gap time.Duration) {
	{
		f := newBenchFixture(b, d, 64)
		ctx := context.Background()
		content := strings.Repeat("Lorem ipsum dolor sit amet ", 4)[:100]
		payload := []byte(`{"type":"messageCreated","chatId":"c","message":{"body":{"content":"` + content + `"}}}`)
		b.ReportAllocs()
		cpu0 := processCPU(b)
		b.ResetTimer()
		next := time.Now()
		for i := 0; b.Loop(); i++ {
			if gap > 0 {
				next = next.Add(gap)
				time.Sleep(time.Until(next))
			}
			k := i % len(f.chats)
			sender, other := f.users[2*k], f.users[2*k+1]
			m := &chat.Message{ChatID: f.chats[k], SenderID: sender.ID, Sender: sender, CreatedAt: time.Now().UTC(), ContentType: "text", Content: content}
			m.ModifiedAt = m.CreatedAt
			if _, err := f.db.CreateMessage(ctx, m, 0, func(*chat.Message) []event.Draft {
				return []event.Draft{
					{UserID: sender.ID, Type: event.MessageCreated, ChatID: string(m.ChatID), Payload: payload},
					{UserID: other.ID, Type: event.MessageCreated, ChatID: string(m.ChatID), Payload: payload},
				}
			}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N)/1e3, "cpu-µs/op")
	}
}

// processCPU is the process's user+system CPU time so far, in ns.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
