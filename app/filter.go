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
	Tab Tab
	// Query is words searched in the titles and first prompts (q).
	Query    string
	Kinds    Choice[Kind]
	Sources  Choice[Source]
	Statuses Choice[Status]
	Creators Choice[string] // handles
	Agents   Choice[string] // agents' names: claude-code, codex, …
	Models   Choice[string]
	Repos    Choice[string] // owner/name
	Branches Choice[string]
	Teams    Choice[string] // team slugs
	Day      string         // "", "today", "yesterday", "7d" or YYYY-MM-DD
	TZ       string         // an IANA zone name; "" means UTC
	Cursor   string         // an encoded Cursor; "" is the first page
}

// Choice is a filter that takes several values: the values to keep (Is) and
// the values to leave out (Not). Values of one choice combine with OR, Not
// values with AND NOT. In the URL a value to leave out carries a leading
// "-": source=-slack&status=-success.
type Choice[T ~string] struct {
	Is  []T
	Not []T
}

// picksRows reports whether the filter keeps some rows of an arm by values
// its index carries but does not order by (kind, source, status, agent,
// model, repository, branch): creator, team and day pick ranges of it.
func (f Filter) picksRows() bool {
	return !f.Kinds.Empty() || !f.Sources.Empty() || !f.Statuses.Empty() || !f.Agents.Empty() ||
		!f.Models.Empty() || !f.Repos.Empty() || !f.Branches.Empty()
}

// Empty reports whether the choice narrows nothing.
func (c Choice[T]) Empty() bool { return len(c.Is)+len(c.Not) == 0 }

// Len counts the values chosen, kept or left out.
func (c Choice[T]) Len() int { return len(c.Is) + len(c.Not) }

// Has reports whether v is a value to keep.
func (c Choice[T]) Has(v T) bool { return slices.Contains(c.Is, v) }

// Excludes reports whether v is a value to leave out.
func (c Choice[T]) Excludes(v T) bool { return slices.Contains(c.Not, v) }

// Negated reports whether the choice only leaves values out.
func (c Choice[T]) Negated() bool { return len(c.Not) > 0 && len(c.Is) == 0 }

