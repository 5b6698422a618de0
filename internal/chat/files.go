package chat

import (
	"context"
	"fmt"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

// FileReferenceType is the content type of a file attachment (Graph's
// "reference"): the attachment's id is the id of a file the sender
// uploaded to this chat (POST /parley/v1/chats/{id}/files).
const FileReferenceType = "reference"

// FilePath is where a file is downloaded, relative to the server.
func FilePath(id string) string { return "/parley/v1/files/" + id }

// fileRefs resolves a body's file attachments: each names a file the actor
// uploaded to this chat; the server writes its download paths and name,
// whatever the client sent. Errors: badRequest.
func (s *Service) fileRefs(ctx context.Context, actor *identity.User, chatID ID, b Body) (Body, error) {
	for i := range b.Attachments {
		a := &b.Attachments[i]
		if a.ContentType != FileReferenceType {
			continue
		}
		f, err := s.Store.FindFileRef(ctx, a.ID)
		if errcode.Is(err, errcode.NotFound) || (err == nil && (f.ChatID != chatID || f.Uploader != actor.ID)) {
			return Body{}, errcode.New(errcode.BadRequest, "Attachment %d names no file you uploaded to this chat.", i)
		}
		if err != nil {
			return Body{}, fmt.Errorf("attach file %s: %w", a.ID, err)
		}
		a.Content, a.Name, a.ContentURL, a.ThumbnailURL = "", f.Name, FilePath(a.ID), ""
		if f.HasThumb {
			a.ThumbnailURL = FilePath(a.ID) + "/thumbnail"
		}
	}
	return b, nil
}

// releasedFiles returns the ids of the files before attaches that after
// does not.
func releasedFiles(before, after []Attachment) []string {
	var ids []string
	for _, a := range before {
		if a.ContentType != FileReferenceType {
			continue
		}
		kept := false
		for _, b := range after {
			if b.ContentType == FileReferenceType && b.ID == a.ID {
				kept = true
			}
		}
		if !kept {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

// releaseFiles tells ReleaseFiles of the files a stored change released.
func (s *Service) releaseFiles(ctx context.Context, chatID ID, before, after []Attachment) {
	if s.ReleaseFiles == nil {
		return
	}
	if ids := releasedFiles(before, after); len(ids) > 0 {
		s.ReleaseFiles(context.WithoutCancel(ctx), chatID, ids)
	}
}
