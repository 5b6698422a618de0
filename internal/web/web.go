// Package web serves the embedded web client and admin center (docs/rules.md §11):
// the files Vite builds from web/ into internal/web/dist, with index.html
// for every client-side route. Only internal/server imports it.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed dist
var dist embed.FS

// Handler serves the built client; unknown paths that are not files get
// index.html, so client routes (/join/{token}, /admin) load the app.
func Handler() http.Handler {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		// Unreachable: "dist" is embedded at build time.
		return http.NotFoundHandler()
	}
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if p == "" {
			p = "index.html"
		}
		if _, err := fs.Stat(root, p); err != nil {
			r = r.Clone(r.Context())
			r.URL.Path = "/"
		}
		if strings.HasPrefix(p, "assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		// frame-src https: lets an app's tabs load: their URLs are https://
		// by manifest validation, and the client frames them sandboxed
		// without allow-same-origin (docs/web.md, "Apps").
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; frame-src https:; frame-ancestors 'none'")
		w.Header().Set("X-Frame-Options", "DENY")
		files.ServeHTTP(w, r)
	})
}
