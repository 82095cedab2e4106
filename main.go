// Command agentdeck is one binary: the web app (serve), its migrations
// (migrate), and the operator's and scripts' tools.
package main

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
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // time zones for the day filter, even on hosts without them

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/cli"
	"github.com/agentdeck/agentdeck/config"
	"github.com/agentdeck/agentdeck/handlers"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	var exit *cli.ExitError
	if errors.As(err, &exit) {
		// agentdeck run ends as its command did.
		os.Exit(exit.Code)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "agentdeck:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its inputs passed in so that tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == config.CommandHook {
		// An agent runs its hooks and waits for them: the hook reads only
		// what it needs of the environment, and whatever goes wrong it says
		// on stderr and exits 0, so that it never breaks the agent.
		cli.Hook(ctx, args[1:], cli.HookOptions{
			URL: strings.TrimRight(getenv("AGENTDECK_URL"), "/"), Token: getenv("AGENTDECK_TOKEN"),
			Getenv: getenv, Stdin: os.Stdin, Stderr: stderr,
		})
		return nil
	}
	cfg, err := config.Load(args, getenv)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	// The store's background work (the change hub) logs through the default.
	slog.SetDefault(logger)
	switch cfg.Command {
	case config.CommandVersion:
		fmt.Fprintln(stdout, "agentdeck", version)
		return nil
	case config.CommandMigrate:
		store, err := openStore(ctx, cfg, false)
		if err != nil {
			return err
		}
		defer store.Close()
		return store.Migrate(ctx)
	case config.CommandServe:
		return serve(ctx, cfg, logger)
	case config.CommandToken:
		return tokenCommand(ctx, cfg, stdout)
	case config.CommandRollups:
		return rollupsCommand(ctx, cfg, stdout)
	case config.CommandUsers:
		return usersCommand(ctx, cfg, stdout)
	case config.CommandConnect:
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("connect: find the agentdeck binary: %w", err)
		}
		return cli.Connect(ctx, cfg.Args, cli.ConnectOptions{
			URL: cfg.URL, Token: cfg.Token, Getenv: getenv, Command: self, Stdout: stdout, Stderr: stderr,
		})
	case config.CommandRun:
		// Ctrl-C and SIGTERM go to the command, which decides how to end.
		sigs := make(chan os.Signal, 4)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sigs)
		return cli.Run(ctx, cfg.Args, cli.Options{
			URL: cfg.URL, Token: cfg.Token, Getenv: getenv,
			Stdin: os.Stdin, Stdout: stdout, Stderr: stderr, Signals: sigs,
		})
	}
	return fmt.Errorf("unknown command %q", cfg.Command)
}

