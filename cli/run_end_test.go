package cli_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
)

func TestRunKeepsEveryLineAroundANulByte(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		srv := startServer(t, s)
		v, token := member(t, s, "maya")
		err := cli.Run(context.Background(), []string{"--", "sh", "-c", `echo before; printf "a\000b\n"; echo after`},
			fastOptions(srv, token, io.Discard, io.Discard))
		if err != nil {
			t.Fatalf("run returned %v, want success", err)
		}
		it, events := onlyRun(t, s, v)
		if got, want := logsOf(t, events, "stdout"), []string{"before", "a\uFFFDb", "after"}; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("logs %q, want %q (the NUL byte as U+FFFD)", got, want)
		}
		if it.Status != app.StatusSuccess {
			t.Errorf("the run is %s, want success", it.Status)
		}
	})
}

// fakeAPI answers agentdeck run as a server would, but for the event
// batches, which it answers as events says: attempt counts the tries of one
// batch (its Idempotency-Key), from 1.
type fakeAPI struct {
	t      *testing.T
	url    string
	events func(attempt int) int
	// creating, when set, holds the run's creation until the request ends.
	creating chan struct{}

	mu       sync.Mutex
	attempts map[string]int
}

func newFakeAPI(t *testing.T, events func(attempt int) int) *fakeAPI {
	f := &fakeAPI{t: t, events: events, attempts: map[string]int{}}
	ts := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/runs":
		if f.creating != nil {
			close(f.creating)
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "{}")
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/events"):
		f.mu.Lock()
		key := r.Header.Get("Idempotency-Key")
		f.attempts[key]++
		status := f.events(f.attempts[key])
		f.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"code":"x","message":"answered %d"}}`, status)
	default:
		io.WriteString(w, "{}")
	}
}

// tries lists how often each batch was sent.
func (f *fakeAPI) tries() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for _, n := range f.attempts {
		out = append(out, n)
	}
	return out
}

func (f *fakeAPI) options(stderr io.Writer) cli.Options {
	return cli.Options{URL: f.url, Token: "adk_test", Stderr: stderr,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, FlushInterval: 5 * time.Millisecond}
}

// result waits for run's answer, failing after a minute: it must come on
// its own, without a signal or the server's help.
func result(t *testing.T, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(time.Minute):
		t.Fatal("agentdeck run did not return within a minute")
		return nil
	}
}

func TestRunSendsAgainOnlyWhatMaySucceedLater(t *testing.T) {
	for _, c := range []struct {
		status int
		tries  int // of each batch
	}{
		{http.StatusBadRequest, 1},
		{http.StatusNotFound, 1},
		{http.StatusConflict, 1},
		{http.StatusRequestEntityTooLarge, 1},
		{http.StatusUnprocessableEntity, 1},
		// Only these say "later": a server fault, an overload, a rate limit.
		{http.StatusTooManyRequests, 2},
		{http.StatusInternalServerError, 2},
		{http.StatusServiceUnavailable, 2},
	} {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			api := newFakeAPI(t, func(attempt int) int {
				if attempt == 1 {
					return c.status
				}
				return http.StatusOK
			})
			errc := make(chan error, 1)
			go func() {
				errc <- cli.Run(context.Background(), []string{"--", "echo", "hello"}, api.options(io.Discard))
			}()
			result(t, errc)
			tries := api.tries()
			if len(tries) == 0 {
				t.Fatal("no batch was sent")
			}
			for _, n := range tries {
				if n != c.tries {
					t.Errorf("a batch answered %d was sent %d times, want %d", c.status, n, c.tries)
				}
			}
		})
	}
}

func TestRunStopsSendingWithinTheDrainTimeoutOfTheCommandsEnd(t *testing.T) {
	api := newFakeAPI(t, func(int) int { return http.StatusServiceUnavailable })
	stderr := newWatcher()
	o := api.options(stderr)
	o.DrainTimeout = 200 * time.Millisecond
	// Several batches are still queued when the command ends: none of them
	// may be retried past the drain timeout.
	errc := make(chan error, 1)
	go func() {
		errc <- cli.Run(context.Background(), []string{"--", "sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done"}, o)
	}()
	if err := result(t, errc); err != nil {
		t.Errorf("run returned %v, want the command's success", err)
	}
	if !strings.Contains(stderr.String(), "the run's report is incomplete") {
		t.Errorf("stderr %q does not say the report is incomplete", stderr.String())
	}
}

func TestASignalWhileDrainingEndsRunAtOnce(t *testing.T) {
	api := newFakeAPI(t, func(int) int { return http.StatusServiceUnavailable })
	stderr := newWatcher()
	signals := make(chan os.Signal, 1)
	o := api.options(stderr)
	o.DrainTimeout = time.Hour
	o.Signals = signals
	errc := make(chan error, 1)
	go func() { errc <- cli.Run(context.Background(), []string{"--", "sh", "-c", "echo done; exit 4"}, o) }()
	// The command has ended and what is left is being retried.
	stderr.waitFor(t, "interrupt to stop")
	signals <- syscall.SIGINT
	err := result(t, errc)
	var exit *cli.ExitError
	if !errors.As(err, &exit) || exit.Code != 4 {
		t.Errorf("run returned %v, want the command's exit code 4", err)
	}
	if !strings.Contains(stderr.String(), "stopped sending what was left") {
		t.Errorf("stderr %q does not say sending stopped", stderr.String())
	}
}

func TestEverySignalGoesToTheCommandWhileItRuns(t *testing.T) {
	s := apptest.SQLite(t)
	srv := startServer(t, s)
	v, token := member(t, s, "maya")
	// The command takes two interrupts to end, as an agent's interactive
	// session does.
	job := script(t, `#!/bin/sh
