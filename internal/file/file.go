// Package file holds docs/rules.md §7's files: a file uploaded to a chat
// by one of its members, its thumbnail when it is an image, and who may
// download it: the chat's accepted members within their visible history,
// never the target of a pending request (§5: nothing of the sender's
// side but the text reaches them before they accept), and no one of an
// organisation that turned off file sharing with external people, in a
// chat with external people. Files are stored in a Blobs (the data
// directory by default). It is a domain package: no SQL, no HTTP.
package file

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // decodes GIF images for thumbnails
	"image/jpeg"
	_ "image/png" // decodes PNG images for thumbnails
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

// File is an uploaded file.
type File struct {
	ID          string
	ChatID      chat.ID
	UploaderID  identity.UserID
	Name        string
	ContentType string // sniffed from the content, never taken from the client
	Size        int64
	CreatedAt   time.Time
	HasThumb    bool
}

// Store keeps files' records and the tenant setting.
type Store interface {
	CreateFile(ctx context.Context, f File) error
	// FindFile returns a file; notFound when none.
	FindFile(ctx context.Context, id string) (File, error)
	// FindChatAny returns a chat and its members.
	FindChatAny(ctx context.Context, id chat.ID) (chat.Chat, []chat.Member, error)
	// ExternalFileSharing returns a tenant's setting (true by default).
	ExternalFileSharing(ctx context.Context, tenant identity.TenantID) (bool, error)
	// SetExternalFileSharing stores it.
	SetExternalFileSharing(ctx context.Context, tenant identity.TenantID, allow bool) error
	// FileAttached reports whether a live (not deleted) message attaches
	// the file.
	FileAttached(ctx context.Context, id string) (bool, error)
	// DeleteFile marks a file deleted unless a live message attaches it,
	// and reports whether it did.
	DeleteFile(ctx context.Context, id string, at time.Time) (bool, error)
	// ChatFiles returns up to limit live files of a chat that a live
	// message attaches, uploaded at or after from, newest first, after the
	// cursor.
	ChatFiles(ctx context.Context, chatID chat.ID, from time.Time, after Cursor, limit int) ([]File, error)
}

// Cursor is where a page of a chat's files ends: its last file.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// Blobs keeps files' bytes by key.
type Blobs interface {
	Put(ctx context.Context, key string, data []byte) error
	// Open returns the bytes of key; notFound when none.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes key; a missing key is no error.
	Delete(ctx context.Context, key string) error
}

// Service uploads and serves files.
type Service struct {
	Store Store
	Blobs Blobs
	Now   func() time.Time
	// MaxBytes caps one file.
	MaxBytes int64
	// Audit records setting changes (may be nil).
	Audit func(ctx context.Context, tenant identity.TenantID, actor identity.UserID, action, target string, details map[string]any)
}

// Limits.
const (
	DefaultMaxBytes = 25 << 20
	maxNameRunes    = 255
	thumbSize       = 320
	maxPixels       = 40_000_000 // larger images get no thumbnail (decompression bombs)
)

// NewID returns a fresh file id.
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// member returns the actor's member row of a file's chat, refusing what
// docs/rules.md §5 and §7 refuse: not a member, held, declined, or the
// target of a pending request (notFound: the file does not exist for
// them), and the actor's own organisation's setting in a chat with
// external people (forbiddenByPolicy).
func (s *Service) member(ctx context.Context, actor *identity.User, id chat.ID) (chat.Chat, chat.Member, error) {
	c, members, err := s.Store.FindChatAny(ctx, id)
	if err != nil {
		return chat.Chat{}, chat.Member{}, err
	}
	for _, m := range members {
		if m.UserID == actor.ID && m.UserID != "" {
			if m.State != chat.Accepted || m.Held {
				break
			}
			if c.External && actor.TenantID != "" {
				ok, err := s.Store.ExternalFileSharing(ctx, actor.TenantID)
				if err != nil {
					return chat.Chat{}, chat.Member{}, err
				}
				if !ok {
					return chat.Chat{}, chat.Member{}, errcode.New(errcode.ForbiddenByPolicy, "Your organisation does not allow sharing files with people outside it.")
				}
			}
			return c, m, nil
		}
	}
	return chat.Chat{}, chat.Member{}, errcode.New(errcode.NotFound, "No chat %s.", id)
}

