// Package config holds Parley's configuration: one Config struct of typed
// sections, its defaults (API.md "Running"), loading from PARLEY_* environment
// variables and command-line flags, validation, and a redacted dump.
// Only internal/cli builds a Config; everything else receives values from it.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of a Parley server.
type Config struct {
	HTTP  HTTP
	Store Store
	Mail  Mail
	SMS   SMS
	// PhoneRegion is the region for phone numbers typed without a country code.
	PhoneRegion string
	// OperatorToken enables the operator API when set.
	OperatorToken string
	// Demo seeds sample organisations, users and chats on an empty store.
	Demo bool
	// TokenTTL is how long a sign-in token stays valid.
	TokenTTL time.Duration
	// MaxBodyBytes caps request bodies (413 above it).
	MaxBodyBytes int64
	Safety       Safety
	// PresenceIdle is how long without activity turns a connected person
	// from available to away (docs/rules.md §7 presence).
	PresenceIdle time.Duration
	// FileMaxBytes caps one uploaded file.
	FileMaxBytes int64
	// Files says where uploaded files are kept (the data directory unless
	// an S3-compatible object store is named).
	Files Files
	Ops   Ops
}

// Ops configures what an operator watches: metrics, logs, shutdown.
type Ops struct {
	// MetricsListen is the address of the Prometheus /metrics listener
	// ("": no metrics); it is kept off the public listener.
	MetricsListen string
	// LogFormat is text or json.
	LogFormat string
	// AccessLog writes one line per request.
	AccessLog bool
	// DrainDelay is how long a stopping node keeps serving after /readyz
	// turned 503, so that load balancers stop sending before it closes.
	DrainDelay time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests at shutdown.
	ShutdownTimeout time.Duration
}

// Files names an S3-compatible bucket for uploaded files.
type Files struct {
	S3Endpoint, S3Bucket, S3AccessKey, S3SecretKey, S3Region string
}

// Safety holds the spam and rate limits of docs/rules.md §10 (see README "External access").
type Safety struct {
	// RequestsPerHour caps the new people outside their organisation one
	// sender may contact per hour (invitations included).
	RequestsPerHour int64
	// InvitationsPerDay caps the same per day.
	InvitationsPerDay int64
	// NewSenderAge: requests from personal accounts younger than this go to
	// the target's filtered list (0 turns the check off).
	NewSenderAge time.Duration
	// RepeatRecipients: the same text sent as a request to this many
	// people within RepeatWindow files those requests as filtered (0: off).
	RepeatRecipients int64
	RepeatWindow     time.Duration
	// ReportThreshold: spam reports from this many distinct people suspend
	// the sender's new requests (0: off).
	ReportThreshold int64
}

// HTTP configures the listener.
type HTTP struct {
	Listen    string
	PublicURL string
	TLSCert   string
	TLSKey    string
	// TrustedProxies lists, comma-separated, the CIDRs (or single
	// addresses) of the reverse proxies whose X-Forwarded-For, Forwarded and
	// X-Forwarded-Proto are believed; empty: those headers are ignored.
	TrustedProxies string
}

