package app

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// The database keeps rollups of the items (migrations "rollups",
// "rollup_totals" and "rollup_attribute_days"): their count and credits by
// creator, team, visibility, UTC day, kind, source and status, and by team
// over its team-visible items; both again over every day; and by each value
// of an item's agent, models, repository and branch, and of its agent and
// repository together, over every day and (but for branches) by day. A
// summary whose filters they can answer is read from the totals when it has
// no span, else from the days of its span, plus, where a day filter's
// boundaries in the viewer's zone fall inside a UTC day, the items of the
// day's edges.

// rollupDay is the span of a rollup's day.
const rollupDay = 24 * time.Hour

// rollupSource is a pair of rollups, a person's and a team's, and which of
// their rows a summary reads, added with sign.
type rollupSource struct {
	byCreator, byTeam string
	attribute         string   // for the attributes' rollups: agent, model, repo or branch
	values            []string // the attribute's values read
	sign              int
}

// rollupSources picks the rollups that sum the query, or none when they
// cannot: they hold creator, kind, source, status, team and day, and with or
// without a day one of the agents' fields at a time (a branch without one),
// or the agent and the repository together; not searches.
func rollupSources(q Query) []rollupSource {
	f := q.Filter
	if q.Search != "" {
		return nil
	}
	type field struct {
		attribute string
		choice    Choice[string]
	}
	var asked []field
	for _, c := range []field{{"agent", f.Agents}, {"model", f.Models}, {"repo", f.Repos}, {"branch", f.Branches}} {
		if !c.choice.Empty() {
			asked = append(asked, c)
		}
	}
	byDay := !q.From.IsZero()
	totals := rollupSource{byCreator: "rollup_creator_totals", byTeam: "rollup_team_totals", sign: 1}
	byCreator, byTeam := "rollup_creator_attributes", "rollup_team_attributes"
	if byDay {
		totals = rollupSource{byCreator: "rollup_creators", byTeam: "rollup_teams", sign: 1}
		byCreator, byTeam = "rollup_creator_attribute_days", "rollup_team_attribute_days"
	}
	attributes := func(attribute string, values []string, sign int) rollupSource {
		return rollupSource{byCreator: byCreator, byTeam: byTeam, attribute: attribute, values: values, sign: sign}
	}
	// A field's values kept, or else those left out (all kept when leave).
	values := func(c Choice[string]) (vs []string, leave bool) {
		if len(c.Is) == 0 {
			return c.Not, true
		}
		for _, v := range c.Is {
			if !slices.Contains(c.Not, v) {
				vs = append(vs, v)
			}
		}
		return vs, false
	}
	switch {
	case len(asked) == 0:
		return []rollupSource{totals}
	case len(asked) == 2 && asked[0].attribute == "agent" && asked[1].attribute == "repo":
		agents, leaveAgents := values(asked[0].choice)
		repos, leaveRepos := values(asked[1].choice)
		if !leaveAgents && len(agents) == 0 || !leaveRepos && len(repos) == 0 {
			return nil
		}
		var pairs []string
		for _, a := range agents {
			for _, r := range repos {
				pairs = append(pairs, agentRepo(a, r))
			}
		}
		pair := func(sign int) rollupSource { return attributes("agent+repo", pairs, sign) }
		// Those kept of both, or else by inclusion and exclusion: those
		// kept of one less the pairs left out, or every item less those of
		// either field left out plus those of both.
		switch {
		case !leaveAgents && !leaveRepos:
			return []rollupSource{pair(1)}
		case !leaveRepos:
			return []rollupSource{attributes("repo", repos, 1), pair(-1)}
		case !leaveAgents:
			return []rollupSource{attributes("agent", agents, 1), pair(-1)}
		}
		return []rollupSource{totals, attributes("agent", agents, -1), attributes("repo", repos, -1), pair(1)}
	case len(asked) > 1:
		return nil
	}
	a := asked[0]
	// An item has one agent, repository and branch, so their values' rows
	// add up; but it may have several models, so only one model is summed.
	// Branches are not rolled up by day.
	if a.attribute == "model" && len(a.choice.Is)+len(a.choice.Not) > 1 || a.attribute == "branch" && byDay {
		return nil
	}
	kept, leave := values(a.choice)
	switch {
	case leave:
		// Every item but those with the values left out.
		return []rollupSource{totals, attributes(a.attribute, kept, -1)}
	case len(kept) == 0:
		return nil
	}
	return []rollupSource{attributes(a.attribute, kept, 1)}
}

// agentRepo is the value of the "agent+repo" attribute: the agent's length
// in characters, a colon, the agent and the repository, as the rollups'
// triggers write it, so that no two pairs share a value.
func agentRepo(agent, repo string) string {
	return strconv.Itoa(utf8.RuneCountInString(agent)) + ":" + agent + repo
}