// tokenCommand is the operator's "token create --user HANDLE [--name NAME]":
// it prints a new access token for the user, alone on stdout, so that CI can
// be bootstrapped without a browser.
func tokenCommand(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	const usage = "usage: agentdeck token create --user HANDLE [--name NAME]"
	if len(cfg.Args) == 0 || cfg.Args[0] != "create" {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	handle := fs.String("user", "", "the handle of the user the token acts for")
	name := fs.String("name", "created by an operator", "a name to recognise the token by")
	if err := fs.Parse(cfg.Args[1:]); err != nil {
		return fmt.Errorf("token create: %w (%s)", err, usage)
	}
	if *handle == "" || fs.NArg() > 0 {
		return errors.New(usage)
	}
	store, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	u, err := store.UserByHandle(ctx, *handle)
	if errors.Is(err, app.ErrNotFound) {
		return fmt.Errorf("token create: there is no user %q", *handle)
	}
	if err != nil {
		return err
	}
	_, secret, err := store.CreateAccessToken(ctx, u.ID, *name, time.Time{})
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	_, err = fmt.Fprintln(stdout, secret)
	return err
}

// rollupsCommand checks the summaries' rollups against the items (verify),
// or sets them to what the items sum to (rebuild). verify fails when a row
// differs, printing each.
func rollupsCommand(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	const usage = "usage: agentdeck rollups verify|rebuild"
	if len(cfg.Args) != 1 || cfg.Args[0] != "verify" && cfg.Args[0] != "rebuild" {
		return errors.New(usage)
	}
	store, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if cfg.Args[0] == "rebuild" {
		if err := store.RebuildRollups(ctx); err != nil {
			return err
		}
	}
	differences, err := store.VerifyRollups(ctx)
	if err != nil {
		return err
	}
	for _, d := range differences {
		fmt.Fprintln(stdout, d)
	}
	if len(differences) > 0 {
		return fmt.Errorf("rollups: %d rows differ from what the items sum to; agentdeck rollups rebuild sets them right", len(differences))
	}
	_, err = fmt.Fprintln(stdout, "rollups: every row holds what the items sum to")
	return err
}

// usersCommand is the operator's "users delete HANDLE": it removes a person
// and everything that is theirs, and signs them out of every replica at
// once (on PostgreSQL; a server on SQLite, another process, notices within
// a minute).
func usersCommand(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	const usage = "usage: agentdeck users delete HANDLE"
	if len(cfg.Args) != 2 || cfg.Args[0] != "delete" {
		return errors.New(usage)
	}
	store, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	u, err := store.UserByHandle(ctx, cfg.Args[1])
	if err != nil {
		return fmt.Errorf("users delete: no one has the handle %q", cfg.Args[1])
	}
	if err := store.DeleteUser(ctx, u.ID); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "users: deleted %s and everything that was theirs\n", u.Handle)
	return err
}

// openMigrated opens the configured database, as it is, for an operator's
// command, and brings its schema up to date.
func openMigrated(ctx context.Context, cfg config.Config) (*app.Store, error) {
	store, err := openStore(ctx, cfg, false)
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

// openStore opens the configured database. In demo mode, serve starts from a
// freshly seeded demo.db; other commands open it as it is.
func openStore(ctx context.Context, cfg config.Config, freshDemo bool) (*app.Store, error) {
	if cfg.DatabaseURL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
	}
	if freshDemo && cfg.DatabaseURL == "" {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(cfg.SQLitePath() + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("reset demo database: %w", err)
			}
		}
	}
	store, err := app.OpenStore(ctx, cfg.DSN())
	if err != nil {
		return nil, err
	}
	// The operator's rules for what the store accepts hold for every
	// command that writes through it.
	if len(cfg.OpenURLSchemes) > 0 {
		schemes, err := app.CheckOpenURLSchemes(cfg.OpenURLSchemes)
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("AGENTDECK_OPEN_URL_SCHEMES: %w", err)
		}
		store.SetOpenURLSchemes(schemes)
	}
	if cfg.MaxTokensPerUser > 0 {
		store.SetMaxTokensPerUser(cfg.MaxTokensPerUser)
	}
	store.SetPrivateDestinations(cfg.AllowPrivateWebhooks)
	return store, nil
}

func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	if cfg.Demo && cfg.DatabaseURL != "" {
		return errors.New("demo mode seeds its own embedded database; unset DATABASE_URL to use it")
	}
	store, err := openStore(ctx, cfg, cfg.Demo)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	if cfg.Demo {
		start := time.Now()
		opts := app.DemoSeed(store.Now())
		if err := store.Seed(ctx, opts); err != nil {
			return err
		}
		logger.Info("demo data seeded", "items", opts.Items, "took", time.Since(start).Round(time.Millisecond))
	}
	pricing := app.DefaultPricing()
	pricing.CreditsPerUSD = cfg.CreditsPerUSD
	if cfg.PricesFile != "" {
		if pricing.Prices, err = app.LoadPrices(cfg.PricesFile); err != nil {
			return err
		}
	}
	store.SetPricing(pricing)
	srv, err := handlers.New(cfg, store, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	logger.Info("agentdeck is listening", "url", "http://"+ln.Addr().String(), "demo", cfg.Demo, "database", store.Dialect())
	return srv.Serve(ctx, ln)
}
