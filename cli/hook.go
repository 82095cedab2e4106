package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// HookOptions are what hook needs from its surroundings.
type HookOptions struct {
	URL, Token string // AGENTDECK_URL and AGENTDECK_TOKEN
	Getenv     func(string) string
	Stdin      io.Reader
	Stderr     io.Writer
	// Budget bounds the whole hook, reading included (700ms, well inside
	// the second §10 promises): agents wait
	// for their hooks, and Claude Code gives SessionEnd hooks little time.
	Budget time.Duration
	Now    func() time.Time
}

// maxHookPayload bounds a payload read from stdin or the arguments.
const maxHookPayload = 1 << 20

// Hook is "agentdeck hook claude-code|codex": it reads one hook payload of
// that agent on stdin — or, for Codex's notify, as its last argument — and
// reports it to agentdeck. It never breaks the agent: whatever happens it
// returns within its budget, writes nothing to stdout (a hook's stdout can
// steer the agent) and at most a line to stderr, and never fails, so that
// the agent's hook always exits 0.
func Hook(ctx context.Context, args []string, o HookOptions) {
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Budget <= 0 {
		o.Budget = 700 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	sentAt := o.Now()
	ctx, cancel := context.WithTimeout(ctx, o.Budget)
	defer cancel()
	if err := hook(ctx, args, o, sentAt); err != nil {
		fmt.Fprintln(o.Stderr, "agentdeck hook:", err)
	}
}

func hook(ctx context.Context, args []string, o HookOptions, sentAt time.Time) error {
	if len(args) == 0 || (args[0] != "claude-code" && args[0] != "codex") {
		return fmt.Errorf("usage: agentdeck hook claude-code|codex [PAYLOAD] (the payload on stdin, or Codex's notify payload as the last argument)")
	}
	agent := args[0]
	var payload []byte
	if len(args) > 1 {
		payload = []byte(args[len(args)-1])
	} else {
		var err error
		if payload, err = readStdin(ctx, o.Stdin); err != nil {
			return err
		}
	}
	if len(bytes.TrimSpace(payload)) == 0 {
		return fmt.Errorf("no payload: %s writes its hook payload on stdin", agent)
	}
	base, token := o.URL, o.Token
	if (base == "" || token == "") && agent == "codex" {
		base, token = codexCredentials(o.Getenv)
	}
	if base == "" || token == "" {
		return fmt.Errorf("set AGENTDECK_URL and AGENTDECK_TOKEN (agentdeck connect %s writes them into the agent's settings)", agent)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/api/v1/hooks/"+agent, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	h := req.Header
	h.Set("Authorization", "Bearer "+token)
	h.Set("Content-Type", "application/json")
	h.Set("Agentdeck-Sent-At", sentAt.UTC().Format(time.RFC3339Nano))
	attrs := resourceAttributes(o.Getenv("OTEL_RESOURCE_ATTRIBUTES"))
	if id := firstSet(o.Getenv("AGENTDECK_RUN_ID"), attrs["agentdeck.run_id"]); id != "" {
		h.Set("Agentdeck-Run-Id", id)
	}
	if kind := attrs["agentdeck.kind"]; kind != "" {
		h.Set("Agentdeck-Kind", kind)
	}
	if source := attrs["agentdeck.source"]; source != "" {
		h.Set("Agentdeck-Source", source)
	}
	var p struct {
		Cwd string `json:"cwd"`
	}
	json.Unmarshal(payload, &p)
	if repo, branch := gitPlace(p.Cwd); repo != "" || branch != "" {
		h.Set("Agentdeck-Repo", repo)
		h.Set("Agentdeck-Branch", branch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("could not report to %s: %v", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		json.Unmarshal(body, &e)
		return fmt.Errorf("%s refused the report: %s %s", base, resp.Status, e.Error.Message)
	}
	return nil
}

// readStdin reads the payload the agent writes on stdin, giving up when the
// budget ends (a hook run by hand may wait on a terminal).
func readStdin(ctx context.Context, stdin io.Reader) ([]byte, error) {
	if stdin == nil {
		return nil, fmt.Errorf("no payload on stdin")
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(stdin, maxHookPayload+1))
		done <- result{b, err}
	}()
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("no payload on stdin in time")
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("read the payload: %v", r.err)
		}
		if len(r.b) > maxHookPayload {
			return nil, fmt.Errorf("the payload is larger than %d bytes", maxHookPayload)
		}
		return r.b, nil
	}
}

// resourceAttributes parses OTEL_RESOURCE_ATTRIBUTES ("k=v,k2=v2"), where
// `agentdeck run` and the person name the run and its kind.
func resourceAttributes(s string) map[string]string {
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

// codexCredentials reads agentdeck's address and token from the [otel]
// exporter that `agentdeck connect codex` wrote into Codex's config.toml:
// Codex runs its hooks and notify program with its own environment, which
// need not hold AGENTDECK_URL and AGENTDECK_TOKEN.
func codexCredentials(getenv func(string) string) (base, token string) {
	home := getenv("CODEX_HOME")
	if home == "" {
		home = filepath.Join(getenv("HOME"), ".codex")
	}
	b, err := os.ReadFile(filepath.Join(home, "config.toml"))
	if err != nil {
		return "", ""
	}
	var cfg struct {
		OTel struct {
			Exporter map[string]struct {
				Endpoint string            `toml:"endpoint"`
				Headers  map[string]string `toml:"headers"`
			} `toml:"exporter"`
		} `toml:"otel"`
	}
	if toml.Unmarshal(b, &cfg) != nil {
		return "", ""
	}
	exp := cfg.OTel.Exporter["otlp-http"]
	token, _ = strings.CutPrefix(exp.Headers["Authorization"], "Bearer ")
	return strings.TrimSuffix(exp.Endpoint, "/v1/logs"), strings.TrimSpace(token)
}

func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
