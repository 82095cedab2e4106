package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/chromedp/chromedp"
)

// cspViolation reports whether a console message is the browser refusing
// something under the Content-Security-Policy.
func cspViolation(m chromedp.ConsoleMessage) bool {
	return strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused to")
}

// TestBrowserSignInReturnsToTheSharedView follows a shared, filtered link
// signed out in Chromium, clicks the OpenID Connect provider on the sign-in
// page, and must come back signed in to that very view, with not one
// Content-Security-Policy violation on the way.
func TestBrowserSignInReturnsToTheSharedView(t *testing.T) {
	b := newBrowser(t)
	eachStore(t, func(t *testing.T, s *app.Store) {
		p := newOIDCProvider(t)
		a := oidcApp(t, s, p)
		p.person("sub-maya", "maya", "maya@example.com")
		shared := a.URL + "/?tab=all&status=failed"
		providerLink := chromedp.CSS(`a[href^="/auth/openid-connect"]`)

		b.do(t, chromedp.Navigate(shared), chromedp.WaitVisible(providerLink))
		if at := value(t, b, chromedp.Location()); !strings.HasPrefix(at, a.URL+"/signin?next=") {
			t.Fatalf("signed out, the shared link led to %s, want the sign-in page", at)
		}
		b.do(t, chromedp.Click(providerLink), chromedp.WaitVisible(chromedp.CSS(".who__name")))

		if at := value(t, b, chromedp.Location()); at != shared {
			t.Errorf("after sign-in the browser is at %s, want %s", at, shared)
		}
		if who := value(t, b, chromedp.Evaluate[string](`document.querySelector(".who__name").title`)); who != "@maya" {
			t.Errorf("signed in as %q, want @maya", who)
		}
		tab := value(t, b, chromedp.Evaluate[string](`document.querySelector("#tabs [aria-current=page]").textContent`))
		chips := value(t, b, chromedp.Evaluate[string](`Array.from(document.querySelectorAll(".chips .chip")).map(c => c.textContent.trim().replace(/\s+/g, " ")).join("|")`))
		if tab != "All" || !strings.Contains(chips, "Status: Failed") {
			t.Errorf("the view shows tab %q and chips %q, want All with Status: Failed", tab, chips)
		}

		// A team, and an invite link made in place by htmx, whose request
		// carries the CSRF token from the page's hx-headers.
		b.do(t,
			chromedp.Navigate(a.URL+"/teams"),
			chromedp.SendKeys(chromedp.CSS("#team-name"), "Browser Team"),
			chromedp.Submit(chromedp.CSS("#team-name")),
			chromedp.WaitVisible(chromedp.CSS(`form[hx-post$="/invites"] button`)),
		)
		// The team's slug ends in a random suffix: the page it landed on is
		// the team's.
		team := value(t, b, chromedp.Location())
		if !strings.HasPrefix(team, a.URL+"/teams/browser-team-") {
			t.Errorf("the new team is at %s, want %s/teams/browser-team-…", team, a.URL)
		}
		b.do(t,
			chromedp.Click(chromedp.CSS(`form[hx-post$="/invites"] button`)),
			chromedp.WaitVisible(chromedp.CSS("#invite-url")),
		)
		link := value(t, b, chromedp.Evaluate[string](`document.querySelector("#invite-url").value`))
		if !strings.HasPrefix(link, a.URL+"/invites/") {
			t.Errorf("the invite link shown is %q, want one under %s/invites/", link, a.URL)
		}
		if at := value(t, b, chromedp.Location()); at != team {
			t.Errorf("making the invite link moved the browser to %s; htmx should have swapped it in place", at)
		}

		// Signing out through the page ends the session for the next run.
		b.do(t, chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.CSS(".signin")))
		if at := value(t, b, chromedp.Location()); at != a.URL+"/signin" {
			t.Errorf("after sign-out the browser is at %s, want /signin", at)
		}
	})
	for _, m := range b.consoleMessages() {
		if cspViolation(m) {
			t.Errorf("Content-Security-Policy violation: %s", m.Text)
		} else {
			t.Logf("console %s: %s", m.Type, m.Text)
		}
	}

	// The check above would see a violation: provoke one and wait for it.
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	messages := chromedp.Console(ctx)
	b.do(t, chromedp.Evaluate[chromedp.Void](`document.body.setAttribute("style", "color: red")`))
	for m, err := range messages {
		if err != nil {
			t.Fatalf("no Content-Security-Policy report for an inline style: %v", err)
		}
		if cspViolation(m) {
			break
		}
	}
}
