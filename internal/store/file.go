package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/file"
	"github.com/parleychat/parley/internal/identity"
)

var _ file.Store = (*DB)(nil)

// CreateFile stores a file's record.
func (db *DB) CreateFile(ctx context.Context, f file.File) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `INSERT INTO files (id, chat_id, uploader_id, name, content_type, size, created_at, has_thumb) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			f.ID, f.ChatID, f.UploaderID, f.Name, f.ContentType, f.Size, micros(f.CreatedAt), boolInt(f.HasThumb)); err != nil {
			return fmt.Errorf("insert file: %w", err)
		}
		return nil
	})
}

// FindFile returns a file's record. Errors: notFound.
func (db *DB) FindFile(ctx context.Context, id string) (file.File, error) {
	var f file.File
	var created int64
	var thumb int
	err := db.queryRow(ctx, `SELECT id, chat_id, uploader_id, name, content_type, size, created_at, has_thumb FROM files WHERE id = ?`, id).
		Scan(&f.ID, &f.ChatID, &f.UploaderID, &f.Name, &f.ContentType, &f.Size, &created, &thumb)
	if err != nil {
		return file.File{}, notFound(err, "No file %s.", id)
	}
	f.CreatedAt, f.HasThumb = fromMicros(created), thumb == 1
	return f, nil
}

// ExternalFileSharing returns a tenant's setting (true without a row).
func (db *DB) ExternalFileSharing(ctx context.Context, tenant identity.TenantID) (bool, error) {
	var allow int
	err := db.queryRow(ctx, `SELECT allow_external FROM file_config WHERE tenant_id = ?`, tenant).Scan(&allow)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("file sharing setting: %w", err)
	}
	return allow == 1, nil
}

// SetExternalFileSharing stores a tenant's setting.
func (db *DB) SetExternalFileSharing(ctx context.Context, tenant identity.TenantID, allow bool) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `INSERT INTO file_config (tenant_id, allow_external) VALUES (?, ?) ON CONFLICT (tenant_id) DO UPDATE SET allow_external = excluded.allow_external`,
			tenant, boolInt(allow)); err != nil {
			return fmt.Errorf("file sharing setting: %w", err)
		}
		return nil
	})
}

// FindFileRef returns what a message's attachment needs of a file.
func (db *DB) FindFileRef(ctx context.Context, id string) (chat.FileRef, error) {
	f, err := db.FindFile(ctx, id)
	if err != nil {
		return chat.FileRef{}, err
	}
	return chat.FileRef{ChatID: f.ChatID, Uploader: f.UploaderID, Name: f.Name, HasThumb: f.HasThumb}, nil
}
