package server

import (
	"context"
	"path/filepath"

	"github.com/parleychat/parley/internal/config"
	"github.com/parleychat/parley/internal/file"
	"github.com/parleychat/parley/internal/objstore"
)

// OpenBlobs opens where cfg keeps uploaded files' bytes: the S3-compatible
// bucket of --files-s3-endpoint, or files/ in the data directory. The
// backup command reads them through it.
func OpenBlobs(ctx context.Context, cfg config.Config) (file.Blobs, error) {
	if fc := cfg.Files; fc.S3Endpoint != "" {
		return objstore.Open(ctx, objstore.Config{Endpoint: fc.S3Endpoint, Bucket: fc.S3Bucket, AccessKey: fc.S3AccessKey, SecretKey: fc.S3SecretKey, Region: fc.S3Region})
	}
	return file.Dir{Path: filepath.Join(cfg.Store.DataDir, "files")}, nil
}
