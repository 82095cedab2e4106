package app

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Tab selects what the view lists: Personal (what I own) or All (plus what my
// teams share).
type Tab string

// The two tabs.
const (
	TabPersonal Tab = "personal"
	TabAll      Tab = "all"
)

// Day shortcuts accepted by the day filter besides a YYYY-MM-DD date.
const (
	DayToday     = "today"
	DayYesterday = "yesterday"
	DayLast7     = "7d"
)

// dateLayout is how a single day is written in the URL.
const dateLayout = "2006-01-02"

// Limits that keep a hostile query string cheap to parse and to run.
const (
	maxFilterValues = 50
	maxValueLen     = 100
)

// Filter is the whole view state that lives in the query string (§4). It is
// parsed and printed by this one type, so the URL a filter produces is exactly
// the URL it parses.
type Filter struct {
	Tab      Tab
	Sources  []Source
	Statuses []Status
	Creators []string // handles
	Day      string   // "", "today", "yesterday", "7d" or YYYY-MM-DD
	TZ       string   // an IANA zone name; "" means UTC
	Cursor   string   // an encoded Cursor; "" is the first page
}

// filterKeys are the parameters ParseFilter reads. "date" is the form field of
// the day menu's date picker; it folds into Day and is never printed.
var filterKeys = []string{"tab", "source", "status", "creator", "day", "date", "tz", "cursor"}

// ParseFilter reads view state from a query string. What it cannot use it
// leaves out and reports as a problem naming the parameter: the view shows the
// problems as a notice, the API answers 400.
func ParseFilter(q url.Values) (Filter, []*Error) {
	var f Filter
	var problems []*Error
	bad := func(field, format string, args ...any) {
		problems = append(problems, Errorf(EInvalid, field, format, args...))
	}

	var unknown []string
	for k := range q {
		if !slices.Contains(filterKeys, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		bad(k, "unknown parameter %q was ignored", clip(k))
	}

	f.Tab = TabPersonal
	switch tab := q.Get("tab"); tab {
	case "", string(TabPersonal):
	case string(TabAll):
		f.Tab = TabAll
	default:
		bad("tab", "unknown tab %q was ignored", clip(tab))
	}

	f.Sources = parseEnum(q["source"], Sources, "source", bad)
	f.Statuses = parseEnum(q["status"], Statuses, "status", bad)

	for _, h := range q["creator"] {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case h == "":
		case !ValidHandle(h):
			bad("creator", "%q is not a user handle and was ignored", clip(h))
		case len(f.Creators) >= maxFilterValues:
			bad("creator", "more than %d creators; the rest were ignored", maxFilterValues)
		case !slices.Contains(f.Creators, h):
			f.Creators = append(f.Creators, h)
		}
	}
	slices.Sort(f.Creators)

	day := strings.TrimSpace(q.Get("day"))
	if date := strings.TrimSpace(q.Get("date")); date != "" && (day == "" || day == "date") {
		day = date
	}
	switch day {
	case "", "date":
	case DayToday, DayYesterday, DayLast7:
		f.Day = day
	default:
		if _, err := time.Parse(dateLayout, day); err != nil {
			bad("day", "%q is not a day (use YYYY-MM-DD, today, yesterday or 7d) and was ignored", clip(day))
		} else {
			f.Day = day
		}
	}

	if tz := strings.TrimSpace(q.Get("tz")); tz != "" && tz != "UTC" {
		if _, err := loadZone(tz); err != nil {
			bad("tz", "%q is not a known time zone; UTC was used", clip(tz))
		} else {
			f.TZ = tz
		}
	}

	if c := q.Get("cursor"); c != "" {
		if _, err := DecodeCursor(c); err != nil {
			bad("cursor", "the page cursor is invalid; showing the first page")
		} else {
			f.Cursor = c
		}
	}
	return f, problems
}

// parseEnum keeps the known values of a repeatable parameter, deduplicated and
// in display order.
func parseEnum[T ~string](raw []string, all []T, field string, bad func(string, string, ...any)) []T {
	var out []T
	for _, v := range raw {
		v = strings.TrimSpace(v)
		switch {
		case v == "":
		case !oneOf(T(v), all):
			bad(field, "unknown %s %q was ignored", field, clip(v))
		case !slices.Contains(out, T(v)):
			out = append(out, T(v))
		}
	}
	slices.SortFunc(out, func(a, b T) int { return slices.Index(all, a) - slices.Index(all, b) })
	return out
}

func clip(s string) string {
	if len(s) > maxValueLen {
		return s[:maxValueLen] + "…"
	}
	return s
}

func loadZone(name string) (*time.Location, error) {
	if name == "Local" || len(name) > maxValueLen {
		return nil, fmt.Errorf("unsupported zone %q", name)
	}
	return time.LoadLocation(name)
}

// Location is the zone days are read in.
func (f Filter) Location() *time.Location {
	if f.TZ == "" {
		return time.UTC
	}
	loc, err := loadZone(f.TZ)
	if err != nil {
		return time.UTC
	}
	return loc
}

// DayRange is the half-open interval [from, to) of creation times the day
// filter selects, computed in the filter's zone; ok is false with no day filter.
func (f Filter) DayRange(now time.Time) (from, to time.Time, ok bool) {
	loc := f.Location()
	n := now.In(loc)
	midnight := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, loc) }
	y, m, d := n.Date()
	switch f.Day {
	case "":
		return time.Time{}, time.Time{}, false
	case DayToday:
		return midnight(y, m, d).UTC(), midnight(y, m, d+1).UTC(), true
	case DayYesterday:
		return midnight(y, m, d-1).UTC(), midnight(y, m, d).UTC(), true
	case DayLast7:
		return midnight(y, m, d-6).UTC(), midnight(y, m, d+1).UTC(), true
	}
	day, err := time.Parse(dateLayout, f.Day)
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	y, m, d = day.Date()
	return midnight(y, m, d).UTC(), midnight(y, m, d+1).UTC(), true
}

