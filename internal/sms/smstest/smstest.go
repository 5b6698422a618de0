// Package smstest runs a fake SMS provider in the test process that speaks
// Twilio's Messages API and records what it is asked to send, so tests can
// read the text messages Parley sends (docs/rules.md §6 invitations and sign-up
// codes). It is the SMS edge of the world in docs/decisions.md "Tests".
//
// Only tests may import it:
//
//	srv := smstest.NewServer(t)
//	cfg := sms.Config{URL: srv.URL(), Account: smstest.Account, Token: smstest.Token, From: "+15005550006"}
//	… // make Parley send an invitation
//	msg := srv.WaitFor(t, 1, 5*time.Second)[0]
//
// Like Twilio it checks basic auth and the path, answers 201 with a message
// sid, and answers errors with Twilio's JSON error shape. SetDown(true) makes
// it answer 503 to simulate an outage; RejectTo makes it refuse a number.
package smstest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The credentials the fake provider accepts.
const (
	Account = "AC00000000000000000000000000000001"
	Token   = "smstest-token"
)

// Received is one message the provider accepted.
type Received struct {
	To   string
	From string
	Body string
}

// Server is a fake SMS provider on 127.0.0.1. Its methods are safe for
// concurrent use.
type Server struct {
	srv *httptest.Server

	mu      sync.Mutex
	msgs    []Received
	changed chan struct{} // closed and replaced on every new message
	down    bool
	rejects map[string]bool
}

// NewServer starts a fake provider and stops it when the test ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{changed: make(chan struct{}), rejects: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{account}/Messages.json", s.createMessage)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	})
	s.srv = httptest.NewServer(mux)
	tb.Cleanup(s.srv.Close)
	return s
}

// URL returns the base URL for sms.Config, "http://127.0.0.1:port".
func (s *Server) URL() string { return s.srv.URL }

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// WaitFor waits until at least n messages have been accepted and returns all
// accepted so far (oldest first). It fails the test if they do not arrive
// within timeout.
func (s *Server) WaitFor(tb testing.TB, n int, timeout time.Duration) []Received {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		msgs, changed := append([]Received(nil), s.msgs...), s.changed
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs
		}
		select {
		case <-changed:
		case <-deadline.C:
			tb.Fatalf("smstest: got %d messages within %v, want %d", len(msgs), timeout, n)
			return nil
		}
	}
}

// SetDown makes the provider answer every request with 503 Service
// Unavailable (down=true), or work again (down=false).
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// RejectTo makes the provider refuse messages to the number to with 400 and
// Twilio's error 21211 (invalid 'To' number), which is permanent.
func (s *Server) RejectTo(to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects[to] = true
}

// Close stops the server. It is called when the test ends; calling it earlier
// is allowed.
func (s *Server) Close() { s.srv.Close() }

func (s *Server) createMessage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		writeError(w, http.StatusServiceUnavailable, 0, "Service Unavailable")
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != Account || pass != Token {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if r.PathValue("account") != Account {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		writeError(w, http.StatusBadRequest, 0, "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 0, "Invalid form: "+err.Error())
		return
	}
	msg := Received{To: r.PostForm.Get("To"), From: r.PostForm.Get("From"), Body: r.PostForm.Get("Body")}
	switch {
	case msg.To == "":
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case msg.From == "":
		writeError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case strings.TrimSpace(msg.Body) == "":
		writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	}

	s.mu.Lock()
	if s.rejects[msg.To] {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: "+msg.To)
		return
	}
	s.msgs = append(s.msgs, msg)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()

	writeJSON(w, http.StatusCreated, map[string]any{
		"sid":          newSID(),
		"account_sid":  Account,
		"to":           msg.To,
		"from":         msg.From,
		"body":         msg.Body,
		"status":       "queued",
		"direction":    "outbound-api",
		"num_segments": "1",
		"date_created": time.Now().UTC().Format(time.RFC1123Z),
	})
}

// writeError answers with Twilio's error shape; code 0 leaves the code out.
func writeError(w http.ResponseWriter, status, code int, message string) {
	body := map[string]any{"message": message, "status": status}
	if code != 0 {
		body["code"] = code
		body["more_info"] = "https://www.twilio.com/docs/errors/" + strconv.Itoa(code)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The client may have gone away; there is no one left to tell.
	_ = json.NewEncoder(w).Encode(v)
}

// newSID returns a Twilio-style message sid: "SM" and 32 hex digits.
func newSID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails.
	return "SM" + hex.EncodeToString(b)
}
