package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Phase is the outcome of one generator against one server.
type Phase struct {
	Name    string  `json:"name"`
	Mode    string  `json:"mode"` // closed (saturation) or open (fixed rate)
	Senders int     `json:"senders"`
	Rate    float64 `json:"rate,omitempty"`
	// Seconds is the measured time: the sum of the measured slices.
	Seconds float64 `json:"seconds"`
	Slices  int     `json:"slices"`
	// Sent counts requests started in measured time; Accepted those of
	// them answered 201.
	Sent     int `json:"sent"`
	Accepted int `json:"accepted"`
	// Throughput is Accepted per measured second.
	Throughput float64 `json:"acceptedPerSecond"`
	Send       Latency `json:"sendLatency"`
	// Errors counts failed requests by "status code" or "transport: …",
	// warm-up included.
	Errors map[string]int `json:"errors"`
	// Skipped counts open-loop sends the workers could not take up (the
	// queue of one second of sends was full): the generator fell behind.
	Skipped int `json:"skipped,omitempty"`
	// E2E is the delivery latency: send start until every WebSocket of
	// every member of the chat (the sender's included) has the event.
	E2E *Latency `json:"deliveryLatency,omitempty"`
	// SameNode and CrossNode (several nodes) are the arrival latencies
	// of each connection: on the node the send went to, and on others.
	SameNode    *Latency `json:"sameNodeDelivery,omitempty"`
	CrossNode   *Latency `json:"crossNodeDelivery,omitempty"`
	Delivered   int      `json:"delivered,omitempty"`
	Undelivered int      `json:"undelivered,omitempty"`
	// ServerCPU is the server process's CPU time in measured slices, and
	// per accepted message (known with the server's PID).
	ServerCPUSeconds float64 `json:"serverCpuSeconds,omitempty"`
	ServerCPUPerMsg  float64 `json:"serverCpuMicrosPerMessage,omitempty"`
	// ServerCores is ServerCPUSeconds per measured second: how many cores
	// the server kept busy (2 = both of a 2-core machine).
	ServerCores float64 `json:"serverCores,omitempty"`
	// ToolCPUSeconds is this process's CPU time in measured slices: the
	// generator (and, for the ceiling or --in-process, the server too).
	ToolCPUSeconds float64 `json:"toolCpuSeconds"`
	// Timeline has one entry per measured second (by completion time):
	// stalls show as a second with few answers and a high max.
	Timeline []Second `json:"timeline,omitempty"`
}

// Second is one second of a phase's timeline.
type Second struct {
	Accepted int     `json:"accepted"`
	P99      float64 `json:"sendP99Ms"`
	Max      float64 `json:"sendMaxMs"`
}

// genConfig is what one generator needs.
type genConfig struct {
	name    string
	base    string
	pop     *population
	tr      *tracker // nil: no delivery tracking (the ceiling)
	senders int
	rate    float64
	max     int
	body    int
	// pids are the server's processes (one per node); their CPU times add.
	pids []int
}

// acked is an acknowledged message, for the read-back check.
type acked struct {
	chat  string
	id    string
	token string
}

type worker struct {
	lat    []time.Duration
	at     []int32 // measured second each lat sample completed in
	sent   int
	ok     int
	errors map[string]int
	acked  acked
	buf    bytes.Buffer
}

// newHTTPClient is the senders' client: keep-alive HTTP/1.1, one idle
// connection per sender.
func newHTTPClient(senders int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        senders * 2,
		MaxIdleConnsPerHost: senders * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}}
}

// filler is the text after each message's token.
const filler = "Lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua "

// generator sends messages in slices of time; its connections and figures
// carry over from slice to slice, so that two generators (Parley and the
// ceiling) can take turns and see the same background load.
type generator struct {
	g       genConfig
	hc      *http.Client
	prefix  string
	workers []*worker
	counter atomic.Uint64 // message index, unique over the whole run
	skipped atomic.Int64

	measured             time.Duration // sum of measured slices
	slices               int
	serverCPU            time.Duration
	toolCPU              time.Duration
	serverCPU0, toolCPU0 time.Duration
	cpuOK                bool
}

