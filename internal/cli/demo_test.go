package cli_test

import (
	"strings"
	"testing"
)

// TestServeDemoOnOtherData: --demo on a store that already holds other
// organisations refuses, saying why and what to do, instead of printing
// sign-ins that do not work there.
func TestServeDemoOnOtherData(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	mustRun(t, 0, nil, "tenant", "create", "--data", data, "--name", "Contoso", "--domain", "contoso.com",
		"--admin-name", "Ada", "--admin-email", "ada@contoso.com", "--admin-password", "longpassword1")
	r := run(t, nil, "serve", "--data", data, "--listen", "127.0.0.1:0", "--demo")
	if r.code != 1 {
		t.Fatalf("serve --demo on a store with data: got exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "parley-demo") {
		t.Errorf("serve --demo on a store with data printed the demo sign-ins:\n%s", r.stdout)
	}
	for _, want := range []string{"--demo", "empty", "--data"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("serve --demo on a store with data: got stderr\n%s\nwant it to contain %q", r.stderr, want)
		}
	}
}
