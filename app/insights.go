package app

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

// Insights is where a view's credits went: the view's totals, its credits
// per day, and its items by source, creator, agent and model, each with how
// many failed. It reads exactly the items the list shows for the same
// filters, through the same query, so its totals are the list's summary.
type Insights struct {
	Total InsightRow
	// Days are the days of the chart, in the view's zone, oldest first,
	// with no gaps. Truncated says the view spans more than MaxChartDays
	// and the chart shows its latest days only.
	Days      []InsightDay
	Truncated bool
	Sources   []InsightRow
	Creators  []InsightRow
	Agents    []InsightRow
	// Models counts an item under each model it used: the rows overlap, and
	// each is what the list filtered to that model shows.
	Models []InsightRow
}

// InsightRow is one part of a view: how many items, how many of them failed
// and their credits.
type InsightRow struct {
	// Key is the value the list filters by to show this part: a source, a
	// creator's handle, an agent's or a model's name; "" for the items that
	// have none.
	Key     string
	User    *User // the creator, on the creators' rows
	Items   int64
	Failed  int64
	Credits Credits
}

// FailurePercent is the share of the part's items that failed, in whole
// percent rounded down, so that 100 means all of them.
func (r InsightRow) FailurePercent() int64 {
	if r.Items == 0 {
		return 0
	}
	return r.Failed * 100 / r.Items
}

// InsightDay is one day of the chart: its midnight in the view's zone.
type InsightDay struct {
	Day time.Time
	InsightRow
}

// MaxChartDays is the most days the chart draws; a view spanning more shows
// its latest days, and its totals still cover everything.
const MaxChartDays = 92

// bucketSeconds is how finely the database groups creation times before
// they are gathered into days in the view's zone: a quarter of an hour, as
// every zone's offset from UTC is a multiple of one.
const bucketSeconds = 900

// Insights reads where the credits of the items a query selects went. The
// query's cursor is ignored: insights cover every page.
func (s *Store) Insights(ctx context.Context, q Query) (Insights, error) {
	var in Insights
	q.After = nil
	arms := visibleArms(q)
	if len(arms) == 0 {
		return in, nil
	}
	parts, err := s.groupArms(ctx, q, arms)
	if err != nil {
		return in, err
	}
	for _, r := range parts[partSource] {
		in.Total.Items += r.Items
		in.Total.Failed += r.Failed
		in.Total.Credits = plusCredits(in.Total.Credits, r.Credits)
	}
	in.Sources = sortRows(parts[partSource])
	if in.Creators, err = s.creatorRows(ctx, parts[partCreator]); err != nil {
		return in, err
	}
	in.Agents = sortRows(parts[partAgent])
	in.Models = modelRows(parts[partModels])
	in.Days, in.Truncated, err = dayRows(parts[partBucket], q, s.Now())
	return in, err
}

// The parts insights group a view's items by.
const (
	partSource = iota
	partCreator
	partAgent
	partModels
	partBucket
	partCount
)

// partKeys are the parts' keys as text, over the items' columns, in the
// order of the part constants.
func (s *Store) partKeys() [partCount]string {
	return [partCount]string{"source", "CAST(creator_id AS TEXT)", "agent_name", "models", s.bucketExpr()}
}

