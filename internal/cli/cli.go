// Package cli holds the parley command's subcommands (SPEC §11 "CLI"):
// serve, setup, tenant, user, backup, admin, config and version. It turns
// flags and PARLEY_* variables into a config.Config and calls the server or
// the services. Only cmd/parley imports it.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/parleychat/parley/internal/config"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/server"
	"github.com/parleychat/parley/internal/store"
)

// Version is set at build time with -ldflags "-X ...cli.Version=…".
var Version = "dev"

// errUsage marks an error already explained by the flag package.
var errUsage = errors.New("usage")

type env struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

type command struct {
	name, args, help string
	run              func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "[flags]", "run the Parley server", runServe},
		{"setup", "--token T --org NAME --domain D --admin-email E --admin-password P", "create the first organisation on a new server with its one-time setup token", runSetup},
		{"tenant", "create|list [flags]", "create or list organisations (operator; works on the data directory)", runTenant},
		{"user", "create [flags]", "create a member or guest in an organisation (operator; works on the data directory)", runUser},
		{"backup", "--out FILE [flags]", "write a consistent copy of the store while it runs (operator; works on the data directory)", runBackup},
		{"admin", "<command> [flags]", "tenant admin commands: federation, policy, explain, outbox, audit (run 'parley admin help')", runAdmin},
		{"config", "[flags]", "print the effective configuration, secrets masked", runConfig},
		{"version", "", "print the version", func(_ context.Context, e env, _ []string) error {
			_, err := fmt.Fprintln(e.stdout, "parley", Version)
			return err
		}},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: parley <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.help)
	}
	fmt.Fprintln(w, "\nRun 'parley <command> --help' for a command's flags. Every flag can also be set as PARLEY_<FLAG> (e.g. PARLEY_LISTEN).")
}

