// Package cli holds the parley command's subcommands (docs/rules.md §11 "CLI"):
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
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/parleychat/parley/internal/config"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/server"
)

// Version, when set at build time with -ldflags "-X ...cli.Version=…",
// replaces the module version of the build info in 'parley version'.
var Version = ""

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
		{"admin", "<command> [flags]", "tenant admin commands: federation, policy, explain, outbox, audit, app, bot, app-policy, explain-app, meeting-config, files (run 'parley admin help')", runAdmin},
		{"config", "[flags]", "print the effective configuration, secrets masked", runConfig},
		{"version", "", "print the version and the source revision it was built from", runVersion},
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
	if args[0] == "help" && len(args) > 1 {
		args = []string{args[1], "--help"} // parley help serve = parley serve --help
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	for _, a := range args[1:] {
		if isHelp(a) {
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
			// An error that already names the command ("backup: …") is
			// not prefixed twice.
			fmt.Fprintf(stderr, "parley %s: %s\n", c.name, strings.TrimPrefix(err.Error(), c.name+": "))
			return 1
		}
	}
	fmt.Fprintf(stderr, "parley: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

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

// need is a required flag and its value: the flag as typed ("--domain"),
// with where else it may come from when it has another source.
type need struct{ flag, value string }

// require reports every required flag left empty, one line each naming the
// flag ("--domain is required"), then the command's usage.
func require(fs *flag.FlagSet, needs ...need) error {
	missing := false
	for _, n := range needs {
		if strings.TrimSpace(n.value) == "" {
			fmt.Fprintf(fs.Output(), "%s: %s is required\n", fs.Name(), n.flag)
			missing = true
		}
	}
	if missing {
		fmt.Fprintln(fs.Output())
		fs.Usage()
		return errUsage
	}
	return nil
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
	logOut := newBatchWriter(e.stderr)
	defer logOut.Flush()
	var h slog.Handler = slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo})
	if cfg.Ops.LogFormat == "json" {
		h = slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo})
	}
	log := slog.New(flushingHandler{h, logOut})
	// Printed before the store opens: under go run, the first line comes
	// only after minutes of compiling, so it says at once that this is it.
	fmt.Fprintln(e.stdout, "Parley is starting…")
	srv := server.New(cfg, log, e.stdout)
	srv.Command = selfCommand(os.Args[0])
	if err := srv.Open(ctx); err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%w\nAnother program (perhaps another parley serve) listens on %s; stop it, or choose a free address with --listen, for example --listen %s",
				err, cfg.HTTP.Listen, nextPort(cfg.HTTP.Listen))
		}
		return err
	}
	<-ctx.Done()
	if d := cfg.Ops.DrainDelay; d > 0 {
		fmt.Fprintf(e.stdout, "Parley is stopping: /readyz answers 503, requests are still served for %s (--drain-delay; Ctrl-C again to stop now)…\n", d)
	} else {
		fmt.Fprintln(e.stdout, "Parley is stopping…")
	}
	// The first SIGTERM or Ctrl-C ended ctx; a second one ends the delay.
	now, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return srv.Shutdown(now)
}

// selfCommand is how the person who started this program runs it again,
// for the commands it prints: "go run ./cmd/parley" under go run (whose
// binary lives in a go-build temporary directory, …/exe/parley, or, once
// go run has cached it, in the build cache, …/go-build/xx/<hash>-d/parley),
// the path as typed for a binary named parley ("./parley", "parley"), else
// "parley".
func selfCommand(argv0 string) string {
	dir := filepath.Dir(argv0)
	if base := filepath.Base(dir); strings.Contains(dir, "go-build") && (base == "exe" || strings.HasSuffix(base, "-d")) {
		return "go run ./cmd/parley"
	}
	if filepath.Base(argv0) == "parley" {
		return argv0
	}
	return "parley"
}

// nextPort returns addr with the port after its own, for a suggestion.
func nextPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "127.0.0.1:8081"
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p >= 65535 {
		return net.JoinHostPort(host, "8081")
	}
	return net.JoinHostPort(host, strconv.Itoa(p+1))
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

