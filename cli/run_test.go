package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/agentdeck/agentdeck/cli"
	"github.com/agentdeck/agentdeck/config"
	"github.com/agentdeck/agentdeck/handlers"
)

// server is the real app on a real loopback listener that a test can stop
// and start again on the same port.
type server struct {
	t     *testing.T
	store *app.Store
	addr  string
	stop  func()
	// acks receives a value after every answered request that appended
	// events, so a test can wait for the server to have taken some.
	acks chan struct{}
}

func startServer(t *testing.T, store *app.Store) *server {
	s := &server{t: t, store: store, addr: "127.0.0.1:0", acks: make(chan struct{}, 1)}
	s.start()
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *server) start() {
	s.t.Helper()
	cfg := config.Config{Command: config.CommandServe, Addr: s.addr, DataDir: s.t.TempDir(), SessionKeys: []string{strings.Repeat("k", 40)},
		// Demo sign-in lets a test read the pages as a person would.
		Demo: true}
	srv, err := handlers.New(cfg, s.store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		s.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	watched := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r)
		if strings.HasSuffix(r.URL.Path, "/events") && r.Method == http.MethodPost {
			select {
			case s.acks <- struct{}{}:
			default:
			}
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		hs := &http.Server{Handler: watched}
		go func() { <-ctx.Done(); hs.Shutdown(context.Background()) }()
		hs.Serve(ln)
	}()
	s.stop = func() { cancel(); <-done }
}

func (s *server) url() string { return "http://" + s.addr }

// watcher is a writer that remembers everything and tells waiters when a
// text has appeared.
type watcher struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newWatcher() *watcher { return &watcher{changed: make(chan struct{}, 1)} }

func (w *watcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor blocks until text has been written, or fails after a minute.
func (w *watcher) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.After(time.Minute)
	for !strings.Contains(w.String(), text) {
		select {
		case <-w.changed:
		case <-deadline:
			t.Fatalf("waited a minute for %q; got %q", text, w.String())
		}
	}
}

// member makes a user with a token, in a team named handle-team.
func member(t *testing.T, s *app.Store, handle string) (app.Viewer, string) {
	t.Helper()
	ctx := context.Background()
	u := &app.User{Handle: handle, Name: handle}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTeam(ctx, &app.Team{Slug: handle + "-team", Name: handle}, u.ID); err != nil {
		t.Fatal(err)
	}
	_, token, err := s.CreateAccessToken(ctx, u.ID, "cli", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Viewer(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return v, token
}

func fastOptions(srv *server, token string, stdout, stderr io.Writer) cli.Options {
	return cli.Options{
		URL: srv.url(), Token: token, Stdout: stdout, Stderr: stderr,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, FlushInterval: 20 * time.Millisecond,
	}
}

// onlyRun returns the one run the viewer has, with all its events.
func onlyRun(t *testing.T, s *app.Store, v app.Viewer) (*app.Item, []*app.Event) {
	t.Helper()
	ctx := context.Background()
	f, _ := app.ParseFilter(nil)
	q, _, _, err := s.ResolveFilter(ctx, v, f)
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.Items(ctx, q, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("%d runs were created, want 1", len(page.Items))
	}
	var events []*app.Event
	after := int64(0)
	for {
		p, err := s.Events(ctx, page.Items[0].ID, app.EventQuery{After: after})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, p.Events...)
		if !p.More {
			return page.Items[0], events
		}
		after = p.Events[len(p.Events)-1].Seq
	}
}

// logsOf returns the log lines of one stream, in order, and checks that the
// sequence numbers of all events run 1, 2, 3… without a gap.
func logsOf(t *testing.T, events []*app.Event, stream string) []string {
	t.Helper()
	var out []string
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: a gap or a repeat", i+1, e.Seq)
		}
		if e.Type == app.EventLog && (stream == "stderr") == strings.Contains(e.Data, "stderr") {
			out = append(out, e.Text)
		}
	}
	return out
}

func numbered(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s %d", prefix, i))
	}
	return out
}

