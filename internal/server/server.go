// Package server is Parley's composition root: it opens the store and the
// bus, builds the services, and starts and stops the HTTP server. Tests start
// exactly what production starts through New, Open, URL and Close. Only
// internal/cli and tests import it.
package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley/internal/auth"
	"github.com/parleychat/parley/internal/bot"
	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/config"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/httpapi"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/natsbus"
	"github.com/parleychat/parley/internal/objstore"
	"github.com/parleychat/parley/internal/presence"
	"github.com/parleychat/parley/internal/realtime"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/web"
)

// Server is a running Parley node.
type Server struct {
	Config config.Config
	Log    *slog.Logger
	// Out receives the lines a person starting the server reads (URL, setup).
	Out io.Writer
	// Now is the clock of every service (tests replace it).
	Now func() time.Time
	// Command is how the person who started the server runs the CLI, for
	// the commands it prints ("parley", "./parley", "go run ./cmd/parley").
	Command string

	// Services are the domain services, built by Open (NewServices).
	*Services
	API *httpapi.API

	// presence is this node's part of automatic presence.
	presence *presence.Tracker
	// demoAccounts are the sign-ins --demo seeded, shown on the sign-in page.
	demoAccounts []httpapi.DemoAccount
	http         *http.Server
	nats         *natsbus.Bus // nil: one node
	events       *realtime.Handler
	bots         *bot.Client // posts activities to bots
	stopWork     context.CancelFunc
	workDone     chan struct{}
	ln           net.Listener
	url          string
	closeMu      sync.Mutex
	closed       bool
	serveErr     chan error
	// draining is set when shutdown begins: /readyz answers 503 from then.
	draining    atomic.Bool
	metrics     *metrics // nil without --metrics-listen
	metricsHTTP *http.Server
	metricsURL  string
}

// New returns a server for cfg; Open starts it.
func New(cfg config.Config, log *slog.Logger, out io.Writer) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if out == nil {
		out = io.Discard
	}
	return &Server{Config: cfg, Log: log, Out: out, Now: func() time.Time { return time.Now().UTC() }}
}