// Without is the choice with v taken out of both lists.
func (c Choice[T]) Without(v T) Choice[T] {
	return Choice[T]{Is: without(c.Is, v), Not: without(c.Not, v)}
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

// maxQueryLen bounds the search words.
const maxQueryLen = 200

// filterKeys are the parameters ParseFilter reads. "date" is the form field
// of the day menu's date picker; it folds into Day and is never printed. A
// "<field>_mode=not" form field makes the menu's values ones to leave out;
// it folds into the choice and is never printed either.
var filterKeys = []string{"tab", "q", "kind", "source", "status", "creator", "agent", "model", "repo", "branch", "team",
	"day", "date", "tz", "cursor"}

// choiceKeys are the parameters of the choices, which may carry a mode.
var choiceKeys = []string{"kind", "source", "status", "creator", "agent", "model", "repo", "branch", "team"}

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
		mode, isMode := strings.CutSuffix(k, "_mode")
		if !slices.Contains(filterKeys, k) && !(isMode && slices.Contains(choiceKeys, mode)) {
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

	if words := strings.Join(strings.Fields(CleanText(q.Get("q"))), " "); len(words) > maxQueryLen {
		bad("q", "the search is longer than %d bytes and was ignored", maxQueryLen)
	} else {
		f.Query = words
	}

	leaveOut := func(key string) bool { return q.Get(key+"_mode") == "not" }
	f.Kinds = parseChoice(q["kind"], leaveOut("kind"), "kind", enumValue(Kinds), Kinds, bad)
	f.Sources = parseChoice(q["source"], leaveOut("source"), "source", enumValue(Sources), Sources, bad)
	f.Statuses = parseChoice(q["status"], leaveOut("status"), "status", enumValue(Statuses), Statuses, bad)
	f.Creators = parseChoice(q["creator"], leaveOut("creator"), "creator", func(v string) (string, string) {
		v = strings.ToLower(v)
		if !ValidHandle(v) {
			return "", "is not a user handle"
		}
		return v, ""
	}, nil, bad)
	f.Agents = parseChoice(q["agent"], leaveOut("agent"), "agent", nameValue(strings.ToLower), nil, bad)
	f.Models = parseChoice(q["model"], leaveOut("model"), "model", nameValue(func(s string) string { return s }), nil, bad)
	f.Repos = parseChoice(q["repo"], leaveOut("repo"), "repo", nameValue(func(s string) string { return s }), nil, bad)
	f.Branches = parseChoice(q["branch"], leaveOut("branch"), "branch", nameValue(func(s string) string { return s }), nil, bad)
	f.Teams = parseChoice(q["team"], leaveOut("team"), "team", func(v string) (string, string) {
		v = strings.ToLower(v)
		if !ValidHandle(v) {
			return "", "is not a team"
		}
		return v, ""
	}, nil, bad)

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

// unknownValue is why a value outside a fixed list is refused.
const unknownValue = "is unknown"

// enumValue accepts the values of a fixed list.
func enumValue[T ~string](all []T) func(string) (T, string) {
	return func(v string) (T, string) {
		if !oneOf(T(v), all) {
			return "", unknownValue
		}
		return T(v), ""
	}
}

// nameValue accepts a free name of modest length, normalised by norm.
func nameValue(norm func(string) string) func(string) (string, string) {
	return func(v string) (string, string) {
		v = norm(CleanText(v))
		if len(v) > maxValueLen {
			return "", "is too long"
		}
		return v, ""
	}
}

// parseChoice reads a repeatable parameter into a choice: a value with a
// leading "-" is one to leave out, and so are all of them when the form said
// so (leaveOut). Values are deduplicated — one both kept and left out is
// left out — and put in display order (all's, else alphabetical).
func parseChoice[T ~string](raw []string, leaveOut bool, field string, read func(string) (T, string), all []T, bad func(string, string, ...any)) Choice[T] {
	var c Choice[T]
	for _, v := range raw {
		v = strings.TrimSpace(v)
		not := leaveOut
		if rest, ok := strings.CutPrefix(v, "-"); ok {
			v, not = strings.TrimSpace(rest), true
		}
		if v == "" {
			continue
		}
		val, why := read(v)
		switch {
		case why == unknownValue:
			bad(field, "unknown %s %q was ignored", field, clip(v))
		case why != "":
			bad(field, "%s %q %s and was ignored", field, clip(v), why)
		case c.Len() >= maxFilterValues:
			bad(field, "more than %d values of %s; the rest were ignored", maxFilterValues, field)
		case not && !c.Excludes(val):
			c.Is = without(c.Is, val)
			c.Not = append(c.Not, val)
		case !not && !c.Has(val) && !c.Excludes(val):
			c.Is = append(c.Is, val)
		}
	}
	order := func(a, b T) int {
		if all != nil {
			return slices.Index(all, a) - slices.Index(all, b)
		}
		return strings.Compare(string(a), string(b))
	}
	slices.SortFunc(c.Is, order)
	slices.SortFunc(c.Not, order)
	return c
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
	return f.Query != "" || !f.Kinds.Empty() || !f.Sources.Empty() || !f.Statuses.Empty() || !f.Creators.Empty() ||
		!f.Agents.Empty() || !f.Models.Empty() || !f.Repos.Empty() || !f.Branches.Empty() || !f.Teams.Empty() || f.Day != ""
}

// Encode prints the canonical query string: defaults left out, parameters in a
// fixed order, values in display order, values to leave out after those to
// keep.
func (f Filter) Encode() string {
	var parts []string
	add := func(k, v string) { parts = append(parts, k+"="+url.QueryEscape(v)) }
	if f.Tab == TabAll {
		add("tab", string(TabAll))
	}
	if f.Query != "" {
		add("q", f.Query)
	}
	addChoice(add, "kind", f.Kinds)
	addChoice(add, "source", f.Sources)
	addChoice(add, "status", f.Statuses)
	addChoice(add, "creator", f.Creators)
	addChoice(add, "agent", f.Agents)
	addChoice(add, "model", f.Models)
	addChoice(add, "repo", f.Repos)
	addChoice(add, "branch", f.Branches)
	addChoice(add, "team", f.Teams)
	if f.Day != "" {
		add("day", f.Day)
	}
	switch {
	case f.TZ != "":
		add("tz", f.TZ)
	case f.Day != "":
		// A day depends on the zone it is read in: the address says UTC
		// rather than leave it to each reader's browser.
		add("tz", "UTC")
	}
	if f.Cursor != "" {
		add("cursor", f.Cursor)
	}
	return strings.Join(parts, "&")
}

func addChoice[T ~string](add func(k, v string), key string, c Choice[T]) {
	for _, v := range c.Is {
		add(key, string(v))
	}
	for _, v := range c.Not {
		add(key, "-"+string(v))
	}
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
