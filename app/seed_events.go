package app

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The seeded runs' contents: what one click into a run shows. Conversations
// have a transcript (the prompt, the agent's turns, its tool calls and their
// results); automations have a log with the colours their tools print, the
// failing step of a failed run, and outputs (a pull request, a report, a
// summary); agents' automations also have the agent's transcript. A few
// nightly runs have long logs, as real ones do.

// seedLongLogLines is the length of the long logs.
const seedLongLogLines = 10000

// seedLongLogs is how many runs get one.
const seedLongLogs = 3

// ANSI styles the seeded logs use, as test runners and build tools print
// them.
const (
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiYell  = "\x1b[33m"
	ansiCyan  = "\x1b[36m"
	ansiReset = "\x1b[0m"
)

// seedFiles are the files the seeded agents read and change, per repository.
var seedFiles = map[string][]string{
	"acme/web":     {"src/checkout/Checkout.tsx", "src/settings/SettingsForm.tsx", "src/lib/api.ts", "src/auth/LoginPage.tsx"},
	"acme/api":     {"internal/audit/log.go", "internal/billing/webhook.go", "cmd/api/main.go", "internal/queue/worker.go"},
	"acme/billing": {"billing/webhook.go", "billing/retry.go", "billing/invoice.go", "billing/webhook_test.go"},
	"acme/infra":   {"terraform/preview.tf", "k8s/ingest/deployment.yaml", "scripts/rotate-previews.sh", "ci/pipeline.yml"},
	"acme/docs":    {"docs/feature-flags.md", "docs/rate-limits.md", "mkdocs.yml", "docs/api/v2.md"},
}

// seedFailures are why seeded runs failed, and the test or step that did.
var seedFailures = []struct{ reason, step, detail string }{
	{"tests failed: TestWebhookRetriesWithBackoff", "go test ./...", "--- FAIL: TestWebhookRetriesWithBackoff (0.42s)\n    webhook_test.go:88: got 3 attempts, want 5"},
	{"lint failed: 4 issues in pkg/auth", "golangci-lint run", "pkg/auth/session.go:41:2: ineffectual assignment to err (ineffassign)"},
	{"build failed: cannot find module providing package", "go build ./...", "cmd/api/main.go:12:2: no required module provides package github.com/acme/flags"},
	{"timed out after 30m waiting for the preview environment", "wait for preview", "preview-4821 still pending after 30m0s"},
	{"snapshot mismatch in 2 tests", "npm test", "✕ SettingsForm › renders the dark theme (38 ms)\n  Snapshot name: `SettingsForm renders the dark theme 1`"},
}

// seedBlocks are what seeded conversations wait for.
var seedBlocks = []struct{ reason, tool, command string }{
	{"Permission to run: npm install", "Bash", "npm install"},
	{"Permission to edit terraform/preview.tf", "Edit", ""},
	{"Question: should the retry limit be per webhook or global?", "", ""},
	{"Permission to run: go test ./...", "Bash", "go test ./..."},
}