// Open opens the store, builds the services and starts serving. A listen
// address with port 0 picks a free port; URL tells which.
func (s *Server) Open(ctx context.Context) (err error) {
	if err := s.Config.Validate(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	proxies, err := s.Config.HTTP.Proxies()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	var observe func(string, int, time.Duration)
	var onGroup func(int, time.Duration)
	if s.Config.Ops.MetricsListen != "" {
		s.metrics = newMetrics()
		onGroup, observe = s.metrics.observeGroup, s.metrics.observeRequest
	}
	db, err := openStore(ctx, s.Config, s.Log, onGroup)
	if err != nil {
		return err
	}
	// The token cache exists before the bus, which brings the other
	// nodes' forgets to it, and before the auth service that serves from it:
	// a send no longer reads the token and user rows; changes forget at once,
	// on every node (through NATS when there are several).
	w := Wiring{Config: s.Config, DB: db, Tokens: auth.NewTokenCache(10 * time.Second), Log: s.Log, Now: s.Now, PublicURL: s.PublicURL}
	if fc := s.Config.Files; fc.S3Endpoint != "" {
		bs, err := objstore.Open(ctx, objstore.Config{Endpoint: fc.S3Endpoint, Bucket: fc.S3Bucket, AccessKey: fc.S3AccessKey, SecretKey: fc.S3SecretKey, Region: fc.S3Region})
		if err != nil {
			return errors.Join(err, db.Close())
		}
		w.Blobs = bs
	}
	if s.Config.Store.NATSURL != "" {
		if err := s.openNATS(ctx, db, &w); err != nil {
			return errors.Join(err, db.Close())
		}
		defer func() {
			if err != nil {
				_ = s.nats.Close() // the start error is the one to report
			}
		}()
	}
	svc, err := NewServices(w)
	if err != nil {
		return errors.Join(err, db.Close())
	}
	s.Services = svc

	ln, err := net.Listen("tcp", s.Config.HTTP.Listen)
	if err != nil {
		_ = db.Close() // the listen error is the one to report
		return fmt.Errorf("listen on %s: %w", s.Config.HTTP.Listen, err)
	}
	scheme := "http"
	if s.Config.HTTP.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.Config.HTTP.TLSCert, s.Config.HTTP.TLSKey)
		if err != nil {
			_ = ln.Close() // the certificate error is the one to report
			_ = db.Close()
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}})
		scheme = "https"
	}
	s.ln = ln
	s.url = scheme + "://" + ln.Addr().String()
	if s.Config.Demo {
		if err := s.seedDemo(ctx); err != nil {
			_ = ln.Close() // the seed error is the one to report
			_ = db.Close()
			return err
		}
	}
	// Bot Framework (docs/rules.md §9): the signing keys, the same on every
	// node, and the client that posts activities to bots.
	keys, err := bot.LoadKeys(ctx, db, s.Now)
	if err != nil {
		_ = ln.Close() // the key error is the one to report
		_ = db.Close()
		return err
	}
	s.bots = &bot.Client{Keys: keys, Base: s.PublicURL, Queue: db, Bots: db, Log: s.Log, Now: s.Now, HTTP: botHTTPClient()}
	s.bots.Start()
	s.Apps.Notify = s.bots
	s.presence = presence.NewTracker(s.Presence, s.Log)
	s.events = &realtime.Handler{Auth: sessionAuth{s.Auth, s.Meetings}, Bus: s.Bus, Store: db, Log: s.Log, PingInterval: 30 * time.Second, Presence: s.presence,
		Token:      func(r *http.Request) string { return httpapi.BearerToken(r, true) },
		WriteError: httpapi.ErrorWriter(s.Log)}
	s.API = httpapi.New(httpapi.Deps{
		Log: s.Log, Auth: s.Auth, Identity: s.Identity, Chats: s.Chats, Teams: s.Teams, Setup: setupThenForget{s.Setup, func() { s.setupTokenFile("") }},
		Web: web.Handler(), Demo: s.demoAccounts,
		Audit:  s.Audit,
		Stats:  s.stats,
		Policy: s.Policy, Users: s.Users, Requests: s.Requests, Invites: s.Invites, Outbox: s.Outbox, PhoneRegion: s.Config.PhoneRegion,
		Meetings:      s.Meetings,
		OperatorToken: s.Config.OperatorToken, PublicURL: strings.TrimRight(s.Config.HTTP.PublicURL, "/"), MaxBodyBytes: s.Config.MaxBodyBytes, Now: s.Now,
		Events: s.events,
		Apps:   s.Apps, BotKeys: keys, BotBase: s.PublicURL,
		Search:   s.Search,
		Presence: s.Presence, Activity: s.presence.Active, Files: s.Files,
		Ready: s.ready, AccessLog: s.Config.Ops.AccessLog, Observe: observe, TrustedProxies: proxies,
	})
	if s.metrics != nil {
		s.registerNode(s.metrics)
		if err := s.serveMetrics(); err != nil {
			_ = ln.Close() // the listen error is the one to report
			_ = db.Close()
			return err
		}
	}
	s.http = &http.Server{Handler: s.API, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(s.Log.Handler(), slog.LevelDebug)}
	s.serveErr = make(chan error, 1)
	go func() { s.serveErr <- s.http.Serve(ln) }()
	s.startWork()

	fmt.Fprintf(s.Out, "Parley is listening on %s\n", s.url)
	if s.metricsURL != "" {
		fmt.Fprintf(s.Out, "Metrics for Prometheus: %s/metrics\n", s.metricsURL)
	}
	if s.Config.Demo {
		s.printDemo()
	}
	tok, err := s.Setup.Begin(ctx)
	if err != nil {
		return errors.Join(err, s.Close())
	}
	tokenFile := s.setupTokenFile(tok)
	if tok != "" {
		fmt.Fprintf(s.Out, "\nNo organisation exists yet. Create the first one and its admin with this one-time setup token:\n\n"+
			"  %s setup --url %s --token %s --org \"Contoso\" --domain contoso.com \\\n"+
			"      --admin-name \"Ada Admin\" --admin-email ada@contoso.com --admin-password 'choose-a-long-one'\n\n", cmp.Or(s.Command, "parley"), s.url, tok)
		if tokenFile != "" {
			fmt.Fprintf(s.Out, "The token is also in %s until setup is done.\n\n", tokenFile)
		}
	}
	return nil
}

// setupThenForget removes the setup token file once setup is done.
type setupThenForget struct {
	*identity.Setup
	done func()
}

func (f setupThenForget) Complete(ctx context.Context, token string, nt identity.NewTenant) (identity.Tenant, identity.User, error) {
	t, u, err := f.Setup.Complete(ctx, token, nt)
	if err == nil {
		f.done()
	}
	return t, u, err
}

