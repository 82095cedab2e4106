package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
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

// seededDemoDir is a data directory whose demo database is migrated and
// seeded as given; the store is left open for the test to change.
func seededDemoDir(t *testing.T, seed app.SeedOptions) (string, *app.Store) {
	t.Helper()
	dir := t.TempDir()
	store, err := app.OpenStore(context.Background(), filepath.Join(dir, "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := store.Seed(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	return dir, store
}

func TestTokenCreatePrintsAWorkingTokenAlone(t *testing.T) {
	ctx := context.Background()
	dir, store := seededDemoDir(t, app.SeedOptions{Users: 2, Teams: 1, Items: 3, Days: 1, Now: time.Now()})
	store.Close()

	env := map[string]string{"AGENTDECK_DATA_DIR": dir, "AGENTDECK_DEMO": "1"}
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"token", "create", "--user", "maya", "--name", "ci"}, func(k string) string { return env[k] }, &stdout, &stderr)
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

// TestServeRunsAsMainDoesAndStopsWhenCancelled runs the program as main
// does, waits until its health check answers, and stops it as a signal
// would.
func TestServeRunsAsMainDoesAndStopsWhenCancelled(t *testing.T) {
	env := map[string]string{"AGENTDECK_DATA_DIR": t.TempDir(), "AGENTDECK_ADDR": "127.0.0.1:0"}
	logs, logWriter := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() {
		served <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, io.Discard, logWriter)
		logWriter.Close()
	}()
	// The log says where it listens, once it does.
	base := ""
	sc := bufio.NewScanner(logs)
	for base == "" && sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("the server never said where it listens (%v)", <-served)
	}
	go io.Copy(io.Discard, logs)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("serve ended with %v after its context was cancelled, want nil", err)
	}
}

var listening = regexp.MustCompile(`agentdeck is listening.* url=(http://\S+)`)

func TestTheOperatorsLimitsReachTheStore(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"AGENTDECK_DATA_DIR": dir, "AGENTDECK_OPEN_URL_SCHEMES": "https,javascript"}
	getenv := func(k string) string { return vars[k] }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, getenv, &out, &out); err == nil || !strings.Contains(err.Error(), "AGENTDECK_OPEN_URL_SCHEMES") {
		t.Errorf("a list allowing javascript: %v, want a refusal naming AGENTDECK_OPEN_URL_SCHEMES", err)
	}

	// The token command holds a person to AGENTDECK_MAX_TOKENS_PER_USER.
	vars = map[string]string{"AGENTDECK_DATA_DIR": dir, "AGENTDECK_MAX_TOKENS_PER_USER": "1"}
	ctx := context.Background()
	store, err := app.OpenStore(ctx, filepath.Join(dir, "agentdeck.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateUser(ctx, &app.User{Handle: "maya"}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	create := func() error {
		return run(ctx, []string{"token", "create", "--user", "maya"}, getenv, io.Discard, io.Discard)
	}
	if err := create(); err != nil {
		t.Fatalf("the first token: %v", err)
	}
	if err := create(); err == nil || !strings.Contains(err.Error(), "live tokens") {
		t.Errorf("a second token with a limit of one: %v, want a refusal", err)
	}
}

// rollups verify passes on rollups the database kept, fails naming a row set
// wrong, and rebuild sets it right.
func TestRollupsVerifyAndRebuild(t *testing.T) {
	ctx := context.Background()
	dir, store := seededDemoDir(t, app.SeedOptions{Users: 3, Teams: 1, Items: 40, Days: 3, Now: time.Now()})
	env := map[string]string{"AGENTDECK_DATA_DIR": dir, "AGENTDECK_DEMO": "1"}
	rollups := func(what string) (string, error) {
		var stdout bytes.Buffer
		err := run(ctx, []string{"rollups", what}, func(k string) string { return env[k] }, &stdout, io.Discard)
		return stdout.String(), err
	}
	if out, err := rollups("verify"); err != nil || !strings.Contains(out, "every row holds") {
		t.Fatalf("verify of kept rollups: %v\n%s", err, out)
	}
	if _, err := store.DB().ExecContext(ctx, "UPDATE rollup_creators SET items = items + 1 WHERE creator_id = (SELECT MIN(creator_id) FROM rollup_creators)"); err != nil {
		t.Fatal(err)
	}
	store.Close()
	if out, err := rollups("verify"); err == nil || !strings.Contains(out, "rollup_creators holds") || !strings.Contains(out, "rollup_creators lacks") {
		t.Errorf("verify of a row set wrong: %v\n%s", err, out)
	}
	if out, err := rollups("rebuild"); err != nil || !strings.Contains(out, "every row holds") {
		t.Errorf("rebuild: %v\n%s", err, out)
	}
	if _, err := rollups("tidy"); err == nil {
		t.Error("rollups tidy: want the usage")
	}
}

func TestUsersDelete(t *testing.T) {
	ctx := context.Background()
	dir, store := seededDemoDir(t, app.SeedOptions{Users: 3, Teams: 1, Items: 40, Days: 3, Now: time.Now()})
	users, err := store.Users(ctx)
	if err != nil || len(users) == 0 {
		t.Fatalf("seeded users: %v, %v", users, err)
	}
	gone := users[0]
	store.Close()
	env := map[string]string{"AGENTDECK_DATA_DIR": dir, "AGENTDECK_DEMO": "1"}
	command := func(args ...string) (string, error) {
		var stdout bytes.Buffer
		err := run(ctx, append([]string{"users"}, args...), func(k string) string { return env[k] }, &stdout, io.Discard)
		return stdout.String(), err
	}
	if out, err := command("delete", gone.Handle); err != nil || !strings.Contains(out, "deleted "+gone.Handle) {
		t.Fatalf("users delete %s: %v\n%s", gone.Handle, err, out)
	}
	if _, err := command("delete", gone.Handle); err == nil {
		t.Error("deleting the same person twice: want an error")
	}
	if _, err := command("remove", "x"); err == nil {
		t.Error("users remove: want the usage")
	}
	reopened, err := app.OpenStore(ctx, filepath.Join(dir, "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	if _, err := reopened.UserByHandle(ctx, gone.Handle); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("after users delete: %v, want not found", err)
	}
	if differences, err := reopened.VerifyRollups(ctx); err != nil || len(differences) > 0 {
		t.Errorf("the rollups after their items went: %v %v", differences, err)
	}
}