n=0
trap 'n=$((n+1)); echo "interrupt $n"; if [ $n -ge 2 ]; then exit 5; fi' INT
echo ready
while :; do sleep 0.01; done
`)
	stdout := newWatcher()
	signals := make(chan os.Signal, 1)
	o := fastOptions(srv, token, stdout, io.Discard)
	o.Signals = signals
	errc := make(chan error, 1)
	go func() { errc <- cli.Run(context.Background(), []string{"--", job}, o) }()
	stdout.waitFor(t, "ready")
	signals <- syscall.SIGINT
	stdout.waitFor(t, "interrupt 1")
	signals <- syscall.SIGINT
	err := result(t, errc)
	var exit *cli.ExitError
	if !errors.As(err, &exit) || exit.Code != 5 {
		t.Fatalf("run returned %v, want the command's exit code 5", err)
	}
	it, events := onlyRun(t, s, v)
	if data := eventData(t, events[len(events)-1]); it.Status != app.StatusFailed || !strings.Contains(fmt.Sprint(data["reason"]), "interrupted") {
		t.Errorf("the run ended %s with %v, want failed, interrupted", it.Status, data)
	}
}

func TestASignalBeforeTheCommandStartsRunsNothing(t *testing.T) {
	api := newFakeAPI(t, func(int) int { return http.StatusOK })
	api.creating = make(chan struct{})
	signals := make(chan os.Signal, 1)
	o := api.options(io.Discard)
	o.Signals = signals
	marker := filepath.Join(t.TempDir(), "ran")
	errc := make(chan error, 1)
	go func() { errc <- cli.Run(context.Background(), []string{"--", "touch", marker}, o) }()
	// The server holds the run's creation; the person gives up waiting.
	<-api.creating
	signals <- syscall.SIGTERM
	err := result(t, errc)
	var exit *cli.ExitError
	if !errors.As(err, &exit) || exit.Code != 128+int(syscall.SIGTERM) {
		t.Errorf("run returned %v, want exit code %d", err, 128+int(syscall.SIGTERM))
	}
	if _, statErr := os.Stat(marker); statErr == nil {
		t.Error("the command ran although agentdeck was interrupted before starting it")
	}
}
