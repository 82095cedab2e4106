package views

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// InsightsURL is the address of a view's insights.
func InsightsURL(f app.Filter) string {
	if q := f.FirstPage().Encode(); q != "" {
		return "/insights?" + q
	}
	return "/insights?tab=personal"
}

// InsightsPage is where a view's credits went (GET /insights?<view query>).
type InsightsPage struct {
	Layout
	Filter   app.Filter
	Insights app.Insights
	Notices  []string
	Loc      *time.Location
}

// maxInsightRows is how many rows of each part the page lists; the rest are
// summed in one line.
const maxInsightRows = 10

// InsightTable is one part of the view, as a table: its top rows with their
// links, and the rest summed.
type InsightTable struct {
	Title   string
	Caption string
	Part    app.Part
	Rows    []InsightLine
	Rest    app.InsightRow // the rows beyond the top ones, summed
	RestOf  int            // how many rows Rest sums
	Overlap bool           // rows may count an item more than once
}

// InsightLine is one row of a table: its label, its link to the list, and
// its numbers.
type InsightLine struct {
	app.InsightRow
	Label string
	URL   string
	// Share is the row's part of the view's credits, in whole percent.
	Share int64
}

// Bar draws the row's share of the credits.
func (l InsightLine) Bar() template.HTML {
	return template.HTML(fmt.Sprintf(`<svg class="share" viewBox="0 0 100 8" width="100" height="8" aria-hidden="true" focusable="false">`+
		`<rect class="share__track" x="0" y="0" width="100" height="8" rx="2"></rect><rect class="share__fill" x="0" y="0" width="%d" height="8" rx="2"></rect></svg>`, l.Share))
}

// ListURL is the list of the runs the insights are about.
func (p InsightsPage) ListURL() string { return ViewURL(p.Filter.FirstPage()) }

// TabURL is the same insights on another tab.
func (p InsightsPage) TabURL(tab app.Tab) string { return InsightsURL(p.Filter.WithTab(tab)) }

// DayURL is the same insights over another day filter ("" for any day).
func (p InsightsPage) DayURL(day string) string {
	f := p.Filter.FirstPage()
	f.Day = day
	return InsightsURL(f)
}

// DayShortcuts are the day filters the page offers.
func (p InsightsPage) DayShortcuts() []DayShortcut { return DayShortcuts }

// FilterChips are the view's active filters, as words.
func (p InsightsPage) FilterChips() []Chip { return Chips(p.Filter) }

// Tables are the view's parts: by source, creator, agent and model.
func (p InsightsPage) Tables() []InsightTable {
	in := p.Insights
	return []InsightTable{
		p.table("Sources", "Where runs were started", app.PartSource, in.Sources, func(r app.InsightRow) string {
			return app.Source(r.Key).Label()
		}),
		p.table("Creators", "Who started them", app.PartCreator, in.Creators, func(r app.InsightRow) string {
			if r.User != nil {
				return r.User.DisplayName()
			}
			return "Someone no longer here"
		}),
		p.table("Agents", "Which agent ran them", app.PartAgent, in.Agents, func(r app.InsightRow) string {
			if r.Key == "" {
				return "No agent"
			}
			return app.AgentLabel(r.Key)
		}),
		p.table("Models", "Which models they used; a run that used several counts under each", app.PartModel, in.Models, func(r app.InsightRow) string {
			if r.Key == "" {
				return "No model reported"
			}
			return r.Key
		}),
	}
}

// table makes one part's table.
func (p InsightsPage) table(title, caption string, part app.Part, rows []app.InsightRow, label func(app.InsightRow) string) InsightTable {
	t := InsightTable{Title: title, Caption: caption, Part: part, Overlap: part == app.PartModel}
	for i, r := range rows {
		if i >= maxInsightRows {
			t.Rest.Items += r.Items
			t.Rest.Failed += r.Failed
			t.Rest.Credits += r.Credits
			t.RestOf++
			continue
		}
		line := InsightLine{InsightRow: r, Label: label(r), Share: share(r.Credits, p.Insights.Total.Credits)}
		if f, ok := p.Insights.PartFilter(p.Filter, part, r.Key); ok {
			line.URL = ViewURL(f)
		}
		t.Rows = append(t.Rows, line)
	}
	return t
}

// share is part of whole in whole percent.
func share(part, whole app.Credits) int64 {
	if whole <= 0 {
		return 0
	}
	return int64(float64(part) / float64(whole) * 100)
}

