// Package cli is agentdeck's command-line client. Its one command, run,
// reports any command as an ambient run: it creates the run, streams the
// command's output as log events, and records how it ended.
package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/agentdeck/agentdeck/app"
	"github.com/google/uuid"
)

// ExitError carries the exit code agentdeck run must end with: the
// command's own.
type ExitError struct {
	Code int
}

func (e *ExitError) Error() string { return fmt.Sprintf("the command exited with code %d", e.Code) }

// Options are what run needs from its surroundings. The zero values of the
// timings are production defaults; tests shorten them.
type Options struct {
	URL, Token string // AGENTDECK_URL and AGENTDECK_TOKEN
	Getenv     func(string) string
	Stdin      io.Reader
	Stdout     io.Writer
	Stderr     io.Writer
	// Signals (SIGINT, SIGTERM) are forwarded to the command while it runs,
	// and the run is then recorded as failed with the signal as the reason;
	// the command decides how to end. Once it has ended, a signal stops
	// whatever is still being sent, and agentdeck exits at once. One before
	// the command starts stops agentdeck from starting it.
	Signals <-chan os.Signal

	MinBackoff    time.Duration // first pause before a retry (200ms)
	MaxBackoff    time.Duration // longest pause between retries (10s)
	FlushInterval time.Duration // the longest a line waits to be sent (250ms)
	// HeartbeatInterval is how often a quiet run tells the server it is
	// alive (1 minute), so that an agent it wraps is not taken for lost.
	HeartbeatInterval time.Duration
	// CreateTimeout bounds how long the run's creation is retried before the
	// command starts (1 minute); DrainTimeout how long everything sent after
	// the command ended may take, retries included: the output still
	// queued, the exit code and the final status (5 minutes). While the
	// command runs, sending is retried for as long as it takes.
	CreateTimeout time.Duration
	DrainTimeout  time.Duration
}

func (o *Options) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&o.MinBackoff, 200*time.Millisecond)
	set(&o.MaxBackoff, 10*time.Second)
	set(&o.FlushInterval, 250*time.Millisecond)
	set(&o.HeartbeatInterval, time.Minute)
	set(&o.CreateTimeout, time.Minute)
	set(&o.DrainTimeout, 5*time.Minute)
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
}

// Batching: a batch is sent when it holds maxBatchLines lines or
// maxBatchBytes of text, or FlushInterval after its first line. A line longer
// than maxLineBytes is sent in pieces. lineBuffer lines may wait while a
// batch is being sent; beyond that the command's output is not read until
// the server takes more, so memory stays bounded and no line is dropped.
const (
	maxBatchLines = 500
	maxBatchBytes = 128 << 10
	maxLineBytes  = 64 << 10
	lineBuffer    = 2048
	maxTitle      = 300
)

const usage = "usage: agentdeck run [--title TITLE] [--source cli|github_actions|scheduled] [--team SLUG] -- COMMAND [ARGS…]"