// groupArms sums the query's items grouped by each part. Credits are summed
// as the summary sums them (whole and millionths apart), so that the parts
// add up to its total exactly.
//
// PostgreSQL reads the items once for all the parts (grouping sets); SQLite,
// which has none, once per part.
func (s *Store) groupArms(ctx context.Context, q Query, arms []arm) ([partCount][]InsightRow, error) {
	var out [partCount][]InsightRow
	keys := s.partKeys()
	items := func() schema.QueryAppender {
		selects := make([]*bun.SelectQuery, len(arms))
		for i, a := range arms {
			selects[i] = s.armQuery(q, a, "source", "creator_id", "agent_name", "models", "created_at", "status", "inference_credits", "compute_credits")
		}
		return s.unionOfArms(selects)
	}
	type sums struct {
		Part  int    `bun:"part"`
		Key   string `bun:"key"`
		Items int64  `bun:"items"`
		Fail  int64  `bun:"failed"`
		Whole int64  `bun:"whole_credits"`
		Micro int64  `bun:"micro_credits"`
	}
	summed := func(sel *bun.SelectQuery) *bun.SelectQuery {
		return sel.ColumnExpr("COUNT(*) AS items").
			ColumnExpr("COALESCE(SUM(CASE WHEN status = ? THEN 1 ELSE 0 END), 0) AS failed", StatusFailed).
			ColumnExpr("CAST(COALESCE(SUM(inference_credits / ? + compute_credits / ?), 0) AS BIGINT) AS whole_credits", creditUnit, creditUnit).
			ColumnExpr("CAST(COALESCE(SUM(inference_credits % ? + compute_credits % ?), 0) AS BIGINT) AS micro_credits", creditUnit, creditUnit)
	}
	var rows []sums
	if s.dialect == "postgres" {
		// GROUPING() numbers the set a row sums: bit i (from the left) is
		// set when key i is not part of it.
		keyed := s.db.NewSelect().TableExpr("(?) AS u0", items()).Column("status", "inference_credits", "compute_credits")
		sets := make([]string, partCount)
		for i, k := range keys {
			keyed = keyed.ColumnExpr(k + " AS k" + strconv.Itoa(i))
			sets[i] = "(k" + strconv.Itoa(i) + ")"
		}
		var grouping []string
		for i := range partCount {
			grouping = append(grouping, "k"+strconv.Itoa(i))
		}
		var all []struct {
			Grouping int `bun:"grouping"`
			sums
		}
		err := summed(s.db.NewSelect().TableExpr("(?) AS u", keyed).
			ColumnExpr("GROUPING("+strings.Join(grouping, ", ")+") AS grouping").
			ColumnExpr("COALESCE("+strings.Join(grouping, ", ")+") AS key")).
			GroupExpr("GROUPING SETS ("+strings.Join(sets, ", ")+")").
			Scan(ctx, &all)
		if err != nil {
			return out, fmt.Errorf("app: insights: %w", err)
		}
		for _, r := range all {
			for part := range partCount {
				if r.Grouping == (1<<partCount-1)&^(1<<(partCount-1-part)) {
					r.Part = part
					rows = append(rows, r.sums)
				}
			}
		}
	} else {
		for part, key := range keys {
			var some []sums
			err := summed(s.db.NewSelect().TableExpr("(?) AS u", items()).
				ColumnExpr("? AS part", part).
				ColumnExpr(key+" AS key")).
				GroupExpr("2").
				Scan(ctx, &some)
			if err != nil {
				return out, fmt.Errorf("app: insights: %w", err)
			}
			rows = append(rows, some...)
		}
	}
	for _, r := range rows {
		out[r.Part] = append(out[r.Part], InsightRow{Key: r.Key, Items: r.Items, Failed: r.Fail, Credits: addCredits(r.Whole, r.Micro)})
	}
	return out, nil
}

// plusCredits adds two sums of credits, held at the largest Credits rather
// than wrapping, as the summary holds its own.
func plusCredits(a, b Credits) Credits {
	if a > math.MaxInt64-b {
		return Credits(math.MaxInt64)
	}
	return a + b
}

// bucketExpr numbers the quarter hour an item was created in, as text.
func (s *Store) bucketExpr() string {
	if s.dialect == "postgres" {
		return "CAST(CAST(floor(extract(epoch FROM created_at) / " + strconv.Itoa(bucketSeconds) + ") AS BIGINT) AS TEXT)"
	}
	return "CAST(CAST(strftime('%s', created_at) AS INTEGER) / " + strconv.Itoa(bucketSeconds) + " AS TEXT)"
}

// sortRows puts the parts with the most credits first, then the most items.
func sortRows(rows []InsightRow) []InsightRow {
	slices.SortFunc(rows, func(a, b InsightRow) int {
		return cmp.Or(cmp.Compare(b.Credits, a.Credits), cmp.Compare(b.Items, a.Items), strings.Compare(a.Key, b.Key))
	})
	return rows
}

// creatorRows names the creators of the rows by their handles.
func (s *Store) creatorRows(ctx context.Context, rows []InsightRow) ([]InsightRow, error) {
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		id, err := strconv.ParseInt(r.Key, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("app: insights: creator %q: %w", r.Key, err)
		}
		ids = append(ids, id)
	}
	var users []*User
	if len(ids) > 0 {
		if err := s.db.NewSelect().Model(&users).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
			return nil, fmt.Errorf("app: insights: creators: %w", err)
		}
	}
	byID := map[int64]*User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	for i := range rows {
		if u, ok := byID[ids[i]]; ok {
			rows[i].User, rows[i].Key = u, u.Handle
		}
	}
	return sortRows(rows), nil
}

