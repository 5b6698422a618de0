package config_test

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/config"
)

// TestDefault checks the zero-setup configuration of API.md "Running":
// SQLite in ./data, listening on 127.0.0.1:8080, phone region US.
func TestDefault(t *testing.T) {
	t.Parallel()
	c := config.Default()
	tests := []struct {
		name      string
		got, want string
	}{
		{"data", c.Store.DataDir, "./data"},
		{"listen", c.HTTP.Listen, "127.0.0.1:8080"},
		{"store", c.Store.Kind, "sqlite"},
		{"phone-region", c.PhoneRegion, "US"},
		{"postgres-url", c.Store.PostgresURL, ""},
		{"nats-url", c.Store.NATSURL, ""},
		{"operator-token", c.OperatorToken, ""},
		{"tls-cert", c.HTTP.TLSCert, ""},
		{"smtp-url", c.Mail.URL, ""},
		{"sms-url", c.SMS.URL, ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("Default() %s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if c.Demo {
		t.Errorf("Default() demo: got true, want false")
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Default().Validate(): got %v, want nil", err)
	}
	if got, want := c.SQLitePath(), "data/parley.db"; got != want {
		t.Errorf("SQLitePath(): got %q, want %q", got, want)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(c *config.Config)
		// want lists fragments that must each appear in the error; nil means valid.
		want []string
	}{
		{name: "default", modify: func(c *config.Config) {}},
		{name: "postgres with url", modify: func(c *config.Config) {
			c.Store.Kind, c.Store.PostgresURL = "postgres", "postgres://u@127.0.0.1/db"
		}},
		{name: "tls pair", modify: func(c *config.Config) { c.HTTP.TLSCert, c.HTTP.TLSKey = "c.pem", "k.pem" }},
		{name: "full sms", modify: func(c *config.Config) {
			c.SMS = config.SMS{URL: "http://127.0.0.1:9", Account: "AC1", Token: "t", From: "+15550100"}
		}},
		{name: "bad listen", modify: func(c *config.Config) { c.HTTP.Listen = "nonsense" }, want: []string{"--listen"}},
		{name: "cert without key", modify: func(c *config.Config) { c.HTTP.TLSCert = "c.pem" }, want: []string{"--tls-cert"}},
		{name: "key without cert", modify: func(c *config.Config) { c.HTTP.TLSKey = "k.pem" }, want: []string{"--tls-key"}},
		{name: "postgres without url", modify: func(c *config.Config) { c.Store.Kind = "postgres" }, want: []string{"--postgres-url"}},
		{name: "unknown store", modify: func(c *config.Config) { c.Store.Kind = "nosuch" }, want: []string{"--store", "nosuch"}},
		{name: "sms url without account", modify: func(c *config.Config) { c.SMS.URL = "http://127.0.0.1:9" }, want: []string{"--sms-account"}},
		{name: "public url without scheme", modify: func(c *config.Config) { c.HTTP.PublicURL = "chat.example.com" }, want: []string{"--public-url"}},
		{name: "smtp url without host", modify: func(c *config.Config) { c.Mail.URL = "nohost" }, want: []string{"--smtp-url"}},
		{name: "phone region", modify: func(c *config.Config) { c.PhoneRegion = "USA" }, want: []string{"--phone-region"}},
		{name: "token ttl", modify: func(c *config.Config) { c.TokenTTL = time.Second }, want: []string{"--token-ttl"}},
		{name: "negative limits name their flags", modify: func(c *config.Config) {
			c.Safety.RequestsPerHour, c.Safety.ReportThreshold = -1, -2
		}, want: []string{"--requests-per-hour", "--spam-report-threshold"}},
		{name: "trusted proxies", modify: func(c *config.Config) { c.HTTP.TrustedProxies = "10.0.0.0/8, 192.0.2.7,::1/128" }},
		{name: "bad trusted proxy", modify: func(c *config.Config) { c.HTTP.TrustedProxies = "10.0.0.0/8,10.0.0.0/33" },
			want: []string{"--trusted-proxies", `"10.0.0.0/33"`}},
		{name: "trusted proxy name", modify: func(c *config.Config) { c.HTTP.TrustedProxies = "proxy.internal" },
			want: []string{"--trusted-proxies", "proxy.internal"}},
		{name: "no drain delay", modify: func(c *config.Config) { c.Ops.DrainDelay = 0 }},
		{name: "negative drain delay", modify: func(c *config.Config) { c.Ops.DrainDelay = -time.Second }, want: []string{"--drain-delay"}},
		{name: "several at once", modify: func(c *config.Config) {
			c.HTTP.Listen = "nonsense"
			c.HTTP.TLSCert = "c.pem"
			c.Store.Kind = "postgres"
			c.SMS.URL = "http://127.0.0.1:9"
		}, want: []string{"--listen", "--tls-cert", "--postgres-url", "--sms-account"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := config.Default()
			tt.modify(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate(): got %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate(): got nil, want an error naming %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate(): got %q, want it to mention %q", err, w)
				}
			}
			// One line per problem: Validate joins them.
			if got, want := len(strings.Split(err.Error(), "\n")), len(tt.want); tt.name == "several at once" && got != want {
				t.Errorf("Validate(): got %d problems (%q), want %d", got, err, want)
			}
		})
	}
}

// TestProxies: --trusted-proxies takes CIDRs and single addresses, IPv4
// and IPv6, with spaces and empty entries ignored; an IPv4 range written
// as IPv4-mapped IPv6 means the IPv4 range.
func TestProxies(t *testing.T) {
	t.Parallel()
	h := config.HTTP{TrustedProxies: " 10.1.2.3/8, 192.0.2.7 ,, 2001:db8::/32,::1,::ffff:172.16.0.0/108"}
	ps, err := h.Proxies()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "::1/128", "172.16.0.0/12"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Proxies() (-want +got):\n%s", diff)
	}
	if ps, err := (config.HTTP{}).Proxies(); err != nil || len(ps) != 0 {
		t.Errorf("no --trusted-proxies: got %v, %v; want none", ps, err)
	}
}

