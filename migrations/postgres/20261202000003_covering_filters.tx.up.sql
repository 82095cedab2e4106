-- The arms' indexes also carry the columns of the second release's filters
-- (who started it, agent, models, repository, branch), so that the summary
-- of a view filtered by them stays an index-only scan instead of reading
-- every matching row.
DROP INDEX items_creator_created;
--bun:split
CREATE INDEX items_creator_created ON items (creator_id, created_at DESC, id DESC)
    INCLUDE (status, source, kind, agent_name, models, repo, branch, inference_credits, compute_credits);
--bun:split
DROP INDEX items_team_created;
--bun:split
CREATE INDEX items_team_created ON items (team_id, created_at DESC, id DESC)
    INCLUDE (status, source, kind, agent_name, models, repo, branch, creator_id, inference_credits, compute_credits)
    WHERE visibility = 'team';
--bun:split
DROP INDEX items_team_creator_created;
--bun:split
CREATE INDEX items_team_creator_created ON items (team_id, creator_id, created_at DESC, id DESC)
    INCLUDE (status, source, kind, agent_name, models, repo, branch, inference_credits, compute_credits)
    WHERE visibility = 'team';
--bun:split
-- A model filter matches a member of the comma-separated list; statistics
-- on that very expression let the planner see how many rows a model has.
CREATE STATISTICS items_model_members ON ((',' || models || ',')) FROM items;
--bun:split
ANALYZE items;
