// Command agentdeck is one binary: the web app (serve), its migrations
// (migrate), and the operator's and scripts' tools.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // time zones for the day filter, even on hosts without them

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/config"
	"github.com/agentdeck/agentdeck/handlers"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "agentdeck:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its inputs passed in so that tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
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
	}
	return fmt.Errorf("%s: not available yet", cfg.Command)
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
	return app.OpenStore(ctx, cfg.DSN())
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
		if err := store.Seed(ctx, app.DemoSeed(store.Now())); err != nil {
			return err
		}
	}
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
