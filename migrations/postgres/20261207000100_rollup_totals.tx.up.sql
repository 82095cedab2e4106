-- Totals over every day beside the rollups by day, for the views without a
-- day filter (most of them): a person's rollup by day holds a row for each
-- day, kind, source, status, shard, team and visibility with items, tens of
-- thousands once the items are many, where their totals hold a few hundred.
-- A summary without a day reads the totals; one with a day reads the days of
-- its span, which come first after the creator in the key for that reason.
--
-- Totals by what the agents report, for the views filtered by one of them:
-- the items' count and credits by agent, model, repository or branch, by
-- creator, team and visibility (rollup_creator_attributes) and by team over
-- its team-visible items (rollup_team_attributes), kind, source, status and
-- shard as in the other rollups. An item counts once under each of its
-- non-empty values: its agent, repository, branch and each of its models.
-- The value comes right after the creator or team in the key, so that a
-- filter reads the rows of its values only, however many others there are.
ALTER TABLE rollup_creators DROP CONSTRAINT rollup_creators_pkey;
--bun:split
ALTER TABLE rollup_creators ADD PRIMARY KEY (creator_id, day, team_id, visibility, kind, source, status, shard) INCLUDE (items, whole, micro);
--bun:split
CREATE TABLE rollup_creator_totals (
    creator_id  BIGINT NOT NULL,
    team_id     BIGINT NOT NULL,
    visibility  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    shard       SMALLINT NOT NULL,
    items       BIGINT NOT NULL,
    whole       BIGINT NOT NULL,
    micro       BIGINT NOT NULL,
    PRIMARY KEY (creator_id, team_id, visibility, kind, source, status, shard) INCLUDE (items, whole, micro)
);
--bun:split
CREATE TABLE rollup_team_totals (
    team_id  BIGINT NOT NULL,
    kind     TEXT NOT NULL,
    source   TEXT NOT NULL,
    status   TEXT NOT NULL,
    shard    SMALLINT NOT NULL,
    items    BIGINT NOT NULL,
    whole    BIGINT NOT NULL,
    micro    BIGINT NOT NULL,
    PRIMARY KEY (team_id, kind, source, status, shard) INCLUDE (items, whole, micro)
);
--bun:split
CREATE TABLE rollup_creator_attributes (
    creator_id  BIGINT NOT NULL,
    attribute   TEXT NOT NULL,
    value       TEXT NOT NULL,
    team_id     BIGINT NOT NULL,
    visibility  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    shard       SMALLINT NOT NULL,
    items       BIGINT NOT NULL,
    whole       BIGINT NOT NULL,
    micro       BIGINT NOT NULL,
    PRIMARY KEY (creator_id, attribute, value, team_id, visibility, kind, source, status, shard) INCLUDE (items, whole, micro)
);
--bun:split
CREATE TABLE rollup_team_attributes (
    team_id    BIGINT NOT NULL,
    attribute  TEXT NOT NULL,
    value      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    source     TEXT NOT NULL,
    status     TEXT NOT NULL,
    shard      SMALLINT NOT NULL,
    items      BIGINT NOT NULL,
    whole      BIGINT NOT NULL,
    micro      BIGINT NOT NULL,
    PRIMARY KEY (team_id, attribute, value, kind, source, status, shard) INCLUDE (items, whole, micro)
);
--bun:split
-- An item's attributes, one row for each non-empty value.
CREATE FUNCTION item_attributes(agent_name TEXT, repo TEXT, branch TEXT, models TEXT)
RETURNS TABLE (attribute TEXT, value TEXT) LANGUAGE sql IMMUTABLE AS $fn$
    SELECT a, v FROM (VALUES ('agent', agent_name), ('repo', repo), ('branch', branch)) AS x (a, v) WHERE v <> ''
    UNION
    SELECT 'model', m FROM unnest(string_to_array(models, ',')) AS m WHERE m <> ''
