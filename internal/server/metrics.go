package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the node's Prometheus metrics, served on their own listener
// (--metrics-listen), never on the public one. Counters that already exist
// as atomics (store writes, bus deliveries, NATS) are read at scrape time;
// only the per-request and per-group observations run on the hot path, and
// those find their series in a map instead of hashing label values.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	groupSize prometheus.Histogram
	groupTime prometheus.Histogram

	mu     sync.RWMutex
	routes map[routeCode]prometheus.Counter
	hists  map[string]prometheus.Observer
}

type routeCode struct {
	route string
	code  int
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_http_requests_total",
			Help: "HTTP requests by route pattern and status code."}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "parley_http_request_duration_seconds",
			Help:    "HTTP request duration by route pattern (a WebSocket counts until its upgrade).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"route"}),
		groupSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_store_write_group_size",
			Help:    "Writes per group commit (one transaction).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}}),
		groupTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_store_write_group_seconds",
			Help:    "Time of one group commit's transaction, begin to commit.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}}),
		routes: map[routeCode]prometheus.Counter{},
		hists:  map[string]prometheus.Observer{},
	}
	m.reg.MustRegister(m.requests, m.latency, m.groupSize, m.groupTime,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observeRequest counts one request (httpapi.Deps.Observe).
func (m *metrics) observeRequest(route string, status int, took time.Duration) {
	key := routeCode{route, status}
	m.mu.RLock()
	c, okC := m.routes[key]
	h, okH := m.hists[route]
	m.mu.RUnlock()
	if !okC || !okH {
		m.mu.Lock()
		if c, okC = m.routes[key]; !okC {
			c = m.requests.WithLabelValues(route, strconv.Itoa(status))
			m.routes[key] = c
		}
		if h, okH = m.hists[route]; !okH {
			h = m.latency.WithLabelValues(route)
			m.hists[route] = h
		}
		m.mu.Unlock()
	}
	c.Inc()
	h.Observe(took.Seconds())
}

// observeGroup records one group commit (store.Config.OnGroup).
func (m *metrics) observeGroup(writes int, took time.Duration) {
	m.groupSize.Observe(float64(writes))
	m.groupTime.Observe(took.Seconds())
}

// registerNode adds the metrics read from the running node at scrape time.
func (s *Server) registerNode(m *metrics) {
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	m.reg.MustRegister(
		counter("parley_messages_sent_total", "Chat messages stored (acknowledged to their senders).",
			func() float64 { return float64(s.DB.Stats().Messages) }),
		counter("parley_store_writes_total", "Writes committed by the store's writer.",
			func() float64 { return float64(s.DB.Stats().Writes) }),
		counter("parley_store_commits_total", "Transactions the writer committed (group commits).",
			func() float64 { return float64(s.DB.Stats().Commits) }),
		gauge("parley_store_write_queue", "Writes waiting for the writer.",
			func() float64 { return float64(s.DB.Stats().Queued) }),
		counter("parley_event_deliveries_total", "Events handed to this node's open WebSockets.",
			func() float64 { return float64(s.localBus().Delivered()) }),
		gauge("parley_websockets_open", "Open WebSocket connections on this node.",
			func() float64 { return float64(s.events.Connections()) }),
		&outboxCollector{s: s},
	)
	if s.nats != nil {
		m.reg.MustRegister(
			gauge("parley_nats_connected", "1 while this node is connected to NATS.", func() float64 {
				if s.nats.Stats().Connected {
					return 1
				}
				return 0
			}),
			gauge("parley_nats_current", "1 while this node has heard the other nodes within the staleness bound (its caches are trusted).", func() float64 {
				if s.nats.Stats().Current {
					return 1
				}
				return 0
			}),
			counter("parley_nats_reconnects_total", "NATS reconnections.", func() float64 { return float64(s.nats.Stats().Reconnects) }),
			counter("parley_nats_published_total", "Messages published to NATS.", func() float64 { return float64(s.nats.Stats().Published) }),
			counter("parley_nats_received_total", "Messages received from NATS.", func() float64 { return float64(s.nats.Stats().Received) }),
			counter("parley_nats_publish_errors_total", "Failed NATS publishes.", func() float64 { return float64(s.nats.Stats().PublishErrors) }),
			gauge("parley_nats_peers", "Other nodes heard from recently.", func() float64 { return float64(s.nats.Stats().Peers) }),
		)
	}
}

// outboxCollector reads the outbox's depth from the store at scrape time.
type outboxCollector struct{ s *Server }

var (
	outboxPendingDesc = prometheus.NewDesc("parley_outbox_pending", "Outgoing e-mails and SMS waiting to be sent (retries included).", nil, nil)
	outboxFailedDesc  = prometheus.NewDesc("parley_outbox_failed", "Outgoing e-mails and SMS given up (failed for good).", nil, nil)
)

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxPendingDesc
	ch <- outboxFailedDesc
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	pending, failed, err := c.s.DB.OutboxDepth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(outboxPendingDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxPendingDesc, prometheus.GaugeValue, float64(pending))
	ch <- prometheus.MustNewConstMetric(outboxFailedDesc, prometheus.GaugeValue, float64(failed))
}

// serveMetrics starts the metrics listener (--metrics-listen).
func (s *Server) serveMetrics() error {
	ln, err := net.Listen("tcp", s.Config.Ops.MetricsListen)
	if err != nil {
		return fmt.Errorf("metrics: listen on %s: %w", s.Config.Ops.MetricsListen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{s}}))
	s.metricsHTTP = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.metricsURL = "http://" + ln.Addr().String()
	go func() {
		if err := s.metricsHTTP.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Log.Error("metrics listener", "err", err)
		}
	}()
	return nil
}

// MetricsURL is the base URL of the metrics listener ("" without one).
func (s *Server) MetricsURL() string { return s.metricsURL }

// slogPrinter passes promhttp's errors to the log.
type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) { p.s.Log.Warn("metrics: " + fmt.Sprint(v...)) }
