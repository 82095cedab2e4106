-- The search index's keys, made cheaper to intersect, and kept out of the
-- planner's statistics.
--
-- A team arm asked for 'team 7' & 'visibility team': the second key is on
-- nine items in ten, and the index, intersecting it with the words, read a
-- page of its huge list of items for nearly every match of the words (103 ms
-- for one arm at ten million items). One key, 'shared 7', on the items a team
-- shares, says both (33 ms).
--
-- Statistics on the keyed expression, once ANALYZE gathered them, led the
-- planner to run a count's arms in parallel for words it expected often,
-- each arm reading its whole list, where one after the other the first arm's
-- matches end the count (150–200 ms against 12 ms at ten million items). A
-- search picks how to read each arm itself, from a look at its newest items;
-- the planner needs no estimate of the keys for that. Dropping the index
-- drops its statistics, and none are gathered again.
--
-- The function has a new name: a server still running the old code fails
-- its keyed searches, rather than finding nothing under keys no longer kept.
DROP INDEX items_search_keys;
--bun:split
DROP FUNCTION item_search_keys(tsvector, bigint, bigint, text, text, text, text);
--bun:split
CREATE FUNCTION item_search_arm_keys(search tsvector, creator_id bigint, team_id bigint, visibility text, status text, kind text, source text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT search || array_to_tsvector(array_remove(ARRAY[
        'creator ' || creator_id::text,
        CASE WHEN visibility = 'team' THEN 'shared ' || team_id::text END,
        'status ' || status, 'kind ' || kind, 'source ' || source], NULL))
$$;
--bun:split
CREATE INDEX items_search_arm_keys ON items
    USING GIN (item_search_arm_keys(search, creator_id, team_id, visibility, status, kind, source));
--bun:split
ALTER INDEX items_search_arm_keys ALTER COLUMN 1 SET STATISTICS 0;