func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "job.sh")
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func eventData(t *testing.T, e *app.Event) map[string]any {
	t.Helper()
	m := e.DataMap()
	if m == nil {
		t.Fatalf("event %d has no data", e.Seq)
	}
	return m
}

func TestRunReportsEveryLineInOrderAndPassesTheExitCode(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		srv := startServer(t, s)
		job := script(t, `#!/bin/sh
i=1
while [ $i -le 2000 ]; do
  echo "out $i"
  if [ $((i % 100)) -eq 0 ]; then echo "err $((i / 100))" >&2; fi
  i=$((i + 1))
done
printf '\033[31mred\033[0m <b>bold</b>\r\n'
printf 'no newline at the end'
exit 7
`)

		t.Run("a failing command", func(t *testing.T) {
			v, token := member(t, s, "maya")
			stdout, stderr := newWatcher(), newWatcher()
			err := cli.Run(context.Background(), []string{"--team", "maya-team", "--", job, "extra"}, fastOptions(srv, token, stdout, stderr))
			var exit *cli.ExitError
			if !errors.As(err, &exit) || exit.Code != 7 {
				t.Fatalf("run returned %v, want exit code 7", err)
			}
			if !strings.Contains(stdout.String(), "out 1\nout 2\n") || !strings.Contains(stderr.String(), "err 20\n") {
				t.Error("the command's output was not passed through to the terminal")
			}
			it, events := onlyRun(t, s, v)
			want := append(numbered("out", 1, 2000), "\x1b[31mred\x1b[0m <b>bold</b>", "no newline at the end")
			if got := logsOf(t, events, "stdout"); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("stdout arrived as %d lines, want %d in order; first difference near %v", len(got), len(want), firstDiff(got, want))
			}
			if got := logsOf(t, events, "stderr"); strings.Join(got, "\n") != strings.Join(numbered("err", 1, 20), "\n") {
				t.Errorf("stderr arrived as %v", got)
			}
			last := events[len(events)-1]
			if last.Type != app.EventOutput || eventData(t, last)["exit_code"] != 7.0 {
				t.Errorf("the last event is %+v, want an output with exit_code 7", last)
			}
			if it.Status != app.StatusFailed || it.Source != app.SourceCLI || it.Title != job+" extra" || it.TeamID == 0 {
				t.Errorf("the run is %s from %s titled %q in team %d; want failed, cli, the command line, maya's team", it.Status, it.Source, it.Title, it.TeamID)
			}
			if it.StartedAt.IsZero() || it.FinishedAt.Before(it.StartedAt) {
				t.Errorf("started %v, finished %v", it.StartedAt, it.FinishedAt)
			}
		})

		t.Run("a successful job under GitHub Actions", func(t *testing.T) {
			v, token := member(t, s, "jonas")
			o := fastOptions(srv, token, io.Discard, io.Discard)
			env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/web", "GITHUB_RUN_ID": "42"}
			o.Getenv = func(k string) string { return env[k] }
			if err := cli.Run(context.Background(), []string{"--title", "Deploy", "--", "sh", "-c", "echo deployed"}, o); err != nil {
				t.Fatalf("run returned %v, want success", err)
			}
			it, events := onlyRun(t, s, v)
			if it.Status != app.StatusSuccess || it.Source != app.SourceGitHubActions || it.Title != "Deploy" ||
				it.ExternalURL != "https://github.com/acme/web/actions/runs/42" {
				t.Errorf("the run is %s from %s titled %q linking %q", it.Status, it.Source, it.Title, it.ExternalURL)
			}
			if got := logsOf(t, events, "stdout"); len(got) != 1 || got[0] != "deployed" {
				t.Errorf("logs %v", got)
			}
		})

		t.Run("a refused token runs nothing", func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "ran")
			err := cli.Run(context.Background(), []string{"--", "touch", marker}, fastOptions(srv, "adk_not-a-token", io.Discard, io.Discard))
			if err == nil || !strings.Contains(err.Error(), "malformed token") {
				t.Errorf("run with a bad token returned %v, want the server's refusal", err)
			}
			if _, statErr := os.Stat(marker); statErr == nil {
				t.Error("the command ran although the run could not be created")
			}
		})
	})
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("line %d: %q, want %q", i+1, got[i], want[i])
		}
	}
	return "the end"
}

