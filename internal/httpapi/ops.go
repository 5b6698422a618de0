package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/parleychat/parley/internal/errcode"
)

// routesOps adds the readiness check beside /healthz: /healthz says the
// process is up, /readyz whether it should get traffic.
func (a *API) routesOps() {
	a.handle("GET /readyz", a.ready)
}

// readyTimeout bounds a readiness check: a store that answers slower than
// this is not ready.
const readyTimeout = 2 * time.Second

func (a *API) ready(w http.ResponseWriter, r *http.Request) error {
	if a.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := a.Ready(ctx); err != nil {
			return errcode.New(errcode.ServiceNotAvailable, "Not ready: %v.", err)
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Cache-Control", "no-store")
	_, err := w.Write([]byte("ready\n"))
	return err
}
