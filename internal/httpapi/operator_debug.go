package httpapi

import (
	"net/http"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/parleychat/parley/internal/errcode"
)

// routesOperatorDebug registers the operator's view of a running node:
// counters and Go profiles (issue 6: find where the time goes on a real
// deployment). Both need the operator token.
func (a *API) routesOperatorDebug() {
	a.handle("GET /parley/v1/operator/stats", a.operator(a.stats))
	a.handle("GET /parley/v1/operator/debug/pprof/{name}", a.operator(a.pprofProfile))
}

func (a *API) stats(w http.ResponseWriter, r *http.Request) error {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	out := map[string]any{
		"goroutines": runtime.NumGoroutine(),
		"memory": map[string]any{"heapAllocBytes": ms.HeapAlloc, "heapInuseBytes": ms.HeapInuse, "sysBytes": ms.Sys,
			"stackInuseBytes": ms.StackInuse, "numGC": ms.NumGC, "pauseTotalNs": ms.PauseTotalNs},
	}
	if a.Stats != nil {
		for k, v := range a.Stats() {
			out[k] = v
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pprofProfile serves runtime/pprof profiles: profile (CPU, ?seconds=N up
// to 60) and the named ones (heap, allocs, goroutine, mutex, block, …).
func (a *API) pprofProfile(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if name == "profile" {
		secs := 10
		if v := r.URL.Query().Get("seconds"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 60 {
				return errcode.New(errcode.BadRequest, "seconds must be between 1 and 60.")
			}
			secs = n
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if err := pprof.StartCPUProfile(w); err != nil {
			return errcode.New(errcode.Conflict, "A CPU profile is already running.")
		}
		select {
		case <-time.After(time.Duration(secs) * time.Second):
		case <-r.Context().Done():
		}
		pprof.StopCPUProfile()
		return nil
	}
	p := pprof.Lookup(name)
	if p == nil {
		return errcode.New(errcode.NotFound, "No profile named %q.", name)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	return p.WriteTo(w, 0)
}
