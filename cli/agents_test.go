package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/agentdeck/agentdeck/cli/clitest"
)

// These tests run the real Claude Code and Codex against fake model APIs
// (clitest), wired to a real agentdeck by `agentdeck connect`, and check
// what a person then sees through the API and on the session page.

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// agentdeckBinary builds the agentdeck binary once per test run: the agents
// run it as their hook and notify program, and `agentdeck run` wraps them.
func agentdeckBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "agentdeck-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "agentdeck")
		out, err := exec.Command("go", "build", "-o", binaryPath, "github.com/agentdeck/agentdeck").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryPath != "" {
		os.RemoveAll(filepath.Dir(binaryPath))
	}
	os.Exit(code)
}

// deck is agentdeck for one person, maya, with an access token, and her
// machine: a home with the agents and a project that is a git checkout of
// acme/web on branch feature/agents.
type deck struct {
	t       *testing.T
	store   *app.Store
	srv     *server
	viewer  app.Viewer
	token   string
	home    string
	project string
	bin     string
}

func newDeck(t *testing.T, s *app.Store) *deck {
	t.Helper()
	ctx := context.Background()
	u := &app.User{Handle: "maya", Name: "Maya"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	v, err := s.Viewer(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := s.CreateAccessToken(ctx, u.ID, "laptop", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	d := &deck{t: t, store: s, srv: startServer(t, s), viewer: v, token: token, home: t.TempDir(), bin: agentdeckBinary(t)}
	d.project = filepath.Join(d.home, "src", "web")
	gitDir := filepath.Join(d.project, ".git")
	if err := os.MkdirAll(gitDir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(gitDir, "HEAD"), []byte("ref: refs/heads/feature/agents\n"), 0o644)
	os.WriteFile(filepath.Join(gitDir, "config"), []byte("[core]\n\tbare = false\n[remote \"origin\"]\n\turl = git@github.com:acme/web.git\n"), 0o644)
	return d
}

// agentdeck runs the agentdeck binary as maya on her machine.
func (d *deck) agentdeck(env []string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(d.bin, args...)
	cmd.Env = append(env, "HOME="+d.home, "AGENTDECK_URL="+d.srv.url(), "AGENTDECK_TOKEN="+d.token)
	cmd.Dir = d.project
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	err = cmd.Run()
	return out.String(), errs.String(), err
}

// connect wires an agent with `agentdeck connect`.
func (d *deck) connect(agent string) {
	d.t.Helper()
	if _, stderr, err := d.agentdeck(os.Environ(), "connect", agent); err != nil {
		d.t.Fatalf("agentdeck connect %s: %v\n%s", agent, err, stderr)
	}
}

// runAgent runs an agent CLI to its end in the project, in its own process
// group, and returns its output.
func (d *deck) runAgent(env []string, bin string, args ...string) string {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env, cmd.Dir = env, d.project
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		d.t.Fatalf("%s %q: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(bin), args, err, out.Bytes(), errs.Bytes())
	}
	return out.String()
}

// apiGet reads the API as maya.
func (d *deck) apiGet(path string, out any) {
	d.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, d.srv.url()+"/api/v1"+path, nil)
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		d.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		d.t.Fatal(err)
	}
}

// session is an item as the API shows it, with its transcript.
type session struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Status  string `json:"status"`
	Title   string `json:"title"`
	Reason  string `json:"reason"`
	Credits struct {
		Total          string   `json:"total"`
		UnpricedModels []string `json:"unpriced_models"`
	} `json:"credits"`
	Agent *struct {
		Name      string   `json:"name"`
		SessionID string   `json:"session_id"`
		Models    []string `json:"models"`
	} `json:"agent"`
	Tokens struct{ Input, CachedInput, Output int64 } `json:"tokens"`
	Where  struct{ Cwd, Repo, Branch string }         `json:"where"`
	// Transcript is "role: text" per message.
	Transcript []string `json:"-"`
}

// sessions lists maya's items with their transcripts, through the API.
func (d *deck) sessions() []session {
	d.t.Helper()
	var list struct {
		Runs []session `json:"runs"`
	}
	d.apiGet("/runs?limit=100", &list)
	for i := range list.Runs {
		var events struct {
			Events []struct{ Type, Role, Text string } `json:"events"`
		}
		d.apiGet("/runs/"+list.Runs[i].ID+"/events?type=message", &events)
		for _, e := range events.Events {
			list.Runs[i].Transcript = append(list.Runs[i].Transcript, e.Role+": "+e.Text)
		}
	}
	return list.Runs
}

// waitFor re-reads maya's sessions each time the store announces a change,
// until done says they are as wanted; it fails after a minute with what it
// last saw.
func (d *deck) waitFor(what string, done func([]session) bool) []session {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		sub, err := d.store.Hub().Subscribe(ctx, 256)
		if err != nil {
			d.t.Fatal(err)
		}
		for {
			got := d.sessions()
			if done(got) {
				sub.Close()
				return got
			}
			select {
			case _, open := <-sub.C:
				if open {
					continue
				}
			case <-ctx.Done():
				d.t.Fatalf("waited a minute for %s; the sessions are %+v", what, got)
			}
			break // the subscription was dropped: subscribe again
		}
	}
}

