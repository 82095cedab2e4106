package agents_test

import (
	"encoding/json"
	"os/exec"
	"reflect"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/agentdeck/agentdeck/app/agents"
)

var testWiring = agents.Wiring{
	BaseURL: "https://deck.example.com",
	Token:   "adk_0123456789abcdefghijABCDEFGHIJ012345",
	Command: "/usr/local/bin/agentdeck",
}

// hookEntry is one hook of a hooks object, as the agents read it.
type hookEntry struct {
	Matcher string `json:"matcher"`
	Hooks   []struct {
		Type    string `json:"type"`
		Command string `json:"command"`
		Timeout int    `json:"timeout"`
	} `json:"hooks"`
}

func TestWiringClaudeCodeSendsOTLPToAgentdeckWithTheToken(t *testing.T) {
	var settings struct {
		Env map[string]string `json:"env"`
	}
	snippet := agents.ClaudeCodeSettings(testWiring).Snippet()
	if err := json.Unmarshal([]byte(snippet), &settings); err != nil {
		t.Fatalf("the snippet is not JSON: %v\n%s", err, snippet)
	}
	want := map[string]string{
		"CLAUDE_CODE_ENABLE_TELEMETRY": "1",
		"OTEL_LOGS_EXPORTER":           "otlp",
		"OTEL_METRICS_EXPORTER":        "otlp",
		"OTEL_EXPORTER_OTLP_PROTOCOL":  "http/protobuf",
		"OTEL_EXPORTER_OTLP_ENDPOINT":  "https://deck.example.com",
		"OTEL_EXPORTER_OTLP_HEADERS":   "Authorization=Bearer adk_0123456789abcdefghijABCDEFGHIJ012345",
		"OTEL_LOG_USER_PROMPTS":        "1",
		"OTEL_LOG_TOOL_DETAILS":        "1",
		"AGENTDECK_URL":                "https://deck.example.com",
		"AGENTDECK_TOKEN":              "adk_0123456789abcdefghijABCDEFGHIJ012345",
	}
	if !reflect.DeepEqual(settings.Env, want) {
		t.Errorf("env:\n got %v\nwant %v", settings.Env, want)
	}
}