// seedContents returns an item's events, numbered from 1, and sets what the
// contents tell of the item (why it failed, what it waits for, its last
// seq). long gives an automation a long log.
func seedContents(r seedRand, it *Item, long bool) []*Event {
	c := contentWriter{item: it, at: it.StartedAt}
	if c.at.IsZero() {
		c.at = it.CreatedAt
	}
	repo := it.Where.Repo
	if repo == "" {
		repo = seedRepos[r.IntN(len(seedRepos))]
	}
	files := seedFiles[repo]
	file := files[r.IntN(len(files))]
	failure := seedFailures[r.IntN(len(seedFailures))]
	block := seedBlocks[r.IntN(len(seedBlocks))]

	switch it.Status {
	case StatusFailed:
		it.Reason = failure.reason
	case StatusBlocked:
		it.Reason = block.reason
	case StatusCanceled:
		it.Reason = "canceled by " + []string{"the person who started it", "a newer run of the same task"}[r.IntN(2)]
	}

	if it.Kind == KindInteractive || it.AgentName != "" {
		prompt := it.FirstPrompt
		if prompt == "" {
			prompt = it.Title
		}
		c.message(RoleUser, prompt, nil)
		c.message(RoleAgent, fmt.Sprintf("I'll start by reading %s to see how it works today.", file), nil)
		c.tool("Read", map[string]any{"file_path": file}, seedSnippet(file), false)
		c.message(RoleAgent, "Found it. The change belongs in one place; I'll make it and run the tests.", nil)
		c.tool("Edit", map[string]any{"file_path": file, "old_string": "retries := 3", "new_string": "retries := cfg.MaxRetries"}, "The file has been updated.", false)
		switch it.Status {
		case StatusBlocked:
			if block.tool == "" {
				c.message(RoleAgent, strings.TrimPrefix(block.reason, "Question: "), nil)
			} else {
				input := map[string]any{"file_path": "terraform/preview.tf"}
				if block.command != "" {
					input = map[string]any{"command": block.command}
				}
				c.message(RoleAgent, "I need your permission before going on.", nil)
				c.tool(block.tool, input, "", false)
			}
		case StatusWorking:
			c.tool("Bash", map[string]any{"command": "go test ./..."}, "", false)
		case StatusFailed:
			c.tool("Bash", map[string]any{"command": failure.step}, failure.detail, true)
			c.message(RoleAgent, "The check still fails: "+failure.reason+". I stopped here so you can decide how to go on.", nil)
		case StatusCanceled:
			c.message(RoleAgent, "Stopped before finishing.", nil)
		default:
			c.tool("Bash", map[string]any{"command": "go test ./..."}, "ok  \tgithub.com/"+repo+"/...\t2.314s", false)
			c.message(RoleAgent, fmt.Sprintf("Done: %s now reads the limit from the configuration, and the tests pass.", file), nil)
		}
	}

	if it.Kind == KindAmbient {
		c.logs(r, it, repo, failure.step, failure.detail, long)
		if it.Status == StatusSuccess {
			switch it.Source {
			case SourceGitHubActions, SourceLinear, SourceCLI, SourceSlack:
				pr := 1000 + r.IntN(8000)
				c.output(fmt.Sprintf("Pull request #%d", pr), map[string]any{"url": fmt.Sprintf("https://github.com/%s/pull/%d", repo, pr)})
			case SourceScheduled:
				c.output("The weekly report", map[string]any{"path": "reports/" + it.CreatedAt.Format("2006-01-02") + ".md"})
			}
			c.output(seedSummary(it), nil)
		}
	}
	it.LastSeq = int64(len(c.events))
	return c.events
}

// contentWriter numbers an item's events and spaces their times.
type contentWriter struct {
	item   *Item
	at     time.Time
	events []*Event
}

func (c *contentWriter) add(e *Event) {
	if end := c.item.FinishedAt; end.IsZero() || c.at.Before(end) {
		c.at = c.at.Add(1200 * time.Millisecond)
	}
	e.ItemID, e.Seq, e.CreatedAt = c.item.ID, int64(len(c.events)+1), c.at
	c.events = append(c.events, e)
}

func (c *contentWriter) message(role MessageRole, text string, data map[string]any) {
	c.add(&Event{Type: EventMessage, Role: role, Text: text, Data: seedJSON(data)})
}

// tool is a tool call and, when output is given, its result.
func (c *contentWriter) tool(name string, input map[string]any, output string, failed bool) {
	c.message(RoleTool, "", map[string]any{"tool": name, "input": input})
	if output != "" {
		c.message(RoleTool, output, map[string]any{"tool": name, "result": true, "is_error": failed})
	}
}

func (c *contentWriter) log(line string, stderr bool) {
	var data map[string]any
	if stderr {
		data = map[string]any{"stream": "stderr"}
	}
	c.add(&Event{Type: EventLog, Text: line, Data: seedJSON(data)})
}