// page is a session's page as maya sees it in a browser.
func (d *deck) page(id string) string {
	d.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(d.srv.url() + "/signin")
	if err != nil {
		d.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)
	if m == nil {
		d.t.Fatal("no sign-in form")
	}
	resp, err = c.PostForm(d.srv.url()+"/auth/demo", url.Values{"user": {"maya"}, "csrf": {string(m[1])}})
	if err != nil {
		d.t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(d.srv.url() + "/runs/" + id)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		d.t.Fatalf("the session page: %d", resp.StatusCode)
	}
	return string(b)
}

// exportFast makes the agents' OTLP exporters send every half second
// rather than every few seconds.
var exportFast = []string{"OTEL_LOGS_EXPORT_INTERVAL=500", "OTEL_METRIC_EXPORT_INTERVAL=1000"}

// credits is a dollar amount in credits at the default rate, as a string.
func credits(t *testing.T, usd float64) string {
	t.Helper()
	cost, ok := app.USDFromFloat(usd)
	if !ok {
		t.Fatalf("%v dollars", usd)
	}
	c, _ := app.DefaultPricing().Credits(app.Usage{CostUSD: cost})
	return c.String()
}

// setClaudeProtocol makes the connected Claude Code export OTLP in protocol
// (http/json or http/protobuf).
func (d *deck) setClaudeProtocol(protocol string) {
	d.t.Helper()
	path := filepath.Join(d.home, ".claude", "settings.json")
	b, err := os.ReadFile(path)
	if err != nil {
		d.t.Fatal(err)
	}
	var settings map[string]any
	if err := json.Unmarshal(b, &settings); err != nil {
		d.t.Fatal(err)
	}
	settings["env"].(map[string]any)["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol
	b, _ = json.Marshal(settings)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		d.t.Fatal(err)
	}
}

func contains(list []string, want string) int {
	n := 0
	for _, s := range list {
		if s == want {
			n++
		}
	}
	return n
}

func TestClaudeCodeReportsItselfThroughHooksAndOTLP(t *testing.T) {
	claude, _ := clitest.AgentCLIs(t)
	for _, protocol := range []string{"http/json", "http/protobuf"} {
		t.Run(strings.ReplaceAll(protocol, "/", "-"), func(t *testing.T) {
			apptest.Each(t, func(t *testing.T, s *app.Store) {
				d := newDeck(t, s)
				model := clitest.Anthropic(t)
				d.connect("claude-code")
				d.setClaudeProtocol(protocol)

				d.runAgent(append(clitest.ClaudeEnv(d.home, model.URL), exportFast...), claude, "-p", clitest.RunTool+" please", "--allowedTools", "Bash")

				want := credits(t, clitest.ClaudeToolRunCostUSD)
				got := d.waitFor("one finished session with its cost", func(ss []session) bool {
					return len(ss) == 1 && ss[0].Status == "success" && ss[0].Credits.Total == want
				})[0]
				if got.Kind != "interactive" || got.Title != clitest.RunTool+" please" || got.Agent == nil || got.Agent.Name != "claude-code" {
					t.Errorf("the session: %+v", got)
				}
				if got.Where.Repo != "acme/web" || got.Where.Branch != "feature/agents" || got.Where.Cwd != d.project {
					t.Errorf("where: %+v", got.Where)
				}
				if got.Tokens.Input != 2*clitest.ClaudeInputTokens || got.Tokens.Output != 2*clitest.ClaudeOutputTokens {
					t.Errorf("tokens %+v", got.Tokens)
				}
				call, output := "tool: Bash: "+clitest.ToolCommand, "tool: "+clitest.ToolOutput
				if contains(got.Transcript, call) != 1 || contains(got.Transcript, output) != 1 || contains(got.Transcript, "user: "+clitest.RunTool+" please") != 1 {
					t.Errorf("the transcript, each turn once: %q", got.Transcript)
				}
				page := d.page(got.ID)
				for _, want := range []string{clitest.RunTool + " please", clitest.ToolCommand, clitest.ToolOutput, "Claude Code", "acme/web", want} {
					if !strings.Contains(page, want) {
						t.Errorf("the session page does not show %q", want)
					}
				}
			})
		})
	}
}