// Run is "agentdeck run": it returns nil when the command succeeded, an
// *ExitError with its exit code when it failed, and another error when the
// run could not be started or reported.
func Run(ctx context.Context, args []string, o Options) error {
	o.defaults()
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	title := fs.String("title", "", "the run's title (default: the command line)")
	source := fs.String("source", "", "cli, github_actions or scheduled")
	team := fs.String("team", "", "the slug of a team of yours to file the run under")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("run: %w (%s)", err, usage)
	}
	command := fs.Args()
	if len(command) == 0 {
		return errors.New(usage)
	}
	if o.URL == "" || o.Token == "" {
		return errors.New("run: set AGENTDECK_URL to the server and AGENTDECK_TOKEN to a personal access token")
	}

	newRun := map[string]any{"id": uuid.Must(uuid.NewV7()).String(), "kind": "ambient", "source": "cli"}
	if o.Getenv("GITHUB_ACTIONS") == "true" {
		newRun["source"] = "github_actions"
		server, repo, id := o.Getenv("GITHUB_SERVER_URL"), o.Getenv("GITHUB_REPOSITORY"), o.Getenv("GITHUB_RUN_ID")
		if server != "" && repo != "" && id != "" {
			newRun["external_url"] = strings.TrimRight(server, "/") + "/" + repo + "/actions/runs/" + id
		}
	}
	switch *source {
	case "":
	case "cli", "github_actions", "scheduled":
		newRun["source"] = *source
	default:
		return fmt.Errorf("run: --source must be cli, github_actions or scheduled, not %q", *source)
	}
	if *title == "" {
		*title = agentPrompt(command)
	}
	if *title == "" {
		*title = strings.Join(command, " ")
	}
	newRun["title"] = app.ClipText(app.CleanText(strings.Join(strings.Fields(*title), " ")), maxTitle)
	if where := runPlace(o.Getenv); len(where) > 0 {
		newRun["where"] = where
	}
	if *team != "" {
		newRun["team"] = *team
	}
	started := time.Now().UTC()
	newRun["started_at"] = started.Format(time.RFC3339Nano)

	r := &reporter{o: o, id: newRun["id"].(string), source: newRun["source"].(string)}
	r.api = &client{
		base: strings.TrimRight(o.URL, "/") + "/api/v1", token: o.Token,
		http:       &http.Client{Timeout: 30 * time.Second},
		minBackoff: o.MinBackoff, maxBackoff: o.MaxBackoff,
		unreachable: r.noteUnreachable,
	}
	// Reporting outlives a cancelled ctx: the end of a run is what matters,
	// and the signals that end agentdeck come through o.Signals.
	bg := context.WithoutCancel(ctx)
	if sig, err := r.create(bg, newRun); sig != nil {
		fmt.Fprintf(o.Stderr, "agentdeck: %v before the command started; it was not run\n", sig)
		if err != nil {
			return &ExitError{Code: signalExitCode(sig)}
		}
		// The run exists: it ends failed, its command never started.
		r.reason = fmt.Sprintf("interrupted by %v before the command started", sig)
		sending, stopSending := context.WithCancel(bg)
		defer stopSending()
		return r.drain(sending, stopSending, func() error { return r.finish(sending, signalExitCode(sig), "", nil) })
	} else if err != nil {
		return fmt.Errorf("run: cannot create the run on %s: %w", o.URL, err)
	}
	fmt.Fprintf(o.Stderr, "agentdeck: reporting to %s/runs/%s\n", strings.TrimRight(o.URL, "/"), r.id)
	return r.execute(bg, command)
}

// create makes the run on the server, retrying for up to CreateTimeout. A
// signal meanwhile stops it, and is returned with what became of the run:
// err is nil when it was created all the same.
func (r *reporter) create(ctx context.Context, newRun map[string]any) (os.Signal, error) {
	ctx, cancel := context.WithTimeout(ctx, r.o.CreateTimeout)
	defer cancel()
	created := make(chan struct{})
	interrupted := make(chan os.Signal, 1)
	go func() {
		select {
		case sig := <-r.o.Signals:
			cancel()
			interrupted <- sig
		case <-created:
			interrupted <- nil
		}
	}()
	err := r.api.do(ctx, http.MethodPost, "/runs", "", newRun, nil)
	close(created)
	return <-interrupted, err
}

// signalExitCode is the exit code of a process a signal ended: 128 + N.
func signalExitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

// reporter runs one command and reports it.
type reporter struct {
	o      Options
	id     string
	source string
	api    *client

	mu       sync.Mutex
	reason   string // why the run failed besides its exit code
	lastNote time.Time
	// drainEnds is when sending stops, once the command has ended; zero
	// while it runs. drainNoted says the user was told.
	drainEnds  time.Time
	drainNoted bool
}

// line is one line of the command's output.
type line struct {
	stream string
	text   string
}

// noteUnreachable tells the user, at most every few seconds, that the
// server is not taking the output yet and that it is being retried; once
// the command has ended, also for how much longer, and how to stop.
func (r *reporter) noteUnreachable(err error, wait time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.drainEnds.IsZero() && !r.drainNoted {
		r.drainNoted, r.lastNote = true, time.Now()
		fmt.Fprintf(r.o.Stderr, "agentdeck: %v; the command has ended, so what is left is retried for %v more (interrupt to stop)\n",
			err, time.Until(r.drainEnds).Round(time.Second))
		return
	}
	if time.Since(r.lastNote) < 5*time.Second {
		return
	}
	r.lastNote = time.Now()
	fmt.Fprintf(r.o.Stderr, "agentdeck: %v; retrying in %v (no output is lost)\n", err, wait.Round(time.Millisecond))
}

