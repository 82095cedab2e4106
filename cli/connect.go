package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/agents"
)

const connectUsage = "usage: agentdeck connect claude-code|codex [--print] [--undo] [--url URL] [--token TOKEN]"

// backupSuffix names the copy of a file that connect keeps before it first
// changes it.
const backupSuffix = ".agentdeck-backup"

// ConnectOptions are what connect needs from its surroundings.
type ConnectOptions struct {
	URL, Token string              // AGENTDECK_URL and AGENTDECK_TOKEN; --url and --token override them
	Getenv     func(string) string // HOME, CODEX_HOME
	// Command is how the agents run the agentdeck binary: main passes its
	// absolute path, so that hooks work whatever the agent's PATH.
	Command string
	Stdout  io.Writer
	Stderr  io.Writer
}

// Connect is "agentdeck connect claude-code|codex [--print] [--undo]": it
// wires a locally installed agent to report to agentdeck by merging settings
// into the agent's own configuration files, keeping everything of the
// person's. --print shows the files it would write and changes nothing;
// --undo takes the wiring out again.
//
// Undo removes what connect added rather than putting the backup back: a
// setting is taken out only while it still holds the value connect wrote (a
// hook still runs agentdeck), and where connect had replaced a value of the
// person's, the value in the backup comes back. So an edit the person made
// after connecting, to our settings or any other, survives undo. When
// nothing but ours had changed, the file comes back byte for byte as the
// backup holds it.
func Connect(ctx context.Context, args []string, o ConnectOptions) error {
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	flags := flag.NewFlagSet("connect", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	printOnly := flags.Bool("print", false, "print the files connect would write, and change nothing")
	undo := flags.Bool("undo", false, "take agentdeck's wiring out again")
	baseURL := flags.String("url", o.URL, "agentdeck's URL (default $AGENTDECK_URL)")
	token := flags.String("token", o.Token, "a personal access token (default $AGENTDECK_TOKEN)")
	// The agent's name may come before the flags or after them.
	if err := flags.Parse(args); err != nil {
		return fmt.Errorf("connect: %w (%s)", err, connectUsage)
	}
	if flags.NArg() == 0 {
		return errors.New(connectUsage)
	}
	agent := flags.Arg(0)
	if err := flags.Parse(flags.Args()[1:]); err != nil {
		return fmt.Errorf("connect: %w (%s)", err, connectUsage)
	}
	if flags.NArg() > 0 || (agent != app.AgentClaudeCode && agent != app.AgentCodex) {
		return errors.New(connectUsage)
	}

	command := o.Command
	if command == "" {
		command = "agentdeck"
	}
	w := agents.Wiring{Command: command}
	if !*undo {
		base, err := checkBaseURL(*baseURL)
		if err != nil {
			return err
		}
		w.BaseURL, w.Token = base, strings.TrimSpace(*token)
		if w.Token == "" {
			return errors.New("connect: set AGENTDECK_TOKEN (or pass --token) to a personal access token: " +
				"create one on agentdeck's Settings → Tokens page, or with `agentdeck token create --user HANDLE`")
		}
	}

	home := o.Getenv("HOME")
	var plan connectPlan
	var err error
	switch codexHome := o.Getenv("CODEX_HOME"); {
	case home == "" && (agent == app.AgentClaudeCode || codexHome == ""):
		return errors.New("connect: HOME is not set, so the agent's settings cannot be found")
	case agent == app.AgentClaudeCode:
		plan, err = planClaudeCode(filepath.Join(home, ".claude", "settings.json"), w, *undo)
	default:
		if codexHome == "" {
			codexHome = filepath.Join(home, ".codex")
		}
		plan, err = planCodex(codexHome, w, *undo)
	}
	if err != nil {
		return err
	}

	for _, warning := range plan.warnings {
		fmt.Fprintln(o.Stderr, "agentdeck: warning:", warning)
	}
	if *printOnly {
		return plan.print(o.Stdout)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !*undo && looksTemporary(command) {
		fmt.Fprintf(o.Stderr, "agentdeck: warning: the hooks run %s, which looks like a temporary build (go run); "+
			"build or install agentdeck and connect again, or the hooks stop working when it is deleted\n", command)
	}
	changed, err := plan.apply()
	if err != nil {
		return err
	}
	fmt.Fprintln(o.Stderr, plan.summary(changed, *undo))
	return nil
}

// checkBaseURL returns agentdeck's URL without a trailing slash, or says
// how to set it.
func checkBaseURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("connect: set AGENTDECK_URL (or pass --url) to agentdeck's URL, e.g. https://agentdeck.example.com, " +
			"and AGENTDECK_TOKEN to a personal access token from its Settings → Tokens page or `agentdeck token create --user HANDLE`")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("connect: AGENTDECK_URL %q is not an http:// or https:// URL of agentdeck", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// looksTemporary reports whether the binary is one that go run builds in a
// temporary directory and deletes when it exits.
func looksTemporary(command string) bool {
	return strings.Contains(filepath.ToSlash(command), "/go-build")
}

// connectPlan is what connect is about to do to one agent's files.
type connectPlan struct {
	agent    string // the agent's name for people: Claude Code, Codex
	files    []fileChange
	warnings []string
}

// fileChange is one file connect writes: what it holds now and what it will.
type fileChange struct {
	path         string // where it is written
	shown        string // the path as the person knows it
	exists       bool
	before       []byte
	after        []byte // nil to remove the file
	backup       bool   // keep before as path+backupSuffix first
	removeBackup bool   // remove the backup after, which the file now matches
}

func (c fileChange) changed() bool {
	if c.after == nil {
		return c.exists
	}
	return !c.exists || !bytes.Equal(c.before, c.after)
}

// print writes each file as it would be written, after a line naming it.
func (p connectPlan) print(w io.Writer) error {
	for i, f := range p.files {
		if f.after == nil && !f.exists {
			continue
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		if f.after == nil {
			fmt.Fprintf(w, "# %s (removed)\n", f.shown)
			continue
		}
		fmt.Fprintf(w, "# %s\n", f.shown)
		if _, err := w.Write(f.after); err != nil {
			return err
		}
	}
	return nil
}

// apply writes the files that change and says which did.
func (p connectPlan) apply() ([]string, error) {
	var changed []string
	for _, f := range p.files {
		if !f.changed() {
			continue
		}
		if f.backup {
			if err := writeFileAtomically(f.path+backupSuffix, f.before); err != nil {
				return changed, fmt.Errorf("connect: keep a backup of %s: %w", f.path, err)
			}
		}
		if f.after == nil {
			if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return changed, fmt.Errorf("connect: %w", err)
			}
		} else if err := writeFileAtomically(f.path, f.after); err != nil {
			return changed, fmt.Errorf("connect: %w", err)
		}
		if f.removeBackup {
			if err := os.Remove(f.path + backupSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return changed, fmt.Errorf("connect: %w", err)
			}
		}
		changed = append(changed, f.shown)
	}
	return changed, nil
}

// summary is the one line connect ends with.
func (p connectPlan) summary(changed []string, undo bool) string {
	var paths []string
	for _, f := range p.files {
		paths = append(paths, f.shown)
	}
	switch {
	case len(changed) == 0 && undo:
		return fmt.Sprintf("nothing to undo: %s has no agentdeck wiring", strings.Join(paths, " and "))
	case len(changed) == 0:
		return fmt.Sprintf("%s is already wired in %s; nothing changed", p.agent, strings.Join(paths, " and "))
	case undo:
		return fmt.Sprintf("unwired %s in %s; restart running sessions", p.agent, strings.Join(changed, " and "))
	case p.agent == "Codex":
		return fmt.Sprintf("wired Codex in %s; restart running sessions, and trust agentdeck's hooks in Codex's /hooks",
			strings.Join(changed, " and "))
	default:
		return fmt.Sprintf("wired %s in %s; restart running sessions", p.agent, strings.Join(changed, " and "))
	}
}

// agentFile is a file of the agent's as connect found it.
type agentFile struct {
	path   string // where it is written: a symbolic link is followed, so that dotfiles kept elsewhere stay linked
	shown  string // the path as the person knows it
	exists bool
	data   []byte
	backup []byte // the backup connect kept of it, nil when there is none
}

func readConfigFile(path string) (agentFile, error) {
	f := agentFile{path: path, shown: path}
	if target, err := filepath.EvalSymlinks(path); err == nil {
		f.path = target
	}
	data, err := os.ReadFile(f.path)
	switch {
	case err == nil:
		f.exists, f.data = true, data
	case !errors.Is(err, fs.ErrNotExist):
		return f, fmt.Errorf("connect: %w", err)
	}
	if backup, err := os.ReadFile(f.path + backupSuffix); err == nil {
		f.backup = backup
	}
	return f, nil
}

// change is the fileChange that takes f to after. A backup is kept when the
// file has none of agentdeck's wiring yet: then it holds the person's own
// settings as they were before this connect. Once wired, it is not kept
// again, so a second connect leaves the first backup alone. An undo that
// gives the backup back byte for byte removes it, leaving the directory as
// connect found it.
func (f agentFile) change(after []byte, wiredBefore, undo bool) fileChange {
	c := fileChange{path: f.path, shown: f.shown, exists: f.exists, before: f.data, after: after, backup: f.exists && !wiredBefore && !undo}
	c.removeBackup = undo && f.backup != nil && bytes.Equal(after, f.backup) && c.changed()
	return c
}

// planClaudeCode merges the wiring into (or, undoing, out of) Claude Code's
// settings.json.
func planClaudeCode(path string, w agents.Wiring, undo bool) (connectPlan, error) {
	plan := connectPlan{agent: "Claude Code"}
	f, err := readConfigFile(path)
	if err != nil {
		return plan, err
	}
	doc, err := parseJSONFile(f)
	if err != nil {
		return plan, err
	}
	var before *orderedObject
	if f.backup != nil {
		before, _ = parseOrderedObject(f.backup) // a damaged backup is as good as none
	}
	wired := unwireClaudeCode(mustReparse(f.data), nil, w.Command)
	if undo {
		unwireClaudeCode(doc, before, w.Command)
	} else if err := wireClaudeCode(doc, agents.ClaudeCodeSettings(w)); err != nil {
		return plan, fmt.Errorf("connect: %s: %w; nothing was changed", f.shown, err)
	}
	after := f.jsonAfter(doc, before, undo)
	plan.files = append(plan.files, f.change(after, wired, undo))
	return plan, nil
}

// planCodex merges the wiring into (or out of) Codex's config.toml and
// hooks.json.
func planCodex(codexHome string, w agents.Wiring, undo bool) (connectPlan, error) {
	plan := connectPlan{agent: "Codex"}
	wiring := agents.CodexWiring(w)

	hooksFile, err := readConfigFile(filepath.Join(codexHome, "hooks.json"))
	if err != nil {
		return plan, err
	}
	hooksDoc, err := parseJSONFile(hooksFile)
	if err != nil {
		return plan, err
	}
	var hooksBefore *orderedObject
	if hooksFile.backup != nil {
		hooksBefore, _ = parseOrderedObject(hooksFile.backup)
	}
	hooksWired := removeHooks(mustReparse(hooksFile.data), nil, app.AgentCodex, w.Command)
	if undo {
		removeHooks(hooksDoc, hooksBefore, app.AgentCodex, w.Command)
	} else if err := addHooks(hooksDoc, wiring.Hooks, app.AgentCodex); err != nil {
		return plan, fmt.Errorf("connect: %s: %w; nothing was changed", hooksFile.shown, err)
	}
	hooksAfter := hooksFile.jsonAfter(hooksDoc, hooksBefore, undo)

	configFile, err := readConfigFile(filepath.Join(codexHome, "config.toml"))
	if err != nil {
		return plan, err
	}
	if _, err := parseTOML(configFile.data); err != nil {
		return plan, fmt.Errorf("connect: %s is not valid TOML (%v); fix it and connect again; nothing was changed", configFile.shown, err)
	}
	// Undo leaves features.hooks on when the person has added hooks of their
	// own since connect turned it on, which would stop running without it.
	hooksAddedSince := (declaresHooks(hooksDoc) && (hooksBefore == nil || !bytes.Equal(encodeOrdered(hooksDoc, "  "), encodeOrdered(hooksBefore, "  ")))) ||
		(tomlHasKey(configFile.data, "hooks") && !tomlHasKey(configFile.backup, "hooks"))
	unwired, err := unwireCodexConfig(configFile.data, nil, w.Command, false)
	if err != nil {
		return plan, fmt.Errorf("connect: %s: %w", configFile.shown, err)
	}
	configWired := !bytes.Equal(unwired, configFile.data)
	var configAfter []byte
	if undo {
		configAfter, err = unwireCodexConfig(configFile.data, configFile.backup, w.Command, hooksAddedSince)
		if err == nil && configFile.backup == nil && len(bytes.TrimSpace(configAfter)) == 0 {
			configAfter = nil // connect created the file
		}
	} else {
		var theirNotify string
		configAfter, theirNotify, err = wireCodexConfig(configFile.data, wiring)
		if theirNotify != "" {
			// Codex runs one notify program. The hooks report every
			// session without it, but codex exec runs hooks only when
			// trusted, and notify is how its turns still report.
			plan.warnings = append(plan.warnings, fmt.Sprintf("%s already has `%s`, so connect left it; "+
				"the hooks still report to agentdeck. To report each turn of codex exec too, "+
				"have that program also run `%s` with the JSON it gets as its last argument appended",
				configFile.shown, theirNotify, agents.HookCommand(w.Command, app.AgentCodex)))
		}
	}
	if err != nil {
		return plan, fmt.Errorf("connect: %s: %w; nothing was changed", configFile.shown, err)
	}

	plan.files = append(plan.files, configFile.change(configAfter, configWired, undo), hooksFile.change(hooksAfter, hooksWired, undo))
	return plan, nil
}

// jsonAfter is the text of doc, laid out as f was. A document that has not
// changed keeps its bytes. When undo leaves the same document as the backup
// holds, the backup's own bytes come back; when it leaves nothing in a file
// connect created, the file goes.
func (f agentFile) jsonAfter(doc, before *orderedObject, undo bool) []byte {
	switch {
	case undo && before != nil && bytes.Equal(encodeOrdered(doc, "  "), encodeOrdered(before, "  ")):
		return f.backup
	case undo && f.backup == nil && len(doc.names) == 0:
		return nil
	case f.exists && bytes.Equal(encodeOrdered(doc, "  "), encodeOrdered(mustReparse(f.data), "  ")):
		return f.data
	}
	return encodeOrdered(doc, detectIndent(f.data))
}

func parseJSONFile(f agentFile) (*orderedObject, error) {
	doc, err := parseOrderedObject(f.data)
	if err != nil {
		return nil, fmt.Errorf("connect: %s is not a valid JSON object (%v); fix it and connect again; nothing was changed", f.shown, err)
	}
	return doc, nil
}

// mustReparse parses data that parseJSONFile has already accepted, for a
// second, scratch copy of the document.
func mustReparse(data []byte) *orderedObject {
	doc, err := parseOrderedObject(data)
	if err != nil {
		panic(err)
	}
	return doc
}

// wireClaudeCode sets the wiring's environment variables (replacing only
// those) and adds its hooks.
func wireClaudeCode(doc *orderedObject, wiring agents.ClaudeCodeWiring) error {
	env, err := doc.object("env")
	if err != nil {
		return err
	}
	for _, v := range wiring.Env {
		env.set(v.Name, jsonText(v.Value))
	}
	return addHooks(doc, wiring.Hooks, app.AgentClaudeCode)
}

// unwireClaudeCode takes the wiring out of doc and reports whether there was
// any. The environment variables are recognised by the values connect
// writes for the URL and token the file itself names, so a variable the
// person has changed since is theirs and stays.
func unwireClaudeCode(doc, before *orderedObject, command string) bool {
	removed := removeHooks(doc, before, app.AgentClaudeCode, command)
	env, ok := doc.values["env"].(*orderedObject)
	if !ok {
		return removed
	}
	baseURL, hasURL := env.str("AGENTDECK_URL")
	token, hasToken := env.str("AGENTDECK_TOKEN")
	if !hasURL || !hasToken {
		return removed
	}
	var envBefore *orderedObject
	if before != nil {
		envBefore, _ = before.values["env"].(*orderedObject)
	}
	for _, v := range agents.ClaudeCodeSettings(agents.Wiring{BaseURL: baseURL, Token: token}).Env {
		if current, _ := env.str(v.Name); current != v.Value {
			continue
		}
		removed = true
		if previous, ok := envBefore.get(v.Name); ok {
			env.set(v.Name, previous)
		} else {
			env.remove(v.Name)
		}
	}
	if len(env.names) == 0 && (before == nil || !before.has("env")) {
		doc.remove("env")
	}
	return removed
}

// addHooks adds each hook to its event's array in doc's hooks object, unless
// the event already runs the same command. agentdeck's hooks for the agent
// with another command, left by a binary that has since moved, give way, so
// that every event reports once.
func addHooks(doc *orderedObject, hooks agents.Hooks, agent string) error {
	events, err := doc.object("hooks")
	if err != nil {
		return err
	}
	for _, h := range hooks {
		groups, ok := events.values[h.Event].([]any)
		if _, present := events.values[h.Event]; present && !ok {
			return fmt.Errorf("hooks.%s is not an array", h.Event)
		}
		groups, _ = dropHooks(groups, func(command string) bool {
			return command != h.Command && agents.IsAgentdeckHook(command, agent)
		})
		if !runsCommand(groups, h.Command) {
			group, err := parseOrderedValue(h.Group())
			if err != nil {
				return err
			}
			groups = append(groups, group)
		}
		events.set(h.Event, groups)
	}
	return nil
}

// removeHooks takes agentdeck's hooks for agent out of every event of doc's
// hooks object, with the groups and events that held only them unless the
// person had those before connect. It reports whether there were any.
func removeHooks(doc, before *orderedObject, agent, command string) bool {
	events, ok := doc.values["hooks"].(*orderedObject)
	if !ok {
		return false
	}
	ours := agents.HookCommand(command, agent)
	var eventsBefore *orderedObject
	if before != nil {
		eventsBefore, _ = before.values["hooks"].(*orderedObject)
	}
	removedAny := false
	for _, event := range append([]string(nil), events.names...) {
		groups, ok := events.values[event].([]any)
		if !ok {
			continue
		}
		groups, removed := dropHooks(groups, func(c string) bool { return c == ours || agents.IsAgentdeckHook(c, agent) })
		if !removed {
			continue
		}
		removedAny = true
		if len(groups) == 0 && !eventsBefore.has(event) {
			events.remove(event)
		} else {
			events.set(event, groups)
		}
	}
	if removedAny && len(events.names) == 0 && (before == nil || !before.has("hooks")) {
		doc.remove("hooks")
	}
	return removedAny
}

// dropHooks removes from an event's groups the hooks whose command matches,
// and the groups left empty by that.
func dropHooks(groups []any, match func(command string) bool) ([]any, bool) {
	var kept []any
	removed := false
	for _, g := range groups {
		group, _ := g.(*orderedObject)
		handlers, _ := group.get("hooks")
		list, ok := handlers.([]any)
		if !ok {
			kept = append(kept, g)
			continue
		}
		var keptHandlers []any
		for _, h := range list {
			handler, _ := h.(*orderedObject)
			if command, ok := handler.str("command"); ok && match(command) {
				removed = true
				continue
			}
			keptHandlers = append(keptHandlers, h)
		}
		switch {
		case len(keptHandlers) == len(list):
			kept = append(kept, g)
		case len(keptHandlers) > 0:
			group.set("hooks", keptHandlers)
			kept = append(kept, g)
		}
	}
	return kept, removed
}

// runsCommand reports whether one of an event's groups runs command.
func runsCommand(groups []any, command string) bool {
	for _, g := range groups {
		group, _ := g.(*orderedObject)
		handlers, _ := group.get("hooks")
		list, _ := handlers.([]any)
		for _, h := range list {
			handler, _ := h.(*orderedObject)
			if c, ok := handler.str("command"); ok && c == command {
				return true
			}
		}
	}
	return false
}

// hasHooks reports whether a hooks.json still declares any hook.
func declaresHooks(doc *orderedObject) bool {
	events, _ := doc.values["hooks"].(*orderedObject)
	if events == nil {
		return false
	}
	for _, name := range events.names {
		if groups, _ := events.values[name].([]any); len(groups) > 0 {
			return true
		}
	}
	return false
}

// orderedObject is a JSON object that keeps its members in the order they were
// written, so that rewriting a person's settings moves nothing of theirs.
// Values are *orderedObject, []any, or a jsontext.Value for anything else.
type orderedObject struct {
	names  []string
	values map[string]any
}

func newOrderedObject() *orderedObject { return &orderedObject{values: map[string]any{}} }

// get is a nil-safe lookup: a missing object has no members.
func (o *orderedObject) get(name string) (any, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.values[name]
	return v, ok
}

func (o *orderedObject) has(name string) bool {
	_, ok := o.get(name)
	return ok
}

// str is the member's value when it is a string.
func (o *orderedObject) str(name string) (string, bool) {
	v, _ := o.get(name)
	raw, ok := v.(jsontext.Value)
	if !ok || raw.Kind() != '"' {
		return "", false
	}
	s, err := jsontext.AppendUnquote(nil, raw)
	return string(s), err == nil
}

// set replaces a member's value where it is, or adds it at the end.
func (o *orderedObject) set(name string, v any) {
	if _, ok := o.values[name]; !ok {
		o.names = append(o.names, name)
	}
	o.values[name] = v
}

func (o *orderedObject) remove(name string) {
	if _, ok := o.values[name]; !ok {
		return
	}
	delete(o.values, name)
	for i, n := range o.names {
		if n == name {
			o.names = append(o.names[:i], o.names[i+1:]...)
			break
		}
	}
}

// object is the member that must be an object, added when missing.
func (o *orderedObject) object(name string) (*orderedObject, error) {
	v, ok := o.values[name]
	if !ok {
		member := newOrderedObject()
		o.set(name, member)
		return member, nil
	}
	member, ok := v.(*orderedObject)
	if !ok {
		return nil, fmt.Errorf("%q is not an object", name)
	}
	return member, nil
}

// jsonText is s as a JSON string value.
func jsonText(s string) jsontext.Value {
	quoted, err := jsontext.AppendQuote(nil, s)
	if err != nil {
		// Only invalid UTF-8 fails, which settings and tokens do not hold;
		// the replacement characters are the best that can be written.
		quoted, _ = jsontext.AppendQuote(nil, strings.ToValidUTF8(s, "\uFFFD"))
	}
	return quoted
}

// parseOrderedObject reads a document that must be an object; an empty or blank
// file counts as an empty object, as the agents themselves take it.
func parseOrderedObject(data []byte) (*orderedObject, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return newOrderedObject(), nil
	}
	v, err := parseOrderedValue(data)
	if err != nil {
		return nil, err
	}
	doc, ok := v.(*orderedObject)
	if !ok {
		return nil, errors.New("the document is not an object")
	}
	return doc, nil
}

func parseOrderedValue(data []byte) (any, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	v, err := decodeOrderedValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, errors.New("there is more after the document")
	}
	return v, nil
}

func decodeOrderedValue(dec *jsontext.Decoder) (any, error) {
	switch dec.PeekKind() {
	case '{':
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		o := newOrderedObject()
		for dec.PeekKind() != '}' {
			token, err := dec.ReadToken()
			if err != nil {
				return nil, err
			}
			name := token.String() // before the next read voids the token
			v, err := decodeOrderedValue(dec)
			if err != nil {
				return nil, err
			}
			o.set(name, v)
		}
		_, err := dec.ReadToken()
		return o, err
	case '[':
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		list := []any{}
		for dec.PeekKind() != ']' {
			v, err := decodeOrderedValue(dec)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.ReadToken()
		return list, err
	default:
		v, err := dec.ReadValue()
		return v.Clone(), err
	}
}

// encodeOrdered writes doc indented by indent, a final newline after it.
func encodeOrdered(doc *orderedObject, indent string) []byte {
	var b bytes.Buffer
	enc := jsontext.NewEncoder(&b, jsontext.WithIndent(indent))
	if err := encodeOrderedValue(enc, doc); err != nil {
		panic(fmt.Sprintf("connect: encode a parsed document: %v", err))
	}
	return b.Bytes()
}

func encodeOrderedValue(enc *jsontext.Encoder, v any) error {
	switch v := v.(type) {
	case *orderedObject:
		if err := enc.WriteToken(jsontext.BeginObject); err != nil {
			return err
		}
		for _, name := range v.names {
			if err := enc.WriteToken(jsontext.String(name)); err != nil {
				return err
			}
			if err := encodeOrderedValue(enc, v.values[name]); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndObject)
	case []any:
		if err := enc.WriteToken(jsontext.BeginArray); err != nil {
			return err
		}
		for _, item := range v {
			if err := encodeOrderedValue(enc, item); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndArray)
	case jsontext.Value:
		return enc.WriteValue(v)
	}
	return fmt.Errorf("unexpected %T", v)
}

// detectIndent is the indentation of the file's first indented line, so
// that a file indented by four spaces or a tab stays so; two spaces, as
// the agents write, otherwise.
func detectIndent(data []byte) string {
	for _, line := range bytes.Split(data, []byte("\n"))[1:] {
		trimmed := bytes.TrimLeft(line, " \t")
		if indent := line[:len(line)-len(trimmed)]; len(indent) > 0 && len(bytes.TrimSpace(trimmed)) > 0 {
			return string(indent)
		}
	}
	return "  "
}

// wireCodexConfig sets the wiring's keys in a config.toml by editing its
// text, so that the person's comments, order and layout stay as they were:
// a key connect sets is replaced where it is or added at the end of its
// table, and a missing table is added at the end of the file. A notify
// program of the person's own is left alone and returned, to warn about.
func wireCodexConfig(text []byte, wiring agents.CodexConfig) (out []byte, theirNotify string, err error) {
	for _, s := range wiring.Settings {
		doc, err := parseTOML(text)
		if err != nil {
			// The file was valid before connect's last edit.
			return nil, "", errCannotMerge(err, wiring)
		}
		want, err := tomlValue(s)
		if err != nil {
			return nil, "", err
		}
		e := doc.entry(s.Table, s.Key)
		switch {
		case e == nil:
			text = doc.insert(s)
		case reflect.DeepEqual(doc.value(s.Table, s.Key), want):
		case s.Table == "" && s.Key == "notify" && !agents.IsAgentdeckNotify(tomlStrings(doc.value("", "notify"))):
			theirNotify = string(doc.text[e.start:e.end])
		default:
			text = doc.replace(e, s.Line())
		}
	}
	return text, theirNotify, checkCodexConfig(text, wiring)
}

// checkCodexConfig makes sure an edited config.toml is valid TOML in which
// every key connect sets has its value. It fails where the person's file
// defines those tables in a form that connect does not edit (dotted keys or
// inline tables), so that the file is left untouched and the person can add
// the snippet by hand.
func checkCodexConfig(text []byte, wiring agents.CodexConfig) error {
	doc, err := parseTOML(text)
	if err != nil {
		return errCannotMerge(err, wiring)
	}
	for _, s := range wiring.Settings {
		want, err := tomlValue(s)
		if err != nil {
			return err
		}
		if got := doc.value(s.Table, s.Key); !reflect.DeepEqual(got, want) && !(s.Table == "" && s.Key == "notify") {
			return fmt.Errorf("could not set %s; add these by hand:\n%s", strings.TrimPrefix(s.Table+"."+s.Key, "."), wiring.ConfigSnippet())
		}
	}
	return nil
}

// errCannotMerge says that merging the wiring into a config.toml made it
// invalid, which happens where the person defines [otel] or [features] in a
// form connect does not edit, and what to add by hand instead.
func errCannotMerge(err error, wiring agents.CodexConfig) error {
	return fmt.Errorf("merging in agentdeck's settings would make the file invalid (%v), "+
		"perhaps because it sets otel or features with dotted keys or inline tables; add these by hand:\n%s",
		err, wiring.ConfigSnippet())
}

// unwireCodexConfig takes the wiring out of a config.toml's text. The
// exporters are recognised by the values connect writes for the URL and
// token they name; log_user_prompt goes with them, and features.hooks unless
// the person has added hooks since that need it. A value connect had
// replaced comes back from the backup, as the person wrote it.
func unwireCodexConfig(text, backup []byte, command string, keepFeatureHooks bool) ([]byte, error) {
	doc, err := parseTOML(text)
	if err != nil {
		return nil, err
	}
	var before *tomlDocument
	if backup != nil {
		before, _ = parseTOML(backup) // a damaged backup is as good as none
	}
	is := func(s agents.TOMLSetting) bool {
		want, err := tomlValue(s)
		return err == nil && reflect.DeepEqual(doc.value(s.Table, s.Key), want)
	}
	// The wiring is the one for the URL and token that either exporter
	// names; the person may have pointed the other one elsewhere since.
	var wiring agents.CodexConfig
	exportersOurs := false
	for _, exporter := range []struct{ key, path string }{{"exporter", "/v1/logs"}, {"metrics_exporter", "/v1/metrics"}} {
		settings, _ := doc.value("otel", exporter.key).(map[string]any)
		http, _ := settings["otlp-http"].(map[string]any)
		endpoint, _ := http["endpoint"].(string)
		headers, _ := http["headers"].(map[string]any)
		authorization, _ := headers["Authorization"].(string)
		wiring = agents.CodexWiring(agents.Wiring{
			BaseURL: strings.TrimSuffix(endpoint, exporter.path),
			Token:   strings.TrimPrefix(authorization, "Bearer "),
			Command: command,
		})
		for _, s := range wiring.Settings {
			if s.Table == "otel" && s.Key == exporter.key && is(s) {
				exportersOurs = true
			}
		}
		if exportersOurs {
			break
		}
	}
	var ours []agents.TOMLSetting
	for _, s := range wiring.Settings {
		switch {
		case s.Table == "" && s.Key == "notify":
			if is(s) || agents.IsAgentdeckNotify(tomlStrings(doc.value("", "notify"))) {
				ours = append(ours, s)
			}
		case s.Table == "features" && s.Key == "hooks":
			if is(s) && !keepFeatureHooks {
				ours = append(ours, s)
			}
		case s.Table == "otel":
			if is(s) && exportersOurs {
				ours = append(ours, s)
			}
		}
	}
	for _, s := range ours {
		doc, err = parseTOML(text)
		if err != nil {
			return nil, err
		}
		e := doc.entry(s.Table, s.Key)
		if previous := before.entry(s.Table, s.Key); previous != nil {
			text = doc.replace(e, string(before.text[previous.start:previous.end]))
		} else {
			text = doc.removeLines(e.lineStart, e.lineEnd)
		}
	}
	// A table left empty goes too, unless the person had it.
	for _, table := range []string{"otel", "features"} {
		doc, err = parseTOML(text)
		if err != nil {
			return nil, err
		}
		h := doc.header(table)
		if h == nil || doc.hasEntries(table) || before.header(table) != nil {
			continue
		}
		start := h.lineStart
		if start > 0 && isBlankLineBefore(text, start) {
			start = bytes.LastIndexByte(text[:start-1], '\n') + 1
		}
		text = doc.removeLines(start, h.lineEnd)
	}
	if before != nil && sameButBlankLines(text, backup) {
		return backup, nil
	}
	if _, err := parseTOML(text); err != nil {
		return nil, fmt.Errorf("taking out agentdeck's settings would make the file invalid (%v); remove them by hand", err)
	}
	return text, nil
}

// isBlankLineBefore reports whether the line before the one starting at
// start is empty.
func isBlankLineBefore(text []byte, start int) bool {
	previous := text[bytes.LastIndexByte(text[:start-1], '\n')+1 : start-1]
	return len(bytes.TrimSpace(previous)) == 0
}

// sameButBlankLines reports whether two texts differ at most in blank lines
// and trailing spaces.
func sameButBlankLines(a, b []byte) bool {
	lines := func(text []byte) []string {
		var kept []string
		for _, line := range strings.Split(string(text), "\n") {
			if line = strings.TrimRight(line, " \t\r"); line != "" {
				kept = append(kept, line)
			}
		}
		return kept
	}
	return reflect.DeepEqual(lines(a), lines(b))
}

// tomlDocument is a TOML file's text with where each table header and
// key-value sits in it, and its decoded values.
type tomlDocument struct {
	text    []byte
	values  map[string]any
	entries []tomlEntry
	headers []tomlHeader
}

// tomlEntry is one key-value of the text.
type tomlEntry struct {
	table      []string // the table it is under; empty at the top level
	key        []string // its key, a dotted key in parts
	start, end int      // where `key = value` is
	// lineStart and lineEnd span its whole lines, the last newline
	// included, as removing it takes them.
	lineStart, lineEnd int
}

// tomlHeader is one table header of the text.
type tomlHeader struct {
	name               []string
	array              bool
	lineStart, lineEnd int
}

func parseTOML(text []byte) (*tomlDocument, error) {
	doc := &tomlDocument{text: text, values: map[string]any{}}
	// Unmarshal checks what the parser alone lets through (a key defined
	// twice) and says where the fault is.
	if err := toml.Unmarshal(text, &doc.values); err != nil {
		var decodeErr *toml.DecodeError
		if errors.As(err, &decodeErr) {
			line, column := decodeErr.Position()
			return nil, fmt.Errorf("line %d, column %d: %v", line, column, decodeErr)
		}
		return nil, err
	}
	var p unstable.Parser
	p.Reset(text)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			name, first := tomlKey(e.Key())
			table = name
			doc.headers = append(doc.headers, tomlHeader{
				name: name, array: e.Kind == unstable.ArrayTable,
				lineStart: startOfLine(text, first), lineEnd: endOfLine(text, first),
			})
		case unstable.KeyValue:
			key, _ := tomlKey(e.Key())
			start, end := int(e.Raw.Offset), int(e.Raw.Offset+e.Raw.Length)
			doc.entries = append(doc.entries, tomlEntry{
				table: table, key: key, start: start, end: end,
				lineStart: startOfLine(text, start), lineEnd: endOfLine(text, end),
			})
		}
	}
	if err := p.Error(); err != nil {
		return nil, err
	}
	return doc, nil
}

