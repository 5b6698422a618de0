package cli_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackupWhileServing backs up a data directory while parley serve runs
// on it, then serves the backup as a data directory of its own: the
// accounts are there and sign in.
func TestBackupWhileServing(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	mustRun(t, 0, nil, "tenant", "create", "--data", data, "--name", "Contoso", "--domain", "contoso.com",
		"--admin-name", "Ada", "--admin-email", "ada@contoso.com", "--admin-password", "longpassword1")
	s := MustServe(t, "--data", data, "--listen", "127.0.0.1:0")
	mustRun(t, 0, nil, "user", "create", "--data", data, "--tenant", "contoso.com", "--name", "Bob",
		"--email", "bob@contoso.com", "--password", "longpassword2")

	restored := t.TempDir()
	out := filepath.Join(restored, "parley.db")
	r := mustRun(t, 0, nil, "backup", "--data", data, "--out", out)
	if !strings.Contains(r.stdout, out) {
		t.Errorf("backup: got stdout %q, want it to name %s", r.stdout, out)
	}
	before, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	r = run(t, nil, "backup", "--data", data, "--out", out)
	if r.code == 0 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("backup over an existing file: got exit %d, stderr %q; want non-zero saying it exists", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(out); string(after) != string(before) {
		t.Errorf("backup over an existing file changed it")
	}
	if r := run(t, nil, "backup", "--data", data); r.code != 2 || !strings.Contains(r.stderr, "--out") {
		t.Errorf("backup without --out: got exit %d, stderr %q; want 2 naming --out", r.code, r.stderr)
	}
	s.Stop(t)

	b := MustServe(t, "--data", restored, "--listen", "127.0.0.1:0")
	for _, c := range []struct{ user, password string }{{"ada@contoso.com", "longpassword1"}, {"bob@contoso.com", "longpassword2"}} {
		if got := signIn(t, b.URL, c.user, c.password); got != http.StatusOK {
			t.Errorf("sign in %s on the restored backup: got %d, want 200", c.user, got)
		}
	}
}
