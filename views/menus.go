package views

import (
	"html"
	"html/template"

	"github.com/agentdeck/agentdeck/app"
)

// Menu is one of the view's filter menus: a choice of values, kept or (with
// its mode) left out.
type Menu struct {
	Param string // the query parameter: source, status, …
	Label string
	// Options are the values offered; Hidden are values of the choice the
	// menu cannot show checked in its mode (a choice that both keeps and
	// leaves out), carried along as they are.
	Options []MenuOption
	Hidden  []string
	// LeavesOut says the ticked values are ones to leave out.
	LeavesOut bool
	Count     int
}

// MenuOption is one value of a menu.
type MenuOption struct {
	Value   string
	Label   template.HTML // escaped, maybe with an icon
	Checked bool
}

// Menus are the view's filter menus, in the order they stand, but for the
// creator and day menus, which show people and dates their own way.
func Menus(f app.Filter, facets app.Facets) []Menu {
	text := func(s string) template.HTML { return template.HTML(html.EscapeString(s)) }
	menus := []Menu{
		choiceMenu("kind", "Who started it", f.Kinds, app.Kinds, func(k app.Kind) template.HTML {
			if k == app.KindInteractive {
				return "People (conversations)"
			}
			return "Automations (ambient runs)"
		}),
		choiceMenu("source", "Source", f.Sources, app.Sources, func(s app.Source) template.HTML { return text(s.Label()) }),
		choiceMenu("status", "Status", f.Statuses, app.Statuses, StatusBadge),
		choiceMenu("agent", "Agent", f.Agents, union(facets.Agents, f.Agents), func(a string) template.HTML { return text(app.AgentLabel(a)) }),
		choiceMenu("model", "Model", f.Models, union(facets.Models, f.Models), text),
		choiceMenu("repo", "Repository", f.Repos, union(facets.Repos, f.Repos), text),
		choiceMenu("branch", "Branch", f.Branches, union(facets.Branches, f.Branches), text),
	}
	if len(facets.Teams) > 0 || !f.Teams.Empty() {
		var slugs []string
		names := map[string]string{}
		for _, t := range facets.Teams {
			slugs = append(slugs, t.Slug)
			names[t.Slug] = t.Name
		}
		menus = append(menus, choiceMenu("team", "Team", f.Teams, union(slugs, f.Teams), func(slug string) template.HTML {
			if n := names[slug]; n != "" {
				return text(n)
			}
			return text(slug)
		}))
	}
	return menus
}

// choiceMenu is the menu of one choice. In its mode of leaving out (when the
// choice only leaves values out) the ticked options are the values left out.
func choiceMenu[T ~string](param, label string, c app.Choice[T], values []T, show func(T) template.HTML) Menu {
	m := Menu{Param: param, Label: label, LeavesOut: c.Negated(), Count: c.Len()}
	for _, v := range values {
		checked := c.Has(v)
		if m.LeavesOut {
			checked = c.Excludes(v)
		}
		m.Options = append(m.Options, MenuOption{Value: string(v), Label: show(v), Checked: checked})
	}
	if !m.LeavesOut {
		for _, v := range c.Not {
			m.Hidden = append(m.Hidden, "-"+string(v))
		}
	}
	return m
}

// union is the values offered followed by those chosen that are not among
// them, so that a value in the URL always has its box.
func union[T ~string](offered []T, c app.Choice[T]) []T {
	out := append([]T(nil), offered...)
	for _, v := range append(append([]T(nil), c.Is...), c.Not...) {
		found := false
		for _, o := range out {
			found = found || o == v
		}
		if !found {
			out = append(out, v)
		}
	}
	return out
}