// rollupSummary sums the query's arms from the rollups over whole UTC days,
// and the items of the edges where the query's span begins or ends inside
// one. ok is false when the rollups cannot answer the query.
func (s *Store) rollupSummary(ctx context.Context, q Query, arms []arm) (sum Summary, ok bool, err error) {
	sources := rollupSources(q)
	if sources == nil {
		return sum, false, nil
	}
	var firstDay, endDay int64 // whole days [firstDay, endDay); none when equal
	if !q.From.IsZero() {
		firstDay = ceilDiv(q.From.Unix(), int64(rollupDay/time.Second))
		endDay = q.To.Unix() / int64(rollupDay/time.Second)
		if endDay <= firstDay {
			// The span lies within a day or two: its items are few.
			return sum, false, nil
		}
	}
	var parts []*bun.SelectQuery
	for _, src := range sources {
		for _, a := range arms {
			if a.ownerID != 0 {
				parts = append(parts, s.rollupArm(q, src, src.byCreator, src.sign, firstDay, endDay).
					Where("creator_id = ?", a.ownerID))
				continue
			}
			// A team's shared items by the creators asked for; or else all
			// of them, less the viewer's own among them (the own arm counts
			// those) and the creators left out.
			sharedBy := func(sign int, creators []int64) *bun.SelectQuery {
				return s.rollupArm(q, src, src.byCreator, src.sign*sign, firstDay, endDay).Where("creator_id IN (?)", bun.In(creators)).
					Where("team_id = ?", a.teamID).Where("visibility = ?", VisibilityTeam)
			}
			if q.CreatorIDs != nil {
				parts = append(parts, sharedBy(1, others(q.CreatorIDs, q.Viewer.User.ID)))
				continue
			}
			parts = append(parts,
				s.rollupArm(q, src, src.byTeam, src.sign, firstDay, endDay).Where("team_id = ?", a.teamID),
				sharedBy(-1, []int64{q.Viewer.User.ID}))
			if left := others(q.NotCreatorIDs, q.Viewer.User.ID); len(left) > 0 {
				parts = append(parts, sharedBy(-1, left))
			}
		}
	}
	var row struct {
		Summary
		Whole int64 `bun:"whole_credits"`
		Micro int64 `bun:"micro_credits"`
	}
	err = s.db.NewSelect().
		TableExpr("(?) AS u", s.unionOfArms(parts)).
		ColumnExpr("CAST(COALESCE(SUM(items), 0) AS BIGINT) AS items").
		ColumnExpr("CAST(COALESCE(SUM(working), 0) AS BIGINT) AS working").
		ColumnExpr("CAST(COALESCE(SUM(failed), 0) AS BIGINT) AS failed").
		ColumnExpr("CAST(COALESCE(SUM(whole), 0) AS BIGINT) AS whole_credits").
		ColumnExpr("CAST(COALESCE(SUM(micro), 0) AS BIGINT) AS micro_credits").
		Scan(ctx, &row)
	if err != nil {
		return sum, false, fmt.Errorf("app: summarise items from the rollups: %w", err)
	}
	sum = row.Summary
	sum.Credits = addCredits(row.Whole, row.Micro)
	if q.From.IsZero() {
		return sum, true, nil
	}
	// The edges: from the span's start to its first whole day, and from the
	// end of its last whole day to the span's end.
	for _, edge := range [][2]time.Time{
		{q.From, time.Unix(firstDay*int64(rollupDay/time.Second), 0)},
		{time.Unix(endDay*int64(rollupDay/time.Second), 0), q.To},
	} {
		if !edge[0].Before(edge[1]) {
			continue
		}
		part := q
		part.From, part.To = edge[0], edge[1]
		more, err := s.scanSummary(ctx, part, arms, nil)
		if err != nil {
			return sum, false, err
		}
		sum.Items += more.Items
		sum.Working += more.Working
		sum.Failed += more.Failed
		sum.Credits = plusCredits(sum.Credits, more.Credits)
	}
	return sum, true, nil
}

