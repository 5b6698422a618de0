package cli_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
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

// tokenOf signs in and returns a client for the API at base.
func tokenOf(t *testing.T, base, user, password string) *parleytest.Client {
	t.Helper()
	resp, err := http.PostForm(base+"/oauth2/token", url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("sign in %s: %d %v", user, resp.StatusCode, err)
	}
	c := &parleytest.Client{TB: t, Base: base, Token: tok.AccessToken, HTTP: http.DefaultClient}
	c.UserID = c.Must(200, "GET", "/v1.0/me", nil).Map(t)["id"].(string)
	return c
}

// TestBackupHasFiles: a backup taken while the server runs holds the
// bytes of every live file in FILE.files; a data directory made of the
// backup (FILE as parley.db, FILE.files as files/) serves the same files,
// thumbnails included, and a file deleted before the backup stays gone.
func TestBackupHasFiles(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	mustRun(t, 0, nil, "tenant", "create", "--data", data, "--name", "Contoso", "--domain", "contoso.com",
		"--admin-name", "Ada", "--admin-email", "ada@contoso.com", "--admin-password", "longpassword1")
	mustRun(t, 0, nil, "user", "create", "--data", data, "--tenant", "contoso.com", "--name", "Bob",
		"--email", "bob@contoso.com", "--password", "longpassword2")
	s := MustServe(t, "--data", data, "--listen", "127.0.0.1:0")
	ada := tokenOf(t, s.URL, "ada@contoso.com", "longpassword1")
	bob := tokenOf(t, s.URL, "bob@contoso.com", "longpassword2")
	chat := ada.OneOnOne(bob.UserID)
	send := func(name string, data []byte) (string, string) {
		f := ada.DoHeader("POST", "/parley/v1/chats/"+chat+"/files?name="+name, data, map[string]string{"Content-Type": "application/octet-stream"})
		if f.Status != 201 {
			t.Fatalf("upload: %d %s", f.Status, f.Body)
		}
		id := f.Map(t)["id"].(string)
		m := ada.Must(201, "POST", "/v1.0/chats/"+chat+"/messages", map[string]any{"body": map[string]string{"content": name},
			"attachments": []any{map[string]any{"id": id, "contentType": "reference"}}}).Map(t)["id"].(string)
		return id, m
	}
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewRGBA(image.Rect(0, 0, 30, 20))); err != nil {
		t.Fatal(err)
	}
	kept, _ := send("pic.png", img.Bytes())
	gone, gm := send("gone.txt", []byte("deleted before the backup"))
	ada.Must(204, "DELETE", "/v1.0/chats/"+chat+"/messages/"+gm, nil)
	thumb := bob.Must(200, "GET", "/parley/v1/files/"+kept+"/thumbnail", nil).Body

	dir := t.TempDir()
	out := filepath.Join(dir, "backup.db")
	r := mustRun(t, 0, nil, "backup", "--data", data, "--out", out)
	if !strings.Contains(r.stdout, "1 files") || !strings.Contains(r.stdout, out+".files") {
		t.Errorf("backup said %q", r.stdout)
	}
	if r := run(t, nil, "backup", "--data", data, "--out", filepath.Join(dir, "other.db")); r.code != 0 {
		t.Fatalf("a second backup: %d %s", r.code, r.stderr)
	}
	if err := os.Remove(filepath.Join(dir, "other.db")); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, "backup", "--data", data, "--out", filepath.Join(dir, "other.db")); r.code == 0 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("backup over an existing files folder: exit %d, %q", r.code, r.stderr)
	}
	s.Stop(t)

	restored := t.TempDir()
	if err := os.Rename(out, filepath.Join(restored, "parley.db")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(out+".files", filepath.Join(restored, "files")); err != nil {
		t.Fatal(err)
	}
	b := MustServe(t, "--data", restored, "--listen", "127.0.0.1:0")
	bob = tokenOf(t, b.URL, "bob@contoso.com", "longpassword2")
	if got := bob.Must(200, "GET", "/parley/v1/files/"+kept, nil).Body; !bytes.Equal(got, img.Bytes()) {
		t.Error("the restored file differs")
	}
	if got := bob.Must(200, "GET", "/parley/v1/files/"+kept+"/thumbnail", nil).Body; !bytes.Equal(got, thumb) {
		t.Error("the restored thumbnail differs")
	}
	if r := bob.Do("GET", "/parley/v1/files/"+gone, nil); r.Status != 404 {
		t.Errorf("a file deleted before the backup: %d", r.Status)
	}
}