func (r *reporter) execute(ctx context.Context, command []string) error {
	// Sending is worth it for as long as the command runs, then for
	// DrainTimeout, or until a signal says stop (drain).
	sending, stopSending := context.WithCancel(ctx)
	defer stopSending()

	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin = r.o.Stdin
	cmd.Env = r.childEnv()
	// The command gets a process group of its own, so that a forwarded
	// signal reaches everything it started (a shell's children too), and a
	// Ctrl-C at the terminal reaches it once, through agentdeck.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The command writes into pipes of our own, not exec's, so that Wait
	// returns the moment it exits, whatever is still unread: its end is
	// known even while the server is not taking its output.
	stdout, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	stderr, errW, err := os.Pipe()
	if err != nil {
		stdout.Close()
		outW.Close()
		return err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	startErr := cmd.Start()
	outW.Close() // the command holds its own ends
	errW.Close()
	// When sending stops, reading stops too: a process the command left
	// behind, holding its output open, does not hold agentdeck.
	context.AfterFunc(sending, func() { stdout.Close(); stderr.Close() })
	if startErr != nil {
		r.reason = fmt.Sprintf("could not start %s: %v", command[0], startErr)
		fmt.Fprintln(r.o.Stderr, "agentdeck:", r.reason)
		return r.drain(sending, stopSending, func() error { return r.finish(sending, 127, "", nil) })
	}

	lines := make(chan line, lineBuffer)
	var readers sync.WaitGroup
	readers.Go(func() { readLines(stdout, "stdout", r.o.Stdout, lines) })
	readers.Go(func() { readLines(stderr, "stderr", r.o.Stderr, lines) })
	go func() { readers.Wait(); close(lines) }()
	shipped := make(chan error, 1)
	go func() { shipped <- r.ship(sending, lines) }()
	stopHeartbeat := make(chan struct{})
	go r.heartbeat(ctx, stopHeartbeat)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// While the command runs, every signal is the command's: it decides
	// how to end (a second Ctrl-C included).
	var waitErr error
	for running := true; running; {
		select {
		case sig := <-r.o.Signals:
			r.forward(cmd, sig)
		case waitErr = <-exited:
			running = false
		}
	}
	close(stopHeartbeat)
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		return fmt.Errorf("run: wait for the command: %w", waitErr)
	}
	code := cmd.ProcessState.ExitCode()
	var signal string
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
		signal = ws.Signal().String()
	}
	return r.drain(sending, stopSending, func() error {
		return r.finish(sending, code, signal, <-shipped)
	})
}

// forward passes a signal to the command's process group, and records it
// as the reason the run failed.
func (r *reporter) forward(cmd *exec.Cmd, sig os.Signal) {
	r.mu.Lock()
	r.reason = fmt.Sprintf("interrupted by %v", sig)
	r.mu.Unlock()
	if s, ok := sig.(syscall.Signal); ok {
		syscall.Kill(-cmd.Process.Pid, s)
	} else {
		cmd.Process.Signal(sig)
	}
}

// drain ends the report of a command that has ended: report sends what is
// left through sending, which stop ends. Everything it sends has
// DrainTimeout from now, retries included, as the README promises; a signal
// ends it at once. It returns what report returns.
func (r *reporter) drain(sending context.Context, stop context.CancelFunc, report func() error) error {
	r.mu.Lock()
	r.drainEnds = time.Now().Add(r.o.DrainTimeout)
	r.mu.Unlock()
	deadline := time.AfterFunc(r.o.DrainTimeout, stop)
	defer deadline.Stop()
	done := make(chan error, 1)
	go func() { done <- report() }()
	for {
		select {
		case sig := <-r.o.Signals:
			if sending.Err() == nil {
				fmt.Fprintf(r.o.Stderr, "agentdeck: %v: stopped sending what was left\n", sig)
			}
			stop()
		case err := <-done:
			return err
		}
	}
}

// readLines copies a stream to the terminal and sends its lines on, each
// as the server stores it (app.CleanText), in pieces of at most
// app.MaxEventText bytes. A piece of a long line ends on a whole
// character; the rest of the character starts the next piece.
func readLines(src io.Reader, stream string, echo io.Writer, out chan<- line) {
	br := bufio.NewReaderSize(src, maxLineBytes)
	var carry []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			echo.Write(chunk)
			piece := append(carry, chunk...)
			carry = nil
			if errors.Is(err, bufio.ErrBufferFull) {
				cut := len(piece) - incompleteRune(piece)
				piece, carry = piece[:cut], slices.Clone(piece[cut:])
			}
			sendText(app.CleanText(strings.TrimRight(string(piece), "\r\n")), stream, out)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if len(carry) > 0 {
				sendText(app.CleanText(string(carry)), stream, out)
			}
			return
		}
	}
}

