-- Rollups by day of what the agents report, for a view filtered by one of
-- them with a day: the attributes' totals again, by UTC day, the day right
-- after the value in the key, so that a filter reads its values' days only.
-- Branches are left out: most name one piece of work, so their rows by day
-- would be nearly as many as the items; a branch with a day is counted from
-- the items.
--
-- And the agent with the repository as one more attribute, "agent+repo",
-- whose value is the agent's length in characters, a colon, the agent and
-- the repository ("5:codexacme/web", which no two pairs share): which agent
-- spent what in which repository is asked together, with or without a day.
CREATE TABLE rollup_creator_attribute_days (
    creator_id  BIGINT NOT NULL,
    attribute   TEXT NOT NULL,
    value       TEXT NOT NULL,
    day         BIGINT NOT NULL,
    team_id     BIGINT NOT NULL,
    visibility  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    shard       SMALLINT NOT NULL,
    items       BIGINT NOT NULL,
    whole       BIGINT NOT NULL,
    micro       BIGINT NOT NULL,
    PRIMARY KEY (creator_id, attribute, value, day, team_id, visibility, kind, source, status, shard) INCLUDE (items, whole, micro)
);
--bun:split
CREATE TABLE rollup_team_attribute_days (
    team_id    BIGINT NOT NULL,
    attribute  TEXT NOT NULL,
    value      TEXT NOT NULL,
    day        BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    source     TEXT NOT NULL,
    status     TEXT NOT NULL,
    shard      SMALLINT NOT NULL,
    items      BIGINT NOT NULL,
    whole      BIGINT NOT NULL,
    micro      BIGINT NOT NULL,
    PRIMARY KEY (team_id, attribute, value, day, kind, source, status, shard) INCLUDE (items, whole, micro)
);
--bun:split
CREATE OR REPLACE FUNCTION item_attributes(agent_name TEXT, repo TEXT, branch TEXT, models TEXT)
RETURNS TABLE (attribute TEXT, value TEXT) LANGUAGE sql IMMUTABLE AS $fn$
    SELECT a, v FROM (VALUES ('agent', agent_name), ('repo', repo), ('branch', branch),
        ('agent+repo', CASE WHEN agent_name <> '' AND repo <> '' THEN length(agent_name) || ':' || agent_name || repo ELSE '' END)) AS x (a, v)
    WHERE v <> ''
    UNION
    SELECT 'model', m FROM unnest(string_to_array(models, ',')) AS m WHERE m <> ''
$fn$;
--bun:split
-- items_rollups as before, and the attributes' rollups by day.
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
        ), d AS (
            SELECT * FROM a WHERE attribute <> 'branch'
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
        ), by_team_attribute AS (
            INSERT INTO rollup_team_attributes AS r (team_id, attribute, value, kind, source, status, shard, items, whole, micro)
            SELECT team_id, attribute, value, kind, source, status, shard, SUM(sign), SUM(whole), SUM(micro)
            FROM a WHERE team_id <> 0 AND visibility = 'team'
            GROUP BY 1, 2, 3, 4, 5, 6, 7
            HAVING SUM(sign) <> 0 OR SUM(whole) <> 0 OR SUM(micro) <> 0
            ORDER BY 1, 2, 3, 4, 5, 6, 7
            ON CONFLICT (team_id, attribute, value, kind, source, status, shard) DO UPDATE
                SET items = r.items + EXCLUDED.items, whole = r.whole + EXCLUDED.whole, micro = r.micro + EXCLUDED.micro
        ), by_creator_attribute_day AS (
            INSERT INTO rollup_creator_attribute_days AS r (creator_id, attribute, value, day, team_id, visibility, kind, source, status, shard, items, whole, micro)
            SELECT creator_id, attribute, value, day, team_id, visibility, kind, source, status, shard, SUM(sign), SUM(whole), SUM(micro)
            FROM d GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
            HAVING SUM(sign) <> 0 OR SUM(whole) <> 0 OR SUM(micro) <> 0
            ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
            ON CONFLICT (creator_id, attribute, value, day, team_id, visibility, kind, source, status, shard) DO UPDATE
                SET items = r.items + EXCLUDED.items, whole = r.whole + EXCLUDED.whole, micro = r.micro + EXCLUDED.micro
        )
        INSERT INTO rollup_team_attribute_days AS r (team_id, attribute, value, day, kind, source, status, shard, items, whole, micro)
        SELECT team_id, attribute, value, day, kind, source, status, shard, SUM(sign), SUM(whole), SUM(micro)
        FROM d WHERE team_id <> 0 AND visibility = 'team'
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        HAVING SUM(sign) <> 0 OR SUM(whole) <> 0 OR SUM(micro) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
        ON CONFLICT (team_id, attribute, value, day, kind, source, status, shard) DO UPDATE
            SET items = r.items + EXCLUDED.items, whole = r.whole + EXCLUDED.whole, micro = r.micro + EXCLUDED.micro
    $q$, changes);
    RETURN NULL;
END
$fn$;
--bun:split
CREATE VIEW rollup_creator_attribute_days_expected AS
SELECT creator_id, ia.attribute, ia.value, floor(extract(epoch FROM created_at) / 86400)::bigint AS day,
       COALESCE(team_id, 0) AS team_id, visibility,
       kind, source, status, (ascii(right(id, 1)) % 4)::smallint AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000)::bigint AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000)::bigint AS micro
FROM items, item_attributes(agent_name, repo, branch, models) AS ia
WHERE ia.attribute <> 'branch' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;
--bun:split
CREATE VIEW rollup_team_attribute_days_expected AS
SELECT team_id, ia.attribute, ia.value, floor(extract(epoch FROM created_at) / 86400)::bigint AS day,
       kind, source, status, (ascii(right(id, 1)) % 4)::smallint AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000)::bigint AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000)::bigint AS micro
FROM items, item_attributes(agent_name, repo, branch, models) AS ia
WHERE ia.attribute <> 'branch' AND team_id IS NOT NULL AND visibility = 'team' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
--bun:split
-- The pairs added to the attributes' totals, and the rollups by day filled,
-- from the items.
INSERT INTO rollup_creator_attributes
SELECT * FROM rollup_creator_attributes_expected WHERE attribute = 'agent+repo';
--bun:split
INSERT INTO rollup_team_attributes
SELECT * FROM rollup_team_attributes_expected WHERE attribute = 'agent+repo';
--bun:split
INSERT INTO rollup_creator_attribute_days SELECT * FROM rollup_creator_attribute_days_expected;
--bun:split
INSERT INTO rollup_team_attribute_days SELECT * FROM rollup_team_attribute_days_expected;