// modelRows turns rows by the list of models an item used into rows by
// model, counting an item under each of its models, as the model filter
// matches it.
func modelRows(byList []InsightRow) []InsightRow {
	byModel := map[string]*InsightRow{}
	for _, r := range byList {
		models := splitList(r.Key)
		if len(models) == 0 {
			models = []string{""}
		}
		for _, m := range models {
			row := byModel[m]
			if row == nil {
				row = &InsightRow{Key: m}
				byModel[m] = row
			}
			row.Items += r.Items
			row.Failed += r.Failed
			row.Credits = plusCredits(row.Credits, r.Credits)
		}
	}
	out := make([]InsightRow, 0, len(byModel))
	for _, r := range byModel {
		out = append(out, *r)
	}
	return sortRows(out)
}

// dayRows gathers quarter hours into days of the view's zone: every day of
// the view's day filter, or else from the first day with items to the last,
// the latest MaxChartDays of them.
func dayRows(buckets []InsightRow, q Query, now time.Time) ([]InsightDay, bool, error) {
	loc := q.Filter.Location()
	midnight := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	byDay := map[time.Time]*InsightRow{}
	var first, last time.Time
	for _, b := range buckets {
		n, err := strconv.ParseInt(b.Key, 10, 64)
		if err != nil {
			return nil, false, fmt.Errorf("app: insights: time bucket %q: %w", b.Key, err)
		}
		day := midnight(time.Unix(n*bucketSeconds, 0))
		row := byDay[day]
		if row == nil {
			row = &InsightRow{Key: day.Format(dateLayout)}
			byDay[day] = row
		}
		row.Items += b.Items
		row.Failed += b.Failed
		row.Credits = plusCredits(row.Credits, b.Credits)
		if first.IsZero() || day.Before(first) {
			first = day
		}
		if day.After(last) {
			last = day
		}
	}
	if from, to, ok := q.Filter.DayRange(now); ok {
		first, last = midnight(from), midnight(to.Add(-time.Nanosecond))
	}
	if first.IsZero() {
		return nil, false, nil
	}
	truncated := false
	if start := last.AddDate(0, 0, -(MaxChartDays - 1)); first.Before(start) {
		first, truncated = start, true
	}
	var days []InsightDay
	for day := first; !day.After(last); day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc) {
		d := InsightDay{Day: day, InsightRow: InsightRow{Key: day.Format(dateLayout)}}
		if row, ok := byDay[day]; ok {
			d.InsightRow = *row
		}
		days = append(days, d)
	}
	return days, truncated, nil
}

// Part names how insights split a view: by source, creator, agent, model
// or day.
type Part string

// The parts of a view's insights.
const (
	PartSource  Part = "source"
	PartCreator Part = "creator"
	PartAgent   Part = "agent"
	PartModel   Part = "model"
	PartDay     Part = "day"
)

// PartFilter is the list's filter that shows one part of the view whose
// filter is f: f narrowed to the part's key (from its first page). The part
// of items with no agent or no model (key "") is shown by leaving out every
// other agent or model the view holds. ok is false when no filter shows the
// part exactly: an item may use several models, so of a view filtered to
// some models, only those models' parts can be shown.
func (in Insights) PartFilter(f Filter, p Part, key string) (Filter, bool) {
	f = f.FirstPage()
	ok := true
	switch p {
	case PartSource:
		f.Sources = Choice[Source]{Is: []Source{Source(key)}, Not: f.Sources.Not}
	case PartCreator:
		f.Creators, ok = Choice[string]{Is: []string{key}, Not: f.Creators.Not}, key != ""
	case PartAgent:
		f.Agents, ok = narrowTo(f.Agents, key, in.Agents)
	case PartModel:
		ok = key == "" || len(f.Models.Is) == 0 || f.Models.Has(key)
		if ok {
			f.Models, ok = narrowTo(f.Models, key, in.Models)
		}
	case PartDay:
		f.Day = key
	default:
		ok = false
	}
	return f, ok
}

// narrowTo narrows a choice to one key, or, for the key "", leaves out
// every other key of the rows as well.
func narrowTo(c Choice[string], key string, rows []InsightRow) (Choice[string], bool) {
	if key != "" {
		return Choice[string]{Is: []string{key}, Not: c.Not}, true
	}
	not := slices.Clone(c.Not)
	for _, r := range rows {
		if r.Key != "" && !slices.Contains(not, r.Key) {
			not = append(not, r.Key)
		}
	}
	slices.Sort(not)
	return Choice[string]{Not: not}, len(not) <= maxFilterValues
}
