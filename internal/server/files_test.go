package server_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// upload posts a file as multipart/form-data and returns the answer.
func upload(t *testing.T, c *parleytest.Client, chatID, name string, data []byte) *parleytest.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	mw.Close()
	return c.DoHeader("POST", "/parley/v1/chats/"+chatID+"/files", body.Bytes(), map[string]string{"Content-Type": mw.FormDataContentType()})
}

func uploaded(t *testing.T, c *parleytest.Client, chatID, name string, data []byte) map[string]any {
	t.Helper()
	r := upload(t, c, chatID, name, data)
	if r.Status != 201 {
		t.Fatalf("upload %s: %d %s", name, r.Status, r.Body)
	}
	return r.Map(t)
}

func attach(c *parleytest.Client, chatID, fileID string) *parleytest.Response {
	return c.Do("POST", "/v1.0/chats/"+chatID+"/messages", map[string]any{"body": map[string]string{"content": "see attached"},
		"attachments": []any{map[string]any{"id": fileID, "contentType": "reference", "contentUrl": "https://evil.example/x", "name": "forged.exe"}}})
}

// TestS7_Files: files in chats (docs/rules.md §7): sniffed, size-limited,
// images with thumbnails, attached as Graph reference attachments, and
// downloaded only by those who may see them, checked on every request,
// never rendered by the browser; not by the target of a pending request
// (§5); not across organisations when an admin turned that off.
func TestS7_Files(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		cfg := parleytest.Config(t, store)
		cfg.FileMaxBytes = 64 << 10
		d := newDailyWith(t, cfg)
		one := d.alice.OneOnOne(d.bob.UserID)
		pic := pngImage(t, 600, 400)

		t.Run("upload, attach, download, thumbnail", func(t *testing.T) {
			f := uploaded(t, d.alice, one, "holiday.png", pic)
			id := f["id"].(string)
			if f["contentType"] != "image/png" || f["size"] != float64(len(pic)) || f["name"] != "holiday.png" || f["thumbnailUrl"] == nil {
				t.Fatalf("file = %v", f)
			}
			m := attach(d.alice, one, id)
			if m.Status != 201 {
				t.Fatalf("attach: %d %s", m.Status, m.Body)
			}
			att := m.Map(t)["attachments"].([]any)[0].(map[string]any)
			if att["contentType"] != "reference" || att["contentUrl"] != "/parley/v1/files/"+id || att["name"] != "holiday.png" || att["thumbnailUrl"] != "/parley/v1/files/"+id+"/thumbnail" {
				t.Fatalf("attachment = %v (the server writes it)", att)
			}
			r := d.bob.Must(200, "GET", "/parley/v1/files/"+id, nil)
			if !bytes.Equal(r.Body, pic) || r.Header.Get("Content-Type") != "image/png" || r.Header.Get("X-Content-Type-Options") != "nosniff" ||
				!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(r.Header.Get("Content-Disposition"), "holiday.png") {
				t.Fatalf("download: %v", r.Header)
			}
			th := d.bob.Must(200, "GET", "/parley/v1/files/"+id+"/thumbnail", nil)
			img, err := jpeg.Decode(bytes.NewReader(th.Body))
			if err != nil || img.Bounds().Dx() != 320 || img.Bounds().Dy() != 213 {
				t.Fatalf("thumbnail: %v %v", err, img)
			}
			// Not a member, no such file, no token.
			for _, c := range []*parleytest.Client{d.carol, d.erin} {
				if r := c.Do("GET", "/parley/v1/files/"+id, nil); r.Status != 404 {
					t.Fatalf("non-member download: %d", r.Status)
				}
				if r := c.Do("GET", "/parley/v1/files/"+id+"/thumbnail", nil); r.Status != 404 {
					t.Fatalf("non-member thumbnail: %d", r.Status)
				}
			}
			if r := d.bob.Do("GET", "/parley/v1/files/0123456789abcdef0123456789abcdef", nil); r.Status != 404 {
				t.Fatalf("no such file: %d", r.Status)
			}
			if r := d.s.Anonymous().Do("GET", "/parley/v1/files/"+id, nil); r.Status != 401 {
				t.Fatalf("anonymous: %d", r.Status)
			}
			if r := upload(t, d.carol, one, "x.txt", []byte("hello")); r.Status != 404 {
				t.Fatalf("non-member upload: %d %s", r.Status, r.Body)
			}
		})

		t.Run("never rendered, limits, refused attachments", func(t *testing.T) {
			html := []byte("<html><body><script>alert(document.cookie)</script></body></html>")
			r := d.alice.DoHeader("POST", "/parley/v1/chats/"+one+"/files?name=page.html", html, map[string]string{"Content-Type": "image/png"})
			if r.Status != 201 {
				t.Fatalf("raw upload: %d %s", r.Status, r.Body)
			}
			f := r.Map(t)
			if !strings.HasPrefix(f["contentType"].(string), "text/html") || f["thumbnailUrl"] != nil {
				t.Fatalf("sniffed: %v (the client's type is not trusted)", f)
			}
			dl := d.bob.Must(200, "GET", "/parley/v1/files/"+f["id"].(string), nil)
			if dl.Header.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment") ||
				!strings.Contains(dl.Header.Get("Content-Security-Policy"), "sandbox") {
				t.Fatalf("HTML served as %v", dl.Header)
			}
			if r := upload(t, d.alice, one, "big.bin", bytes.Repeat([]byte{1}, 70<<10)); r.Status != 413 || r.ErrorCode() != "payloadTooLarge" {
				t.Fatalf("over the limit: %d %s", r.Status, r.Body)
			}
			if r := upload(t, d.alice, one, "empty.txt", nil); r.Status != 400 {
				t.Fatalf("empty: %d %s", r.Status, r.Body)
			}
			// A file of another chat, a file someone else uploaded, no file.
			other := d.alice.OneOnOne(d.carol.UserID)
			elsewhere := uploaded(t, d.alice, other, "a.txt", []byte("elsewhere"))["id"].(string)
			bobs := uploaded(t, d.bob, one, "b.txt", []byte("bob's"))["id"].(string)
			for _, id := range []string{elsewhere, bobs, "nope"} {
				if r := attach(d.alice, one, id); r.Status != 400 {
					t.Errorf("attach %s: %d %s", id, r.Status, r.Body)
				}
			}
		})

		t.Run("visible history", func(t *testing.T) {
			g := d.alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Files",
				"members": []any{parleytest.Bind(d.alice.UserID, true), parleytest.Bind(d.bob.UserID, false)}}).Map(t)["id"].(string)
			before := uploaded(t, d.alice, g, "old.txt", []byte("old"))["id"].(string)
			time.Sleep(2 * time.Millisecond)
			d.alice.Must(201, "POST", "/v1.0/chats/"+g+"/members", parleytest.Bind(d.carol.UserID, false))
			time.Sleep(2 * time.Millisecond)
			after := uploaded(t, d.bob, g, "new.txt", []byte("new"))["id"].(string)
			if r := d.carol.Do("GET", "/parley/v1/files/"+before, nil); r.Status != 404 {
				t.Fatalf("file before carol's history: %d", r.Status)
			}
			d.carol.Must(200, "GET", "/parley/v1/files/"+after, nil)
		})

		t.Run("pending request: the target cannot download", func(t *testing.T) {
			id := d.erin.ChatWith(parleytest.ByEmail("carol@contoso.com")).Map(t)["id"].(string)
			f := uploaded(t, d.erin, id, "invoice.png", pic)["id"].(string)
			d.erin.Must(201, "POST", "/v1.0/chats/"+id+"/messages", map[string]any{"body": map[string]string{"content": "pay this"},
				"attachments": []any{map[string]any{"id": f, "contentType": "reference"}}})
			for _, p := range []string{"", "/thumbnail"} {
				if r := d.carol.Do("GET", "/parley/v1/files/"+f+p, nil); r.Status != 404 {
					t.Fatalf("pending target downloads%s: %d", p, r.Status)
				}
			}
			if r := upload(t, d.carol, id, "reply.txt", []byte("x")); r.Status != 404 {
				t.Fatalf("pending target uploads: %d", r.Status)
			}
			var reqs struct {
				Value []struct {
					Previews []struct {
						Attachments []any `json:"attachments"`
					} `json:"previews"`
				} `json:"value"`
			}
			d.carol.Must(200, "GET", "/parley/v1/me/requests", nil).JSON(t, &reqs)
			for _, rq := range reqs.Value {
				for _, p := range rq.Previews {
					if len(p.Attachments) != 0 {
						t.Fatalf("request preview shows attachments: %v", p.Attachments)
					}
				}
			}
			d.carol.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
			d.carol.Must(200, "GET", "/parley/v1/files/"+f, nil)
		})

		t.Run("admins can turn off file sharing with external people", func(t *testing.T) {
			id := d.erin.ChatWith(parleytest.ByEmail("bob@contoso.com")).Map(t)["id"].(string)
			d.erin.Send(id, "hi bob")
			d.bob.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
			erins := uploaded(t, d.erin, id, "e.txt", []byte("from erin"))["id"].(string)
			if got := d.contoso.Admin.Must(200, "GET", "/parley/v1/admin/fileConfiguration", nil).Map(t); got["allowExternalFileSharing"] != true {
				t.Fatalf("default: %v", got)
			}
			if r := d.bob.Do("PATCH", "/parley/v1/admin/fileConfiguration", map[string]any{"allowExternalFileSharing": false}); r.Status != 403 {
				t.Fatalf("non-admin: %d", r.Status)
			}
			for _, bad := range []any{map[string]any{}, map[string]any{"allowExternalFileSharing": "no"}, map[string]any{"allowExternal": false}} {
				if r := d.contoso.Admin.Do("PATCH", "/parley/v1/admin/fileConfiguration", bad); r.Status != 400 {
					t.Fatalf("bad %v: %d", bad, r.Status)
				}
			}
			d.contoso.Admin.Must(200, "PATCH", "/parley/v1/admin/fileConfiguration", map[string]any{"allowExternalFileSharing": false})
			if r := upload(t, d.bob, id, "b.txt", []byte("x")); r.Status != 403 || r.ErrorCode() != "forbiddenByPolicy" {
				t.Fatalf("upload to an external chat: %d %s", r.Status, r.Body)
			}
			if r := d.bob.Do("GET", "/parley/v1/files/"+erins, nil); r.Status != 403 || r.ErrorCode() != "forbiddenByPolicy" {
				t.Fatalf("download in an external chat: %d %s", r.Status, r.Body)
			}
			uploaded(t, d.bob, one, "internal.txt", []byte("fine")) // internal chats are not affected
			d.erin.Must(200, "GET", "/parley/v1/files/"+erins, nil) // fabrikam's own setting allows it
			audit := d.contoso.Admin.Must(200, "GET", "/parley/v1/admin/audit", nil).Body2()
			if !strings.Contains(audit, "fileConfiguration.update") {
				t.Fatalf("not audited: %s", audit)
			}
			d.contoso.Admin.Must(200, "PATCH", "/parley/v1/admin/fileConfiguration", map[string]any{"allowExternalFileSharing": true})
			d.bob.Must(200, "GET", "/parley/v1/files/"+erins, nil)
		})
	})
}
