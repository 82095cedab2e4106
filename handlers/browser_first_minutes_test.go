package handlers_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// A filter menu's button counts its ticked values as they change, not only
// after a reload.
func TestBrowserFilterCountsFollowEveryTick(t *testing.T) {
	a := seededApp(t, apptest.SQLite(t))
	b := newBrowser(t)
	b.emulate(t, "UTC", "")
	b.do(t, chromedp.Navigate(a.URL+"/signin"))
	b.signInAs(t, "priya")
	b.do(t, chromedp.Navigate(a.URL+"/?tab=all"))
	const badge = `document.querySelector("#filters details:has(input[name=status]) > summary .count")?.textContent ?? ""`
	tick := func(status, want string) {
		t.Helper()
		b.do(t, chromedp.Click(chromedp.CSS(`#filters input[name=status][value=`+status+`]`)))
		b.waitFor(t, "the results of "+status, htmxIdle)
		if got := value(t, b, chromedp.Evaluate[string](badge)); got != want {
			t.Fatalf("after ticking %s the Status button counts %q, want %q", status, got, want)
		}
	}
	b.do(t, chromedp.Click(chromedp.CSS(`#filters details:has(input[name=status]) > summary`)))
	tick("failed", "1")
	tick("success", "2")
	tick("failed", "1")
	tick("success", "")
	b.expectCleanConsole(t)
}

// A destructive button asks first: answered no, nothing is sent; answered
// yes, the request says it was confirmed and is done.
func TestBrowserRevokingATokenAsksFirst(t *testing.T) {
	s := apptest.SQLite(t)
	a := seededApp(t, s)
	priya, err := s.UserByHandle(t.Context(), "priya")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.CreateAccessToken(t.Context(), priya.ID, "laptop", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	revoked := func() bool {
		t.Helper()
		list, err := s.AccessTokens(t.Context(), priya.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range list {
			if l.ID == tok.ID {
				return !l.RevokedAt.IsZero()
			}
		}
		t.Fatal("the token is gone")
		return false
	}
	button := chromedp.CSS(`form[action="/settings/tokens/` + strconv.FormatInt(tok.ID, 10) + `/revoke"] button`)
	b := newBrowser(t)
	b.do(t, chromedp.Navigate(a.URL+"/signin"))
	b.signInAs(t, "priya")
	b.do(t, chromedp.Navigate(a.URL+"/settings/tokens"), chromedp.WaitVisible(button))

	value(t, b, chromedp.Evaluate[bool](`window.confirm = function (q) { window.asked = q; return false; }; true`))
	loads := b.documentLoads()
	b.do(t, chromedp.Click(button))
	if asked := value(t, b, chromedp.Evaluate[string](`window.asked || ""`)); !strings.Contains(asked, "Revoke this access token?") {
		t.Errorf("the button asked %q", asked)
	}
	if b.documentLoads() != loads || revoked() {
		t.Fatal("answered no, the token was revoked all the same")
	}

	value(t, b, chromedp.Evaluate[bool](`window.confirm = function () { return true; }; true`))
	value(t, b, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(button)))
	if !revoked() {
		t.Error("answered yes, the token is still live")
	}
	if text := value(t, b, chromedp.Text(chromedp.CSS("main"))); !strings.Contains(text, "revoked") {
		t.Errorf("after revoking, the page reads %q", text)
	}
	b.expectCleanConsole(t)
}
