package loadtest_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/loadtest"
	"github.com/parleychat/parley/internal/parleytest"
)

// TestRunSmoke drives a test server for one second with four senders: the
// tool must report accepted messages, every one delivered to both members'
// WebSockets, no errors, the ceiling and the read-back. It asserts counts,
// never speeds (docs/decisions.md "Tests").
func TestRunSmoke(t *testing.T) {
	srv := parleytest.StartStore(t, "sqlite")
	cfg := loadtest.Default()
	cfg.URL, cfg.OperatorToken = srv.URL(), srv.Config.OperatorToken
	cfg.Users, cfg.Clients, cfg.Senders = 4, 6, 4
	cfg.Duration, cfg.Warmup, cfg.Drain = time.Second, 0, 30*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	p := rep.Parley
	if p.Accepted == 0 || p.Throughput <= 0 {
		t.Errorf("parley: got %d accepted (%v/s), want > 0", p.Accepted, p.Throughput)
	}
	if len(p.Errors) != 0 {
		t.Errorf("parley errors: got %v, want none", p.Errors)
	}
	if p.Undelivered != 0 || p.Delivered < p.Accepted {
		t.Errorf("deliveries: got %d delivered, %d lost of %d accepted; want every one delivered", p.Delivered, p.Undelivered, p.Accepted)
	}
	if p.E2E == nil || p.E2E.Count != p.Accepted {
		t.Errorf("delivery latencies: got %+v, want %d samples", p.E2E, p.Accepted)
	}
	if rep.Ceiling == nil || rep.Ceiling.Accepted == 0 || len(rep.Ceiling.Errors) != 0 {
		t.Errorf("ceiling: got %+v, want accepted requests and no errors", rep.Ceiling)
	}
	if rep.Ratio <= 0 {
		t.Errorf("ratio: got %v, want > 0", rep.Ratio)
	}
	// The ceiling runs in a process of its own, whose CPU time is read.
	if rep.CeilingPID <= 0 || rep.CeilingPID == os.Getpid() || rep.Ceiling == nil || rep.Ceiling.ServerCPUSeconds <= 0 {
		t.Errorf("ceiling process: pid %d, phase %+v; want its own process with CPU time", rep.CeilingPID, rep.Ceiling)
	}
	if rep.ReadBack.Checked == 0 || rep.ReadBack.Found != rep.ReadBack.Checked {
		t.Errorf("read-back: got %d/%d, want all found", rep.ReadBack.Found, rep.ReadBack.Checked)
	}
	if rep.Setup.Clients != 6 || rep.Setup.ActiveUsers != 4 || rep.Setup.Chats != 2 {
		t.Errorf("setup: got %+v, want 6 clients, 4 active users, 2 chats", rep.Setup)
	}
	if rep.Memory != nil {
		t.Errorf("memory: got %+v, want none without a PID", rep.Memory)
	}
	var table strings.Builder
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"accepted/s", "delivery p99 ms", "ratio", "memory    n/a"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Errorf("json: %v", err)
	}
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		name string
		url  string
		ok   bool
	}{
		{"ipv4 loopback", "http://127.0.0.1:8080", true},
		{"other 127/8", "http://127.3.4.5:1", true},
		{"ipv6 loopback", "http://[::1]:8080", true},
		{"localhost", "http://LOCALHOST:8080", true},
		{"postgres url", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", true},
		{"private address", "http://10.0.0.1:8080", false},
		{"public name", "https://example.com", false},
		{"any address", "http://0.0.0.0:8080", false},
		{"name that starts with localhost", "http://localhost.example.com", false},
		{"no host", "/v1.0/me", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := loadtest.CheckLoopback(tt.url)
			if got := err == nil; got != tt.ok {
				t.Errorf("CheckLoopback(%q): got err %v, want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *loadtest.Config)
		want string
	}{
		{"no server", func(c *loadtest.Config) {}, "exactly one of"},
		{"two servers", func(c *loadtest.Config) { c.Spawn, c.InProcess = true, true }, "exactly one of"},
		{"remote url", func(c *loadtest.Config) { c.URL, c.OperatorToken = "http://192.0.2.1:8080", "x" }, "loopback"},
		{"url without operator token", func(c *loadtest.Config) { c.URL = "http://127.0.0.1:1" }, "--operator-token"},
		{"too long", func(c *loadtest.Config) { c.Spawn, c.Duration = true, 11*time.Minute }, "--duration"},
		{"too many messages", func(c *loadtest.Config) { c.Spawn, c.MaxMessages = true, loadtest.MaxMessages+1 }, "--max-messages"},
		{"unknown store", func(c *loadtest.Config) { c.Spawn, c.Store = true, "mysql" }, "--store"},
		{"remote postgres", func(c *loadtest.Config) {
			c.Spawn, c.Store, c.PostgresURL = true, "postgres", "postgres://db.example.com/x"
		}, "--postgres-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadtest.Default()
			tt.edit(&c)
			_, err := loadtest.Run(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

// TestReportCheck: a lost message fails any run; a duplicate or a seq gap
// fails a fault run.
func TestReportCheck(t *testing.T) {
	tests := []struct {
		name string
		rep  loadtest.Report
		want string
	}{
		{"clean", loadtest.Report{Fault: &loadtest.FaultReport{Acknowledged: 3, Delivered: 3}}, ""},
		{"lost", loadtest.Report{Parley: loadtest.Phase{Undelivered: 2}}, "2 acknowledged messages"},
		{"duplicate", loadtest.Report{Fault: &loadtest.FaultReport{Duplicates: 1}}, "arrived twice"},
		{"gap", loadtest.Report{Fault: &loadtest.FaultReport{Gaps: 4}}, "4 gaps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rep.Check()
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Check: got %v, want %q", err, tt.want)
			}
		})
	}
}
