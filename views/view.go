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
	if q := f.Encode(); q != "" {
		return "/?" + q
	}
	return "/"
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

// Chips lists a filter's active values in menu order.
func Chips(f app.Filter) []Chip {
	var chips []Chip
	base := f.FirstPage()
	for _, s := range f.Sources {
		g := base
		g.Sources = without(f.Sources, s)
		chips = append(chips, Chip{"Source", s.Label(), ViewURL(g)})
	}
	for _, s := range f.Statuses {
		g := base
		g.Statuses = without(f.Statuses, s)
		chips = append(chips, Chip{"Status", s.Label(), ViewURL(g)})
	}
	for _, c := range f.Creators {
		g := base
		g.Creators = without(f.Creators, c)
		chips = append(chips, Chip{"Creator", c, ViewURL(g)})
	}
	if f.Day != "" {
		g := base
		g.Day = ""
		chips = append(chips, Chip{"Day", DayLabel(f), ViewURL(g)})
	}
	return chips
}

func without[T comparable](list []T, v T) []T {
	out := make([]T, 0, len(list))
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
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
	data := ViewPage{Filter: v.Filter, Items: v.Page.Items, Summary: v.Summary, Now: now, Loc: v.Filter.Location()}
	if v.Page.Next != nil {
		data.MoreURL = ViewURL(v.Filter.WithCursor(*v.Page.Next))
	}
	data.Digest = ResultsDigest(v.Summary, v.Page.Items)
	data.LiveURL = LiveURL(v.Filter, data.Digest)
	return data
}

// ResultsDigest fingerprints what a page of results shows, so that a stream
// can tell whether the page it serves is still true.
func ResultsDigest(sum app.Summary, items []*app.Item) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d %d %d\n", sum.Items, sum.Working, sum.Credits)
	for _, it := range items {
		fmt.Fprintf(h, "%s %s %d %d %d %d %q %q\n", it.ID, it.Status, it.UpdatedAt.UnixMicro(),
			it.FinishedAt.UnixMicro(), it.Inference, it.Compute, it.Title, it.Reason)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
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
