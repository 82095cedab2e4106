package handlers_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium.
const chromiumPath = "/usr/bin/chromium"

// browser is a headless Chromium tab, everything its console reported and
// how many documents it loaded.
type browser struct {
	ctx     context.Context
	mu      sync.Mutex
	console []chromedp.ConsoleMessage
	logged  chan struct{} // closed and replaced whenever a message comes
	loads   int
}

// reportCSPViolations runs in every document before the page's own scripts:
// it puts each Content-Security-Policy violation on the console as an error,
// so that a test sees it even where the browser would not log one.
const reportCSPViolations = `document.addEventListener("securitypolicyviolation", function (e) {
  console.error("Content Security Policy violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline code") +
    " at " + e.sourceFile + ":" + e.lineNumber);
});`

// newBrowser starts headless Chromium for one test. Without Chromium the test
// is skipped, unless REQUIRE_BROWSER=1 makes that a failure.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("REQUIRE_BROWSER") == "1" {
			t.Fatalf("REQUIRE_BROWSER=1 but %s is missing: %v", chromiumPath, err)
		}
		t.Skipf("%s is not installed", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	b := &browser{ctx: ctx, logged: make(chan struct{})}
	// Start the browser before any timeout: a timeout on the first run would
	// bound the browser's whole life.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: reportCSPViolations}); err != nil {
		t.Fatalf("install the CSP violation reporter: %v", err)
	}
	// Listen sees each event before the command that follows it returns, so
	// the count is exact as soon as a navigation action is done.
	if err := chromedp.Listen(ctx, func(ev any) {
		if nav, ok := ev.(*page.EventFrameNavigated); ok && nav.Frame.ParentID == "" {
			b.mu.Lock()
			b.loads++
			b.mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("listen to navigations: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			close(b.logged)
			b.logged = make(chan struct{})
			b.mu.Unlock()
		}
	}()
	return b
}

// do performs browser steps within 30 seconds and fails the test on error.
func (b *browser) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// value runs one browser action that returns a value, within 30 seconds.
func value[T any](t *testing.T, b *browser, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// consoleMessages returns what the page logged so far.
func (b *browser) consoleMessages() []chromedp.ConsoleMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), b.console...)
}

// documentLoads counts the documents the tab has loaded in its main frame:
// a navigation, a reload or a form post adds one; an htmx swap and a pushed
// URL add none.
func (b *browser) documentLoads() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.loads
}

// staleExecutionContext is the error the browser gives for an evaluation in
// a context it has already replaced.
const staleExecutionContext = "Cannot find context with specified id"

// htmxIdle is true when no htmx request is in flight and no swap is settling.
const htmxIdle = `!document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")`

// waitFor waits until the JavaScript predicate holds in the page, within 15
// seconds; on timeout it fails the test, naming what it waited for and where
// the page was. It does not survive a navigation: after one, wait for the
// load first (Navigate, Reload and NavigateBack do).
func (b *browser) waitFor(t *testing.T, what, predicate string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	loads := b.documentLoads()
	if err := b.poll(ctx, predicate, 15*time.Second); err != nil {
		where, _ := chromedp.Run(ctx, chromedp.Location())
		if b.documentLoads() != loads {
			t.Fatalf("waiting for %s: the page loaded a new document, %s, instead (%v)", what, where, err)
		}
		t.Fatalf("waiting for %s: %v (the page is at %s)", what, err, where)
	}
}

// poll evaluates the predicate until it holds or the time is up. Right
// after a load the tab may still name the previous document's execution
// context; while no new document has loaded, it asks again.
func (b *browser) poll(ctx context.Context, predicate string, within time.Duration) error {
	deadline := time.Now().Add(within)
	loads := b.documentLoads()
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate,
			chromedp.WithPollingTimeout(time.Until(deadline))))
		if err == nil || !strings.Contains(err.Error(), staleExecutionContext) || b.documentLoads() != loads || !time.Now().Before(deadline) {
			return err
		}
	}
}

// emulate sets the tab's time zone and colour scheme, as a user's system
// would; an empty value keeps the browser's own.
func (b *browser) emulate(t *testing.T, zone, colorScheme string) {
	t.Helper()
	if zone != "" {
		if _, err := chromedp.Call(b.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone}); err != nil {
			t.Fatalf("emulate time zone %s: %v", zone, err)
		}
	}
	if colorScheme != "" {
		if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: colorScheme}},
		}); err != nil {
			t.Fatalf("emulate colour scheme %s: %v", colorScheme, err)
		}
	}
}

// expectCleanConsole fails the test if the page logged an error, threw an
// uncaught exception or violated its Content Security Policy.
func (b *browser) expectCleanConsole(t *testing.T) {
	t.Helper()
	b.syncConsole(t)
	for _, m := range b.consoleMessages() {
		if m.Type == chromedp.ConsoleError || m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			t.Errorf("console %s at %s:%d: %s", m.Type, m.URL, m.Line+1, m.Text)
		}
	}
}

// syncConsole waits until every message the page logged so far has been
// recorded: it logs a checkpoint and waits for it, as the console keeps the
// messages' order.
func (b *browser) syncConsole(t *testing.T) {
	t.Helper()
	mark := fmt.Sprintf("console checkpoint %d", time.Now().UnixNano())
	b.do(t, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("console.debug(%q)", mark)))
	timeout := time.After(10 * time.Second)
	for {
		b.mu.Lock()
		seen := slices.ContainsFunc(b.console, func(m chromedp.ConsoleMessage) bool { return m.Text == mark })
		logged := b.logged
		b.mu.Unlock()
		if seen {
			return
		}
		select {
		case <-logged:
		case <-timeout:
			t.Fatalf("the console checkpoint %q never arrived", mark)
		}
	}
}

// signInAs picks handle on the sign-in page the tab shows, as a person
// would, and waits for the page it leads to.
func (b *browser) signInAs(t *testing.T, handle string) {
	t.Helper()
	button := chromedp.Click(chromedp.CSS(`form[action="/auth/demo"]:has(input[name=user][value="` + handle + `"]) button`))
	value(t, b, chromedp.WaitEvent(page.LoadEventFired, nil, button))
	if loc := value(t, b, chromedp.Location()); strings.Contains(loc, "/signin") {
		t.Fatalf("signing in as %s stayed on %s", handle, loc)
	}
}
