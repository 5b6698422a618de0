package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/web"
)

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

var (
	scriptTag = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	assetRef  = regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`)
	extRef    = regexp.MustCompile(`(?i)(?:src|href)="(?:https?:)?//`)
)

// TestIndex: the built client (not a placeholder) is served at / with the
// CSP, without inline scripts or anything from another origin (the CSP
// would block both), and is never cached so a new build shows at once.
func TestIndex(t *testing.T) {
	h := web.Handler()
	res, body := get(t, h, "/")
	if res.StatusCode != 200 {
		t.Fatalf("GET /: got %d, want 200", res.StatusCode)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "connect-src 'self' ws: wss:", "frame-src https:", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if got := res.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("index Cache-Control: got %q, want no-cache", got)
	}
	if !strings.Contains(body, `<div id="app">`) || len(assetRef.FindAllString(body, -1)) < 2 {
		t.Fatalf("index.html is not the built client (run scripts/web-build):\n%s", body)
	}
	for _, m := range scriptTag.FindAllStringSubmatch(body, -1) {
		if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
			t.Errorf("inline script in index.html (the CSP forbids it): %s", m[0])
		}
	}
	if extRef.MatchString(body) {
		t.Errorf("index.html loads something from another origin: %s", body)
	}
}

// TestAssets: every file index.html names is served, with a content type
// and an immutable cache (the names carry content hashes); stylesheets pull
// nothing from other origins.
func TestAssets(t *testing.T) {
	h := web.Handler()
	_, index := get(t, h, "/")
	refs := assetRef.FindAllStringSubmatch(index, -1)
	if len(refs) == 0 {
		t.Fatal("index.html names no assets")
	}
	hashed := regexp.MustCompile(`^/assets/[A-Za-z0-9_.-]+-[A-Za-z0-9_-]{6,}\.(js|css)$`)
	for _, r := range refs {
		path := r[1]
		res, body := get(t, h, path)
		if res.StatusCode != 200 {
			t.Errorf("GET %s: got %d, want 200", path, res.StatusCode)
			continue
		}
		if !hashed.MatchString(path) {
			t.Errorf("asset %s has no content hash in its name", path)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s Cache-Control: got %q, want immutable", path, cc)
		}
		ct := res.Header.Get("Content-Type")
		switch {
		case strings.HasSuffix(path, ".js") && !strings.Contains(ct, "javascript"):
			t.Errorf("%s Content-Type: got %q", path, ct)
		case strings.HasSuffix(path, ".css"):
			if !strings.Contains(ct, "text/css") {
				t.Errorf("%s Content-Type: got %q", path, ct)
			}
			if regexp.MustCompile(`(?i)@import|url\(\s*["']?(?:https?:)?//`).MatchString(body) {
				t.Errorf("%s loads something from another origin", path)
			}
		}
	}
}

// TestClientRoutes: paths the client routes itself get index.html, so a
// link like /join/{token} from an invitation mail opens the app.
func TestClientRoutes(t *testing.T) {
	h := web.Handler()
	_, index := get(t, h, "/")
	for _, path := range []string{"/signin", "/join/abcDEF_123-x", "/chats/19%3Aabc%40thread.v2", "/requests/x", "/admin/explain", "/setup"} {
		res, body := get(t, h, path)
		if res.StatusCode != 200 || body != index {
			t.Errorf("GET %s: got %d and %d bytes, want index.html", path, res.StatusCode, len(body))
		}
		if res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no CSP", path)
		}
	}
}
