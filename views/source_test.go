package views_test

import (
	"testing"

	"github.com/agentdeck/agentdeck/views"
)

func TestSourceRefNamesWhereAnItemCameFrom(t *testing.T) {
	for link, want := range map[string]string{
		"https://linear.app/acme/issue/ENG-3939":                 "ENG-3939",
		"https://github.com/acme/web/pull/7":                     "acme/web#7",
		"https://github.com/acme/web/issues/12":                  "acme/web#12",
		"https://github.com/acme/web/actions/runs/9000000001":    "acme/web run",
		"https://acme.slack.com/archives/C04ENG0042/p1700000000": "Slack thread",
		"https://www.example.com/jobs/4":                         "example.com",
		"":                                                       "",
		"javascript:alert(1)":                                    "",
		"agent://conversations/42":                               "",
	} {
		got, href := views.SourceRef(link)
		if got != want {
			t.Errorf("SourceRef(%q) = %q, want %q", link, got, want)
		}
		if want != "" && string(href) != link {
			t.Errorf("SourceRef(%q) links to %q", link, href)
		}
	}
}
