package views

import (
	"html/template"
	"strings"

	"github.com/agentdeck/agentdeck/app"
)

// sourceIcons are drawn in the status icons' 16-unit grid and stroke.
var sourceIcons = map[app.Source]string{
	app.SourceInteractive:   `<path d="M2.5 3.5h11v7h-6l-3 2.5v-2.5h-2z"/>`,
	app.SourceCLI:           `<rect x="1.8" y="2.8" width="12.4" height="10.4" rx="1.5"/><path d="m4.5 6.5 2 1.5-2 1.5M8 10h3.5"/>`,
	app.SourceAPI:           `<path d="M5.5 3.5 2.5 8l3 4.5M10.5 3.5l3 4.5-3 4.5"/>`,
	app.SourceSlack:         `<path d="M6 2.5 4.5 13.5M11.5 2.5 10 13.5M2.5 6h11M2 10.5h11"/>`,
	app.SourceLinear:        `<circle cx="8" cy="8" r="6"/><path d="m5.5 8.2 1.8 1.8 3.3-3.6"/>`,
	app.SourceGitHubActions: `<circle cx="8" cy="8" r="6"/><path d="M6.6 5.6v4.8L10.4 8z"/>`,
	app.SourceScheduled:     `<circle cx="8" cy="8" r="6"/><path d="M8 4.8V8l2.2 1.4"/>`,
}

// sourceIconUses are the finished references to each source's icon.
var sourceIconUses = func() map[app.Source]template.HTML {
	m := map[app.Source]template.HTML{}
	for s := range sourceIcons {
		m[s] = template.HTML(`<svg class="icon" width="14" height="14" aria-hidden="true"><use href="#icon-source-` + string(s) + `"/></svg>`)
	}
	return m
}()

func sourceIcon(s app.Source) template.HTML { return sourceIconUses[s] }

// SourceRef names what an item came from, read from its external link: the
// Linear issue ("ENG-3939"), the pull request ("acme/web#7"), the GitHub
// Actions run, the Slack thread, or the link's host for anything else. It
// returns the link too, made safe; nothing when there is no usable link.
func SourceRef(external string) (string, template.URL) {
	u := safeURL(external)
	if u == nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", ""
	}
	href := template.URL(u.String())
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	at := func(i int) string {
		if i < len(parts) {
			return parts[i]
		}
		return ""
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case host == "linear.app" && at(1) == "issue" && at(2) != "":
		return at(2), href
	case host == "github.com" && at(2) == "pull" && at(3) != "":
		return at(0) + "/" + at(1) + "#" + at(3), href
	case host == "github.com" && at(2) == "issues" && at(3) != "":
		return at(0) + "/" + at(1) + "#" + at(3), href
	case host == "github.com" && at(2) == "actions" && at(3) == "runs" && at(4) != "":
		return at(0) + "/" + at(1) + " run", href
	case strings.HasSuffix(host, ".slack.com") && at(0) == "archives":
		return "Slack thread", href
	}
	return strings.TrimPrefix(host, "www."), href
}