// tomlKey is a key's parts and where its first part starts.
func tomlKey(it unstable.Iterator) ([]string, int) {
	var parts []string
	first := -1
	for it.Next() {
		n := it.Node()
		if first < 0 {
			first = int(n.Raw.Offset)
		}
		parts = append(parts, string(n.Data))
	}
	return parts, first
}

func startOfLine(text []byte, offset int) int { return bytes.LastIndexByte(text[:offset], '\n') + 1 }

func endOfLine(text []byte, offset int) int {
	if i := bytes.IndexByte(text[offset:], '\n'); i >= 0 {
		return offset + i + 1
	}
	return len(text)
}

// tableName is a setting's table as key parts.
func tomlTableName(table string) []string {
	if table == "" {
		return nil
	}
	return []string{table}
}

// entry is the plain `key = value` of key directly under table, or nil. A
// nil document has no entries.
func (d *tomlDocument) entry(table, key string) *tomlEntry {
	if d == nil {
		return nil
	}
	for i, e := range d.entries {
		if equalKeys(e.table, tomlTableName(table)) && equalKeys(e.key, []string{key}) {
			return &d.entries[i]
		}
	}
	return nil
}

// header is the [table] header, or nil.
func (d *tomlDocument) header(table string) *tomlHeader {
	if d == nil {
		return nil
	}
	for i, h := range d.headers {
		if !h.array && equalKeys(h.name, tomlTableName(table)) {
			return &d.headers[i]
		}
	}
	return nil
}

