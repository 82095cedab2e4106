package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"
)

// Facets are the values the view's open-ended menus offer: the agents,
// models, repositories and branches of the viewer's recent items in a tab,
// and the viewer's teams.
type Facets struct {
	Agents, Models, Repos, Branches []string
	Teams                           []*Team
}

// facetWindow is how many of each arm's newest items the menus draw their
// values from: enough to offer what people work with now, few enough that
// building the menus is an index scan of a fixed size.
const facetWindow = 500

// maxFacetValues bounds each menu's values.
const maxFacetValues = 50

// Facets gathers the menus' values for the viewer's tab, ignoring the other
// filters so that a menu still offers what its choice left out; they are
// kept in memory until an item, a name or the viewer's teams change.
func (s *Store) Facets(ctx context.Context, v Viewer, tab Tab) (Facets, error) {
	key := viewerTab{v.User.ID, tab}
	if facets, ok := forViewer(s.cache, s.cache.facets, key, v, cloneFacets); ok {
		return facets, nil
	}
	gen, caching := s.cache.begin()
	facets, err := s.readFacets(ctx, v, tab)
	if err == nil && caching {
		keepForViewer(s.cache, gen, s.cache.facets, key, v, facets, cloneFacets)
	}
	return facets, err
}

// readFacets is Facets read from the database.
func (s *Store) readFacets(ctx context.Context, v Viewer, tab Tab) (Facets, error) {
	var facets Facets
	ms, err := s.TeamsOf(ctx, v)
	if err != nil {
		return facets, err
	}
	for _, m := range ms {
		facets.Teams = append(facets.Teams, m.Team)
	}
	arms := visibleArms(Query{Viewer: v, Tab: tab})
	if len(arms) == 0 {
		return facets, nil
	}
	parts := make([]*bun.SelectQuery, len(arms))
	for i, a := range arms {
		parts[i] = s.armQuery(Query{Viewer: v, Tab: tab}, a, "agent_name", "models", "repo", "branch", "created_at").
			OrderExpr("created_at DESC").Limit(facetWindow)
	}
	var rows []struct {
		Agent  string `bun:"agent_name"`
		Models string `bun:"models"`
		Repo   string `bun:"repo"`
		Branch string `bun:"branch"`
	}
	err = s.db.NewSelect().TableExpr("(?) AS recent", s.unionOfArms(parts)).
		Column("agent_name", "models", "repo", "branch").
		Scan(ctx, &rows)
	if err != nil {
		return facets, fmt.Errorf("app: facets of user %d: %w", v.User.ID, err)
	}
	var agents, models, repos, branches tally
	for _, r := range rows {
		agents.add(r.Agent)
		for _, m := range strings.Split(r.Models, ",") {
			models.add(m)
		}
		repos.add(r.Repo)
		branches.add(r.Branch)
	}
	facets.Agents, facets.Models = agents.top(), models.top()
	facets.Repos, facets.Branches = repos.top(), branches.top()
	return facets, nil
}

// tally counts how often each value occurs.
type tally map[string]int

func (t *tally) add(v string) {
	if v == "" {
		return
	}
	if *t == nil {
		*t = tally{}
	}
	(*t)[v]++
}

// top is the most frequent values, at most maxFacetValues, in the order of
// their names so that a menu reads like a list.
func (t tally) top() []string {
	values := make([]string, 0, len(t))
	for v := range t {
		values = append(values, v)
	}
	slices.SortFunc(values, func(a, b string) int {
		if t[a] != t[b] {
			return t[b] - t[a]
		}
		return strings.Compare(a, b)
	})
	if len(values) > maxFacetValues {
		values = values[:maxFacetValues]
	}
	slices.Sort(values)
	return values
}