// incompleteRune is how many bytes at the end of b begin a character that
// b does not finish.
func incompleteRune(b []byte) int {
	for i := 1; i <= min(utf8.UTFMax-1, len(b)); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if utf8.FullRune(b[len(b)-i:]) {
				return 0
			}
			return i
		}
	}
	return 0
}

// sendText sends one line, in pieces the server takes whole.
func sendText(text, stream string, out chan<- line) {
	for {
		piece := app.ClipText(text, app.MaxEventText)
		out <- line{stream: stream, text: piece}
		if text = text[len(piece):]; text == "" {
			return
		}
	}
}

// ship batches lines by count, size and time and sends each batch until
// the server takes it. It always drains lines, so the command never waits
// on a reporter that gave up.
func (r *reporter) ship(ctx context.Context, lines <-chan line) error {
	var (
		batch   []map[string]any
		size    int
		timer   *time.Timer
		timeout <-chan time.Time
		failed  error
	)
	send := func() {
		if len(batch) > 0 && failed == nil {
			// The server numbers the lines, after whatever the agent the
			// command runs reports into the run; the batch's key makes a
			// retry of it harmless.
			failed = r.api.do(ctx, http.MethodPost, "/runs/"+r.id+"/events", newBatchKey(), map[string]any{"events": batch}, nil)
			if failed != nil {
				fmt.Fprintf(r.o.Stderr, "agentdeck: stopped reporting output: %v\n", failed)
			}
		}
		batch, size, timeout = nil, 0, nil
		if timer != nil {
			timer.Stop()
		}
	}
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				send()
				return failed
			}
			ev := map[string]any{"type": "log", "text": l.text}
			if l.stream == "stderr" {
				ev["data"] = map[string]any{"stream": "stderr"}
			}
			batch = append(batch, ev)
			size += len(l.text)
			if timeout == nil {
				timer = time.NewTimer(r.o.FlushInterval)
				timeout = timer.C
			}
			if len(batch) >= maxBatchLines || size >= maxBatchBytes {
				send()
			}
		case <-timeout:
			send()
		}
	}
}

// finish records how the command ended: an output event with the exit code
// and the reason, then the final status and finish time, for as long as ctx
// lets it (drain). shipErr is why output stopped being reported, if it did.
// It returns the command's exit code as an *ExitError, or nil for success.
func (r *reporter) finish(ctx context.Context, code int, signal string, shipErr error) error {
	r.mu.Lock()
	reason := r.reason
	r.mu.Unlock()
	status := "success"
	if code != 0 || reason != "" {
		status = "failed"
	}
	text := fmt.Sprintf("Exited with code %d", code)
	if reason != "" {
		text = fmt.Sprintf("Failed: %s; exited with code %d", reason, code)
	}
	data := map[string]any{"exit_code": code}
	if reason != "" {
		data["reason"] = reason
	}
	if signal != "" {
		data["signal"] = signal
	}
	finished := time.Now().UTC()
	var problems []error
	if shipErr != nil {
		problems = append(problems, shipErr)
	}
	summary := map[string]any{"events": []map[string]any{{"type": "output", "text": text, "data": data}}}
	if err := r.api.do(ctx, http.MethodPost, "/runs/"+r.id+"/events", newBatchKey(), summary, nil); err != nil {
		problems = append(problems, err)
	}
	patch := map[string]any{"status": status, "finished_at": finished.Format(time.RFC3339Nano)}
	var refused *apiError
	if err := r.api.do(ctx, http.MethodPatch, "/runs/"+r.id, "", patch, nil); errors.As(err, &refused) && refused.Status == http.StatusConflict {
		// An agent the command ran reported its own end (its result line)
		// first; that stands.
		fmt.Fprintf(r.o.Stderr, "agentdeck: the run keeps the status its agent reported: %s\n", refused.Message)
	} else if err != nil {
		problems = append(problems, err)
	}
	for _, p := range problems {
		fmt.Fprintf(r.o.Stderr, "agentdeck: the run's report is incomplete: %v\n", p)
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	if reason != "" {
		return &ExitError{Code: 1}
	}
	return nil
}

// newBatchKey is a fresh Idempotency-Key for one batch of events.
func newBatchKey() string { return uuid.Must(uuid.NewV7()).String() }

// heartbeat tells the server the run is alive while its command runs, so
// that an agent the command runs, quiet for a long tool call, is not taken
// for lost (§10). A missed heartbeat is harmless.
func (r *reporter) heartbeat(ctx context.Context, stop <-chan struct{}) {
	tick := time.NewTicker(r.o.HeartbeatInterval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			beatCtx, cancel := context.WithTimeout(ctx, r.o.HeartbeatInterval)
			r.api.do(beatCtx, http.MethodPatch, "/runs/"+r.id, "", map[string]any{}, nil)
			cancel()
		}
	}
}

