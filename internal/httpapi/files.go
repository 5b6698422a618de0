package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/file"
	"github.com/parleychat/parley/internal/graph"
)

// routesFiles registers file upload, download and the tenant's file
// sharing setting (docs/rules.md §7).
func (a *API) routesFiles() {
	a.handle("POST /parley/v1/chats/{id}/files", a.authed(a.uploadFile))
	a.handle("GET /parley/v1/chats/{id}/files", a.authed(a.listFiles))
	a.handle("GET /parley/v1/files/{id}", a.authed(a.downloadFile(false)))
	a.handle("GET /parley/v1/files/{id}/thumbnail", a.authed(a.downloadFile(true)))
	a.handle("GET /parley/v1/admin/fileConfiguration", a.authed(a.getFileConfig))
	a.handle("PATCH /parley/v1/admin/fileConfiguration", a.authed(a.patchFileConfig))
}

// isUpload reports whether r is a file upload, which may carry a body up
// to the file size limit rather than --max-body-bytes.
func isUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/parley/v1/chats/") && strings.HasSuffix(r.URL.Path, "/files")
}

type fileOut struct {
	ID              string  `json:"id"`
	ChatID          string  `json:"chatId"`
	Name            string  `json:"name"`
	ContentType     string  `json:"contentType"`
	Size            int64   `json:"size"`
	CreatedDateTime *string `json:"createdDateTime"`
	ContentURL      string  `json:"contentUrl"`
	ThumbnailURL    *string `json:"thumbnailUrl"`
}

// uploadFile takes a file as multipart/form-data (the part named "file",
// its file name) or as the raw body (?name=…); its type is sniffed from
// its bytes, never taken from the client.
func (a *API) uploadFile(w http.ResponseWriter, r *http.Request) error {
	name := r.URL.Query().Get("name")
	var body io.Reader = r.Body
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return errcode.New(errcode.BadRequest, "The multipart body cannot be read.")
		}
		for {
			p, err := mr.NextPart()
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return err
				}
				return errcode.New(errcode.BadRequest, "The multipart body has no part named file.")
			}
			if p.FormName() == "file" {
				name, body = p.FileName(), p
				break
			}
		}
	}
	data, err := io.ReadAll(io.LimitReader(body, a.Files.MaxBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errcode.New(errcode.PayloadTooLarge, "A file may have at most %d bytes.", a.Files.MaxBytes)
		}
		return errcode.New(errcode.BadRequest, "The file could not be read.")
	}
	f, err := a.Files.Upload(r.Context(), userOf(r), chatID(r), name, http.DetectContentType(data), data)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newFileOut(&f))
	return nil
}

func newFileOut(f *file.File) fileOut {
	out := fileOut{ID: f.ID, ChatID: string(f.ChatID), Name: f.Name, ContentType: f.ContentType, Size: f.Size, CreatedDateTime: graph.Time(f.CreatedAt), ContentURL: chat.FilePath(f.ID)}
	if f.HasThumb {
		t := chat.FilePath(f.ID) + "/thumbnail"
		out.ThumbnailURL = &t
	}
	return out
}

// listFiles pages the files shared in a chat, newest first ($top,
// $skiptoken, @odata.nextLink).
func (a *API) listFiles(w http.ResponseWriter, r *http.Request) error {
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	var after file.Cursor
	if t, id, ok, err := timeIDSkipToken(r); err != nil {
		return err
	} else if ok {
		after = file.Cursor{CreatedAt: t, ID: id}
	}
	fs, next, err := a.Files.List(r.Context(), userOf(r), chatID(r), after, limit)
	if err != nil {
		return err
	}
	out := page[fileOut]{Value: make([]fileOut, 0, len(fs))}
	for i := range fs {
		out.Value = append(out.Value, newFileOut(&fs[i]))
	}
	if !next.CreatedAt.IsZero() {
		out.NextLink = a.nextLink(r, makeSkipToken(timeKey(next.CreatedAt), next.ID))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// downloadFile serves a file to a caller who may see it, checked on every
// request: always as an attachment, never rendered by the browser (HTML
// and other active types as application/octet-stream), with nosniff and
// a sandboxing CSP. A thumbnail is a JPEG Parley made, shown inline.
func (a *API) downloadFile(thumb bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, rc, err := a.Files.Open(r.Context(), userOf(r), r.PathValue("id"), thumb)
		if err != nil {
			return err
		}
		defer rc.Close()
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cache-Control", "private, no-store")
		if thumb {
			h.Set("Content-Type", "image/jpeg")
			h.Set("Content-Disposition", "inline")
		} else {
			h.Set("Content-Type", servedType(f.ContentType))
			h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
			h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
		}
		_, _ = io.Copy(w, rc) // a failed copy means the client left
		return nil
	}
}

// servedType is the Content-Type a download goes out with: the sniffed
// type for passive content (images, PDF, plain text, archives), else
// application/octet-stream, so no browser runs it.
func servedType(sniffed string) string {
	mt, _, _ := mime.ParseMediaType(sniffed)
	switch {
	case strings.HasPrefix(mt, "image/") && mt != "image/svg+xml",
		mt == "application/pdf", mt == "application/zip", mt == "application/x-gzip", mt == "text/plain",
		strings.HasPrefix(mt, "audio/"), strings.HasPrefix(mt, "video/"):
		return sniffed
	}
	return "application/octet-stream"
}

type fileConfig struct {
	AllowExternalFileSharing *bool `json:"allowExternalFileSharing"`
}

func (a *API) getFileConfig(w http.ResponseWriter, r *http.Request) error {
	allow, err := a.Files.ExternalSharing(r.Context(), userOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fileConfig{&allow})
	return nil
}

func (a *API) patchFileConfig(w http.ResponseWriter, r *http.Request) error {
	var in fileConfig
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.AllowExternalFileSharing == nil {
		return errcode.New(errcode.BadRequest, "allowExternalFileSharing (true or false) is required.")
	}
	if err := a.Files.SetExternalSharing(r.Context(), userOf(r), *in.AllowExternalFileSharing); err != nil {
		return err
	}
	return a.getFileConfig(w, r)
}
