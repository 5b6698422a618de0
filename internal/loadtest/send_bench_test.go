package loadtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/parleychat/parley/internal/config"
	"github.com/parleychat/parley/internal/parleytest"
	"github.com/parleychat/parley/internal/server"
)

// BenchmarkSendHTTP is one POST /v1.0/chats/{id}/messages through the
// whole server (HTTP, token auth, chat lookup, group commit, events,
// publish, JSON answer) from 64 concurrent keep-alive clients in 16 1:1
// chats, with no WebSocket open. Client and server share this process, so
// this is the place for a profile of the send path:
//
//	go test -run '^$' -bench SendHTTP -cpuprofile cpu.out ./internal/loadtest
//	go tool pprof -top -cum cpu.out
//
// Each store runs plain, with the Prometheus metrics on (--metrics-listen),
// and with metrics and the JSON access log (to io.Discard), so the cost of
// observing the hot path is the ratio of the three.
func BenchmarkSendHTTP(b *testing.B) {
	variants := []struct {
		name            string
		metrics, access bool
	}{{"plain", false, false}, {"metrics", true, false}, {"metrics+accesslog", true, true}}
	for _, st := range parleytest.Stores {
		for _, v := range variants {
			b.Run(st+"/"+v.name, func(b *testing.B) {
				cfg := parleytest.Config(b, st)
				cfg.Ops.AccessLog = v.access
				if v.metrics {
					cfg.Ops.MetricsListen = "127.0.0.1:0"
				}
				var log *slog.Logger
				if v.access {
					log = slog.New(slog.NewJSONHandler(io.Discard, nil))
				}
				benchmarkSend(b, startServer(b, cfg, log))
			})
		}
	}
}

// startServer starts a server for cfg with log and closes it at cleanup.
func startServer(b *testing.B, cfg config.Config, log *slog.Logger) *parleytest.Server {
	s := server.New(cfg, log, io.Discard)
	if err := s.Open(context.Background()); err != nil {
		b.Fatalf("start server: %v", err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return &parleytest.Server{Server: s, TB: b}
}

func benchmarkSend(b *testing.B, srv *parleytest.Server) {
	cfg := Default()
	cfg.URL, cfg.OperatorToken = srv.URL(), srv.Config.OperatorToken
	cfg.Users, cfg.Clients = 32, 32
	if err := cfg.normalize(); err != nil {
		b.Fatal(err)
	}
	cl := &client{base: srv.URL(), http: newHTTPClient(8)}
	pop, err := populate(context.Background(), cl, &cfg, srv.Config.OperatorToken)
	if err != nil {
		b.Fatal(err)
	}
	hc := newHTTPClient(64)
	defer hc.CloseIdleConnections()
	body := []byte(`{"body":{"contentType":"text","content":"` + filler[:100] + `"}}`)
	var next atomic.Uint64
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			ch := pop.Chats[i%uint64(len(pop.Chats))]
			from := ch.A
			if (i/uint64(len(pop.Chats)))%2 == 1 {
				from = ch.B
			}
			req, err := http.NewRequest(http.MethodPost, srv.URL()+"/v1.0/chats/"+ch.ID+"/messages", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+pop.Users[from].Token)
			resp, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, err = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close() // read to the end; the connection is reused
			if err != nil || resp.StatusCode != http.StatusCreated {
				b.Errorf("send: status %d, %v", resp.StatusCode, err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
