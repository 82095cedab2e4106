package app_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

// resolve turns a query string into the query the list runs for a viewer.
func resolve(t *testing.T, s *app.Store, v app.Viewer, rawQuery string) (app.Query, app.Filter) {
	t.Helper()
	q, err := url.ParseQuery(rawQuery)
	mustOK(t, err)
	f, problems := app.ParseFilter(q)
	if len(problems) > 0 {
		t.Fatalf("filter %q: %v", rawQuery, problems[0])
	}
	query, f, problems, err := s.ResolveFilter(context.Background(), v, f)
	mustOK(t, err)
	if len(problems) > 0 {
		t.Fatalf("resolve %q for %s: %v", rawQuery, v.User.Handle, problems[0])
	}
	return query, f
}

// summaryOf is the list's summary line for a viewer's view.
func summaryOf(t *testing.T, s *app.Store, v app.Viewer, rawQuery string) app.Summary {
	t.Helper()
	q, _ := resolve(t, s, v, rawQuery)
	sum, err := s.Summary(context.Background(), q)
	mustOK(t, err)
	return sum
}

// sameAsList fails unless a part of the insights counts what the list's
// summary counts for the filter that shows that part.
func sameAsList(t *testing.T, what string, row app.InsightRow, sum app.Summary) {
	t.Helper()
	if sum.More {
		return // a common search is not counted in full by the summary
	}
	if row.Items != sum.Items || row.Failed != sum.Failed || row.Credits != sum.Credits {
		t.Errorf("%s: insights say %d items, %d failed, %s credits; the list says %d, %d, %s",
			what, row.Items, row.Failed, row.Credits, sum.Items, sum.Failed, sum.Credits)
	}
}

// join adds a parameter to a query string.
func join(rawQuery, param string) string {
	if rawQuery == "" {
		return param
	}
	return rawQuery + "&" + param
}

// The insights of a view add up to exactly the list's summary for the same
// filters, and each of their parts to exactly the list filtered to it, on
// the demo data, for many filters and two people.
func TestInsightsAddUpToTheListsSummary(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 15, 4, 5, 0, time.UTC)
		s.SetClock(func() time.Time { return now })
		mustOK(t, s.Seed(ctx, app.DemoSeed(now)))
		filters := []string{
			"", "tab=all", "tab=all&status=failed", "tab=all&source=slack&source=linear", "tab=all&status=-success",
			"tab=all&kind=interactive", "tab=all&agent=codex", "tab=all&agent=-claude-code", "tab=all&model=claude-haiku-4-5",
			"tab=all&repo=acme/web&branch=main", "tab=all&team=platform", "tab=all&day=7d", "tab=all&day=today&tz=Asia/Kolkata",
			"tab=all&day=2026-11-20&tz=America/New_York", "tab=all&q=fix", "tab=all&q=webhook&status=failed", "source=cli&status=failed",
			"tab=all&creator=jonas", "tab=all&creator=-priya&source=-github_actions",
		}
		for _, handle := range []string{"priya", "jonas"} {
			u, err := s.UserByHandle(ctx, handle)
			mustOK(t, err)
			v, err := s.Viewer(ctx, u.ID)
			mustOK(t, err)
			for _, raw := range filters {
				q, f := resolve(t, s, v, raw)
				in, err := s.Insights(ctx, q)
				mustOK(t, err)
				sum := summaryOf(t, s, v, raw)
				sameAsList(t, handle+" "+raw, in.Total, sum)
				if !sum.More && sum.Items == 0 {
					t.Errorf("%s %q selects nothing: the case proves nothing", handle, raw)
				}
				part := func(p app.Part, r app.InsightRow) {
					g, ok := in.PartFilter(f, p, r.Key)
					if !ok {
						if p != app.PartModel || !strings.Contains(raw, "model=") {
							t.Errorf("%s %q: no filter shows the %s %q", handle, raw, p, r.Key)
						}
						return
					}
					sameAsList(t, handle+" "+raw+" "+string(p)+" "+r.Key, r, summaryOf(t, s, v, g.Encode()))
				}
				for _, r := range in.Sources {
					part(app.PartSource, r)
				}
				for _, r := range in.Creators {
					part(app.PartCreator, r)
				}
				for _, r := range in.Agents {
					part(app.PartAgent, r)
				}
				for _, r := range in.Models {
					part(app.PartModel, r)
				}
				var days app.InsightRow
				for _, d := range in.Days {
					days.Items += d.Items
					days.Failed += d.Failed
					days.Credits += d.Credits
					part(app.PartDay, d.InsightRow)
				}
				if !in.Truncated {
					sameAsList(t, handle+" "+raw+" all days", days, sum)
				}
			}
		}
	})
}

// The chart has a bar for every day of the view, empty ones included, in
// the view's zone.
func TestInsightsDaysCoverTheViewInItsZone(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		// 23:30 UTC on the 23rd is the 24th in Berlin.
		w.item(t, w.alice, "late", func(it *app.Item) {
			it.CreatedAt, it.Inference = time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC), 2_500_000
		})
		w.item(t, w.alice, "early", func(it *app.Item) {
			it.CreatedAt, it.Inference, it.Status = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), 1_000_001, app.StatusFailed
		})
		q, _ := resolve(t, s, w.alice, "tz=Europe/Berlin")
		in, err := s.Insights(ctx, q)
		mustOK(t, err)
		var got []string
		for _, d := range in.Days {
			got = append(got, d.Key+"="+d.Credits.String())
		}
		want := []string{"2026-11-21=1.000001", "2026-11-22=0.00", "2026-11-23=0.00", "2026-11-24=2.50"}
		if len(got) != len(want) {
			t.Fatalf("days %q, want %q", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("days %q, want %q", got, want)
				break
			}
		}
		if in.Total.Credits.String() != "3.500001" || in.Total.Failed != 1 || in.Total.FailurePercent() != 50 {
			t.Errorf("total %+v, want 3.500001 credits, 1 of 2 failed", in.Total)
		}
		// A day filter draws each of its days, with or without items.
		q, _ = resolve(t, s, w.alice, "day=7d")
		in, err = s.Insights(ctx, q)
		mustOK(t, err)
		if len(in.Days) != 7 || in.Days[6].Key != "2026-11-25" {
			t.Errorf("the last 7 days are drawn as %d bars ending %v", len(in.Days), in.Days)
		}
	})
}