$fn$;
--bun:split
-- items_rollups as before, and the totals and the attributes' totals alike.
-- Every table's rows are upserted in key order, the tables always in the
-- same order, so that two statements take their locks in the same order.
CREATE OR REPLACE FUNCTION items_rollups() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    changes TEXT := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT n.*, 1 AS sign FROM new_items AS n'
        WHEN 'DELETE' THEN 'SELECT o.*, -1 AS sign FROM old_items AS o'
        ELSE 'SELECT o.*, -1 AS sign FROM old_items AS o UNION ALL SELECT n.*, 1 AS sign FROM new_items AS n' END;
BEGIN
    EXECUTE format($q$
        WITH c AS (
            SELECT creator_id, COALESCE(team_id, 0) AS team_id, visibility,
                   floor(extract(epoch FROM created_at) / 86400)::bigint AS day, kind, source, status,
                   ascii(right(id, 1)) %% 4 AS shard, sign,
                   sign * (inference_credits / 1000000 + compute_credits / 1000000) AS whole,
                   sign * (inference_credits %% 1000000 + compute_credits %% 1000000) AS micro,
                   agent_name, repo, branch, models
            FROM (%s) AS x
        ), a AS (
            SELECT c.*, ia.attribute, ia.value FROM c, item_attributes(c.agent_name, c.repo, c.branch, c.models) AS ia
        ), by_creator AS (
            INSERT INTO rollup_creators AS r (creator_id, day, team_id, visibility, kind, source, status, shard, items, whole, micro)
            SELECT creator_id, day, team_id, visibility, kind, source, status, shard, SUM(sign), SUM(whole), SUM(micro)
            FROM c GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
            HAVING SUM(sign) <> 0 OR SUM(whole) <> 0 OR SUM(micro) <> 0
            ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
            ON CONFLICT (creator_id, day, team_id, visibility, kind, source, status, shard) DO UPDATE
                SET items = r.items + EXCLUDED.items, whole = r.whole + EXCLUDED.whole, micro = r.micro + EXCLUDED.micro
        ), by_team AS (
            INSERT INTO rollup_teams AS r (team_id, day, kind, source, status, shard, items, whole, micro)
            SELECT team_id, day, kind, source, status, shard, SUM(sign), SUM(whole), SUM(micro)
            FROM c WHERE team_id <> 0 AND visibility = 'team'
            GROUP BY 1, 2, 3, 4, 5, 6
            HAVING SUM(sign) <> 0 OR SUM(whole) <> 0 OR SUM(micro) <> 0
            ORDER BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (team_id, day, kind, source, status, shard) DO UPDATE
                SET items = r.items + EXCLUDED.items, whole = r.whole + EXCLUDED.whole, micro = r.micro + EXCLUDED.micro
        ), by_creator_total AS (
            INSERT INTO rollup_creator_totals AS r (creator_id, team_id, visibility, kind, source, status, shard, items, whole, micro)
            SELECT creator_id, team_id, visibility, kind, source, status, shard, SUM(sign), SUM(whole), SUM(micro)
            FROM c GROUP BY 1, 2, 3, 4, 5, 6, 7
            HAVING SUM(sign) <> 0 OR SUM(whole) <> 0 OR SUM(micro) <> 0
            ORDER BY 1, 2, 3, 4, 5, 6, 7
            ON CONFLICT (creator_id, team_id, visibility, kind, source, status, shard) DO UPDATE
                SET items = r.items + EXCLUDED.items, whole = r.whole + EXCLUDED.whole, micro = r.micro + EXCLUDED.micro
        ), by_team_total AS (
            INSERT INTO rollup_team_totals AS r (team_id, kind, source, status, shard, items, whole, micro)
            SELECT team_id, kind, source, status, shard, SUM(sign), SUM(whole), SUM(micro)
            FROM c WHERE team_id <> 0 AND visibility = 'team'
            GROUP BY 1, 2, 3, 4, 5
            HAVING SUM(sign) <> 0 OR SUM(whole) <> 0 OR SUM(micro) <> 0
            ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (team_id, kind, source, status, shard) DO UPDATE
                SET items = r.items + EXCLUDED.items, whole = r.whole + EXCLUDED.whole, micro = r.micro + EXCLUDED.micro
        ), by_creator_attribute AS (
            INSERT INTO rollup_creator_attributes AS r (creator_id, attribute, value, team_id, visibility, kind, source, status, shard, items, whole, micro)
            SELECT creator_id, attribute, value, team_id, visibility, kind, source, status, shard, SUM(sign), SUM(whole), SUM(micro)
            FROM a GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
            HAVING SUM(sign) <> 0 OR SUM(whole) <> 0 OR SUM(micro) <> 0
            ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9
            ON CONFLICT (creator_id, attribute, value, team_id, visibility, kind, source, status, shard) DO UPDATE
                SET items = r.items + EXCLUDED.items, whole = r.whole + EXCLUDED.whole, micro = r.micro + EXCLUDED.micro
        )
        INSERT INTO rollup_team_attributes AS r (team_id, attribute, value, kind, source, status, shard, items, whole, micro)
        SELECT team_id, attribute, value, kind, source, status, shard, SUM(sign), SUM(whole), SUM(micro)
        FROM a WHERE team_id <> 0 AND visibility = 'team'
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        HAVING SUM(sign) <> 0 OR SUM(whole) <> 0 OR SUM(micro) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT (team_id, attribute, value, kind, source, status, shard) DO UPDATE
            SET items = r.items + EXCLUDED.items, whole = r.whole + EXCLUDED.whole, micro = r.micro + EXCLUDED.micro
    $q$, changes);
    RETURN NULL;