func newGenerator(g genConfig) *generator {
	gen := &generator{g: g, hc: newHTTPClient(g.senders), prefix: "lt" + g.pop.RunID + "x", workers: make([]*worker, g.senders), cpuOK: true}
	for i := range gen.workers {
		gen.workers[i] = &worker{errors: map[string]int{}}
	}
	return gen
}

// close drops the generator's idle connections.
func (gen *generator) close() { gen.hc.CloseIdleConnections() }

// done reports whether MaxMessages were sent.
func (gen *generator) done() bool { return gen.counter.Load() >= uint64(gen.g.max) }

// send makes one request. sched is when it was due; measure says whether
// it counts, and second is the measured second it falls in (base).
func (gen *generator) send(ctx context.Context, w *worker, i uint64, sched time.Time, measure bool, base time.Duration, sliceStart time.Time) {
	g := gen.g
	chats, users := g.pop.Chats, g.pop.Users
	ch := chats[i%uint64(len(chats))]
	from, expect := ch.A, users[ch.A].Conns+users[ch.B].Conns
	if (i/uint64(len(chats)))%2 == 1 {
		from = ch.B
	}
	tok := gen.prefix + strconv.FormatUint(i, 36)
	w.buf.Reset()
	w.buf.WriteString(`{"body":{"contentType":"text","content":"`)
	w.buf.WriteString(tok)
	w.buf.WriteByte(' ')
	for n := g.body - len(tok) - 1; n > 0; n -= len(filler) {
		w.buf.WriteString(filler[:min(n, len(filler))])
	}
	w.buf.WriteString(`"}}`)
	body := bytes.Clone(w.buf.Bytes())
	if g.tr != nil {
		g.tr.expect(tok, sched, expect, measure)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.base+"/v1.0/chats/"+ch.ID+"/messages", bytes.NewReader(body))
	if err != nil {
		w.errors["request: "+err.Error()]++
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+users[from].Token)
	resp, err := gen.hc.Do(req)
	var status int
	var rb []byte
	if err == nil {
		status = resp.StatusCode
		rb, err = io.ReadAll(resp.Body)
		_ = resp.Body.Close() // fully read; the connection is reused
	}
	end := time.Now()
	if measure {
		w.sent++
	}
	if err != nil || status != http.StatusCreated {
		if g.tr != nil {
			g.tr.cancel(tok)
		}
		w.errors[errorKey(status, rb, err)]++
		return
	}
	if measure {
		w.ok++
		w.lat = append(w.lat, end.Sub(sched))
		w.at = append(w.at, int32((base+end.Sub(sliceStart))/time.Second))
	}
	if id := messageIDOf(rb); id != "" {
		w.acked = acked{chat: ch.ID, id: id, token: users[from].Token}
	}
}

// run sends for d (closed loop: every sender as fast as answers come;
// open loop: at the rate, from the start of the slice) and waits for the
// answers of what it started.
func (gen *generator) run(ctx context.Context, d time.Duration, measure bool) {
	g := gen.g
	start := time.Now()
	deadline := start.Add(d)
	base := gen.measured
	if measure {
		gen.slices++
		gen.toolCPU0 = selfCPU()
		if len(g.pids) > 0 {
			c, err := cpuTimes(g.pids)
			gen.serverCPU0, gen.cpuOK = c, gen.cpuOK && err == nil
		}
	}
	var wg sync.WaitGroup
	if g.rate <= 0 {
		for _, w := range gen.workers {
			wg.Go(func() {
				for ctx.Err() == nil {
					now := time.Now()
					if !now.Before(deadline) {
						return
					}
					i := gen.counter.Add(1) - 1
					if i >= uint64(g.max) {
						return
					}
					gen.send(ctx, w, i, now, measure, base, start)
				}
			})
		}
	} else {
		type job struct {
			i     uint64
			sched time.Time
		}
		jobs := make(chan job, max(g.senders, int(g.rate)))
		for _, w := range gen.workers {
			wg.Go(func() {
				for j := range jobs {
					gen.send(ctx, w, j.i, j.sched, measure, base, start)
				}
			})
		}
		interval := float64(time.Second) / g.rate
		for k := 0; ctx.Err() == nil; k++ {
			sched := start.Add(time.Duration(float64(k) * interval))
			if !sched.Before(deadline) {
				break
			}
			i := gen.counter.Add(1) - 1
			if i >= uint64(g.max) {
				break
			}
			if d := time.Until(sched); d > 0 {
				time.Sleep(d)
			}
			select {
			case jobs <- job{i, sched}:
			default:
				if measure {
					gen.skipped.Add(1)
				}
			}
		}
		close(jobs)
	}
	wg.Wait()
	// Closed loop: sends started before the deadline count, and by Little's
	// law the ones still in flight at the end make up for the empty pipe at
	// the start, so the slice ends at the deadline (or earlier, at
	// MaxMessages). Open loop: a server that falls behind leaves a queue of
	// due sends, so the slice lasts until the last answer.
	sendEnd := time.Now()
	if g.rate <= 0 && sendEnd.After(deadline) {
		sendEnd = deadline
	}
	if measure {
		gen.measured += sendEnd.Sub(start)
		gen.toolCPU += selfCPU() - gen.toolCPU0
		if len(g.pids) > 0 && gen.cpuOK {
			c, err := cpuTimes(g.pids)
			gen.serverCPU, gen.cpuOK = gen.serverCPU+c-gen.serverCPU0, err == nil
		}
	}
}