// Run runs the command line and returns the process exit code.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	e := env{getenv: getenv, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	for _, a := range args[1:] {
		if a == "-h" || a == "-help" || a == "--help" {
			e.stderr = e.stdout // asked-for help goes to standard output
		}
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(stderr, "parley %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "parley: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func newFlagSet(e env, name, argsHelp string) *flag.FlagSet {
	fs := flag.NewFlagSet("parley "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: parley %s %s\n\nFlags:\n", name, argsHelp)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}

func logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func runServe(ctx context.Context, e env, args []string) error {
	cfg := config.Default()
	fs := newFlagSet(e, "serve", "[flags]")
	if err := cfg.Register(fs, e.getenv); err != nil {
		return err
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	srv := server.New(cfg, logger(e.stderr), e.stdout)
	if err := srv.Open(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	fmt.Fprintln(e.stdout, "Parley is stopping…")
	return srv.Close()
}

func runConfig(_ context.Context, e env, args []string) error {
	cfg := config.Default()
	fs := newFlagSet(e, "config", "[flags]")
	if err := cfg.Register(fs, e.getenv); err != nil {
		return err
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Dump(e.stdout); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("the configuration has problems:\n%w", err)
	}
	return nil
}

// openStore opens the store named by the store flags, for operator commands.
func openStore(ctx context.Context, cfg config.Config) (*store.DB, *identity.Service, error) {
	db, err := store.Open(ctx, store.Config{Dialect: store.Dialect(cfg.Store.Kind), Path: cfg.SQLitePath(), PostgresURL: cfg.Store.PostgresURL})
	if err != nil {
		return nil, nil, err
	}
	return db, server.NewIdentity(db, cfg), nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runTenant(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list") {
		fmt.Fprintln(e.stderr, "Usage: parley tenant create|list [flags]")
		return errUsage
	}
	cfg := config.Default()
	fs := newFlagSet(e, "tenant "+args[0], "[flags]")
	if err := cfg.Register(fs, e.getenv, config.StoreOptions...); err != nil {
		return err
	}
	var name, adminName, adminEmail, adminPassword string
	var domains multiFlag
	if args[0] == "create" {
		fs.StringVar(&name, "name", "", "display name of the organisation (required)")
		fs.Var(&domains, "domain", "verified e-mail domain; repeat for several (required)")
		fs.StringVar(&adminName, "admin-name", "", "display name of the first admin (required)")
		fs.StringVar(&adminEmail, "admin-email", "", "sign-in address of the first admin, in one of the domains (required)")
		fs.StringVar(&adminPassword, "admin-password", "", "password of the first admin (or PARLEY_ADMIN_PASSWORD)")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	db, ids, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close() //nolint:errcheck // read-mostly command; the store reports write errors itself
	if args[0] == "list" {
		ts, err := ids.Tenants(ctx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", t.ID, t.DisplayName, strings.Join(t.Domains, ","))
		}
		return nil
	}
	if adminPassword == "" {
		adminPassword = e.getenv("PARLEY_ADMIN_PASSWORD")
	}
	t, admin, err := ids.CreateTenant(ctx, identity.NewTenant{DisplayName: name, Domains: domains,
		Admin: identity.NewAccount{DisplayName: adminName, UPN: adminEmail, Password: adminPassword}})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Created organisation %s (%s) with admin %s (%s).\n", t.DisplayName, t.ID, admin.UPN, admin.ID)
	return nil
}

func runUser(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(e.stderr, "Usage: parley user create --tenant DOMAIN --name NAME --email E --password P [--guest] [--admin] [--phone N]")
		return errUsage
	}
	cfg := config.Default()
	fs := newFlagSet(e, "user create", "[flags]")
	if err := cfg.Register(fs, e.getenv, config.StoreOptions...); err != nil {
		return err
	}
	var tenant, name, email, password, phone string
	var guest, admin bool
	fs.StringVar(&tenant, "tenant", "", "organisation: one of its domains, or its id (required)")
	fs.StringVar(&name, "name", "", "display name (required)")
	fs.StringVar(&email, "email", "", "sign-in address (required)")
	fs.StringVar(&password, "password", "", "password (or PARLEY_USER_PASSWORD)")
	fs.StringVar(&phone, "phone", "", "mobile phone number")
	fs.BoolVar(&guest, "guest", false, "create a guest (an outside address) instead of a member")
	fs.BoolVar(&admin, "admin", false, "make the member an organisation admin")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if password == "" {
		password = e.getenv("PARLEY_USER_PASSWORD")
	}
	db, ids, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close() //nolint:errcheck // the store reports write errors itself
	t, err := db.FindTenantByDomain(ctx, tenant)
	if err != nil {
		if t, err = db.FindTenantByID(ctx, identity.TenantID(tenant)); err != nil {
			return fmt.Errorf("no organisation with domain or id %q", tenant)
		}
	}
	na := identity.NewAccount{DisplayName: name, UPN: email, Password: password, Phone: phone, Kind: identity.Member}
	if guest {
		na.Kind = identity.Guest
	}
	if admin {
		na.Role = identity.RoleAdmin
	}
	u, err := ids.CreateUserInTenant(ctx, &t, na)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Created %s %s (%s) in %s.\n", u.Kind, u.UPN, u.ID, t.DisplayName)
	return nil
}

func runBackup(ctx context.Context, e env, args []string) error {
	cfg := config.Default()
	fs := newFlagSet(e, "backup", "--out FILE [flags]")
	if err := cfg.Register(fs, e.getenv, config.StoreOptions...); err != nil {
		return err
	}
	var out string
	fs.StringVar(&out, "out", "", "the backup file to write; it must not exist (SQLite: a database file; PostgreSQL: a pg_dump custom-format archive)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if out == "" {
		fmt.Fprintln(fs.Output(), "--out is required")
		fs.Usage()
		return errUsage
	}
	db, _, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close() //nolint:errcheck // a backup only reads
	if err := db.Backup(ctx, out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Wrote a backup of the %s store to %s.\n", cfg.Store.Kind, out)
	return nil
}
