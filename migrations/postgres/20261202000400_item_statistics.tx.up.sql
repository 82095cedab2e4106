-- Who created an item all but decides its team: each person is in one or
-- two teams. Without statistics over both columns PostgreSQL multiplies
-- their selectivities as if they were independent and expects, for one
-- person in one team, a few rows where there are hundreds; it then sorts
-- all of them rather than reading the newest in order from
-- items_team_creator_created.
CREATE STATISTICS IF NOT EXISTS items_team_creator (dependencies, ndistinct, mcv) ON team_id, creator_id FROM items;
--bun:split
ANALYZE items;