// openServices opens the store named by the store flags and builds the
// services over it exactly as the server does (server.NewServices), for
// the operator commands. No worker runs: mail they queue is sent by the
// running server. Close the store (DB) when done.
func openServices(ctx context.Context, cfg config.Config) (*server.Services, error) {
	db, err := server.OpenStore(ctx, cfg, nil)
	if err != nil {
		return nil, err
	}
	svc, err := server.NewServices(server.Wiring{Config: cfg, DB: db})
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return svc, nil
}

// findTenant finds an organisation by one of its domains or its id.
func findTenant(ctx context.Context, svc *server.Services, ref string) (identity.Tenant, error) {
	t, err := svc.DB.FindTenantByDomain(ctx, ref)
	if err != nil {
		if t, err = svc.DB.FindTenantByID(ctx, identity.TenantID(ref)); err != nil {
			return identity.Tenant{}, fmt.Errorf("no organisation with domain or id %q", ref)
		}
	}
	return t, nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runTenant(ctx context.Context, e env, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(e.stderr, "Usage: parley tenant create|list [flags]\n\nRun 'parley tenant create --help' or 'parley tenant list --help' for the flags.")
		return flag.ErrHelp
	}
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
		fs.StringVar(&adminPassword, "admin-password", "", "password of the first admin (or PARLEY_ADMIN_PASSWORD) (required)")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if adminPassword == "" {
		adminPassword = e.getenv("PARLEY_ADMIN_PASSWORD")
	}
	if args[0] == "create" {
		if err := require(fs, need{"--name", name}, need{"--domain", strings.Join(domains, "")}, need{"--admin-name", adminName},
			need{"--admin-email", adminEmail}, need{"--admin-password (or PARLEY_ADMIN_PASSWORD)", adminPassword}); err != nil {
			return err
		}
	}
	svc, err := openServices(ctx, cfg)
	if err != nil {
		return err
	}
	defer svc.DB.Close() //nolint:errcheck // read-mostly command; the store reports write errors itself
	if args[0] == "list" {
		ts, err := svc.Identity.Tenants(ctx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", t.ID, t.DisplayName, strings.Join(t.Domains, ","))
		}
		return nil
	}
	t, admin, err := svc.Identity.CreateTenant(ctx, identity.NewTenant{DisplayName: name, Domains: domains,
		Admin: identity.NewAccount{DisplayName: adminName, UPN: adminEmail, Password: adminPassword}})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Created organisation %s (%s) with admin %s (%s).\n", t.DisplayName, t.ID, admin.UPN, admin.ID)
	return nil
}

func runUser(ctx context.Context, e env, args []string) error {
	const userUsage = "Usage: parley user create --tenant DOMAIN --name NAME --email E --password P [--guest] [--admin] [--phone N]"
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(e.stderr, userUsage+"\n\nRun 'parley user create --help' for every flag.")
		return flag.ErrHelp
	}
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(e.stderr, userUsage)
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
	fs.StringVar(&password, "password", "", "password (or PARLEY_USER_PASSWORD) (required)")
	fs.StringVar(&phone, "phone", "", "mobile phone number")
	fs.BoolVar(&guest, "guest", false, "create a guest (an outside address) instead of a member")
	fs.BoolVar(&admin, "admin", false, "make the member an organisation admin")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if password == "" {
		password = e.getenv("PARLEY_USER_PASSWORD")
	}
	if err := require(fs, need{"--tenant", tenant}, need{"--name", name}, need{"--email", email},
		need{"--password (or PARLEY_USER_PASSWORD)", password}); err != nil {
		return err
	}
	svc, err := openServices(ctx, cfg)
	if err != nil {
		return err
	}
	defer svc.DB.Close() //nolint:errcheck // the store reports write errors itself
	t, err := findTenant(ctx, svc, tenant)
	if err != nil {
		return err
	}
	na := identity.NewAccount{DisplayName: name, UPN: email, Password: password, Phone: phone, Kind: identity.Member}
	if guest {
		na.Kind = identity.Guest
	}
	if admin {
		na.Role = identity.RoleAdmin
	}
	u, err := svc.Identity.CreateUserInTenant(ctx, &t, na)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Created %s %s (%s) in %s.\n", u.Kind, u.UPN, u.ID, t.DisplayName)
	return nil
}