// rollupArm selects the rows of one of src's tables that the query's
// filters keep, over the whole days [firstDay, endDay) when the query has a
// span (the table is then one by day), each sum taken with sign.
func (s *Store) rollupArm(q Query, src rollupSource, table string, sign int, firstDay, endDay int64) *bun.SelectQuery {
	sel := s.db.NewSelect().TableExpr(table).
		ColumnExpr("? * items AS items", sign).
		ColumnExpr("CASE WHEN status = ? THEN ? * items ELSE 0 END AS working", StatusWorking, sign).
		ColumnExpr("CASE WHEN status = ? THEN ? * items ELSE 0 END AS failed", StatusFailed, sign).
		ColumnExpr("? * whole AS whole", sign).
		ColumnExpr("? * micro AS micro", sign)
	if src.attribute != "" {
		sel = sel.Where("attribute = ?", src.attribute).Where("value IN (?)", bun.In(src.values))
	}
	f := q.Filter
	sel = whereChoice(sel, "kind", f.Kinds)
	sel = whereChoice(sel, "source", f.Sources)
	sel = whereChoice(sel, "status", f.Statuses)
	if table == src.byCreator {
		// Team 0 is no team: it is in no list of teams, as NULL is not.
		if q.TeamIDs != nil {
			sel = sel.Where("team_id IN (?)", bun.In(q.TeamIDs))
		}
		if len(q.NotTeamIDs) > 0 {
			sel = sel.Where("team_id NOT IN (?)", bun.In(q.NotTeamIDs))
		}
	}
	if firstDay != endDay {
		sel = sel.Where("day >= ?", firstDay).Where("day < ?", endDay)
	}
	return sel
}

// others is ids without me.
func others(ids []int64, me int64) []int64 {
	var out []int64
	for _, id := range ids {
		if id != me {
			out = append(out, id)
		}
	}
	return out
}

// ceilDiv is a / b rounded up, for b > 0.
func ceilDiv(a, b int64) int64 {
	d := a / b
	if a%b != 0 && (a > 0) == (b > 0) {
		d++
	}
	return d
}

// rollupTables are the rollups and their key columns.
var rollupTables = []struct{ name, key string }{
	{"rollup_creators", "creator_id, day, team_id, visibility, kind, source, status, shard"},
	{"rollup_teams", "team_id, day, kind, source, status, shard"},
	{"rollup_creator_totals", "creator_id, team_id, visibility, kind, source, status, shard"},
	{"rollup_team_totals", "team_id, kind, source, status, shard"},
	{"rollup_creator_attributes", "creator_id, attribute, value, team_id, visibility, kind, source, status, shard"},
	{"rollup_team_attributes", "team_id, attribute, value, kind, source, status, shard"},
	{"rollup_creator_attribute_days", "creator_id, attribute, value, day, team_id, visibility, kind, source, status, shard"},
	{"rollup_team_attribute_days", "team_id, attribute, value, day, kind, source, status, shard"},
}

// VerifyRollups compares the rollups with what the items sum to (the views
// rollup_*_expected) and describes each row that differs: held but not
// due, or due but not held as it is. Rows that sum to nothing are ignored.
func (s *Store) VerifyRollups(ctx context.Context) ([]string, error) {
	var differences []string
	for _, t := range rollupTables {
		held := "SELECT " + t.key + ", items, whole, micro FROM " + t.name + " WHERE items <> 0 OR whole <> 0 OR micro <> 0"
		due := "SELECT " + t.key + ", items, whole, micro FROM " + t.name + "_expected"
		for _, c := range []struct{ what, query string }{
			{"holds", held + " EXCEPT " + due},
			{"lacks", due + " EXCEPT " + held},
		} {
			rows, err := s.db.QueryContext(ctx, c.query)
			if err != nil {
				return nil, fmt.Errorf("app: verify %s: %w", t.name, err)
			}
			cols, err := rows.Columns()
			if err != nil {
				rows.Close()
				return nil, err
			}
			values := make([]any, len(cols))
			for i := range values {
				values[i] = new(any)
			}
			for rows.Next() {
				if err := rows.Scan(values...); err != nil {
					rows.Close()
					return nil, err
				}
				line := t.name + " " + c.what
				for i, col := range cols {
					line += fmt.Sprintf(" %s=%v", col, *values[i].(*any))
				}
				differences = append(differences, line)
			}
			err = rows.Close()
			if err == nil {
				err = rows.Err()
			}
			if err != nil {
				return nil, fmt.Errorf("app: verify %s: %w", t.name, err)
			}
		}
	}
	return differences, nil
}

// RebuildRollups sets the rollups to what the items sum to. On PostgreSQL
// writes to items wait meanwhile, so that none is counted twice or lost.
func (s *Store) RebuildRollups(ctx context.Context) error {
	return s.inTx(ctx, func(tx bun.Tx) error {
		if s.dialect == "postgres" {
			if _, err := tx.ExecContext(ctx, "LOCK TABLE items IN SHARE MODE"); err != nil {
				return fmt.Errorf("app: rebuild rollups: %w", err)
			}
		}
		for _, t := range rollupTables {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t.name); err != nil {
				return fmt.Errorf("app: rebuild %s: %w", t.name, err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+t.name+" SELECT * FROM "+t.name+"_expected"); err != nil {
				return fmt.Errorf("app: rebuild %s: %w", t.name, err)
			}
		}
		return nil
	})
}
