package loadtest

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the report as a readable table.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "machine   %d CPUs (%s), %s, %s, load %s -> %s, open files %d\n", m.CPUs, m.CPUModel, m.GoVersion, m.OS, m.LoadBefore, m.LoadAfter, m.NoFile)
	pid := "pid unknown"
	if r.Server.PID > 0 {
		pid = fmt.Sprintf("pid %d", r.Server.PID)
	}
	fmt.Fprintf(&b, "server    %s, %s, %s, %s\n", r.Server.URL, r.Server.Mode, r.Server.Store, pid)
	if r.Server.Nodes > 1 {
		fmt.Fprintf(&b, "nodes     %d: %s (pids %v); senders post to the first, user i's WebSockets go to node i mod %d; server CPU is summed over the nodes\n",
			r.Server.Nodes, strings.Join(r.Server.NodeURLs, " "), r.Server.NodePIDs, r.Server.Nodes)
	}
	s := r.Setup
	fmt.Fprintf(&b, "setup     %d tenant(s), %d users (%d active in %d 1:1 chats), %d WebSockets (%d idle-user) in %.1fs\n",
		s.Tenants, s.Users, s.ActiveUsers, s.Chats, s.Clients, s.IdleClients, s.Seconds)
	if mem := r.Memory; mem != nil {
		fmt.Fprintf(&b, "memory    RSS %s -> %s with %d idle WebSockets = %s per connection (RSS at end %s)\n",
			mib(mem.RSSBefore), mib(mem.RSSAfter), mem.Conns, kib(mem.PerConnBytes), mib(mem.RSSEnd))
	} else {
		fmt.Fprintf(&b, "memory    n/a (needs the server's PID in a separate process: --spawn or --pid)\n")
	}
	load := fmt.Sprintf("closed loop, %d senders", r.Settings.Senders)
	if r.Settings.Rate > 0 {
		load = fmt.Sprintf("open loop at %g msg/s, %d workers", r.Settings.Rate, r.Settings.Senders)
	}
	fmt.Fprintf(&b, "load      %s, %gs measured after %gs warm-up, %d-byte texts", load, r.Settings.Duration, r.Settings.Warmup, r.Settings.BodyBytes)
	if r.Ceiling != nil {
		fmt.Fprintf(&b, "; Parley and ceiling take turns in %gs slices", r.Settings.Slice)
	}
	fmt.Fprintf(&b, "\n\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	phases := []*Phase{&r.Parley}
	head := "\tparley\t"
	if r.Ceiling != nil {
		phases = append(phases, r.Ceiling)
		head += "ceiling\t"
	}
	fmt.Fprintln(tw, head)
	row := func(name string, f func(p *Phase) string) {
		fmt.Fprint(tw, name+"\t")
		for _, p := range phases {
			fmt.Fprint(tw, f(p)+"\t")
		}
		fmt.Fprintln(tw)
	}
	row("measured s", func(p *Phase) string { return fmt.Sprintf("%.2f", p.Seconds) })
	row("sent", func(p *Phase) string { return fmt.Sprint(p.Sent) })
	row("accepted (201)", func(p *Phase) string { return fmt.Sprint(p.Accepted) })
	row("accepted/s", func(p *Phase) string { return fmt.Sprintf("%.0f", p.Throughput) })
	row("send p50 ms", func(p *Phase) string { return fmt.Sprintf("%.2f", p.Send.P50) })
	row("send p99 ms", func(p *Phase) string { return fmt.Sprintf("%.2f", p.Send.P99) })
	row("send p99.9 ms", func(p *Phase) string { return fmt.Sprintf("%.2f", p.Send.P999) })
	row("send max ms", func(p *Phase) string { return fmt.Sprintf("%.2f", p.Send.Max) })
	row("delivery p50 ms", func(p *Phase) string { return e2e(p, func(l *Latency) float64 { return l.P50 }) })
	row("delivery p99 ms", func(p *Phase) string { return e2e(p, func(l *Latency) float64 { return l.P99 }) })
	row("delivery p99.9 ms", func(p *Phase) string { return e2e(p, func(l *Latency) float64 { return l.P999 }) })
	if r.Parley.SameNode != nil {
		row("same-node arrival p99 ms", func(p *Phase) string {
			if p.SameNode == nil {
				return "-"
			}
			return fmt.Sprintf("%.2f", p.SameNode.P99)
		})
		row("cross-node arrival p99 ms", func(p *Phase) string {
			if p.CrossNode == nil {
				return "-"
			}
			return fmt.Sprintf("%.2f", p.CrossNode.P99)
		})
	}
	row("delivered / lost", func(p *Phase) string {
		if p.E2E == nil {
			return "-"
		}
		return fmt.Sprintf("%d / %d", p.Delivered, p.Undelivered)
	})
	row("errors", func(p *Phase) string { return fmt.Sprint(total(p.Errors)) })
	if r.Settings.Rate > 0 {
		row("skipped (behind)", func(p *Phase) string { return fmt.Sprint(p.Skipped) })
	}
	row("server CPU µs/msg", func(p *Phase) string {
		if p.ServerCPUPerMsg == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f", p.ServerCPUPerMsg)
	})
	row("server cores busy", func(p *Phase) string {
		if p.ServerCores == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", p.ServerCores)
	})
	row("tool CPU s", func(p *Phase) string { return fmt.Sprintf("%.1f", p.ToolCPUSeconds) })
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Ceiling != nil {
		what := ""
		if r.Settings.Rate > 0 {
			what = ", at a fixed rate: achieved rates"
		}
		fmt.Fprintf(&b, "\nratio     parley / ceiling = %.3f  (%.0f accepted msg/s vs %.0f req/s%s)\n", r.Ratio, r.Parley.Throughput, r.Ceiling.Throughput, what)
	}
	if r.CPURatio > 0 {
		fmt.Fprintf(&b, "cpu ratio server CPU per message / per trivial request = %.2f  (%.0f µs vs %.1f µs, each process's own CPU time, generator excluded)\n",
			r.CPURatio, r.Parley.ServerCPUPerMsg, r.Ceiling.ServerCPUPerMsg)
	}
	if a := r.Affinity; a != nil {
		fmt.Fprintf(&b, "cpus      tool %s, server %s, ceiling %s\n", a.Tool, dash(a.Server), dash(a.Ceiling))
	}
	if r.Store != nil {
		fmt.Fprintf(&b, "store     %d writes in %d commits (%.1f per commit) while measured\n", r.Store.Writes, r.Store.Commits, r.Store.WritesPerCommit)
	}
	fmt.Fprintf(&b, "read-back %d/%d acknowledged messages found\n", r.ReadBack.Found, r.ReadBack.Checked)
	if f := r.Fault; f != nil {
		writeFault(&b, f)
	}
	for _, p := range phases {
		if len(p.Errors) == 0 {
			continue
		}
		fmt.Fprintf(&b, "errors of %s:\n", p.Name)
		keys := make([]string, 0, len(p.Errors))
		for k := range p.Errors {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %8d  %s\n", p.Errors[k], k)
		}
	}
	for _, p := range r.Profiles {
		fmt.Fprintf(&b, "profile   %s\n", p)
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(&b, "warning   %s\n", wn)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeFault writes the fault block of the table.
func writeFault(b *strings.Builder, f *FaultReport) {
	what := map[string]string{
		FaultKillNode:    fmt.Sprintf("node %d killed with SIGKILL", f.Node),
		FaultNATSCut:     fmt.Sprintf("node %d cut off NATS for %.1fs", f.Node, f.ForSeconds),
		FaultNATSRestart: fmt.Sprintf("NATS stopped and started again on its port, down %.1fs", f.ForSeconds),
	}[f.Kind]
	fmt.Fprintf(b, "fault     %s, %.1fs into the measured time\n", what, f.AtSeconds)
	fmt.Fprintf(b, "          messages acknowledged %d, delivered %d, lost %d; duplicates %d, seq gaps %d\n",
		f.Acknowledged, f.Delivered, f.Lost, f.Duplicates, f.Gaps)
	if f.Kind == FaultKillNode {
		fmt.Fprintf(b, "          %d WebSockets resumed on another node with ?since=, the longest down %.0f ms\n", f.Reconnects, f.ReconnectMaxMs)
	}
	catch := "never"
	if f.CatchUpMs >= 0 {
		catch = fmt.Sprintf("%.0f ms", f.CatchUpMs)
	}
	fmt.Fprintf(b, "          recovery: first message on %d/%d affected connections %.0f ms (first) to %.0f ms (last) after the fault ended; caught up %s after it\n",
		f.Recovered, f.Affected, f.RecoveryFirstMs, f.RecoveryLastMs, catch)
	fmt.Fprintf(b, "          delivery p50 / p99 / max ms (messages): before %s, around %s, after %s\n", brief(f.Before), brief(f.Around), brief(f.After))
	fmt.Fprintf(b, "          delivery p99 ms by second sent:")
	for _, v := range f.Timeline {
		fmt.Fprintf(b, " %.0f", v)
	}
	fmt.Fprintln(b)
}

// brief is "p50 / p99 / max (n)" of a latency summary.
func brief(l Latency) string {
	if l.Count == 0 {
		return "- (0)"
	}
	return fmt.Sprintf("%.1f / %.1f / %.1f (%d)", l.P50, l.P99, l.Max, l.Count)
}

func e2e(p *Phase, f func(*Latency) float64) string {
	if p.E2E == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", f(p.E2E))
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func kib(b float64) string { return fmt.Sprintf("%.1f KiB", b/1024) }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