// Upload stores a file in a chat for its accepted members. contentType is
// what the content was sniffed as. Errors: notFound, badRequest,
// payloadTooLarge, forbiddenByPolicy.
func (s *Service) Upload(ctx context.Context, actor *identity.User, chatID chat.ID, name, contentType string, data []byte) (File, error) {
	if _, _, err := s.member(ctx, actor, chatID); err != nil {
		return File{}, fmt.Errorf("upload to %s: %w", chatID, err)
	}
	name = strings.TrimSpace(filepath.Base(strings.ReplaceAll(name, `\`, "/")))
	if name == "" || name == "." || name == "/" {
		name = "file"
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxNameRunes || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return File{}, errcode.New(errcode.BadRequest, "The file name must be valid text of at most %d characters.", maxNameRunes)
	}
	if int64(len(data)) > s.MaxBytes {
		return File{}, errcode.New(errcode.PayloadTooLarge, "A file may have at most %d bytes.", s.MaxBytes)
	}
	if len(data) == 0 {
		return File{}, errcode.New(errcode.BadRequest, "The file is empty.")
	}
	f := File{ID: NewID(), ChatID: chatID, UploaderID: actor.ID, Name: name, ContentType: contentType, Size: int64(len(data)), CreatedAt: s.Now()}
	if thumb := thumbnail(data); thumb != nil {
		if err := s.Blobs.Put(ctx, f.ID+".thumb", thumb); err != nil {
			return File{}, fmt.Errorf("store thumbnail: %w", err)
		}
		f.HasThumb = true
	}
	if err := s.Blobs.Put(ctx, f.ID, data); err != nil {
		return File{}, fmt.Errorf("store file: %w", err)
	}
	if err := s.Store.CreateFile(ctx, f); err != nil {
		return File{}, fmt.Errorf("store file: %w", err)
	}
	return f, nil
}

// Open returns a file (or its thumbnail) to a member who may see it: an
// accepted member of its chat, from their visible history on, checked on
// every request. Errors: notFound, forbiddenByPolicy.
func (s *Service) Open(ctx context.Context, actor *identity.User, id string, thumb bool) (File, io.ReadCloser, error) {
	f, err := s.Store.FindFile(ctx, id)
	if err != nil {
		return File{}, nil, err
	}
	_, m, err := s.member(ctx, actor, f.ChatID)
	if errcode.Is(err, errcode.NotFound) || (err == nil && f.CreatedAt.Before(m.VisibleFrom)) || (thumb && !f.HasThumb) {
		return File{}, nil, errcode.New(errcode.NotFound, "No file %s.", id)
	}
	if err != nil {
		return File{}, nil, err
	}
	key := f.ID
	if thumb {
		key += ".thumb"
	}
	rc, err := s.Blobs.Open(ctx, key)
	if err != nil {
		return File{}, nil, fmt.Errorf("open file %s: %w", id, err)
	}
	return f, rc, nil
}

// Page sizes of a chat's files.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// List returns a page of the files shared in a chat, newest first: those
// a live message attaches, from the caller's visible history on, for an
// accepted member (docs/rules.md §5: a pending request's target sees no
// files; notFound like a chat one is not in), and the caller's own
// organisation's sharing setting as for a download. The cursor of the
// next page is zero when there is none. Errors: notFound,
// forbiddenByPolicy.
func (s *Service) List(ctx context.Context, actor *identity.User, chatID chat.ID, after Cursor, limit int) ([]File, Cursor, error) {
	_, m, err := s.member(ctx, actor, chatID)
	if err != nil {
		return nil, Cursor{}, fmt.Errorf("list files of %s: %w", chatID, err)
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	fs, err := s.Store.ChatFiles(ctx, chatID, m.VisibleFrom, after, limit+1)
	if err != nil {
		return nil, Cursor{}, err
	}
	var next Cursor
	if len(fs) > limit {
		fs = fs[:limit]
		next = Cursor{CreatedAt: fs[limit-1].CreatedAt, ID: fs[limit-1].ID}
	}
	return fs, next, nil
}

// Release is told of files that messages of a chat stopped attaching (a
// message deleted or edited): each one no live message attaches any more
// is deleted, so it is not downloadable, and its bytes (and thumbnail)
// are removed from the file store. Only files of that chat are touched.
// It never fails the change that released them: errors are returned for
// the caller to log.
func (s *Service) Release(ctx context.Context, chatID chat.ID, ids []string) error {
	var errs []error
	for _, id := range ids {
		f, err := s.Store.FindFile(ctx, id)
		if errcode.Is(err, errcode.NotFound) || (err == nil && f.ChatID != chatID) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		deleted, err := s.Store.DeleteFile(ctx, id, s.Now())
		if err != nil || !deleted {
			errs = append(errs, err)
			continue
		}
		if err := s.Blobs.Delete(ctx, id); err != nil {
			errs = append(errs, err)
		}
		if f.HasThumb {
			if err := s.Blobs.Delete(ctx, id+".thumb"); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// ExternalSharing returns the admin's tenant setting.
func (s *Service) ExternalSharing(ctx context.Context, admin *identity.User) (bool, error) {
	if !admin.IsAdmin() {
		return false, errcode.New(errcode.Forbidden, "Only tenant admins manage file sharing.")
	}
	return s.Store.ExternalFileSharing(ctx, admin.TenantID)
}

// SetExternalSharing changes the admin's tenant setting, audited.
func (s *Service) SetExternalSharing(ctx context.Context, admin *identity.User, allow bool) error {
	if !admin.IsAdmin() {
		return errcode.New(errcode.Forbidden, "Only tenant admins manage file sharing.")
	}
	before, err := s.Store.ExternalFileSharing(ctx, admin.TenantID)
	if err != nil {
		return err
	}
	if err := s.Store.SetExternalFileSharing(ctx, admin.TenantID, allow); err != nil {
		return fmt.Errorf("set file sharing: %w", err)
	}
	if s.Audit != nil && before != allow {
		s.Audit(ctx, admin.TenantID, admin.ID, "fileConfiguration.update", string(admin.TenantID), map[string]any{"allowExternalFileSharing": map[string]any{"from": before, "to": allow}})
	}
	return nil
}

// thumbnail returns a JPEG of at most thumbSize pixels a side of an image,
// or nil when data is not an image Parley reads (or is too large).
func thumbnail(data []byte) []byte {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPixels {
		return nil
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	scale := max(float64(w)/thumbSize, float64(h)/thumbSize, 1)
	tw, th := max(int(float64(w)/scale), 1), max(int(float64(h)/scale), 1)
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	for y := range th {
		for x := range tw {
			// Box filter: the average of the source pixels under this one.
			x0, x1 := b.Min.X+x*w/tw, b.Min.X+max((x+1)*w/tw, x*w/tw+1)
			y0, y1 := b.Min.Y+y*h/th, b.Min.Y+max((y+1)*h/th, y*h/th+1)
			var r, g, bl, a, n uint64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					cr, cg, cb, ca := src.At(sx, sy).RGBA()
					r, g, bl, a, n = r+uint64(cr), g+uint64(cg), bl+uint64(cb), a+uint64(ca), n+1
				}
			}
			i := dst.PixOffset(x, y)
			// Flattened on white: JPEG has no alpha.
			alpha := a / n
			dst.Pix[i+0] = uint8((r/n + (0xffff - alpha)) >> 8)
			dst.Pix[i+1] = uint8((g/n + (0xffff - alpha)) >> 8)
			dst.Pix[i+2] = uint8((bl/n + (0xffff - alpha)) >> 8)
			dst.Pix[i+3] = 0xff
		}
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 80}); err != nil {
		return nil
	}
	return out.Bytes()
}

// Dir keeps files in a directory (the data directory's files/).
type Dir struct{ Path string }

func (d Dir) file(key string) string {
	return filepath.Join(d.Path, key[:2], key)
}

// Put writes a file atomically (a temporary file renamed into place).
func (d Dir) Put(_ context.Context, key string, data []byte) error {
	p := d.file(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}

// Delete removes a stored file; a missing one is no error.
func (d Dir) Delete(_ context.Context, key string) error {
	if err := os.Remove(d.file(key)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// Open opens a stored file.
func (d Dir) Open(_ context.Context, key string) (io.ReadCloser, error) {
	f, err := os.Open(d.file(key))
	if os.IsNotExist(err) {
		return nil, errcode.New(errcode.NotFound, "No file %s.", key)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return f, nil
}

// Copy copies the bytes of files (and their thumbnails) from one file
// store to another, for backups: each file list gives (live files, read
// after the database's snapshot, so every file the snapshot holds and is
// still live is copied). A file whose bytes are missing is counted, not
// an error: the copy goes on. It returns how many files it copied and
// how many it could not find.
func Copy(ctx context.Context, list func(fn func(File) error) error, from, to Blobs) (copied, missing int, err error) {
	err = list(func(f File) error {
		keys := []string{f.ID}
		if f.HasThumb {
			keys = append(keys, f.ID+".thumb")
		}
		for i, k := range keys {
			rc, err := from.Open(ctx, k)
			if errcode.Is(err, errcode.NotFound) {
				if i == 0 {
					missing++
				}
				return nil
			}
			if err != nil {
				return fmt.Errorf("copy %s: %w", k, err)
			}
			data, err := io.ReadAll(rc)
			_ = rc.Close() // a read error is the one to report
			if err != nil {
				return fmt.Errorf("copy %s: %w", k, err)
			}
			if err := to.Put(ctx, k, data); err != nil {
				return fmt.Errorf("copy %s: %w", k, err)
			}
		}
		copied++
		return nil
	})
	return copied, missing, err
}