func (c *contentWriter) output(text string, data map[string]any) {
	c.add(&Event{Type: EventOutput, Text: text, Data: seedJSON(data)})
}

// logs writes an automation's log: checkout, setup, its steps, and the end.
func (c *contentWriter) logs(r seedRand, it *Item, repo, failingStep, failure string, long bool) {
	branch := it.Where.Branch
	if branch == "" {
		branch = "main"
	}
	c.log(ansiBold+"==> Checking out "+repo+"@"+branch+ansiReset, false)
	c.log(ansiDim+fmt.Sprintf("HEAD is now at %07x %s", r.Uint32()&0xfffffff, it.Title)+ansiReset, false)
	c.log(ansiBold+"==> Setting up"+ansiReset, false)
	c.log("go: downloading modules (cached)", false)
	steps := []string{"go vet ./...", "go test ./...", "golangci-lint run"}
	if strings.HasPrefix(repo, "acme/web") {
		steps = []string{"npm ci", "npm run lint", "npm test"}
	}
	lines := 0
	if long {
		lines = seedLongLogLines
	}
	for i, step := range steps {
		c.log(ansiCyan+"$ "+step+ansiReset, false)
		if i == 1 && lines > 0 {
			for n := range lines {
				pkg := []string{"billing", "queue", "auth", "audit", "ingest", "search"}[n%6]
				c.log(fmt.Sprintf("=== RUN   Test%sCase%05d", strings.ToUpper(pkg[:1])+pkg[1:], n), false)
				if n%50 == 49 {
					c.log(fmt.Sprintf(ansiGreen+"ok  "+ansiReset+"\tgithub.com/%s/%s\t%.3fs", repo, pkg, 0.2+float64(n%17)/10), false)
				}
			}
		}
		if it.Status == StatusFailed && i == len(steps)-1 {
			c.log(ansiRed+"✗ "+failingStep+ansiReset, true)
			for _, l := range strings.Split(failure, "\n") {
				c.log(l, true)
			}
			c.log(ansiRed+ansiBold+"Run failed: "+it.Reason+ansiReset, true)
			return
		}
		if it.Status == StatusWorking && i == len(steps)-1 {
			c.log(ansiYell+"… running"+ansiReset, false)
			return
		}
		c.log(ansiGreen+"✓ "+ansiReset+step+ansiDim+fmt.Sprintf(" (%.1fs)", 1+float64(r.IntN(400))/10)+ansiReset, false)
	}
	if it.Status == StatusCanceled {
		c.log(ansiYell+"Run canceled"+ansiReset, true)
		return
	}
	c.log(ansiGreen+ansiBold+"Run succeeded"+ansiReset, false)
}

// seedSnippet is a file's first lines, as a Read tool returns them.
func seedSnippet(file string) string {
	if strings.HasSuffix(file, ".go") {
		return "package " + strings.TrimSuffix(file[strings.LastIndex(file, "/")+1:], ".go") +
			"\n\n// Deliver sends one event to its endpoint, retrying on failure.\nfunc Deliver(ctx context.Context, e Event) error {\n\tretries := 3\n\t…"
	}
	return "// " + file + "\n…"
}

// seedSummary is the closing summary of a successful automation.
func seedSummary(it *Item) string {
	switch it.Source {
	case SourceScheduled:
		return "Nothing needs attention: every check passed."
	case SourceSlack:
		return "Answered in the thread with the cause and a fix."
	case SourceLinear:
		return "Opened a pull request and moved the issue to In Review."
	case SourceGitHubActions:
		return "Pushed a fix to the pull request; the checks pass."
	}
	return "Finished; the changes are on a branch for review."
}

// seedJSON is data as stored: a compact JSON object, or "" for none.
func seedJSON(data map[string]any) string {
	if len(data) == 0 {
		return ""
	}
	b, err := json.Marshal(data)
	if err != nil {
		panic(err) // the seed's own maps always marshal
	}
	return string(b)
}
