package views

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// How the view and its filters are shown: the view's address, its chips,
// the names of its days. app parses and prints the filter; this is how
// people see it.

// ViewURL is the view's address for a filter.
func ViewURL(f app.Filter) string {
	return viewPath(f.Encode())
}

// viewPath is the view's address for a query string. The plain Personal tab
// names itself, as "/" opens a person's landing view when they chose one.
func viewPath(query string) string {
	if query == "" {
		return "/?tab=personal"
	}
	return "/?" + query
}

// SavedViewURL is the address of a saved view.
func SavedViewURL(sv *app.SavedView) string { return viewPath(sv.Query) }

// TabsURL is the address of a view's tabs alone, to refresh their counts.
func TabsURL(f app.Filter) string {
	if q := f.FirstPage().Encode(); q != "" {
		return "/views/tabs?" + q
	}
	return "/views/tabs"
}

// ExportURL is the address of the whole set a view selects, as a file in
// the format (csv or ndjson).
func ExportURL(f app.Filter, format string) string {
	u := "/export?"
	if q := f.FirstPage().Encode(); q != "" {
		u += q + "&"
	}
	return u + "format=" + format
}

// DayShortcut is one of the day menu's quick choices.
type DayShortcut struct {
	Value string
	Label string
}

// DayShortcuts are the day menu's quick choices, in menu order.
var DayShortcuts = []DayShortcut{
	{app.DayToday, "Today"},
	{app.DayYesterday, "Yesterday"},
	{app.DayLast7, "Last 7 days"},
}

// DayLabel names a filter's day for people.
func DayLabel(f app.Filter) string {
	for _, s := range DayShortcuts {
		if f.Day == s.Value {
			return s.Label
		}
	}
	if day, err := time.Parse("2006-01-02", f.Day); err == nil {
		return day.Format("Mon, Jan 2, 2006")
	}
	return f.Day
}

// IsDayShortcut reports whether the filter's day is a quick choice rather
// than a date.
func IsDayShortcut(day string) bool {
	for _, s := range DayShortcuts {
		if day == s.Value {
			return true
		}
	}
	return false
}

// Chip is one active filter value, with the view's address once it is
// removed.
type Chip struct {
	Field  string
	Label  string
	Remove string
}

// Chips lists a filter's active values in menu order: the search, then
// each choice's values to keep and to leave out ("not Slack"), then the day.
func Chips(f app.Filter) []Chip {
	var chips []Chip
	base := f.FirstPage()
	if f.Query != "" {
		g := base
		g.Query = ""
		chips = append(chips, Chip{"Search", f.Query, ViewURL(g)})
	}
	chips = append(chips, choiceChips(base, "Who", f.Kinds, func(k app.Kind) string {
		if k == app.KindInteractive {
			return "people"
		}
		return "automations"
	}, func(g *app.Filter, c app.Choice[app.Kind]) { g.Kinds = c })...)
	chips = append(chips, choiceChips(base, "Source", f.Sources, app.Source.Label, func(g *app.Filter, c app.Choice[app.Source]) { g.Sources = c })...)
	chips = append(chips, choiceChips(base, "Status", f.Statuses, app.Status.Label, func(g *app.Filter, c app.Choice[app.Status]) { g.Statuses = c })...)
	same := func(s string) string { return s }
	chips = append(chips, choiceChips(base, "Creator", f.Creators, same, func(g *app.Filter, c app.Choice[string]) { g.Creators = c })...)
	chips = append(chips, choiceChips(base, "Agent", f.Agents, app.AgentLabel, func(g *app.Filter, c app.Choice[string]) { g.Agents = c })...)
	chips = append(chips, choiceChips(base, "Model", f.Models, same, func(g *app.Filter, c app.Choice[string]) { g.Models = c })...)
	chips = append(chips, choiceChips(base, "Repository", f.Repos, same, func(g *app.Filter, c app.Choice[string]) { g.Repos = c })...)
	chips = append(chips, choiceChips(base, "Branch", f.Branches, same, func(g *app.Filter, c app.Choice[string]) { g.Branches = c })...)
	chips = append(chips, choiceChips(base, "Team", f.Teams, same, func(g *app.Filter, c app.Choice[string]) { g.Teams = c })...)
	if f.Day != "" {
		g := base
		g.Day = ""
		chips = append(chips, Chip{"Day", DayLabel(f) + ", " + f.Location().String(), ViewURL(g)})
	}
	return chips
}

