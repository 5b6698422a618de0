package server

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/parleychat/parley/internal/address"
	"github.com/parleychat/parley/internal/app"
	"github.com/parleychat/parley/internal/audit"
	"github.com/parleychat/parley/internal/auth"
	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/config"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/file"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/invite"
	"github.com/parleychat/parley/internal/mail"
	"github.com/parleychat/parley/internal/meeting"
	"github.com/parleychat/parley/internal/outbox"
	"github.com/parleychat/parley/internal/policy"
	"github.com/parleychat/parley/internal/presence"
	"github.com/parleychat/parley/internal/safety"
	"github.com/parleychat/parley/internal/search"
	"github.com/parleychat/parley/internal/sms"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/team"
)

// Services are Parley's domain services over one store. NewServices builds
// them, each fully and once, in dependency order; the server (Open) and the
// command line's operator commands use the same ones, so that what an
// operator command changes is checked and audited exactly as through the
// API.
type Services struct {
	DB       *store.DB
	Bus      event.Bus
	Auth     *auth.Service
	Audit    *audit.Service
	Identity *identity.Service
	Setup    *identity.Setup
	Policy   *policy.Service
	Users    *policy.UserService
	Safety   *safety.Service
	Outbox   *outbox.Service
	Invites  *invite.Service
	Chats    *chat.Service
	Teams    *team.Service
	Requests *chat.Requests
	Apps     *app.Service
	Meetings *meeting.Service
	Search   *search.Service
	Presence *presence.Service
	Files    *file.Service
}

// Wiring is what the services are built over. Only Config and DB are
// required.
type Wiring struct {
	Config config.Config
	DB     *store.DB
	// Bus carries events to connections (nil: the in-process bus).
	Bus event.Bus
	// Tokens caches authenticated tokens (nil: none). With several nodes
	// the bus brings the other nodes' forgets to it, so it is built first.
	Tokens *auth.TokenCache
	// TokensTrusted and ForgetTokens tie the token cache to the other nodes
	// (nil with one node): see auth.Service.CacheTrusted and OnForget.
	TokensTrusted func() bool
	ForgetTokens  func(auth.Forget)
	Log           *slog.Logger     // nil: discard
	Now           func() time.Time // nil: the UTC wall clock
	PublicURL     func() string    // nil: the configured public URL
	// Blobs keeps uploaded files (nil: files/ in the data directory).
	Blobs file.Blobs
}

// OpenStore opens the store cfg names and applies its migrations.
func OpenStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.DB, error) {
	return openStore(ctx, cfg, log, nil)
}

// openStore is OpenStore telling onGroup (when set) of every group commit.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger, onGroup func(int, time.Duration)) (*store.DB, error) {
	return store.Open(ctx, store.Config{Dialect: store.Dialect(cfg.Store.Kind), Path: cfg.SQLitePath(), PostgresURL: cfg.Store.PostgresURL, Logger: log, OnGroup: onGroup})
}

