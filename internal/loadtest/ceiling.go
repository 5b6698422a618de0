package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// ceiling is the trivial handler Parley is measured against: it decodes a
// small JSON body and answers 201 with a small JSON object, on net/http in
// this process. Nothing a real server does (auth, storage, fan-out) is
// there, so its throughput is what the machine, the generator and HTTP/1.1
// allow.
type ceiling struct {
	srv *http.Server
	url string
	ids atomic.Int64
}

func startCeiling() (*ceiling, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the ceiling handler: %w", err)
	}
	c := &ceiling{url: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1.0/chats/{id}/messages", c.create)
	c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		_ = c.srv.Serve(ln) // ErrServerClosed after Close
	}()
	return c, nil
}

func (c *ceiling) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Body struct {
			ContentType string `json:"contentType"`
			Content     string `json:"content"`
		} `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body.Content == "" {
		http.Error(w, `{"error":{"code":"badRequest","message":"bad body"}}`, http.StatusBadRequest)
		return
	}
	out, err := json.Marshal(struct {
		ID              string `json:"id"`
		ChatID          string `json:"chatId"`
		CreatedDateTime string `json:"createdDateTime"`
	}{strconv.FormatInt(c.ids.Add(1), 10), r.PathValue("id"), time.Now().UTC().Format("2006-01-02T15:04:05.000Z")})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(out) // the generator reads it or has gone
}

func (c *ceiling) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
