package server

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkObserveRequest is the per-request cost of the metrics
// (httpapi.Deps.Observe) from 2 goroutines per core, on a route/status pair
// seen before, as nearly every request is.
func BenchmarkObserveRequest(b *testing.B) {
	m := newMetrics()
	m.observeRequest("POST /v1.0/chats/{id}/messages", 201, time.Millisecond)
	b.ReportAllocs()
	b.SetParallelism(2)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.observeRequest("POST /v1.0/chats/{id}/messages", 201, 3*time.Millisecond)
		}
	})
}

// BenchmarkObserveGroup is the per-group cost on the writer goroutine.
func BenchmarkObserveGroup(b *testing.B) {
	m := newMetrics()
	b.ReportAllocs()
	for b.Loop() {
		m.observeGroup(17, 400*time.Microsecond)
	}
}

// The series a route gets are the ones its requests made, under its
// pattern and status.
func TestObserveRequestSeries(t *testing.T) {
	m := newMetrics()
	for range 3 {
		m.observeRequest("GET /v1.0/me", 200, time.Millisecond)
	}
	m.observeRequest("GET /v1.0/me", 401, time.Millisecond)
	got, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, f := range got {
		if f.GetName() != "parley_http_requests_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			var labels []string
			for _, l := range s.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			counts[strings.Join(labels, ",")] = s.GetCounter().GetValue()
		}
	}
	if counts["code=200,route=GET /v1.0/me"] != 3 || counts["code=401,route=GET /v1.0/me"] != 1 || len(counts) != 2 {
		t.Fatalf("series: %v", counts)
	}
}
