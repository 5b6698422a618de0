package cli

import "testing"

// The setup command serve prints is run the way serve was started.
func TestSelfCommand(t *testing.T) {
	for _, c := range []struct{ argv0, want string }{
		{"/tmp/go-build2954467271/b001/exe/parley", "go run ./cmd/parley"},
		{"/home/ada/.cache/go-build/tmp/go-build11/b001/exe/parley", "go run ./cmd/parley"},
		{"/root/.cache/go-build/44/4405351af868660372a2aed84c22e7ed2453d1773e5350fc3bdc38ae0d9f8536-d/parley", "go run ./cmd/parley"},
		{"./parley", "./parley"},
		{"parley", "parley"},
		{"/usr/local/bin/parley", "/usr/local/bin/parley"},
		{"/tmp/go-build1/b001/cli.test", "parley"},
		{"/opt/chat/parley-server", "parley"},
	} {
		if got := selfCommand(c.argv0); got != c.want {
			t.Errorf("selfCommand(%q) = %q, want %q", c.argv0, got, c.want)
		}
	}
}
