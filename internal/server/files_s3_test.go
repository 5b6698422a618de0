package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/parleychat/parley/internal/objstore"
	"github.com/parleychat/parley/internal/parleytest"
)

// TestS7_FilesInObjectStore: with --files-s3-endpoint, uploaded files and
// thumbnails live in the bucket, not the data directory, so every node
// serves them. The S3 server is a real S3 protocol server on loopback
// (gofakes3, the edge of the world).
func TestS7_FilesInObjectStore(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s3 := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
		defer s3.Close()
		cfg := parleytest.Config(t, store)
		cfg.Files.S3Endpoint, cfg.Files.S3Bucket, cfg.Files.S3AccessKey, cfg.Files.S3SecretKey, cfg.Files.S3Region = s3.URL, "parley", "key", "secret", "us-east-1"
		d := newDailyWith(t, cfg)
		one := d.alice.OneOnOne(d.bob.UserID)
		pic := pngImage(t, 100, 80)
		f := uploaded(t, d.alice, one, "p.png", pic)
		id := f["id"].(string)
		if got := d.bob.Must(200, "GET", "/parley/v1/files/"+id, nil).Body; !bytes.Equal(got, pic) {
			t.Fatalf("download differs")
		}
		d.bob.Must(200, "GET", "/parley/v1/files/"+id+"/thumbnail", nil)
		if r := d.carol.Do("GET", "/parley/v1/files/"+id, nil); r.Status != 404 {
			t.Fatalf("non-member: %d", r.Status)
		}
		if _, err := os.Stat(filepath.Join(cfg.Store.DataDir, "files")); !os.IsNotExist(err) {
			t.Fatalf("files written to the data directory: %v", err)
		}
		bucket, err := objstore.Open(context.Background(), objstore.Config{Endpoint: s3.URL, Bucket: "parley", AccessKey: "key", SecretKey: "secret", Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		rc, err := bucket.Open(context.Background(), id)
		if err != nil {
			t.Fatalf("object not in the bucket: %v", err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, pic) {
			t.Fatalf("object differs")
		}
	})
}
