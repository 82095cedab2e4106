package handlers_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// screenSize is a browser window the pages are checked at.
type screenSize struct {
	name          string
	width, height int64
	mobile        bool
}

var (
	laptop = screenSize{"laptop", 1440, 900, false}
	phone  = screenSize{"phone", 390, 844, true}
)

// atBothSizes runs a browser test once in a laptop's window and once in a
// phone's.
func atBothSizes(t *testing.T, test func(t *testing.T, size screenSize)) {
	for _, size := range []screenSize{laptop, phone} {
		t.Run(size.name, func(t *testing.T) { test(t, size) })
	}
}

// resize makes the tab a window of the given size, a phone's with touch
// and its viewport meta tag honoured.
func (b *browser) resize(t *testing.T, size screenSize) {
	t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: size.width, Height: size.height, DeviceScaleFactor: 1, Mobile: size.mobile,
	}); err != nil {
		t.Fatalf("resize to %s: %v", size.name, err)
	}
}

// pageProblems is an accessibility check run in the page, in the manner of
// axe: landmarks and headings, a skip link, a name for every control, link,
// image and table, and the WCAG contrast of every piece of visible text
// against the background it is drawn on. It returns one line per problem.
const pageProblems = `(() => {
  const problems = [];
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const clipped = (el) => { for (let e = el; e; e = e.parentElement) { const s = getComputedStyle(e); if (s.clip === "rect(0px, 0px, 0px, 0px)" || s.clipPath === "inset(50%)") return true; } return false; };
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
  if (document.querySelectorAll("main").length !== 1) problems.push("want one main landmark, found " + document.querySelectorAll("main").length);
  if (!document.querySelector("header")) problems.push("no banner landmark");
  if (document.querySelectorAll("h1").length !== 1) problems.push("want one h1, found " + document.querySelectorAll("h1").length);
  const first = document.querySelector("a[href], button, input, select, textarea, summary");
  if (!first || first.getAttribute("href") !== "#main") problems.push("the first focusable element is not a skip link to #main");
  for (const nav of document.querySelectorAll("nav")) if (!nav.getAttribute("aria-label") && !nav.getAttribute("aria-labelledby")) problems.push("a nav without a name: " + describe(nav));
  const named = (el) => {
    if ((el.getAttribute("aria-label") || "").trim()) return true;
    const by = el.getAttribute("aria-labelledby");
    if (by && by.split(/\s+/).some((id) => (document.getElementById(id)?.textContent || "").trim())) return true;
    if (el.labels && Array.from(el.labels).some((l) => l.textContent.trim())) return true;
    if ((el.getAttribute("title") || "").trim()) return true;
    return false;
  };
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) if (!named(el)) problems.push("a field without a label: " + describe(el) + " " + (el.name || ""));
  for (const el of document.querySelectorAll("button, a[href], summary")) {
    if (!visible(el)) continue;
    const text = (el.textContent || "").trim() || Array.from(el.querySelectorAll("img[alt]")).map((i) => i.alt).join("").trim();
    if (!text && !named(el)) problems.push("a " + el.tagName.toLowerCase() + " without a name: " + describe(el));
  }
  for (const img of document.querySelectorAll("img")) if (!img.hasAttribute("alt")) problems.push("an image without alt: " + img.src);
  for (const svg of document.querySelectorAll("main svg")) if (svg.getAttribute("aria-hidden") !== "true" && !named(svg) && !svg.querySelector("title")) problems.push("an svg neither hidden nor named: " + describe(svg));
  for (const table of document.querySelectorAll("table")) if (!table.querySelector("caption") && !named(table)) problems.push("a table without a name: " + describe(table));
  const rgba = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, below) => [0, 1, 2].map((i) => top[i] * top[3] + below[i] * (1 - top[3])).concat([1]);
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.backgroundImage !== "none") return null;
      const c = rgba(s.backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let color = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) color = over(layers[i], color);
    return color;
  };
  const luminance = (c) => { const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || seen.has(el) || !node.textContent.trim() || !visible(el) || clipped(el)) continue;
    if (el.closest("[disabled], [aria-hidden=true], svg, noscript, dialog:not([open])")) continue;
    seen.add(el);
    const s = getComputedStyle(el);
    let opacity = 1;
    for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
    const bg = background(el);
    const fg = rgba(s.color);
    if (!bg || !fg) continue;
    const drawn = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
    const [a, b] = [luminance(drawn), luminance(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) problems.push("contrast " + ratio.toFixed(2) + " < " + need + " for " + JSON.stringify(node.textContent.trim().slice(0, 40)) + " in " + describe(el));
  }
  if (document.documentElement.scrollWidth > window.innerWidth) problems.push("the page scrolls sideways: " + document.documentElement.scrollWidth + "px wide in a " + window.innerWidth + "px window");
  return problems;
})()`