func TestEnvName(t *testing.T) {
	t.Parallel()
	tests := []struct{ flag, want string }{
		{"smtp-url", "PARLEY_SMTP_URL"},
		{"data", "PARLEY_DATA"},
		{"operator-token", "PARLEY_OPERATOR_TOKEN"},
		{"postgres-url", "PARLEY_POSTGRES_URL"},
	}
	for _, tt := range tests {
		if got := config.EnvName(tt.flag); got != tt.want {
			t.Errorf("EnvName(%q): got %q, want %q", tt.flag, got, tt.want)
		}
	}
}

// TestRegister checks the precedence default < PARLEY_* environment < flag.
func TestRegister(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"PARLEY_LISTEN":          "127.0.0.1:9000",
		"PARLEY_DATA":            "/from/env",
		"PARLEY_DEMO":            "true",
		"PARLEY_TOKEN_TTL":       "2h",
		"PARLEY_TRUSTED_PROXIES": "10.0.0.0/8",
		"PARLEY_DRAIN_DELAY":     "0s",
	}
	c := config.Default()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := c.Register(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if err := fs.Parse([]string{"--data", "/from/flag"}); err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got := map[string]any{"listen": c.HTTP.Listen, "data": c.Store.DataDir, "demo": c.Demo, "token-ttl": c.TokenTTL, "store": c.Store.Kind,
		"trusted-proxies": c.HTTP.TrustedProxies, "drain-delay": c.Ops.DrainDelay}
	want := map[string]any{"listen": "127.0.0.1:9000", "data": "/from/flag", "demo": true, "token-ttl": 2 * time.Hour, "store": "sqlite",
		"trusted-proxies": "10.0.0.0/8", "drain-delay": time.Duration(0)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("effective config (-want +got):\n%s", diff)
	}
}

func TestRegisterBadEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PARLEY_DEMO": "perhaps", "PARLEY_TOKEN_TTL": "forever"}
	c := config.Default()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	err := c.Register(fs, func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("Register with bad PARLEY_DEMO and PARLEY_TOKEN_TTL: got nil, want an error")
	}
	for _, w := range []string{"PARLEY_DEMO", "PARLEY_TOKEN_TTL"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Register: got %q, want it to name %s", err, w)
		}
	}
}

func TestDumpMasksSecrets(t *testing.T) {
	t.Parallel()
	c := config.Default()
	c.Mail.URL = "smtp://u:secretpw@mail.example.com:25"
	c.OperatorToken = "op-secret-value"
	c.SMS.Token = "sms-secret-value"
	c.Store.PostgresURL = "postgres://pg:pgsecret@db.example.com/parley"
	var b strings.Builder
	if err := c.Dump(&b); err != nil {
		t.Fatalf("Dump: %v", err)
	}
	out := b.String()
	for _, secret := range []string{"secretpw", "op-secret-value", "sms-secret-value", "pgsecret"} {
		if strings.Contains(out, secret) {
			t.Errorf("Dump shows the secret %q:\n%s", secret, out)
		}
	}
	for _, w := range []string{"listen=127.0.0.1:8080\n", "smtp-url=smtp://u:", "@mail.example.com:25\n", "operator-token=", "store=sqlite\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("Dump: got\n%s\nwant it to contain %q", out, w)
		}
	}
}

// TestDumpMasksPasswordInURLQuery: PostgreSQL URLs may carry the password as
// a query parameter (postgres://u@host/db?password=…), which Dump must mask too.
func TestDumpMasksPasswordInURLQuery(t *testing.T) {
	t.Parallel()
	c := config.Default()
	c.Store.PostgresURL = "postgres://parley@db.example.com/parley?password=pgsecret&sslmode=require"
	var b strings.Builder
	if err := c.Dump(&b); err != nil {
		t.Fatalf("Dump: %v", err)
	}
	if strings.Contains(b.String(), "pgsecret") {
		t.Errorf("Dump shows the password of ?password=:\n%s", b.String())
	}
}
