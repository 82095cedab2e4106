-- Rollups of the items, so that a view's summary (how many, how many
-- working, their credits) is read from a bounded number of rows instead of
-- every matching item. Items are summed by UTC day, kind, source and status:
-- rollup_creators per creator, team (0 for none) and visibility, the own arm
-- of a view; rollup_teams per team over its team-visible items, a team's arm
-- (less the viewer's own, from rollup_creators). Credits are summed as the
-- summary sums them, whole credits and millionths apart, so that a sum of
-- rollups is the summary exactly.
--
-- Every row is split in four shards by the item id's last character, so that
-- concurrent writers of items alike (one bot's runs, say) update different
-- rows rather than queue on one. The database keeps the rollups itself, in
-- the transaction of every write to items, whichever path the write takes.
CREATE TABLE rollup_creators (
    creator_id  BIGINT NOT NULL,
    team_id     BIGINT NOT NULL,
    visibility  TEXT NOT NULL,
    day         BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    shard       SMALLINT NOT NULL,
    items       BIGINT NOT NULL,
    whole       BIGINT NOT NULL,
    micro       BIGINT NOT NULL,
    -- The sums ride along in the key's index: a summary reads the index only.
    PRIMARY KEY (creator_id, team_id, visibility, day, kind, source, status, shard) INCLUDE (items, whole, micro)
);
--bun:split
CREATE TABLE rollup_teams (
    team_id  BIGINT NOT NULL,
    day      BIGINT NOT NULL,
    kind     TEXT NOT NULL,
    source   TEXT NOT NULL,
    status   TEXT NOT NULL,
    shard    SMALLINT NOT NULL,
    items    BIGINT NOT NULL,
    whole    BIGINT NOT NULL,
    micro    BIGINT NOT NULL,
    PRIMARY KEY (team_id, day, kind, source, status, shard) INCLUDE (items, whole, micro)
);
--bun:split
-- items_rollups adds a statement's changes to both rollups: the items it
-- inserted, less those it deleted, and for an update the new rows less the
-- old. Groups whose sums do not change are left alone, so that an update of
-- other columns (updated_at, say) writes nothing here. Rows are upserted in
-- key order, so that two statements take their locks in the same order.
CREATE FUNCTION items_rollups() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
                   sign * (inference_credits %% 1000000 + compute_credits %% 1000000) AS micro
            FROM (%s) AS x
        ), by_creator AS (
            INSERT INTO rollup_creators AS r (creator_id, team_id, visibility, day, kind, source, status, shard, items, whole, micro)
            SELECT creator_id, team_id, visibility, day, kind, source, status, shard, SUM(sign), SUM(whole), SUM(micro)
            FROM c GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
            HAVING SUM(sign) <> 0 OR SUM(whole) <> 0 OR SUM(micro) <> 0
            ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
            ON CONFLICT (creator_id, team_id, visibility, day, kind, source, status, shard) DO UPDATE
                SET items = r.items + EXCLUDED.items, whole = r.whole + EXCLUDED.whole, micro = r.micro + EXCLUDED.micro
        )
        INSERT INTO rollup_teams AS r (team_id, day, kind, source, status, shard, items, whole, micro)
        SELECT team_id, day, kind, source, status, shard, SUM(sign), SUM(whole), SUM(micro)
        FROM c WHERE team_id <> 0 AND visibility = 'team'
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING SUM(sign) <> 0 OR SUM(whole) <> 0 OR SUM(micro) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (team_id, day, kind, source, status, shard) DO UPDATE
            SET items = r.items + EXCLUDED.items, whole = r.whole + EXCLUDED.whole, micro = r.micro + EXCLUDED.micro
    $q$, changes);
    RETURN NULL;
END
$fn$;
--bun:split
CREATE TRIGGER items_rollups_insert AFTER INSERT ON items REFERENCING NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION items_rollups();
--bun:split
CREATE TRIGGER items_rollups_update AFTER UPDATE ON items REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION items_rollups();
--bun:split
CREATE TRIGGER items_rollups_delete AFTER DELETE ON items REFERENCING OLD TABLE AS old_items
    FOR EACH STATEMENT EXECUTE FUNCTION items_rollups();
--bun:split
-- What the rollups must hold, counted from the items themselves: the
-- operator's `agentdeck rollups verify` compares them, `rebuild` copies them.
CREATE VIEW rollup_creators_expected AS
SELECT creator_id, COALESCE(team_id, 0) AS team_id, visibility, floor(extract(epoch FROM created_at) / 86400)::bigint AS day,
       kind, source, status, (ascii(right(id, 1)) % 4)::smallint AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000)::bigint AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000)::bigint AS micro
FROM items GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
--bun:split
CREATE VIEW rollup_teams_expected AS
SELECT team_id, floor(extract(epoch FROM created_at) / 86400)::bigint AS day,
       kind, source, status, (ascii(right(id, 1)) % 4)::smallint AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000)::bigint AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000)::bigint AS micro
FROM items WHERE team_id IS NOT NULL AND visibility = 'team' GROUP BY 1, 2, 3, 4, 5, 6;
--bun:split
INSERT INTO rollup_creators SELECT * FROM rollup_creators_expected;
--bun:split
INSERT INTO rollup_teams SELECT * FROM rollup_teams_expected;