func (d *tomlDocument) hasEntries(table string) bool {
	for _, e := range d.entries {
		if equalKeys(e.table, tomlTableName(table)) {
			return true
		}
	}
	return false
}

// value is the decoded value of table.key, or nil.
func (d *tomlDocument) value(table, key string) any {
	values := d.values
	if table != "" {
		values, _ = d.values[table].(map[string]any)
	}
	return values[key]
}

// insert adds a setting at the end of its table: after the table's last
// key-value, after its header when it has none, or in a new table at the
// end of the file. A top-level key goes after the last top-level one, which
// is before the first table.
func (d *tomlDocument) insert(s agents.TOMLSetting) []byte {
	at := -1
	if h := d.header(s.Table); h != nil || s.Table == "" {
		if h != nil {
			at = h.lineEnd
		} else {
			at = 0
		}
		for _, e := range d.entries {
			if equalKeys(e.table, tomlTableName(s.Table)) {
				at = e.lineEnd
			}
		}
	}
	var add string
	if at < 0 {
		at = len(d.text)
		if len(bytes.TrimSpace(d.text)) > 0 {
			if !bytes.HasSuffix(d.text, []byte("\n")) {
				add = "\n"
			}
			if !bytes.HasSuffix(d.text, []byte("\n\n")) {
				add += "\n"
			}
		}
		add += "[" + s.Table + "]\n"
	} else if at == len(d.text) && at > 0 && d.text[at-1] != '\n' {
		add = "\n"
	}
	add += s.Line() + "\n"
	return spliceText(d.text, at, at, add)
}

