package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/agentdeck/agentdeck/app/agents"
	"github.com/agentdeck/agentdeck/cli"
	"github.com/agentdeck/agentdeck/cli/clitest"
)

const (
	connectURL   = "https://deck.example.com"
	connectToken = "adk_connecttest0123456789abcdefghijk"
)

// connectHome is a home directory for connect to wire, with the paths of
// the files it writes there.
type connectHome struct {
	dir       string
	command   string // the agentdeck binary the hooks run
	settings  string // Claude Code's settings.json
	config    string // Codex's config.toml
	codexHook string // Codex's hooks.json
}

func newConnectHome(t *testing.T) connectHome {
	dir := t.TempDir()
	return connectHome{
		dir:       dir,
		command:   "/usr/local/bin/agentdeck",
		settings:  filepath.Join(dir, ".claude", "settings.json"),
		config:    filepath.Join(dir, ".codex", "config.toml"),
		codexHook: filepath.Join(dir, ".codex", "hooks.json"),
	}
}

// connect runs agentdeck connect with args in the home, with
// AGENTDECK_URL and AGENTDECK_TOKEN set.
func (h connectHome) connect(args ...string) (stdout, stderr string, err error) {
	return h.connectWith(cli.ConnectOptions{URL: connectURL, Token: connectToken}, args...)
}

func (h connectHome) connectWith(o cli.ConnectOptions, args ...string) (stdout, stderr string, err error) {
	var out, errs bytes.Buffer
	o.Getenv = func(k string) string {
		if k == "HOME" {
			return h.dir
		}
		return ""
	}
	if o.Command == "" {
		o.Command = h.command
	}
	o.Stdout, o.Stderr = &out, &errs
	err = cli.Connect(context.Background(), args, o)
	return out.String(), errs.String(), err
}

