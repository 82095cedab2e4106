package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun"
)

// EachPage reads every item of a query, newest first, size items at a time,
// handing each page to fn in order. It pages as the view does, by the keyset
// of the last row, so it yields what paging through the view would, row for
// row. The next page is read while fn handles the one before, so that the
// database and the caller work at once; memory holds three pages at most.
func (s *Store) EachPage(ctx context.Context, q Query, size int, fn func([]*Item) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		items []*Item
		err   error
	}
	pages := make(chan result, 1)
	people := relationCache{s: s}
	go func() {
		defer close(pages)
		for {
			// The few creators and teams of a long export are read once
			// each, rather than joined to every row.
			page, err := s.items(ctx, q, size, false)
			if err == nil {
				err = people.fill(ctx, page.Items)
			}
			select {
			case pages <- result{page.Items, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || page.Next == nil {
				return
			}
			q.After = page.Next
		}
	}()
	for p := range pages {
		if p.err != nil {
			return p.err
		}
		if len(p.items) > 0 {
			if err := fn(p.items); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// relationCache holds the creators and teams an export has met.
type relationCache struct {
	s     *Store
	users map[int64]*User
	teams map[int64]*Team
}

// fill sets each item's creator and team, reading those not met before.
func (c *relationCache) fill(ctx context.Context, items []*Item) error {
	if c.users == nil {
		c.users, c.teams = map[int64]*User{}, map[int64]*Team{}
	}
	var userIDs, teamIDs []int64
	for _, it := range items {
		if _, ok := c.users[it.CreatorID]; !ok && !slices.Contains(userIDs, it.CreatorID) {
			userIDs = append(userIDs, it.CreatorID)
		}
		if _, ok := c.teams[it.TeamID]; it.TeamID != 0 && !ok && !slices.Contains(teamIDs, it.TeamID) {
			teamIDs = append(teamIDs, it.TeamID)
		}
	}
	if len(userIDs) > 0 {
		var users []*User
		if err := c.s.db.NewSelect().Model(&users).Where("id IN (?)", bun.In(userIDs)).Scan(ctx); err != nil {
			return fmt.Errorf("app: creators of an export: %w", err)
		}
		for _, u := range users {
			c.users[u.ID] = u
		}
	}
	if len(teamIDs) > 0 {
		var teams []*Team
		if err := c.s.db.NewSelect().Model(&teams).Where("id IN (?)", bun.In(teamIDs)).Scan(ctx); err != nil {
			return fmt.Errorf("app: teams of an export: %w", err)
		}
		for _, t := range teams {
			c.teams[t.ID] = t
		}
	}
	for _, it := range items {
		it.Creator = c.users[it.CreatorID]
		if it.TeamID != 0 {
			it.Team = c.teams[it.TeamID]
		}
	}
	return nil
}
