//go:build unix

package clitest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const cliTimeout = 90 * time.Second

// runCLI runs bin in dir with env and returns its standard output, failing
// the test if it does not exit 0 within cliTimeout.
func runCLI(t *testing.T, env []string, dir, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env, cmd.Dir = env, dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %q: %v\nstdout:\n%s\nstderr:\n%s", bin, args, err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// jsonLines decodes each line of out as a JSON object.
func jsonLines(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("a line is not JSON: %v: %s", err, sc.Bytes())
		}
		lines = append(lines, m)
	}
	if len(lines) == 0 {
		t.Fatal("no output")
	}
	return lines
}

func num(t *testing.T, m map[string]any, path ...string) float64 {
	t.Helper()
	var v any = m
	for _, k := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v: no object at %q in %v", path, k, m)
		}
		v = obj[k]
	}
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("%v is %v (%T), not a number", path, v, v)
	}
	return f
}

func claudeRun(t *testing.T, prompt string, extra ...string) (*FakeAPI, []map[string]any) {
	claude, _ := AgentCLIs(t)
	fake := Anthropic(t)
	args := append([]string{"-p", prompt, "--output-format", "stream-json", "--verbose"}, extra...)
	out := runCLI(t, ClaudeEnv(t.TempDir(), fake.URL), t.TempDir(), claude, args...)
	return fake, jsonLines(t, out)
}

// checkClaudeResult checks the final stream-json line of a run that got
// answers answers from the fake.
func checkClaudeResult(t *testing.T, lines []map[string]any, answers int) {
	t.Helper()
	res := lines[len(lines)-1]
	if res["type"] != "result" || res["subtype"] != "success" || res["is_error"] != false || res["result"] != Text {
		t.Fatalf("last line is not a successful result saying %q: %v", Text, res)
	}
	want := float64(answers) * ClaudeCostPerAnswerUSD
	if got := num(t, res, "total_cost_usd"); got != want {
		t.Errorf("total_cost_usd = %v, want exactly %v", got, want)
	}
	if got := num(t, res, "modelUsage", ClaudeModel, "costUSD"); got != want {
		t.Errorf("modelUsage[%s].costUSD = %v, want exactly %v", ClaudeModel, got, want)
	}
	if got := num(t, res, "usage", "input_tokens"); got != float64(answers*ClaudeInputTokens) {
		t.Errorf("usage.input_tokens = %v, want %d", got, answers*ClaudeInputTokens)
	}
	if got := num(t, res, "usage", "output_tokens"); got != float64(answers*ClaudeOutputTokens) {
		t.Errorf("usage.output_tokens = %v, want %d", got, answers*ClaudeOutputTokens)
	}
	if got := num(t, res, "num_turns"); got != float64(answers) {
		t.Errorf("num_turns = %v, want %d", got, answers)
	}
}

func TestClaudeText(t *testing.T) {
	fake, lines := claudeRun(t, "say hi")
	checkClaudeResult(t, lines, 1)
	if n, r := fake.Answers(), fake.Requests(); n != 1 || r != n {
		t.Errorf("the fake got %d requests and answered %d, want 1 and 1; requests: %q", r, n, fake.Paths())
	}
	if got, want := fake.ExpectedClaudeCostUSD(), ClaudeTextRunCostUSD; got != want {
		t.Errorf("ExpectedClaudeCostUSD() = %v, want %v", got, want)
	}
	if tcs := fake.ToolCalls(); len(tcs) != 0 {
		t.Errorf("tool calls handed out: %v", tcs)
	}
}

func TestClaudeTool(t *testing.T) {
	fake, lines := claudeRun(t, RunTool+" please", "--allowedTools", "Bash")
	checkClaudeResult(t, lines, 2)
	if n, r := fake.Answers(), fake.Requests(); n != 2 || r != n {
		t.Errorf("the fake got %d requests and answered %d, want 2 and 2; requests: %q", r, n, fake.Paths())
	}
	if got := fake.ExpectedClaudeCostUSD(); got != ClaudeToolRunCostUSD {
		t.Errorf("ExpectedClaudeCostUSD() = %v, want %v", got, ClaudeToolRunCostUSD)
	}
	tcs := fake.ToolCalls()
	if len(tcs) != 1 || tcs[0] != (ToolCall{ID: "toolu_fake_1", Tool: "Bash", Command: ToolCommand}) {
		t.Fatalf("tool calls = %+v", tcs)
	}
	ran := false
	for _, l := range lines {
		if l["type"] != "user" {
			continue
		}
		msg, _ := l["message"].(map[string]any)
		blocks, _ := msg["content"].([]any)
		for _, b := range blocks {
			b, _ := b.(map[string]any)
			if b["type"] == "tool_result" && b["tool_use_id"] == "toolu_fake_1" && b["is_error"] == false &&
				strings.Contains(b["content"].(string), ToolOutput) {
				ran = true
			}
		}
	}
	if !ran {
		t.Errorf("no successful tool_result for toolu_fake_1 containing %q in %v", ToolOutput, lines)
	}
}

