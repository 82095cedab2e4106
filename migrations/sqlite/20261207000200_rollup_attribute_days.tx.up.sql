-- Rollups by day of what the agents report, and the agent with the
-- repository as one more attribute: see the PostgreSQL migration of the same
-- name. The rollups' own triggers are left as they are; these keep the new
-- rows beside them (the pairs in the attributes' totals, and the rollups by
-- day).
CREATE TABLE rollup_creator_attribute_days (
    creator_id  INTEGER NOT NULL,
    attribute   TEXT NOT NULL,
    value       TEXT NOT NULL,
    day         INTEGER NOT NULL,
    team_id     INTEGER NOT NULL,
    visibility  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    shard       INTEGER NOT NULL,
    items       INTEGER NOT NULL,
    whole       INTEGER NOT NULL,
    micro       INTEGER NOT NULL,
    PRIMARY KEY (creator_id, attribute, value, day, team_id, visibility, kind, source, status, shard)
) WITHOUT ROWID;
--bun:split
CREATE TABLE rollup_team_attribute_days (
    team_id    INTEGER NOT NULL,
    attribute  TEXT NOT NULL,
    value      TEXT NOT NULL,
    day        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    source     TEXT NOT NULL,
    status     TEXT NOT NULL,
    shard      INTEGER NOT NULL,
    items      INTEGER NOT NULL,
    whole      INTEGER NOT NULL,
    micro      INTEGER NOT NULL,
    PRIMARY KEY (team_id, attribute, value, day, kind, source, status, shard)
) WITHOUT ROWID;
--bun:split
CREATE TRIGGER items_attribute_rollups_insert AFTER INSERT ON items BEGIN
    INSERT INTO rollup_creator_attributes (creator_id, attribute, value, team_id, visibility, kind, source, status, shard, items, whole, micro)
        SELECT NEW.creator_id, 'agent+repo', CASE WHEN NEW.agent_name <> '' AND NEW.repo <> '' THEN length(NEW.agent_name) || ':' || NEW.agent_name || NEW.repo ELSE '' END, COALESCE(NEW.team_id, 0), NEW.visibility, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        WHERE NEW.agent_name <> '' AND NEW.repo <> ''
        ON CONFLICT (creator_id, attribute, value, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_attributes (team_id, attribute, value, kind, source, status, shard, items, whole, micro)
        SELECT NEW.team_id, 'agent+repo', CASE WHEN NEW.agent_name <> '' AND NEW.repo <> '' THEN length(NEW.agent_name) || ':' || NEW.agent_name || NEW.repo ELSE '' END, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        WHERE NEW.agent_name <> '' AND NEW.repo <> '' AND NEW.team_id IS NOT NULL AND NEW.visibility = 'team'
        ON CONFLICT (team_id, attribute, value, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_attribute_days (creator_id, attribute, value, day, team_id, visibility, kind, source, status, shard, items, whole, micro)
        SELECT NEW.creator_id, a.attribute, a.value, CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400, COALESCE(NEW.team_id, 0), NEW.visibility, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, NEW.agent_name AS value UNION SELECT 'repo', NEW.repo UNION SELECT 'agent+repo', CASE WHEN NEW.agent_name <> '' AND NEW.repo <> '' THEN length(NEW.agent_name) || ':' || NEW.agent_name || NEW.repo ELSE '' END
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(NEW.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> ''
        ON CONFLICT (creator_id, attribute, value, day, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_attribute_days (team_id, attribute, value, day, kind, source, status, shard, items, whole, micro)
        SELECT NEW.team_id, a.attribute, a.value, CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, NEW.agent_name AS value UNION SELECT 'repo', NEW.repo UNION SELECT 'agent+repo', CASE WHEN NEW.agent_name <> '' AND NEW.repo <> '' THEN length(NEW.agent_name) || ':' || NEW.agent_name || NEW.repo ELSE '' END
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(NEW.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> '' AND NEW.team_id IS NOT NULL AND NEW.visibility = 'team'
        ON CONFLICT (team_id, attribute, value, day, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
END;
--bun:split
CREATE TRIGGER items_attribute_rollups_delete AFTER DELETE ON items BEGIN
    INSERT INTO rollup_creator_attributes (creator_id, attribute, value, team_id, visibility, kind, source, status, shard, items, whole, micro)
        SELECT OLD.creator_id, 'agent+repo', CASE WHEN OLD.agent_name <> '' AND OLD.repo <> '' THEN length(OLD.agent_name) || ':' || OLD.agent_name || OLD.repo ELSE '' END, COALESCE(OLD.team_id, 0), OLD.visibility, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        WHERE OLD.agent_name <> '' AND OLD.repo <> ''
        ON CONFLICT (creator_id, attribute, value, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_attributes (team_id, attribute, value, kind, source, status, shard, items, whole, micro)
        SELECT OLD.team_id, 'agent+repo', CASE WHEN OLD.agent_name <> '' AND OLD.repo <> '' THEN length(OLD.agent_name) || ':' || OLD.agent_name || OLD.repo ELSE '' END, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        WHERE OLD.agent_name <> '' AND OLD.repo <> '' AND OLD.team_id IS NOT NULL AND OLD.visibility = 'team'
        ON CONFLICT (team_id, attribute, value, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_attribute_days (creator_id, attribute, value, day, team_id, visibility, kind, source, status, shard, items, whole, micro)
        SELECT OLD.creator_id, a.attribute, a.value, CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400, COALESCE(OLD.team_id, 0), OLD.visibility, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, OLD.agent_name AS value UNION SELECT 'repo', OLD.repo UNION SELECT 'agent+repo', CASE WHEN OLD.agent_name <> '' AND OLD.repo <> '' THEN length(OLD.agent_name) || ':' || OLD.agent_name || OLD.repo ELSE '' END
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(OLD.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> ''
        ON CONFLICT (creator_id, attribute, value, day, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_attribute_days (team_id, attribute, value, day, kind, source, status, shard, items, whole, micro)
        SELECT OLD.team_id, a.attribute, a.value, CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, OLD.agent_name AS value UNION SELECT 'repo', OLD.repo UNION SELECT 'agent+repo', CASE WHEN OLD.agent_name <> '' AND OLD.repo <> '' THEN length(OLD.agent_name) || ':' || OLD.agent_name || OLD.repo ELSE '' END
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(OLD.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> '' AND OLD.team_id IS NOT NULL AND OLD.visibility = 'team'
        ON CONFLICT (team_id, attribute, value, day, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
END;
--bun:split
CREATE TRIGGER items_attribute_rollups_update AFTER UPDATE OF creator_id, team_id, visibility, created_at, kind, source, status, inference_credits, compute_credits, agent_name, repo, models ON items
    WHEN NEW.creator_id IS NOT OLD.creator_id OR NEW.team_id IS NOT OLD.team_id OR NEW.visibility IS NOT OLD.visibility OR NEW.created_at IS NOT OLD.created_at OR NEW.kind IS NOT OLD.kind OR NEW.source IS NOT OLD.source OR NEW.status IS NOT OLD.status OR NEW.inference_credits IS NOT OLD.inference_credits OR NEW.compute_credits IS NOT OLD.compute_credits OR NEW.agent_name IS NOT OLD.agent_name OR NEW.repo IS NOT OLD.repo OR NEW.models IS NOT OLD.models BEGIN
    INSERT INTO rollup_creator_attributes (creator_id, attribute, value, team_id, visibility, kind, source, status, shard, items, whole, micro)
        SELECT OLD.creator_id, 'agent+repo', CASE WHEN OLD.agent_name <> '' AND OLD.repo <> '' THEN length(OLD.agent_name) || ':' || OLD.agent_name || OLD.repo ELSE '' END, COALESCE(OLD.team_id, 0), OLD.visibility, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        WHERE OLD.agent_name <> '' AND OLD.repo <> ''
        ON CONFLICT (creator_id, attribute, value, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_attributes (team_id, attribute, value, kind, source, status, shard, items, whole, micro)
        SELECT OLD.team_id, 'agent+repo', CASE WHEN OLD.agent_name <> '' AND OLD.repo <> '' THEN length(OLD.agent_name) || ':' || OLD.agent_name || OLD.repo ELSE '' END, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        WHERE OLD.agent_name <> '' AND OLD.repo <> '' AND OLD.team_id IS NOT NULL AND OLD.visibility = 'team'
        ON CONFLICT (team_id, attribute, value, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_attribute_days (creator_id, attribute, value, day, team_id, visibility, kind, source, status, shard, items, whole, micro)
        SELECT OLD.creator_id, a.attribute, a.value, CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400, COALESCE(OLD.team_id, 0), OLD.visibility, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, OLD.agent_name AS value UNION SELECT 'repo', OLD.repo UNION SELECT 'agent+repo', CASE WHEN OLD.agent_name <> '' AND OLD.repo <> '' THEN length(OLD.agent_name) || ':' || OLD.agent_name || OLD.repo ELSE '' END
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(OLD.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> ''
        ON CONFLICT (creator_id, attribute, value, day, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_attribute_days (team_id, attribute, value, day, kind, source, status, shard, items, whole, micro)
        SELECT OLD.team_id, a.attribute, a.value, CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, OLD.agent_name AS value UNION SELECT 'repo', OLD.repo UNION SELECT 'agent+repo', CASE WHEN OLD.agent_name <> '' AND OLD.repo <> '' THEN length(OLD.agent_name) || ':' || OLD.agent_name || OLD.repo ELSE '' END
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(OLD.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> '' AND OLD.team_id IS NOT NULL AND OLD.visibility = 'team'
        ON CONFLICT (team_id, attribute, value, day, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_attributes (creator_id, attribute, value, team_id, visibility, kind, source, status, shard, items, whole, micro)
        SELECT NEW.creator_id, 'agent+repo', CASE WHEN NEW.agent_name <> '' AND NEW.repo <> '' THEN length(NEW.agent_name) || ':' || NEW.agent_name || NEW.repo ELSE '' END, COALESCE(NEW.team_id, 0), NEW.visibility, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        WHERE NEW.agent_name <> '' AND NEW.repo <> ''
        ON CONFLICT (creator_id, attribute, value, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_attributes (team_id, attribute, value, kind, source, status, shard, items, whole, micro)
        SELECT NEW.team_id, 'agent+repo', CASE WHEN NEW.agent_name <> '' AND NEW.repo <> '' THEN length(NEW.agent_name) || ':' || NEW.agent_name || NEW.repo ELSE '' END, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        WHERE NEW.agent_name <> '' AND NEW.repo <> '' AND NEW.team_id IS NOT NULL AND NEW.visibility = 'team'
        ON CONFLICT (team_id, attribute, value, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_attribute_days (creator_id, attribute, value, day, team_id, visibility, kind, source, status, shard, items, whole, micro)
        SELECT NEW.creator_id, a.attribute, a.value, CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400, COALESCE(NEW.team_id, 0), NEW.visibility, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, NEW.agent_name AS value UNION SELECT 'repo', NEW.repo UNION SELECT 'agent+repo', CASE WHEN NEW.agent_name <> '' AND NEW.repo <> '' THEN length(NEW.agent_name) || ':' || NEW.agent_name || NEW.repo ELSE '' END
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(NEW.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> ''
        ON CONFLICT (creator_id, attribute, value, day, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_attribute_days (team_id, attribute, value, day, kind, source, status, shard, items, whole, micro)
        SELECT NEW.team_id, a.attribute, a.value, CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        FROM (SELECT 'agent' AS attribute, NEW.agent_name AS value UNION SELECT 'repo', NEW.repo UNION SELECT 'agent+repo', CASE WHEN NEW.agent_name <> '' AND NEW.repo <> '' THEN length(NEW.agent_name) || ':' || NEW.agent_name || NEW.repo ELSE '' END
              UNION SELECT 'model', j.value FROM json_each('["' || replace(replace(replace(NEW.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j) AS a
        WHERE a.value <> '' AND NEW.team_id IS NOT NULL AND NEW.visibility = 'team'
        ON CONFLICT (team_id, attribute, value, day, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
END;
--bun:split
-- Each item once for each of its non-empty values, with its day.
DROP VIEW item_attributes;
--bun:split
CREATE VIEW item_attributes AS
SELECT id, creator_id, team_id, visibility, created_at, kind, source, status, inference_credits, compute_credits, 'agent' AS attribute, agent_name AS value FROM items WHERE agent_name <> ''
UNION SELECT id, creator_id, team_id, visibility, created_at, kind, source, status, inference_credits, compute_credits, 'repo', repo FROM items WHERE repo <> ''
UNION SELECT id, creator_id, team_id, visibility, created_at, kind, source, status, inference_credits, compute_credits, 'branch', branch FROM items WHERE branch <> ''
UNION SELECT id, creator_id, team_id, visibility, created_at, kind, source, status, inference_credits, compute_credits, 'agent+repo', length(agent_name) || ':' || agent_name || repo
    FROM items WHERE agent_name <> '' AND repo <> ''
UNION SELECT i.id, i.creator_id, i.team_id, i.visibility, i.created_at, i.kind, i.source, i.status, i.inference_credits, i.compute_credits, 'model', j.value
    FROM items AS i, json_each('["' || replace(replace(replace(i.models, '\', '\\'), '"', '\"'), ',', '","') || '"]') AS j WHERE j.value <> '';
--bun:split
CREATE VIEW rollup_creator_attribute_days_expected AS
SELECT creator_id, attribute, value, CAST(strftime('%s', created_at) AS INTEGER) / 86400 AS day, COALESCE(team_id, 0) AS team_id, visibility,
       kind, source, status, unicode(substr(id, -1)) % 4 AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000) AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000) AS micro
FROM item_attributes WHERE attribute <> 'branch' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;
--bun:split
CREATE VIEW rollup_team_attribute_days_expected AS
SELECT team_id, attribute, value, CAST(strftime('%s', created_at) AS INTEGER) / 86400 AS day,
       kind, source, status, unicode(substr(id, -1)) % 4 AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000) AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000) AS micro
FROM item_attributes WHERE attribute <> 'branch' AND team_id IS NOT NULL AND visibility = 'team' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
--bun:split
INSERT INTO rollup_creator_attributes
SELECT * FROM rollup_creator_attributes_expected WHERE attribute = 'agent+repo';
--bun:split
INSERT INTO rollup_team_attributes
SELECT * FROM rollup_team_attributes_expected WHERE attribute = 'agent+repo';
--bun:split
INSERT INTO rollup_creator_attribute_days SELECT * FROM rollup_creator_attribute_days_expected;
--bun:split
INSERT INTO rollup_team_attribute_days SELECT * FROM rollup_team_attribute_days_expected;