// NewServices builds every domain service over w, in dependency order:
// nothing is set on a service after it is built, and nothing reaches a
// service that does not exist yet. Policy changes reach chat (chats turn
// read-only or writable) and auth (a changed account's cached tokens) as a
// policy.Changes event both subscribe to here. No worker is started: the
// server runs the outbox's.
func NewServices(w Wiring) (*Services, error) {
	cfg, db := w.Config, w.DB
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
	if w.Now == nil {
		w.Now = func() time.Time { return time.Now().UTC() }
	}
	if w.Bus == nil {
		w.Bus = event.NewLocal()
	}
	if w.PublicURL == nil {
		u := strings.TrimRight(cfg.HTTP.PublicURL, "/")
		w.PublicURL = func() string { return u }
	}
	now, log := w.Now, w.Log
	if w.Blobs == nil {
		w.Blobs = file.Dir{Path: filepath.Join(cfg.Store.DataDir, "files")}
	}
	region := cfg.PhoneRegion

	au := &auth.Service{Store: db, Now: now, TokenTTL: cfg.TokenTTL, Throttle: auth.NewThrottle(db),
		Cache: w.Tokens, CacheTrusted: w.TokensTrusted, OnForget: w.ForgetTokens}
	audits := &audit.Service{Store: db, Now: now, Log: log}
	ids := &identity.Service{Store: db, Hash: auth.HashPassword, Now: now, Audit: audits.Record,
		NormalizePhone: func(p string) (string, error) { return normalizePhone(p, region) }}
	changes := &policy.Changes{}
	pol := &policy.Service{Store: db, Now: now, Audit: audits.Record, Changes: changes}
	users := &policy.UserService{Store: db, Users: ids, Now: now, Audit: audits.Record, Changes: changes}
	sl := cfg.Safety
	spam := &safety.Service{Store: db, Now: now, Limits: safety.Limits{RequestsPerHour: int(sl.RequestsPerHour), InvitationsPerDay: int(sl.InvitationsPerDay),
		NewSenderAge: sl.NewSenderAge, RepeatRecipients: int(sl.RepeatRecipients), RepeatWindow: sl.RepeatWindow, ReportThreshold: int(sl.ReportThreshold)}}
	ob, err := newOutbox(db, cfg, log, now)
	if err != nil {
		return nil, err
	}
	invites := &invite.Service{Store: db, Limits: db, Outbox: ob, Hash: auth.HashPassword, Now: now, PublicURL: w.PublicURL,
		PhoneRegion: region, Audit: audits.Record, PasswordChanged: au.ForgetAll}
	chats := chat.NewService(chat.Deps{Store: db, Bus: w.Bus, Encoder: graph.Encoder{}, Policy: pol, Inviter: invites, Safety: spam,
		Audit: audits.Record, Now: now, PhoneRegion: region})
	requests := &chat.Requests{Store: db, Bus: w.Bus, Encoder: graph.Encoder{}, Now: now, Audit: audits.Record}
	teams := &team.Service{Store: db, Bus: w.Bus, Encoder: graph.Encoder{}, Bodies: chats, Sees: ids.Sees, Audit: audits.Record, Now: now}

	// A changed account forgets its cached tokens first, then its chats
	// are re-decided (held requests delivered once a refusal is lifted).
	changes.Subscribe(func(_ context.Context, c policy.Change) {
		if c.User != "" {
			au.ForgetUser(c.User)
		}
	})
	changes.Subscribe(func(ctx context.Context, c policy.Change) {
		if err := chats.Reevaluate(ctx, c.Tenant, c.User); err != nil {
			log.Error("reevaluate chats after a policy change", "tenant", c.Tenant, "user", c.User, "err", err)
		}
	})

	apps := &app.Service{Store: db, Bus: w.Bus, Chats: chats, Teams: teams, Audit: audits.Record, Now: now,
		AnonymousCanInteract: func(ctx context.Context, t identity.TenantID) (bool, error) {
			c, err := db.FindMeetingConfig(ctx, t)
			return c.AnonymousApps, err
		}}
	// Every way a person posts reaches the bots of the chat or team in one
	// place (docs/rules.md §9): the chat and team services call these
	// after a message, a member change or a reaction is stored.
	chats.Sent = apps.Delivered
	chats.Reacted = apps.Reacted
	chats.Via = apps.ChatVia
	teams.Via = apps.TeamVia
	teams.Hooks = team.Hooks{Sent: apps.ChannelSent, Members: apps.TeamMembersChanged, Reacted: apps.ChannelReacted, Channel: apps.TeamChannelChanged}

	meetings := &meeting.Service{Store: db, Chats: chats, Limits: meeting.DefaultLimits(), Forget: au.ForgetUser, Audit: audits.Record,
		LinkBase: w.PublicURL, Now: now, Log: log, Issue: func(ctx context.Context, u identity.UserID, until time.Time) (string, time.Duration, error) {
			t, err := au.IssueTokenUntil(ctx, u, until)
			return t.AccessToken, t.ExpiresIn, err
		}}

	files := &file.Service{Store: db, Blobs: w.Blobs, Now: now, MaxBytes: cfg.FileMaxBytes, Audit: audits.Record}
	chats.ReleaseFiles = func(ctx context.Context, chatID chat.ID, ids []string) {
		if err := files.Release(ctx, chatID, ids); err != nil {
			log.Error("release the files of a deleted message", "chat", chatID, "err", err)
		}
	}

	return &Services{DB: db, Bus: w.Bus, Auth: au, Audit: audits, Identity: ids, Setup: &identity.Setup{Store: db, Identity: ids},
		Policy: pol, Users: users, Safety: spam, Outbox: ob, Invites: invites, Chats: chats, Teams: teams, Requests: requests, Apps: apps, Meetings: meetings,
		Search:   &search.Service{Store: db, Directory: db, Preview: chats.Preview},
		Presence: &presence.Service{Store: db, Users: ids, Bus: w.Bus, Encoder: graph.Encoder{}, Now: now, Idle: cfg.PresenceIdle, Tick: min(cfg.PresenceIdle/4, 10*time.Second)},
		Files:    files}, nil
}

// newOutbox builds the outbox with the configured senders; unconfigured
// channels are logged instead.
func newOutbox(db *store.DB, cfg config.Config, log *slog.Logger, now func() time.Time) (*outbox.Service, error) {
	// An SMTP outage of a night still delivers: 20 attempts with
	// exponential backoff span about 11 hours.
	ob := &outbox.Service{Store: db, Log: log, Now: now, MaxAttempts: 20}
	if cfg.Mail.URL != "" {
		m, err := mail.New(mail.Config{URL: cfg.Mail.URL, From: cfg.Mail.From})
		if err != nil {
			return nil, fmt.Errorf("smtp: %w", err)
		}
		ob.Mail = m
	}
	if cfg.SMS.URL != "" {
		c, err := sms.New(sms.Config{URL: cfg.SMS.URL, Account: cfg.SMS.Account, Token: cfg.SMS.Token, From: cfg.SMS.From}, nil)
		if err != nil {
			return nil, fmt.Errorf("sms: %w", err)
		}
		ob.SMS = c
	}
	return ob, nil
}

func normalizePhone(p, region string) (string, error) {
	a, err := address.ParsePhone(p, region)
	if err != nil {
		return "", err
	}
	return a.Value, nil
}

// sessionAuth authenticates the events WebSocket: an anonymous meeting
// session is refused once it ended (docs/rules.md §8); its events are those of
// its one meeting chat, the only chat it is in.
type sessionAuth struct {
	auth     *auth.Service
	meetings *meeting.Service
}

func (a sessionAuth) Authenticate(ctx context.Context, token string) (identity.User, error) {
	u, err := a.auth.Authenticate(ctx, token)
	if err != nil || u.Kind != identity.Anonymous {
		return u, err
	}
	if _, err := a.meetings.ScopeOf(ctx, &u); err != nil {
		return identity.User{}, err
	}
	return u, nil
}
