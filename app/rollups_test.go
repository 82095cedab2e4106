package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/uptrace/bun"
)

// After random writes of every kind — runs created in and out of teams,
// statuses and credits changed one at a time and many at once, items moved
// between teams and visibilities, moved to other days, given other agents,
// models, repositories and branches, and deleted — the
// summary read from the rollups equals a recount of the items, for many
// views and every person; the operator's verify finds nothing, and a rollup
// row set wrong is found by verify and set right by rebuild.
func TestRollupsEqualARecountAfterRandomWrites(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 15, 4, 5, 0, time.UTC)
		s.SetClock(func() time.Time { return now })
		mustOK(t, s.Seed(ctx, app.DemoSeed(now)))
		db := s.DB()
		var users []*app.User
		mustOK(t, db.NewSelect().Model(&users).OrderExpr("id").Scan(ctx))
		var teams []*app.Team
		mustOK(t, db.NewSelect().Model(&teams).OrderExpr("id").Scan(ctx))
		ids := func() []string {
			var ids []string
			mustOK(t, db.NewSelect().Table("items").Column("id").OrderExpr("id").Scan(ctx, &ids))
			return ids
		}

		r := rand.New(rand.NewPCG(2026, 12))
		ambient := []app.Source{app.SourceCLI, app.SourceAPI, app.SourceSlack, app.SourceLinear, app.SourceGitHubActions, app.SourceScheduled}
		finished := []app.Status{app.StatusWorking, app.StatusSuccess, app.StatusFailed}
		for i := range 400 {
			all := ids()
			id := all[r.IntN(len(all))]
			switch r.IntN(8) {
			case 0:
				u := users[r.IntN(len(users))]
				v, err := s.Viewer(ctx, u.ID)
				mustOK(t, err)
				run := app.NewRun{Kind: app.KindAmbient, Source: ambient[r.IntN(len(ambient))], Title: fmt.Sprintf("Random run %d", i),
					Status: finished[r.IntN(len(finished))], Visibility: app.VisibilityTeam}
				if memberships, err := s.TeamsOf(ctx, v); err == nil && len(memberships) > 0 && r.IntN(3) > 0 {
					run.Team = memberships[r.IntN(len(memberships))].Team.Slug
				} else {
					mustOK(t, err)
					run.Visibility = app.VisibilityPrivate
				}
				_, _, err = s.CreateRun(ctx, v, run)
				mustOK(t, err)
			case 1:
				_, err := db.NewUpdate().Table("items").Set("status = ?", finished[r.IntN(len(finished))]).Where("id = ?", id).Exec(ctx)
				mustOK(t, err)
			case 2:
				_, err := db.NewUpdate().Table("items").
					Set("inference_credits = ?", r.Int64N(50*1_000_000)).Set("compute_credits = ?", r.Int64N(3*1_000_000)).
					Where("id = ?", id).Exec(ctx)
				mustOK(t, err)
			case 3:
				q := db.NewUpdate().Table("items").Set("visibility = ?", []app.Visibility{app.VisibilityTeam, app.VisibilityPrivate}[r.IntN(2)])
				if r.IntN(4) == 0 {
					q = q.Set("team_id = NULL")
				} else {
					q = q.Set("team_id = ?", teams[r.IntN(len(teams))].ID)
				}
				_, err := q.Where("id = ?", id).Exec(ctx)
				mustOK(t, err)
			case 4:
				var created time.Time
				mustOK(t, db.NewSelect().Table("items").Column("created_at").Where("id = ?", id).Scan(ctx, &created))
				moved := created.Add(time.Duration(r.IntN(145)-72) * time.Hour)
				_, err := db.NewUpdate().Table("items").Set("created_at = ?", moved).Where("id = ?", id).Exec(ctx)
				mustOK(t, err)
			case 5:
				_, err := db.NewDelete().Table("items").Where("id = ?", id).Exec(ctx)
				mustOK(t, err)
			case 7:
				// What the agent reports: its name, models, repository and
				// branch, each possibly none; "ab" in "c" and "a" in "bc"
				// are two different pairs.
				_, err := db.NewUpdate().Table("items").
					Set("agent_name = ?", []string{"", "codex", "claude-code", "gemini-cli", "ab", "a", "cödex"}[r.IntN(7)]).
					Set("models = ?", []string{"", "gpt-5", "claude-sonnet-4-5,claude-haiku-4-5", "claude-haiku-4-5", `odd "name\`}[r.IntN(5)]).
					Set("repo = ?", []string{"", "acme/web", "acme/api", "c", "bc"}[r.IntN(5)]).
					Set("branch = ?", []string{"", "main", fmt.Sprintf("fix/eng-%d", i)}[r.IntN(3)]).
					Where("id = ?", id).Exec(ctx)
				mustOK(t, err)
			case 6:
				// Many rows in one statement.
				_, err := db.NewUpdate().Table("items").Set("status = ?", app.StatusFailed).
					Where("status = ?", app.StatusWorking).Where("kind = ?", app.KindAmbient).Where("id < ?", id).Exec(ctx)
				mustOK(t, err)
			}
		}

		// A few items of an agent whose name is longer in bytes than in
		// characters, in one statement.
		_, err := db.NewUpdate().Table("items").Set("agent_name = 'cödex'").Set("repo = 'acme/web'").
			Where("id IN (?)", bun.In(ids()[:5])).Exec(ctx)
		mustOK(t, err)

		views := []string{
			"", "tab=all", "tab=all&status=failed", "tab=all&source=slack&source=linear", "tab=all&status=-success",
			"tab=all&kind=interactive", "tab=all&kind=-interactive&status=working", "status=working", "source=-cli",
			"tab=all&day=7d", "tab=all&day=7d&tz=Asia/Kolkata", "tab=all&day=today&tz=America/New_York",
			"tab=all&day=2026-11-20&tz=Europe/Berlin", "tab=all&day=yesterday&tz=Pacific/Auckland&source=-github_actions",
			"day=7d&tz=America/Los_Angeles&status=failed",
			"tab=all&agent=codex", "tab=all&agent=claude-code&agent=gemini-cli&status=failed", "agent=-codex",
			"tab=all&agent=codex&agent=-codex", "tab=all&model=claude-haiku-4-5", "tab=all&model=-claude-sonnet-4-5&source=slack",
			"tab=all&model=" + url.QueryEscape(`odd "name\`), "tab=all&model=gpt-5&model=claude-haiku-4-5", "tab=all&repo=acme/web",
			"tab=all&repo=-acme/api&kind=interactive", "tab=all&branch=main", "branch=main&status=-success",
			"tab=all&agent=codex&repo=acme/web", "tab=all&agent=codex&day=7d",
			"tab=all&agent=ab&repo=c", "tab=all&agent=a&repo=bc", "tab=all&agent=cödex&repo=acme/web", "tab=all&agent=cödex&repo=acme/web&day=7d",
			"tab=all&agent=codex&agent=claude-code&repo=acme/web&repo=acme/api&status=failed",
			"tab=all&agent=-codex&repo=acme/web", "tab=all&agent=codex&repo=-acme/web&day=7d&tz=Asia/Kolkata",
			"tab=all&agent=-codex&repo=-acme/api&source=slack", "tab=all&agent=-codex&agent=-a&repo=-acme/api&repo=-c&day=7d",
			"tab=all&agent=codex&agent=-codex&repo=acme/web",
			"tab=all&model=claude-haiku-4-5&day=7d", "tab=all&model=-gpt-5&day=2026-11-20&tz=Europe/Berlin",
			"tab=all&repo=acme/web&day=7d&status=-success", "agent=codex&repo=acme/web&day=7d",
			"tab=all&branch=main&day=7d", "tab=all&agent=codex&model=gpt-5",
		}
		for _, team := range teams {
			views = append(views, "tab=all&team="+team.Slug, "tab=all&team=-"+team.Slug+"&day=7d&tz=Asia/Tokyo")
		}
		for i, u := range users {
			next := users[(i+1)%len(users)].Handle
			views = append(views, "tab=all&creator="+u.Handle, "tab=all&creator=-"+u.Handle+"&repo=acme/web", "tab=all&creator=-"+u.Handle+"&status=failed",
				"tab=all&creator="+u.Handle+"&creator="+next+"&day=7d&tz=Europe/Berlin", "creator="+u.Handle)
		}
		check := func(when string) {
			t.Helper()
			for _, u := range users {
				v, err := s.Viewer(ctx, u.ID)
				mustOK(t, err)
				for _, raw := range views {
					q, _ := resolveQuietly(t, s, v, raw)
					got, err := s.Summary(ctx, q)
					mustOK(t, err)
					want, err := s.SummaryByScan(ctx, q)
					mustOK(t, err)
					if got != want {
						t.Errorf("%s, %s %q: the rollups give %+v, a recount %+v", when, u.Handle, raw, got, want)
					}
				}
			}
		}
		check("after random writes")

		// The agent and the repository together, and one of the agents'
		// fields with a day, are read from the rollups, not recounted (the
		// days here are whole UTC days: no edges to read from the items).
		statements := &apptest.StatementRecorder{}
		db.AddQueryHook(statements)
		maya, err := s.Viewer(ctx, users[0].ID)
		mustOK(t, err)
		for raw, rollup := range map[string]string{
			"tab=all&agent=codex&repo=acme/web":              "rollup_creator_attributes",
			"tab=all&agent=-codex&repo=-acme/api":            "rollup_creator_attributes",
			"tab=all&agent=codex&repo=acme/web&day=7d":       "rollup_creator_attribute_days",
			"tab=all&agent=-codex&repo=acme/web&day=7d":      "rollup_creator_attribute_days",
			"tab=all&model=claude-haiku-4-5&day=7d&tz=UTC":   "rollup_creator_attribute_days",
			"tab=all&repo=-acme/api&day=2026-11-20&tz=UTC":   "rollup_creator_attribute_days",
			"tab=all&agent=gemini-cli&day=2026-11-20&tz=UTC": "rollup_team_attribute_days",
		} {
			q, _ := resolveQuietly(t, s, maya, raw)
			statements.Start()
			_, err := s.Summary(ctx, q)
			mustOK(t, err)
			read := strings.Join(statements.Stop(), "\n")
			if !strings.Contains(read, rollup) {
				t.Errorf("%q: the summary did not read %s:\n%s", raw, rollup, read)
			}
			if strings.Contains(read, "FROM items") {
				t.Errorf("%q: the summary of whole UTC days read the items:\n%s", raw, read)
			}
		}
		differences, err := s.VerifyRollups(ctx)
		mustOK(t, err)
		if len(differences) > 0 {
			t.Errorf("verify after random writes: %s", strings.Join(differences, "\n"))
		}

		// A row no item stands for, as a lost write would leave.
		_, err = db.ExecContext(ctx, "INSERT INTO rollup_teams (team_id, day, kind, source, status, shard, items, whole, micro) "+
			"VALUES (?, 1, 'ambient', 'cli', 'success', 0, 5, 7, 0)", teams[0].ID)
		mustOK(t, err)
		differences, err = s.VerifyRollups(ctx)
		mustOK(t, err)
		if len(differences) != 1 || !strings.HasPrefix(differences[0], "rollup_teams holds") {
			t.Errorf("verify of a wrong row: %q, want the one row named", differences)
		}
		mustOK(t, s.RebuildRollups(ctx))
		differences, err = s.VerifyRollups(ctx)
		mustOK(t, err)
		if len(differences) > 0 {
			t.Errorf("verify after rebuild: %s", strings.Join(differences, "\n"))
		}
		check("after rebuilding")
	})
}

// resolveQuietly is resolve for views whose values may name nothing: the
// filter is applied as far as it can be.
func resolveQuietly(t *testing.T, s *app.Store, v app.Viewer, rawQuery string) (app.Query, app.Filter) {
	t.Helper()
	q, err := url.ParseQuery(rawQuery)
	mustOK(t, err)
	f, _ := app.ParseFilter(q)
	query, f, _, err := s.ResolveFilter(context.Background(), v, f)
	mustOK(t, err)
	return query, f
}
