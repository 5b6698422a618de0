package main

import (
	"context"
	"strings"
	"testing"
)

func TestRunRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown flag", []string{"--nope"}, 2, "flag provided but not defined"},
		{"stray argument", []string{"--spawn", "extra"}, 2, "unexpected arguments"},
		{"remote url", []string{"--url", "http://203.0.113.9:8080", "--operator-token", "x"}, 1, "loopback"},
		{"too long", []string{"--spawn", "--duration", "11m"}, 1, "--duration"},
		{"unknown fault", []string{"--spawn", "--store", "postgres", "--nodes", "2", "--fault", "flood"}, 1, "--fault must be"},
		{"fault on one node", []string{"--spawn", "--store", "postgres", "--fault", "kill-node"}, 1, "--nodes 2 or more"},
		{"cut longer than the run", []string{"--spawn", "--store", "postgres", "--nodes", "2", "--fault", "nats-cut"}, 1, "must end before --duration"},
		{"restart of a NATS the tool did not start", []string{"--spawn", "--store", "postgres", "--nodes", "2", "--nats-url", "nats://127.0.0.1:4222",
			"--fault", "nats-restart"}, 1, "leave out --nats-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut strings.Builder
			if got := run(context.Background(), tt.args, &out, &errOut); got != tt.code {
				t.Errorf("exit code: got %d, want %d (stderr %s)", got, tt.code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr: got %q, want it to mention %q", errOut.String(), tt.want)
			}
		})
	}
}