// Every page at a laptop's and a phone's size, light and dark: each passes
// the accessibility check and none scrolls sideways; on the phone the
// navigation reaches every page. With AGENTDECK_SCREENSHOTS naming a folder
// (the README's are docs/screenshots) each is saved there as a PNG.
func TestBrowserEveryPageAtBothSizes(t *testing.T) {
	a := seededApp(t, apptest.SQLite(t))
	b := newBrowser(t)
	b.emulate(t, "Europe/Berlin", "")
	b.resize(t, laptop)
	shots := os.Getenv("AGENTDECK_SCREENSHOTS")

	check := func(t *testing.T, name string, size screenSize, scheme string) {
		t.Helper()
		b.waitFor(t, "the page at rest", htmxIdle)
		for _, p := range value(t, b, chromedp.Evaluate[[]string](pageProblems)) {
			t.Errorf("%s, %s, %s: %s", name, size.name, scheme, p)
		}
		if shots != "" {
			png := value(t, b, chromedp.CaptureScreenshot())
			if err := os.WriteFile(filepath.Join(shots, name+"-"+size.name+"-"+scheme+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Signed out first: the sign-in page.
	for _, size := range []screenSize{laptop, phone} {
		for _, scheme := range []string{"light", "dark"} {
			b.resize(t, size)
			b.emulate(t, "", scheme)
			b.do(t, chromedp.Navigate(a.URL+"/signin"))
			check(t, "signin", size, scheme)
		}
	}
	b.resize(t, laptop)
	b.emulate(t, "", "light")
	b.do(t, chromedp.Navigate(a.URL+"/signin"))
	b.signInAs(t, "priya")

	// The pages behind the list's rows and the teams page are found as a
	// person finds them.
	b.do(t, chromedp.Navigate(a.URL+"/?tab=all"))
	href := func(selector string) string {
		t.Helper()
		h := value(t, b, chromedp.Evaluate[string](`document.querySelector(`+quoteJS(selector)+`)?.getAttribute("href") ?? ""`))
		if h == "" {
			t.Fatalf("no %s on %s", selector, "the page")
		}
		return h
	}
	failedRun := href(`#rows tr.row--ambient:has(.status--failed) a.row__link`)
	conversation := href(`#rows tr.row--interactive a.row__link`)
	b.do(t, chromedp.Navigate(a.URL+"/teams"))
	team := href(`main a[href^="/teams/"]`)

	pages := []struct{ name, path string }{
		{"runs", "/?tab=all"},
		{"runs-failed-today", "/?tab=all&status=failed&day=7d"},
		{"run-failed", failedRun},
		{"run-conversation", conversation},
		{"attention", "/attention"},
		{"insights", "/insights?tab=all"},
		{"alerts", "/alerts"},
		{"views", "/views"},
		{"teams", "/teams"},
		{"team", team},
		{"tokens", "/settings/tokens"},
	}
	for _, size := range []screenSize{laptop, phone} {
		for _, scheme := range []string{"light", "dark"} {
			b.resize(t, size)
			b.emulate(t, "", scheme)
			for _, p := range pages {
				b.do(t, chromedp.Navigate(a.URL+p.path))
				check(t, p.name, size, scheme)
			}
		}
	}

	// On the phone every page is a tap away from any other.
	b.resize(t, phone)
	b.do(t, chromedp.Navigate(a.URL+"/"))
	for _, to := range []struct{ label, path string }{{"Teams", "/teams"}, {"Settings", "/settings/tokens"}, {"Insights", "/insights"}, {"Alerts", "/alerts"}, {"Runs", "/"}} {
		link := chromedp.CSS(`nav[aria-label=Main] a[href^="` + to.path + `"]`)
		value(t, b, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(link)))
		if loc := value(t, b, chromedp.Location()); !strings.HasPrefix(strings.TrimPrefix(loc, a.URL), to.path) {
			t.Errorf("tapping %s on a phone led to %s", to.label, loc)
		}
	}
	b.expectCleanConsole(t)

	// Last, as the browser logs its status: the page of a run that is not
	// there (or not to be seen).
	for _, size := range []screenSize{laptop, phone} {
		for _, scheme := range []string{"light", "dark"} {
			b.resize(t, size)
			b.emulate(t, "", scheme)
			b.do(t, chromedp.Navigate(a.URL+"/runs/00000000-0000-4000-8000-000000000000"))
			check(t, "not-found", size, scheme)
		}
	}
}

// quoteJS is s as a JavaScript string literal.
func quoteJS(s string) string {
	return "`" + strings.NewReplacer("\\", "\\\\", "`", "\\`", "$", "\\$").Replace(s) + "`"
}