func TestRunSurvivesAServerRestartWithoutLosingOrRepeatingALine(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		srv := startServer(t, s)
		v, token := member(t, s, "maya")
		dir := t.TempDir()
		// The job prints in three parts; between them it waits for the test
		// to create a file.
		job := script(t, fmt.Sprintf(`#!/bin/sh
part() { i=$1; while [ $i -le $2 ]; do echo "line $i"; i=$((i + 1)); done; }
wait_for() { while [ ! -e "%[1]s/$1" ]; do sleep 0.01; done; }
part 1 500
wait_for down
part 501 1500
echo "printed while the server was down"
wait_for up
part 1501 2000
exit 3
`, dir))
		stdout, stderr := newWatcher(), newWatcher()
		result := make(chan error, 1)
		go func() {
			result <- cli.Run(context.Background(), []string{"--", job}, fastOptions(srv, token, stdout, stderr))
		}()

		// Part one reaches the server.
		deadline := time.After(time.Minute)
		for stored := 0; stored < 500; {
			select {
			case <-srv.acks:
			case <-deadline:
				t.Fatalf("after a minute the server holds %d lines, want 500", stored)
			}
			_, events := onlyRun(t, s, v)
			stored = len(events)
		}
		// The server goes away; part two is printed while it is down, and the
		// client says it is retrying.
		srv.stop()
		touch(t, filepath.Join(dir, "down"))
		stdout.waitFor(t, "printed while the server was down")
		stderr.waitFor(t, "retrying")
		// The same server comes back on the same port and the job finishes.
		srv.start()
		touch(t, filepath.Join(dir, "up"))

		err := <-result
		var exit *cli.ExitError
		if !errors.As(err, &exit) || exit.Code != 3 {
			t.Fatalf("run returned %v, want exit code 3", err)
		}
		it, events := onlyRun(t, s, v)
		want := append(append(numbered("line", 1, 1500), "printed while the server was down"), numbered("line", 1501, 2000)...)
		if got := logsOf(t, events, "stdout"); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%d lines arrived, want %d in order, each once; first difference near %s", len(got), len(want), firstDiff(got, want))
		}
		if it.Status != app.StatusFailed || eventData(t, events[len(events)-1])["exit_code"] != 3.0 {
			t.Errorf("the run ended %s with %v, want failed with exit code 3", it.Status, events[len(events)-1].Data)
		}
	})
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRunForwardsASignalAndRecordsTheRunAsFailed(t *testing.T) {
	s := apptest.SQLite(t)
	srv := startServer(t, s)
	v, token := member(t, s, "maya")
	never := filepath.Join(t.TempDir(), "never")
	job := script(t, fmt.Sprintf(`#!/bin/sh
echo ready
while [ ! -e %q ]; do sleep 0.01; done
`, never))
	stdout := newWatcher()
	signals := make(chan os.Signal, 1)
	o := fastOptions(srv, token, stdout, io.Discard)
	o.Signals = signals
	result := make(chan error, 1)
	go func() { result <- cli.Run(context.Background(), []string{"--", job}, o) }()
	stdout.waitFor(t, "ready")
	signals <- syscall.SIGTERM

	err := <-result
	var exit *cli.ExitError
	if !errors.As(err, &exit) || exit.Code != 128+int(syscall.SIGTERM) {
		t.Fatalf("run returned %v, want exit code %d", err, 128+int(syscall.SIGTERM))
	}
	it, events := onlyRun(t, s, v)
	data := eventData(t, events[len(events)-1])
	if it.Status != app.StatusFailed || !strings.Contains(fmt.Sprint(data["reason"]), "interrupted by terminated") {
		t.Errorf("the run ended %s with %v, want failed, interrupted by SIGTERM", it.Status, data)
	}
}