// replace puts text in place of an entry's `key = value`, keeping what
// surrounds it on its lines (a comment after it).
func (d *tomlDocument) replace(e *tomlEntry, text string) []byte {
	return spliceText(d.text, e.start, e.end, text)
}

func (d *tomlDocument) removeLines(start, end int) []byte { return spliceText(d.text, start, end, "") }

func spliceText(text []byte, start, end int, insert string) []byte {
	out := make([]byte, 0, len(text)+len(insert))
	out = append(out, text[:start]...)
	out = append(out, insert...)
	return append(out, text[end:]...)
}

func equalKeys(a, b []string) bool { return slices.Equal(a, b) }

// tomlValue is a setting's value as the TOML decoder gives it, to compare
// with a document's.
func tomlValue(s agents.TOMLSetting) (any, error) {
	var m map[string]any
	if err := toml.Unmarshal([]byte("v = "+s.Value), &m); err != nil {
		return nil, fmt.Errorf("connect: the setting %s = %s is not TOML: %w", s.Key, s.Value, err)
	}
	return m["v"], nil
}

// tomlHasKey reports whether a config.toml has a top-level key, whatever
// its form.
func tomlHasKey(text []byte, key string) bool {
	var m map[string]any
	if toml.Unmarshal(text, &m) != nil {
		return false
	}
	_, ok := m[key]
	return ok
}

// tomlStrings is a decoded array of strings, or nil.
func tomlStrings(v any) []string {
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	var out []string
	for _, item := range list {
		s, ok := item.(string)
		if !ok {
			return nil
		}
		out = append(out, s)
	}
	return out
}

// writeFileAtomically replaces path with data, readable by its owner only
// (the token is in it), so that a reader never sees half a file and a crash
// never leaves one.
func writeFileAtomically(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
