package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/app"
	"github.com/chromedp/chromedp"
)

func TestBrowserOpensARunsSessionAndASharedConversation(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		atBothSizes(t, func(t *testing.T, size screenSize) { opensARunsSessionAndASharedConversation(t, w, size) })
	})
}

func opensARunsSessionAndASharedConversation(t *testing.T, w *apiWorld, size screenSize) {
	b := newBrowser(t)
	b.resize(t, size)
	run := app.NewItemID()
	wantStatus(t, "create run", w.as(t, "maya", "POST", "/api/v1/runs", map[string]any{
		"id": run, "kind": "ambient", "source": "cli", "title": "Fix flaky checkout", "team": "platform",
	}), http.StatusCreated)
	wantStatus(t, "events", w.as(t, "maya", "POST", "/api/v1/runs/"+run+"/events", sessionEvents), http.StatusOK)
	chat := app.NewItemID()
	wantStatus(t, "create chat", w.as(t, "maya", "POST", "/api/v1/runs", map[string]any{
		"id": chat, "kind": "interactive", "title": "Billing refactor chat", "team": "platform", "open_url": "agent://conversations/42",
	}), http.StatusCreated)
	wantStatus(t, "chat events", w.as(t, "maya", "POST", "/api/v1/runs/"+chat+"/events", sessionEvents), http.StatusOK)

	b.do(t, chromedp.Navigate(w.URL+"/signin"))
	b.signInAs(t, "maya")
	b.do(t, chromedp.Navigate(w.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#item-"+run)))
	// A conversation's row opens its page here; the page offers its owner
	// the desktop app.
	if href := value(t, b, chromedp.AttributeValue(chromedp.CSS("#item-"+chat+" a.row__link"), "href")); href.Value != "/runs/"+chat {
		t.Errorf("the interactive row opens %q, want its page", href.Value)
	}
	b.do(t,
		chromedp.Click(chromedp.CSS("#item-"+run+" a.row__link")),
		chromedp.WaitVisible(chromedp.CSS(".log")),
	)
	if loc := value(t, b, chromedp.Location()); loc != w.URL+"/runs/"+run {
		t.Errorf("the ambient row led to %s", loc)
	}
	if text := value(t, b, chromedp.Text(chromedp.CSS(".transcript"))); !strings.Contains(text, "Fix the flaky checkout test") || !strings.Contains(text, "go test ./checkout") {
		t.Errorf("the transcript reads %q", text)
	}
	green := value(t, b, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#L4 .ansi-fg-2")).color`))
	if green != "rgb(63, 185, 80)" {
		t.Errorf("the green log text is drawn in %q, want rgb(63, 185, 80)", green)
	}
	hostile := value(t, b, chromedp.Text(chromedp.CSS("#L5 .log__text")))
	if hostile != `<script>alert("pwned")</script>` {
		t.Errorf("the hostile log line reads %q, want the markup as text", hostile)
	}
	if n := value(t, b, chromedp.Evaluate[int](`document.querySelectorAll("main script, main [onerror], main [onclick]").length`)); n != 0 {
		t.Errorf("%d script elements or handlers reached the page", n)
	}
	if n := value(t, b, chromedp.Evaluate[int](`document.querySelectorAll('.outputs a[href="https://github.com/acme/web/pull/7"]').length`)); n != 1 {
		t.Errorf("the pull request output is not a link")
	}

	b.do(t, chromedp.Navigate(w.URL+"/runs/"+chat), chromedp.WaitVisible(chromedp.CSS(".transcript")))
	if n := value(t, b, chromedp.Evaluate[int](`document.querySelectorAll('.run__links a[href="agent://conversations/42"]').length`)); n != 1 {
		t.Errorf("the conversation's page does not offer its owner the desktop app")
	}
	b.do(t,
		chromedp.Click(chromedp.CSS("[data-create-share]")),
		chromedp.WaitVisible(chromedp.CSS("[data-share-url]")),
	)
	shared, err := url.Parse(value(t, b, chromedp.Value(chromedp.CSS("[data-share-url]"))))
	if err != nil || !strings.HasPrefix(shared.Path, "/share/") {
		t.Fatalf("share link %v (%v)", shared, err)
	}

	b.do(t, chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.CSS(".demo-users")))
	b.do(t, chromedp.Navigate(w.URL+"/signin"))
	b.signInAs(t, "jonas")
	b.do(t, chromedp.Navigate(w.URL+shared.Path), chromedp.WaitVisible(chromedp.CSS(".transcript")))
	if text := value(t, b, chromedp.Text(chromedp.CSS("main"))); !strings.Contains(text, "Billing refactor chat") || !strings.Contains(text, "shared with you") {
		t.Errorf("jonas reading the shared conversation sees %q", text)
	}
	if n := value(t, b, chromedp.Evaluate[int](`document.querySelectorAll('a[href^="agent:"]').length`)); n != 0 {
		t.Errorf("a teammate is offered the owner's desktop app link")
	}
	b.do(t, chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.CSS(".demo-users")))
	for _, m := range b.consoleMessages() {
		if m.Type == "error" || m.Type == chromedp.ConsoleException {
			t.Errorf("console %s: %s", m.Type, m.Text)
		}
	}
}
