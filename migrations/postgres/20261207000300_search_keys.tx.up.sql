-- A search's index also holds, beside an item's words, keys for its creator,
-- team, visibility, status, kind and source, so that it intersects a
-- search's words with one arm of a view (and its status, kind and source
-- filters) itself: the words alone hand over every match among all items,
-- whoever may see them. A key holds a space, which no parsed word does, so
-- no word of an item is ever read as one.
CREATE FUNCTION item_search_keys(search tsvector, creator_id bigint, team_id bigint, visibility text, status text, kind text, source text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT search || array_to_tsvector(array_remove(ARRAY[
        'creator ' || creator_id::text, 'team ' || team_id::text, 'visibility ' || visibility,
        'status ' || status, 'kind ' || kind, 'source ' || source], NULL))
$$;
--bun:split
CREATE INDEX items_search_keys ON items
    USING GIN (item_search_keys(search, creator_id, team_id, visibility, status, kind, source));
--bun:split
DROP INDEX items_search;