// childEnv is the command's environment with the run named in it: an agent
// the command runs reports into this run, through its hooks
// (AGENTDECK_RUN_ID) and its OTLP exporter (the resource attributes), as an
// ambient run.
func (r *reporter) childEnv() []string {
	env := os.Environ()
	attrs := fmt.Sprintf("agentdeck.run_id=%s,agentdeck.kind=ambient,agentdeck.source=%s", r.id, r.source)
	out := make([]string, 0, len(env)+2)
	merged := false
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "AGENTDECK_RUN_ID="):
			continue
		case strings.HasPrefix(kv, "OTEL_RESOURCE_ATTRIBUTES="):
			if existing := strings.TrimPrefix(kv, "OTEL_RESOURCE_ATTRIBUTES="); existing != "" {
				kv = "OTEL_RESOURCE_ATTRIBUTES=" + existing + "," + attrs
				merged = true
			}
		}
		out = append(out, kv)
	}
	if !merged {
		out = append(out, "OTEL_RESOURCE_ATTRIBUTES="+attrs)
	}
	return append(out, "AGENTDECK_RUN_ID="+r.id)
}

// agentPrompt finds the prompt in the command line of an agent run
// headless — `claude -p PROMPT …` or `codex exec … PROMPT` — to title the
// run with; "" for any other command.
func agentPrompt(command []string) string {
	switch filepath.Base(command[0]) {
	case "claude":
		args := command[1:]
		for i, a := range args {
			if (a == "-p" || a == "--print") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				return args[i+1]
			}
		}
		return lastPositional(args)
	case "codex":
		if len(command) > 1 && command[1] == "exec" {
			return lastPositional(command[2:])
		}
	}
	return ""
}

// lastPositional is the last argument that is not a flag or a flag's
// value; it errs towards "" when it cannot tell.
func lastPositional(args []string) string {
	if len(args) == 0 {
		return ""
	}
	last := args[len(args)-1]
	if strings.HasPrefix(last, "-") {
		return ""
	}
	if len(args) >= 2 {
		prev := args[len(args)-2]
		if strings.HasPrefix(prev, "-") && !strings.Contains(prev, "=") && !booleanFlag(prev) {
			return ""
		}
	}
	return last
}

// booleanFlag lists the flags of claude and codex that take no value, so
// that the argument after one is still the prompt.
func booleanFlag(f string) bool {
	switch f {
	case "-p", "--print", "--verbose", "--json", "--skip-git-repo-check", "--full-auto", "--dangerously-bypass-hook-trust",
		"--dangerously-skip-permissions", "--dangerously-bypass-approvals-and-sandbox", "--continue", "-c", "--oss":
		return true
	}
	return false
}

// runPlace says where the run runs: the working directory and its
// repository and branch, from git, or from GitHub Actions' variables.
func runPlace(getenv func(string) string) map[string]string {
	where := map[string]string{}
	if cwd, err := os.Getwd(); err == nil {
		where["cwd"] = cwd
		where["repo"], where["branch"] = gitPlace(cwd)
	}
	if repo := getenv("GITHUB_REPOSITORY"); repo != "" {
		where["repo"] = repo
	}
	if ref := getenv("GITHUB_HEAD_REF"); ref != "" {
		where["branch"] = ref
	} else if ref := getenv("GITHUB_REF_NAME"); ref != "" && where["branch"] == "" {
		where["branch"] = ref
	}
	for k, v := range where {
		if v == "" {
			delete(where, k)
		}
	}
	return where
}