// setupTokenFile keeps the one-time setup token in the data directory
// (SQLite), readable by its owner only, so that a script can read it
// (`cat data/setup-token`); with no token (setup is done) it removes the
// file. It returns the file's path when it wrote one. A failure is logged:
// the token is printed anyway.
func (s *Server) setupTokenFile(tok string) string {
	if s.Config.Store.Kind != "sqlite" || s.Config.Store.DataDir == "" {
		return ""
	}
	path := filepath.Join(s.Config.Store.DataDir, "setup-token")
	if tok == "" {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.Log.Warn("remove the used setup token file", "path", path, "err", err)
		}
		return ""
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		s.Log.Warn("write the setup token file", "path", path, "err", err)
		return ""
	}
	return path
}

// URL returns the base URL the server listens on.
func (s *Server) URL() string { return s.url }

// PublicURL is the base of links sent to people (invitations).
func (s *Server) PublicURL() string {
	if s.Config.HTTP.PublicURL != "" {
		return strings.TrimRight(s.Config.HTTP.PublicURL, "/")
	}
	return s.url
}

// Shutdown stops the node as SIGTERM does: /readyz turns 503 at once and
// the listener goes on serving for --drain-delay, so that load balancers
// notice and stop sending before connections are refused; then Close.
// Ending ctx cuts the delay short (a second Ctrl-C).
func (s *Server) Shutdown(ctx context.Context) error {
	s.Drain()
	if d := s.Config.Ops.DrainDelay; d > 0 {
		s.Log.Info("not ready; serving on while load balancers notice", "drain_delay", d)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	return s.Close()
}

// Close shuts the node down gracefully and is idempotent: /readyz turns
// 503 first, then the listener stops accepting and in-flight requests
// finish (at most --shutdown-timeout), WebSockets are closed with 1001, the
// background workers stop, and the store's writer commits what is queued
// before the store closes. A write acknowledged before Close is on disk.
func (s *Server) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.draining.Store(true)
	var errs []error
	if s.http != nil {
		timeout := s.Config.Ops.ShutdownTimeout
		if timeout <= 0 {
			timeout = 5 * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down http: %w", err))
			_ = s.http.Close() // force; the Shutdown error is reported
		}
		cancel()
		if err := <-s.serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	// net/http does not track hijacked connections: the events handler
	// closes its WebSockets (1001) before the store goes.
	if s.events != nil {
		if err := s.events.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close events: %w", err))
		}
	}
	if s.stopWork != nil {
		s.stopWork()
		<-s.workDone
	}
	if s.bots != nil {
		s.bots.Close()
	}
	// Scrapes read the store: the metrics listener goes before it.
	if s.metricsHTTP != nil {
		if err := s.metricsHTTP.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close metrics listener: %w", err))
		}
	}
	// After the last write's publish, before the store (a catch-up reads it).
	if s.nats != nil {
		if err := s.nats.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.Services != nil {
		if err := s.DB.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Drain turns /readyz to 503 without stopping anything, so a load balancer
// stops sending new work before Close (and tests can watch it).
func (s *Server) Drain() { s.draining.Store(true) }

// ready is /readyz: the node is not shutting down, its store answers and,
// with several nodes, it is connected to NATS. The reasons are general;
// the store's error goes to the log.
func (s *Server) ready(ctx context.Context) error {
	if s.draining.Load() {
		return errors.New("the server is shutting down")
	}
	if err := s.DB.Ping(ctx); err != nil {
		s.Log.Warn("readiness: the store does not answer", "err", err)
		return errors.New("the store does not answer")
	}
	if s.nats != nil && !s.nats.Stats().Connected {
		return errors.New("NATS is not connected")
	}
	return nil
}

// localBus is the bus of this node's own connections.
func (s *Server) localBus() *event.Local {
	if s.nats != nil {
		return s.nats.Local()
	}
	l, _ := s.Bus.(*event.Local)
	return l
}

// startWork starts the background workers; Close stops them before the store.
func (s *Server) startWork() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopWork, s.workDone = cancel, make(chan struct{})
	go func() {
		defer close(s.workDone)
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.presence.Run(ctx)
		}()
		swept := make(chan struct{})
		go func() {
			defer close(swept)
			s.Meetings.Run(ctx, 0)
		}()
		s.Outbox.Run(ctx)
		<-done
		<-swept
	}()
}