// Active reports whether any filter narrows the tab.
func (f Filter) Active() bool {
	return len(f.Sources)+len(f.Statuses)+len(f.Creators) > 0 || f.Day != ""
}

// HasSource, HasStatus and HasCreator tell a menu which boxes are ticked.
func (f Filter) HasSource(s Source) bool  { return slices.Contains(f.Sources, s) }
func (f Filter) HasStatus(s Status) bool  { return slices.Contains(f.Statuses, s) }
func (f Filter) HasCreator(h string) bool { return slices.Contains(f.Creators, h) }

// Encode prints the canonical query string: defaults left out, parameters in a
// fixed order, values in display order.
func (f Filter) Encode() string {
	var parts []string
	add := func(k, v string) { parts = append(parts, k+"="+url.QueryEscape(v)) }
	if f.Tab == TabAll {
		add("tab", string(TabAll))
	}
	for _, s := range f.Sources {
		add("source", string(s))
	}
	for _, s := range f.Statuses {
		add("status", string(s))
	}
	for _, c := range f.Creators {
		add("creator", c)
	}
	if f.Day != "" {
		add("day", f.Day)
	}
	if f.TZ != "" {
		add("tz", f.TZ)
	}
	if f.Cursor != "" {
		add("cursor", f.Cursor)
	}
	return strings.Join(parts, "&")
}

// FirstPage is the filter without its cursor.
func (f Filter) FirstPage() Filter {
	f.Cursor = ""
	return f
}

// WithTab is the same filters on another tab, from the first page.
func (f Filter) WithTab(t Tab) Filter {
	f.Tab = t
	return f.FirstPage()
}

// WithCursor is the page after the given cursor.
func (f Filter) WithCursor(c Cursor) Filter {
	f.Cursor = c.Encode()
	return f
}

// Cleared keeps the tab and the zone and drops every filter.
func (f Filter) Cleared() Filter {
	return Filter{Tab: f.Tab, TZ: f.TZ}
}

// Cursor marks the last row of a page: the next page starts strictly after it
// in (created_at, id) order, so ties on created_at neither repeat nor vanish.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// Encode makes the cursor opaque and URL-safe.
func (c Cursor) Encode() string {
	raw := strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + ":" + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor reads a cursor printed by Encode.
func DecodeCursor(s string) (Cursor, error) {
	if len(s) > 200 {
		return Cursor{}, fmt.Errorf("cursor too long")
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, fmt.Errorf("cursor: %w", err)
	}
	micros, id, ok := strings.Cut(string(raw), ":")
	if !ok || !validItemID(id) {
		return Cursor{}, fmt.Errorf("cursor: malformed")
	}
	us, err := strconv.ParseInt(micros, 10, 64)
	if err != nil || us < 0 {
		return Cursor{}, fmt.Errorf("cursor: malformed time")
	}
	return Cursor{CreatedAt: time.UnixMicro(us).UTC(), ID: id}, nil
}

// ValidZone reports whether name is a time zone the filter accepts.
func ValidZone(name string) bool {
	_, err := loadZone(name)
	return err == nil
}