func TestWiringEveryHookRunsAgentdecksHookWithATimeout(t *testing.T) {
	tests := []struct {
		agent   string
		snippet string
		command string
		// matchers maps each event to its matcher ("" for none).
		matchers map[string]string
	}{
		{
			agent:   "claude-code",
			snippet: agents.ClaudeCodeSettings(testWiring).Snippet(),
			command: "/usr/local/bin/agentdeck hook claude-code",
			matchers: map[string]string{
				"SessionStart": "", "UserPromptSubmit": "", "PreToolUse": "*", "PostToolUse": "*",
				"Notification": "", "Stop": "", "StopFailure": "", "SessionEnd": "",
			},
		},
		{
			agent:   "codex",
			snippet: agents.CodexWiring(testWiring).HooksSnippet(),
			command: "/usr/local/bin/agentdeck hook codex",
			matchers: map[string]string{
				"SessionStart": "", "UserPromptSubmit": "", "PreToolUse": "*", "PostToolUse": "*",
				"PermissionRequest": "*", "Stop": "", "SessionEnd": "",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.agent, func(t *testing.T) {
			var doc struct {
				Hooks map[string][]hookEntry `json:"hooks"`
			}
			if err := json.Unmarshal([]byte(tt.snippet), &doc); err != nil {
				t.Fatalf("the snippet is not JSON: %v\n%s", err, tt.snippet)
			}
			if len(doc.Hooks) != len(tt.matchers) {
				t.Errorf("events: got %d, want %d: %v", len(doc.Hooks), len(tt.matchers), doc.Hooks)
			}
			for event, matcher := range tt.matchers {
				entries := doc.Hooks[event]
				if len(entries) != 1 || len(entries[0].Hooks) != 1 {
					t.Errorf("%s: want one entry with one hook, got %+v", event, entries)
					continue
				}
				e, h := entries[0], entries[0].Hooks[0]
				if e.Matcher != matcher || h.Type != "command" || h.Command != tt.command || h.Timeout != agents.HookTimeout {
					t.Errorf("%s: got matcher %q, %+v; want matcher %q, a command hook running %q with timeout %d",
						event, e.Matcher, h, matcher, tt.command, agents.HookTimeout)
				}
			}
		})
	}
}

func TestWiringCodexConfigIsTOMLWithTheTokenInIt(t *testing.T) {
	snippet := agents.CodexWiring(testWiring).ConfigSnippet()
	var got map[string]any
	if err := toml.Unmarshal([]byte(snippet), &got); err != nil {
		t.Fatalf("the snippet is not TOML: %v\n%s", err, snippet)
	}
	exporter := func(path string) map[string]any {
		return map[string]any{"otlp-http": map[string]any{
			"endpoint": "https://deck.example.com" + path,
			"protocol": "json",
			"headers":  map[string]any{"Authorization": "Bearer adk_0123456789abcdefghijABCDEFGHIJ012345"},
		}}
	}
	want := map[string]any{
		"notify":   []any{"/usr/local/bin/agentdeck", "hook", "codex"},
		"features": map[string]any{"hooks": true},
		"otel": map[string]any{
			"log_user_prompt":  true,
			"exporter":         exporter("/v1/logs"),
			"metrics_exporter": exporter("/v1/metrics"),
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config.toml snippet decodes to\n %v\nwant\n %v\nsnippet:\n%s", got, want, snippet)
	}
}

func TestWiringSnippetsKeepStrangeCharactersIntact(t *testing.T) {
	w := agents.Wiring{
		BaseURL: `https://deck.example.com/a"b\c<d>&é`,
		Token:   "adk_\"quoted\"\\and\ttab",
		Command: `/opt/my tools/it's "agentdeck"`,
	}
	var settings struct {
		Env   map[string]string      `json:"env"`
		Hooks map[string][]hookEntry `json:"hooks"`
	}
	if err := json.Unmarshal([]byte(agents.ClaudeCodeSettings(w).Snippet()), &settings); err != nil {
		t.Fatal(err)
	}
	if settings.Env["AGENTDECK_URL"] != w.BaseURL || settings.Env["AGENTDECK_TOKEN"] != w.Token {
		t.Errorf("settings.json env: got %q and %q, want %q and %q",
			settings.Env["AGENTDECK_URL"], settings.Env["AGENTDECK_TOKEN"], w.BaseURL, w.Token)
	}
	var config struct {
		Notify []string
		OTel   struct {
			Exporter struct {
				HTTP struct {
					Endpoint string
					Headers  map[string]string
				} `toml:"otlp-http"`
			}
		} `toml:"otel"`
	}
	if err := toml.Unmarshal([]byte(agents.CodexWiring(w).ConfigSnippet()), &config); err != nil {
		t.Fatal(err)
	}
	if config.Notify[0] != w.Command || config.OTel.Exporter.HTTP.Endpoint != w.BaseURL+"/v1/logs" ||
		config.OTel.Exporter.HTTP.Headers["Authorization"] != "Bearer "+w.Token {
		t.Errorf("config.toml: got notify %q, endpoint %q, headers %q",
			config.Notify, config.OTel.Exporter.HTTP.Endpoint, config.OTel.Exporter.HTTP.Headers)
	}
}

func TestWiringHookCommandRunsThePathItNamesThroughAShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	tests := []struct {
		path string
		want string // the command line
	}{
		{"/usr/local/bin/agentdeck", "/usr/local/bin/agentdeck hook codex"},
		{"/home/me/My Tools/agentdeck", "'/home/me/My Tools/agentdeck' hook codex"},
		{"/home/me/it's/agentdeck", `'/home/me/it'\''s/agentdeck' hook codex`},
		{"/tmp/$HOME;rm -rf ~/agentdeck", "'/tmp/$HOME;rm -rf ~/agentdeck' hook codex"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got := agents.HookCommand(tt.path, "codex")
			if got != tt.want {
				t.Errorf("HookCommand: got %s, want %s", got, tt.want)
			}
			// A shell splits the command line into the path and the hook's
			// arguments, as an agent's shell will.
			out, err := exec.Command(sh, "-c", `printf '%s\n' `+got).Output()
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.path + "\nhook\ncodex\n"; string(out) != want {
				t.Errorf("the shell reads %q, want %q", out, want)
			}
		})
	}
}

func TestWiringRecognisesHooksOfAnyCopyOfTheBinary(t *testing.T) {
	tests := []struct {
		command string
		agent   string
		want    bool
	}{
		{"/usr/local/bin/agentdeck hook claude-code", "claude-code", true},
		{"/old/place/agentdeck hook claude-code", "claude-code", true},
		{"'/home/me/My Tools/agentdeck' hook claude-code", "claude-code", true},
		{"agentdeck hook codex", "codex", true},
		{"/usr/local/bin/agentdeck hook codex", "claude-code", false},
		{"/usr/local/bin/agentdeck hook claude-code --verbose", "claude-code", false},
		{"/home/me/hook.sh hook claude-code", "claude-code", false},
		{"echo x; agentdeck hook claude-code", "claude-code", false},
		{"'/unterminated/agentdeck hook claude-code", "claude-code", false},
	}
	for _, tt := range tests {
		if got := agents.IsAgentdeckHook(tt.command, tt.agent); got != tt.want {
			t.Errorf("IsAgentdeckHook(%q, %q): got %v, want %v", tt.command, tt.agent, got, tt.want)
		}
	}
}

func TestWiringRecognisesNotifyOfAnyCopyOfTheBinary(t *testing.T) {
	tests := []struct {
		argv []string
		want bool
	}{
		{[]string{"/usr/local/bin/agentdeck", "hook", "codex"}, true},
		{[]string{"/home/me/My Tools/agentdeck", "hook", "codex"}, true},
		{[]string{"/usr/bin/notify-send", "hook", "codex"}, false},
		{[]string{"/usr/local/bin/agentdeck", "hook", "claude-code"}, false},
		{[]string{"/usr/local/bin/agentdeck"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := agents.IsAgentdeckNotify(tt.argv); got != tt.want {
			t.Errorf("IsAgentdeckNotify(%q): got %v, want %v", tt.argv, got, tt.want)
		}
	}
}
