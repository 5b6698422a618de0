package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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

const fileColumns = `id, chat_id, uploader_id, name, content_type, size, created_at, has_thumb`

func scanFile(row interface{ Scan(...any) error }) (file.File, error) {
	var f file.File
	var created int64
	var thumb int
	if err := row.Scan(&f.ID, &f.ChatID, &f.UploaderID, &f.Name, &f.ContentType, &f.Size, &created, &thumb); err != nil {
		return file.File{}, err
	}
	f.CreatedAt, f.HasThumb = fromMicros(created), thumb == 1
	return f, nil
}

// FindFile returns a file's record, not a deleted one. Errors: notFound.
func (db *DB) FindFile(ctx context.Context, id string) (file.File, error) {
	f, err := scanFile(db.queryRow(ctx, `SELECT `+fileColumns+` FROM files WHERE id = ? AND deleted_at = 0`, id))
	if err != nil {
		return file.File{}, notFound(err, "No file %s.", id)
	}
	return f, nil
}

// attachedBy is the condition that a live message of the file's chat,
// sent after the upload, attaches file f (alias f): the attachment's id
// and type as the message row stores them (wireAttachment's JSON; file ids
// are hex, so the pattern needs no escaping).
const attachedBy = `EXISTS (SELECT 1 FROM messages x WHERE x.chat_id = f.chat_id AND x.created_at >= f.created_at AND x.deleted_at = 0
	AND x.attachments LIKE '%"i":"' || f.id || '","c":"reference"%')`

// FileAttached reports whether a live message attaches the file.
func (db *DB) FileAttached(ctx context.Context, id string) (bool, error) {
	var n int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM files f WHERE f.id = ? AND `+attachedBy, id).Scan(&n); err != nil {
		return false, fmt.Errorf("file %s attached: %w", id, err)
	}
	return n > 0, nil
}

// DeleteFile marks a file deleted unless a live message attaches it (an
// attach that raced the delete), and reports whether it did.
func (db *DB) DeleteFile(ctx context.Context, id string, at time.Time) (bool, error) {
	var deleted bool
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `UPDATE files AS f SET deleted_at = ? WHERE f.id = ? AND f.deleted_at = 0 AND NOT `+attachedBy, micros(at), id)
		if err != nil {
			return fmt.Errorf("delete file %s: %w", id, err)
		}
		n, _ := res.RowsAffected()
		deleted = n > 0
		return nil
	})
	return deleted, err
}

// ChatFiles returns up to limit live files of a chat that a live message
// attaches, uploaded at or after from, newest first, after the cursor
// (zero: from the newest).
func (db *DB) ChatFiles(ctx context.Context, chatID chat.ID, from time.Time, after file.Cursor, limit int) ([]file.File, error) {
	q := `SELECT ` + fileColumns + ` FROM files f WHERE f.chat_id = ? AND f.deleted_at = 0 AND f.created_at >= ?`
	args := []any{chatID, micros(from)}
	if !after.CreatedAt.IsZero() {
		q += ` AND (f.created_at < ? OR (f.created_at = ? AND f.id < ?))`
		args = append(args, micros(after.CreatedAt), micros(after.CreatedAt), after.ID)
	}
	q += ` AND ` + attachedBy + ` ORDER BY f.created_at DESC, f.id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list files of %s: %w", chatID, err)
	}
	defer rows.Close()
	var out []file.File
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return nil, fmt.Errorf("list files of %s: %w", chatID, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// LiveFiles calls fn with every file not deleted, in id order (backup).
func (db *DB) LiveFiles(ctx context.Context, fn func(file.File) error) error {
	rows, err := db.query(ctx, `SELECT `+fileColumns+` FROM files WHERE deleted_at = 0 ORDER BY id`)
	if err != nil {
		return fmt.Errorf("list files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return fmt.Errorf("list files: %w", err)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return rows.Err()
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