// Proxies parses TrustedProxies: CIDRs such as 10.0.0.0/8 or ::1/128, or
// single addresses (a /32 or /128). An error names the flag and the entry.
func (h HTTP) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(h.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("--trusted-proxies: %q is neither a CIDR (like 10.0.0.0/8) nor an IP address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		// An IPv4 CIDR written as IPv6 (::ffff:10.0.0.0/104) matches the
		// IPv4 addresses it means, as clients' addresses are unmapped.
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Store selects and configures persistence.
type Store struct {
	Kind        string // sqlite or postgres
	DataDir     string
	PostgresURL string
	NATSURL     string
}

// Mail configures outgoing e-mail.
type Mail struct {
	URL  string
	From string
}

// SMS configures the Twilio-shaped SMS provider.
type SMS struct {
	URL, Account, Token, From string
}

// Default returns the zero-setup configuration of API.md "Running".
func Default() Config {
	return Config{
		HTTP:         HTTP{Listen: "127.0.0.1:8080"},
		Store:        Store{Kind: "sqlite", DataDir: "./data"},
		Mail:         Mail{From: "Parley <parley@localhost>"},
		PhoneRegion:  "US",
		TokenTTL:     24 * time.Hour,
		MaxBodyBytes: 1 << 20,
		PresenceIdle: 5 * time.Minute,
		FileMaxBytes: 25 << 20,
		Safety: Safety{RequestsPerHour: 30, InvitationsPerDay: 100, NewSenderAge: 24 * time.Hour,
			RepeatRecipients: 5, RepeatWindow: time.Hour, ReportThreshold: 3},
		Ops: Ops{LogFormat: "text", AccessLog: true, DrainDelay: 5 * time.Second, ShutdownTimeout: 30 * time.Second},
	}
}

// option binds one flag name (and its PARLEY_* variable) to a field.
type option struct {
	name, usage string
	secret      bool
	ptr         any
}

func (c *Config) options() []option {
	return []option{
		{"data", "data directory (SQLite database, keys)", false, &c.Store.DataDir},
		{"listen", "address to listen on", false, &c.HTTP.Listen},
		{"public-url", "public base URL used in links (default: derived from --listen)", false, &c.HTTP.PublicURL},
		{"tls-cert", "TLS certificate file (PEM); serve HTTPS with --tls-key", false, &c.HTTP.TLSCert},
		{"tls-key", "TLS private key file (PEM)", false, &c.HTTP.TLSKey},
		{"trusted-proxies", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For, Forwarded and X-Forwarded-Proto are believed (empty: the headers are ignored)", false, &c.HTTP.TrustedProxies},
		{"store", "storage backend: sqlite or postgres", false, &c.Store.Kind},
		{"postgres-url", "PostgreSQL URL for --store postgres", true, &c.Store.PostgresURL},
		{"nats-url", "NATS URL for fan-out between nodes (empty: single node)", false, &c.Store.NATSURL},
		{"smtp-url", "SMTP server: smtp://user:pass@host:port or smtps://… (empty: mail is logged and kept in the outbox)", true, &c.Mail.URL},
		{"smtp-from", "From address of outgoing mail", false, &c.Mail.From},
		{"sms-url", "base URL of a Twilio-shaped SMS API (empty: SMS is logged and kept in the outbox)", false, &c.SMS.URL},
		{"sms-account", "SMS API account SID", false, &c.SMS.Account},
		{"sms-token", "SMS API auth token", true, &c.SMS.Token},
		{"sms-from", "sender number of outgoing SMS", false, &c.SMS.From},
		{"phone-region", "region for phone numbers typed without a country code", false, &c.PhoneRegion},
		{"operator-token", "bearer token that enables the operator API", true, &c.OperatorToken},
		{"demo", "seed two organisations, a personal account and sample chats on an empty store", false, &c.Demo},
		{"token-ttl", "lifetime of sign-in tokens", false, &c.TokenTTL},
		{"max-body-bytes", "largest accepted request body", false, &c.MaxBodyBytes},
		{"requests-per-hour", "new people outside the organisation one sender may contact per hour (0: no limit)", false, &c.Safety.RequestsPerHour},
		{"invitations-per-day", "new people outside the organisation one sender may contact per day (0: no limit)", false, &c.Safety.InvitationsPerDay},
		{"spam-new-sender-age", "requests from personal accounts younger than this are filtered (0: off)", false, &c.Safety.NewSenderAge},
		{"spam-repeat-recipients", "the same text sent as a request to this many people within --spam-repeat-window is filtered (0: off)", false, &c.Safety.RepeatRecipients},
		{"spam-repeat-window", "window of --spam-repeat-recipients", false, &c.Safety.RepeatWindow},
		{"spam-report-threshold", "spam reports from this many people suspend a sender's new requests (0: off)", false, &c.Safety.ReportThreshold},
		{"presence-idle", "time without activity after which a connected person shows as away", false, &c.PresenceIdle},
		{"metrics-listen", "address of a separate listener serving Prometheus /metrics (empty: none), e.g. 127.0.0.1:9090", false, &c.Ops.MetricsListen},
		{"log-format", "log format: text or json", false, &c.Ops.LogFormat},
		{"access-log", "log one line per request (request id, route, status, duration, bytes)", false, &c.Ops.AccessLog},
		{"drain-delay", "at shutdown, how long to keep serving after /readyz turned 503, so load balancers stop sending first (0: none)", false, &c.Ops.DrainDelay},
		{"shutdown-timeout", "at shutdown, how long in-flight requests may take to finish", false, &c.Ops.ShutdownTimeout},
		{"files-max-bytes", "largest file a person may upload to a chat", false, &c.FileMaxBytes},
		{"files-s3-endpoint", "S3-compatible object store for uploaded files, host:port or URL (http:// for no TLS); empty: the data directory", false, &c.Files.S3Endpoint},
		{"files-s3-bucket", "bucket of --files-s3-endpoint (created if missing)", false, &c.Files.S3Bucket},
		{"files-s3-access-key", "access key of --files-s3-endpoint", true, &c.Files.S3AccessKey},
		{"files-s3-secret-key", "secret key of --files-s3-endpoint", true, &c.Files.S3SecretKey},
		{"files-s3-region", "region of --files-s3-endpoint", false, &c.Files.S3Region},
	}
}

// EnvName returns the environment variable of a flag: --smtp-url → PARLEY_SMTP_URL.
func EnvName(flagName string) string {
	return "PARLEY_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// StoreOptions are the options of commands that work on the store directly.
var StoreOptions = []string{"data", "store", "postgres-url", "phone-region"}

// Register defines options on fs (all of them, or those named), with
// defaults taken from c after the environment has been applied, so that
// flags override the environment.
func (c *Config) Register(fs *flag.FlagSet, env func(string) string, only ...string) error {
	var errs []error
	for _, o := range c.options() {
		if len(only) > 0 && !slices.Contains(only, o.name) {
			continue
		}
		if v := env(EnvName(o.name)); v != "" {
			if err := set(o.ptr, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", EnvName(o.name), err))
			}
		}
		usage := fmt.Sprintf("%s (env %s)", o.usage, EnvName(o.name))
		switch p := o.ptr.(type) {
		case *string:
			fs.StringVar(p, o.name, *p, usage)
		case *bool:
			fs.BoolVar(p, o.name, *p, usage)
		case *time.Duration:
			fs.DurationVar(p, o.name, *p, usage)
		case *int64:
			fs.Int64Var(p, o.name, *p, usage)
		}
	}
	return errors.Join(errs...)
}

func set(ptr any, v string) error {
	switch p := ptr.(type) {
	case *string:
		*p = v
	case *bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		*p = b
	case *time.Duration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("want a duration like 24h, got %q", v)
		}
		*p = d
	case *int64:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("want an integer, got %q", v)
		}
		*p = n
	default:
		return fmt.Errorf("unsupported option type %s", reflect.TypeOf(ptr))
	}
	return nil
}

// Validate reports every problem of the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		errs = append(errs, fmt.Errorf("--listen %q: want host:port", c.HTTP.Listen))
	}
	if (c.HTTP.TLSCert == "") != (c.HTTP.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if c.HTTP.PublicURL != "" {
		if u, err := url.Parse(c.HTTP.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--public-url %q: want http(s)://host[:port]", c.HTTP.PublicURL))
		}
	}
	if _, err := c.HTTP.Proxies(); err != nil {
		errs = append(errs, err)
	}
	switch c.Store.Kind {
	case "sqlite":
		if c.Store.DataDir == "" {
			errs = append(errs, errors.New("--data must not be empty"))
		}
	case "postgres":
		if c.Store.PostgresURL == "" {
			errs = append(errs, errors.New("--store postgres needs --postgres-url"))
		}
	default:
		errs = append(errs, fmt.Errorf("--store %q: want sqlite or postgres", c.Store.Kind))
	}
	if c.Store.NATSURL != "" && c.Store.Kind == "sqlite" {
		// The SQLite writer counts ids and seqs in memory, and its file
		// belongs to one process: several nodes need PostgreSQL.
		errs = append(errs, errors.New("--nats-url needs --store postgres: with SQLite, Parley runs as one node per data directory"))
	}
	for _, u := range []struct{ name, v string }{{"--smtp-url", c.Mail.URL}, {"--sms-url", c.SMS.URL}, {"--nats-url", c.Store.NATSURL}} {
		if u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s: not a URL with a host", u.name))
		}
	}
	if c.SMS.URL != "" && (c.SMS.Account == "" || c.SMS.Token == "" || c.SMS.From == "") {
		errs = append(errs, errors.New("--sms-url needs --sms-account, --sms-token and --sms-from"))
	}
	if c.PhoneRegion == "" || len(c.PhoneRegion) != 2 {
		errs = append(errs, fmt.Errorf("--phone-region %q: want a two-letter region such as US", c.PhoneRegion))
	}
	if c.TokenTTL < time.Minute {
		errs = append(errs, errors.New("--token-ttl must be at least 1m"))
	}
	for _, l := range []struct {
		flag     string
		negative bool
	}{
		{"--requests-per-hour", c.Safety.RequestsPerHour < 0}, {"--invitations-per-day", c.Safety.InvitationsPerDay < 0},
		{"--spam-new-sender-age", c.Safety.NewSenderAge < 0}, {"--spam-repeat-recipients", c.Safety.RepeatRecipients < 0},
		{"--spam-report-threshold", c.Safety.ReportThreshold < 0},
	} {
		if l.negative {
			errs = append(errs, fmt.Errorf("%s must not be negative (0 turns it off)", l.flag))
		}
	}
	if c.Safety.RepeatWindow <= 0 {
		errs = append(errs, errors.New("--spam-repeat-window must be positive"))
	}
	if c.Files.S3Endpoint != "" && c.Files.S3Bucket == "" {
		errs = append(errs, errors.New("--files-s3-endpoint needs --files-s3-bucket"))
	}
	if c.FileMaxBytes < 1 {
		errs = append(errs, errors.New("--files-max-bytes must be positive"))
	}
	if c.PresenceIdle < 100*time.Millisecond {
		errs = append(errs, errors.New("--presence-idle must be at least 100ms"))
	}
	if c.Ops.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.Ops.MetricsListen); err != nil {
			errs = append(errs, fmt.Errorf("--metrics-listen %q: want host:port", c.Ops.MetricsListen))
		}
	}
	if c.Ops.LogFormat != "text" && c.Ops.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.Ops.LogFormat))
	}
	if c.Ops.DrainDelay < 0 {
		errs = append(errs, errors.New("--drain-delay must not be negative (0: no delay)"))
	}
	if c.Ops.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("--shutdown-timeout must be positive"))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, errors.New("--max-body-bytes must be at least 1024"))
	}
	return errors.Join(errs...)
}

// SQLitePath is the database file inside the data directory.
func (c *Config) SQLitePath() string { return filepath.Join(c.Store.DataDir, "parley.db") }

// Dump writes the effective configuration with secrets masked.
func (c *Config) Dump(w interface{ Write([]byte) (int, error) }) error {
	for _, o := range c.options() {
		v := fmt.Sprint(reflect.ValueOf(o.ptr).Elem().Interface())
		if o.secret && v != "" {
			v = redact(v)
		}
		if _, err := fmt.Fprintf(w, "%s=%s\n", o.name, v); err != nil {
			return fmt.Errorf("dump config: %w", err)
		}
	}
	return nil
}

func redact(v string) string {
	if u, err := url.Parse(v); err == nil && u.Host != "" {
		if u.User != nil {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return "********"
}