// choiceChips are the chips of one choice, each removing its value.
func choiceChips[T ~string](base app.Filter, field string, c app.Choice[T], label func(T) string, set func(*app.Filter, app.Choice[T])) []Chip {
	var chips []Chip
	for _, v := range c.Is {
		g := base
		set(&g, c.Without(v))
		chips = append(chips, Chip{field, label(v), ViewURL(g)})
	}
	for _, v := range c.Not {
		g := base
		set(&g, c.Without(v))
		chips = append(chips, Chip{field, "not " + label(v), ViewURL(g)})
	}
	return chips
}

// SeenParam carries, in a live stream's address, the digest of what the page
// shows, so that a (re)connection sends it again only when it changed.
const SeenParam = "seen"

// AfterParam names, in a session page's live tail address, the last seq the
// page shows.
const AfterParam = "after"

// ResultsPage is a view's results as the page shows them: the rows, the
// summary, the next page's address, and the digest and live address that keep
// them true.
func ResultsPage(v app.View, now time.Time) ViewPage {
	data := MorePage(v, now)
	data.Summary = v.Summary
	data.Digest = ResultsDigest(v.Summary, v.Page.Items)
	data.LiveURL = LiveURL(v.Filter, data.Digest)
	return data
}

// MorePage is what "Load more" shows of the view: its rows and the link to
// the next ones (no summary, so no digest for the live stream).
func MorePage(v app.View, now time.Time) ViewPage {
	data := ViewPage{Filter: v.Filter, Items: v.Page.Items, Now: now, Loc: v.Filter.Location(),
		Highlight: app.SearchWords(v.Filter.Query)}
	if v.Page.Next != nil {
		data.MoreURL = ViewURL(v.Filter.WithCursor(*v.Page.Next))
	}
	return data
}

// ResultsDigest fingerprints what a page of results shows, so that a stream
// can tell whether the page it serves is still true.
func ResultsDigest(sum app.Summary, items []*app.Item) string {
	// Appended to one buffer and hashed once: a formatted write per row
	// cost more than the rest of the digest. Texts go in whole after their
	// length, which keeps them apart as quoting them did; quoting took half
	// of the digest's time.
	b := make([]byte, 0, 64+len(items)*160)
	field := func(n int64) { b = append(strconv.AppendInt(b, n, 10), ' ') }
	text := func(s string) { field(int64(len(s))); b = append(b, s...) }
	field(sum.Items)
	field(sum.Working)
	field(int64(sum.Credits))
	b = append(strconv.AppendBool(b, sum.More), '\n')
	for _, it := range items {
		b = append(append(b, it.ID...), ' ')
		b = append(append(b, it.Status...), ' ')
		field(it.UpdatedAt.UnixMicro())
		field(it.FinishedAt.UnixMicro())
		field(int64(it.Inference))
		field(int64(it.Compute))
		text(it.Title)
		text(it.Reason)
		b = append(b, '\n')
	}
	sumOf := sha256.Sum256(b)
	return hex.EncodeToString(sumOf[:12])
}

// LiveURL is the /events address of a view whose page shows results with the
// given digest.
func LiveURL(f app.Filter, digest string) string {
	u := "/events?"
	if q := f.Encode(); q != "" {
		u += q + "&"
	}
	return u + SeenParam + "=" + digest
}

// HeadDigest fingerprints what a session page's head shows of an item that
// can change, so that its tail sends the head only when it did.
func HeadDigest(it *app.Item) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s %q %d %d %d %d %q %d", it.Status, it.Title, it.StartedAt.UnixMicro(), it.FinishedAt.UnixMicro(),
		it.Inference, it.Compute, it.Reason, it.Tokens.Input+it.Tokens.Output)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// TailURL is the address of a session page's live tail: base is the page's
// own address, after the last seq it shows and digest its head's.
func TailURL(base string, after int64, digest string) string {
	return base + "/events/stream?" + AfterParam + "=" + strconv.FormatInt(after, 10) + "&" + SeenParam + "=" + digest
}
