package realtime

// HoldWrites blocks the writes of every open connection until release is
// called, as a slow client does: what the bus delivers meanwhile queues up
// and overflows.
func HoldWrites(h *Handler) (release func()) {
	h.mu.Lock()
	var held []*conn
	for _, c := range h.slots {
		for ; c != nil; c = c.next {
			held = append(held, c)
		}
	}
	h.mu.Unlock()
	for _, c := range held {
		c.wmu.Lock()
	}
	return func() {
		for _, c := range held {
			c.wmu.Unlock()
		}
	}
}

// Lags returns how many times a connection's queue overflowed.
func Lags(h *Handler) int64 { return h.lags.Load() }

// QueueLimit is how many events a connection queues before it replays.
const QueueLimit = queueLimit

// MaxClientMessage is the biggest data message a client may send.
const MaxClientMessage = maxClientMessage