// mustConnect runs connect and fails the test if it fails.
func (h connectHome) mustConnect(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, err := h.connect(args...)
	if err != nil {
		t.Fatalf("connect %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr)
	}
	return stdout, stderr
}

// files are the paths connect writes for an agent.
func (h connectHome) files(agent string) []string {
	if agent == "claude-code" {
		return []string{h.settings}
	}
	return []string{h.config, h.codexHook}
}

// connectFile is a file as a test saw it.
type connectFile struct {
	content string
	mode    fs.FileMode
}

// connectSnapshot is every file under dir.
func connectSnapshot(t *testing.T, dir string) map[string]connectFile {
	t.Helper()
	files := map[string]connectFile{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files[path] = connectFile{string(data), info.Mode().Perm()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// connectContents is the content of every file under dir.
func connectContents(t *testing.T, dir string) map[string]string {
	t.Helper()
	contents := map[string]string{}
	for path, f := range connectSnapshot(t, dir) {
		contents[path] = f.content
	}
	return contents
}

func connectWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func connectRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// connectJSON decodes a JSON file.
func connectJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(connectRead(t, path)), &doc); err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	return doc
}

// connectTOML decodes a TOML file.
func connectTOML(t *testing.T, path string) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := toml.Unmarshal([]byte(connectRead(t, path)), &doc); err != nil {
		t.Fatalf("%s is not TOML: %v\n%s", path, err, connectRead(t, path))
	}
	return doc
}

// connectCommands lists the hook commands of each event of a hooks object.
func connectCommands(doc map[string]any) map[string][]string {
	commands := map[string][]string{}
	events, _ := doc["hooks"].(map[string]any)
	for event, groups := range events {
		list, _ := groups.([]any)
		for _, g := range list {
			hooks, _ := g.(map[string]any)["hooks"].([]any)
			for _, h := range hooks {
				command, _ := h.(map[string]any)["command"].(string)
				commands[event] = append(commands[event], command)
			}
		}
	}
	return commands
}

// The settings files people start from in these tests.
const (
	personsSettings = `{
    "model": "opus",
    "env": {
        "EDITOR": "vim",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.internal:4318"
    },
    "hooks": {
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "~/bin/guard.sh"}]}
        ],
        "PreCompact": [
            {"hooks": [{"type": "command", "command": "~/bin/compact.sh"}]}
        ]
    },
    "permissions": {"allow": ["Bash(ls:*)"]}
}
`
	personsCodexConfig = `# My Codex settings.
model = "gpt-5.5" # the good one
approval_policy = "on-request"

# A local provider.
[model_providers.local]
name = "Local"
base_url = "http://127.0.0.1:11434/v1"

[otel]
# Which environment my traces say they come from.
environment = "laptop"
exporter = { otlp-http = { endpoint = "http://collector.internal:4318/v1/logs", protocol = "binary" } }
trace_exporter = { otlp-http = { endpoint = "http://collector.internal:4318/v1/traces", protocol = "binary" } }

[tui]
notifications = true
`
	personsCodexHooks = `{
  "hooks": {
    "Stop": [
      {
        "hooks": [
          {
            "type": "command",
            "command": "/home/me/bin/say-done.sh"
          }
        ]
      }
    ]
  }
}
`
)

func TestConnectClaudeCodeWiresAFreshHome(t *testing.T) {
	h := newConnectHome(t)
	stdout, stderr := h.mustConnect(t, "claude-code")

	if stdout != "" {
		t.Errorf("stdout: got %q, want nothing", stdout)
	}
	if want := "wired Claude Code in " + h.settings + "; restart running sessions\n"; stderr != want {
		t.Errorf("stderr: got %q, want %q", stderr, want)
	}
	settings := connectJSON(t, h.settings)
	wiring := agents.ClaudeCodeSettings(agents.Wiring{BaseURL: connectURL, Token: connectToken, Command: h.command})
	var snippet map[string]any
	if err := json.Unmarshal([]byte(wiring.Snippet()), &snippet); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(settings, snippet) {
		t.Errorf("a fresh settings.json should hold exactly the wiring:\n got %v\nwant %v", settings, snippet)
	}
	if _, err := os.Stat(h.settings + ".agentdeck-backup"); !os.IsNotExist(err) {
		t.Errorf("there was nothing to back up, yet a backup exists (%v)", err)
	}
}

func TestConnectClaudeCodeKeepsThePersonsSettings(t *testing.T) {
	h := newConnectHome(t)
	connectWrite(t, h.settings, personsSettings)
	h.mustConnect(t, "claude-code")

	settings := connectJSON(t, h.settings)
	env := settings["env"].(map[string]any)
	if env["EDITOR"] != "vim" || env["AGENTDECK_TOKEN"] != connectToken || env["OTEL_EXPORTER_OTLP_ENDPOINT"] != connectURL {
		t.Errorf("env: want EDITOR kept and agentdeck's variables set, got %v", env)
	}
	if settings["model"] != "opus" || settings["permissions"] == nil {
		t.Errorf("the person's other settings are gone: %v", settings)
	}
	commands := connectCommands(settings)
	ours := h.command + " hook claude-code"
	wantCommands := map[string][]string{
		"PreToolUse":       {"~/bin/guard.sh", ours},
		"PreCompact":       {"~/bin/compact.sh"},
		"SessionStart":     {ours},
		"UserPromptSubmit": {ours},
		"PostToolUse":      {ours},
		"Notification":     {ours},
		"Stop":             {ours},
		"StopFailure":      {ours},
		"SessionEnd":       {ours},
	}
	if !reflect.DeepEqual(commands, wantCommands) {
		t.Errorf("hooks:\n got %v\nwant %v", commands, wantCommands)
	}
	// Members stay in the person's order, with the indentation they used.
	text := connectRead(t, h.settings)
	order := []string{`"model"`, `"env"`, `"EDITOR"`, `"hooks"`, `"PreToolUse"`, `"PreCompact"`, `"permissions"`}
	last := -1
	for _, name := range order {
		at := strings.Index(text, name)
		if at < last {
			t.Errorf("%s moved: the members are no longer in the person's order:\n%s", name, text)
		}
		last = at
	}
	if !strings.Contains(text, "\n    \"model\": \"opus\",\n") {
		t.Errorf("the four-space indentation is gone:\n%s", text)
	}
	if got := connectRead(t, h.settings+".agentdeck-backup"); got != personsSettings {
		t.Errorf("the backup should hold the original file, got:\n%s", got)
	}
}

func TestConnectClaudeCodeReplacesHooksOfAMovedBinary(t *testing.T) {
	h := newConnectHome(t)
	connectWrite(t, h.settings, `{"hooks": {"Stop": [{"hooks": [
		{"type": "command", "command": "/old/place/agentdeck hook claude-code", "timeout": 10},
		{"type": "command", "command": "/home/me/bin/say-done.sh"}]}]}}`)
	h.mustConnect(t, "claude-code")

	got := connectCommands(connectJSON(t, h.settings))["Stop"]
	want := []string{"/home/me/bin/say-done.sh", h.command + " hook claude-code"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Stop hooks: got %q, want %q", got, want)
	}
}

func TestConnectCodexWiresAFreshHome(t *testing.T) {
	h := newConnectHome(t)
	stdout, stderr := h.mustConnect(t, "codex")

	if stdout != "" {
		t.Errorf("stdout: got %q, want nothing", stdout)
	}
	if !strings.HasPrefix(stderr, "wired Codex in "+h.config+" and "+h.codexHook+"; restart running sessions") {
		t.Errorf("stderr: got %q", stderr)
	}
	wiring := agents.CodexWiring(agents.Wiring{BaseURL: connectURL, Token: connectToken, Command: h.command})
	if got := connectRead(t, h.config); got != wiring.ConfigSnippet() {
		t.Errorf("a fresh config.toml should hold exactly the wiring:\n%s\nwant:\n%s", got, wiring.ConfigSnippet())
	}
	if got := connectRead(t, h.codexHook); got != wiring.HooksSnippet() {
		t.Errorf("a fresh hooks.json should hold exactly the wiring:\n%s\nwant:\n%s", got, wiring.HooksSnippet())
	}
}

func TestConnectCodexKeepsCommentsAndOtherTables(t *testing.T) {
	h := newConnectHome(t)
	connectWrite(t, h.config, personsCodexConfig)
	connectWrite(t, h.codexHook, personsCodexHooks)
	h.mustConnect(t, "codex")

	text := connectRead(t, h.config)
	// Every line of the person's is still there, in order, but the exporter
	// connect replaced.
	rest := text
	for _, line := range strings.Split(strings.TrimSpace(personsCodexConfig), "\n") {
		if strings.HasPrefix(line, "exporter =") {
			continue
		}
		at := strings.Index(rest, line+"\n")
		if at < 0 {
			t.Fatalf("the line %q is gone or out of order:\n%s", line, text)
		}
		rest = rest[at+len(line):]
	}

	doc := connectTOML(t, h.config)
	exporter := func(path string) map[string]any {
		return map[string]any{"otlp-http": map[string]any{
			"endpoint": connectURL + path, "protocol": "json",
			"headers": map[string]any{"Authorization": "Bearer " + connectToken},
		}}
	}
	want := map[string]any{
		"notify":          []any{h.command, "hook", "codex"},
		"model":           "gpt-5.5",
		"approval_policy": "on-request",
		"model_providers": map[string]any{"local": map[string]any{"name": "Local", "base_url": "http://127.0.0.1:11434/v1"}},
		"otel": map[string]any{
			"environment":      "laptop",
			"exporter":         exporter("/v1/logs"),
			"metrics_exporter": exporter("/v1/metrics"),
			"trace_exporter":   map[string]any{"otlp-http": map[string]any{"endpoint": "http://collector.internal:4318/v1/traces", "protocol": "binary"}},
			"log_user_prompt":  true,
		},
		"tui":      map[string]any{"notifications": true},
		"features": map[string]any{"hooks": true},
	}
	if !reflect.DeepEqual(doc, want) {
		t.Errorf("config.toml decodes to\n %v\nwant\n %v\n%s", doc, want, text)
	}
	// notify went among the top-level keys, before the first table.
	if strings.Index(text, "notify = ") > strings.Index(text, "[model_providers.local]") {
		t.Errorf("notify is not among the top-level keys:\n%s", text)
	}

	commands := connectCommands(connectJSON(t, h.codexHook))
	if got, want := commands["Stop"], []string{"/home/me/bin/say-done.sh", h.command + " hook codex"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Stop hooks: got %q, want %q", got, want)
	}
	if len(commands) != 7 {
		t.Errorf("hooks.json should have the 7 events of the wiring, got %v", commands)
	}
}

func TestConnectCodexKeepsAnotherNotifyAndWarns(t *testing.T) {
	h := newConnectHome(t)
	connectWrite(t, h.config, "notify = [\"/home/me/bin/notify.py\", \"--loud\"]\nmodel = \"gpt-5.5\"\n")
	_, stderr := h.mustConnect(t, "codex")

	if got := connectTOML(t, h.config)["notify"]; !reflect.DeepEqual(got, []any{"/home/me/bin/notify.py", "--loud"}) {
		t.Errorf("notify: got %v, want the person's own", got)
	}
	for _, want := range []string{"warning", `notify = ["/home/me/bin/notify.py", "--loud"]`, h.command + " hook codex", "last argument"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the warning should mention %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stderr, "wired Codex") {
		t.Errorf("connect should still wire the rest:\n%s", stderr)
	}
}

func TestConnectTwiceChangesNothing(t *testing.T) {
	tests := []struct {
		name  string
		agent string
		start map[string]string // file name under the home → content
	}{
		{"claude-code in a fresh home", "claude-code", nil},
		{"claude-code with the person's settings", "claude-code", map[string]string{".claude/settings.json": personsSettings}},
		{"codex in a fresh home", "codex", nil},
		{"codex with the person's config", "codex", map[string]string{".codex/config.toml": personsCodexConfig, ".codex/hooks.json": personsCodexHooks}},
		{"codex with a config without a final newline", "codex", map[string]string{".codex/config.toml": `model = "gpt-5.5"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newConnectHome(t)
			for name, content := range tt.start {
				connectWrite(t, filepath.Join(h.dir, name), content)
			}
			h.mustConnect(t, tt.agent)
			first := connectSnapshot(t, h.dir)
			_, stderr := h.mustConnect(t, tt.agent)

			if second := connectSnapshot(t, h.dir); !reflect.DeepEqual(second, first) {
				t.Errorf("the second connect changed files:\nafter the first:  %v\nafter the second: %v", first, second)
			}
			if !strings.Contains(stderr, "already wired") || !strings.Contains(stderr, "nothing changed") {
				t.Errorf("stderr: got %q, want it to say nothing changed", stderr)
			}
		})
	}
}

func TestConnectAgainWithANewTokenKeepsTheFirstBackup(t *testing.T) {
	tests := []struct {
		agent string
		start map[string]string
	}{
		{"claude-code", map[string]string{".claude/settings.json": personsSettings}},
		{"codex", map[string]string{".codex/config.toml": personsCodexConfig, ".codex/hooks.json": personsCodexHooks}},
	}
	for _, tt := range tests {
		t.Run(tt.agent, func(t *testing.T) {
			h := newConnectHome(t)
			for name, content := range tt.start {
				connectWrite(t, filepath.Join(h.dir, name), content)
			}
			original := connectContents(t, h.dir)
			h.mustConnect(t, tt.agent)
			if _, stderr, err := h.connectWith(cli.ConnectOptions{URL: connectURL, Token: "adk_rotated"}, tt.agent); err != nil {
				t.Fatalf("connect with a new token: %v\n%s", err, stderr)
			}

			for _, path := range h.files(tt.agent) {
				text := connectRead(t, path)
				if strings.Contains(text, connectToken) {
					t.Errorf("%s still holds the old token:\n%s", path, text)
				}
				if strings.Count(text, "hook "+tt.agent) > connectHookCount(tt.agent) {
					t.Errorf("%s has its hooks twice:\n%s", path, text)
				}
				backup := path + ".agentdeck-backup"
				if got := connectRead(t, backup); got != original[path] {
					t.Errorf("the second connect replaced the backup of %s:\n%s", path, got)
				}
			}
			if !strings.Contains(connectRead(t, h.files(tt.agent)[0]), "adk_rotated") {
				t.Errorf("the new token was not written")
			}

			h.mustConnect(t, tt.agent, "--undo")
			if got := connectContents(t, h.dir); !reflect.DeepEqual(got, original) {
				t.Errorf("undo should give back the original files:\n got %v\nwant %v", got, original)
			}
		})
	}
}

func TestConnectPrintChangesNothingAndShowsWhatConnectWrites(t *testing.T) {
	for _, agent := range []string{"claude-code", "codex"} {
		t.Run(agent, func(t *testing.T) {
			printed, wired := newConnectHome(t), newConnectHome(t)
			for _, h := range []connectHome{printed, wired} {
				connectWrite(t, h.settings, personsSettings)
				connectWrite(t, h.config, personsCodexConfig)
			}
			before := connectSnapshot(t, printed.dir)
			stdout, stderr := printed.mustConnect(t, agent, "--print")
			if after := connectSnapshot(t, printed.dir); !reflect.DeepEqual(after, before) {
				t.Errorf("--print changed files:\nbefore: %v\nafter:  %v", before, after)
			}
			if stderr != "" {
				t.Errorf("stderr: got %q, want nothing", stderr)
			}

			wired.mustConnect(t, agent)
			var want strings.Builder
			for i, path := range wired.files(agent) {
				if i > 0 {
					want.WriteString("\n")
				}
				want.WriteString("# " + strings.Replace(path, wired.dir, printed.dir, 1) + "\n" + connectRead(t, path))
			}
			if stdout != want.String() {
				t.Errorf("--print wrote:\n%s\nwant what connect writes:\n%s", stdout, want.String())
			}
		})
	}
}

func TestConnectUndoRestoresThePersonsFiles(t *testing.T) {
	tests := []struct {
		name  string
		agent string
		start map[string]string
	}{
		{"claude-code in a fresh home", "claude-code", nil},
		{"claude-code with the person's settings", "claude-code", map[string]string{".claude/settings.json": personsSettings}},
		{"claude-code with settings that already had our events", "claude-code", map[string]string{".claude/settings.json": `{"hooks":{"Stop":[]},"env":{}}`}},
		{"codex in a fresh home", "codex", nil},
		{"codex with the person's config", "codex", map[string]string{".codex/config.toml": personsCodexConfig, ".codex/hooks.json": personsCodexHooks}},
		{"codex with a config without a final newline", "codex", map[string]string{".codex/config.toml": `model = "gpt-5.5"`}},
		{"codex with hooks turned off", "codex", map[string]string{".codex/config.toml": "[features]\nhooks = false # not yet\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newConnectHome(t)
			for name, content := range tt.start {
				connectWrite(t, filepath.Join(h.dir, name), content)
			}
			before := connectContents(t, h.dir)
			h.mustConnect(t, tt.agent)
			_, stderr := h.mustConnect(t, tt.agent, "--undo")

			// Files connect wrote stay readable by their owner only.
			if after := connectContents(t, h.dir); !reflect.DeepEqual(after, before) {
				t.Errorf("connect then undo should leave the files as they were:\nbefore: %v\nafter:  %v", before, after)
			}
			if !strings.HasPrefix(stderr, "unwired ") {
				t.Errorf("stderr: got %q", stderr)
			}
			_, stderr = h.mustConnect(t, tt.agent, "--undo")
			if !strings.HasPrefix(stderr, "nothing to undo: ") {
				t.Errorf("a second undo: got %q, want it to say there is nothing to undo", stderr)
			}
		})
	}
}

func TestConnectUndoKeepsWhatThePersonChangedSince(t *testing.T) {
	t.Run("claude-code", func(t *testing.T) {
		h := newConnectHome(t)
		connectWrite(t, h.settings, personsSettings)
		h.mustConnect(t, "claude-code")
		// The person edits the wired file: a new setting, a hook of their
		// own, and a variable of ours pointed elsewhere.
		settings := connectJSON(t, h.settings)
		settings["theme"] = "dark"
		settings["env"].(map[string]any)["OTEL_LOGS_EXPORTER"] = "console"
		hooks := settings["hooks"].(map[string]any)
		hooks["Stop"] = append(hooks["Stop"].([]any), map[string]any{"hooks": []any{map[string]any{"type": "command", "command": "~/bin/done.sh"}}})
		edited, _ := json.MarshalIndent(settings, "", "  ")
		connectWrite(t, h.settings, string(edited))
		h.mustConnect(t, "claude-code", "--undo")

		got := connectJSON(t, h.settings)
		want := map[string]any{}
		if err := json.Unmarshal([]byte(personsSettings), &want); err != nil {
			t.Fatal(err)
		}
		want["theme"] = "dark"
		want["env"].(map[string]any)["OTEL_LOGS_EXPORTER"] = "console"
		want["hooks"].(map[string]any)["Stop"] = []any{map[string]any{"hooks": []any{map[string]any{"type": "command", "command": "~/bin/done.sh"}}}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("after undo:\n got %v\nwant %v", got, want)
		}
		if _, err := os.Stat(h.settings + ".agentdeck-backup"); err != nil {
			t.Errorf("the backup should stay while the file differs from it: %v", err)
		}
	})
	t.Run("codex", func(t *testing.T) {
		h := newConnectHome(t)
		connectWrite(t, h.config, personsCodexConfig)
		h.mustConnect(t, "codex")
		edited := strings.Replace(connectRead(t, h.config), "[tui]\n", "[tui]\n# I like it quiet.\nanimations = false\n", 1)
		edited = strings.Replace(edited, "environment = \"laptop\"", "environment = \"desktop\"", 1)
		// The metrics go to the person's own collector now.
		theirMetrics := `metrics_exporter = { otlp-http = { endpoint = "http://collector.internal:4318/v1/metrics", protocol = "binary" } }`
		ourMetrics := regexp.MustCompile(`(?m)^metrics_exporter = .*$`)
		if !ourMetrics.MatchString(edited) {
			t.Fatalf("connect wrote no metrics_exporter:\n%s", edited)
		}
		edited = ourMetrics.ReplaceAllLiteralString(edited, theirMetrics)
		connectWrite(t, h.config, edited)
		h.mustConnect(t, "codex", "--undo")

		want := strings.Replace(personsCodexConfig, "[tui]\n", "[tui]\n# I like it quiet.\nanimations = false\n", 1)
		want = strings.Replace(want, "environment = \"laptop\"", "environment = \"desktop\"", 1)
		want = strings.Replace(want, "\n\n[tui]", "\n"+theirMetrics+"\n\n[tui]", 1)
		if got := connectRead(t, h.config); got != want {
			t.Errorf("after undo:\n%s\nwant:\n%s", got, want)
		}
	})
}

func TestConnectUndoKeepsCodexHooksOnForHooksAddedSince(t *testing.T) {
	h := newConnectHome(t)
	h.mustConnect(t, "codex")
	// The person adds a hook of their own, which runs because connect
	// turned hooks on.
	hooks := connectJSON(t, h.codexHook)
	events := hooks["hooks"].(map[string]any)
	events["Stop"] = append(events["Stop"].([]any), map[string]any{"hooks": []any{map[string]any{"type": "command", "command": "/home/me/bin/say-done.sh"}}})
	edited, _ := json.Marshal(hooks)
	connectWrite(t, h.codexHook, string(edited))
	h.mustConnect(t, "codex", "--undo")

	if got := connectCommands(connectJSON(t, h.codexHook)); !reflect.DeepEqual(got, map[string][]string{"Stop": {"/home/me/bin/say-done.sh"}}) {
		t.Errorf("hooks.json after undo: got %v, want only the person's hook", got)
	}
	if got := connectTOML(t, h.config); !reflect.DeepEqual(got, map[string]any{"features": map[string]any{"hooks": true}}) {
		t.Errorf("config.toml after undo should keep the person's hook running, got %v", got)
	}
}

func TestConnectRefusesFilesItCannotRead(t *testing.T) {
	tests := []struct {
		name, agent, file, content, want string
		undoRefusesToo                   bool // undo cannot read the file either
	}{
		{"settings.json that is not JSON", "claude-code", ".claude/settings.json", `{"model": "opus",`, "settings.json is not a valid JSON object", true},
		{"settings.json that is not an object", "claude-code", ".claude/settings.json", `["model"]`, "settings.json is not a valid JSON object", true},
		{"settings.json whose hooks are not an object", "claude-code", ".claude/settings.json", `{"hooks": []}`, `"hooks" is not an object`, false},
		{"hooks.json that is not JSON", "codex", ".codex/hooks.json", `{"hooks": {`, "hooks.json is not a valid JSON object", true},
		{"config.toml that is not TOML", "codex", ".codex/config.toml", "model = \n", "config.toml is not valid TOML", true},
		{"config.toml with otel as dotted keys", "codex", ".codex/config.toml", "otel.environment = \"x\"\n", "add these by hand", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newConnectHome(t)
			connectWrite(t, filepath.Join(h.dir, tt.file), tt.content)
			before := connectSnapshot(t, h.dir)
			_, _, err := h.connect(tt.agent)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("connect: got error %v, want one saying %q and that nothing was changed", err, tt.want)
			}
			_, stderr, err := h.connect(tt.agent, "--undo")
			switch {
			case tt.undoRefusesToo && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("undo: got error %v, want one saying %q", err, tt.want)
			case !tt.undoRefusesToo && (err != nil || !strings.HasPrefix(stderr, "nothing to undo")):
				t.Errorf("undo: got error %v and %q, want it to say there is nothing to undo", err, stderr)
			}
			if after := connectSnapshot(t, h.dir); !reflect.DeepEqual(after, before) {
				t.Errorf("a refused connect changed files:\nbefore: %v\nafter:  %v", before, after)
			}
		})
	}
}

func TestConnectWritesFilesOnlyTheOwnerCanRead(t *testing.T) {
	h := newConnectHome(t)
	connectWrite(t, h.settings, personsSettings)
	connectWrite(t, h.config, personsCodexConfig)
	connectWrite(t, h.codexHook, personsCodexHooks)
	h.mustConnect(t, "claude-code")
	h.mustConnect(t, "codex")

	for path, f := range connectSnapshot(t, h.dir) {
		if f.mode != 0o600 {
			t.Errorf("%s: mode %v, want 0600 (the token is in it)", path, f.mode)
		}
	}
}

func TestConnectWritesThroughASymbolicLink(t *testing.T) {
	h := newConnectHome(t)
	dotfiles := filepath.Join(h.dir, "dotfiles", "claude-settings.json")
	connectWrite(t, dotfiles, personsSettings)
	if err := os.MkdirAll(filepath.Dir(h.settings), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dotfiles, h.settings); err != nil {
		t.Fatal(err)
	}
	h.mustConnect(t, "claude-code")

	if info, err := os.Lstat(h.settings); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("settings.json should still be a link to the dotfiles (%v, %v)", info, err)
	}
	if env := connectJSON(t, dotfiles)["env"].(map[string]any); env["AGENTDECK_TOKEN"] != connectToken {
		t.Errorf("the linked file was not wired: %v", env)
	}
}

func TestConnectSaysWhatItNeeds(t *testing.T) {
	tests := []struct {
		name string
		args []string
		o    cli.ConnectOptions
		want []string // in the error
	}{
		{"no URL", []string{"claude-code"}, cli.ConnectOptions{Token: connectToken}, []string{"AGENTDECK_URL", "--url"}},
		{"no token", []string{"codex"}, cli.ConnectOptions{URL: connectURL}, []string{"AGENTDECK_TOKEN", "agentdeck token create", "Settings → Tokens"}},
		{"a URL that is not one", []string{"codex"}, cli.ConnectOptions{URL: "deck.example.com", Token: connectToken}, []string{"AGENTDECK_URL", "not an http"}},
		{"no agent", nil, cli.ConnectOptions{URL: connectURL, Token: connectToken}, []string{"usage: agentdeck connect claude-code|codex"}},
		{"an unknown agent", []string{"cursor"}, cli.ConnectOptions{URL: connectURL, Token: connectToken}, []string{"usage: agentdeck connect claude-code|codex"}},
		{"two agents", []string{"codex", "claude-code"}, cli.ConnectOptions{URL: connectURL, Token: connectToken}, []string{"usage:"}},
		{"an unknown flag", []string{"codex", "--force"}, cli.ConnectOptions{URL: connectURL, Token: connectToken}, []string{"usage:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newConnectHome(t)
			_, _, err := h.connectWith(tt.o, tt.args...)
			if err == nil {
				t.Fatal("connect succeeded")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error should mention %q: %v", want, err)
				}
			}
			if files := connectSnapshot(t, h.dir); len(files) != 0 {
				t.Errorf("a failed connect wrote %v", files)
			}
		})
	}
}

func TestConnectFlagsOverrideTheEnvironment(t *testing.T) {
	h := newConnectHome(t)
	o := cli.ConnectOptions{URL: "https://old.example.com", Token: "adk_old"}
	if _, stderr, err := h.connectWith(o, "--url", "https://new.example.com/", "claude-code", "--token", "adk_new"); err != nil {
		t.Fatalf("connect: %v\n%s", err, stderr)
	}
	env := connectJSON(t, h.settings)["env"].(map[string]any)
	if env["AGENTDECK_URL"] != "https://new.example.com" || env["AGENTDECK_TOKEN"] != "adk_new" {
		t.Errorf("env: got %v, want the flags' URL (no trailing slash) and token", env)
	}
}

// connectCollector stands in for agentdeck's OTLP endpoints and records what
// the agents send there.
type connectCollector struct {
	URL string

	mu       sync.Mutex
	requests []string // "POST /v1/logs Bearer adk_…"
}

func newConnectCollector(t *testing.T) *connectCollector {
	c := &connectCollector{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		c.mu.Lock()
		c.requests = append(c.requests, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		c.mu.Unlock()
		// An empty body is an empty export response in JSON and protobuf.
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		if strings.Contains(r.Header.Get("Content-Type"), "json") {
			_, _ = io.WriteString(w, "{}")
		}
	}))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

func (c *connectCollector) received(request string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Contains(c.requests, request)
}

// connectHookRecorder writes a stand-in for the agentdeck binary, in a
// directory whose name needs quoting for a shell, that appends its arguments
// and standard input to a log, one line a call.
func connectHookRecorder(t *testing.T, dir string) (command, log string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	command, log = filepath.Join(dir, "agentdeck"), filepath.Join(dir, "calls.log")
	script := "#!/bin/sh\npayload=$(cat | tr '\\n' ' ')\nprintf '%s\\t%s\\n' \"$*\" \"$payload\" >> '" + log + "'\n"
	if err := os.WriteFile(command, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return command, log
}

// connectHookEvents reads the recorder's log: the hook_event_name of each
// call made with args, or the type of a notify payload passed as the last
// argument.
func connectHookEvents(t *testing.T, log, args string) []string {
	t.Helper()
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("agentdeck's hook never ran: %v", err)
	}
	var events []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		argv, payload, _ := strings.Cut(line, "\t")
		if notify, ok := strings.CutPrefix(argv, args+" "); ok {
			payload = notify
		} else if argv != args {
			continue
		}
		var p struct {
			Event string `json:"hook_event_name"`
			Type  string `json:"type"`
		}
		if err := json.Unmarshal([]byte(payload), &p); err != nil {
			t.Errorf("the hook got a payload that is not JSON: %q", line)
		}
		events = append(events, p.Event+p.Type)
	}
	return events
}

// connectRunAgent runs an agent CLI to its end and returns what it printed.
func connectRunAgent(t *testing.T, env []string, dir, bin string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env, cmd.Dir = env, dir
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %q: %v\nstdout:\n%s\nstderr:\n%s", bin, args, err, out.Bytes(), errs.Bytes())
	}
	return out.String(), errs.String()
}

func TestConnectedClaudeCodeReportsToAgentdeck(t *testing.T) {
	claude, _ := clitest.AgentCLIs(t)
	model, deck, h := clitest.Anthropic(t), newConnectCollector(t), newConnectHome(t)
	command, log := connectHookRecorder(t, filepath.Join(h.dir, "my tools"))
	if _, stderr, err := h.connectWith(cli.ConnectOptions{URL: deck.URL, Token: connectToken, Command: command}, "claude-code"); err != nil {
		t.Fatalf("connect: %v\n%s", err, stderr)
	}
	project := filepath.Join(h.dir, "project")
	if err := os.Mkdir(project, 0o755); err != nil {
		t.Fatal(err)
	}

	stdout, stderr := connectRunAgent(t, clitest.ClaudeEnv(h.dir, model.URL), project, claude, "-p", "say hi")

	if !strings.Contains(stdout, clitest.Text) {
		t.Errorf("Claude Code did not answer: stdout %q, stderr %q", stdout, stderr)
	}
	if strings.Contains(strings.ToLower(stderr), "settings") {
		t.Errorf("Claude Code complains about its settings:\n%s", stderr)
	}
	events := connectHookEvents(t, log, "hook claude-code")
	for _, want := range []string{"SessionStart", "UserPromptSubmit", "Stop"} {
		if !slices.Contains(events, want) {
			t.Errorf("agentdeck's hook did not hear %s; it heard %q", want, events)
		}
	}
	if !deck.received("POST /v1/logs Bearer " + connectToken) {
		t.Errorf("no OTLP logs came to agentdeck with the token; it got %q", deck.requests)
	}
}

func TestConnectedCodexReportsToAgentdeck(t *testing.T) {
	_, codex := clitest.AgentCLIs(t)
	model, deck, h := clitest.OpenAI(t), newConnectCollector(t), newConnectHome(t)
	command, log := connectHookRecorder(t, filepath.Join(h.dir, "my tools"))
	clitest.WriteCodexConfig(t, clitest.CodexHome(h.dir), model.URL, "")
	if _, stderr, err := h.connectWith(cli.ConnectOptions{URL: deck.URL, Token: connectToken, Command: command}, "codex"); err != nil {
		t.Fatalf("connect: %v\n%s", err, stderr)
	}

	stdout, stderr := connectRunAgent(t, clitest.CodexEnv(h.dir), h.dir, codex,
		"exec", "--skip-git-repo-check", clitest.CodexHookTrustFlag, "say hi")

	if !strings.Contains(stdout, clitest.Text) {
		t.Errorf("Codex did not answer: stdout %q, stderr %q", stdout, stderr)
	}
	for _, complaint := range []string{"Error loading config", "failed to parse hooks config", "unknown field"} {
		if strings.Contains(stderr, complaint) {
			t.Errorf("Codex complains about what connect wrote (%q):\n%s", complaint, stderr)
		}
	}
	events := connectHookEvents(t, log, "hook codex")
	for _, want := range []string{"SessionStart", "UserPromptSubmit", "Stop", "agent-turn-complete"} {
		if !slices.Contains(events, want) {
			t.Errorf("agentdeck's hook did not hear %s; it heard %q", want, events)
		}
	}
	if !deck.received("POST /v1/logs Bearer " + connectToken) {
		t.Errorf("no OTLP logs came to agentdeck with the token; it got %q", deck.requests)
	}
}

// connectHookCount is how many hooks connect wires for an agent.
func connectHookCount(agent string) int {
	w := agents.Wiring{BaseURL: connectURL, Token: connectToken, Command: "agentdeck"}
	if agent == "codex" {
		return len(agents.CodexWiring(w).Hooks)
	}
	return len(agents.ClaudeCodeSettings(w).Hooks)
}
