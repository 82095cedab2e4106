package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

func TestTokensCarryAChecksumThatCatchesEveryTypo(t *testing.T) {
	s := apptest.SQLite(t)
	u := &app.User{Handle: "maya"}
	mustOK(t, s.CreateUser(context.Background(), u))
	_, secret, err := s.CreateAccessToken(context.Background(), u.ID, "ci", time.Time{})
	mustOK(t, err)
	if !strings.HasPrefix(secret, app.TokenPrefix) || len(secret) != 40 || !app.WellFormedToken(secret) {
		t.Fatalf("issued %q: want adk_ and 36 characters, well-formed", secret)
	}
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	for i := len(app.TokenPrefix); i < len(secret); i++ {
		for _, c := range []byte{alphabet[(strings.IndexByte(alphabet, secret[i])+1)%62], '-'} {
			typo := secret[:i] + string(c) + secret[i+1:]
			if app.WellFormedToken(typo) {
				t.Errorf("changing character %d to %q went unnoticed", i, c)
			}
		}
	}
	for _, bad := range []string{"", secret[:39], secret + "0", "ADK_" + secret[4:], " " + secret[1:]} {
		if app.WellFormedToken(bad) {
			t.Errorf("%q passed as well-formed", bad)
		}
	}
}

func TestLinksThatCouldRunScriptAreRefused(t *testing.T) {
	for _, c := range []struct {
		url            string
		open, external bool
	}{
		{"", true, true},
		{"https://github.com/acme/web/actions/runs/1", true, true},
		{"agent://conversations/42", true, false},
		{"vscode://file/home/maya/web/main.go", true, false},
		{"CURSOR://anysphere.cursor-retrieval/open", true, false},
		{"javascript:alert(1)", false, false},
		{"JavaScript:alert(1)", false, false},
		{"data:text/html,<script>", false, false},
		{"vbscript:msgbox", false, false},
		{"file:///etc/passwd", false, false},
		{"/relative/path", false, false},
		{"https://", false, false},
		{"agent://x y", false, false},
	} {
		if got := app.CheckOpenURL(c.url, app.DefaultOpenURLSchemes) == nil; got != c.open {
			t.Errorf("open_url %q accepted = %v, want %v", c.url, got, c.open)
		}
		if got := app.CheckExternalURL(c.url) == nil; got != c.external {
			t.Errorf("external_url %q accepted = %v, want %v", c.url, got, c.external)
		}
	}
}

func TestOpenURLTakesOnlyTheSchemesAllowed(t *testing.T) {
	// Schemes that hand a click to the operating system were accepted when
	// only a few schemes were refused; now only those allowed pass.
	for _, link := range []string{
		"search-ms:query=invoice&crumb=location:\\\\attacker\\share", "ms-msdt:/id PCWDiagnostic", "smb://attacker/share",
		"intent://scan/#Intent;scheme=zxing;end", "ms-settings:", "shell:startup", "mailto:a@example.com",
	} {
		if err := app.CheckOpenURL(link, app.DefaultOpenURLSchemes); app.ErrorCode(err) != app.EInvalid {
			t.Errorf("open_url %q: %v, want invalid", link, err)
		}
	}
	// An operator's list replaces the default one.
	schemes, err := app.CheckOpenURLSchemes([]string{" HTTPS ", "house-ide"})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.CheckOpenURL("house-ide://open?file=a.go", schemes); err != nil {
		t.Errorf("a scheme the operator allowed: %v", err)
	}
	if err := app.CheckOpenURL("vscode://file/a.go", schemes); err == nil {
		t.Error("a default scheme the operator left out was accepted")
	}
	for _, bad := range [][]string{{"javascript"}, {"File"}, {"not a scheme"}, {"1abc"}, {}} {
		if _, err := app.CheckOpenURLSchemes(bad); err == nil {
			t.Errorf("the list %q was accepted", bad)
		}
	}
}