func TestCodexReportsItselfThroughOTLPHooksAndNotify(t *testing.T) {
	_, codex := clitest.AgentCLIs(t)
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		d := newDeck(t, s)
		model := clitest.OpenAI(t)
		clitest.WriteCodexConfig(t, clitest.CodexHome(d.home), model.URL, "")
		d.connect("codex")

		d.runAgent(clitest.CodexEnv(d.home), codex, "exec", "--skip-git-repo-check", clitest.CodexHookTrustFlag, clitest.RunTool+" please")

		perResponse, ok := app.DefaultPricing().Credits(app.Usage{Model: clitest.OpenAIModel, Tokens: app.Tokens{
			Input: clitest.OpenAIInputTokens, CachedInput: clitest.OpenAICachedInputTokens, Output: clitest.OpenAIOutputTokens,
		}})
		if !ok {
			t.Fatalf("the price table has no %s", clitest.OpenAIModel)
		}
		want := (perResponse * app.Credits(model.Answers())).String()
		got := d.waitFor("one finished Codex session priced from the table", func(ss []session) bool {
			return len(ss) == 1 && ss[0].Status == "success" && ss[0].Credits.Total == want
		})[0]
		if got.Title != clitest.RunTool+" please" || got.Agent == nil || got.Agent.Name != "codex" || len(got.Credits.UnpricedModels) != 0 {
			t.Errorf("the session: %+v", got)
		}
		if contains(got.Transcript, "tool: "+clitest.ToolOutput+"\n") == 0 && contains(got.Transcript, "tool: "+clitest.ToolOutput) == 0 {
			t.Errorf("the tool's output is not in the transcript: %q", got.Transcript)
		}
	})
}

func TestAgentdeckRunOfClaudeStreamJSONIsOneAmbientRun(t *testing.T) {
	claude, _ := clitest.AgentCLIs(t)
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		d := newDeck(t, s)
		model := clitest.Anthropic(t)
		// Hooks and OTLP report too: all three channels must meet on one item.
		d.connect("claude-code")
		env := append(clitest.ClaudeEnv(d.home, model.URL), exportFast...)
		stdout, stderr, err := d.agentdeck(env, "run", "--", claude, "-p", clitest.RunTool+" please",
			"--output-format", "stream-json", "--verbose", "--allowedTools", "Bash")
		if err != nil {
			t.Fatalf("agentdeck run: %v\n%s", err, stderr)
		}
		if !strings.Contains(stdout, `"type":"result"`) {
			t.Errorf("the agent's own output did not reach the terminal: %q", stdout)
		}
		want := credits(t, clitest.ClaudeToolRunCostUSD)
		got := d.waitFor("one ambient run with the agent's cost", func(ss []session) bool {
			return len(ss) == 1 && ss[0].Status == "success" && ss[0].Credits.Total == want
		})[0]
		if got.Kind != "ambient" || got.Title != clitest.RunTool+" please" || got.Agent == nil || got.Agent.Name != "claude-code" {
			t.Errorf("the run: %+v", got)
		}
		if n := contains(got.Transcript, "tool: Bash: "+clitest.ToolCommand); n != 1 {
			t.Errorf("the tool call is in the transcript %d times, want once: %q", n, got.Transcript)
		}
		var logs struct {
			Events []struct{ Text string } `json:"events"`
		}
		d.apiGet("/runs/"+got.ID+"/events?type=log", &logs)
		if len(logs.Events) == 0 || !strings.Contains(logs.Events[len(logs.Events)-1].Text, `"type":"result"`) {
			t.Errorf("the raw lines are not in the run's log")
		}
	})
}

func TestAClaudeKilledMidToolLosesContact(t *testing.T) {
	claude, _ := clitest.AgentCLIs(t)
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		d := newDeck(t, s)
		model := clitest.Anthropic(t)
		d.connect("claude-code")
		cmd := exec.Command(claude, "-p", clitest.SlowTool+" please", "--allowedTools", "Bash")
		cmd.Env, cmd.Dir = append(clitest.ClaudeEnv(d.home, model.URL), exportFast...), d.project
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { killProcessesIn(d.project) })
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := model.WaitToolCall(ctx, 1); err != nil {
			t.Fatal(err)
		}
		working := d.waitFor("the session working on its tool", func(ss []session) bool {
			return len(ss) == 1 && ss[0].Status == "working" && contains(ss[0].Transcript, "tool: Bash: "+clitest.SlowToolCommand) == 1
		})[0]

		// The laptop dies: no hook, no export, nothing more.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		killProcessesIn(d.project)

		if got := d.sessions()[0]; got.Status != "working" {
			t.Fatalf("right after the kill: %s, want still working", got.Status)
		}
		rule := app.DefaultLiveness
		s.SetClock(func() time.Time { return time.Now().Add(rule.StaleAfter + time.Minute) })
		if _, err := s.CloseSilentSessions(context.Background(), rule); err != nil {
			t.Fatal(err)
		}
		got := d.sessions()[0]
		if got.ID != working.ID || got.Status != "failed" || got.Reason != app.ReasonLostContact {
			t.Errorf("after the stale window: %s %q, want failed, %q", got.Status, got.Reason, app.ReasonLostContact)
		}
		if !strings.Contains(d.page(got.ID), app.ReasonLostContact) {
			t.Error("the session page does not say it lost contact")
		}
	})
}

// killProcessesIn kills whatever still runs in dir: Claude Code runs a Bash
// tool's command in a session of its own, which outlives a killed agent.
func killProcessesIn(dir string) {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		if cwd, err := os.Readlink(filepath.Join(p, "cwd")); err == nil && cwd == dir {
			var pid int
			fmt.Sscanf(filepath.Base(p), "%d", &pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