// processesIn returns the pids of this user's processes whose working
// directory is dir, as far as /proc tells (nothing on systems without it).
func processesIn(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd")); err == nil && cwd == dir {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killMidTool starts the agent bin with args in a new directory, waits until
// fake has handed out the SlowTool call and the agent's output has a line
// containing started, then stops the agent with SIGTERM, as a terminal or
// agentdeck run would. It checks that the agent printed no line containing
// final and left no process behind.
func killMidTool(t *testing.T, fake *FakeAPI, want ToolCall, env []string, started, final, bin string, args ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	dir := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Dir = env, dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Whatever the test's outcome, leave no process running.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		for _, pid := range processesIn(dir) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var out []string
	next := func() (string, bool) {
		select {
		case l, ok := <-lines:
			out = append(out, l)
			return l, ok
		case <-ctx.Done():
			t.Fatalf("%v waiting for the agent; its output:\n%s", ctx.Err(), strings.Join(out, "\n"))
			return "", false
		}
	}
	tc, err := fake.WaitToolCall(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if tc != want {
		t.Fatalf("tool call = %+v, want %+v", tc, want)
	}
	for {
		l, ok := next()
		if !ok {
			t.Fatalf("the agent ended before its tool started:\n%s", strings.Join(out, "\n"))
		}
		if strings.Contains(l, started) {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		if _, ok := next(); !ok {
			break
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Errorf("the agent ended with %v, want a failure", err)
	}
	if n := fake.Answers(); n != 1 {
		t.Errorf("the fake answered %d times, want 1", n)
	}
	for _, l := range out {
		if strings.Contains(l, final) {
			t.Errorf("the stopped agent printed %s", l)
		}
	}
	if pids := processesIn(dir); len(pids) > 0 {
		t.Errorf("processes left running in the agent's directory: %v", pids)
	}
}

func TestClaudeSlowTool(t *testing.T) {
	claude, _ := AgentCLIs(t)
	fake := Anthropic(t)
	killMidTool(t, fake, ToolCall{ID: "toolu_fake_1", Tool: "Bash", Command: SlowToolCommand},
		ClaudeEnv(t.TempDir(), fake.URL), `"subtype":"task_started"`, `"type":"result"`,
		claude, "-p", SlowTool+" please", "--output-format", "stream-json", "--verbose", "--allowedTools", "Bash")
}

func TestCodexSlowTool(t *testing.T) {
	_, codex := AgentCLIs(t)
	fake := OpenAI(t)
	home := t.TempDir()
	WriteCodexConfig(t, CodexHome(home), fake.URL, "")
	killMidTool(t, fake, ToolCall{ID: "call_fake_1", Tool: "exec_command", Command: SlowToolCommand},
		CodexEnv(home), `"type":"item.started"`, `"type":"turn.completed"`,
		codex, "exec", "--json", "--skip-git-repo-check", SlowTool+" please")
}

func codexRun(t *testing.T, prompt string) (*FakeAPI, []map[string]any) {
	_, codex := AgentCLIs(t)
	fake := OpenAI(t)
	home := t.TempDir()
	WriteCodexConfig(t, CodexHome(home), fake.URL, "")
	out := runCLI(t, CodexEnv(home), t.TempDir(), codex, "exec", "--json", "--skip-git-repo-check", prompt)
	return fake, jsonLines(t, out)
}

// checkCodexResult checks the final `codex exec --json` line and the agent's
// message of a run that got answers answers from the fake.
func checkCodexResult(t *testing.T, lines []map[string]any, answers int) {
	t.Helper()
	for _, l := range lines {
		if l["type"] == "item.completed" {
			// Codex warns, in an "error" item, that it has no metadata
			// for OpenAIModel; that is expected and harmless.
			if item, _ := l["item"].(map[string]any); item["type"] == "error" && !strings.HasPrefix(fmt.Sprint(item["message"]), "Model metadata for `"+OpenAIModel+"`") {
				t.Errorf("codex reported an error: %v", item["message"])
			}
		}
	}
	res := lines[len(lines)-1]
	if res["type"] != "turn.completed" {
		t.Fatalf("last line is not turn.completed: %v", res)
	}
	for _, c := range []struct {
		key  string
		want int
	}{
		{"input_tokens", OpenAIInputTokens},
		{"cached_input_tokens", OpenAICachedInputTokens},
		{"output_tokens", OpenAIOutputTokens},
		{"reasoning_output_tokens", OpenAIReasoningTokens},
	} {
		if got := num(t, res, "usage", c.key); got != float64(answers*c.want) {
			t.Errorf("usage.%s = %v, want %d", c.key, got, answers*c.want)
		}
	}
	msg := lines[len(lines)-2]
	if item, _ := msg["item"].(map[string]any); msg["type"] != "item.completed" || item["type"] != "agent_message" || item["text"] != Text {
		t.Errorf("the line before the last is not the agent's message %q: %v", Text, msg)
	}
}

func TestCodexText(t *testing.T) {
	fake, lines := codexRun(t, "say hi")
	checkCodexResult(t, lines, 1)
	if n, r := fake.Answers(), fake.Requests(); n != 1 || r != n {
		t.Errorf("the fake got %d requests and answered %d, want 1 and 1; requests: %q", r, n, fake.Paths())
	}
}

func TestCodexTool(t *testing.T) {
	fake, lines := codexRun(t, RunTool+" please")
	checkCodexResult(t, lines, 2)
	if n, r := fake.Answers(), fake.Requests(); n != 2 || r != n {
		t.Errorf("the fake got %d requests and answered %d, want 2 and 2; requests: %q", r, n, fake.Paths())
	}
	tcs := fake.ToolCalls()
	if len(tcs) != 1 || tcs[0] != (ToolCall{ID: "call_fake_1", Tool: "exec_command", Command: ToolCommand}) {
		t.Fatalf("tool calls = %+v", tcs)
	}
	ran := false
	for _, l := range lines {
		item, _ := l["item"].(map[string]any)
		if l["type"] == "item.completed" && item["type"] == "command_execution" &&
			strings.Contains(item["command"].(string), ToolCommand) &&
			strings.Contains(item["aggregated_output"].(string), ToolOutput) && item["exit_code"] == 0.0 {
			ran = true
		}
	}
	if !ran {
		t.Errorf("no completed command_execution of %q printing %q in %v", ToolCommand, ToolOutput, lines)
	}
}
