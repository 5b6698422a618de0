// Package objstore keeps uploaded files in an S3-compatible object store
// (docs/rules.md §7 files), for servers that run several nodes: every
// node reads what any node wrote. It implements file.Blobs. Only
// internal/server imports it.
package objstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/parleychat/parley/internal/errcode"
)

// Config names a bucket of an S3-compatible service.
type Config struct {
	// Endpoint is host:port, or a URL (http:// for a plain connection).
	Endpoint  string
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string
}

// Store is a bucket.
type Store struct {
	c      *minio.Client
	bucket string
}

// Open connects to the bucket, creating it when it does not exist.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	host, secure := cfg.Endpoint, true
	if u, err := url.Parse(cfg.Endpoint); err == nil && u.Host != "" {
		host, secure = u.Host, u.Scheme != "http"
	}
	c, err := minio.New(host, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: secure, Region: cfg.Region})
	if err != nil {
		return nil, fmt.Errorf("object store %s: %w", host, err)
	}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("object store %s: bucket %s: %w", host, cfg.Bucket, err)
	}
	if !ok {
		if err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("object store %s: create bucket %s: %w", host, cfg.Bucket, err)
		}
	}
	return &Store{c: c, bucket: cfg.Bucket}, nil
}

// Put stores an object.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if _, err := s.c.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{ContentType: "application/octet-stream"}); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// Open returns an object's bytes. Errors: notFound.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	o, err := s.c.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err == nil {
		_, err = o.Stat() // GetObject is lazy: a missing key shows here
	}
	if err != nil {
		if o != nil {
			_ = o.Close() // the error is the one to report
		}
		if r := minio.ToErrorResponse(err); r.Code == "NoSuchKey" || strings.Contains(r.Code, "NotFound") {
			return nil, errcode.New(errcode.NotFound, "No file %s.", key)
		}
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return o, nil
}

// Delete removes an object; a missing one is no error (S3's DELETE is
// idempotent).
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if r := minio.ToErrorResponse(err); r.Code == "NoSuchKey" {
			return nil
		}
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}
