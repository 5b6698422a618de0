package cli_test

import (
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestMissingFlagsAreNamed: a command run without a required flag exits 2
// naming each missing flag as typed, before it opens a store or calls a
// server.
func TestMissingFlagsAreNamed(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"tenant create without --domain", nil, []string{"tenant", "create", "--data", data, "--name", "X", "--admin-name", "A",
			"--admin-email", "a@x.com", "--admin-password", "longpassword1"}, []string{"--domain is required"}},
		{"tenant create without admin", nil, []string{"tenant", "create", "--data", data, "--name", "X", "--domain", "x.com"},
			[]string{"--admin-name is required", "--admin-email is required", "--admin-password (or PARLEY_ADMIN_PASSWORD) is required"}},
		{"user create without --email", map[string]string{"PARLEY_USER_PASSWORD": "longpassword1"},
			[]string{"user", "create", "--data", data, "--tenant", "x.com", "--name", "Bob"}, []string{"--email is required"}},
		{"setup without --token and --domain", nil, []string{"setup", "--url", "http://127.0.0.1:1", "--org", "X",
			"--admin-email", "a@x.com", "--admin-password", "longpassword1"}, []string{"--token is required", "--domain is required"}},
		{"backup without --out", nil, []string{"backup", "--data", data}, []string{"--out is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, tt.env, tt.args...)
			if r.code != 2 {
				t.Errorf("parley %s: got exit %d, want 2\nstderr:\n%s", strings.Join(tt.args, " "), r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("parley %s: got stderr\n%s\nwant it to contain %q", strings.Join(tt.args, " "), r.stderr, w)
				}
			}
			if strings.Contains(r.stderr, "badRequest") || strings.Contains(r.stderr, "reach the server") {
				t.Errorf("parley %s: got stderr\n%s\nwant the flag named before any work is done", strings.Join(tt.args, " "), r.stderr)
			}
		})
	}
}

// TestHelpCommand: "parley help X" is "parley X --help", on standard
// output with exit 0.
func TestHelpCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"help", "serve"}, []string{"Usage: parley serve", "-listen"}},
		{[]string{"help", "backup"}, []string{"Usage: parley backup", "-out"}},
		{[]string{"help", "admin"}, []string{"Usage: parley admin", "explain", "outbox"}},
		{[]string{"help", "tenant"}, []string{"Usage: parley tenant create|list"}},
		{[]string{"help", "user"}, []string{"Usage: parley user create"}},
		{[]string{"help"}, []string{"Usage: parley <command>", "serve"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, nil, tt.args...)
			if r.code != 0 {
				t.Errorf("parley %s: got exit %d, want 0\nstderr:\n%s", strings.Join(tt.args, " "), r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("parley %s: got stdout\n%s\nwant it to contain %q", strings.Join(tt.args, " "), r.stdout, w)
				}
			}
		})
	}
	if r := run(t, nil, "help", "frobnicate"); r.code != 2 || !strings.Contains(r.stderr, "frobnicate") {
		t.Errorf("parley help frobnicate: got exit %d, stderr %q; want 2 naming the unknown command", r.code, r.stderr)
	}
}

// TestErrorPrefixOnce: the command's name starts an error once
// ("parley backup: the folder …", not "parley backup: backup: …").
func TestErrorPrefixOnce(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "no-such-folder", "b.db")
	r := run(t, nil, "backup", "--data", t.TempDir(), "--out", out)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "parley backup: ") {
		t.Fatalf("backup into a missing folder: got exit %d, stderr %q; want 1 and a message starting with parley backup:", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "backup: backup:") {
		t.Errorf("backup into a missing folder: got %q, want the prefix once", r.stderr)
	}
}

// TestServeTakenPort: serve on a port another program holds fails saying
// so and suggesting --listen.
func TestServeTakenPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	r := run(t, nil, "serve", "--data", t.TempDir(), "--listen", addr)
	if r.code != 1 {
		t.Fatalf("serve on a taken port: got exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{addr, "--listen "} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("serve on a taken port: got stderr\n%s\nwant it to contain %q", r.stderr, want)
		}
	}
}

// TestVersion: parley version prints the module version, the source
// revision (or that the binary has none, as test binaries do) and the Go
// version, from the build info.
func TestVersion(t *testing.T) {
	t.Parallel()
	r := mustRun(t, 0, nil, "version")
	for _, want := range []string{"parley ", "revision ", runtime.Version()} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("version: got %q, want it to contain %q", r.stdout, want)
		}
	}
}
