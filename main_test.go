package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "agentdeck ") {
		t.Errorf("version printed %q", out.String())
	}
}

func TestMigrateTwiceIsANoOp(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == "AGENTDECK_DATA_DIR" {
			return dir
		}
		return ""
	}
	for i := range 2 {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"migrate"}, getenv, &out, &out); err != nil {
			t.Fatalf("migrate run %d: %v", i+1, err)
		}
	}
}

func TestUnknownCommandFails(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"bogus"}, func(string) string { return "" }, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("got %v", err)
	}
}

func TestTokenCreatePrintsAWorkingTokenAlone(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	store, err := app.OpenStore(ctx, filepath.Join(dir, "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.Seed(ctx, app.SeedOptions{Users: 2, Teams: 1, Items: 3, Days: 1, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	store.Close()

	env := map[string]string{"AGENTDECK_DATA_DIR": dir, "AGENTDECK_DEMO": "1"}
	var stdout, stderr bytes.Buffer
	err = run(ctx, []string{"token", "create", "--user", "maya", "--name", "ci"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if err != nil {
		t.Fatalf("token create: %v (%s)", err, stderr.String())
	}
	secret := strings.TrimSuffix(stdout.String(), "\n")
	if !app.WellFormedToken(secret) || strings.Contains(secret, "\n") {
		t.Fatalf("stdout = %q, want one token alone", stdout.String())
	}

	store, err = app.OpenStore(ctx, filepath.Join(dir, "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	v, tok, err := store.Authenticate(ctx, secret)
	if err != nil || v.User.Handle != "maya" || tok.Name != "ci" {
		t.Fatalf("the printed token authenticates as %v (%v), want maya's token named ci", v.User, err)
	}

	for _, args := range [][]string{{"token", "create"}, {"token", "create", "--user", "nobody"}, {"token", "list"}} {
		stdout.Reset()
		if err := run(ctx, args, func(k string) string { return env[k] }, &stdout, &stderr); err == nil || stdout.Len() > 0 {
			t.Errorf("%v: error %v, stdout %q; want an error and nothing printed", args, err, stdout.String())
		}
	}
}
