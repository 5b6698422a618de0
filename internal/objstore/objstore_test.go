package objstore_test

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/objstore"
)

// TestStore runs the store against a real S3 protocol server on loopback
// (gofakes3, the edge of the world).
func TestStore(t *testing.T) {
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer srv.Close()
	ctx := context.Background()
	s, err := objstore.Open(ctx, objstore.Config{Endpoint: srv.URL, Bucket: "parley-files", AccessKey: "k", SecretKey: "s", Region: "us-east-1"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Put(ctx, "abc", []byte("hello")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	rc, err := s.Open(ctx, "abc")
	if err != nil {
		t.Fatalf("Open abc: %v", err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "hello" {
		t.Fatalf("got %q", b)
	}
	if _, err := s.Open(ctx, "missing"); !errcode.Is(err, errcode.NotFound) {
		t.Fatalf("missing key: %v, want notFound", err)
	}
	// Delete removes an object; deleting a missing one is no error.
	if err := s.Delete(ctx, "abc"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Open(ctx, "abc"); !errcode.Is(err, errcode.NotFound) {
		t.Fatalf("deleted key: %v, want notFound", err)
	}
	if err := s.Delete(ctx, "abc"); err != nil {
		t.Fatalf("Delete again: %v", err)
	}
	// Opening again finds the bucket made the first time.
	if _, err := objstore.Open(ctx, objstore.Config{Endpoint: srv.URL, Bucket: "parley-files", AccessKey: "k", SecretKey: "s", Region: "us-east-1"}); err != nil {
		t.Fatalf("reopen: %v", err)
	}
}
