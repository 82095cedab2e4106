package cli_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/cli"
)

// hookCatcher is a server that keeps what hooks send it.
type hookCatcher struct {
	*httptest.Server
	mu       sync.Mutex
	paths    []string
	headers  []http.Header
	payloads []string
}

func newHookCatcher(t *testing.T) *hookCatcher {
	c := &hookCatcher{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.paths = append(c.paths, r.URL.Path)
		c.headers = append(c.headers, r.Header.Clone())
		c.payloads = append(c.payloads, string(b))
		c.mu.Unlock()
		w.Write([]byte(`{"applied":1,"rejected":0}`))
	}))
	t.Cleanup(c.Close)
	return c
}

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestHookSendsThePayloadWithWhereItRan(t *testing.T) {
	c := newHookCatcher(t)
	project := t.TempDir()
	os.MkdirAll(filepath.Join(project, ".git"), 0o755)
	os.WriteFile(filepath.Join(project, ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
	os.WriteFile(filepath.Join(project, ".git", "config"), []byte("[remote \"origin\"]\n\turl = https://github.com/acme/web.git\n"), 0o644)
	payload := `{"session_id":"s1","cwd":"` + project + `","hook_event_name":"UserPromptSubmit","prompt":"hi"}`
	var stderr bytes.Buffer
	cli.Hook(context.Background(), []string{"claude-code"}, cli.HookOptions{
		URL: c.URL, Token: "adk_test", Stdin: strings.NewReader(payload), Stderr: &stderr,
		Getenv: envOf(map[string]string{
			"AGENTDECK_RUN_ID":         "01a233b6-61e5-7300-a6ff-55248d916ebf",
			"OTEL_RESOURCE_ATTRIBUTES": "team=web,agentdeck.kind=ambient,agentdeck.source=github_actions",
		}),
	})
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
	if len(c.payloads) != 1 || c.paths[0] != "/api/v1/hooks/claude-code" || c.payloads[0] != payload {
		t.Fatalf("sent %q to %q, want the payload as it came", c.payloads, c.paths)
	}
	h := c.headers[0]
	want := map[string]string{
		"Authorization": "Bearer adk_test", "Agentdeck-Run-Id": "01a233b6-61e5-7300-a6ff-55248d916ebf",
		"Agentdeck-Kind": "ambient", "Agentdeck-Source": "github_actions", "Agentdeck-Repo": "acme/web", "Agentdeck-Branch": "main",
	}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, h.Get(k), v)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, h.Get("Agentdeck-Sent-At")); err != nil {
		t.Errorf("Agentdeck-Sent-At %q: %v", h.Get("Agentdeck-Sent-At"), err)
	}
}

func TestHookTakesCodexNotifyFromItsLastArgumentAndCredentialsFromCodexConfig(t *testing.T) {
	c := newHookCatcher(t)
	codexHome := t.TempDir()
	os.WriteFile(filepath.Join(codexHome, "config.toml"), []byte(`model = "gpt-5"
[otel]
exporter = { otlp-http = { endpoint = "`+c.URL+`/v1/logs", protocol = "json", headers = { "Authorization" = "Bearer adk_from_config" } } }
`), 0o600)
	notify := `{"type":"agent-turn-complete","thread-id":"t1","turn-id":"u1","client":"codex_exec","input-messages":["hi"]}`
	var stderr bytes.Buffer
	cli.Hook(context.Background(), []string{"codex", notify}, cli.HookOptions{
		Stderr: &stderr, Getenv: envOf(map[string]string{"CODEX_HOME": codexHome}),
	})
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
	if len(c.payloads) != 1 || c.payloads[0] != notify || c.paths[0] != "/api/v1/hooks/codex" {
		t.Fatalf("sent %q to %q", c.payloads, c.paths)
	}
	if got := c.headers[0].Get("Authorization"); got != "Bearer adk_from_config" {
		t.Errorf("Authorization %q, want the token connect wrote into config.toml", got)
	}
}

// TestHookNeverBreaksTheAgent runs the real binary as an agent would, with
// the server down, hanging, or refusing: it must exit 0 within its second,
// print nothing on stdout, and at most a line on stderr.
func TestHookNeverBreaksTheAgent(t *testing.T) {
	bin := agentdeckBinary(t)
	down, _ := net.Listen("tcp", "127.0.0.1:0")
	downURL := "http://" + down.Addr().String()
	down.Close()
	hanging, _ := net.Listen("tcp", "127.0.0.1:0")
	defer hanging.Close()
	go func() {
		for {
			conn, err := hanging.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // accepted, never answered
		}
	}()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"code":"unauthorized","message":"revoked token"}}`))
	}))
	defer refusing.Close()
	payload := `{"session_id":"s1","hook_event_name":"SessionEnd"}`
	cases := []struct {
		name, url, token, stdin string
		args                    []string
	}{
		{"server down", downURL, "adk_x", payload, []string{"hook", "claude-code"}},
		{"server hanging", "http://" + hanging.Addr().String(), "adk_x", payload, []string{"hook", "claude-code"}},
		{"token refused", refusing.URL, "adk_x", payload, []string{"hook", "claude-code"}},
		{"no token", refusing.URL, "", payload, []string{"hook", "codex"}},
		{"no payload", refusing.URL, "adk_x", "", []string{"hook", "claude-code"}},
		{"unknown agent", refusing.URL, "adk_x", payload, []string{"hook", "cursor"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, c.args...)
			cmd.Env = []string{"HOME=" + t.TempDir(), "AGENTDECK_URL=" + c.url, "AGENTDECK_TOKEN=" + c.token}
			cmd.Stdin = strings.NewReader(c.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			if err != nil {
				t.Errorf("exit: %v, want 0", err)
			}
			if took > time.Second {
				t.Errorf("took %v, over a second", took)
			}
			if stdout.Len() > 0 {
				t.Errorf("wrote %q on stdout, which steers the agent", stdout.String())
			}
			if lines := strings.Count(strings.TrimSpace(stderr.String()), "\n") + 1; stderr.Len() == 0 || lines > 1 {
				t.Errorf("stderr %q, want one line saying what went wrong", stderr.String())
			}
		})
	}
}