END
$fn$;
--bun:split
CREATE VIEW rollup_creator_totals_expected AS
SELECT creator_id, COALESCE(team_id, 0) AS team_id, visibility,
       kind, source, status, (ascii(right(id, 1)) % 4)::smallint AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000)::bigint AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000)::bigint AS micro
FROM items GROUP BY 1, 2, 3, 4, 5, 6, 7;
--bun:split
CREATE VIEW rollup_team_totals_expected AS
SELECT team_id, kind, source, status, (ascii(right(id, 1)) % 4)::smallint AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000)::bigint AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000)::bigint AS micro
FROM items WHERE team_id IS NOT NULL AND visibility = 'team' GROUP BY 1, 2, 3, 4, 5;
--bun:split
CREATE VIEW rollup_creator_attributes_expected AS
SELECT creator_id, ia.attribute, ia.value, COALESCE(team_id, 0) AS team_id, visibility,
       kind, source, status, (ascii(right(id, 1)) % 4)::smallint AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000)::bigint AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000)::bigint AS micro
FROM items, item_attributes(agent_name, repo, branch, models) AS ia GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
--bun:split
CREATE VIEW rollup_team_attributes_expected AS
SELECT team_id, ia.attribute, ia.value, kind, source, status, (ascii(right(id, 1)) % 4)::smallint AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000)::bigint AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000)::bigint AS micro
FROM items, item_attributes(agent_name, repo, branch, models) AS ia
WHERE team_id IS NOT NULL AND visibility = 'team' GROUP BY 1, 2, 3, 4, 5, 6, 7;
--bun:split
-- Summed from the rollups by day, which hold the items already counted.
INSERT INTO rollup_creator_totals
SELECT creator_id, team_id, visibility, kind, source, status, shard, SUM(items), SUM(whole), SUM(micro)
FROM rollup_creators GROUP BY 1, 2, 3, 4, 5, 6, 7;
--bun:split
INSERT INTO rollup_team_totals
SELECT team_id, kind, source, status, shard, SUM(items), SUM(whole), SUM(micro)
FROM rollup_teams GROUP BY 1, 2, 3, 4, 5;
--bun:split
INSERT INTO rollup_creator_attributes SELECT * FROM rollup_creator_attributes_expected;
--bun:split
INSERT INTO rollup_team_attributes SELECT * FROM rollup_team_attributes_expected;