// stats are the node's counters for the operator.
func (s *Server) stats() map[string]any {
	st := s.DB.Stats()
	out := map[string]any{"store": map[string]any{"dialect": string(s.DB.Dialect()), "writes": st.Writes, "commits": st.Commits}}
	if l, ok := s.Bus.(*event.Local); ok {
		out["eventConnections"] = l.Connections()
	}
	if s.nats != nil {
		out["eventConnections"] = s.nats.Local().Connections()
		ns := s.nats.Stats()
		out["nats"] = map[string]any{"node": s.nats.NodeID(), "connected": ns.Connected, "reconnects": ns.Reconnects,
			"published": ns.Published, "received": ns.Received, "publishErrors": ns.PublishErrors, "cacheResets": ns.Reset,
			"current": ns.Current, "peers": ns.Peers, "untrustedChatLookups": s.DB.UntrustedChatLookups()}
	}
	return out
}

// openNATS connects to NATS for fan-out between nodes on one PostgreSQL
// database: events go to every node's connections, and each node's cache
// invalidations (the store's chat cache, w's token cache) to the other
// nodes'. It sets w's bus and token hooks. Config validation refused SQLite.
func (s *Server) openNATS(ctx context.Context, db *store.DB, w *Wiring) error {
	tokens := w.Tokens
	nb, err := natsbus.Connect(ctx, s.Config.Store.NATSURL, natsbus.Options{
		Name: "parley", Store: db, Log: s.Log,
		OnInvalidate: func(inv natsbus.Invalidation) {
			if inv.AllChats || len(inv.Chats) > 0 || len(inv.Touched) > 0 {
				si := store.Invalidation{All: inv.AllChats, Chats: make([]chat.ID, len(inv.Chats)), Touched: make([]store.ChatTouch, len(inv.Touched))}
				for i, c := range inv.Chats {
					si.Chats[i] = chat.ID(c)
				}
				for i, t := range inv.Touched {
					si.Touched[i] = store.ChatTouch{Chat: chat.ID(t.Chat), Micros: t.Micros}
				}
				db.ApplyInvalidation(si)
			}
			if inv.AllTokens {
				tokens.Apply(auth.Forget{All: true})
			}
			for _, t := range inv.Tokens {
				tokens.Apply(auth.Forget{TokenHash: t})
			}
			for _, u := range inv.Users {
				tokens.Apply(auth.Forget{User: identity.UserID(u)})
			}
		},
		OnReset: func() {
			db.ForgetCachedChats()
			tokens.Apply(auth.Forget{All: true})
		},
	})
	if err != nil {
		return err
	}
	s.nats, w.Bus = nb, nb
	// Caches are served only while this node can prove it has heard the
	// other nodes' invalidations within the staleness bound (1 s).
	db.TrustCachedChatsWhile(nb.Current)
	w.TokensTrusted = nb.Current
	// Announce after COMMIT (store) or after the change is stored (auth);
	// a failed publish is logged: the NATS client buffers while it
	// reconnects, and a reconnect empties the other nodes' caches anyway.
	db.OnInvalidate(func(inv store.Invalidation) {
		ni := natsbus.Invalidation{AllChats: inv.All, Chats: make([]string, len(inv.Chats)), Touched: make([]natsbus.Touch, len(inv.Touched))}
		for i, c := range inv.Chats {
			ni.Chats[i] = string(c)
		}
		for i, t := range inv.Touched {
			ni.Touched[i] = natsbus.Touch{Chat: string(t.Chat), Micros: t.Micros}
		}
		if err := nb.Invalidate(ni); err != nil {
			s.Log.Warn("announce chat cache invalidation", "err", err)
		}
	})
	w.ForgetTokens = func(f auth.Forget) {
		ni := natsbus.Invalidation{AllTokens: f.All}
		if f.TokenHash != nil {
			ni.Tokens = [][]byte{f.TokenHash}
		}
		if f.User != "" {
			ni.Users = []string{string(f.User)}
		}
		if err := nb.Invalidate(ni); err != nil {
			s.Log.Warn("announce token cache invalidation", "err", err)
		}
	}
	s.Log.Info("fan-out between nodes through NATS", "node", nb.NodeID())
	return nil
}

// botHTTPClient is the client activities go to bots with: no proxy from the
// environment (bots are reached directly), bounded connections per bot.
func botHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4, MaxConnsPerHost: 16, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: 30 * time.Second}}
}