// The chart's drawing area, in the SVG's own units.
const (
	chartWidth  = 720
	chartHeight = 220
	chartLeft   = 56 // room for the credits axis
	chartRight  = 24 // room for the last day's label
	chartBottom = 24 // room for the days
	chartTop    = 10
)

// Chart draws the credits per day as bars, each a link to the list of that
// day's runs. It is plain SVG, styled by classes, with no script: the
// numbers are also in a table beside it for screen readers.
func (p InsightsPage) Chart() template.HTML {
	days := p.Insights.Days
	if len(days) == 0 {
		return ""
	}
	var top app.Credits
	for _, d := range days {
		top = max(top, d.Credits)
	}
	scale := niceCeiling(top)
	plotW := float64(chartWidth - chartLeft - chartRight)
	plotH := float64(chartHeight - chartBottom - chartTop)
	slot := plotW / float64(len(days))
	gap := min(slot*0.2, 4)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="group" aria-label="Credits per day">`, chartWidth, chartHeight)
	// The axis: zero, half and the top of the scale.
	for _, frac := range []float64{0, 0.5, 1} {
		y := float64(chartTop) + plotH*(1-frac)
		fmt.Fprintf(&b, `<line class="chart__grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"></line>`, chartLeft, chartWidth-chartRight, y, y)
		fmt.Fprintf(&b, `<text class="chart__axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, chartLeft-6, y+4,
			html.EscapeString(shortCredits(app.Credits(float64(scale)*frac))))
	}
	labelEvery := max(1, (len(days)+6)/7)
	for i, d := range days {
		x := float64(chartLeft) + slot*float64(i)
		h := 0.0
		if scale > 0 {
			h = plotH * float64(d.Credits) / float64(scale)
		}
		day := d.Day.Format("Mon, Jan 2")
		fmt.Fprintf(&b, `<a href="%s" aria-label="%s: %s credits, %d runs, %d failed">`, html.EscapeString(p.partURL(app.PartDay, d.InsightRow)),
			html.EscapeString(day), d.Credits, d.Items, d.Failed)
		fmt.Fprintf(&b, `<rect class="chart__hit" x="%.1f" y="%d" width="%.1f" height="%.1f"></rect>`, x, chartTop, slot, plotH)
		fmt.Fprintf(&b, `<rect class="chart__bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="1.5"><title>%s: %s credits, %d runs, %d failed</title></rect>`,
			x+gap/2, float64(chartTop)+plotH-h, slot-gap, h, html.EscapeString(day), d.Credits, d.Items, d.Failed)
		b.WriteString(`</a>`)
		if i%labelEvery == 0 || i == len(days)-1 && len(days) <= 7 {
			fmt.Fprintf(&b, `<text class="chart__axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+slot/2, chartHeight-6,
				html.EscapeString(d.Day.Format("Jan 2")))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// partURL is the list of one part's runs, "" when none shows it.
func (p InsightsPage) partURL(part app.Part, r app.InsightRow) string {
	if f, ok := p.Insights.PartFilter(p.Filter, part, r.Key); ok {
		return ViewURL(f)
	}
	return ""
}

// DayURLOf is the list of one day's runs, for the table beside the chart.
func (p InsightsPage) DayURLOf(d app.InsightDay) string { return p.partURL(app.PartDay, d.InsightRow) }

// niceCeiling rounds an amount up to 1, 2 or 5 times a power of ten, for an
// axis that reads well.
func niceCeiling(c app.Credits) app.Credits {
	if c <= 0 {
		return 0
	}
	step := app.Credits(1_000) // a thousandth of a credit
	for {
		for _, m := range []app.Credits{1, 2, 5} {
			if c <= step*m {
				return step * m
			}
		}
		step *= 10
	}
}

// shortCredits prints an axis's amount briefly: 1.5k, 250, 0.5.
func shortCredits(c app.Credits) string {
	whole := float64(c) / 1e6
	switch {
	case whole >= 1e6:
		return trimZero(fmt.Sprintf("%.1fM", whole/1e6))
	case whole >= 1e3:
		return trimZero(fmt.Sprintf("%.1fk", whole/1e3))
	case whole >= 1:
		return trimZero(fmt.Sprintf("%.1f", whole))
	}
	return trimZero(fmt.Sprintf("%.3f", whole))
}

func trimZero(s string) string {
	unit := strings.TrimLeft(s, "0123456789.")
	num := strings.TrimSuffix(s, unit)
	if strings.Contains(num, ".") {
		num = strings.TrimRight(strings.TrimRight(num, "0"), ".")
	}
	return num + unit
}
