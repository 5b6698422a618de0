package server_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/objstore"
	"github.com/parleychat/parley/internal/parleytest"
)

// attachedFile uploads a file to a chat, attaches it in a message and
// returns the file's and the message's ids.
func attachedFile(t *testing.T, c *parleytest.Client, chatID, name string, data []byte) (string, string) {
	t.Helper()
	id := uploaded(t, c, chatID, name, data)["id"].(string)
	r := attach(c, chatID, id)
	if r.Status != 201 {
		t.Fatalf("attach %s: %d %s", name, r.Status, r.Body)
	}
	time.Sleep(2 * time.Millisecond) // distinct upload times, so the order is the test's
	return id, r.Map(t)["id"].(string)
}

// chatFiles lists a chat's files as c, following every nextLink with a
// page size of top; it returns the ids, or the error code.
func chatFiles(t *testing.T, c *parleytest.Client, chatID string, top int) string {
	t.Helper()
	next := "/parley/v1/chats/" + chatID + "/files"
	if top > 0 {
		next += "?$top=" + strconv.Itoa(top)
	}
	var ids []string
	for next != "" {
		r := c.Do("GET", next, nil)
		if r.Status != 200 {
			return r.ErrorCode()
		}
		var page struct {
			Value []struct {
				ID, ChatID, Name, ContentURL string
			} `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		r.JSON(t, &page)
		if top > 0 && len(page.Value) > top {
			t.Fatalf("page of %d with $top=%d", len(page.Value), top)
		}
		for _, f := range page.Value {
			if f.ChatID != chatID || f.ContentURL != "/parley/v1/files/"+f.ID {
				t.Fatalf("file shape: %+v", f)
			}
			ids = append(ids, f.ID)
		}
		next = page.NextLink
	}
	return strings.Join(ids, ",")
}

// TestS7_FileDeletesAndList: deleting a message makes its files
// undownloadable and removes their bytes once no live message attaches
// them; a chat's files are listed, paged, from one's visible history on,
// never to a pending request's target (docs/rules.md §5, §7).
func TestS7_FileDeletesAndList(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		cfg := parleytest.Config(t, store)
		d := newDailyWith(t, cfg)
		onDisk := func(key string) bool {
			_, err := os.Stat(filepath.Join(cfg.Store.DataDir, "files", key[:2], key))
			return err == nil
		}
		one := d.alice.OneOnOne(d.bob.UserID)
		pic := pngImage(t, 64, 48)
		f1, m1 := attachedFile(t, d.alice, one, "pic.png", pic)
		f2, m2 := attachedFile(t, d.alice, one, "notes.txt", []byte("shared notes"))
		again := attach(d.alice, one, f2) // the same file in a second message
		if again.Status != 201 {
			t.Fatalf("attach again: %d %s", again.Status, again.Body)
		}
		m3 := again.Map(t)["id"].(string)
		draft := uploaded(t, d.alice, one, "draft.txt", []byte("never sent"))["id"].(string)

		t.Run("list: attached files, newest first, paged", func(t *testing.T) {
			want := f2 + "," + f1
			for _, top := range []int{0, 1} {
				if got := chatFiles(t, d.bob, one, top); got != want {
					t.Fatalf("$top=%d: got %s, want %s (not the unsent %s)", top, got, want, draft)
				}
			}
			if got := chatFiles(t, d.carol, one, 0); got != "notFound" {
				t.Fatalf("non-member: %s", got)
			}
			if r := d.bob.Do("GET", "/parley/v1/chats/"+one+"/files?$skiptoken=garbage", nil); r.Status != 400 || r.ErrorCode() != "badRequest" {
				t.Fatalf("bad skiptoken: %d %s", r.Status, r.Body)
			}
			if r := d.bob.Do("GET", "/parley/v1/chats/"+one+"/files?$top=0", nil); r.Status != 400 {
				t.Fatalf("$top=0: %d", r.Status)
			}
		})

		t.Run("deleting the last message that attaches a file deletes it", func(t *testing.T) {
			if !onDisk(f1) || !onDisk(f1+".thumb") {
				t.Fatal("bytes not on disk before the delete")
			}
			d.alice.Must(204, "DELETE", "/v1.0/chats/"+one+"/messages/"+m1, nil)
			for _, c := range []*parleytest.Client{d.alice, d.bob} {
				for _, p := range []string{"", "/thumbnail"} {
					if r := c.Do("GET", "/parley/v1/files/"+f1+p, nil); r.Status != 404 || r.ErrorCode() != "notFound" {
						t.Fatalf("download%s after delete: %d", p, r.Status)
					}
				}
			}
			if onDisk(f1) || onDisk(f1+".thumb") {
				t.Fatal("bytes left on disk")
			}
			if r := attach(d.alice, one, f1); r.Status != 400 {
				t.Fatalf("attach a deleted file: %d", r.Status)
			}
			// f2 is attached twice: deleting one message keeps it.
			d.alice.Must(204, "DELETE", "/v1.0/chats/"+one+"/messages/"+m2, nil)
			if got := d.bob.Must(200, "GET", "/parley/v1/files/"+f2, nil).Body; !bytes.Equal(got, []byte("shared notes")) || !onDisk(f2) {
				t.Fatal("a file still attached by a live message was deleted")
			}
			if got := chatFiles(t, d.bob, one, 0); got != f2 {
				t.Fatalf("list after deletes: %s", got)
			}
			d.alice.Must(204, "DELETE", "/v1.0/chats/"+one+"/messages/"+m3, nil)
			if r := d.bob.Do("GET", "/parley/v1/files/"+f2, nil); r.Status != 404 || onDisk(f2) {
				t.Fatalf("after its last message: %d, on disk %v", r.Status, onDisk(f2))
			}
			if got := chatFiles(t, d.bob, one, 0); got != "" {
				t.Fatalf("list after every delete: %s", got)
			}
			// A file never attached stays the uploader's.
			if !onDisk(draft) {
				t.Fatal("an unsent file was deleted")
			}
		})

		t.Run("two messages attaching a file deleted at once", func(t *testing.T) {
			f, ma := attachedFile(t, d.alice, one, "twice.txt", []byte("twice"))
			mb := attach(d.alice, one, f).Map(t)["id"].(string)
			var reqs []parleytest.Req
			for _, m := range []string{ma, mb} {
				reqs = append(reqs, parleytest.Req{Method: "DELETE", URL: d.s.URL() + "/v1.0/chats/" + one + "/messages/" + m, Token: d.alice.Token})
			}
			for i, r := range parleytest.Burst(t, reqs) {
				if r.Status != 204 {
					t.Fatalf("delete %d: %d %s", i, r.Status, r.Body)
				}
			}
			if r := d.bob.Do("GET", "/parley/v1/files/"+f, nil); r.Status != 404 || onDisk(f) {
				t.Fatalf("after both deletes: %d, on disk %v", r.Status, onDisk(f))
			}
		})

		t.Run("visible history", func(t *testing.T) {
			g := d.alice.Must(201, "POST", "/v1.0/chats", map[string]any{"chatType": "group", "topic": "Files",
				"members": []any{parleytest.Bind(d.alice.UserID, true), parleytest.Bind(d.bob.UserID, false)}}).Map(t)["id"].(string)
			old, _ := attachedFile(t, d.alice, g, "old.txt", []byte("before carol"))
			d.alice.Must(201, "POST", "/v1.0/chats/"+g+"/members", parleytest.Bind(d.carol.UserID, false))
			time.Sleep(2 * time.Millisecond)
			news, _ := attachedFile(t, d.alice, g, "new.txt", []byte("after carol"))
			if got := chatFiles(t, d.carol, g, 0); got != news {
				t.Fatalf("carol: %s, want only %s", got, news)
			}
			if got := chatFiles(t, d.bob, g, 0); got != news+","+old {
				t.Fatalf("bob: %s", got)
			}
		})

		t.Run("pending request, sharing setting", func(t *testing.T) {
			id := d.erin.ChatWith(parleytest.ByEmail("carol@contoso.com")).Map(t)["id"].(string)
			f, _ := attachedFile(t, d.erin, id, "offer.txt", []byte("offer"))
			if got := chatFiles(t, d.carol, id, 0); got != "notFound" {
				t.Fatalf("pending target lists: %s", got)
			}
			if got := chatFiles(t, d.erin, id, 0); got != f {
				t.Fatalf("sender lists: %s", got)
			}
			d.carol.Must(204, "POST", "/parley/v1/me/requests/"+id+"/accept", nil)
			if got := chatFiles(t, d.carol, id, 0); got != f {
				t.Fatalf("after accept: %s", got)
			}
			d.contoso.Admin.Must(200, "PATCH", "/parley/v1/admin/fileConfiguration", map[string]any{"allowExternalFileSharing": false})
			if got := chatFiles(t, d.carol, id, 0); got != string(errcode.ForbiddenByPolicy) {
				t.Fatalf("sharing off: %s", got)
			}
			if got := chatFiles(t, d.erin, id, 0); got != f {
				t.Fatalf("the other side's setting: %s", got)
			}
		})
	})
}

// TestS7_FileDeletesInObjectStore: with the files in an S3 bucket, the
// objects of a file (and its thumbnail) go when its last message is
// deleted. The S3 server is a real S3 protocol server on loopback.
func TestS7_FileDeletesInObjectStore(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		s3 := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
		defer s3.Close()
		cfg := parleytest.Config(t, store)
		cfg.Files.S3Endpoint, cfg.Files.S3Bucket, cfg.Files.S3AccessKey, cfg.Files.S3SecretKey, cfg.Files.S3Region = s3.URL, "parley", "key", "secret", "us-east-1"
		d := newDailyWith(t, cfg)
		bucket, err := objstore.Open(context.Background(), objstore.Config{Endpoint: s3.URL, Bucket: "parley", AccessKey: "key", SecretKey: "secret", Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		inBucket := func(key string) bool {
			rc, err := bucket.Open(context.Background(), key)
			if err == nil {
				rc.Close()
				return true
			}
			if !errcode.Is(err, errcode.NotFound) {
				t.Fatalf("open %s: %v", key, err)
			}
			return false
		}
		one := d.alice.OneOnOne(d.bob.UserID)
		f, m := attachedFile(t, d.alice, one, "p.png", pngImage(t, 40, 30))
		keep, _ := attachedFile(t, d.alice, one, "keep.txt", []byte("keep"))
		if !inBucket(f) || !inBucket(f+".thumb") {
			t.Fatal("objects missing before the delete")
		}
		d.alice.Must(204, "DELETE", "/v1.0/chats/"+one+"/messages/"+m, nil)
		if inBucket(f) || inBucket(f+".thumb") {
			t.Fatal("objects left in the bucket")
		}
		if r := d.bob.Do("GET", "/parley/v1/files/"+f, nil); r.Status != 404 {
			t.Fatalf("download: %d", r.Status)
		}
		if !inBucket(keep) {
			t.Fatal("another file's object was deleted")
		}
		d.bob.Must(200, "GET", "/parley/v1/files/"+keep, nil)
	})
}