// phase sums up the measured slices; it returns an acknowledged message
// per sender for the read-back.
func (gen *generator) phase() (Phase, []acked) {
	g := gen.g
	ph := Phase{Name: g.name, Mode: "closed", Senders: g.senders, Errors: map[string]int{}, Skipped: int(gen.skipped.Load()),
		Seconds: gen.measured.Seconds(), Slices: gen.slices, ToolCPUSeconds: gen.toolCPU.Seconds()}
	if g.rate > 0 {
		ph.Mode, ph.Rate = "open", g.rate
	}
	var lat []time.Duration
	var acks []acked
	var perSecond [][]time.Duration
	for _, w := range gen.workers {
		for k, sec := range w.at {
			for int(sec) >= len(perSecond) {
				perSecond = append(perSecond, nil)
			}
			perSecond[sec] = append(perSecond[sec], w.lat[k])
		}
		lat = append(lat, w.lat...)
		ph.Sent += w.sent
		ph.Accepted += w.ok
		for k, v := range w.errors {
			ph.Errors[k] += v
		}
		if w.acked.id != "" {
			acks = append(acks, w.acked)
		}
	}
	if len(g.pids) > 0 && gen.cpuOK {
		ph.ServerCPUSeconds = gen.serverCPU.Seconds()
		if ph.Accepted > 0 {
			ph.ServerCPUPerMsg = float64(gen.serverCPU) / float64(time.Microsecond) / float64(ph.Accepted)
		}
	}
	if ph.Seconds > 0 {
		ph.Throughput = float64(ph.Accepted) / ph.Seconds
		ph.ServerCores = ph.ServerCPUSeconds / ph.Seconds
	}
	ph.Send = summarize(lat)
	for _, s := range perSecond {
		l := summarize(s)
		ph.Timeline = append(ph.Timeline, Second{Accepted: l.Count, P99: l.P99, Max: l.Max})
	}
	return ph, acks
}

// errorKey names a failure: "429 rateLimited", "500 internalServerError",
// "transport: connection refused".
func errorKey(status int, body []byte, err error) string {
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "transport: " + err.Error()
	}
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	code := "?"
	if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
		code = e.Error.Code
	}
	return strconv.Itoa(status) + " " + code
}

// messageIDOf reads the id of a chatMessage answer ({"id":"123",…}).
func messageIDOf(b []byte) string {
	const p = `{"id":"`
	if !bytes.HasPrefix(b, []byte(p)) {
		return ""
	}
	rest := b[len(p):]
	end := bytes.IndexByte(rest, '"')
	if end <= 0 {
		return ""
	}
	return string(rest[:end])
}

// cpuTimes is the CPU time of several processes together.
func cpuTimes(pids []int) (time.Duration, error) {
	var sum time.Duration
	for _, pid := range pids {
		c, err := cpuTime(pid)
		if err != nil {
			return 0, err
		}
		sum += c
	}
	return sum, nil
}
