-- Totals over every day beside the rollups by day, for the views without a
-- day filter, the day moved up in the key of a person's rollup by day, and
-- totals by what the agents report: see the PostgreSQL migration of the same
-- name. SQLite cannot change a table's key, so the rollup by day is copied
-- into a table with the new one; the triggers, which name it, are made anew
-- to keep every rollup. An item's models, a comma-separated list, are split
-- as a JSON array (a trigger cannot hold a recursive query).
DROP TRIGGER items_rollups_insert;
--bun:split
DROP TRIGGER items_rollups_delete;
--bun:split
DROP TRIGGER items_rollups_update;
--bun:split
CREATE TABLE rollup_creators_by_day (
    creator_id  INTEGER NOT NULL,
    team_id     INTEGER NOT NULL,
    visibility  TEXT NOT NULL,
    day         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    shard       INTEGER NOT NULL,
    items       INTEGER NOT NULL,
    whole       INTEGER NOT NULL,
    micro       INTEGER NOT NULL,
    PRIMARY KEY (creator_id, day, team_id, visibility, kind, source, status, shard)
) WITHOUT ROWID;
--bun:split
INSERT INTO rollup_creators_by_day SELECT * FROM rollup_creators;
--bun:split
DROP TABLE rollup_creators;
--bun:split
ALTER TABLE rollup_creators_by_day RENAME TO rollup_creators;
--bun:split
CREATE TABLE rollup_creator_totals (
    creator_id  INTEGER NOT NULL,
    team_id     INTEGER NOT NULL,
    visibility  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    shard       INTEGER NOT NULL,
    items       INTEGER NOT NULL,
    whole       INTEGER NOT NULL,
    micro       INTEGER NOT NULL,
    PRIMARY KEY (creator_id, team_id, visibility, kind, source, status, shard)
) WITHOUT ROWID;
--bun:split
CREATE TABLE rollup_team_totals (
    team_id  INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    source   TEXT NOT NULL,
    status   TEXT NOT NULL,
    shard    INTEGER NOT NULL,
    items    INTEGER NOT NULL,
    whole    INTEGER NOT NULL,
    micro    INTEGER NOT NULL,
    PRIMARY KEY (team_id, kind, source, status, shard)
) WITHOUT ROWID;
--bun:split
CREATE TABLE rollup_creator_attributes (
    creator_id  INTEGER NOT NULL,
    attribute   TEXT NOT NULL,
    value       TEXT NOT NULL,
    team_id     INTEGER NOT NULL,
    visibility  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    shard       INTEGER NOT NULL,
    items       INTEGER NOT NULL,
    whole       INTEGER NOT NULL,
    micro       INTEGER NOT NULL,
    PRIMARY KEY (creator_id, attribute, value, team_id, visibility, kind, source, status, shard)
) WITHOUT ROWID;
--bun:split
CREATE TABLE rollup_team_attributes (
    team_id    INTEGER NOT NULL,
    attribute  TEXT NOT NULL,
    value      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    source     TEXT NOT NULL,
    status     TEXT NOT NULL,
    shard      INTEGER NOT NULL,
    items      INTEGER NOT NULL,
    whole      INTEGER NOT NULL,
    micro      INTEGER NOT NULL,
    PRIMARY KEY (team_id, attribute, value, kind, source, status, shard)
) WITHOUT ROWID;
--bun:split
CREATE TRIGGER items_rollups_insert AFTER INSERT ON items BEGIN
    INSERT INTO rollup_creators (creator_id, team_id, visibility, day, kind, source, status, shard, items, whole, micro)
        VALUES (NEW.creator_id, COALESCE(NEW.team_id, 0), NEW.visibility, CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000))
        ON CONFLICT (creator_id, day, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_teams (team_id, day, kind, source, status, shard, items, whole, micro)
        SELECT NEW.team_id, CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        WHERE NEW.team_id IS NOT NULL AND NEW.visibility = 'team'
        ON CONFLICT (team_id, day, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_totals (creator_id, team_id, visibility, kind, source, status, shard, items, whole, micro)
        VALUES (NEW.creator_id, COALESCE(NEW.team_id, 0), NEW.visibility, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000))
        ON CONFLICT (creator_id, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_totals (team_id, kind, source, status, shard, items, whole, micro)
        SELECT NEW.team_id, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        WHERE NEW.team_id IS NOT NULL AND NEW.visibility = 'team'
        ON CONFLICT (team_id, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_attributes (creator_id, attribute, value, team_id, visibility, kind, source, status, shard, items, whole, micro)
        SELECT NEW.creator_id, a.attribute, a.value, COALESCE(NEW.team_id, 0), NEW.visibility, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, NEW.agent_name AS value UNION SELECT 'repo', NEW.repo UNION SELECT 'branch', NEW.branch
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(NEW.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> ''
        ON CONFLICT (creator_id, attribute, value, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_attributes (team_id, attribute, value, kind, source, status, shard, items, whole, micro)
        SELECT NEW.team_id, a.attribute, a.value, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, NEW.agent_name AS value UNION SELECT 'repo', NEW.repo UNION SELECT 'branch', NEW.branch
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(NEW.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> '' AND NEW.team_id IS NOT NULL AND NEW.visibility = 'team'
        ON CONFLICT (team_id, attribute, value, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
END;
--bun:split
CREATE TRIGGER items_rollups_delete AFTER DELETE ON items BEGIN
    INSERT INTO rollup_creators (creator_id, team_id, visibility, day, kind, source, status, shard, items, whole, micro)
        VALUES (OLD.creator_id, COALESCE(OLD.team_id, 0), OLD.visibility, CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000))
        ON CONFLICT (creator_id, day, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_teams (team_id, day, kind, source, status, shard, items, whole, micro)
        SELECT OLD.team_id, CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        WHERE OLD.team_id IS NOT NULL AND OLD.visibility = 'team'
        ON CONFLICT (team_id, day, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_totals (creator_id, team_id, visibility, kind, source, status, shard, items, whole, micro)
        VALUES (OLD.creator_id, COALESCE(OLD.team_id, 0), OLD.visibility, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000))
        ON CONFLICT (creator_id, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_totals (team_id, kind, source, status, shard, items, whole, micro)
        SELECT OLD.team_id, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        WHERE OLD.team_id IS NOT NULL AND OLD.visibility = 'team'
        ON CONFLICT (team_id, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_attributes (creator_id, attribute, value, team_id, visibility, kind, source, status, shard, items, whole, micro)
        SELECT OLD.creator_id, a.attribute, a.value, COALESCE(OLD.team_id, 0), OLD.visibility, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, OLD.agent_name AS value UNION SELECT 'repo', OLD.repo UNION SELECT 'branch', OLD.branch
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(OLD.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> ''
        ON CONFLICT (creator_id, attribute, value, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_attributes (team_id, attribute, value, kind, source, status, shard, items, whole, micro)
        SELECT OLD.team_id, a.attribute, a.value, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, OLD.agent_name AS value UNION SELECT 'repo', OLD.repo UNION SELECT 'branch', OLD.branch
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(OLD.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> '' AND OLD.team_id IS NOT NULL AND OLD.visibility = 'team'
        ON CONFLICT (team_id, attribute, value, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
END;
--bun:split
CREATE TRIGGER items_rollups_update AFTER UPDATE OF creator_id, team_id, visibility, created_at, kind, source, status, inference_credits, compute_credits, agent_name, repo, branch, models ON items
    WHEN NEW.creator_id IS NOT OLD.creator_id OR NEW.team_id IS NOT OLD.team_id OR NEW.visibility IS NOT OLD.visibility OR NEW.created_at IS NOT OLD.created_at OR NEW.kind IS NOT OLD.kind OR NEW.source IS NOT OLD.source OR NEW.status IS NOT OLD.status OR NEW.inference_credits IS NOT OLD.inference_credits OR NEW.compute_credits IS NOT OLD.compute_credits OR NEW.agent_name IS NOT OLD.agent_name OR NEW.repo IS NOT OLD.repo OR NEW.branch IS NOT OLD.branch OR NEW.models IS NOT OLD.models BEGIN
    INSERT INTO rollup_creators (creator_id, team_id, visibility, day, kind, source, status, shard, items, whole, micro)
        VALUES (OLD.creator_id, COALESCE(OLD.team_id, 0), OLD.visibility, CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000))
        ON CONFLICT (creator_id, day, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_teams (team_id, day, kind, source, status, shard, items, whole, micro)
        SELECT OLD.team_id, CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        WHERE OLD.team_id IS NOT NULL AND OLD.visibility = 'team'
        ON CONFLICT (team_id, day, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_totals (creator_id, team_id, visibility, kind, source, status, shard, items, whole, micro)
        VALUES (OLD.creator_id, COALESCE(OLD.team_id, 0), OLD.visibility, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000))
        ON CONFLICT (creator_id, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_totals (team_id, kind, source, status, shard, items, whole, micro)
        SELECT OLD.team_id, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        WHERE OLD.team_id IS NOT NULL AND OLD.visibility = 'team'
        ON CONFLICT (team_id, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_attributes (creator_id, attribute, value, team_id, visibility, kind, source, status, shard, items, whole, micro)
        SELECT OLD.creator_id, a.attribute, a.value, COALESCE(OLD.team_id, 0), OLD.visibility, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, OLD.agent_name AS value UNION SELECT 'repo', OLD.repo UNION SELECT 'branch', OLD.branch
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(OLD.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> ''
        ON CONFLICT (creator_id, attribute, value, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_attributes (team_id, attribute, value, kind, source, status, shard, items, whole, micro)
        SELECT OLD.team_id, a.attribute, a.value, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, OLD.agent_name AS value UNION SELECT 'repo', OLD.repo UNION SELECT 'branch', OLD.branch
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(OLD.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> '' AND OLD.team_id IS NOT NULL AND OLD.visibility = 'team'
        ON CONFLICT (team_id, attribute, value, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creators (creator_id, team_id, visibility, day, kind, source, status, shard, items, whole, micro)
        VALUES (NEW.creator_id, COALESCE(NEW.team_id, 0), NEW.visibility, CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000))
        ON CONFLICT (creator_id, day, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_teams (team_id, day, kind, source, status, shard, items, whole, micro)
        SELECT NEW.team_id, CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        WHERE NEW.team_id IS NOT NULL AND NEW.visibility = 'team'
        ON CONFLICT (team_id, day, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_totals (creator_id, team_id, visibility, kind, source, status, shard, items, whole, micro)
        VALUES (NEW.creator_id, COALESCE(NEW.team_id, 0), NEW.visibility, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000))
        ON CONFLICT (creator_id, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_totals (team_id, kind, source, status, shard, items, whole, micro)
        SELECT NEW.team_id, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        WHERE NEW.team_id IS NOT NULL AND NEW.visibility = 'team'
        ON CONFLICT (team_id, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_attributes (creator_id, attribute, value, team_id, visibility, kind, source, status, shard, items, whole, micro)
        SELECT NEW.creator_id, a.attribute, a.value, COALESCE(NEW.team_id, 0), NEW.visibility, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, NEW.agent_name AS value UNION SELECT 'repo', NEW.repo UNION SELECT 'branch', NEW.branch
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(NEW.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> ''
        ON CONFLICT (creator_id, attribute, value, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_attributes (team_id, attribute, value, kind, source, status, shard, items, whole, micro)
        SELECT NEW.team_id, a.attribute, a.value, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, NEW.agent_name AS value UNION SELECT 'repo', NEW.repo UNION SELECT 'branch', NEW.branch
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(NEW.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> '' AND NEW.team_id IS NOT NULL AND NEW.visibility = 'team'
        ON CONFLICT (team_id, attribute, value, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
END;
--bun:split
CREATE VIEW rollup_creator_totals_expected AS
SELECT creator_id, COALESCE(team_id, 0) AS team_id, visibility,
       kind, source, status, unicode(substr(id, -1)) % 4 AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000) AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000) AS micro
FROM items GROUP BY 1, 2, 3, 4, 5, 6, 7;
--bun:split
CREATE VIEW rollup_team_totals_expected AS
SELECT team_id, kind, source, status, unicode(substr(id, -1)) % 4 AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000) AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000) AS micro
FROM items WHERE team_id IS NOT NULL AND visibility = 'team' GROUP BY 1, 2, 3, 4, 5;
--bun:split
-- Each item once for each of its non-empty values.
CREATE VIEW item_attributes AS
SELECT id, creator_id, team_id, visibility, kind, source, status, inference_credits, compute_credits, 'agent' AS attribute, agent_name AS value FROM items WHERE agent_name <> ''
UNION SELECT id, creator_id, team_id, visibility, kind, source, status, inference_credits, compute_credits, 'repo', repo FROM items WHERE repo <> ''
UNION SELECT id, creator_id, team_id, visibility, kind, source, status, inference_credits, compute_credits, 'branch', branch FROM items WHERE branch <> ''
UNION SELECT i.id, i.creator_id, i.team_id, i.visibility, i.kind, i.source, i.status, i.inference_credits, i.compute_credits, 'model', j.value
    FROM items AS i, json_each('["' || replace(replace(replace(i.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j WHERE j.value <> '';
--bun:split
CREATE VIEW rollup_creator_attributes_expected AS
SELECT creator_id, attribute, value, COALESCE(team_id, 0) AS team_id, visibility,
       kind, source, status, unicode(substr(id, -1)) % 4 AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000) AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000) AS micro
FROM item_attributes GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
--bun:split
CREATE VIEW rollup_team_attributes_expected AS
SELECT team_id, attribute, value, kind, source, status, unicode(substr(id, -1)) % 4 AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000) AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000) AS micro
FROM item_attributes WHERE team_id IS NOT NULL AND visibility = 'team' GROUP BY 1, 2, 3, 4, 5, 6, 7;
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
